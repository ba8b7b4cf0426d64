// The store on a credentials provider (issue 14): every request asks the
// provider and is signed with exactly what it got; an ExpiredToken answer
// drops those credentials and redoes the request once with fresh ones; a
// provider's failure ends the operation with its words. Also the endpoint's
// path prefix and the endpoint's precedence.
#include <fluss_fetch/storage/s3_store.hpp>

#include "storage/s3/config.hpp"
#include "support/fake_aws.hpp"
#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <thread>
#include <mutex>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

aws_credentials creds(std::string id, std::string secret, std::string token = {}) {
    aws_credentials c;
    c.access_key_id = std::move(id);
    c.secret_access_key = std::move(secret);
    c.session_token = std::move(token);
    c.source = "test";
    return c;
}

// Hands out its credentials in turn: the current ones until they are
// invalidated, then the next (the last ones stay). Counts every call.
class sequence_provider final : public credentials_provider {
public:
    sequence_provider(asio::any_io_executor ex, std::vector<aws_credentials> seq) : ex_(std::move(ex)), seq_(std::move(seq)) {}
    std::string describe() const override { return "test sequence"; }
    void invalidate(const aws_credentials& rejected) override {
        std::lock_guard l(m_);
        ++invalidations_;
        if (rejected.access_key_id == seq_[at_].access_key_id && at_ + 1 < seq_.size()) {
            ++at_;
            ++switches_;
        }
    }
    std::size_t gets() const {
        std::lock_guard l(m_);
        return gets_;
    }
    std::size_t invalidations() const {
        std::lock_guard l(m_);
        return invalidations_;
    }
    std::size_t switches() const {
        std::lock_guard l(m_);
        return switches_;
    }

protected:
    void do_get_credentials(diagnostics&, credentials_handler h) override {
        aws_credentials c;
        {
            std::lock_guard l(m_);
            ++gets_;
            c = seq_[at_];
        }
        auto hex = asio::get_associated_executor(h, ex_);
        auto run = [h = std::move(h), c = std::move(c)]() mutable { std::move(h)(error_code{}, std::move(c)); };
        asio::post(ex_, asio::bind_executor(hex, std::move(run)));
    }

private:
    asio::any_io_executor ex_;
    std::vector<aws_credentials> seq_;
    mutable std::mutex m_;
    std::size_t at_ = 0, gets_ = 0, invalidations_ = 0, switches_ = 0;
};

// Always fails, as a configured source that broke does.
class failing_provider final : public credentials_provider {
public:
    explicit failing_provider(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    std::string describe() const override { return "failing"; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        diag.message = "STS AssumeRoleWithWebIdentity at http://127.0.0.1:9/: HTTP 403 AccessDenied";
        auto hex = asio::get_associated_executor(h, ex_);
        auto run = [h = std::move(h)]() mutable {
            std::move(h)(make_error_code(errc::credentials_failed), aws_credentials{});
        };
        asio::post(ex_, asio::bind_executor(hex, std::move(run)));
    }

private:
    asio::any_io_executor ex_;
};

struct get_outcome {
    error_code ec;
    diagnostics diag;
    std::string body;
};

asio::awaitable<get_outcome> get_one(s3_store& store, std::string key) {
    get_outcome out;
    string_sink sink(out.body);
    get_options whole;
    auto [ec, r] = co_await store.async_get(key, whole, sink, out.diag, use_tuple);
    out.ec = ec;
    co_return out;
}

class store_credentials : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 8; ++i) server.put_object("b", "k" + std::to_string(i), "body-" + std::to_string(i));
        server.set_accepted_access_keys({"AKA", "AKB"});
    }
    s3_options options(credentials_provider_ptr p) {
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.region = "eu-west-1";
        o.credentials_provider = std::move(p);
        o.env = [](const char*) -> std::optional<std::string> { return std::nullopt; };
        o.stall_timeout = std::chrono::milliseconds(2000);
        return o;
    }
    std::vector<std::string> key_ids_for(const std::string& key) {
        std::vector<std::string> ids;
        for (const auto& r : server.recorded())
            if (r.key == key) ids.push_back(r.access_key_id);
        return ids;
    }
    const std::map<std::string, std::string> secrets{{"AKA", "secret-a"}, {"AKB", "secret-b"}};
    void expect_every_request_signed_with_its_own_key() {
        for (const auto& r : server.recorded()) {
            std::string why;
            EXPECT_TRUE(test::sigv4_matches(r, secrets.at(r.access_key_id), "eu-west-1", &why)) << r.target << "\n" << why;
        }
    }

    test::fault_server server;
    asio::io_context ioc;
};

}  // namespace

// A run of GETs where the first credentials expire after the third request:
// the fourth is refused once (ExpiredToken), redone with the fresh ones, and
// every later request uses those. One invalidation, one extra request.
TEST_F(store_credentials, expiry_mid_run_is_one_redo_with_fresh_credentials) {
    auto provider = std::make_shared<sequence_provider>(ioc.get_executor(),
                                                        std::vector{creds("AKA", "secret-a"), creds("AKB", "secret-b")});
    server.expire_access_key_after("AKA", 3);
    s3_store store(ioc.get_executor(), options(provider));
    EXPECT_EQ(store.config().credentials_source, "test sequence");
    auto results = test::run_on(ioc, [&]() -> asio::awaitable<std::vector<get_outcome>> {
        std::vector<get_outcome> all;
        for (int i = 0; i < 6; ++i) all.push_back(co_await get_one(store, "k" + std::to_string(i)));
        co_return all;
    });
    for (std::size_t i = 0; i < results.size(); ++i) {
        EXPECT_FALSE(results[i].ec) << i << ": " << results[i].diag.to_string(results[i].ec);
        EXPECT_EQ(results[i].body, "body-" + std::to_string(i));
    }
    EXPECT_EQ(server.requests(), 7u);
    EXPECT_EQ(provider->gets(), 7u) << "one get per request sent";
    EXPECT_EQ(provider->invalidations(), 1u);
    EXPECT_EQ(provider->switches(), 1u);
    EXPECT_EQ(key_ids_for("k2"), std::vector<std::string>{"AKA"});
    EXPECT_EQ(key_ids_for("k3"), (std::vector<std::string>{"AKA", "AKB"})) << "refused once, redone with B";
    EXPECT_EQ(key_ids_for("k4"), std::vector<std::string>{"AKB"});
    EXPECT_EQ(key_ids_for("k5"), std::vector<std::string>{"AKB"});
    expect_every_request_signed_with_its_own_key();
}

// Concurrent GETs on several threads when A expires: each request that was
// signed with A and refused is redone exactly once, with B; the provider
// moves on once however many requests report the same credentials.
TEST_F(store_credentials, concurrent_requests_each_redo_once_and_switch_once) {
    auto provider = std::make_shared<sequence_provider>(ioc.get_executor(),
                                                        std::vector{creds("AKA", "secret-a"), creds("AKB", "secret-b")});
    server.expire_access_key_after("AKA", 2);
    s3_store store(ioc.get_executor(), options(provider));
    std::vector<std::future<get_outcome>> futs;
    for (int i = 0; i < 8; ++i)
        futs.push_back(asio::co_spawn(asio::make_strand(ioc), get_one(store, "k" + std::to_string(i)), asio::use_future));
    std::thread second([this] { ioc.run(); });
    ioc.run();
    second.join();
    std::vector<get_outcome> results;
    for (auto& f : futs) results.push_back(f.get());
    std::size_t expired_answers = 0;
    for (int i = 0; i < 8; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        EXPECT_FALSE(r.ec) << i << ": " << r.diag.to_string(r.ec);
        EXPECT_EQ(r.body, "body-" + std::to_string(i));
        const auto ids = key_ids_for("k" + std::to_string(i));
        const bool ok = ids == std::vector<std::string>{"AKA"} || ids == std::vector<std::string>{"AKB"} ||
                        ids == std::vector<std::string>{"AKA", "AKB"};
        EXPECT_TRUE(ok) << "k" << i << ": " << ::testing::PrintToString(ids);
        if (ids.size() == 2) ++expired_answers;
    }
    EXPECT_GE(expired_answers, 1u);
    EXPECT_EQ(server.requests(), 8u + expired_answers);
    EXPECT_EQ(provider->gets(), 8u + expired_answers);
    EXPECT_EQ(provider->invalidations(), expired_answers);
    EXPECT_EQ(provider->switches(), 1u);
    expect_every_request_signed_with_its_own_key();
}

// Credentials that stay expired: one redo, then the error (2 requests, not a loop).
TEST_F(store_credentials, credentials_that_stay_expired_fail_after_exactly_one_redo) {
    auto provider = std::make_shared<sequence_provider>(ioc.get_executor(), std::vector{creds("AKA", "secret-a")});
    server.set_expired_access_keys({"AKA"});
    s3_store store(ioc.get_executor(), options(provider));
    auto r = test::run_on(ioc, [&] { return get_one(store, "k0"); });
    EXPECT_EQ(r.ec, make_error_code(errc::expired_token)) << r.diag.to_string(r.ec);
    EXPECT_FALSE(is_retryable(r.ec));
    EXPECT_EQ(r.diag.s3_code, "ExpiredToken");
    EXPECT_EQ(r.diag.http_status, 400u);
    EXPECT_EQ(server.requests(), 2u);
    EXPECT_EQ(provider->gets(), 2u);
    EXPECT_EQ(provider->invalidations(), 1u);
    EXPECT_TRUE(r.body.empty()) << "the error body never reaches the sink";
}

// InvalidToken (403) is a token rejection too; AccessDenied is not.
TEST_F(store_credentials, invalid_token_is_redone_access_denied_is_not) {
    auto provider = std::make_shared<sequence_provider>(ioc.get_executor(),
                                                        std::vector{creds("AKA", "secret-a"), creds("AKB", "secret-b")});
    test::fault f;
    f.status = 403;
    f.s3_code = "InvalidToken";
    server.add_fault(f);
    s3_store store(ioc.get_executor(), options(provider));
    auto r = test::run_on(ioc, [&] { return get_one(store, "k0"); });
    EXPECT_FALSE(r.ec) << r.diag.to_string(r.ec);
    EXPECT_EQ(key_ids_for("k0"), (std::vector<std::string>{"AKA", "AKB"}));

    f.s3_code = "AccessDenied";
    server.add_fault(f);
    r = test::run_on(ioc, [&] { return get_one(store, "k1"); });
    EXPECT_EQ(r.ec, make_error_code(errc::access_denied));
    EXPECT_EQ(key_ids_for("k1"), std::vector<std::string>{"AKB"}) << "no redo";
    EXPECT_EQ(provider->invalidations(), 1u);
}

// A provider that fails ends the operation with its error and its message;
// nothing is sent.
TEST_F(store_credentials, a_provider_error_ends_the_operation_with_its_message) {
    s3_store store(ioc.get_executor(), options(std::make_shared<failing_provider>(ioc.get_executor())));
    auto r = test::run_on(ioc, [&] { return get_one(store, "k0"); });
    const auto line = r.diag.to_string(r.ec);
    EXPECT_EQ(r.ec, make_error_code(errc::credentials_failed)) << line;
    EXPECT_TRUE(contains(line, "STS AssumeRoleWithWebIdentity at http://127.0.0.1:9/: HTTP 403 AccessDenied")) << line;
    EXPECT_TRUE(contains(line, "GET b/k0")) << line;
    EXPECT_EQ(r.diag.http_status, 0u) << "no S3 answer was seen";
    EXPECT_EQ(server.requests(), 0u);
}

// x-amz-security-token is sent (and signed) exactly when there is a token.
TEST_F(store_credentials, session_token_header_iff_a_token) {
    const std::string token = "FQoGZXIvYXdzEXAMPLE-session-token";
    auto with = options(nullptr);
    with.credentials = creds("AKA", "secret-a", token);
    auto without = options(nullptr);
    without.credentials = creds("AKB", "secret-b");
    s3_store a(ioc.get_executor(), with), b(ioc.get_executor(), without);
    EXPECT_EQ(a.config().access_key_id, "AKA");
    auto ra = test::run_on(ioc, [&] { return get_one(a, "k0"); });
    auto rb = test::run_on(ioc, [&] { return get_one(b, "k1"); });
    EXPECT_FALSE(ra.ec) << ra.diag.to_string(ra.ec);
    EXPECT_FALSE(rb.ec) << rb.diag.to_string(rb.ec);
    const auto log = server.recorded();
    ASSERT_EQ(log.size(), 2u);
    ASSERT_TRUE(log[0].headers.count("x-amz-security-token"));
    EXPECT_EQ(log[0].headers.at("x-amz-security-token"), token);
    EXPECT_TRUE(contains(log[0].headers.at("authorization"), "x-amz-security-token"));
    EXPECT_FALSE(log[1].headers.count("x-amz-security-token"));
    EXPECT_FALSE(contains(log[1].headers.at("authorization"), "x-amz-security-token"));
    expect_every_request_signed_with_its_own_key();
}

// Anonymous stores send no Authorization at all (and the fault server,
// accepting only keys, says so).
TEST_F(store_credentials, anonymous_requests_are_unsigned) {
    auto o = options(nullptr);
    o.anonymous = true;
    s3_store store(ioc.get_executor(), o);
    EXPECT_TRUE(store.config().anonymous);
    EXPECT_EQ(store.config().credentials_source, "anonymous");
    auto r = test::run_on(ioc, [&] { return get_one(store, "k0"); });
    EXPECT_EQ(r.ec, make_error_code(errc::access_denied));
    ASSERT_EQ(server.recorded().size(), 1u);
    EXPECT_FALSE(server.recorded()[0].headers.count("authorization"));
}

// An endpoint with a path prefix: requests go to /prefix/bucket/key and are
// signed over that path.
TEST_F(store_credentials, endpoint_path_prefix_goes_before_the_bucket_and_is_signed) {
    server.set_path_prefix("/minio");
    auto o = options(nullptr);
    o.credentials = creds("AKA", "secret-a");
    o.endpoint = server.endpoint() + "/minio/";
    s3_store store(ioc.get_executor(), o);
    EXPECT_EQ(store.config().path_prefix, "/minio");
    auto r = test::run_on(ioc, [&] { return get_one(store, "k2"); });
    EXPECT_FALSE(r.ec) << r.diag.to_string(r.ec);
    EXPECT_EQ(r.body, "body-2");
    auto list = test::run_on(ioc, [&]() -> asio::awaitable<std::pair<error_code, std::size_t>> {
        diagnostics d;
        auto [ec, entries] = co_await store.async_list("k", d, use_tuple);
        co_return std::pair{ec, entries.size()};
    });
    EXPECT_FALSE(list.first);
    EXPECT_EQ(list.second, 8u);
    const auto log = server.recorded();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].target, "/minio/b/k2");
    EXPECT_TRUE(log[1].target.starts_with("/minio/b?")) << log[1].target;
    expect_every_request_signed_with_its_own_key();
}

TEST(s3_endpoint, aws_endpoint_url_s3_over_aws_endpoint_url_and_the_option_over_both) {
    s3_options o;
    o.bucket = "b1b";
    std::map<std::string, std::string> vars{{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7001"},
                                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:7002"}};
    env_lookup env = [&vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    auto c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.port, "7001");
    EXPECT_EQ(c.pub.endpoint_source, "AWS_ENDPOINT_URL_S3");
    vars.erase("AWS_ENDPOINT_URL_S3");
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.port, "7002");
    EXPECT_EQ(c.pub.endpoint_source, "AWS_ENDPOINT_URL");
    o.endpoint = "http://127.0.0.1:7003/gw/s3";
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.port, "7003");
    EXPECT_EQ(c.pub.endpoint_source, "s3_options.endpoint");
    EXPECT_EQ(c.pub.path_prefix, "/gw/s3");

    // Through the store: the injected env, not the process's, is read.
    asio::io_context ioc;
    o.endpoint.clear();
    vars["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:7001/p";
    o.env = env;
    o.anonymous = true;
    s3_store store(ioc.get_executor(), o);
    EXPECT_EQ(store.config().endpoint_source, "AWS_ENDPOINT_URL_S3");
    EXPECT_EQ(store.config().path_prefix, "/p");
}

// A virtual-hosted store puts the prefix before the key.
TEST(s3_endpoint, virtual_hosted_prefix_goes_before_the_key) {
    s3_options o;
    o.bucket = "my-bucket";
    o.endpoint = "https://gw.example:8443/s3/";
    o.addressing = s3_addressing::virtual_hosted;
    auto c = s3::resolve_config(o, [](const char*) -> std::optional<std::string> { return std::nullopt; });
    EXPECT_EQ(c.pub.path_prefix, "/s3");
    EXPECT_EQ(c.host_header, "my-bucket.gw.example:8443");
    EXPECT_FALSE(c.pub.path_style);
}

// The shared config file's profile: endpoint_url (the nested `s3 =` one
// first), region after the variables, and `s3 = addressing_style`.
TEST(s3_endpoint, the_profile_gives_endpoint_region_and_addressing) {
    test::temp_dir dir("s3-profile");
    const auto config = dir.path() / "config";
    test::write_file(config,
                     "[default]\nregion = eu-central-1\n\n"
                     "[profile minio]\n"
                     "region = ap-east-1   # a comment\n"
                     "endpoint_url = https://global.example:9000\n"
                     "s3 =\n"
                     "  endpoint_url = https://minio.example:9000/gw\n"
                     "  addressing_style = path\n"
                     "\n[profile virt]\nendpoint_url = https://virt.example\ns3 =\n  addressing_style = virtual\n"
                     "\n[profile bad]\ns3 =\n  addressing_style = sideways\n");
    std::map<std::string, std::string> vars{{"AWS_CONFIG_FILE", config.string()},
                                            {"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "none").string()}};
    env_lookup env = [&vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    s3_options o;
    o.bucket = "my-bucket";
    auto c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.region, "eu-central-1") << "the default profile's region";
    EXPECT_EQ(c.pub.endpoint_source, "the default endpoint");
    EXPECT_FALSE(c.pub.path_style);

    o.profile = "minio";
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.region, "ap-east-1");
    EXPECT_EQ(c.pub.host, "minio.example") << "the s3 section's endpoint_url over the profile's";
    EXPECT_EQ(c.pub.path_prefix, "/gw");
    EXPECT_TRUE(contains(c.pub.endpoint_source, "profile minio")) << c.pub.endpoint_source;
    EXPECT_TRUE(contains(c.pub.endpoint_source, "s3.endpoint_url")) << c.pub.endpoint_source;
    EXPECT_TRUE(c.pub.path_style) << "addressing_style = path on a host name";
    EXPECT_TRUE(contains(c.pub.addressing_source, "s3.addressing_style")) << c.pub.addressing_source;
    EXPECT_EQ(c.host_header, "minio.example:9000");

    vars["AWS_REGION"] = "us-west-2";
    vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9100";
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.region, "us-west-2") << "the variables over the profile";
    EXPECT_EQ(c.pub.endpoint_source, "AWS_ENDPOINT_URL");
    EXPECT_TRUE(c.pub.path_style) << "still the profile's addressing";
    o.addressing = s3_addressing::virtual_hosted;
    o.endpoint = "https://opt.example";
    c = s3::resolve_config(o, env);
    EXPECT_FALSE(c.pub.path_style) << "the option over the profile";
    EXPECT_EQ(c.pub.addressing_source, "s3_options.addressing");

    o = s3_options{};
    o.bucket = "my-bucket";
    o.profile = "virt";
    vars.erase("AWS_ENDPOINT_URL");
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.host, "virt.example");
    EXPECT_FALSE(c.pub.path_style);
    EXPECT_EQ(c.host_header, "my-bucket.virt.example");

    o.profile = "bad";
    try {
        s3::resolve_config(o, env);
        ADD_FAILURE() << "no error";
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(contains(what, "addressing_style must be path, virtual or auto")) << what;
        EXPECT_TRUE(contains(what, config.string())) << what;
    }
}

// End to end, as on EKS with IRSA: no credentials in the options, so the
// store builds the default chain; the environment names a web identity token
// file and a role, so the chain asks STS (the fake, on loopback), which hands
// out A. The S3 side (fault server) accepts only the keys STS issued, and A
// expires after three requests; by then STS hands out B. The run succeeds:
// STS is asked twice (the cache serves every other request), the refused
// request is redone once with B, and every request is signed with its keys
// and carries its session token.
TEST_F(store_credentials, web_identity_from_the_default_chain_refreshes_when_sts_credentials_expire) {
    test::temp_dir dir;
    const auto token_file = (dir.path() / "token").string();
    std::ofstream(token_file) << "eyJ-web-identity-token";
    test::fake_aws sts;
    sts.set_web_identity_token_file(token_file);
    const auto later = std::chrono::system_clock::now() + std::chrono::hours(1);
    sts.set_credentials("AKA", "secret-a", "session-a", later);
    server.expire_access_key_after("AKA", 3);

    s3_options o = options(nullptr);
    const std::map<std::string, std::string> env{
        {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
        {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/fluss-recovery"},
        {"AWS_ROLE_SESSION_NAME", "tablet-3"},
        {"AWS_ENDPOINT_URL_STS", sts.endpoint()},
        {"AWS_CONFIG_FILE", (dir.path() / "no-config").string()},
        {"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "no-credentials").string()},
        {"AWS_EC2_METADATA_DISABLED", "true"},
    };
    o.env = [env](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    s3_store store(ioc.get_executor(), o);
    auto results = test::run_on(ioc, [&]() -> asio::awaitable<std::vector<get_outcome>> {
        std::vector<get_outcome> all;
        for (int i = 0; i < 6; ++i) {
            if (i == 3) sts.set_credentials("AKB", "secret-b", "session-b", later);  // STS has rotated
            all.push_back(co_await get_one(store, "k" + std::to_string(i)));
        }
        co_return all;
    });
    for (std::size_t i = 0; i < results.size(); ++i) {
        EXPECT_FALSE(results[i].ec) << i << ": " << results[i].diag.to_string(results[i].ec);
        EXPECT_EQ(results[i].body, "body-" + std::to_string(i));
    }
    ASSERT_EQ(sts.requests(), 2u) << "one STS call per set of credentials";
    EXPECT_EQ(sts.refused(), 0u);
    for (const auto& r : sts.recorded()) {
        auto form = test::fake_aws::parse_form(r.body);
        EXPECT_EQ(form["Action"], "AssumeRoleWithWebIdentity");
        EXPECT_EQ(form["RoleSessionName"], "tablet-3");
        EXPECT_EQ(form["WebIdentityToken"], "eyJ-web-identity-token");
    }
    EXPECT_EQ(server.requests(), 7u);
    EXPECT_EQ(key_ids_for("k3"), (std::vector<std::string>{"AKA", "AKB"})) << "refused once, redone with B";
    EXPECT_EQ(key_ids_for("k5"), std::vector<std::string>{"AKB"});
    for (const auto& r : server.recorded()) {
        auto it = r.headers.find("x-amz-security-token");
        ASSERT_NE(it, r.headers.end()) << r.target;
        EXPECT_EQ(it->second, r.access_key_id == "AKA" ? "session-a" : "session-b");
    }
    expect_every_request_signed_with_its_own_key();
}

// The same chain with STS refusing the role: the GET fails at once with
// credentials_failed, names STS's code, sends nothing to S3, and the web
// identity token appears nowhere in the message.
TEST_F(store_credentials, a_refused_web_identity_fails_the_request_without_the_token) {
    test::temp_dir dir;
    const auto token_file = (dir.path() / "token").string();
    std::ofstream(token_file) << "eyJ-web-identity-token";
    test::fake_aws sts;
    sts.set_web_identity_token_file(token_file);
    sts.add_fault({test::aws_fault::kind::sts_error, "", 403});
    s3_options o = options(nullptr);
    const std::map<std::string, std::string> env{
        {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
        {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/fluss-recovery"},
        {"AWS_ENDPOINT_URL_STS", sts.endpoint()},
        {"AWS_CONFIG_FILE", (dir.path() / "no-config").string()},
        {"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "no-credentials").string()},
        {"AWS_EC2_METADATA_DISABLED", "true"},
    };
    o.env = [env](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    s3_store store(ioc.get_executor(), o);
    auto r = test::run_on(ioc, [&]() -> asio::awaitable<get_outcome> { co_return co_await get_one(store, "k0"); });
    EXPECT_EQ(r.ec, errc::credentials_failed) << r.ec.message();
    const auto text = r.diag.to_string(r.ec);
    EXPECT_TRUE(contains(text, "AccessDenied")) << text;
    EXPECT_FALSE(contains(text, "eyJ-web-identity-token")) << text;
    EXPECT_EQ(server.requests(), 0u);
    EXPECT_EQ(sts.requests(), 1u);
}
