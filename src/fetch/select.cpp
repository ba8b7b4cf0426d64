// Segment selection: which segments a fetch of [start, stop) reads, as
// Fluss's recovery does.
#include <fluss_fetch/fetch/select.hpp>

#include <fluss_fetch/error.hpp>

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <string>
#include <utility>

namespace fluss_fetch::fetch {

std::vector<log::remote_log_segment> select_segments(std::vector<log::remote_log_segment> segments,
                                                     std::int64_t start_offset, std::int64_t stop_offset) {
    auto fail = [](errc e, const std::string& what) { throw boost::system::system_error(make_error_code(e), what); };
    if (start_offset < 0 || stop_offset <= start_offset)
        fail(errc::invalid_argument, "fetch range [" + std::to_string(start_offset) + ", " +
                                         std::to_string(stop_offset) + ") is empty or negative");
    std::set<std::string> ids;
    for (const auto& s : segments) {
        if (auto why = log::check_segment(s); !why.empty()) fail(errc::invalid_argument, why);
        if (!ids.insert(s.segment_id).second)
            fail(errc::invalid_argument, "segment '" + s.segment_id + "' is listed twice");
    }
    std::erase_if(segments, [](const auto& s) { return s.logical_end_offset <= s.logical_start_offset; });
    std::stable_sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
        return std::pair(a.logical_start_offset, a.logical_end_offset) <
               std::pair(b.logical_start_offset, b.logical_end_offset);
    });
    auto first = std::find_if(segments.begin(), segments.end(), [&](const auto& s) {
        return s.logical_start_offset <= start_offset && start_offset < s.logical_end_offset;
    });
    if (first == segments.end()) {
        std::string there = segments.empty()
                                ? std::string("there are no segments")
                                : "the " + std::to_string(segments.size()) + " segments cover [" +
                                      std::to_string(segments.front().logical_start_offset) + ", " +
                                      std::to_string(segments.back().logical_end_offset) + ")";
        fail(errc::no_remote_segments, "no remote log segment contains offset " + std::to_string(start_offset) +
                                           " (fetch range [" + std::to_string(start_offset) + ", " +
                                           std::to_string(stop_offset) + ")); " + there);
    }
    std::vector<log::remote_log_segment> out{*first};
    for (auto it = std::next(first); it != segments.end() && it->logical_start_offset < stop_offset; ++it)
        out.push_back(*it);
    return out;
}

}  // namespace fluss_fetch::fetch
