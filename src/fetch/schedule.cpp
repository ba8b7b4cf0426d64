// The download schedule (see schedule.hpp for the rules).
//
// Small maps, linear scans: a process has tens of lanes and a few hundred
// queued requests at most, and every scan runs under the pool's mutex once
// per event, far cheaper than the request it decides about.
#include <fluss_fetch/fetch/schedule.hpp>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace fluss_fetch::fetch {

schedule_fsm::schedule_fsm(schedule_limits limits) : limits_(limits) {
    if (limits_.max_requests == 0) throw std::invalid_argument("schedule_limits.max_requests must be at least 1");
}

schedule_fsm::lane_id schedule_fsm::open_lane(std::size_t prefetch_num, std::size_t max_requests) {
    const lane_id id = next_lane_++;
    auto& l = lanes_[id];
    l.prefetch_num = std::max<std::size_t>(prefetch_num, 1);
    l.max_requests = std::max<std::size_t>(max_requests, 1);
    return id;
}

schedule_fsm::closed_lane schedule_fsm::close_lane(lane_id lane) {
    closed_lane out;
    auto it = lanes_.find(lane);
    if (it == lanes_.end() || it->second.closed) return out;
    auto& l = it->second;
    l.closed = true;
    if (l.pending_bytes) {
        out.dropped_admission = true;
        l.pending_bytes.reset();
    }
    for (auto j = jobs_.begin(); j != jobs_.end();) {
        if (j->second.lane == lane && !j->second.running) {
            out.dropped_jobs.push_back(j->first);
            j = jobs_.erase(j);
        } else {
            ++j;
        }
    }
    maybe_erase(lane);
    return out;
}

void schedule_fsm::request_admission(lane_id lane, std::uint64_t bytes) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end() || it->second.closed) return;
    if (!it->second.pending_bytes) it->second.pending_order = next_order_++;
    it->second.pending_bytes = bytes;
}

bool schedule_fsm::cancel_admission(lane_id lane) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end() || !it->second.pending_bytes) return false;
    it->second.pending_bytes.reset();
    return true;
}

schedule_fsm::job_id schedule_fsm::submit(lane_id lane, std::uint64_t seq, bool front) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end() || it->second.closed) return 0;
    const job_id id = next_job_++;
    jobs_.emplace(id, job_state{lane, seq, front ? next_front_-- : next_order_++, false});
    return id;
}

bool schedule_fsm::cancel_job(job_id job) {
    auto it = jobs_.find(job);
    if (it == jobs_.end() || it->second.running) return false;
    jobs_.erase(it);
    return true;
}

void schedule_fsm::job_done(job_id job) {
    auto it = jobs_.find(job);
    if (it == jobs_.end() || !it->second.running) return;
    const lane_id lane = it->second.lane;
    jobs_.erase(it);
    --running_;
    if (auto l = lanes_.find(lane); l != lanes_.end()) {
        --l->second.running;
        maybe_erase(lane);
    }
}

void schedule_fsm::consumed(lane_id lane) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end()) return;
    auto& l = it->second;
    if (l.consumed < l.admitted) ++l.consumed;
}

void schedule_fsm::release(lane_id lane, std::uint64_t bytes) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end()) return;
    auto& l = it->second;
    bytes = std::min(bytes, l.reserved);
    l.reserved -= bytes;
    reserved_ -= bytes;
    maybe_erase(lane);
}

std::optional<schedule_fsm::action> schedule_fsm::next() {
    // Admissions: the pending one of least depth, then earliest arrival.
    {
        lane_state* best = nullptr;
        lane_id best_id = 0;
        std::tuple<std::uint64_t, std::int64_t> best_key{};
        for (auto& [id, l] : lanes_) {
            if (l.closed || !l.pending_bytes) continue;
            const std::uint64_t depth = l.admitted - l.consumed;
            if (depth >= l.prefetch_num) continue;
            const std::tuple key{depth, l.pending_order};
            if (!best || key < best_key) {
                best = &l;
                best_id = id;
                best_key = key;
            }
        }
        if (best) {
            const std::uint64_t bytes = *best->pending_bytes;
            const bool fits = reserved_ == 0 || (bytes <= limits_.max_bytes && reserved_ <= limits_.max_bytes - bytes);
            if (fits) {
                best->pending_bytes.reset();
                ++best->admitted;
                best->reserved += bytes;
                reserved_ += bytes;
                return action{action::kind::admit, best_id, 0};
            }
            // Strict: nothing overtakes the best candidate.
        }
    }
    // Requests: the queued job of least depth, then earliest arrival, whose
    // lane is below its own cap.
    if (running_ >= limits_.max_requests) return std::nullopt;
    job_state* best = nullptr;
    job_id best_id = 0;
    std::tuple<std::int64_t, std::int64_t> best_key{};
    for (auto& [id, j] : jobs_) {
        if (j.running) continue;
        auto l = lanes_.find(j.lane);
        if (l == lanes_.end() || l->second.running >= l->second.max_requests) continue;
        const std::int64_t depth =
            static_cast<std::int64_t>(j.seq) - static_cast<std::int64_t>(l->second.consumed);
        const std::tuple key{depth, j.order};
        if (!best || key < best_key) {
            best = &j;
            best_id = id;
            best_key = key;
        }
    }
    if (!best) return std::nullopt;
    best->running = true;
    ++running_;
    ++lanes_[best->lane].running;
    return action{action::kind::start, best->lane, best_id};
}

std::size_t schedule_fsm::queued() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(jobs_.begin(), jobs_.end(), [](const auto& j) { return !j.second.running; }));
}

void schedule_fsm::maybe_erase(lane_id lane) {
    auto it = lanes_.find(lane);
    if (it == lanes_.end()) return;
    const auto& l = it->second;
    if (l.closed && l.running == 0 && l.reserved == 0) lanes_.erase(it);
}

}  // namespace fluss_fetch::fetch
