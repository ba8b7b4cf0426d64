// remote_log_fetcher against the in-process fault server: the invariants of
// design.md, each observed from outside (server counts, files on disk, the
// bytes and order the consumer gets), never by poking private state.
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>

using namespace fluss_fetch;
using namespace fluss_fetch::fetch;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using test::fault;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string segment_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
}

// Regular files in the fetcher's temp dir, its lock file aside.
std::size_t files_in(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && it->path().filename() != ".lock") ++n;
    return n;
}

class fetcher_test : public ::testing::Test {
protected:
    // `n` segments of `size` bytes, segment i covering offsets [10 i, 10 i + 10).
    void make_segments(int n, std::size_t size) {
        for (int i = 0; i < n; ++i) {
            auto seg = log::remote_log_segment::physical(segment_id(i), 10 * i, 10 * i + 10, size);
            std::string body = test::random_bytes(size, static_cast<unsigned>(i + 1));
            server.put_object("b", key(i), body);
            segs.push_back(seg);
            bodies.push_back(std::move(body));
        }
    }

    std::string key(int i) const { return log::remote_log_segment_key(tablet, segment_id(i), 10 * i); }

    storage::s3_options store_options(std::chrono::milliseconds stall = 30s) {
        storage::s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.credentials = storage::s3_credentials{"AK", "SK", ""};
        o.stall_timeout = stall;
        return o;
    }

    fetcher_options options(std::size_t prefetch = 4, std::size_t threads = 3) {
        fetcher_options o;
        o.prefetch_num = prefetch;
        o.download_threads = threads;
        o.temp_parent = tmp.path();
        o.retry.initial_backoff = 1ms;
        o.retry.max_backoff = 5ms;
        return o;
    }

    std::size_t distinct_keys_requested() const {
        std::set<std::string> keys;
        for (const auto& r : server.recorded())
            if (!r.key.empty()) keys.insert(r.key);
        return keys.size();
    }

    bool server_sees(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
        return server.wait_for(pred, timeout);
    }

    // The normal configuration: the test coroutine on a strand (test::run_on)
    // of an io_context run by several threads, as in a consumer service.
    static constexpr unsigned io_threads = 3;
    const std::string tablet = log::remote_log_tablet_dir({"db", "orders", 1001, {}, {}, 3});
    test::fault_server server{4};
    test::temp_dir tmp{"fetcher"};
    asio::io_context ioc;
    std::vector<log::remote_log_segment> segs;
    std::vector<std::string> bodies;
};

// Read every segment, checking order and bytes; returns the ids in the order received.
asio::awaitable<std::vector<std::string>> drain(segment_stream& s, const std::vector<std::string>& bodies,
                                                error_code& ec_out) {
    std::vector<std::string> ids;
    for (;;) {
        auto [ec, seg] = co_await s.async_next(use_tuple);
        if (ec) {
            ec_out = ec;
            break;
        }
        if (!seg) break;
        const auto idx = static_cast<std::size_t>(seg->segment().start_offset / 10);
        EXPECT_EQ(test::read_file(seg->path()), bodies.at(idx)) << seg->segment().segment_id;
        EXPECT_EQ(seg->size(), bodies.at(idx).size());
        ids.push_back(seg->segment().segment_id);
    }
    co_return ids;
}

std::vector<std::string> ids_of(const std::vector<log::remote_log_segment>& segs) {
    std::vector<std::string> out;
    for (const auto& s : segs) out.push_back(s.segment_id);
    return out;
}

}  // namespace

// Invariants 1 and 7, on one thread and on four.
TEST_F(fetcher_test, delivers_every_segment_in_order_with_exact_bytes_and_cleans_up) {
    make_segments(9, 300'000);
    for (unsigned threads : {1u, 4u}) {
        storage::s3_store store(ioc.get_executor(), store_options());
        auto o = options();
        o.part_size = 128 * 1024;  // three ranged parts per segment
        remote_log_fetcher fetcher(ioc.get_executor(), store, o);
        const auto dir = fetcher.temp_dir();
        ASSERT_TRUE(fs::is_directory(dir));
        EXPECT_TRUE(dir.filename().string().starts_with("remote-log-recovery-"));
        EXPECT_EQ(dir.parent_path(), tmp.path());
        auto [ids, stats] = test::run_on(
            ioc,
            [&]() -> asio::awaitable<std::pair<std::vector<std::string>, stream_stats>> {
                auto s = fetcher.fetch(tablet, segs, 0);
                error_code ec;
                auto ids = co_await drain(s, bodies, ec);
                EXPECT_FALSE(ec) << s.last_error().to_string(ec);
                EXPECT_EQ(files_in(dir), 0u) << "consumed segment files must be deleted";
                auto st = s.stats();
                co_await fetcher.async_close(asio::use_awaitable);
                co_return std::pair{ids, st};
            },
            threads);
        EXPECT_EQ(ids, ids_of(segs));
        EXPECT_FALSE(fs::exists(dir)) << "close removes the temp dir";
        EXPECT_EQ(stats.segments_delivered, 9u);
        EXPECT_EQ(stats.segments_total, 9u);
        EXPECT_EQ(stats.bytes, 9u * 300'000u);
        EXPECT_EQ(stats.requests, 27u);
        EXPECT_EQ(stats.retries, 0u);
        EXPECT_EQ(stats.fallbacks, 0u);
        EXPECT_GT(stats.download_time.count(), 0);
    }
}

// Invariant 1 under out-of-order completion: the first segment is held at the
// server until three later ones have been answered in full.
TEST_F(fetcher_test, order_holds_when_later_segments_finish_first) {
    make_segments(6, 50'000);
    server.add_fault({.what = fault::kind::hold, .key = key(0)});
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options(4, 3));
    auto ids = test::run_on(
        ioc,
        [&]() -> asio::awaitable<std::vector<std::string>> {
            auto s = fetcher.fetch(tablet, segs, 0);
            const bool later_done = co_await test::off_thread([&] {
                return server_sees([&] {
                    return server.held() == 1 && server.completed_for(key(1)) == 1 &&
                           server.completed_for(key(2)) == 1 && server.completed_for(key(3)) == 1;
                });
            });
            EXPECT_TRUE(later_done) << "segments 1-3 should finish while segment 0 is held";
            EXPECT_EQ(server.completed_for(key(0)), 0u);
            server.release_held();
            error_code ec;
            auto ids = co_await drain(s, bodies, ec);
            EXPECT_FALSE(ec) << s.last_error().to_string(ec);
            co_await fetcher.async_close(asio::use_awaitable);
            co_return ids;
        },
        2);
    EXPECT_EQ(ids, ids_of(segs));
}

// Invariant 2: a slow consumer. While it holds segment i (and has dropped
// the ones before), the fetcher admits exactly up to i + 1 + prefetch_num
// segments and keeps at most prefetch_num + 1 files.
TEST_F(fetcher_test, window_bounds_admitted_segments_and_files_for_a_slow_consumer) {
    constexpr std::size_t prefetch = 3;
    make_segments(10, 40'000);
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options(prefetch, 2));
    const auto dir = fetcher.temp_dir();
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto s = fetcher.fetch(tablet, segs, 0);
            for (std::size_t i = 0; i < segs.size(); ++i) {
                auto [ec, seg] = co_await s.async_next(use_tuple);
                EXPECT_FALSE(ec) << s.last_error().to_string(ec);
                if (ec || !seg) co_return;
                const std::size_t allowed = std::min(segs.size(), i + 1 + prefetch);
                // Let the fetcher fill the window while we "read".
                const bool filled = co_await test::off_thread([&] {
                    return server_sees([&] {
                        std::size_t done = 0;
                        for (std::size_t k = 0; k < allowed; ++k) done += server.completed_for(key(int(k))) > 0;
                        return done == allowed;
                    });
                });
                EXPECT_TRUE(filled) << "window should fill up to " << allowed << " segments";
                EXPECT_EQ(distinct_keys_requested(), allowed) << "while holding segment " << i;
                EXPECT_LE(s.stats().segments_admitted - s.stats().segments_delivered, prefetch);
                EXPECT_LE(files_in(dir), prefetch + 1) << "while holding segment " << i;
                EXPECT_EQ(test::read_file(seg->path()), bodies[i]);
            }
            auto [ec, end] = co_await s.async_next(use_tuple);
            EXPECT_FALSE(ec);
            EXPECT_FALSE(end.has_value()) << "end of stream after the last segment";
            co_await fetcher.async_close(asio::use_awaitable);
        },
        2);
    EXPECT_FALSE(fs::exists(dir));
}

// Invariant 3: requests in flight at the server reach download_threads when
// work is plentiful and never exceed it (segments in ranged parts, 4 io threads).
TEST_F(fetcher_test, requests_in_flight_reach_and_never_exceed_download_threads) {
    make_segments(12, 200'000);
    for (int i = 0; i < 3; ++i) server.add_fault({.what = fault::kind::hold});
    storage::s3_store store(ioc.get_executor(), store_options());
    auto o = options(4, 3);
    o.part_size = 64 * 1024;
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto s = fetcher.fetch(tablet, segs, 0);
            const bool three = co_await test::off_thread([&] { return server_sees([&] { return server.held() == 3; }); });
            EXPECT_TRUE(three) << "three requests should be in flight at once; held " << server.held() << ", in flight "
                               << server.in_flight() << ", requests " << server.requests() << ", connections "
                               << server.connections() << ", stats: admitted " << s.stats().segments_admitted
                               << ", requests " << s.stats().requests;
            EXPECT_EQ(server.in_flight(), 3u) << "a fourth request went out while three were in flight";
            server.release_held();
            error_code ec;
            auto ids = co_await drain(s, bodies, ec);
            EXPECT_FALSE(ec) << s.last_error().to_string(ec);
            EXPECT_EQ(ids, ids_of(segs));
            co_await fetcher.async_close(asio::use_awaitable);
        },
        4);
    EXPECT_EQ(server.max_in_flight(), 3u);
    EXPECT_EQ(server.requests(), 12u * 4u);
}

// prefetch_num 1 is the old one-at-a-time fetcher: one request at a time
// (download_threads clamps to 1), the next segment admitted only when the
// consumer has taken the previous one.
TEST_F(fetcher_test, prefetch_one_fetches_one_segment_at_a_time) {
    make_segments(5, 100'000);
    storage::s3_store store(ioc.get_executor(), store_options());
    auto o = options(1, 3);
    o.part_size = 32 * 1024;
    EXPECT_EQ(o.effective_download_threads(), 1u);
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto s = fetcher.fetch(tablet, segs, 0);
            for (std::size_t i = 0; i < segs.size(); ++i) {
                auto [ec, seg] = co_await s.async_next(use_tuple);
                EXPECT_FALSE(ec) << s.last_error().to_string(ec);
                if (ec || !seg) co_return;
                EXPECT_EQ(seg->segment().segment_id, segs[i].segment_id);
                const std::size_t allowed = std::min(segs.size(), i + 2);
                const bool next_done = co_await test::off_thread([&] {
                    return server_sees([&] { return server.completed_for(key(int(allowed - 1))) == 4; });
                });
                EXPECT_TRUE(next_done);
                EXPECT_EQ(distinct_keys_requested(), allowed);
                EXPECT_LE(files_in(fetcher.temp_dir()), 2u);
            }
            co_await fetcher.async_close(asio::use_awaitable);
        },
        2);
    EXPECT_EQ(server.max_in_flight(), 1u);
}

// Invariant 4: transient failures of several kinds recover to the exact bytes.
TEST_F(fetcher_test, transient_failures_are_retried_to_the_exact_bytes) {
    make_segments(4, 200'000);
    server.add_fault({fault::kind::status, key(1), 503, "SlowDown"});
    server.add_fault({.what = fault::kind::reset_after, .key = key(1), .bytes = 50'000});
    server.add_fault({.what = fault::kind::stall_after, .key = key(2), .bytes = 70'000});
    server.add_fault({fault::kind::status, key(3), 500, "InternalError"});
    server.add_fault({.what = fault::kind::short_body, .key = key(3), .bytes = 10});
    storage::s3_store store(ioc.get_executor(), store_options(400ms));
    remote_log_fetcher fetcher(ioc.get_executor(), store, options());
    auto [ids, st] = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<std::vector<std::string>, stream_stats>> {
        auto s = fetcher.fetch(tablet, segs, 0);
        error_code ec;
        auto ids = co_await drain(s, bodies, ec);
        EXPECT_FALSE(ec) << s.last_error().to_string(ec);
        auto st = s.stats();
        co_await fetcher.async_close(asio::use_awaitable);
        co_return std::pair{ids, st};
    }, io_threads);
    EXPECT_EQ(ids, ids_of(segs));
    EXPECT_EQ(server.requests_for(key(0)), 1u);
    EXPECT_EQ(server.requests_for(key(1)), 3u);
    EXPECT_EQ(server.requests_for(key(2)), 2u);
    EXPECT_EQ(server.requests_for(key(3)), 3u);
    EXPECT_EQ(st.retries, 5u);
    EXPECT_EQ(st.requests, 9u);
    EXPECT_EQ(st.fallbacks, 0u);
}

// Invariant 4: the waits between attempts follow the policy. The server
// stamps each request; attempt k+1 arrives no earlier than
// initial × 2^k × (1 − jitter) after attempt k (a timer never fires early),
// and within a generous bound above initial × 2^k × (1 + jitter).
TEST_F(fetcher_test, backoff_between_attempts_follows_the_policy) {
    make_segments(1, 10'000);
    for (int i = 0; i < 4; ++i) server.add_fault({fault::kind::status, key(0), 503, "SlowDown"});
    storage::s3_store store(ioc.get_executor(), store_options());
    auto o = options(1, 1);
    o.retry.initial_backoff = 40ms;
    o.retry.multiplier = 2.0;
    o.retry.max_backoff = 5s;
    o.retry.jitter = 0.25;
    o.retry.max_retries = 4;
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        error_code ec;
        auto ids = co_await drain(s, bodies, ec);
        EXPECT_FALSE(ec) << s.last_error().to_string(ec);
        EXPECT_EQ(ids.size(), 1u);
        EXPECT_EQ(s.stats().retries, 4u);
        co_await fetcher.async_close(asio::use_awaitable);
    }, io_threads);
    auto log = server.recorded();
    ASSERT_EQ(log.size(), 5u);
    for (std::size_t k = 0; k + 1 < log.size(); ++k) {
        const auto gap = std::chrono::duration_cast<std::chrono::microseconds>(log[k + 1].at - log[k].at);
        const double base_us = 40'000.0 * double(1u << k);
        EXPECT_GE(double(gap.count()), base_us * 0.75 - 1'000) << "retry " << k << " came too early";
        EXPECT_LE(double(gap.count()), base_us * 1.25 + 2'000'000) << "retry " << k << " came far too late";
    }
}

// Invariant 4: an error that retrying cannot fix fails at once: one request
// for the prefetch, one for the consumer's fallback round, no retries.
TEST_F(fetcher_test, non_retryable_errors_fail_without_retries_naming_segment_key_code_and_status) {
    make_segments(3, 10'000);
    server.add_fault({fault::kind::status, key(1), 403, "AccessDenied"});
    server.add_fault({fault::kind::status, key(1), 403, "AccessDenied"});
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options());
    const auto dir = fetcher.temp_dir();
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        error_code ec;
        auto ids = co_await drain(s, bodies, ec);
        EXPECT_EQ(ids.size(), 1u);
        EXPECT_EQ(ec, make_error_code(errc::access_denied));
        auto d = s.last_error();
        EXPECT_EQ(d.http_status, 403u);
        EXPECT_EQ(d.s3_code, "AccessDenied");
        EXPECT_EQ(d.key, key(1));
        EXPECT_NE(d.message.find(segment_id(1)), std::string::npos) << d.message;
        EXPECT_NE(d.to_string(ec).find(segment_id(1)), std::string::npos);
        EXPECT_EQ(s.stats().retries, 0u);
        EXPECT_EQ(s.stats().fallbacks, 1u);
        EXPECT_EQ(files_in(dir), 0u);
        co_await fetcher.async_close(asio::use_awaitable);
    }, io_threads);
    EXPECT_EQ(server.requests_for(key(1)), 2u);
}

// Invariant 8 at the manifest level: an object of another size than the
// manifest says is never data, and retrying does not help.
TEST_F(fetcher_test, object_of_the_wrong_size_is_rejected) {
    make_segments(2, 10'000);
    segs[0].size_in_bytes = 10'001;
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options());
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        error_code ec;
        auto ids = co_await drain(s, bodies, ec);
        EXPECT_TRUE(ids.empty());
        EXPECT_EQ(ec, make_error_code(errc::size_mismatch));
        EXPECT_NE(s.last_error().message.find("expected 10001"), std::string::npos) << s.last_error().message;
        co_await fetcher.async_close(asio::use_awaitable);
    }, io_threads);
    EXPECT_EQ(server.requests_for(key(0)), 2u);
}

// Invariants 4 and 5: the head segment exhausts its retries and its fallback
// round; the stream fails naming it, the two stalled downloads of later
// segments are cancelled (the server sees their connections closed), and no
// file is left. Later calls repeat the error.
TEST_F(fetcher_test, exhausted_retries_fail_the_stream_cancel_the_rest_and_leave_no_file) {
    make_segments(5, 100'000);
    for (int i = 0; i < 6; ++i) server.add_fault({fault::kind::status, key(0), 503, "SlowDown"});
    server.add_fault({.what = fault::kind::stall_after, .key = key(1), .bytes = 1000});
    server.add_fault({.what = fault::kind::stall_after, .key = key(2), .bytes = 1000});
    storage::s3_store store(ioc.get_executor(), store_options());
    auto o = options(4, 3);
    o.retry.max_retries = 2;
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    const auto dir = fetcher.temp_dir();
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto s = fetcher.fetch(tablet, segs, 0);
            auto [ec, seg] = co_await s.async_next(use_tuple);
            EXPECT_EQ(ec, make_error_code(errc::slow_down));
            EXPECT_FALSE(seg.has_value());
            auto d = s.last_error();
            EXPECT_EQ(d.key, key(0));
            EXPECT_EQ(d.http_status, 503u);
            EXPECT_EQ(d.s3_code, "SlowDown");
            EXPECT_NE(d.message.find(segment_id(0)), std::string::npos) << d.message;
            EXPECT_EQ(files_in(dir), 0u) << "every downloaded file is deleted before the error is reported";
            EXPECT_EQ(s.stats().fallbacks, 1u);
            auto [ec2, seg2] = co_await s.async_next(use_tuple);
            EXPECT_EQ(ec2, ec) << "a failed stream keeps reporting its error";
            co_await fetcher.async_close(asio::use_awaitable);
        },
        2);
    EXPECT_EQ(server.requests_for(key(0)), 6u) << "3 attempts prefetching, 3 on the consumer's path";
    EXPECT_TRUE(server_sees([&] { return server.client_aborts() >= 2; }))
        << "the stalled downloads of segments 1 and 2 were not cancelled";
    EXPECT_FALSE(fs::exists(dir));
}

// Invariant 6: close while every worker sits in a stalled download, with a
// consumer waiting. The consumer gets operation_aborted, the server sees all
// three connections closed, the dir is gone, and once the io_context has run
// out of work nothing of the fetcher can write any more.
TEST_F(fetcher_test, close_cancels_stalled_downloads_promptly) {
    make_segments(6, 100'000);
    for (int i = 0; i < 3; ++i) server.add_fault({.what = fault::kind::stall_after, .key = key(i), .bytes = 5000});
    storage::s3_store store(ioc.get_executor(), store_options(60s));
    remote_log_fetcher fetcher(ioc.get_executor(), store, options(4, 3));
    const auto dir = fetcher.temp_dir();
    const auto t0 = std::chrono::steady_clock::now();
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto s = fetcher.fetch(tablet, segs, 0);
            auto waiting = asio::co_spawn(co_await asio::this_coro::executor, s.async_next(use_tuple), asio::use_future);
            const bool stalled =
                co_await test::off_thread([&] { return server_sees([&] { return server.in_flight() == 3; }); });
            EXPECT_TRUE(stalled);
            co_await fetcher.async_close(asio::use_awaitable);
            EXPECT_FALSE(fs::exists(dir)) << "close completes only after the dir is gone";
            const bool answered = co_await test::off_thread([&] { return waiting.wait_for(20s) == std::future_status::ready; });
            EXPECT_TRUE(answered);
            if (answered) {
                auto [ec, seg] = waiting.get();
                EXPECT_EQ(ec, asio::error::operation_aborted);
                EXPECT_FALSE(seg.has_value());
            }
            auto [ec3, seg3] = co_await s.async_next(use_tuple);
            EXPECT_EQ(ec3, asio::error::operation_aborted) << "a closed stream hands out nothing";
        },
        2);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "close waited for the 60 s stall timeout";
    EXPECT_TRUE(server_sees([&] { return server.client_aborts() == 3; }));
    EXPECT_FALSE(fs::exists(dir)) << "something wrote after close";
}

// Invariant 6: close while the only worker waits out a 60 s backoff.
TEST_F(fetcher_test, close_cancels_a_download_waiting_in_backoff) {
    make_segments(2, 10'000);
    // On an io_context run by several threads either download may reach the
    // only worker first: whichever does gets the 503 and holds the worker in
    // its backoff.
    server.add_fault({fault::kind::status, key(0), 503, "SlowDown"});
    server.add_fault({fault::kind::status, key(1), 503, "SlowDown"});
    storage::s3_store store(ioc.get_executor(), store_options());
    auto o = options(2, 1);
    o.retry.initial_backoff = 60s;
    o.retry.max_backoff = 60s;
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    const auto dir = fetcher.temp_dir();
    const auto t0 = std::chrono::steady_clock::now();
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        const bool answered =
            co_await test::off_thread([&] { return server_sees([&] { return server.completed() == 1; }); });
        EXPECT_TRUE(answered);
        co_await fetcher.async_close(asio::use_awaitable);
        EXPECT_FALSE(fs::exists(dir));
        auto [ec, seg] = co_await s.async_next(use_tuple);
        EXPECT_EQ(ec, asio::error::operation_aborted);
    }, io_threads);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "close waited out the backoff";
    const auto rec = server.recorded();
    std::string seen;
    for (const auto& r : rec) seen += " " + r.method + " " + r.key;
    ASSERT_FALSE(rec.empty());
    const std::string backing_off = rec.front().key;
    const std::string other = backing_off == key(0) ? key(1) : key(0);
    EXPECT_EQ(server.requests_for(backing_off), 1u) << "no attempt after close; requests:" << seen;
    // The other one waited in the pool's queue behind the backoff. Its
    // cancellation and the worker freed by the first one's race on several
    // threads, so its first attempt may start while close runs (and is
    // cancelled at once); never a second one.
    EXPECT_LE(server.requests_for(other), 1u) << "requests:" << seen;
}

// Invariant 6: a second fetch() ends the first stream: it reports
// operation_aborted, never a segment, and admits nothing more; the files it
// had downloaded (finished or finishing as it was cancelled) are deleted.
TEST_F(fetcher_test, second_fetch_ends_the_first_stream) {
    make_segments(8, 60'000);
    for (int i = 0; i < 3; ++i) server.add_fault({.what = fault::kind::hold});
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options(4, 3));
    const auto dir = fetcher.temp_dir();
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto first = fetcher.fetch(tablet, segs, 0);
            const bool held = co_await test::off_thread([&] { return server_sees([&] { return server.held() == 3; }); });
            EXPECT_TRUE(held);
            // The first stream has admitted segments 0-3 (three held, one queued).
            auto second = fetcher.fetch(tablet, segs, 20);
            auto [ec, seg] = co_await first.async_next(use_tuple);
            EXPECT_EQ(ec, asio::error::operation_aborted);
            EXPECT_FALSE(seg.has_value()) << "the ended stream handed out a segment";
            server.release_held();
            error_code ec2;
            auto ids = co_await drain(second, bodies, ec2);
            EXPECT_FALSE(ec2) << second.last_error().to_string(ec2);
            const auto all = ids_of(segs);
            EXPECT_EQ(ids, std::vector<std::string>(all.begin() + 2, all.end()));
            EXPECT_EQ(files_in(dir), 0u) << "a file of the first stream was left behind";
            auto [ec3, seg3] = co_await first.async_next(use_tuple);
            EXPECT_EQ(ec3, asio::error::operation_aborted);
            co_await fetcher.async_close(asio::use_awaitable);
        },
        3);
    // The first stream never asked for segments 4-7: only the second did.
    for (int i = 4; i < 8; ++i) EXPECT_EQ(server.requests_for(key(i)), 1u) << "segment " << i;
    EXPECT_EQ(server.requests_for(key(0)), 1u) << "segment 0 belongs to the first stream only";
    EXPECT_FALSE(fs::exists(dir));
}

// A finished download the first stream had not handed out yet is deleted
// when a second fetch ends that stream.
TEST_F(fetcher_test, downloaded_but_unconsumed_files_of_an_ended_stream_are_deleted) {
    make_segments(4, 30'000);
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options(4, 3));
    const auto dir = fetcher.temp_dir();
    test::run_on(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto first = fetcher.fetch(tablet, segs, 0);
            const bool all = co_await test::off_thread([&] { return server_sees([&] { return server.completed() == 4; }); });
            EXPECT_TRUE(all);
            auto second = fetcher.fetch(tablet, segs, 30);  // only the last segment
            error_code ec;
            auto ids = co_await drain(second, bodies, ec);
            EXPECT_FALSE(ec);
            EXPECT_EQ(ids, std::vector<std::string>{segment_id(3)});
            co_await first.async_close(asio::use_awaitable);
            EXPECT_EQ(files_in(dir), 0u) << "the first stream's downloaded segments must be deleted";
            co_await fetcher.async_close(asio::use_awaitable);
        },
        2);
    EXPECT_FALSE(fs::exists(dir));
}

// Cancelling one async_next through its token ends only that wait: the
// downloads go on and the next call delivers the segment.
TEST_F(fetcher_test, cancelled_next_leaves_the_stream_usable) {
    make_segments(3, 20'000);
    server.add_fault({.what = fault::kind::hold, .key = key(0)});
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options());
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        const bool held = co_await test::off_thread([&] { return server_sees([&] { return server.held() == 1; }); });
        EXPECT_TRUE(held);
        asio::cancellation_signal cancel;
        auto waiting = asio::co_spawn(co_await asio::this_coro::executor,
                                      s.async_next(asio::bind_cancellation_slot(cancel.slot(), use_tuple)),
                                      asio::use_future);
        // Let the spawned wait start, then cancel it.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        cancel.emit(asio::cancellation_type::terminal);
        const bool answered = co_await test::off_thread([&] { return waiting.wait_for(20s) == std::future_status::ready; });
        EXPECT_TRUE(answered);
        if (answered) EXPECT_EQ(std::get<0>(waiting.get()), asio::error::operation_aborted);
        server.release_held();
        error_code ec;
        auto ids = co_await drain(s, bodies, ec);
        EXPECT_FALSE(ec) << s.last_error().to_string(ec);
        EXPECT_EQ(ids, ids_of(segs));
        co_await fetcher.async_close(asio::use_awaitable);
    }, io_threads);
}

// Callbacks and futures work as well as use_awaitable.
TEST_F(fetcher_test, takes_futures_and_callbacks) {
    make_segments(2, 5'000);
    storage::s3_store store(ioc.get_executor(), store_options());
    remote_log_fetcher fetcher(ioc.get_executor(), store, options());
    auto s = fetcher.fetch(tablet, segs, 0);
    std::vector<std::string> got;
    std::function<void(error_code, std::optional<downloaded_segment>)> on_next;
    on_next = [&](error_code ec, std::optional<downloaded_segment> seg) {
        ASSERT_FALSE(ec);
        if (!seg) return;
        got.push_back(seg->segment().segment_id);
        if (got.size() == 1) s.async_next(on_next);
    };
    s.async_next(on_next);
    ioc.run();
    ioc.restart();
    EXPECT_EQ(got, ids_of(segs));
    auto work = asio::make_work_guard(ioc);  // before the thread: run() must not find the context idle
    std::thread runner([&] { ioc.run(); });
    auto fut = s.async_next(asio::use_future);
    auto seg = fut.get();
    EXPECT_FALSE(seg.has_value()) << "end of stream through a future";
    auto closed = fetcher.async_close(asio::use_future);
    closed.get();
    work.reset();
    runner.join();
}
