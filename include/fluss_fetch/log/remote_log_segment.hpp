// fluss_fetch — one remote log segment as a Fluss manifest describes it.
#pragma once

#include <cstdint>
#include <string>

namespace fluss_fetch::log {

/// A segment of a bucket's remote log (one entry of `remote_log_segments` in
/// the manifest). Offsets are log offsets: `start_offset` inclusive,
/// `end_offset` exclusive. The logical range is what a reader may use of the
/// physical file: since Fluss clips overlapping segments in the manifest, it
/// can be narrower than the physical one (absent from the manifest: equal).
///
/// A segment is identified by its `segment_id`, never by its start offset
/// alone: legacy manifests can hold two segments with the same start.
struct remote_log_segment {
    std::string segment_id;              ///< UUID, lower case with hyphens
    std::int64_t start_offset = 0;       ///< physical, inclusive
    std::int64_t end_offset = 0;         ///< physical, exclusive
    std::int64_t logical_start_offset = 0;
    std::int64_t logical_end_offset = 0;
    std::int64_t max_timestamp = -1;
    std::uint64_t size_in_bytes = 0;     ///< size of the `.log` object; 0 when unknown

    /// A segment whose logical range equals its physical one (a manifest
    /// entry without logical offsets).
    static remote_log_segment physical(std::string id, std::int64_t start, std::int64_t end,
                                       std::uint64_t size_in_bytes = 0, std::int64_t max_timestamp = -1) {
        return remote_log_segment{std::move(id), start, end, start, end, max_timestamp, size_in_bytes};
    }

    friend bool operator==(const remote_log_segment&, const remote_log_segment&) = default;
};

/// True when `s` is a UUID in Fluss's textual form (8-4-4-4-12 lower-case hex).
bool is_segment_id(const std::string& s) noexcept;

/// Empty when `seg` is well-formed; otherwise what is wrong, naming the
/// segment: a bad id, end before start, a logical range outside the physical one.
std::string check_segment(const remote_log_segment& seg);

}  // namespace fluss_fetch::log
