// The fetcher the way an Asio service uses it: `async_next` raced against a
// timer through `||` (the loser is cancelled and its result thrown away).
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using namespace fluss_fetch;
using namespace fluss_fetch::fetch;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string segment_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
}

const std::string tablet = log::remote_log_tablet_dir({"db", "orders", 1001, {}, {}, 3});

std::string key_of(int i) { return log::remote_log_segment_key(tablet, segment_id(i), 10 * i); }

std::string join(const std::vector<int>& v) {
    std::ostringstream out;
    for (int x : v) out << x << ' ';
    return out.str();
}

}  // namespace

// Item 3 of issue 11: `co_await (stream.async_next(...) || timer.async_wait(...))`
// with a 0-3 ms timer. Whenever the timer wins, the cancelled async_next must
// not have taken a segment: each round must see every segment exactly once,
// in order. io_context on four threads, the consumer on a strand.
TEST(fetcher_cancel, next_raced_with_a_timer_loses_no_segment) {
    constexpr int n_segments = 10;
    constexpr int rounds = 40;
    test::fault_server server{4};
    test::temp_dir tmp{"fetcher-cancel"};
    asio::io_context ioc;
    std::vector<log::remote_log_segment> segs;
    std::vector<std::string> bodies;
    for (int i = 0; i < n_segments; ++i) {
        bodies.push_back(test::random_bytes(20'000, static_cast<unsigned>(i + 1)));
        server.put_object("b", key_of(i), bodies.back());
        segs.push_back(log::remote_log_segment::physical(segment_id(i), 10 * i, 10 * i + 10, 20'000));
    }
    storage::s3_options so;
    so.endpoint = server.endpoint();
    so.bucket = "b";
    so.credentials = storage::s3_credentials{"AK", "SK", ""};
    storage::s3_store store(ioc.get_executor(), so);
    fetcher_options fo;
    fo.prefetch_num = 4;
    fo.download_threads = 3;
    fo.temp_parent = tmp.path();

    std::size_t lost = 0, rounds_losing = 0, timeouts = 0;
    for (int round = 0; round < rounds; ++round) {
        remote_log_fetcher fetcher(ioc.get_executor(), store, fo);
        const auto dir = fetcher.temp_dir();
        std::vector<int> got;
        test::run_on(
            ioc,
            [&]() -> asio::awaitable<void> {
                auto s = fetcher.fetch(tablet, segs, 0);
                asio::steady_timer timer(co_await asio::this_coro::executor);
                for (int attempt = 0;; ++attempt) {
                    timer.expires_after(std::chrono::milliseconds((round + attempt) % 4));
                    auto r = co_await (s.async_next(use_tuple) || timer.async_wait(use_tuple));
                    if (r.index() == 1) {
                        ++timeouts;
                        continue;
                    }
                    auto& [ec, seg] = std::get<0>(r);
                    EXPECT_FALSE(ec) << ec.message() << ": " << s.last_error().to_string(ec);
                    if (ec || !seg) break;
                    const int idx = static_cast<int>(seg->segment().start_offset / 10);
                    EXPECT_EQ(test::read_file(seg->path()), bodies.at(static_cast<std::size_t>(idx)));
                    got.push_back(idx);
                }
                co_await fetcher.async_close(asio::use_awaitable);
            },
            4);
        EXPECT_FALSE(fs::exists(dir)) << "round " << round;
        std::vector<int> want(n_segments);
        for (int i = 0; i < n_segments; ++i) want[static_cast<std::size_t>(i)] = i;
        if (got != want) {
            ++rounds_losing;
            lost += want.size() - std::min(want.size(), got.size());
            ADD_FAILURE() << "round " << round << ": got " << join(got);
        }
    }
    EXPECT_EQ(lost, 0u) << rounds_losing << " of " << rounds << " rounds lost segments (" << lost << " of "
                        << rounds * n_segments << "), " << timeouts << " timeouts";
    EXPECT_GT(timeouts, 0u) << "the timer never won: the race was not exercised";
    EXPECT_EQ(tmp.file_count(), 0u);
}
