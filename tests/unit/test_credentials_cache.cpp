// The refreshing credentials cache: one inner fetch for many callers, refresh
// ahead of expiry, old credentials serving through a failed refresh,
// invalidate once for N rejected requests, cancellation of a waiter, and
// completions on the handler's executor. The inner provider is a counting
// fake whose calls wait for the test to release them (no sleeps).
#include "credentials_fakes.hpp"

#include "core/logging.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace std::chrono_literals;
using test::creds_result;
using test::gated_provider;

namespace {

struct CredentialsCacheF : ::testing::Test {
    asio::io_context ioc;
    std::shared_ptr<gated_provider> inner = std::make_shared<gated_provider>(ioc.get_executor(), "fake source");
    caching_options opts;

    credentials_provider_ptr make() { return make_caching_credentials_provider(ioc.get_executor(), inner, opts); }

    void get(credentials_provider& p, diagnostics& d, creds_result& r) {
        p.async_get_credentials(d, test::record(r));
    }
    void poll() {
        ioc.restart();
        ioc.poll();
    }
};

/// Captures the library logger's output for one test.
struct log_capture {
    std::ostringstream out;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    log_capture() { detail::logger().sinks().push_back(sink); }
    ~log_capture() {
        auto& s = detail::logger().sinks();
        s.erase(std::remove(s.begin(), s.end(), sink), s.end());
    }
};

}  // namespace

TEST_F(CredentialsCacheF, FiftyConcurrentCallersShareOneFetch) {
    auto cache = make();
    constexpr int n = 50;
    std::vector<creds_result> results(n);
    std::vector<diagnostics> diags(n);
    // From four threads at once: the single flight holds under the mutex.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = t; i < n; i += 4) get(*cache, diags[i], results[i]);
        });
    for (auto& t : threads) t.join();
    poll();
    EXPECT_EQ(inner->calls(), 1);
    for (auto& r : results) EXPECT_FALSE(r.done) << "nobody completes before the one fetch does";

    inner->release({}, test::temp_creds("AK1", 1h));
    poll();
    for (auto& r : results) {
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.times, 1);
        EXPECT_FALSE(r.ec);
        EXPECT_EQ(r.creds.access_key_id, "AK1");
        EXPECT_EQ(r.creds.session_token, "TOKEN");
    }
    // And the next callers are served from the cache.
    creds_result later;
    diagnostics d;
    get(*cache, d, later);
    EXPECT_FALSE(later.done) << "never completes inside async_get_credentials, even from the cache";
    poll();
    EXPECT_TRUE(later.done);
    EXPECT_EQ(later.creds.access_key_id, "AK1");
    EXPECT_EQ(inner->calls(), 1);
}

TEST_F(CredentialsCacheF, LongTermKeysStayUntilInvalidated) {
    auto cache = make();
    creds_result a, b;
    diagnostics d;
    get(*cache, d, a);
    poll();
    aws_credentials keys;
    keys.access_key_id = "LONGTERM";
    keys.secret_access_key = "S";
    inner->release({}, keys);
    poll();
    ASSERT_TRUE(a.done);
    for (int i = 0; i < 5; ++i) {
        creds_result r;
        get(*cache, d, r);
        poll();
        EXPECT_EQ(r.creds.access_key_id, "LONGTERM");
    }
    EXPECT_EQ(inner->calls(), 1);
    EXPECT_EQ(cache->describe(), "fake source");
}

TEST_F(CredentialsCacheF, CredentialsInsideTheWindowAreFetchedAgain) {
    opts.refresh_before = 300s;
    opts.retry_after = 0ms;
    auto cache = make();
    creds_result a, b;
    diagnostics d;
    get(*cache, d, a);
    poll();
    inner->release({}, test::temp_creds("DUE", 4min));
    poll();
    ASSERT_TRUE(a.done);
    EXPECT_EQ(a.creds.access_key_id, "DUE") << "the first caller gets what came";

    get(*cache, d, b);
    poll();
    EXPECT_EQ(inner->calls(), 2) << "now >= expiration - refresh_before: a new fetch";
    EXPECT_FALSE(b.done) << "the caller waits for the refresh";
    inner->release({}, test::temp_creds("NEW", 1h));
    poll();
    ASSERT_TRUE(b.done);
    EXPECT_EQ(b.creds.access_key_id, "NEW");
}

TEST(CredentialsCache, FailedRefreshKeepsServingOldCredentialsAndWarnsWithoutSecrets) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor(), "fake source");
    caching_options opts;
    opts.refresh_before = 300s;
    opts.retry_after = 0ms;  // every get inside the window tries a refresh
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, opts);
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    log_capture log;
    creds_result a, b, c;
    diagnostics d;
    cache->async_get_credentials(d, test::record(a));
    poll();
    inner->release({}, test::temp_creds("OLD", 4min, "OLDTOKEN-SECRET"));
    poll();
    ASSERT_TRUE(a.done);

    cache->async_get_credentials(d, test::record(b));
    poll();
    ASSERT_EQ(inner->calls(), 2);
    inner->release(make_error_code(errc::credentials_failed), {}, "fake source: STS said no");
    poll();
    ASSERT_TRUE(b.done);
    EXPECT_FALSE(b.ec) << d.to_string(b.ec);
    EXPECT_EQ(b.creds.access_key_id, "OLD");
    EXPECT_EQ(b.creds.session_token, "OLDTOKEN-SECRET");

    std::string logged = log.out.str();
    EXPECT_NE(logged.find("refreshing credentials from fake source failed"), std::string::npos) << logged;
    EXPECT_NE(logged.find("STS said no"), std::string::npos) << logged;
    EXPECT_NE(logged.find("OLD"), std::string::npos) << "names the key id: " << logged;
    EXPECT_EQ(logged.find("OLDTOKEN-SECRET"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("SECRET-OLD"), std::string::npos) << logged;

    // Later callers inside the window try again (retry_after is 0 here) and
    // still get the old ones while the source keeps failing.
    cache->async_get_credentials(d, test::record(c));
    poll();
    EXPECT_EQ(inner->calls(), 3);
    inner->release(make_error_code(errc::credentials_failed), {}, "fake source: STS said no");
    poll();
    EXPECT_FALSE(c.ec);
    EXPECT_EQ(c.creds.access_key_id, "OLD");
}

TEST(CredentialsCache, RetryAfterHoldsBackTheNextRefreshAttempt) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor());
    caching_options opts;
    opts.refresh_before = 300s;
    opts.retry_after = 1h;
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, opts);
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    creds_result a, b, c;
    diagnostics d;
    cache->async_get_credentials(d, test::record(a));
    poll();
    inner->release({}, test::temp_creds("DUE", 4min));
    poll();
    ASSERT_TRUE(a.done);
    // They came due already: served for retry_after without asking again.
    cache->async_get_credentials(d, test::record(b));
    poll();
    EXPECT_TRUE(b.done);
    EXPECT_EQ(b.creds.access_key_id, "DUE");
    EXPECT_EQ(inner->calls(), 1);
}

TEST(CredentialsCache, ExpiredCredentialsAndAFailedRefreshFailTheCaller) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor(), "fake source");
    caching_options opts;
    opts.retry_after = 1h;
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, opts);
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    creds_result a, b;
    diagnostics d;
    cache->async_get_credentials(d, test::record(a));
    poll();
    inner->release({}, test::temp_creds("GONE", -1s));
    poll();
    ASSERT_TRUE(a.done);
    cache->async_get_credentials(d, test::record(b));
    poll();
    EXPECT_EQ(inner->calls(), 2) << "expired: retry_after does not keep them";
    inner->release(make_error_code(errc::credentials_failed), {}, "fake source: down");
    poll();
    ASSERT_TRUE(b.done);
    EXPECT_EQ(b.ec, make_error_code(errc::credentials_failed));
    EXPECT_EQ(d.message, "fake source: down");
    EXPECT_TRUE(b.creds.access_key_id.empty());
}

TEST(CredentialsCache, InvalidateOnceForManyRejectedRequests) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor());
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, {});
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    creds_result first;
    diagnostics d;
    cache->async_get_credentials(d, test::record(first));
    poll();
    inner->release({}, test::temp_creds("AK1", 1h, "T1"));
    poll();
    ASSERT_TRUE(first.done);
    aws_credentials rejected = first.creds;

    // Ten requests signed with AK1 all got ExpiredToken and say so.
    for (int i = 0; i < 10; ++i) cache->invalidate(rejected);
    std::vector<creds_result> again(10);
    std::vector<diagnostics> diags(10);
    for (int i = 0; i < 10; ++i) cache->async_get_credentials(diags[i], test::record(again[i]));
    poll();
    EXPECT_EQ(inner->calls(), 2) << "one refresh for all of them";
    inner->release({}, test::temp_creds("AK2", 1h, "T2"));
    poll();
    for (auto& r : again) EXPECT_EQ(r.creds.access_key_id, "AK2");

    // Late rejections of AK1 (requests that were still in flight) do not drop AK2.
    cache->invalidate(rejected);
    aws_credentials same_key_other_token = rejected;
    same_key_other_token.session_token = "T-other";
    cache->invalidate(same_key_other_token);
    creds_result after;
    cache->async_get_credentials(d, test::record(after));
    poll();
    EXPECT_TRUE(after.done);
    EXPECT_EQ(after.creds.access_key_id, "AK2");
    EXPECT_EQ(inner->calls(), 2);

    // Rejecting AK2 itself drops it.
    cache->invalidate(after.creds);
    creds_result third;
    cache->async_get_credentials(d, test::record(third));
    poll();
    EXPECT_EQ(inner->calls(), 3);
    inner->release({}, test::temp_creds("AK3", 1h));
    poll();
    EXPECT_EQ(third.creds.access_key_id, "AK3");
}

TEST(CredentialsCache, InvalidateWhileRefreshingKeepsTheNewOnes) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor());
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, {});
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    creds_result a, b, c;
    diagnostics d;
    cache->async_get_credentials(d, test::record(a));
    poll();
    inner->release({}, test::temp_creds("AK1", 1h));
    poll();
    cache->invalidate(a.creds);
    cache->async_get_credentials(d, test::record(b));
    poll();
    cache->invalidate(a.creds);  // another late one, during the refresh
    inner->release({}, test::temp_creds("AK2", 1h));
    poll();
    EXPECT_EQ(b.creds.access_key_id, "AK2");
    cache->async_get_credentials(d, test::record(c));
    poll();
    EXPECT_TRUE(c.done);
    EXPECT_EQ(c.creds.access_key_id, "AK2");
    EXPECT_EQ(inner->calls(), 2);
}

TEST(CredentialsCache, CancellingAWaiterCompletesOnlyItWithOperationAborted) {
    asio::io_context ioc;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor(), "fake source");
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, {});
    auto poll = [&] {
        ioc.restart();
        ioc.poll();
    };
    creds_result cancelled, other;
    diagnostics d1, d2;
    asio::cancellation_signal sig;
    cache->async_get_credentials(d1, asio::bind_cancellation_slot(sig.slot(), test::record(cancelled)));
    cache->async_get_credentials(d2, test::record(other));
    poll();
    EXPECT_EQ(inner->calls(), 1);
    EXPECT_FALSE(cancelled.done);

    sig.emit(asio::cancellation_type::terminal);
    EXPECT_FALSE(cancelled.done) << "not inline inside emit";
    poll();
    ASSERT_TRUE(cancelled.done);
    EXPECT_EQ(cancelled.ec, asio::error::operation_aborted);
    EXPECT_NE(d1.message.find("fake source"), std::string::npos) << d1.message;
    EXPECT_FALSE(other.done) << "the other caller still waits for the fetch";

    inner->release({}, test::temp_creds("AK", 1h));
    poll();
    EXPECT_TRUE(other.done);
    EXPECT_EQ(other.creds.access_key_id, "AK");
    EXPECT_EQ(cancelled.times, 1) << "completed exactly once";

    // A signal emitted after completion does nothing (the slot was cleared).
    sig.emit(asio::cancellation_type::terminal);
    poll();
    EXPECT_EQ(cancelled.times, 1);
}

TEST(CredentialsCache, CompletesOnTheHandlersAssociatedExecutor) {
    asio::io_context ioc, other_ctx;
    auto inner = std::make_shared<gated_provider>(ioc.get_executor());
    auto cache = make_caching_credentials_provider(ioc.get_executor(), inner, {});
    creds_result r;
    bool on_other = false;
    diagnostics d;
    cache->async_get_credentials(d, asio::bind_executor(other_ctx, [&](boost::system::error_code ec, aws_credentials c) {
                                     on_other = other_ctx.get_executor().running_in_this_thread();
                                     test::record(r)(ec, std::move(c));
                                 }));
    ioc.poll();
    inner->release({}, test::temp_creds("AK", 1h));
    ioc.restart();
    ioc.poll();
    EXPECT_FALSE(r.done) << "the handler waits for its own executor";
    other_ctx.poll();
    ASSERT_TRUE(r.done);
    EXPECT_TRUE(on_other);
    EXPECT_EQ(r.creds.access_key_id, "AK");
}
