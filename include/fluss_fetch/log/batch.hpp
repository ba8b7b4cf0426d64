// fluss_fetch — record batches of a Fluss log segment file (spec §4): read,
// verify, and (for generators and tests) write.
//
// A segment file is batches back to back, all integers little-endian. The
// reader works on the bytes of a whole file (memory-mapped by `mapped_file`),
// never copies a batch, and checks every batch's CRC-32C.
#pragma once

#include <fluss_fetch/log/log_error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fluss_fetch::log {

/// What magic 1 means. Fluss main: V0 + a statistics length at 48. Fluss
/// 0.8–0.9: the leader-epoch layout without statistics (records at 52).
enum class magic1_layout { statistics, leader_epoch };

enum class change_type : std::int8_t { append_only = 0, insert = 1, update_before = 2, update_after = 3, del = 4 };

/// A batch header, whatever its magic. Fields a layout lacks hold their
/// neutral value (leader_epoch -1, statistics_length 0).
struct batch_header {
    std::int64_t base_offset = 0;
    std::int32_t length = 0;            ///< batch size − 12
    std::int8_t magic = 0;
    std::int64_t commit_timestamp = 0;
    std::int32_t leader_epoch = -1;
    std::uint32_t crc = 0;
    std::int16_t schema_id = 0;
    std::int8_t attributes = 0;         ///< bit 0: append-only
    std::int32_t last_offset_delta = 0;
    std::int64_t writer_id = -1;
    std::int32_t batch_sequence = -1;
    std::int32_t record_count = 0;
    std::int32_t statistics_length = 0;

    std::int64_t next_offset() const noexcept { return base_offset + last_offset_delta + 1; }
    bool append_only() const noexcept { return (attributes & 1) != 0; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(length) + 12; }
};

/// One batch inside a file's bytes.
struct batch_view {
    batch_header header;
    std::uint64_t file_offset = 0;          ///< where the batch starts in the file
    std::span<const std::byte> bytes;       ///< the whole batch
    std::span<const std::byte> records;     ///< the record area (after header and statistics)
};

struct batch_reader_options {
    magic1_layout magic1 = magic1_layout::statistics;
    bool verify_crc = true;
};

/// Walks the batches of a file's bytes in order. Errors (a log_error naming
/// `segment_id`, the file offset and the batch's base offset): a truncated
/// tail (fewer than 13 bytes left but not zero, or a batch running past the
/// end), a length too small for its layout, an unknown magic, a CRC mismatch,
/// negative counts or a statistics length beyond the batch.
class batch_reader {
public:
    batch_reader(std::span<const std::byte> file, std::string segment_id, batch_reader_options opts = {});
    /// The next batch, or nullopt at the clean end of the file.
    std::optional<batch_view> next();
    std::uint64_t position() const noexcept { return pos_; }

private:
    std::span<const std::byte> file_;
    std::string segment_id_;
    batch_reader_options opts_;
    std::uint64_t pos_ = 0;
};

/// The batches of one segment that a recovery applies (spec §3): batches
/// ending at or before `max(logical_start, read_start)` are skipped, reading
/// stops at the first batch starting at or after `read_end` (the logical end
/// clipped by the fetch's stop), and a batch straddling the logical start or
/// the logical end is an error (log_error::kind::logical_boundary).
class segment_batches {
public:
    struct range {
        std::int64_t logical_start = 0;
        std::int64_t logical_end = 0;
        std::int64_t read_start = 0;  ///< the fetch's current offset
        std::int64_t read_end = 0;    ///< min(logical_end, stop)
    };
    segment_batches(std::span<const std::byte> file, std::string segment_id, range r, batch_reader_options opts = {});
    std::optional<batch_view> next();
    /// Batches passed over before the range (their CRCs were checked too).
    std::uint64_t skipped() const noexcept { return skipped_; }

private:
    batch_reader reader_;
    std::string segment_id_;
    range range_;
    std::uint64_t skipped_ = 0;
    bool done_ = false;
};

/// One record of a COMPACTED or INDEXED batch.
struct record_view {
    change_type type = change_type::insert;
    std::int64_t offset = 0;
    std::span<const std::byte> row;  ///< the row bytes as stored
};

/// The records of a COMPACTED or INDEXED batch: `[int32 length = 1 + row][int8 change type][row]`
/// each. A length below 1 or past the batch, an unknown change type, or a
/// record count that does not match is a log_error (bad_record).
class record_reader {
public:
    record_reader(const batch_view& batch, std::string segment_id);
    std::optional<record_view> next();

private:
    const batch_view* batch_;
    std::string segment_id_;
    std::size_t pos_ = 0;
    std::int32_t index_ = 0;
};

/// A read-only memory map of a whole file (empty files map to an empty span).
class mapped_file {
public:
    /// \throws std::system_error naming the path.
    explicit mapped_file(const std::filesystem::path& path);
    ~mapped_file();
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    std::span<const std::byte> bytes() const noexcept { return {static_cast<const std::byte*>(data_), size_}; }
    /// Tell the kernel the bytes before `offset` are done with: their pages
    /// leave this process's resident set (they stay in the page cache and
    /// come back if read again). A reader going through a large segment calls
    /// this as it goes, so resident memory stays flat whatever the segment's
    /// size. Spans into the dropped range stay valid (they refault).
    void drop_before(std::size_t offset) noexcept;

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t dropped_ = 0;
};

/// Builds batches in any of the layouts (for fluss-gen and tests).
struct batch_builder {
    std::int8_t magic = 0;
    magic1_layout magic1 = magic1_layout::statistics;
    std::int64_t base_offset = 0;
    std::int64_t commit_timestamp = 0;
    std::int32_t leader_epoch = 0;       ///< magic 2 (and magic 1 as leader_epoch)
    std::int16_t schema_id = 1;
    std::int8_t attributes = 0;
    std::int64_t writer_id = -1;
    std::int32_t batch_sequence = -1;
    std::string statistics;              ///< magic 1 (statistics) and 2: opaque bytes

    /// Append one record (COMPACTED/INDEXED framing).
    void add_record(change_type t, std::string_view row);
    /// Raw record area (ARROW payloads); `record_count` must be given.
    void set_raw_records(std::string bytes, std::int32_t record_count);
    /// The finished batch, CRC included.
    std::string build() const;

private:
    std::string records_;
    std::int32_t count_ = 0;
};

}  // namespace fluss_fetch::log
