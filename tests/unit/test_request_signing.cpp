// What s3_store really sends, read back from the fault server's record:
// with temporary credentials the x-amz-security-token header is sent AND
// signed (in SignedHeaders, and the signature recomputed from the recorded
// headers matches). test_sigv4 checks sign() on its own; mutation testing
// (issue 11 item 13) found that a request which sent the token unsigned
// still passed every test.
#include <fluss_fetch/storage/s3_store.hpp>

#include "storage/s3/sigv4.hpp"
#include "support/fault_server.hpp"
#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b;c, Signature=..." → "a;b;c".
std::string signed_headers_of(const std::string& authorization) {
    const auto at = authorization.find("SignedHeaders=");
    if (at == std::string::npos) return {};
    const auto from = at + std::string_view("SignedHeaders=").size();
    return authorization.substr(from, authorization.find(',', from) - from);
}

}  // namespace

TEST(request_signing, session_token_is_sent_and_signed_on_real_requests) {
    test::fault_server server;
    const std::string key = "log/t/0/seg/00000000000000000000.log";
    server.put_object("b", key, std::string(1000, 'x'));
    asio::io_context ioc;
    s3_options o;
    o.endpoint = server.endpoint();
    o.bucket = "b";
    o.region = "eu-west-3";
    o.credentials = s3_credentials{"AKIDTEMP", "secret/with+chars", "FQoGZXIvYXdzE//token+with/slashes=="};
    s3_store store(ioc.get_executor(), o);
    auto ecs = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, error_code>> {
        std::string whole_body, part_body;
        string_sink whole_sink(whole_body), part_sink(part_body);
        diagnostics d1, d2;
        get_options whole;
        auto [ec1, r1] = co_await store.async_get(key, whole, whole_sink, d1, use_tuple);
        get_options ranged;
        ranged.range = byte_range{10, 100};
        ranged.if_match = "\"e1000\"";
        auto [ec2, r2] = co_await store.async_get(key, ranged, part_sink, d2, use_tuple);
        co_return std::pair{ec1, ec2};
    });
    ASSERT_FALSE(ecs.first) << ecs.first.message();
    ASSERT_FALSE(ecs.second) << ecs.second.message();

    const auto recs = server.recorded();
    ASSERT_EQ(recs.size(), 2u);
    for (const auto& rr : recs) {
        SCOPED_TRACE(rr.target + (rr.headers.count("range") ? " " + rr.headers.at("range") : ""));
        ASSERT_TRUE(rr.headers.count("x-amz-security-token")) << "the session token was not sent";
        EXPECT_EQ(rr.headers.at("x-amz-security-token"), "FQoGZXIvYXdzE//token+with/slashes==");
        ASSERT_TRUE(rr.headers.count("authorization"));
        const std::string& auth = rr.headers.at("authorization");
        const std::string signed_names = signed_headers_of(auth);
        EXPECT_NE((";" + signed_names + ";").find(";x-amz-security-token;"), std::string::npos)
            << "x-amz-security-token is not in SignedHeaders: " << auth;

        // Recompute the signature from what arrived: the headers SignedHeaders
        // names, with the values the server received.
        std::vector<std::pair<std::string, std::string>> headers;
        for (std::size_t from = 0; from <= signed_names.size();) {
            auto semi = signed_names.find(';', from);
            if (semi == std::string::npos) semi = signed_names.size();
            const std::string name = signed_names.substr(from, semi - from);
            from = semi + 1;
            ASSERT_TRUE(rr.headers.count(name)) << "signed header '" << name << "' was not sent";
            headers.emplace_back(name, rr.headers.at(name));
        }
        const std::string date = rr.headers.at("x-amz-date");
        const std::string payload = rr.headers.at("x-amz-content-sha256");
        s3::request_to_sign req{rr.method, rr.target, {}, headers, payload};
        const auto sig = s3::sign(req, "AKIDTEMP", "secret/with+chars", "eu-west-3", "s3", date);
        EXPECT_EQ(sig.authorization, auth) << "the signature does not cover the request as sent";
        EXPECT_EQ(sig.signed_headers, signed_names);
    }
    // Each request's own headers are all signed: range and if-match on the ranged one.
    EXPECT_EQ(signed_headers_of(recs[0].headers.at("authorization")),
              "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
    EXPECT_EQ(signed_headers_of(recs[1].headers.at("authorization")),
              "host;if-match;range;x-amz-content-sha256;x-amz-date;x-amz-security-token");
}

// Without a session token there is no token header, sent or signed.
TEST(request_signing, long_term_credentials_send_no_token) {
    test::fault_server server;
    server.put_object("b", "k", "v");
    asio::io_context ioc;
    s3_options o;
    o.endpoint = server.endpoint();
    o.bucket = "b";
    o.region = "us-east-1";
    o.credentials = s3_credentials{"AK", "SK", ""};
    s3_store store(ioc.get_executor(), o);
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        std::string body;
        string_sink sink(body);
        diagnostics d;
        get_options whole;
        std::string key = "k";
        auto [ec, r] = co_await store.async_get(key, whole, sink, d, use_tuple);
        co_return ec;
    });
    ASSERT_FALSE(ec) << ec.message();
    const auto recs = server.recorded();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].headers.count("x-amz-security-token"), 0u);
    EXPECT_EQ(signed_headers_of(recs[0].headers.at("authorization")), "host;x-amz-content-sha256;x-amz-date");
}
