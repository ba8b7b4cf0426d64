// The retry loop of async_download draws a fresh jitter for every wait.
//
// retry_policy::backoff is tested on its own (test_download_pool.cpp); this
// checks that the loop feeds it a random draw per retry rather than a
// constant (mutation testing, issue 11 item 13: with u fixed at 0.5 every
// test passed). No seam in src/: the loop logs each wait it chose at info
// level ("..., in N ms"), so the test reads the waits from the library's
// logger, deterministically, and checks against the fake store's recorded
// request times that each wait was really waited (a gap is never shorter
// than the wait before it, whatever the machine's load).
#include <fluss_fetch/fetch/download.hpp>

#include "core/logging.hpp"
#include "support/fake_store.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <regex>
#include <set>

using namespace fluss_fetch;
namespace asio = boost::asio;
using boost::system::error_code;
using test::fake_store;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Routes the library's log to a ring buffer (and not stderr) at info level
// for the test's lifetime.
class captured_log {
public:
    captured_log() : logger_(detail::logger()), level_(logger_.level()) {
        ring_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
        ring_->set_pattern("%v");
        saved_.swap(logger_.sinks());
        logger_.sinks().push_back(ring_);
        logger_.set_level(spdlog::level::info);
    }
    ~captured_log() {
        logger_.sinks().swap(saved_);
        logger_.set_level(level_);
    }
    std::vector<std::string> lines() const { return ring_->last_formatted(); }

private:
    spdlog::logger& logger_;
    spdlog::level::level_enum level_;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring_;
    std::vector<spdlog::sink_ptr> saved_;
};

}  // namespace

TEST(retry_jitter, every_retry_waits_a_fresh_random_draw) {
    constexpr int retries = 24;
    constexpr int base_ms = 20;  // multiplier 1: every wait is 20 ms × (1 ± 0.5 × (2u − 1))
    asio::io_context ioc;
    test::temp_dir dir{"retry-jitter"};
    fake_store store(ioc.get_executor(), "x", [](const fake_store::call&) {
        fake_store::answer a;
        a.ec = make_error_code(errc::slow_down);
        return a;
    });
    fetch::download_options o;
    o.part_size = 0;
    o.retry.max_retries = retries;
    o.retry.initial_backoff = std::chrono::milliseconds(base_ms);
    o.retry.multiplier = 1.0;
    o.retry.max_backoff = std::chrono::milliseconds(base_ms);
    o.retry.jitter = 0.5;
    fetch::transfer_counters counters;
    std::vector<std::string> lines;
    error_code ec;
    {
        captured_log log;
        fetch::download_pool pool(ioc.get_executor(), 1);
        ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
            diagnostics diag;
            std::string key = "k";
            std::filesystem::path path = dir.path() / "k";
            auto [ec, res] = co_await fetch::async_download(store, pool, key, path, o, counters, diag, use_tuple);
            co_await pool.async_close(asio::use_awaitable);
            co_return ec;
        });
        lines = log.lines();
    }
    EXPECT_EQ(ec, make_error_code(errc::slow_down));
    const auto calls = store.calls();
    ASSERT_EQ(calls.size(), std::size_t{retries + 1});
    EXPECT_EQ(counters.retries.load(), std::uint64_t{retries});

    // The waits the loop chose, in order.
    const std::regex wait_re(R"(^retrying .*, in (\d+) ms$)");
    std::vector<int> waits;
    for (auto l : lines) {
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();  // the formatter's end of line
        std::smatch m;
        if (std::regex_search(l, m, wait_re)) waits.push_back(std::stoi(m[1].str()));
    }
    ASSERT_EQ(waits.size(), std::size_t{retries}) << "one 'retrying ..., in N ms' line per retry (format changed?)";

    const std::set<int> distinct(waits.begin(), waits.end());
    const int lo = *distinct.begin(), hi = *distinct.rbegin();
    EXPECT_GE(lo, base_ms / 2) << "a wait below base × (1 − jitter)";
    EXPECT_LE(hi, base_ms * 3 / 2) << "a wait above base × (1 + jitter)";
    // With u uniform, the chance that 24 draws all land on one side of the
    // base, or on fewer than 4 distinct milliseconds, is below 1e-6.
    EXPECT_LT(lo, base_ms) << "no wait shorter than the base: jitter is not drawn";
    EXPECT_GT(hi, base_ms) << "no wait longer than the base: jitter is not drawn";
    EXPECT_GE(distinct.size(), 4u) << "the waits barely differ: one draw reused?";

    // Each logged wait was waited: the next attempt came no sooner.
    for (int i = 0; i < retries; ++i) {
        const auto gap = calls[i + 1].at - calls[i].at;
        EXPECT_GE(gap, std::chrono::milliseconds(waits[i])) << "retry " << i;
    }
}
