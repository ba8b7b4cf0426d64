// fluss_fetch — the format seam of the log layer: a batch in, KV records out.
//
// Each log format (COMPACTED, INDEXED, ARROW) has one record_source that
// turns a batch's record area into (offset, change type, key, value) records
// exactly as Fluss's KvRecoverHelper derives them, so applying a changelog
// never branches on the format and a new format touches one place.
#pragma once

#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace fluss_fetch::log {

enum class log_format { arrow, compacted, indexed };

/// "ARROW", "COMPACTED", "INDEXED".
const char* format_name(log_format f) noexcept;

/// One record of a batch, ready for a KV store.
struct kv_record {
    change_type type = change_type::insert;
    std::int64_t offset = 0;
    /// The KV key (the primary-key columns, CompactedKeyEncoder). Empty for
    /// UPDATE_BEFORE, which a recovery skips.
    std::string_view key;
    /// The KV value: the batch's schema id (2 bytes LE) + the row (COMPACTED
    /// and INDEXED: the row bytes as stored; ARROW: the row as a CompactedRow).
    /// Set only for INSERT, UPDATE_AFTER and APPEND_ONLY.
    std::string_view value;
};

/// Reads the records of one batch at a time. Views handed out stay valid
/// until the next call to `open` or `next`; the batch's bytes must outlive them.
class record_source {
public:
    virtual ~record_source() = default;
    /// Start on `batch`. \throws log_error for a record area that cannot be read at all.
    virtual void open(const batch_view& batch, std::string_view segment_id) = 0;
    /// The next record of the open batch, or false after its last.
    /// \throws log_error naming segment, file offset, log offset (and column) for bad data.
    virtual bool next(kv_record& out) = 0;
};

/// The record source of `format` for rows of `s`. The schema must outlive it.
/// \throws log_error (unsupported) when the schema has a type the format cannot carry.
std::unique_ptr<record_source> make_record_source(log_format format, const schema& s);

/// The ARROW record source (src/log/arrow_read.cpp); make_record_source returns it for log_format::arrow.
std::unique_ptr<record_source> make_arrow_record_source(const schema& s);

}  // namespace fluss_fetch::log
