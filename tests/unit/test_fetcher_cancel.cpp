// The fetcher the way an Asio service uses it: `async_next` raced against a
// timer through `||` (the loser is cancelled and its result thrown away), and
// many consumers on their own strands of one multi-threaded io_context.
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
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace fluss_fetch;
using namespace fluss_fetch::fetch;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using test::fault;
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

namespace {

// One bucket of the consumer-service test: its segments and their bytes.
struct bucket {
    std::string tablet;
    std::vector<log::remote_log_segment> segs;
    std::vector<std::string> bodies;
    std::string key(std::size_t i) const {
        return log::remote_log_segment_key(tablet, segs[i].segment_id, segs[i].start_offset);
    }
};

// What one consumer does in one round.
struct plan {
    enum class action { drain, close_stream, race_close, second_fetch, drop_stream, close_fetcher } what;
    std::size_t first = 0;   // index of the segment the fetch starts at
    std::size_t take = 0;    // segments to take before the action
    std::size_t second = 0;  // second_fetch: where the second fetch starts
    bool race = false;       // every async_next raced with a 0-3 ms timer through ||
    std::size_t prefetch = 4, threads = 3;
    std::uint64_t part_size = 0;
    unsigned timer_seed = 0;
};

struct tally {
    std::size_t delivered = 0, timeouts = 0;
};

// Take up to `limit` segments of `s`, expecting them from index `next` on, in
// order, with their exact bytes. Returns the error that ended it (none: the
// limit or the end of the stream was reached; `end` says which).
asio::awaitable<error_code> take(segment_stream& s, const bucket& b, std::size_t& next, std::size_t limit,
                                 const plan& p, std::mt19937& timer_rng, tally& t, bool& end) {
    end = false;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (std::size_t n = 0; n < limit;) {
        error_code ec;
        std::optional<downloaded_segment> seg;
        if (p.race) {
            timer.expires_after(std::chrono::milliseconds(timer_rng() % 4));
            auto r = co_await (s.async_next(use_tuple) || timer.async_wait(use_tuple));
            if (r.index() == 1) {
                ++t.timeouts;
                continue;
            }
            std::tie(ec, seg) = std::move(std::get<0>(r));
        } else {
            std::tie(ec, seg) = co_await s.async_next(use_tuple);
        }
        if (ec) co_return ec;
        if (!seg) {
            end = true;
            co_return error_code{};
        }
        EXPECT_LT(next, b.segs.size());
        if (next >= b.segs.size()) co_return error_code{};
        EXPECT_EQ(seg->segment().segment_id, b.segs[next].segment_id) << b.tablet << ": out of order or lost";
        EXPECT_TRUE(test::read_file(seg->path()) == b.bodies[next]) << b.tablet << " segment " << next << ": wrong bytes";
        ++next;
        ++n;
        ++t.delivered;
    }
    co_return error_code{};
}

asio::awaitable<void> expect_aborted(segment_stream& s, const bucket& b, const char* when) {
    auto [ec, seg] = co_await s.async_next(use_tuple);
    EXPECT_EQ(ec, asio::error::operation_aborted) << b.tablet << ": next " << when;
    EXPECT_FALSE(seg.has_value()) << b.tablet << ": an ended stream handed out a segment " << when;
}

// One consumer: its own fetcher, on its own strand.
asio::awaitable<tally> consume(storage::s3_store& store, const bucket& b, plan p, fs::path temp_parent) {
    tally t;
    std::mt19937 timer_rng(p.timer_seed);
    fetcher_options o;
    o.prefetch_num = p.prefetch;
    o.download_threads = p.threads;
    o.part_size = p.part_size;
    o.temp_parent = std::move(temp_parent);
    o.retry.initial_backoff = 1ms;
    o.retry.max_backoff = 4ms;
    const auto ex = co_await asio::this_coro::executor;
    remote_log_fetcher fetcher(ex, store, o);
    const auto dir = fetcher.temp_dir();
    const auto offset = [&](std::size_t i) { return b.segs[i].start_offset; };
    const std::size_t all = b.segs.size();
    bool end = false, fetcher_closed = false;
    std::size_t next = p.first;
    {
        auto s = fetcher.fetch(b.tablet, b.segs, offset(p.first));
        switch (p.what) {
        case plan::action::drain: {
            auto ec = co_await take(s, b, next, all, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            if (!ec && !end) {  // every segment taken: the next call is the end
                ec = co_await take(s, b, next, 1, p, timer_rng, t, end);
                EXPECT_FALSE(ec);
            }
            EXPECT_TRUE(end) << b.tablet;
            EXPECT_EQ(next, all) << b.tablet << ": segments lost";
            break;
        }
        case plan::action::close_stream: {
            auto ec = co_await take(s, b, next, p.take, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            co_await s.async_close(asio::use_awaitable);
            co_await expect_aborted(s, b, "after close");
            break;
        }
        case plan::action::race_close: {
            // A close racing a waiting next: either the next wins with the
            // right segment, or the close wins and the next takes nothing.
            auto ec = co_await take(s, b, next, p.take, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            auto r = co_await (s.async_next(use_tuple) || s.async_close(asio::use_awaitable));
            if (r.index() == 0) {
                auto& [nec, seg] = std::get<0>(r);
                if (!nec && seg) {
                    EXPECT_LT(next, all);
                    if (next < all) {
                        EXPECT_EQ(seg->segment().segment_id, b.segs[next].segment_id) << b.tablet;
                        EXPECT_TRUE(test::read_file(seg->path()) == b.bodies[next]) << b.tablet;
                    }
                    ++next;
                    ++t.delivered;
                }
                co_await s.async_close(asio::use_awaitable);
            }
            co_await expect_aborted(s, b, "after a racing close");
            break;
        }
        case plan::action::second_fetch: {
            auto ec = co_await take(s, b, next, p.take, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            auto s2 = fetcher.fetch(b.tablet, b.segs, offset(p.second));
            co_await expect_aborted(s, b, "of the first stream after a second fetch");
            std::size_t next2 = p.second;
            ec = co_await take(s2, b, next2, all, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s2.last_error().to_string(ec);
            if (!ec && !end) ec = co_await take(s2, b, next2, 1, p, timer_rng, t, end);
            EXPECT_TRUE(end) << b.tablet;
            EXPECT_EQ(next2, all) << b.tablet << ": segments lost in the second stream";
            break;  // s2 dropped without close
        }
        case plan::action::drop_stream: {
            auto ec = co_await take(s, b, next, p.take, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            break;  // s dropped without close, downloads running
        }
        case plan::action::close_fetcher: {
            auto ec = co_await take(s, b, next, p.take, p, timer_rng, t, end);
            EXPECT_FALSE(ec) << b.tablet << ": " << s.last_error().to_string(ec);
            co_await fetcher.async_close(asio::use_awaitable);
            fetcher_closed = true;
            co_await expect_aborted(s, b, "after the fetcher closed");
            break;
        }
        }
    }
    if (!fetcher_closed) co_await fetcher.async_close(asio::use_awaitable);
    EXPECT_FALSE(fs::exists(dir)) << b.tablet << ": temp dir left after close";
    co_return t;
}

unsigned test_seed() {
    if (const char* s = std::getenv("FLUSS_FETCH_TEST_SEED")) return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
    return 20261201u;
}

}  // namespace

// Item 12 of issue 11: the fetcher inside a consumer service. One io_context
// on four threads; eight buckets, each with its own fetcher and a consumer on
// its own strand; random faults at the server (retried within budget),
// random closes (of the stream, racing a waiting next, of the fetcher),
// second fetches, streams dropped without close, and `||` timeouts. Every
// delivered segment is checked (order, bytes); no segment of a drained stream
// is lost; no file or temp dir is left. Seed: FLUSS_FETCH_TEST_SEED (printed).
TEST(fetcher_service, eight_consumers_on_strands_with_faults_closes_and_refetches) {
    constexpr int rounds = 20;
    constexpr std::size_t n_buckets = 8, n_segments = 6;
    const unsigned seed = test_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with FLUSS_FETCH_TEST_SEED=" + std::to_string(seed) + ")");
    std::mt19937 rng(seed);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };

    test::fault_server server{4};
    test::temp_dir tmp{"fetcher-service"};
    std::vector<bucket> buckets(n_buckets);
    for (std::size_t bi = 0; bi < n_buckets; ++bi) {
        auto& b = buckets[bi];
        b.tablet = log::remote_log_tablet_dir({"db", "orders", 1001, {}, {}, static_cast<int>(bi)});
        for (std::size_t i = 0; i < n_segments; ++i) {
            const std::size_t size = 2048 + pick(10'000);
            const auto id = segment_id(static_cast<int>(100 * bi + i));
            b.segs.push_back(log::remote_log_segment::physical(id, std::int64_t(10 * i), std::int64_t(10 * i + 10), size));
            b.bodies.push_back(test::random_bytes(size, rng()));
            server.put_object("b", b.key(i), b.bodies.back());
        }
    }
    asio::io_context ioc;
    storage::s3_options so;
    so.endpoint = server.endpoint();
    so.bucket = "b";
    so.credentials = storage::s3_credentials{"AK", "SK", ""};
    so.stall_timeout = 100ms;
    storage::s3_store store(ioc.get_executor(), so);

    tally total;
    std::size_t faults = 0;
    std::map<plan::action, std::size_t> actions;
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        // Faults: about one key in four gets one, at most one stall a round.
        bool stalled = false;
        for (const auto& b : buckets)
            for (std::size_t i = 0; i < n_segments; ++i) {
                if (pick(4) != 0) continue;
                fault f;
                f.key = b.key(i);
                switch (pick(5)) {
                case 0: f = {fault::kind::status, f.key, 503, "SlowDown"}; break;
                case 1: f = {fault::kind::status, f.key, 500, "InternalError"}; break;
                case 2: f.what = fault::kind::reset_after, f.bytes = pick(4000); break;
                case 3: f.what = fault::kind::short_body, f.bytes = pick(4000); break;
                default:
                    if (stalled) continue;
                    stalled = true;
                    f.what = fault::kind::stall_after, f.bytes = pick(4000);
                }
                server.add_fault(f);
                ++faults;
            }
        std::vector<std::future<tally>> done;
        for (std::size_t bi = 0; bi < n_buckets; ++bi) {
            plan p;
            p.what = static_cast<plan::action>(pick(6));
            p.first = pick(3);
            p.take = pick(n_segments - p.first + 1);
            p.second = pick(n_segments);
            p.race = pick(2) == 0;
            p.prefetch = 1 + pick(4);
            p.threads = 1 + pick(3);
            p.part_size = pick(3) == 0 ? 8192 : 0;
            p.timer_seed = static_cast<unsigned>(rng());
            ++actions[p.what];
            auto consumer = consume(store, buckets[bi], p, tmp.path());
            done.push_back(asio::co_spawn(asio::make_strand(ioc), std::move(consumer), asio::use_future));
        }
        std::vector<std::thread> threads;
        for (int i = 0; i < 3; ++i) threads.emplace_back([&] { ioc.run(); });
        ioc.run();
        for (auto& th : threads) th.join();
        ioc.restart();
        for (auto& f : done) {
            auto t = f.get();
            total.delivered += t.delivered;
            total.timeouts += t.timeouts;
        }
        EXPECT_EQ(tmp.file_count(), 0u) << "files left after the round";
        if (::testing::Test::HasFailure()) break;
    }
    std::ostringstream mix;
    for (auto [a, n] : actions) mix << int(a) << ":" << n << " ";
    std::printf("fetcher_service: seed %u, %d rounds, %zu segments delivered and verified, %zu timeouts, %zu faults "
                "queued, actions %s\n",
                seed, rounds, total.delivered, total.timeouts, faults, mix.str().c_str());
    EXPECT_GT(total.delivered, 0u);
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "a temp dir was left";
    // Failures on the io threads do not carry the SCOPED_TRACE: name the seed once more.
    if (::testing::Test::HasFailure()) ADD_FAILURE() << "failed with seed " << seed;
}
