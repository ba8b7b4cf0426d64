// The download pool: the cap, FIFO start order, cancellation, close.
#include <fluss_fetch/error.hpp>
#include <fluss_fetch/fetch/download_pool.hpp>
#include <fluss_fetch/fetch/retry.hpp>

#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <future>
#include <mutex>
#include <vector>

using namespace fluss_fetch;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Jobs that wait on a timer for a while and record concurrency.
struct probe {
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    std::mutex m;
    std::vector<int> started;

    fetch::download_job job(int id, std::chrono::milliseconds hold) {
        return [this, id, hold]() -> asio::awaitable<error_code> {
            int now = ++running;
            for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
            }
            {
                std::lock_guard l(m);
                started.push_back(id);
            }
            asio::steady_timer t(co_await asio::this_coro::executor);
            t.expires_after(hold);
            auto [ec] = co_await t.async_wait(use_tuple);
            --running;
            co_return ec;
        };
    }
};

void run_many(unsigned threads) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 3);
    probe p;
    auto results = test::run_on(
        ioc,
        [&]() -> asio::awaitable<std::vector<error_code>> {
            // The completions run on the pool's strands, on any of the
            // io_context's threads; the last one fulfils a promise this
            // coroutine waits for off its thread. (A timer cancelled from
            // there raced with this coroutine resuming on another thread.)
            std::vector<error_code> out(12);
            std::atomic<int> left{12};
            std::promise<void> all_done;
            auto done = all_done.get_future();
            for (int i = 0; i < 12; ++i)
                pool.async_submit(p.job(i, std::chrono::milliseconds(20)), [&, i](error_code ec) {
                    out[i] = ec;
                    if (--left == 0) all_done.set_value();
                });
            const bool finished =
                co_await test::off_thread([&] { return done.wait_for(std::chrono::seconds(20)) == std::future_status::ready; });
            EXPECT_TRUE(finished) << "not every job completed";
            co_return out;
        },
        threads);
    for (auto& ec : results) EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(p.peak.load(), 3) << "with plenty of work the pool runs exactly its cap";
    EXPECT_EQ(p.started.size(), 12u);
}

}  // namespace

TEST(download_pool, cap_holds_and_is_reached_on_one_thread) { run_many(1); }
TEST(download_pool, cap_holds_and_is_reached_on_four_threads) { run_many(4); }

TEST(download_pool, one_worker_starts_jobs_in_submission_order) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    probe p;
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i) pool.async_submit(p.job(i, std::chrono::milliseconds(1)), [](error_code) {});
        co_await pool.async_submit(p.job(99, std::chrono::milliseconds(1)), use_tuple);
    });
    EXPECT_EQ(p.started, (std::vector<int>{0, 1, 2, 3, 4, 99}));
    EXPECT_EQ(p.peak.load(), 1);
}

TEST(download_pool, cancelling_a_queued_job_removes_it_and_a_running_one_stops_it) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    probe p;
    auto [running_ec, queued_ec] = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, error_code>> {
        asio::cancellation_signal cancel_running, cancel_queued;
        error_code running_ec, queued_ec;
        int done = 0;
        asio::steady_timer all(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
        pool.async_submit(p.job(1, std::chrono::hours(1)),
                          asio::bind_cancellation_slot(cancel_running.slot(), [&](error_code ec) {
                              running_ec = ec;
                              if (++done == 2) all.cancel();
                          }));
        pool.async_submit(p.job(2, std::chrono::hours(1)),
                          asio::bind_cancellation_slot(cancel_queued.slot(), [&](error_code ec) {
                              queued_ec = ec;
                              if (++done == 2) all.cancel();
                          }));
        cancel_queued.emit(asio::cancellation_type::terminal);
        cancel_running.emit(asio::cancellation_type::terminal);
        co_await all.async_wait(use_tuple);
        co_return std::pair{running_ec, queued_ec};
    });
    EXPECT_EQ(running_ec, asio::error::operation_aborted);
    EXPECT_EQ(queued_ec, asio::error::operation_aborted);
    EXPECT_EQ(p.started, (std::vector<int>{1})) << "the queued job never ran";
}

TEST(download_pool, a_job_throwing_a_logic_error_reports_internal_bug) {
    // A job that throws (here a broken invariant) is a bug of the library: the
    // submission completes with internal_bug, which is not retried, and the
    // worker takes the next job.
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    probe p;
    auto [thrown, next] = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, error_code>> {
        fetch::download_job bad = []() -> asio::awaitable<error_code> {
            throw std::logic_error("invariant broken");
            co_return error_code{};
        };
        auto [a] = co_await pool.async_submit(std::move(bad), use_tuple);
        auto [b] = co_await pool.async_submit(p.job(1, std::chrono::milliseconds(1)), use_tuple);
        co_return std::pair{a, b};
    });
    EXPECT_EQ(thrown, make_error_code(errc::internal_bug)) << thrown.message();
    EXPECT_FALSE(is_retryable(thrown));
    EXPECT_FALSE(next) << next.message();
    EXPECT_EQ(p.started, (std::vector<int>{1}));
}

TEST(download_pool, close_cancels_everything_and_completes_when_nothing_runs) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2);
    probe p;
    std::vector<error_code> results;
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 4; ++i)
            pool.async_submit(p.job(i, std::chrono::hours(1)), [&](error_code ec) { results.push_back(ec); });
        co_await pool.async_close(asio::use_awaitable);
        EXPECT_EQ(p.running.load(), 0);
        auto [late] = co_await pool.async_submit(p.job(9, std::chrono::milliseconds(1)), use_tuple);
        EXPECT_EQ(late, asio::error::operation_aborted) << "a closed pool takes no new work";
    });
    ASSERT_EQ(results.size(), 4u);
    for (auto& ec : results) EXPECT_EQ(ec, asio::error::operation_aborted);
    EXPECT_EQ(p.started.size(), 2u);
}

TEST(retry_policy, backoff_doubles_is_capped_and_jitter_stays_in_bounds) {
    fetch::retry_policy r;  // 100 ms × 2^k, cap 5 s, ±25 %
    using ms = std::chrono::milliseconds;
    auto at = [&](int k, double u) { return std::chrono::duration_cast<ms>(r.backoff(k, u)).count(); };
    EXPECT_EQ(at(0, 0.5), 100);
    EXPECT_EQ(at(1, 0.5), 200);
    EXPECT_EQ(at(4, 0.5), 1600);
    EXPECT_EQ(at(6, 0.5), 5000);   // 6400 capped
    EXPECT_EQ(at(20, 0.5), 5000);
    EXPECT_EQ(at(0, 0.0), 75);
    EXPECT_EQ(at(0, 1.0), 125);
    EXPECT_EQ(at(10, 1.0), 6250);  // cap × 1.25 at most
    fetch::retry_policy bad;
    bad.jitter = 1.5;
    EXPECT_THROW(bad.validate(), std::invalid_argument);
    bad = {};
    bad.multiplier = 0.5;
    EXPECT_THROW(bad.validate(), std::invalid_argument);
    EXPECT_NO_THROW(fetch::retry_policy{}.validate());
}

// async_submit_first: with the one worker busy, a job submitted first goes
// ahead of every queued job (the fetcher's job for the segment a consumer is
// blocked on); the others keep their order. Mutation testing (issue 11 item
// 13) found it untested: queued at the back, every test still passed.
TEST(download_pool, submit_first_goes_ahead_of_every_queued_job) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    probe p;
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        // Job 0 holds the worker until the gate opens, whenever it gets to
        // wait on it (a timer moved to the past completes any wait at once).
        asio::steady_timer gate(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
        fetch::download_job hold = [&]() -> asio::awaitable<error_code> {
            {
                std::lock_guard l(p.m);
                p.started.push_back(0);
            }
            co_await gate.async_wait(use_tuple);
            co_return error_code{};
        };
        pool.async_submit(hold, [](error_code) {});
        for (int i = 1; i <= 3; ++i) pool.async_submit(p.job(i, std::chrono::milliseconds(0)), [](error_code) {});
        pool.async_submit_first(p.job(98, std::chrono::milliseconds(0)), [](error_code) {});
        pool.async_submit_first(p.job(99, std::chrono::milliseconds(0)), [](error_code) {});
        auto last = p.job(4, std::chrono::milliseconds(0));
        gate.expires_at(std::chrono::steady_clock::time_point::min());
        co_await pool.async_submit(last, use_tuple);
    });
    // The later of two urgent jobs is the most urgent: each goes ahead of every queued job.
    EXPECT_EQ(p.started, (std::vector<int>{0, 99, 98, 1, 2, 3, 4}));
    EXPECT_EQ(p.peak.load(), 1);
}

TEST(download_pool, submit_first_on_an_idle_pool_starts_at_once) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2);
    probe p;
    auto [ec] = test::run_on(ioc, [&]() -> asio::awaitable<std::tuple<error_code>> {
        auto job = p.job(7, std::chrono::milliseconds(0));
        co_return co_await pool.async_submit_first(job, use_tuple);
    });
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(p.started, (std::vector<int>{7}));
}

// Closing while jobs end on other threads: no queued job may start once
// async_close was called. With one worker held by a job that ends as soon as
// it is cancelled and many queued jobs, the close cancels the running job
// first; on four threads it ends (and frees the worker) while the close is
// still going through the queue, and a schedule that then starts the next
// queued job runs work in a closed pool.
TEST(download_pool, close_on_four_threads_starts_no_queued_job) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 1);
    std::atomic<int> ran{0};
    std::atomic<int> aborted{0};
    constexpr int queued = 2000;
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            fetch::download_job hold = [&]() -> asio::awaitable<error_code> {
                asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
                auto [ec] = co_await t.async_wait(use_tuple);
                co_return ec;
            };
            fetch::download_job quick = [&]() -> asio::awaitable<error_code> {
                ++ran;
                co_return error_code{};
            };
            pool.async_submit(hold, [](error_code) {});
            for (int i = 0; i < queued; ++i)
                pool.async_submit(quick, [&](error_code ec) {
                    if (ec == asio::error::operation_aborted) ++aborted;
                });
            co_await pool.async_close(asio::use_awaitable);
        },
        4);
    EXPECT_EQ(ran.load(), 0) << "queued jobs started after async_close";
    EXPECT_EQ(aborted.load(), queued);
}

// A job may call the pool as soon as it starts. co_spawn enters its strand
// with dispatch, so a job spawned from inside the pool's critical section
// ran there up to its first suspension, under the pool's mutex (from
// async_submit, or from the end of the job before it on the same strand),
// and a job that called the pool at once (running(), a lane's release(), a
// new submission) deadlocked. Each job here asks pool.running() from another
// thread and gives up after a while instead of hanging the test.
TEST(download_pool, a_job_may_call_the_pool_before_its_first_suspension) {
    asio::io_context ioc;
    fetch::download_pool pool(ioc.get_executor(), 2);
    std::mutex m;
    std::vector<std::future<std::size_t>> probes;  // outlive the jobs: a blocked probe ends once the job has
    std::atomic<int> blocked{0};
    std::atomic<int> ran{0};
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        fetch::download_job job = [&]() -> asio::awaitable<error_code> {
            auto probe = std::async(std::launch::async, [&pool] { return pool.running(); });
            if (probe.wait_for(std::chrono::seconds(10)) != std::future_status::ready) ++blocked;
            {
                std::lock_guard l(m);
                probes.push_back(std::move(probe));
            }
            ++ran;
            co_return error_code{};
        };
        // Two start from the submissions (free workers), the third from the
        // end of the first on that job's strand.
        pool.async_submit(job, [](error_code) {});
        pool.async_submit_first(job, [](error_code) {});
        auto [ec] = co_await pool.async_submit(job, use_tuple);
        EXPECT_FALSE(ec) << ec.message();
    });
    EXPECT_EQ(blocked.load(), 0) << "a job ran under the pool's mutex";
    EXPECT_EQ(ran.load(), 3);
    for (auto& f : probes) f.get();
}
