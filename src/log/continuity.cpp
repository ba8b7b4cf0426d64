// Offset continuity of a replay: the selection covers [start, stop), the batches reach every offset.
#include <fluss_fetch/error.hpp>
#include <fluss_fetch/log/continuity.hpp>

#include <boost/system/system_error.hpp>

#include <algorithm>

namespace fluss_fetch::log {

namespace {

std::string range(std::int64_t a, std::int64_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

std::string name(const remote_log_segment& s) {
    return "segment " + s.segment_id + " (logical " + range(s.logical_start_offset, s.logical_end_offset) + ")";
}

[[noreturn]] void gap(const std::string& what) {
    throw boost::system::system_error(make_error_code(errc::offset_gap), what);
}

}  // namespace

std::string offset_gap::describe() const {
    std::string out = "offsets " + range(from, to) + " of the replay range " + range(start, stop) +
                      " are in no remote log segment: ";
    if (before && after)
        out += "a hole between " + name(*before) + " and " + name(*after);
    else if (after)
        out += "no segment before " + name(*after);
    else if (before)
        out += "the segments end with " + name(*before);
    else
        out += "there are no segments";
    return out;
}

std::optional<offset_gap> find_offset_gap(const std::vector<remote_log_segment>& segments, std::int64_t start,
                                          std::int64_t stop) {
    std::vector<const remote_log_segment*> by_start;
    for (const auto& s : segments)
        if (s.logical_start_offset < s.logical_end_offset) by_start.push_back(&s);
    std::stable_sort(by_start.begin(), by_start.end(), [](const auto* a, const auto* b) {
        return a->logical_start_offset < b->logical_start_offset;
    });
    auto hole = [&](std::int64_t from, std::int64_t to, const remote_log_segment* before,
                    const remote_log_segment* after) {
        offset_gap g;
        g.from = from;
        g.to = to;
        if (before) g.before = *before;
        if (after) g.after = *after;
        g.start = start;
        g.stop = stop;
        return g;
    };
    std::int64_t covered = start;                 // [start, covered) is covered
    const remote_log_segment* reaching = nullptr;  // the segment that reaches `covered`
    for (const auto* s : by_start) {
        if (covered >= stop) break;
        if (s->logical_end_offset <= covered) continue;  // wholly inside what is covered: an overlap
        if (s->logical_start_offset > covered) return hole(covered, std::min(s->logical_start_offset, stop), reaching, s);
        covered = s->logical_end_offset;
        reaching = s;
    }
    if (covered < stop) return hole(covered, stop, reaching, nullptr);
    return std::nullopt;
}

void check_offset_coverage(const std::vector<remote_log_segment>& segments, std::int64_t start, std::int64_t stop) {
    if (auto g = find_offset_gap(segments, start, stop)) gap(g->describe());
}

// ---------------------------------------------------------------- replay_continuity

segment_batches::range replay_continuity::begin_segment(const remote_log_segment& seg, std::string key,
                                                        std::int64_t read_start, std::int64_t read_end) {
    seg_ = seg;
    key_ = std::move(key);
    read_end_ = read_end;
    open_ = true;
    // The next-offset guard: an earlier segment that overlaps this one has
    // applied up to next_; start there, so no offset is applied twice.
    return {seg.logical_start_offset, seg.logical_end_offset, std::max(read_start, next_), read_end};
}

std::string replay_continuity::where() const {
    return "segment " + seg_.segment_id + " (key " + key_ + ", logical " +
           range(seg_.logical_start_offset, seg_.logical_end_offset) + ")";
}

void replay_continuity::on_batch(const batch_view& b) {
    const auto& h = b.header;
    if (h.base_offset > next_)
        gap(where() + ": file offset " + std::to_string(b.file_offset) + ": the batch " +
            range(h.base_offset, h.next_offset()) + " starts after offset " + std::to_string(next_) +
            ", which the replay reached: offsets " + range(next_, h.base_offset) + " are in no batch");
    next_ = std::max(next_, h.next_offset());
}

void replay_continuity::end_segment() {
    if (!open_) return;
    open_ = false;
    if (next_ < read_end_)
        gap(where() + ": its batches end at offset " + std::to_string(next_) + ", before its read end " +
            std::to_string(read_end_) + (read_end_ < seg_.logical_end_offset ? " (the stop offset)" : "") +
            ": offsets " + range(next_, read_end_) + " are missing (the object ends early)");
}

}  // namespace fluss_fetch::log
