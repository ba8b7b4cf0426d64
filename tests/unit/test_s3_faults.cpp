// s3_store + async_download against the in-process fault server: each fault
// ends in either the exact bytes or a clear error, never a file at the final
// name that is short or wrong.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
using test::fault;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

class faults : public ::testing::Test {
protected:
    void SetUp() override { server.put_object("b", key, body); }

    s3_options options() {
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.credentials = s3_credentials{"AK", "SK", ""};
        o.stall_timeout = std::chrono::milliseconds(300);
        return o;
    }

    fetch::download_options fast_retries(std::uint64_t part_size = 0) {
        fetch::download_options o;
        o.part_size = part_size;
        o.retry.initial_backoff = std::chrono::milliseconds(1);
        o.retry.max_backoff = std::chrono::milliseconds(5);
        return o;
    }

    struct outcome {
        error_code ec;
        diagnostics diag;
    };

    outcome download(fetch::download_options o, std::size_t workers = 3, unsigned threads = 1) {
        s3_store store(ioc.get_executor(), options());
        fetch::download_pool pool(ioc.get_executor(), workers);
        auto r = test::run_on(
            ioc,
            [&]() -> asio::awaitable<outcome> {
                outcome out;
                auto [ec, res] = co_await fetch::async_download(store, pool, key, target(), o, counters, out.diag,
                                                                use_tuple);
                out.ec = ec;
                co_await pool.async_close(asio::use_awaitable);
                co_return out;
            },
            threads);
        return r;
    }

    std::filesystem::path target() const { return dir.path() / "out" / "seg.log"; }

    void expect_exact_bytes() {
        ASSERT_TRUE(std::filesystem::exists(target()));
        EXPECT_EQ(test::read_file(target()), body);
        EXPECT_EQ(dir.file_count(), 1u) << "a temp file was left behind";
    }

    void expect_nothing_left() {
        EXPECT_FALSE(std::filesystem::exists(target()));
        EXPECT_EQ(dir.file_count(), 0u) << "a temp file was left behind";
    }

    const std::string key = "log/db/t-1/0/6e94fbd1-c056-446e-859c-77345dddcd96/00000000000000000010.log";
    const std::string body = test::random_bytes(3'000'001, 42);
    test::fault_server server;
    test::temp_dir dir{"faults"};
    asio::io_context ioc;
    fetch::transfer_counters counters;
};

}  // namespace

TEST_F(faults, slow_down_then_success_is_retried_to_the_exact_bytes) {
    server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests_for(key), 2u);
    EXPECT_EQ(counters.retries.load(), 1u);
}

TEST_F(faults, internal_error_twice_then_success) {
    server.add_fault({fault::kind::status, key, 500, "InternalError"});
    server.add_fault({fault::kind::status, key, 500, "InternalError"});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests_for(key), 3u);
}

TEST_F(faults, reset_mid_body_is_retried) {
    server.add_fault({.what = fault::kind::reset_after, .key = key, .bytes = 100'000});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests_for(key), 2u);
}

TEST_F(faults, stall_past_the_stall_timeout_is_retried) {
    server.add_fault({.what = fault::kind::stall_after, .key = key, .bytes = 50'000});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests_for(key), 2u);
    // The stalled connection was closed by the client, not left open.
    EXPECT_TRUE(server.wait_for([&] { return server.client_aborts() == 1; }, std::chrono::seconds(10)));
}

TEST_F(faults, body_shorter_than_content_length_is_never_data) {
    server.add_fault({.what = fault::kind::short_body, .key = key, .bytes = 1000});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests_for(key), 2u);
}

TEST_F(faults, short_body_on_every_attempt_fails_cleanly) {
    for (int i = 0; i < 6; ++i) server.add_fault({.what = fault::kind::short_body, .key = key, .bytes = 1000});
    auto r = download(fast_retries());
    EXPECT_EQ(r.ec, make_error_code(errc::truncated_body));
    expect_nothing_left();
    EXPECT_EQ(server.requests_for(key), 6u);  // 1 + 5 retries, no more
}

TEST_F(faults, wrong_content_range_fails_the_attempt) {
    server.add_fault({.what = fault::kind::wrong_content_range, .key = key});
    auto r = download(fast_retries(1 << 20));  // 3 ranged parts
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(counters.retries.load(), 1u);
    // The first part (retried after the bad Content-Range) finds size and ETag;
    // the two later parts carry If-Match with that ETag.
    std::size_t guarded = 0;
    for (const auto& rr : server.recorded())
        if (rr.method == "GET" && rr.headers.count("if-match") && rr.headers.at("if-match") == "\"e3000001\"")
            ++guarded;
    EXPECT_EQ(guarded, 2u);
}

TEST_F(faults, exhausted_retries_name_key_code_and_status_and_leave_nothing) {
    for (int i = 0; i < 6; ++i) server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    auto r = download(fast_retries());
    EXPECT_EQ(r.ec, make_error_code(errc::slow_down));
    auto line = r.diag.to_string(r.ec);
    EXPECT_NE(line.find(key), std::string::npos) << line;
    EXPECT_NE(line.find("HTTP 503 SlowDown"), std::string::npos) << line;
    EXPECT_EQ(server.requests_for(key), 6u);
    EXPECT_EQ(counters.retries.load(), 5u);
    expect_nothing_left();
}

TEST_F(faults, forbidden_is_not_retried) {
    server.add_fault({fault::kind::status, key, 403, "AccessDenied"});
    auto r = download(fast_retries());
    EXPECT_EQ(r.ec, make_error_code(errc::access_denied));
    EXPECT_EQ(r.diag.http_status, 403u);
    EXPECT_EQ(server.requests_for(key), 1u);
    expect_nothing_left();
}

// Expired temporary credentials and a skewed clock cannot get better by
// retrying with the same credentials: the S3 code named, not retried. An
// ExpiredToken earns the one redo with fresh credentials from the provider
// (here the same static ones, refused again: 2 requests); a skewed clock
// none (1 request).
TEST_F(faults, expired_credentials_and_skewed_clock_are_not_retried) {
    struct expectation {
        unsigned status;
        const char* code;
        errc want;
        std::size_t requests;
    };
    for (const auto& e : {expectation{400, "ExpiredToken", errc::expired_token, 2},
                          expectation{403, "ExpiredToken", errc::expired_token, 2},
                          expectation{403, "RequestTimeTooSkewed", errc::request_time_skewed, 1}}) {
        const std::size_t before = server.requests_for(key);
        for (std::size_t i = 0; i < e.requests; ++i) server.add_fault({fault::kind::status, key, e.status, e.code});
        auto r = download(fast_retries());
        EXPECT_EQ(r.ec, make_error_code(e.want)) << e.code;
        EXPECT_FALSE(is_retryable(r.ec)) << e.code;
        EXPECT_EQ(r.diag.http_status, e.status);
        EXPECT_EQ(r.diag.s3_code, e.code);
        EXPECT_NE(r.diag.to_string(r.ec).find(e.code), std::string::npos) << r.diag.to_string(r.ec);
        EXPECT_EQ(server.requests_for(key) - before, e.requests) << e.code;
        EXPECT_EQ(server.faults_left(), 0u) << e.code;
        expect_nothing_left();
    }
}

TEST_F(faults, concurrent_requests_never_exceed_the_pool_and_reach_it) {
    // 6 parts, each answered after a delay, through 3 workers on 2 threads.
    for (int i = 0; i < 6; ++i)
        server.add_fault({.what = fault::kind::delay_first_byte, .key = key, .delay = std::chrono::milliseconds(150)});
    auto r = download(fast_retries(512 * 1024), 3, 2);
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.max_in_flight(), 3u);
}

TEST_F(faults, keep_alive_connections_are_reused) {
    auto r = download(fast_retries(1 << 20), 1);  // 3 ranged parts, one at a time
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    expect_exact_bytes();
    EXPECT_EQ(server.requests(), 3u);
    EXPECT_EQ(server.connections(), 1u);
}

TEST_F(faults, cancelling_a_stalled_download_completes_promptly_and_leaves_nothing) {
    server.add_fault({.what = fault::kind::stall_after, .key = key, .bytes = 10'000});
    s3_options o = options();
    o.stall_timeout = std::chrono::seconds(60);  // only the cancellation can end this
    s3_store store(ioc.get_executor(), o);
    fetch::download_pool pool(ioc.get_executor(), 3);
    asio::cancellation_signal cancel;
    std::thread canceller([&] {
        // Once the server holds the stalled request, cancel from the io thread.
        if (server.wait_for([&] { return server.in_flight() == 1; }, std::chrono::seconds(10)))
            asio::post(ioc, [&] { cancel.emit(asio::cancellation_type::terminal); });
    });
    diagnostics diag;
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        auto [ec, res] = co_await fetch::async_download(store, pool, key, target(), fast_retries(), counters, diag,
                                                        asio::bind_cancellation_slot(cancel.slot(), use_tuple));
        co_await pool.async_close(asio::use_awaitable);
        co_return ec;
    });
    canceller.join();
    EXPECT_EQ(ec, asio::error::operation_aborted);
    expect_nothing_left();
    EXPECT_TRUE(server.wait_for([&] { return server.client_aborts() == 1; }, std::chrono::seconds(10)));
    EXPECT_EQ(server.requests_for(key), 1u);  // a cancelled download is not retried
}

TEST_F(faults, missing_object_is_no_such_key) {
    s3_store store(ioc.get_executor(), options());
    auto [ec, diag] = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, diagnostics>> {
        std::string sink_body;
        string_sink sink(sink_body);
        diagnostics d;
        // A named value, not `{}`: GCC 12 copies a braced temporary inside a
        // co_await expression bitwise (its string then points at freed memory).
        get_options whole;
        auto [ec, r] = co_await store.async_get("nope", whole, sink, d, use_tuple);
        co_return std::pair{ec, d};
    });
    EXPECT_EQ(ec, make_error_code(errc::no_such_key));
    EXPECT_EQ(diag.s3_code, "NoSuchKey");
    EXPECT_EQ(diag.request_id, "fault-server");
}

TEST_F(faults, every_attempt_is_signed_afresh_with_the_request_line_that_was_signed) {
    server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    auto r = download(fast_retries());
    ASSERT_FALSE(r.ec);
    auto recs = server.recorded();
    ASSERT_EQ(recs.size(), 2u);
    for (const auto& rr : recs) {
        ASSERT_TRUE(rr.headers.count("authorization"));
        EXPECT_TRUE(rr.headers.at("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AK/"));
        EXPECT_TRUE(rr.headers.count("x-amz-date"));
        EXPECT_EQ(rr.target, "/b/" + key);
    }
}

TEST_F(faults, cancelling_a_download_in_backoff_completes_promptly) {
    server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    s3_store store(ioc.get_executor(), options());
    fetch::download_pool pool(ioc.get_executor(), 1);
    auto o = fast_retries();
    o.retry.initial_backoff = std::chrono::seconds(60);  // only the cancellation can end this
    o.retry.max_backoff = std::chrono::seconds(60);
    asio::cancellation_signal cancel;
    std::thread canceller([&] {
        if (server.wait_for([&] { return server.completed() == 1; }, std::chrono::seconds(10)))
            asio::post(ioc, [&] { cancel.emit(asio::cancellation_type::terminal); });
    });
    diagnostics diag;
    const auto t0 = std::chrono::steady_clock::now();
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        auto [ec, res] = co_await fetch::async_download(store, pool, key, target(), o, counters, diag,
                                                        asio::bind_cancellation_slot(cancel.slot(), use_tuple));
        co_await pool.async_close(asio::use_awaitable);
        co_return ec;
    });
    canceller.join();
    EXPECT_EQ(ec, asio::error::operation_aborted);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30)) << "the backoff was waited out";
    expect_nothing_left();
    EXPECT_EQ(server.requests_for(key), 1u);
}
