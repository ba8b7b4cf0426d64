// s3_store against a real, SigV4-verifying S3 server (@20minutes/s3rver).
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/run.hpp"
#include "support/s3rver.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

class s3rver_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new test::s3rver(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    s3_options options(std::string secret = test::s3rver::secret_key) {
        s3_options o;
        o.endpoint = server_->endpoint();
        o.bucket = "test-bucket";
        o.region = "us-east-1";
        o.credentials = s3_credentials{test::s3rver::access_key, std::move(secret), ""};
        o.list_page_size = 3;
        return o;
    }

    void put(s3_store& store, const std::string& key, const std::string& body) {
        auto ec = test::run_on(ioc_, [&]() -> asio::awaitable<error_code> {
            diagnostics d;
            auto [ec] = co_await store.async_put(key, body, d, use_tuple);
            EXPECT_FALSE(ec) << d.to_string(ec);
            co_return ec;
        });
        ASSERT_FALSE(ec);
    }

    std::tuple<error_code, std::string, get_result, diagnostics> get(s3_store& store, const std::string& key,
                                                                     get_options go = {}) {
        return test::run_on(ioc_, [&]() -> asio::awaitable<std::tuple<error_code, std::string, get_result, diagnostics>> {
            std::string body;
            string_sink sink(body);
            diagnostics d;
            auto [ec, r] = co_await store.async_get(key, go, sink, d, use_tuple);
            co_return std::tuple{ec, body, r, d};
        });
    }

    static test::s3rver* server_;
    asio::io_context ioc_;
};
test::s3rver* s3rver_test::server_ = nullptr;

}  // namespace

TEST_F(s3rver_test, put_get_head_and_ranges_with_awkward_keys) {
    s3_store store(ioc_.get_executor(), options());
    const std::string body = test::random_bytes(300'000, 7);
    for (std::string key : {"plain.log", "a b/c+d=e&f~g/caf\xc3\xa9.log", "100%/pct", "dash-_.ok"}) {
        SCOPED_TRACE(key);
        put(store, key, body);
        auto [ec, got, r, d] = get(store, key);
        ASSERT_FALSE(ec) << d.to_string(ec);
        EXPECT_EQ(got, body);
        EXPECT_EQ(r.bytes, body.size());
        EXPECT_EQ(r.meta.size, body.size());
        EXPECT_FALSE(r.meta.etag.empty());

        auto [rec, part, rr, rd] = get(store, key, {byte_range{1000, 5000}, ""});
        ASSERT_FALSE(rec) << rd.to_string(rec);
        EXPECT_EQ(part, body.substr(1000, 5000));
        EXPECT_EQ(rr.meta.size, body.size());  // the whole object's size, from Content-Range
    }
    auto meta = test::run_on(ioc_, [&]() -> asio::awaitable<object_meta> {
        diagnostics d;
        auto [ec, m] = co_await store.async_head("plain.log", d, use_tuple);
        EXPECT_FALSE(ec) << d.to_string(ec);
        co_return m;
    });
    EXPECT_EQ(meta.size, body.size());
}

TEST_F(s3rver_test, list_walks_every_page_in_key_order) {
    s3_store store(ioc_.get_executor(), options());
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) keys.push_back("listing/seg-" + std::to_string(100 + i) + ".log");
    for (const auto& k : keys) put(store, k, "x" + k);
    put(store, "listing-not/other.log", "nope");
    auto entries = test::run_on(ioc_, [&]() -> asio::awaitable<std::vector<object_entry>> {
        diagnostics d;
        auto [ec, e] = co_await store.async_list("listing/", d, use_tuple);
        EXPECT_FALSE(ec) << d.to_string(ec);
        co_return e;
    });
    ASSERT_EQ(entries.size(), keys.size());  // 10 objects at 3 per page: 4 pages
    for (std::size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(entries[i].key, keys[i]);
        EXPECT_EQ(entries[i].size, keys[i].size() + 1);
    }
}

TEST_F(s3rver_test, wrong_secret_is_signature_mismatch_and_not_retried) {
    s3_store good(ioc_.get_executor(), options());
    put(good, "secret/x", "data");
    s3_store bad(ioc_.get_executor(), options("not-the-secret"));
    auto [ec, body, r, d] = get(bad, "secret/x");
    EXPECT_EQ(ec, make_error_code(errc::signature_mismatch));
    EXPECT_EQ(d.http_status, 403u);
    EXPECT_EQ(d.s3_code, "SignatureDoesNotMatch");
    EXPECT_EQ(d.key, "secret/x");
    EXPECT_FALSE(is_retryable(ec));
    EXPECT_TRUE(body.empty());
    EXPECT_EQ(d.to_string(ec).find("not-the-secret"), std::string::npos);

    // Through the download path: one request, no retry, no file.
    test::temp_dir dir("sig");
    fetch::transfer_counters counters;
    auto dec = test::run_on(ioc_, [&]() -> asio::awaitable<error_code> {
        fetch::download_pool pool(ioc_.get_executor(), 2);
        diagnostics dd;
        fetch::download_options o;
        o.part_size = 0;
        auto [e, res] = co_await fetch::async_download(bad, pool, "secret/x", dir.path() / "x", o, counters, dd,
                                                       use_tuple);
        co_return e;
    });
    EXPECT_EQ(dec, make_error_code(errc::signature_mismatch));
    EXPECT_EQ(counters.requests.load(), 1u);
    EXPECT_EQ(counters.retries.load(), 0u);
    EXPECT_EQ(dir.file_count(), 0u);
}

TEST_F(s3rver_test, missing_key_is_no_such_key_with_diagnostics) {
    s3_store store(ioc_.get_executor(), options());
    auto [ec, body, r, d] = get(store, "does/not/exist.log");
    EXPECT_EQ(ec, make_error_code(errc::no_such_key));
    EXPECT_FALSE(is_retryable(ec));
    EXPECT_EQ(d.http_status, 404u);
    EXPECT_EQ(d.s3_code, "NoSuchKey");
    EXPECT_EQ(d.bucket, "test-bucket");
    auto line = d.to_string(ec);
    EXPECT_NE(line.find("GET test-bucket/does/not/exist.log: HTTP 404 NoSuchKey"), std::string::npos) << line;
}

TEST_F(s3rver_test, multipart_download_is_byte_identical) {
    s3_store store(ioc_.get_executor(), options());
    const std::string body = test::random_bytes(5'000'123, 11);
    put(store, "big/object.bin", body);
    test::temp_dir dir("mp");
    fetch::transfer_counters counters;
    auto ec = test::run_on(
        ioc_,
        [&]() -> asio::awaitable<error_code> {
            fetch::download_pool pool(ioc_.get_executor(), 3);
            diagnostics d;
            fetch::download_options o;
            o.part_size = 1 << 20;
            auto [e, res] = co_await fetch::async_download(store, pool, "big/object.bin", dir.path() / "o.bin", o,
                                                           counters, d, use_tuple);
            EXPECT_FALSE(e) << d.to_string(e);
            co_return e;
        },
        2);
    ASSERT_FALSE(ec);
    EXPECT_EQ(test::read_file(dir.path() / "o.bin"), body);
    EXPECT_EQ(counters.requests.load(), 5u);  // 5 ranged parts, the first one finding the size
    EXPECT_EQ(dir.file_count(), 1u);
}

TEST(s3rver_tls, https_accepted_with_its_ca_and_rejected_without) {
    test::temp_dir dir("pki");
    auto pki = test::make_test_pki(dir.path());
    test::s3rver server({{"tls-bucket"}, pki.server_key.string(), pki.server_cert.string()});
    asio::io_context ioc;
    auto attempt = [&](std::string ca_file) {
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "tls-bucket";
        o.credentials = s3_credentials{test::s3rver::access_key, test::s3rver::secret_key, ""};
        o.ca_file = std::move(ca_file);
        s3_store store(ioc.get_executor(), o);
        return test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, diagnostics>> {
            diagnostics d;
            auto [ec] = co_await store.async_put("k", "tls body", d, use_tuple);
            co_return std::pair{ec, d};
        });
    };
    auto [ok, okd] = attempt(pki.ca_cert.string());
    EXPECT_FALSE(ok) << okd.to_string(ok);
    // The system CAs do not know the test CA.
    auto [bad, badd] = attempt("/etc/ssl/certs/ca-certificates.crt");
    EXPECT_EQ(bad, make_error_code(errc::tls_error));
    EXPECT_NE(badd.message.find("certificate"), std::string::npos) << badd.to_string(bad);
    EXPECT_FALSE(is_retryable(bad));
}

TEST(s3rver_tls, host_name_mismatch_is_rejected) {
    test::temp_dir dir("pki2");
    auto pki = test::make_test_pki(dir.path());
    test::s3rver server({{"tls-bucket"}, pki.other_key.string(), pki.other_cert.string()});
    asio::io_context ioc;
    s3_options o;
    o.endpoint = server.endpoint();
    o.bucket = "tls-bucket";
    o.credentials = s3_credentials{test::s3rver::access_key, test::s3rver::secret_key, ""};
    o.ca_file = pki.ca_cert.string();
    s3_store store(ioc.get_executor(), o);
    auto [ec, d] = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, diagnostics>> {
        diagnostics d;
        auto [ec] = co_await store.async_put("k", "x", d, use_tuple);
        co_return std::pair{ec, d};
    });
    EXPECT_EQ(ec, make_error_code(errc::tls_error)) << d.to_string(ec);
    // Said as what it is, not as an unspecified verification failure.
    EXPECT_NE(d.message.find("mismatch"), std::string::npos) << d.to_string(ec);
}

// The fetcher end to end against the SigV4-verifying server: a tablet of six
// segments in the Fluss layout, two of them in ranged parts, two io threads.
TEST_F(s3rver_test, fetcher_rebuilds_a_tablet_in_order_with_exact_bytes) {
    s3_store store(ioc_.get_executor(), options());
    const std::string tablet = log::remote_log_tablet_dir({"fluss", "orders", 1001, {}, {}, 3});
    const std::vector<std::string> ids{"6e94fbd1-c056-446e-859c-77345dddcd96", "a4421366-4a1d-4c3b-a0f8-0be2e77b1368",
                                       "0b7c4ad2-3f0e-4d52-9b6e-2a8f5c1d9e70", "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
                                       "11111111-2222-4333-8444-555555555555", "99999999-8888-4777-8666-555555555555"};
    std::vector<log::remote_log_segment> segs;
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        bodies.push_back(test::random_bytes(i % 3 == 0 ? 700'000 : 90'000 + i, static_cast<unsigned>(100 + i)));
        const auto start = static_cast<std::int64_t>(1000 * i);
        segs.push_back(log::remote_log_segment::physical(ids[i], start, start + 1000, bodies.back().size()));
        put(store, log::remote_log_segment_key(tablet, ids[i], start), bodies.back());
    }
    test::temp_dir tmp("fetch-s3rver");
    fetch::fetcher_options o;
    o.prefetch_num = 3;
    o.download_threads = 2;
    o.part_size = 256 * 1024;
    o.temp_parent = tmp.path();
    fetch::remote_log_fetcher fetcher(ioc_.get_executor(), store, o);
    const auto dir = fetcher.temp_dir();
    auto got = test::run_on(
        ioc_,
        [&]() -> asio::awaitable<std::vector<std::string>> {
            std::vector<std::string> order;
            auto s = fetcher.fetch(tablet, segs, 500);
            for (;;) {
                auto [ec, seg] = co_await s.async_next(use_tuple);
                EXPECT_FALSE(ec) << s.last_error().to_string(ec);
                if (ec || !seg) break;
                const auto i = static_cast<std::size_t>(seg->segment().start_offset / 1000);
                EXPECT_EQ(test::read_file(seg->path()), bodies[i]) << seg->key();
                order.push_back(seg->segment().segment_id);
            }
            EXPECT_EQ(s.stats().requests, 3u + 3u + 4u) << "700 000-byte segments go in three parts";
            co_await fetcher.async_close(asio::use_awaitable);
            co_return order;
        },
        2);
    EXPECT_EQ(got, ids);
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST_F(s3rver_test, fetcher_with_a_wrong_secret_fails_naming_segment_code_and_status) {
    s3_store good(ioc_.get_executor(), options());
    const std::string id = "6e94fbd1-c056-446e-859c-77345dddcd96";
    const std::string key = log::remote_log_segment_key("log/db/t-5/0", id, 0);
    put(good, key, "segment bytes");
    s3_store bad(ioc_.get_executor(), options("wrong-secret"));
    test::temp_dir tmp("fetch-badsecret");
    fetch::fetcher_options o;
    o.temp_parent = tmp.path();
    fetch::remote_log_fetcher fetcher(ioc_.get_executor(), bad, o);
    test::run_on(ioc_, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch("log/db/t-5/0", {log::remote_log_segment::physical(id, 0, 10, 13)}, 0);
        auto [ec, seg] = co_await s.async_next(use_tuple);
        EXPECT_EQ(ec, make_error_code(errc::signature_mismatch));
        const auto d = s.last_error();
        EXPECT_EQ(d.http_status, 403u);
        EXPECT_EQ(d.s3_code, "SignatureDoesNotMatch");
        EXPECT_EQ(d.key, key);
        EXPECT_NE(d.message.find(id), std::string::npos) << d.message;
        EXPECT_EQ(s.stats().requests, 2u) << "one prefetch, one fallback, no retries";
        co_await fetcher.async_close(asio::use_awaitable);
    });
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}
