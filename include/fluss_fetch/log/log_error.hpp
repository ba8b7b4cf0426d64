// fluss_fetch — errors of the log layer: corrupt or unsupported data, named
// by segment, file position and log offset.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fluss_fetch::log {

/// Thrown by the batch reader, the row decoders and the KV apply. `what()`
/// is one line naming everything known: `segment <id>: file offset <p>, log
/// offset <o>: <problem>`.
class log_error : public std::runtime_error {
public:
    enum class kind {
        truncated,          ///< the file ends inside a batch (or has < 13 bytes left)
        crc_mismatch,       ///< stored CRC differs from the computed one
        bad_magic,          ///< a magic byte this reader does not know
        bad_batch,          ///< a header field out of range (length, counts, statistics)
        logical_boundary,   ///< a batch straddles the segment's logical start or end
        bad_record,         ///< record framing or change type broken
        bad_row,            ///< a row that does not decode under the schema
        unsupported,        ///< valid data this version cannot replay (a schema id other than the one given, a type)
        bad_arrow,          ///< an ARROW record area that is corrupt (IPC framing, flatbuffer, buffers, compression)
    };

    log_error(kind k, std::string segment_id, std::int64_t file_offset, std::int64_t log_offset, std::string problem);

    kind what_kind() const noexcept { return kind_; }
    const std::string& segment_id() const noexcept { return segment_id_; }
    std::int64_t file_offset() const noexcept { return file_offset_; }   ///< -1 when unknown
    std::int64_t log_offset() const noexcept { return log_offset_; }     ///< -1 when unknown
    const std::string& problem() const noexcept { return problem_; }

private:
    kind kind_;
    std::string segment_id_;
    std::int64_t file_offset_;
    std::int64_t log_offset_;
    std::string problem_;
};

}  // namespace fluss_fetch::log
