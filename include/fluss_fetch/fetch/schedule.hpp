// fluss_fetch — the download schedule: which request runs next, and which
// segment may enter its window, for every stream that shares one budget.
//
// Pure logic: no I/O, no clock, no threads. The download pool drives it
// under its mutex (events in, actions out), and the tests drive it from
// tables, as Boost.Redis tests its *_fsm classes.
//
//     schedule_fsm fsm({.max_requests = 8, .max_bytes = 4 << 30});
//     auto a = fsm.open_lane(/*prefetch_num*/ 4, /*max_requests*/ 3);
//     fsm.request_admission(a, segment_size);   // the producer wants segment k in
//     while (auto act = fsm.next()) { ... }     // admit{a} → start its download
//     auto j = fsm.submit(a, /*seq*/ k);        // one request of segment k
//     while (auto act = fsm.next()) { ... }     // start{j} → run it
//     fsm.job_done(j); fsm.consumed(a); fsm.release(a, segment_size);
//
// The rules (each pinned by test_schedule_fsm.cpp):
//  - Requests in flight ≤ max_requests over all lanes, and ≤ the lane's own
//    max_requests within each lane.
//  - A lane's admitted-but-unconsumed segments ≤ its prefetch_num.
//  - Reserved bytes (admitted, not yet released) ≤ max_bytes, except that a
//    segment is always admitted when nothing at all is reserved (one segment
//    larger than the budget must not stop the world).
//  - Priority is the depth in the window, then arrival: a segment's depth is
//    its position (seq) minus the lane's consumed count, so every lane's head
//    (depth 0) goes before any lane's prefetch (depth ≥ 1), and among equal
//    depths the one asked first goes first. A re-fetch of a head (the
//    consumer's fallback) is a new request at depth 0: it goes after the heads
//    already waiting, not ahead of them.
//  - Admission is strict: when the best candidate does not fit the budget,
//    nothing behind it is admitted either (no small segment overtakes a big
//    head forever). Requests are not limited by bytes, only by counts.
//  - A job of a lane at its own cap does not block other lanes' jobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace fluss_fetch::fetch {

struct schedule_limits {
    /// HTTP requests in flight at once, over all lanes. Must be ≥ 1.
    std::size_t max_requests = 8;
    /// Bytes of admitted segments not yet released (downloaded or downloading
    /// segment files on disk), over all lanes.
    std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max();
};

class schedule_fsm {
public:
    using lane_id = std::uint64_t;
    using job_id = std::uint64_t;

    struct action {
        enum class kind {
            admit,  ///< the lane's pending admission is granted (its bytes now reserved)
            start,  ///< the job may run now (it counts as running from here)
        };
        kind what;
        lane_id lane;
        job_id job = 0;  ///< for start
        friend bool operator==(const action&, const action&) = default;
    };

    /// What a closed lane left behind: the jobs it had queued (now dropped,
    /// never started) and whether an admission was pending (now dropped).
    struct closed_lane {
        std::vector<job_id> dropped_jobs;
        bool dropped_admission = false;
    };

    /// \throws std::invalid_argument when max_requests is 0.
    explicit schedule_fsm(schedule_limits limits);

    /// A new lane (one stream's window). `prefetch_num` and `max_requests`
    /// are clamped to at least 1. Lanes opened earlier win ties of depth
    /// and arrival.
    lane_id open_lane(std::size_t prefetch_num, std::size_t max_requests);

    /// No more admissions or submissions from this lane. Its queued jobs and
    /// its pending admission are dropped (returned); its running jobs and
    /// reserved bytes stay counted until `job_done` / `release`. Unknown or
    /// already closed lane: an empty result.
    closed_lane close_lane(lane_id lane);

    /// The lane wants its next segment, of `bytes`, in its window. At most
    /// one pending admission per lane (a second call before it was granted
    /// or cancelled replaces the byte count). Ignored for a closed lane.
    void request_admission(lane_id lane, std::uint64_t bytes);
    /// Withdraw a pending admission. True when one was pending.
    bool cancel_admission(lane_id lane);

    /// A request for the segment at position `seq` (0-based, in the lane's
    /// order) of the lane. Returns its id; it is queued until a `start`.
    /// For a closed or unknown lane the job is never started (returns 0).
    /// `front`: ahead of every job of equal depth that arrived before it (the
    /// latest front job first): `download_pool::async_submit_first`.
    job_id submit(lane_id lane, std::uint64_t seq, bool front = false);
    /// Remove a queued job. True when it was queued; false when it is
    /// running (it then ends with `job_done`), done or unknown.
    bool cancel_job(job_id job);
    /// A running job ended (any outcome). Ignored for a job not running.
    void job_done(job_id job);

    /// The lane's head segment was taken by its consumer: one window slot
    /// frees and every segment of the lane moves one step closer to the head.
    void consumed(lane_id lane);
    /// `bytes` reserved by an admission of this lane are free again (the
    /// file was deleted, or the segment was never downloaded). Clamped to
    /// what the lane holds.
    void release(lane_id lane, std::uint64_t bytes);

    /// The next thing that may happen now, or nullopt when nothing can.
    /// Drains one action per call; call it after every event until it
    /// returns nullopt. Admissions come before starts.
    std::optional<action> next();

    // ---- inspection (tests, stats)
    std::size_t running() const noexcept { return running_; }
    std::size_t queued() const noexcept;
    std::uint64_t reserved_bytes() const noexcept { return reserved_; }
    std::size_t lanes() const noexcept { return lanes_.size(); }  ///< open, or closed with work still counted
    const schedule_limits& limits() const noexcept { return limits_; }

private:
    struct lane_state {
        std::size_t prefetch_num = 1;
        std::size_t max_requests = 1;
        std::uint64_t admitted = 0;  ///< admissions granted so far
        std::uint64_t consumed = 0;  ///< heads taken so far
        std::size_t running = 0;
        std::uint64_t reserved = 0;
        std::optional<std::uint64_t> pending_bytes;
        std::int64_t pending_order = 0;  ///< arrival of the pending admission
        bool closed = false;
    };
    struct job_state {
        lane_id lane;
        std::uint64_t seq;
        std::int64_t order;  ///< arrival (negative: front)
        bool running = false;
    };

    void maybe_erase(lane_id lane);

    schedule_limits limits_;
    std::map<lane_id, lane_state> lanes_;
    std::map<job_id, job_state> jobs_;  ///< queued and running
    std::size_t running_ = 0;
    std::uint64_t reserved_ = 0;
    lane_id next_lane_ = 1;
    job_id next_job_ = 1;
    std::int64_t next_order_ = 1;
    std::int64_t next_front_ = -1;
};

}  // namespace fluss_fetch::fetch
