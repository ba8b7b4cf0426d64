// fluss_fetch — which remote log segments a fetch of an offset range reads.
#pragma once

#include <fluss_fetch/log/remote_log_segment.hpp>

#include <cstdint>
#include <vector>

namespace fluss_fetch::fetch {

/// The segments of `[start_offset, stop_offset)` as Fluss's recovery reads
/// them: the segment whose logical range contains `start_offset`, then every
/// later one (by logical start) whose logical start is below `stop_offset`.
/// Segments with an empty logical range are skipped.
/// \throws boost::system::system_error: `errc::invalid_argument` for a
/// malformed segment or a duplicate id (naming it), `errc::no_remote_segments`
/// when no segment contains `start_offset` (naming the range and what is there).
std::vector<log::remote_log_segment> select_segments(std::vector<log::remote_log_segment> segments,
                                                     std::int64_t start_offset, std::int64_t stop_offset);

}  // namespace fluss_fetch::fetch
