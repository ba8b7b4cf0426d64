// The download pool's lanes, through the real pool: the pool's request cap
// over many lanes, a lane's own cap, depth-then-arrival priority, admission
// (window and byte budget), withdrawing an admission, letting go of a lane,
// close, and a lane of another pool.
//
// No sockets and no sleeps: jobs are coroutines that wait on timers or on a
// gate the test (or another job) opens, and the test waits on events that
// jobs and completion handlers set. Where threads matter the io_context runs
// on one and on four threads.
#include <fluss_fetch/fetch/download_pool.hpp>

#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace fluss_fetch;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Not an error any of these operations completes with: "not completed yet".
const error_code pending_ec = make_error_code(boost::system::errc::resource_unavailable_try_again);

void raise_to(std::atomic<int>& peak, int now) {
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
}

// Something the test coroutine waits for, set from any thread. It lives on the
// test coroutine's strand: wait() runs there and set() posts there.
class event {
public:
    explicit event(asio::any_io_executor strand) : s_(std::make_shared<state>(std::move(strand))) {}

    void set() const {
        auto s = s_;
        asio::post(s->timer.get_executor(), [s] {
            s->set = true;
            s->timer.cancel();
        });
    }

    // True once set; false if not set within `limit` (a guard against a hang
    // turning into a stuck test, not a synchronization).
    asio::awaitable<bool> wait(std::chrono::seconds limit = std::chrono::seconds(30)) const {
        auto s = s_;
        const auto deadline = clock_type::now() + limit;
        while (!s->set && clock_type::now() < deadline) {
            s->timer.expires_at(deadline);
            co_await s->timer.async_wait(use_tuple);
        }
        co_return s->set;
    }

private:
    struct state {
        explicit state(asio::any_io_executor ex) : timer(std::move(ex)) {}
        asio::steady_timer timer;
        bool set = false;
    };
    std::shared_ptr<state> s_;
};

// An event set by the last of `n` arrivals (from any thread).
class countdown {
public:
    countdown(asio::any_io_executor strand, int n) : left_(n), done_(std::move(strand)) {}
    void arrive() {
        if (--left_ == 0) done_.set();
    }
    asio::awaitable<bool> wait() const { return done_.wait(); }

private:
    std::atomic<int> left_;
    event done_;
};

// Jobs wait here until open() (from any thread). Each waiter waits on a timer
// of its own, made on its own executor (the job's strand), and open() cancels
// each timer there; so does the pool's cancellation of the job. The gate must
// outlive the io_context's run (open() posts to the waiters' strands).
class gate {
public:
    void open() {
        std::lock_guard l(m_);
        open_ = true;
        for (auto* t : waiting_)
            asio::post(t->get_executor(), [this, t] {
                std::lock_guard l2(m_);
                if (waiting_.count(t)) t->cancel();  // still waiting: its job has not ended
            });
    }

    // In a job: true once the gate is open, false when the wait was cancelled
    // before (the pool cancelled the job). `shielded`: the pool's cancellation
    // does not reach the wait (a job's clean-up after it was cancelled).
    asio::awaitable<bool> wait(bool shielded = false) {
        asio::steady_timer t(co_await asio::this_coro::executor, clock_type::time_point::max());
        bool wait_now = false;
        {
            std::lock_guard l(m_);
            if (!open_) {
                waiting_.insert(&t);
                wait_now = true;
            }
        }
        if (wait_now) {
            if (shielded) {
                // The wait's handler is a plain callback with no cancellation
                // slot: the coroutine's cancellation does not reach it.
                auto start = [&t](auto handler) {
                    t.async_wait([h = std::move(handler)](error_code ec) mutable { std::move(h)(ec); });
                };
                co_await asio::async_initiate<decltype(use_tuple), void(error_code)>(start, use_tuple);
            } else {
                co_await t.async_wait(use_tuple);
            }
        }
        std::lock_guard l(m_);
        waiting_.erase(&t);
        co_return open_;
    }

private:
    std::mutex m_;
    bool open_ = false;
    std::set<asio::steady_timer*> waiting_;
};

// A completion handler run on the test coroutine's strand: stores the result
// and signals `ev`.
auto store(asio::any_io_executor strand, error_code& out, const event& ev) {
    return asio::bind_executor(strand, [&out, ev](error_code ec) {
        out = ec;
        ev.set();
    });
}

// Concurrency seen by jobs: in the whole pool and per lane.
struct tracker {
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    std::array<std::atomic<int>, 4> lane_running{};
    std::array<std::atomic<int>, 4> lane_peak{};
    std::atomic<int> pool_over_cap{0};  // times pool.running() was seen above the cap
    std::atomic<bool> full_with_lane0_at_one{false};
};

// A job of lane `k` of the tracked pool: counts itself in, holds every job
// until `cap` run at once (the last of them opens the gate), then holds its
// worker for a millisecond so that a pool over its cap would show it. It
// asks pool.running() before its first suspension, as a job may (this
// deadlocked while jobs were spawned under the pool's mutex).
fetch::download_job tracked_job(tracker& tr, gate& g, fetch::download_pool& pool, std::size_t k, int cap) {
    return [&tr, &g, &pool, k, cap]() -> asio::awaitable<error_code> {
        raise_to(tr.lane_peak[k], ++tr.lane_running[k]);
        const int now = ++tr.running;
        raise_to(tr.peak, now);
        if (pool.running() > static_cast<std::size_t>(cap)) ++tr.pool_over_cap;
        if (now == cap) {
            if (tr.lane_running[0].load() == 1) tr.full_with_lane0_at_one = true;
            g.open();
        }
        const bool opened = co_await g.wait();
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
        co_await t.async_wait(use_tuple);
        --tr.running;
        --tr.lane_running[k];
        co_return opened ? error_code{} : error_code{asio::error::operation_aborted};
    };
}

// ---------------------------------------------------------------- request caps

// 4 lanes × 8 jobs, 3 workers, each lane allowed all 3: jobs running never
// exceed 3, and 3 is reached (the first three wait for each other).
void global_cap(unsigned threads) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 3);
    tracker tr;
    gate g;
    constexpr int lanes = 4, per_lane = 8;
    std::vector<error_code> results(lanes * per_lane, pending_ec);
    const bool all_done = test::run_on(
        ioc,
        [&]() -> asio::awaitable<bool> {
            auto strand = co_await asio::this_coro::executor;
            countdown done(strand, lanes * per_lane);
            std::vector<std::shared_ptr<fetch::download_lane>> ls;
            for (int k = 0; k < lanes; ++k) ls.push_back(pool.open_lane(per_lane, 3));
            for (int i = 0; i < per_lane; ++i) {
                for (int k = 0; k < lanes; ++k) {
                    const int idx = k * per_lane + i;
                    fetch::job_tag tag{ls[k], static_cast<std::uint64_t>(i)};
                    pool.async_submit(tracked_job(tr, g, pool, static_cast<std::size_t>(k), 3), tag,
                                      asio::bind_executor(strand, [&results, &done, idx](error_code ec) {
                                          results[idx] = ec;
                                          done.arrive();
                                      }));
                }
            }
            if (threads == 1) {  // nothing ran yet: the submissions started 3 and queued the rest
                EXPECT_EQ(pool.running(), 3u);
                EXPECT_EQ(pool.queued(), static_cast<std::size_t>(lanes * per_lane - 3));
            }
            co_return co_await done.wait();
        },
        threads);
    ASSERT_TRUE(all_done) << "not every job completed";
    for (auto& ec : results) EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(tr.peak.load(), 3) << "at most the pool's 3 workers, and all 3 used";
    EXPECT_EQ(tr.pool_over_cap.load(), 0);
    EXPECT_EQ(pool.running(), 0u);
    EXPECT_EQ(pool.queued(), 0u);
}

// Lane 0 (max_requests 1) submits all its jobs first: it never runs two at
// once, and lanes 1 and 2 fill the other two workers meanwhile.
void lane_cap(unsigned threads) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 3);
    tracker tr;
    gate g;
    constexpr int lanes = 3, per_lane = 6;
    std::vector<error_code> results(lanes * per_lane, pending_ec);
    const bool all_done = test::run_on(
        ioc,
        [&]() -> asio::awaitable<bool> {
            auto strand = co_await asio::this_coro::executor;
            countdown done(strand, lanes * per_lane);
            std::vector<std::shared_ptr<fetch::download_lane>> ls;
            ls.push_back(pool.open_lane(per_lane, 1));
            ls.push_back(pool.open_lane(per_lane, 3));
            ls.push_back(pool.open_lane(per_lane, 3));
            for (int k = 0; k < lanes; ++k) {
                for (int i = 0; i < per_lane; ++i) {
                    const int idx = k * per_lane + i;
                    fetch::job_tag tag{ls[k], static_cast<std::uint64_t>(i)};
                    pool.async_submit(tracked_job(tr, g, pool, static_cast<std::size_t>(k), 3), tag,
                                      asio::bind_executor(strand, [&results, &done, idx](error_code ec) {
                                          results[idx] = ec;
                                          done.arrive();
                                      }));
                }
            }
            if (threads == 1) EXPECT_EQ(pool.running(), 3u) << "lane 0 at its cap does not hold the others up";
            co_return co_await done.wait();
        },
        threads);
    ASSERT_TRUE(all_done) << "not every job completed";
    for (auto& ec : results) EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(tr.lane_peak[0].load(), 1) << "lane 0 ran two of its jobs at once";
    EXPECT_EQ(tr.peak.load(), 3);
    EXPECT_TRUE(tr.full_with_lane0_at_one.load()) << "3 jobs ran, one of lane 0, while lane 0 had more queued";
    EXPECT_GE(tr.lane_peak[1].load(), 1);
    EXPECT_GE(tr.lane_peak[2].load(), 1);
    EXPECT_EQ(tr.pool_over_cap.load(), 0);
}

// ---------------------------------------------------------------- priority

// One worker, held by a job until the gate opens. Queued meanwhile: segment 1
// of lanes A and B, then segment 0 of A, B and C. Every lane's head (depth 0)
// goes first, in submission order, then the prefetches.
void priority(unsigned threads) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    gate g;
    std::mutex m;
    std::vector<std::string> order;
    std::vector<error_code> results(6, pending_ec);
    const bool all_done = test::run_on(
        ioc,
        [&]() -> asio::awaitable<bool> {
            auto strand = co_await asio::this_coro::executor;
            countdown done(strand, 6);
            auto on_done = [&](int idx) {
                return asio::bind_executor(strand, [&results, &done, idx](error_code ec) {
                    results[idx] = ec;
                    done.arrive();
                });
            };
            auto named = [&](std::string name) -> fetch::download_job {
                return [&m, &order, name]() -> asio::awaitable<error_code> {
                    std::lock_guard l(m);
                    order.push_back(name);
                    co_return error_code{};
                };
            };
            fetch::download_job hold = [&]() -> asio::awaitable<error_code> {
                const bool opened = co_await g.wait();
                co_return opened ? error_code{} : error_code{asio::error::operation_aborted};
            };
            pool.async_submit(hold, on_done(0));
            auto a = pool.open_lane(2, 1);
            auto b = pool.open_lane(2, 1);
            auto c = pool.open_lane(2, 1);
            pool.async_submit(named("A1"), fetch::job_tag{a, 1}, on_done(1));
            pool.async_submit(named("B1"), fetch::job_tag{b, 1}, on_done(2));
            pool.async_submit(named("A0"), fetch::job_tag{a, 0}, on_done(3));
            pool.async_submit(named("B0"), fetch::job_tag{b, 0}, on_done(4));
            pool.async_submit(named("C0"), fetch::job_tag{c, 0}, on_done(5));
            EXPECT_EQ(pool.running(), 1u);
            EXPECT_EQ(pool.queued(), 5u);
            g.open();
            co_return co_await done.wait();
        },
        threads);
    ASSERT_TRUE(all_done) << "not every job completed";
    for (auto& ec : results) EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(order, (std::vector<std::string>{"A0", "B0", "C0", "A1", "B1"}));
}

}  // namespace

TEST(download_lanes, pool_cap_holds_over_lanes_and_is_reached_on_one_thread) { global_cap(1); }
TEST(download_lanes, pool_cap_holds_over_lanes_and_is_reached_on_four_threads) { global_cap(4); }
TEST(download_lanes, lane_cap_of_one_leaves_the_other_workers_to_other_lanes_on_one_thread) { lane_cap(1); }
TEST(download_lanes, lane_cap_of_one_leaves_the_other_workers_to_other_lanes_on_four_threads) { lane_cap(4); }
TEST(download_lanes, heads_of_every_lane_run_before_any_prefetch_on_one_thread) { priority(1); }
TEST(download_lanes, heads_of_every_lane_run_before_any_prefetch_on_four_threads) { priority(4); }

// ---------------------------------------------------------------- admission

// A window of 2: two admissions complete at once; the third waits for the
// consumer to take the head.
TEST(download_lanes, window_admits_prefetch_num_segments_then_waits_for_consumed) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto strand = co_await asio::this_coro::executor;
        auto lane = pool.open_lane(2, 1);
        auto [first] = co_await lane->async_admit(10, use_tuple);
        EXPECT_FALSE(first) << first.message();
        auto [second] = co_await lane->async_admit(10, use_tuple);
        EXPECT_FALSE(second) << second.message();
        EXPECT_EQ(pool.reserved_bytes(), 20u);

        error_code third = pending_ec;
        event third_done(strand);
        lane->async_admit(10, store(strand, third, third_done));
        EXPECT_EQ(pool.reserved_bytes(), 20u) << "a third segment entered a window of two";
        lane->consumed();
        EXPECT_EQ(pool.reserved_bytes(), 30u);
        EXPECT_TRUE(co_await third_done.wait());
        EXPECT_FALSE(third) << third.message();
    });
}

// A budget of 100 bytes: lane A holds 60, so lane B's 60 waits until A
// releases them, and then holds them itself.
TEST(download_lanes, byte_budget_holds_an_admission_until_bytes_are_released) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2, 100);
    EXPECT_EQ(pool.max_bytes(), 100u);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto strand = co_await asio::this_coro::executor;
        auto a = pool.open_lane(2, 1);
        auto b = pool.open_lane(2, 1);
        auto [ea] = co_await a->async_admit(60, use_tuple);
        EXPECT_FALSE(ea) << ea.message();
        EXPECT_EQ(pool.reserved_bytes(), 60u);

        error_code eb = pending_ec;
        event b_done(strand);
        b->async_admit(60, store(strand, eb, b_done));
        EXPECT_EQ(pool.reserved_bytes(), 60u) << "120 bytes reserved under a budget of 100";
        a->release(60);
        EXPECT_EQ(pool.reserved_bytes(), 60u) << "B's 60 bytes, once A's are free";
        EXPECT_TRUE(co_await b_done.wait());
        EXPECT_FALSE(eb) << eb.message();
        b->release(60);
        EXPECT_EQ(pool.reserved_bytes(), 0u);
    });
}

// Cancelling a pending admission (terminal, partial or total, through the
// handler's slot) withdraws it: operation_aborted, nothing reserved then or
// later. The slot keeps the withdrawn admission's handler afterwards (a plain
// callback's slot is not cleared), so a second emit on the same signal,
// after a later admission of the lane started that is not bound to it, must
// leave that later one alone. And once an admission completed, a cancellation
// through its slot does not take its bytes back.
TEST(download_lanes, cancelling_a_pending_admission_withdraws_it_and_only_it) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2, 100);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto strand = co_await asio::this_coro::executor;
        auto a = pool.open_lane(8, 1);
        auto b = pool.open_lane(8, 1);
        const asio::cancellation_type types[] = {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                                 asio::cancellation_type::total};
        for (auto type : types) {
            SCOPED_TRACE(static_cast<int>(type));
            auto [ea] = co_await a->async_admit(60, use_tuple);
            EXPECT_FALSE(ea) << ea.message();

            asio::cancellation_signal sig;
            error_code first = pending_ec;
            event first_done(strand);
            b->async_admit(60, asio::bind_cancellation_slot(sig.slot(), store(strand, first, first_done)));
            EXPECT_EQ(pool.reserved_bytes(), 60u);
            sig.emit(type);
            EXPECT_TRUE(co_await first_done.wait());
            EXPECT_EQ(first, asio::error::operation_aborted);
            EXPECT_EQ(pool.reserved_bytes(), 60u) << "a withdrawn admission reserved bytes";
            a->release(60);
            EXPECT_EQ(pool.reserved_bytes(), 0u) << "a withdrawn admission was granted later";

            // A later admission of B, not bound to `sig`.
            auto [ea2] = co_await a->async_admit(60, use_tuple);
            EXPECT_FALSE(ea2) << ea2.message();
            error_code later = pending_ec;
            event later_done(strand);
            b->async_admit(60, store(strand, later, later_done));
            sig.emit(asio::cancellation_type::terminal);
            EXPECT_EQ(pool.reserved_bytes(), 60u);
            a->release(60);
            EXPECT_EQ(pool.reserved_bytes(), 60u) << "B's later admission was withdrawn by a signal not bound to it";
            EXPECT_TRUE(co_await later_done.wait());
            EXPECT_FALSE(later) << later.message();

            // A completed admission bound to a signal keeps its bytes when the signal fires.
            asio::cancellation_signal sig2;
            b->release(60);
            error_code granted = pending_ec;
            event granted_done(strand);
            b->async_admit(60, asio::bind_cancellation_slot(sig2.slot(), store(strand, granted, granted_done)));
            EXPECT_TRUE(co_await granted_done.wait());
            EXPECT_FALSE(granted) << granted.message();
            sig2.emit(type);
            EXPECT_EQ(pool.reserved_bytes(), 60u) << "a cancellation after the admission took its bytes back";
            b->release(60);
            EXPECT_EQ(pool.reserved_bytes(), 0u);
            for (int i = 0; i < 2; ++i) {  // both lanes' consumers take what was admitted this round
                a->consumed();
                b->consumed();
            }
        }
    });
}

// The stream lets go of its lane (the last shared_ptr) while an admission
// waits: the admission completes with operation_aborted, and reserves nothing.
TEST(download_lanes, dropping_a_lane_aborts_its_pending_admission) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2, 100);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto strand = co_await asio::this_coro::executor;
        auto a = pool.open_lane(2, 1);
        auto b = pool.open_lane(2, 1);
        auto [ea] = co_await a->async_admit(60, use_tuple);
        EXPECT_FALSE(ea) << ea.message();
        error_code eb = pending_ec;
        event b_done(strand);
        b->async_admit(60, store(strand, eb, b_done));
        b.reset();
        EXPECT_TRUE(co_await b_done.wait());
        EXPECT_EQ(eb, asio::error::operation_aborted);
        a->release(60);
        EXPECT_EQ(pool.reserved_bytes(), 0u) << "the dropped lane's admission was granted";
        // The pool goes on serving the other lanes.
        auto [ea2] = co_await a->async_admit(100, use_tuple);
        EXPECT_FALSE(ea2) << ea2.message();
        EXPECT_EQ(pool.reserved_bytes(), 100u);
    });
}

// ---------------------------------------------------------------- close

// async_close with a job running (it takes a while to end once cancelled),
// two jobs queued (one of a lane, one untagged) and an admission waiting for
// bytes: the queued jobs and the admission complete with operation_aborted
// and the queued jobs never run; the running job is cancelled; the close
// completes only once that job has ended. A closed pool takes no new
// admissions or jobs.
void close_pool(unsigned threads) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1, 100);
    gate never;  // never opened: only the pool's cancellation ends the wait
    gate cleanup;
    std::atomic<int> in_job{0};
    std::atomic<int> queued_ran{0};
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto strand = co_await asio::this_coro::executor;
            auto a = pool.open_lane(2, 1);
            auto b = pool.open_lane(2, 1);
            event started(strand), cancelled(strand), closed(strand);
            countdown settled(strand, 4);
            std::array<error_code, 4> results{pending_ec, pending_ec, pending_ec, pending_ec};
            auto on_done = [&](std::size_t idx) {
                return asio::bind_executor(strand, [&results, &settled, idx](error_code ec) {
                    results[idx] = ec;
                    settled.arrive();
                });
            };
            fetch::download_job slow = [&]() -> asio::awaitable<error_code> {
                ++in_job;
                started.set();
                const bool opened = co_await never.wait();
                cancelled.set();
                co_await cleanup.wait(/*shielded*/ true);
                --in_job;
                co_return opened ? error_code{} : error_code{asio::error::operation_aborted};
            };
            fetch::download_job quick = [&]() -> asio::awaitable<error_code> {
                ++queued_ran;
                co_return error_code{};
            };
            pool.async_submit(slow, fetch::job_tag{a, 0}, on_done(0));
            pool.async_submit(quick, fetch::job_tag{a, 1}, on_done(1));
            pool.async_submit(quick, on_done(2));
            auto [ea] = co_await a->async_admit(60, use_tuple);
            EXPECT_FALSE(ea) << ea.message();
            b->async_admit(60, on_done(3));
            EXPECT_TRUE(co_await started.wait());
            EXPECT_EQ(pool.running(), 1u);
            EXPECT_EQ(pool.queued(), 2u);

            bool close_done = false;
            int in_job_at_close = -1;
            pool.async_close(asio::bind_executor(strand, [&] {
                close_done = true;
                in_job_at_close = in_job.load();
                closed.set();
            }));
            EXPECT_TRUE(co_await cancelled.wait());
            EXPECT_FALSE(close_done) << "the close completed while a job was still running";
            EXPECT_EQ(pool.queued(), 0u);
            cleanup.open();
            EXPECT_TRUE(co_await closed.wait());
            EXPECT_EQ(in_job_at_close, 0);
            EXPECT_EQ(pool.running(), 0u);
            EXPECT_TRUE(co_await settled.wait());
            EXPECT_EQ(results[0], asio::error::operation_aborted) << "the running job, cancelled";
            EXPECT_EQ(results[1], asio::error::operation_aborted) << "the queued job of lane A";
            EXPECT_EQ(results[2], asio::error::operation_aborted) << "the queued untagged job";
            EXPECT_EQ(results[3], asio::error::operation_aborted) << "the admission of lane B";

            auto [late_admit] = co_await a->async_admit(1, use_tuple);
            EXPECT_EQ(late_admit, asio::error::operation_aborted) << "a closed pool admits nothing";
            fetch::job_tag tag{a, 2};
            auto [late_job] = co_await pool.async_submit(quick, tag, use_tuple);
            EXPECT_EQ(late_job, asio::error::operation_aborted) << "a closed pool takes no new jobs";
        },
        threads);
    EXPECT_EQ(queued_ran.load(), 0) << "a queued job ran after async_close";
    EXPECT_EQ(in_job.load(), 0);
}

TEST(download_lanes, close_aborts_admissions_and_queued_jobs_and_waits_for_running_ones_on_one_thread) {
    close_pool(1);
}
TEST(download_lanes, close_aborts_admissions_and_queued_jobs_and_waits_for_running_ones_on_four_threads) {
    close_pool(4);
}

// ---------------------------------------------------------------- another pool's lane

// A job tagged with a lane of another pool is refused (operation_aborted)
// and never runs, in either pool; the lane still works in its own pool.
TEST(download_lanes, a_lane_of_another_pool_is_refused) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2);
    fetch::download_pool other(ioc.get_executor(), 2);
    std::atomic<int> ran{0};
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        fetch::download_job job = [&]() -> asio::awaitable<error_code> {
            ++ran;
            co_return error_code{};
        };
        // Lanes of both pools, so that the foreign lane's id names a lane in
        // this pool's schedule too: refused for its pool, not for its id.
        auto own = pool.open_lane(2, 2);
        auto foreign = other.open_lane(2, 2);
        EXPECT_EQ(own->id(), foreign->id());
        fetch::job_tag tag{foreign, 0};
        auto [ec] = co_await pool.async_submit(job, tag, use_tuple);
        EXPECT_EQ(ec, asio::error::operation_aborted);
        EXPECT_EQ(ran.load(), 0) << "the job ran in a pool its lane is not of";
        EXPECT_EQ(pool.running() + pool.queued(), 0u);
        EXPECT_EQ(other.running() + other.queued(), 0u);

        auto [in_own_pool] = co_await other.async_submit(job, tag, use_tuple);
        EXPECT_FALSE(in_own_pool) << in_own_pool.message();
        EXPECT_EQ(ran.load(), 1);
    });
}
