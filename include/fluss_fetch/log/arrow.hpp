// fluss_fetch — ARROW log batches (../shared/spec/fluss-arrow.md): what a
// writer needs. Reading goes through the format seam: make_record_source
// (log/records.hpp) with log_format::arrow.
#pragma once

#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace fluss_fetch::log {

/// `table.log.arrow.compression.type`: per-buffer compression of the IPC body.
enum class arrow_compression { none, lz4_frame, zstd };

/// "NONE", "LZ4_FRAME", "ZSTD".
const char* compression_name(arrow_compression c) noexcept;

struct arrow_write_options {
    arrow_compression compression = arrow_compression::zstd;  ///< Fluss's default
    int zstd_level = 3;                                       ///< Fluss's default; 1..22
};

/// The record area of an ARROW batch holding `rows` as Fluss's writer lays it
/// out: one change-type byte per row (unless `append_only`), then one
/// encapsulated Arrow IPC RecordBatch message (metadata V5, a validity buffer
/// for every column, buffers compressed as `opts` says, kept raw when that
/// does not make them smaller). Put it into a batch with
/// batch_builder::set_raw_records(area, rows.size()) and attribute bit 0 set
/// when `append_only`. No rows: an empty area (Fluss writes no IPC message).
/// \throws std::invalid_argument naming the column when a field does not fit its column.
std::string encode_arrow_records(const schema& s, std::span<const std::pair<change_type, row>> rows,
                                 bool append_only, const arrow_write_options& opts = {});

}  // namespace fluss_fetch::log
