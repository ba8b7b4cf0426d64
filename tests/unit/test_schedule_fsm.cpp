// schedule_fsm, the pure download schedule (schedule.hpp lists its rules).
//
// Table-driven, as Boost.Redis tests its *_fsm classes: each step is one
// event and the actions it lets out, drained by calling next() until it
// returns nullopt. Names stand for ids in the tables ("A" a lane, "A0" a job
// of lane A); they are resolved after the step's event ran, so a step can
// expect the start of the job it submits. A randomized run at the end checks
// the invariants after every event against a model kept from the actions.
#include <fluss_fetch/fetch/schedule.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fluss_fetch::fetch {
// So that a failed comparison of action vectors shows the actions.
void PrintTo(const schedule_fsm::action& a, std::ostream* os) {
    if (a.what == schedule_fsm::action::kind::admit)
        *os << "admit{lane " << a.lane << "}";
    else
        *os << "start{lane " << a.lane << ", job " << a.job << "}";
}
}  // namespace fluss_fetch::fetch

namespace {

using fluss_fetch::fetch::schedule_fsm;
using fluss_fetch::fetch::schedule_limits;
using action = schedule_fsm::action;
using kind = action::kind;
using lane_id = schedule_fsm::lane_id;
using job_id = schedule_fsm::job_id;

/// Every action next() gives now, in order, until it gives nullopt.
std::vector<action> drain(schedule_fsm& fsm) {
    std::vector<action> out;
    while (auto a = fsm.next()) {
        out.push_back(*a);
        if (out.size() > 100000) {
            ADD_FAILURE() << "next() never returned nullopt";
            break;
        }
    }
    return out;
}

// ---- the table machinery

struct world {
    explicit world(schedule_limits l) : fsm(l) {}
    schedule_fsm fsm;
    std::map<std::string, lane_id> lanes;
    std::map<std::string, job_id> jobs;
    std::map<std::string, std::string> job_lane;

    lane_id lane(const std::string& name) const {
        auto it = lanes.find(name);
        if (it == lanes.end()) throw std::logic_error("table names an unknown lane " + name);
        return it->second;
    }
    job_id job(const std::string& name) const {
        auto it = jobs.find(name);
        if (it == jobs.end()) throw std::logic_error("table names an unknown job " + name);
        return it->second;
    }
};

/// An expected action, by name.
struct want {
    kind what;
    std::string name;  ///< the lane for admit, the job for start
};
want admit(std::string lane) { return {kind::admit, std::move(lane)}; }
want start(std::string job) { return {kind::start, std::move(job)}; }

action resolve(const world& w, const want& x) {
    if (x.what == kind::admit) return action{kind::admit, w.lane(x.name), 0};
    return action{kind::start, w.lane(w.job_lane.at(x.name)), w.job(x.name)};
}

struct event {
    std::string text;
    std::function<void(world&)> run;
};
using check = std::function<void(const world&)>;

struct step {
    event ev;
    std::vector<want> expect;
    check after = {};
};

void run_table(schedule_limits limits, const std::vector<step>& steps) {
    world w(limits);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const step& s = steps[i];
        SCOPED_TRACE("step " + std::to_string(i) + ": " + s.ev.text);
        s.ev.run(w);
        const std::vector<action> got = drain(w.fsm);
        std::vector<action> expected;
        for (const want& x : s.expect) expected.push_back(resolve(w, x));
        EXPECT_EQ(got, expected);
        if (s.after) s.after(w);
    }
}

// ---- events

event open(std::string name, std::size_t prefetch_num, std::size_t max_requests) {
    return {"open_lane " + name, [=](world& w) { w.lanes[name] = w.fsm.open_lane(prefetch_num, max_requests); }};
}
event submit(std::string lane, std::string job, std::uint64_t seq, bool front = false) {
    return {"submit " + job + " (lane " + lane + ", seq " + std::to_string(seq) + (front ? ", front)" : ")"),
            [=](world& w) {
                const job_id id = w.fsm.submit(w.lane(lane), seq, front);
                EXPECT_NE(id, 0u) << "submit on an open lane";
                w.jobs[job] = id;
                w.job_lane[job] = lane;
            }};
}
event submit_ignored(std::string lane, std::uint64_t seq) {
    return {"submit on lane " + lane + " (closed)", [=](world& w) { EXPECT_EQ(w.fsm.submit(w.lane(lane), seq), 0u); }};
}
event admission(std::string lane, std::uint64_t bytes) {
    return {"request_admission " + lane + " " + std::to_string(bytes),
            [=](world& w) { w.fsm.request_admission(w.lane(lane), bytes); }};
}
event cancel_admission(std::string lane, bool expected) {
    return {"cancel_admission " + lane,
            [=](world& w) { EXPECT_EQ(w.fsm.cancel_admission(w.lane(lane)), expected); }};
}
event cancel(std::string job, bool expected) {
    return {"cancel_job " + job, [=](world& w) { EXPECT_EQ(w.fsm.cancel_job(w.job(job)), expected); }};
}
event cancel_id(job_id id, bool expected) {
    return {"cancel_job #" + std::to_string(id), [=](world& w) { EXPECT_EQ(w.fsm.cancel_job(id), expected); }};
}
event done(std::string job) {
    return {"job_done " + job, [=](world& w) { w.fsm.job_done(w.job(job)); }};
}
event consumed(std::string lane) {
    return {"consumed " + lane, [=](world& w) { w.fsm.consumed(w.lane(lane)); }};
}
event release(std::string lane, std::uint64_t bytes) {
    return {"release " + lane + " " + std::to_string(bytes),
            [=](world& w) { w.fsm.release(w.lane(lane), bytes); }};
}
event close(std::string lane, std::vector<std::string> dropped_jobs, bool dropped_admission) {
    return {"close_lane " + lane, [=](world& w) {
                const auto got = w.fsm.close_lane(w.lane(lane));
                std::vector<job_id> expected;
                for (const auto& j : dropped_jobs) expected.push_back(w.job(j));
                std::vector<job_id> sorted = got.dropped_jobs;
                std::sort(sorted.begin(), sorted.end());
                std::sort(expected.begin(), expected.end());
                EXPECT_EQ(sorted, expected) << "dropped jobs";
                EXPECT_EQ(got.dropped_admission, dropped_admission) << "dropped admission";
            }};
}
/// Several events before one drain (work queued while nothing looks).
event batch(std::string text, std::vector<event> events) {
    return {std::move(text), [events](world& w) {
                for (const auto& e : events) e.run(w);
            }};
}

// ---- checks after a step

check running(std::size_t n) {
    return [n](const world& w) { EXPECT_EQ(w.fsm.running(), n) << "running()"; };
}
check queued(std::size_t n) {
    return [n](const world& w) { EXPECT_EQ(w.fsm.queued(), n) << "queued()"; };
}
check reserved(std::uint64_t n) {
    return [n](const world& w) { EXPECT_EQ(w.fsm.reserved_bytes(), n) << "reserved_bytes()"; };
}
check lanes(std::size_t n) {
    return [n](const world& w) { EXPECT_EQ(w.fsm.lanes(), n) << "lanes()"; };
}
check all(std::vector<check> checks) {
    return [checks](const world& w) {
        for (const auto& c : checks) c(w);
    };
}

// ---- construction

TEST(schedule_fsm, zero_max_requests_is_refused) {
    EXPECT_THROW(schedule_fsm f({.max_requests = 0}), std::invalid_argument);
    EXPECT_NO_THROW(schedule_fsm f({.max_requests = 1}));
}

TEST(schedule_fsm, lane_limits_of_zero_are_clamped_to_one) {
    run_table({.max_requests = 8}, {
        {open("A", 0, 0), {}},
        {submit("A", "A0", 0), {start("A0")}},
        {submit("A", "A1", 0), {}, running(1)},  // max_requests 0 → 1
        {admission("A", 1), {admit("A")}},
        {admission("A", 1), {}, reserved(1)},     // prefetch_num 0 → 1
        {consumed("A"), {admit("A")}, reserved(2)},
        {done("A0"), {start("A1")}},
    });
}

// ---- 1. the global request cap

TEST(schedule_fsm, global_cap_bounds_requests_over_all_lanes) {
    std::vector<event> twelve;
    for (int seq = 0; seq < 4; ++seq)
        for (const char* l : {"A", "B", "C"}) twelve.push_back(submit(l, l + std::to_string(seq), seq));
    run_table({.max_requests = 4}, {
        {open("A", 8, 8), {}},
        {open("B", 8, 8), {}},
        {open("C", 8, 8), {}},
        // Twelve jobs, each lane far below its own cap: only four start, by
        // depth then arrival.
        {batch("12 jobs, queued before any drain", twelve),
         {start("A0"), start("B0"), start("C0"), start("A1")}, all({running(4), queued(8)})},
        {submit("C", "C4", 4), {}, all({running(4), queued(9)})},
        // Each end starts exactly one more while work is queued.
        {done("A0"), {start("B1")}, all({running(4), queued(8)})},
        {done("B0"), {start("C1")}, running(4)},
        {done("C0"), {start("A2")}, running(4)},
        {done("A1"), {start("B2")}, running(4)},
        {done("B1"), {start("C2")}, running(4)},
        {done("C1"), {start("A3")}, running(4)},
        {done("A2"), {start("B3")}, running(4)},
        {done("B2"), {start("C3")}, running(4)},
        {done("C2"), {start("C4")}, all({running(4), queued(0)})},
        // Nothing queued: each end only frees a slot.
        {done("A3"), {}, running(3)},
        {done("B3"), {}, running(2)},
        {done("C3"), {}, running(1)},
        {done("C4"), {}, running(0)},
        {done("C4"), {}, running(0)},  // a second end of the same job is ignored
        {submit("A", "A5", 5), {start("A5")}, running(1)},
    });
}

// ---- 2. the per-lane cap

TEST(schedule_fsm, lane_at_its_cap_runs_one_at_a_time_and_blocks_no_other_lane) {
    run_table({.max_requests = 8}, {
        {open("A", 5, 1), {}},
        {open("B", 5, 4), {}},
        {submit("A", "A0", 0), {start("A0")}},
        {batch("A1..A4", {submit("A", "A1", 1), submit("A", "A2", 2), submit("A", "A3", 3), submit("A", "A4", 4)}),
         {}, all({running(1), queued(4)})},
        // A1 ranks above B1 (same depth, asked first), but A is at its cap:
        // B1 starts.
        {submit("B", "B1", 1), {start("B1")}},
        {submit("B", "B2", 2), {start("B2")}, all({running(3), queued(4)})},
        {done("B1"), {}, running(2)},  // B's end does not let A's second job run
        {done("A0"), {start("A1")}, running(2)},
        {done("A1"), {start("A2")}},
        {done("A2"), {start("A3")}},
        {done("A3"), {start("A4")}},
        {done("A4"), {}, all({running(1), queued(0)})},
    });
}

// ---- 3. the window

TEST(schedule_fsm, window_admits_prefetch_num_segments_until_one_is_consumed) {
    run_table({}, {
        {open("A", 2, 1), {}},
        {open("B", 1, 1), {}},
        {admission("A", 10), {admit("A")}},
        {admission("A", 10), {admit("A")}},
        {admission("A", 10), {}},  // two admitted, none consumed: full
        {release("A", 20), {}},    // bytes freed, but the window is still full
        {admission("B", 10), {admit("B")}},  // A's full window blocks no other lane
        {consumed("A"), {admit("A")}},
        {admission("A", 10), {}},
        {consumed("A"), {admit("A")}},
        {consumed("A"), {}},  // window has one free slot, nothing asked
        {admission("A", 10), {admit("A")}},
    });
}

// ---- 4. the byte budget

TEST(schedule_fsm, byte_budget_waits_for_release_and_lets_one_oversized_segment_in_alone) {
    run_table({.max_bytes = 100}, {
        {open("A", 4, 1), {}},
        {open("B", 4, 1), {}},
        {admission("A", 60), {admit("A")}, reserved(60)},
        {admission("B", 60), {}, reserved(60)},  // 120 > 100: waits
        {consumed("A"), {}, reserved(60)},       // a window slot is not bytes
        {release("A", 60), {admit("B")}, reserved(60)},
        // Larger than the whole budget: waits while anything is reserved...
        {admission("A", 150), {}, reserved(60)},
        {release("B", 59), {}, reserved(1)},
        // ...and goes in alone once nothing is.
        {release("B", 1), {admit("A")}, reserved(150)},
        {admission("B", 1), {}, reserved(150)},  // nothing fits beside it
        // Release is clamped to what the lane holds (150, not 1000)...
        {release("A", 1000), {admit("B")}, reserved(1)},
        // ...and a lane that holds nothing frees nothing of another's.
        {release("A", 50), {}, reserved(1)},
        {admission("A", 99), {admit("A")}, reserved(100)},  // exactly the budget fits
        {admission("B", 1), {}, reserved(100)},
        {release("B", 1), {admit("B")}, reserved(100)},
    });
}

TEST(schedule_fsm, second_admission_request_replaces_the_byte_count) {
    run_table({.max_bytes = 100}, {
        {open("A", 4, 1), {}},
        {open("B", 4, 1), {}},
        {admission("A", 60), {admit("A")}},
        {admission("B", 60), {}, reserved(60)},
        {admission("B", 40), {admit("B")}, reserved(100)},  // 40, not 60 nor 100
        {release("B", 100), {}, reserved(60)},              // clamped to B's 40
    });
}

// ---- 5. strict admission

TEST(schedule_fsm, admission_is_strict_nothing_overtakes_a_head_that_does_not_fit) {
    run_table({.max_bytes = 100}, {
        {open("A", 4, 1), {}},
        {open("B", 4, 1), {}},
        {open("C", 4, 1), {}},
        {admission("A", 60), {admit("A")}, reserved(60)},
        {admission("B", 50), {}},  // B's head: 110 > 100
        {admission("A", 30), {}},  // A's prefetch (depth 1) would fit at 90: not before B's head
        {admission("C", 20), {}},  // C's head, asked after B's, would fit at 80: waits too
        {release("A", 60), {admit("B"), admit("C"), admit("A")}, reserved(100)},
    });
}

TEST(schedule_fsm, a_prefetch_that_fits_goes_in_when_no_head_waits) {
    // The control of the test above: without B's head waiting, the same
    // prefetch is admitted at once.
    run_table({.max_bytes = 100}, {
        {open("A", 4, 1), {}},
        {open("B", 4, 1), {}},
        {admission("A", 60), {admit("A")}},
        {admission("A", 30), {admit("A")}, reserved(90)},
    });
}

// ---- 6. priority by depth

TEST(schedule_fsm, every_lanes_head_starts_before_any_prefetch) {
    // Arrival favours prefetches (all of A before any of B): depth wins.
    run_table({.max_requests = 1}, {
        {open("A", 3, 3), {}},
        {open("B", 3, 3), {}},
        {open("C", 3, 3), {}},
        {batch("A0 A1 A2 B0 B1 B2 C0 C1 C2",
               {submit("A", "A0", 0), submit("A", "A1", 1), submit("A", "A2", 2), submit("B", "B0", 0),
                submit("B", "B1", 1), submit("B", "B2", 2), submit("C", "C0", 0), submit("C", "C1", 1),
                submit("C", "C2", 2)}),
         {start("A0")}},
        {done("A0"), {start("B0")}},
        {done("B0"), {start("C0")}},
        {done("C0"), {start("A1")}},
        {done("A1"), {start("B1")}},
        {done("B1"), {start("C1")}},
        {done("C1"), {start("A2")}},
        {done("A2"), {start("B2")}},
        {done("B2"), {start("C2")}},
        {done("C2"), {}, all({running(0), queued(0)})},
    });
}

TEST(schedule_fsm, every_lanes_head_is_admitted_before_any_prefetch) {
    // Z holds the budget while A's prefetch (asked first) and the heads of B
    // and C (asked after it) wait; when Z releases, the heads go first.
    run_table({.max_bytes = 100}, {
        {open("A", 3, 1), {}},
        {open("B", 3, 1), {}},
        {open("C", 3, 1), {}},
        {open("Z", 4, 1), {}},
        {admission("A", 10), {admit("A")}},
        {admission("Z", 90), {admit("Z")}, reserved(100)},
        {admission("A", 10), {}},  // A at depth 1
        {admission("B", 10), {}},  // B at depth 0
        {admission("C", 10), {}},  // C at depth 0
        {release("Z", 90), {admit("B"), admit("C"), admit("A")}, reserved(40)},
        // Again one level down: A at depth 2 (asked first) after B and C at depth 1.
        {admission("Z", 60), {admit("Z")}, reserved(100)},
        {admission("A", 10), {}},
        {admission("C", 10), {}},
        {admission("B", 10), {}},
        {release("Z", 60), {admit("C"), admit("B"), admit("A")}, reserved(70)},
    });
}

// ---- 7. consumed lowers the depth

TEST(schedule_fsm, consumed_makes_the_next_segment_a_head) {
    run_table({.max_requests = 1}, {
        {open("A", 3, 3), {}},
        {open("B", 3, 3), {}},
        {admission("A", 10), {admit("A")}},  // consumed counts only admitted segments
        {submit("A", "A0", 0), {start("A0")}},
        {submit("A", "A1", 1), {}},
        {submit("B", "B0", 0), {}},
        {consumed("A"), {}},  // A1 is now at depth 0, and asked before B0
        {done("A0"), {start("A1")}},
        {done("A1"), {start("B0")}},
    });
}

TEST(schedule_fsm, without_consumed_the_later_head_goes_first) {
    // The control of the test above: A1 stays at depth 1.
    run_table({.max_requests = 1}, {
        {open("A", 3, 3), {}},
        {open("B", 3, 3), {}},
        {admission("A", 10), {admit("A")}},
        {submit("A", "A0", 0), {start("A0")}},
        {submit("A", "A1", 1), {}},
        {submit("B", "B0", 0), {}},
        {done("A0"), {start("B0")}},
        {done("B0"), {start("A1")}},
    });
}

// ---- 8. the consumer's fallback re-fetch

TEST(schedule_fsm, refetch_of_a_head_goes_after_waiting_heads_and_before_prefetches) {
    run_table({.max_requests = 1}, {
        {open("A", 3, 3), {}},
        {open("B", 3, 3), {}},
        {open("C", 3, 3), {}},
        {submit("A", "A0", 0), {start("A0")}},
        {batch("B0 C0 A1 B1", {submit("B", "B0", 0), submit("C", "C0", 0), submit("A", "A1", 1), submit("B", "B1", 1)}),
         {}},
        {submit("A", "A0 again", 0), {}},  // seq == consumed: depth 0, asked last
        {done("A0"), {start("B0")}},
        {done("B0"), {start("C0")}},
        {done("C0"), {start("A0 again")}},
        {done("A0 again"), {start("A1")}},
        {done("A1"), {start("B1")}},
        {done("B1"), {}},
    });
}

// ---- 9. front submissions

TEST(schedule_fsm, latest_front_job_starts_first_among_equal_depths) {
    run_table({.max_requests = 1}, {
        {open("Z", 1, 1), {}},
        {open("A", 8, 8), {}},
        {open("B", 8, 8), {}},
        {submit("Z", "Z0", 0), {start("Z0")}},
        {batch("A1 B1, then front B1f A1f, then A1n, then B0",
               {submit("A", "A1", 1), submit("B", "B1", 1), submit("B", "B1f", 1, true), submit("A", "A1f", 1, true),
                submit("A", "A1n", 1), submit("B", "B0", 0)}),
         {}},
        // Depth first (B0), then the latest front job, the earlier front
        // job, then the others by arrival.
        {done("Z0"), {start("B0")}},
        {done("B0"), {start("A1f")}},
        {done("A1f"), {start("B1f")}},
        {done("B1f"), {start("A1")}},
        {done("A1"), {start("B1")}},
        {done("B1"), {start("A1n")}},
        {done("A1n"), {}},
    });
}

// ---- 10. cancellation

TEST(schedule_fsm, cancel_job_removes_a_queued_job_and_leaves_a_running_one) {
    run_table({.max_requests = 1}, {
        {open("A", 4, 4), {}},
        {submit("A", "A0", 0), {start("A0")}},
        {submit("A", "A1", 1), {}, queued(1)},
        {cancel("A1", true), {}, all({queued(0), running(1)})},
        {cancel("A1", false), {}},  // already gone
        {cancel("A0", false), {}, running(1)},  // running: it ends with job_done
        {submit("A", "A2", 2), {}},
        {submit("A", "A3", 3), {}},
        {done("A3"), {}, all({running(1), queued(2)})},  // not running: ignored
        {done("A0"), {start("A2")}},  // A1 never starts
        {done("A2"), {start("A3")}},
        {done("A3"), {}, running(0)},
        {cancel("A3", false), {}},  // done
        {cancel_id(0, false), {}},
        {cancel_id(999999, false), {}},
    });
}

TEST(schedule_fsm, cancel_admission_withdraws_the_pending_one) {
    run_table({.max_bytes = 100}, {
        {open("A", 4, 1), {}},
        {open("B", 4, 1), {}},
        {open("C", 4, 1), {}},
        {cancel_admission("B", false), {}},  // nothing pending
        {admission("A", 60), {admit("A")}},
        {admission("B", 50), {}},
        {admission("C", 20), {}},  // strict: behind B's head
        // Withdrawing the blocking head lets the one behind it in at once.
        {cancel_admission("B", true), {admit("C")}, reserved(80)},
        {cancel_admission("B", false), {}},
        {release("A", 60), {}, reserved(20)},  // B's cancelled admission is not granted
        {admission("B", 50), {admit("B")}, reserved(70)},
        {cancel_admission("B", false), {}},  // granted: no longer pending
    });
}

// ---- 11. close_lane

TEST(schedule_fsm, close_lane_drops_queued_work_and_keeps_running_work_counted) {
    run_table({.max_requests = 2, .max_bytes = 100}, {
        {open("A", 2, 2), {}},
        {open("B", 2, 2), {}},
        {admission("A", 30), {admit("A")}},
        {admission("A", 30), {admit("A")}, reserved(60)},
        {admission("A", 30), {}},  // window full: pending
        {submit("A", "A0", 0), {start("A0")}},
        {submit("A", "A1", 1), {start("A1")}},
        {submit("A", "A2", 2), {}},
        {submit("B", "B0", 0), {}},
        {close("A", {"A2"}, true), {}, all({running(2), queued(1), reserved(60), lanes(2)})},
        {close("A", {}, false), {}},  // already closed
        {submit_ignored("A", 3), {}, queued(1)},
        {admission("A", 10), {}},
        {cancel_admission("A", false), {}},
        {consumed("A"), {}},  // a slot frees, but a closed lane asks for nothing
        {cancel("A2", false), {}},  // dropped, not queued
        {done("A0"), {start("B0")}, lanes(2)},  // A2 never starts
        {done("A1"), {}, all({running(1), lanes(2)})},  // A still holds 60 bytes
        {release("A", 60), {}, all({reserved(0), lanes(1)})},
        {release("A", 10), {}, all({reserved(0), lanes(1)})},  // gone: ignored
        {done("B0"), {}, all({running(0), lanes(1)})},
    });
}

TEST(schedule_fsm, close_lane_with_nothing_in_flight_disappears_at_once) {
    run_table({.max_bytes = 100}, {
        {open("A", 2, 2), {}},
        {open("B", 2, 2), {}},
        {close("A", {}, false), {}, lanes(1)},
        {close("A", {}, false), {}, lanes(1)},
    });
}

TEST(schedule_fsm, closing_the_lane_of_a_blocking_head_lets_the_next_in) {
    run_table({.max_bytes = 100}, {
        {open("A", 2, 2), {}},
        {open("B", 2, 2), {}},
        {open("C", 2, 2), {}},
        {admission("A", 60), {admit("A")}},
        {admission("B", 50), {}},
        {admission("C", 40), {}},
        {close("B", {}, true), {admit("C")}, all({reserved(100), lanes(2)})},
    });
}

TEST(schedule_fsm, close_lane_of_an_unknown_lane_is_empty) {
    schedule_fsm fsm({});
    const auto got = fsm.close_lane(12345);
    EXPECT_TRUE(got.dropped_jobs.empty());
    EXPECT_FALSE(got.dropped_admission);
    EXPECT_EQ(fsm.submit(12345, 0), 0u);
    EXPECT_EQ(fsm.lanes(), 0u);
    EXPECT_FALSE(fsm.next());
}

// ---- 12. randomized: invariants after every event, against a model kept
// from the actions. The model holds what the header promises: the priority
// key of a job is (depth, then arrival, a front job counting as earlier than
// every job before it, the latest front first), of an admission (depth, then
// arrival of the request); admissions before starts; nothing that may happen
// is held back once next() says nullopt. Two things the header leaves open
// are taken as schedule.cpp has them: consumed() beyond the admitted count
// is ignored, and segments are at least 1 byte (a 0-byte admission could
// legally sit beside an oversized one, over the budget with two held).

class random_run {
public:
    random_run(std::uint64_t seed, bool allow_close) : rng_(seed), allow_close_(allow_close), fsm_(limits()) {
        for (int i = 0; i < 4; ++i) open_one();
    }

    void run(int events) {
        for (int i = 0; i < events; ++i) {
            const std::string what = random_event();
            step(what);
            if (::testing::Test::HasFailure()) {
                ADD_FAILURE() << "stopped at event " << i << " (" << what << ")";
                return;
            }
        }
        finish();
    }

private:
    struct mlane {
        std::size_t prefetch = 1, cap = 1;
        std::uint64_t admitted = 0, consumed = 0;
        std::size_t running = 0;
        std::deque<std::uint64_t> held;  ///< admitted segments not yet released
        std::uint64_t reserved = 0;
        std::optional<std::uint64_t> pending;
        std::int64_t pending_order = 0;
        bool closed = false;
    };
    struct mjob {
        lane_id lane;
        std::uint64_t seq;
        std::int64_t order;
        bool running = false;
    };

    schedule_limits limits() {
        limits_ = {.max_requests = std::uniform_int_distribution<std::size_t>(1, 6)(rng_), .max_bytes = 1000};
        return limits_;
    }

    std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
    }
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

    void open_one() {
        mlane l;
        l.prefetch = uniform(1, 4);
        l.cap = uniform(1, 3);
        const lane_id id = fsm_.open_lane(l.prefetch, l.cap);
        lanes_[id] = l;
        open_.push_back(id);
    }
    lane_id any_open() { return open_[uniform(0, open_.size() - 1)]; }
    template <class Pred>
    std::optional<job_id> any_job(Pred p) {
        std::vector<job_id> ids;
        for (const auto& [id, j] : jobs_)
            if (p(j)) ids.push_back(id);
        if (ids.empty()) return std::nullopt;
        return ids[uniform(0, ids.size() - 1)];
    }

    std::string random_event() {
        const auto r = uniform(0, 99);
        if (r < 25) {
            const lane_id l = any_open();
            auto& m = lanes_.at(l);
            const std::uint64_t seq = m.consumed + uniform(0, 4);
            const bool front = chance(0.15);
            const job_id id = fsm_.submit(l, seq, front);
            EXPECT_NE(id, 0u);
            EXPECT_FALSE(jobs_.count(id) || ended_.count(id)) << "job id " << id << " given twice";
            jobs_[id] = {l, seq, front ? next_front_-- : next_order_++};
            submitted_.insert(id);
            return "submit";
        }
        if (r < 40) {
            const lane_id l = any_open();
            auto& m = lanes_.at(l);
            const std::uint64_t bytes = chance(0.1) ? uniform(1001, 1500) : uniform(1, 400);
            fsm_.request_admission(l, bytes);
            if (!m.pending) m.pending_order = next_order_++;
            m.pending = bytes;
            return "request_admission";
        }
        if (r < 43) {
            const lane_id l = any_open();
            auto& m = lanes_.at(l);
            EXPECT_EQ(fsm_.cancel_admission(l), m.pending.has_value());
            m.pending.reset();
            return "cancel_admission";
        }
        if (r < 63) {
            if (auto j = any_job([](const mjob& j) { return j.running; })) end_job(*j);
            return "job_done";
        }
        if (r < 65) {
            if (auto j = any_job([](const mjob& j) { return !j.running; })) fsm_.job_done(*j);  // ignored
            return "job_done of a queued job";
        }
        if (r < 70) {
            if (auto j = any_job([](const mjob&) { return true; })) {
                const bool was_queued = !jobs_.at(*j).running;
                EXPECT_EQ(fsm_.cancel_job(*j), was_queued);
                if (was_queued) {
                    jobs_.erase(*j);
                    ended_.insert(*j);
                    cancelled_.insert(*j);
                }
            }
            return "cancel_job";
        }
        if (r < 80) {
            consume(any_open());
            return "consumed";
        }
        if (r < 90) {
            // Any lane, closed ones too: a closed lane's files are still deleted.
            auto it = lanes_.begin();
            std::advance(it, uniform(0, lanes_.size() - 1));
            if (!it->second.held.empty()) release_oldest(it->first);
            return "release";
        }
        if (r < 92) {
            // More than the lane holds: clamped, frees all of it.
            const lane_id l = any_open();
            auto& m = lanes_.at(l);
            fsm_.release(l, m.reserved + uniform(1, 500));
            reserved_ -= m.reserved;
            m.reserved = 0;
            m.held.clear();
            return "release (more than held)";
        }
        if (allow_close_ && r < 94) {
            close_one(any_open());
            open_one();
            return "close_lane";
        }
        if (allow_close_ && r < 96 && !closed_.empty()) {
            const lane_id l = closed_[uniform(0, closed_.size() - 1)];
            EXPECT_EQ(fsm_.submit(l, 0), 0u);
            fsm_.request_admission(l, 10);
            EXPECT_FALSE(fsm_.cancel_admission(l));
            const auto again = fsm_.close_lane(l);
            EXPECT_TRUE(again.dropped_jobs.empty());
            EXPECT_FALSE(again.dropped_admission);
            fsm_.consumed(l);
            return "events on a closed lane";
        }
        return "nothing";
    }

    void end_job(job_id j) {
        auto& mj = jobs_.at(j);
        fsm_.job_done(j);
        auto& m = lanes_.at(mj.lane);
        --m.running;
        --running_;
        const lane_id l = mj.lane;
        jobs_.erase(j);
        ended_.insert(j);
        finished_.insert(j);
        maybe_forget(l);
    }
    void consume(lane_id l) {
        auto& m = lanes_.at(l);
        fsm_.consumed(l);
        if (m.consumed < m.admitted) ++m.consumed;
    }
    void release_oldest(lane_id l) {
        auto& m = lanes_.at(l);
        const std::uint64_t b = m.held.front();
        m.held.pop_front();
        fsm_.release(l, b);
        m.reserved -= b;
        reserved_ -= b;
        maybe_forget(l);
    }
    void close_one(lane_id l) {
        auto& m = lanes_.at(l);
        const auto got = fsm_.close_lane(l);
        std::vector<job_id> expected;
        for (auto it = jobs_.begin(); it != jobs_.end();) {
            if (it->second.lane == l && !it->second.running) {
                expected.push_back(it->first);
                ended_.insert(it->first);
                dropped_.insert(it->first);
                it = jobs_.erase(it);
            } else {
                ++it;
            }
        }
        std::vector<job_id> sorted = got.dropped_jobs;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(sorted, expected) << "close_lane's dropped jobs";
        EXPECT_EQ(got.dropped_admission, m.pending.has_value());
        m.pending.reset();
        m.closed = true;
        open_.erase(std::find(open_.begin(), open_.end(), l));
        closed_.push_back(l);
        maybe_forget(l);
    }
    void maybe_forget(lane_id l) {
        const auto& m = lanes_.at(l);
        if (m.closed && m.running == 0 && m.reserved == 0) lanes_.erase(l);
    }

    bool fits(std::uint64_t bytes) const {
        return reserved_ == 0 || (bytes <= limits_.max_bytes && reserved_ <= limits_.max_bytes - bytes);
    }
    /// The admission the header says goes next, fitting or not.
    std::optional<lane_id> best_admission() const {
        std::optional<lane_id> best;
        std::pair<std::uint64_t, std::int64_t> best_key{};
        for (const auto& [id, m] : lanes_) {
            if (m.closed || !m.pending || m.admitted - m.consumed >= m.prefetch) continue;
            const std::pair key{m.admitted - m.consumed, m.pending_order};
            if (!best || key < best_key) best = id, best_key = key;
        }
        return best;
    }
    /// The queued job the header says starts next (lanes at their cap skipped).
    std::optional<job_id> best_job() const {
        std::optional<job_id> best;
        std::pair<std::int64_t, std::int64_t> best_key{};
        for (const auto& [id, j] : jobs_) {
            const auto& m = lanes_.at(j.lane);
            if (j.running || m.running >= m.cap) continue;
            const std::pair key{static_cast<std::int64_t>(j.seq) - static_cast<std::int64_t>(m.consumed), j.order};
            if (!best || key < best_key) best = id, best_key = key;
        }
        return best;
    }

    void apply(const action& a) {
        if (a.what == kind::admit) {
            auto it = lanes_.find(a.lane);
            ASSERT_NE(it, lanes_.end()) << "admit of an unknown lane";
            auto& m = it->second;
            ASSERT_FALSE(m.closed) << "admit on a closed lane";
            ASSERT_TRUE(m.pending) << "admit with no pending admission";
            ASSERT_LT(m.admitted - m.consumed, m.prefetch) << "admit into a full window";
            EXPECT_EQ(best_admission(), a.lane) << "admitted out of (depth, arrival) order";
            EXPECT_TRUE(fits(*m.pending)) << "admitted past the budget: " << reserved_ << " + " << *m.pending;
            ++m.admitted;
            m.held.push_back(*m.pending);
            m.reserved += *m.pending;
            reserved_ += *m.pending;
            m.pending.reset();
            ++admits_;
        } else {
            auto it = jobs_.find(a.job);
            ASSERT_NE(it, jobs_.end()) << "start of a job not queued (cancelled, dropped, done or unknown)";
            auto& j = it->second;
            ASSERT_FALSE(j.running) << "started twice";
            ASSERT_EQ(j.lane, a.lane);
            auto& m = lanes_.at(j.lane);
            if (auto b = best_admission()) {
                EXPECT_FALSE(fits(*lanes_.at(*b).pending)) << "a start before a due admission";
            }
            ASSERT_LT(running_, limits_.max_requests) << "over the global cap";
            ASSERT_LT(m.running, m.cap) << "over the lane's cap";
            EXPECT_EQ(best_job(), a.job) << "started out of (depth, arrival) order";
            j.running = true;
            ++m.running;
            ++running_;
            ++starts_;
        }
    }

    void step(const std::string& what) {
        SCOPED_TRACE(what);
        for (const action& a : drain(fsm_)) {
            apply(a);
            if (::testing::Test::HasFailure()) return;
        }
        // Quiescent: nothing the header lets happen was held back.
        if (auto b = best_admission()) {
            EXPECT_FALSE(fits(*lanes_.at(*b).pending)) << "an admission that fits was not given";
        }
        if (running_ < limits_.max_requests) {
            EXPECT_FALSE(best_job()) << "a job that may run was not started";
        }
        // The invariants.
        EXPECT_EQ(fsm_.running(), running_);
        EXPECT_LE(fsm_.running(), limits_.max_requests);
        EXPECT_EQ(fsm_.queued(), static_cast<std::size_t>(std::count_if(
                                      jobs_.begin(), jobs_.end(), [](const auto& j) { return !j.second.running; })));
        EXPECT_EQ(fsm_.reserved_bytes(), reserved_);
        std::size_t outstanding = 0;
        for (const auto& [id, m] : lanes_) {
            outstanding += m.held.size();
            EXPECT_LE(m.running, m.cap);
            EXPECT_LE(m.admitted - m.consumed, m.prefetch) << "window of lane " << id;
        }
        if (outstanding != 1) {
            EXPECT_LE(fsm_.reserved_bytes(), limits_.max_bytes) << outstanding << " admissions held";
        }
        EXPECT_EQ(fsm_.lanes(), lanes_.size());
    }

    /// No more events from outside: end jobs, consume, release, until
    /// nothing is left. Every job submitted and not cancelled or dropped must
    /// have run, and every pending admission been granted.
    void finish() {
        for (int guard = 0; guard < 1000000; ++guard) {
            if (auto j = any_job([](const mjob& j) { return j.running; })) {
                end_job(*j);
            } else if (!jobs_.empty()) {
                ADD_FAILURE() << jobs_.size() << " jobs queued and none running: starved";
                return;
            } else {
                std::optional<lane_id> work;
                for (const auto& [id, m] : lanes_)
                    if (m.consumed < m.admitted || !m.held.empty()) work = id;
                if (!work) break;
                auto& m = lanes_.at(*work);
                if (m.consumed < m.admitted) consume(*work);
                if (!m.held.empty()) release_oldest(*work);
            }
            step("final drain");
            if (::testing::Test::HasFailure()) return;
        }
        EXPECT_TRUE(jobs_.empty());
        EXPECT_EQ(fsm_.running(), 0u);
        EXPECT_EQ(fsm_.queued(), 0u);
        EXPECT_EQ(fsm_.reserved_bytes(), 0u);
        EXPECT_EQ(fsm_.lanes(), open_.size());
        for (const auto& [id, m] : lanes_) EXPECT_FALSE(m.pending) << "lane " << id << "'s admission never granted";
        std::set<job_id> accounted = finished_;
        accounted.insert(cancelled_.begin(), cancelled_.end());
        accounted.insert(dropped_.begin(), dropped_.end());
        EXPECT_EQ(accounted, submitted_);
        EXPECT_EQ(finished_.size(), starts_);
        // The run exercised what it is meant to.
        EXPECT_GT(starts_, 100u);
        EXPECT_GT(admits_, 50u);
        if (allow_close_) {
            EXPECT_FALSE(closed_.empty());
        }
    }

    std::mt19937_64 rng_;
    bool allow_close_;
    schedule_limits limits_;
    schedule_fsm fsm_;
    std::map<lane_id, mlane> lanes_;  ///< open, or closed with work counted
    std::vector<lane_id> open_, closed_;
    std::map<job_id, mjob> jobs_;     ///< queued and running
    std::set<job_id> submitted_, ended_, finished_, cancelled_, dropped_;
    std::size_t running_ = 0;
    std::uint64_t reserved_ = 0;
    std::int64_t next_order_ = 1, next_front_ = -1;
    std::size_t starts_ = 0, admits_ = 0;
};

TEST(schedule_fsm_random, invariants_hold_and_every_job_runs_with_lanes_open) {
    for (std::uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        random_run(seed, false).run(4000);
        if (HasFailure()) return;
    }
}

TEST(schedule_fsm_random, invariants_hold_while_lanes_close_and_open) {
    for (std::uint64_t seed : {11, 12, 13, 14, 15, 16, 17, 18}) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        random_run(seed, true).run(4000);
        if (HasFailure()) return;
    }
}

}  // namespace
