// The service-backed credential providers (STS AssumeRole and
// AssumeRoleWithWebIdentity, the container endpoint, IMDSv2) against the
// in-process fakes of tests/support/fake_aws: exact request shapes, retries,
// errors, and no token or secret in any message.
#include "storage/aws/service.hpp"
#include "storage/aws/service_common.hpp"
#include "support/fake_aws.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <map>

namespace fluss_fetch::storage {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using test::aws_fault;
using test::fake_aws;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

credentials_options options(std::map<std::string, std::string> vars) {
    // Never the machine's IMDS or a real STS: every test names its endpoints.
    vars.emplace("AWS_EC2_METADATA_DISABLED", "true");
    credentials_options o;
    o.env = env_of(std::move(vars));
    o.service_timeout = 2'000ms;
    o.imds_timeout = 2'000ms;
    return o;
}

struct outcome {
    error_code ec;
    aws_credentials creds;
    diagnostics diag;
};

outcome get(asio::io_context& ioc, credentials_provider& p) {
    return test::run_on(ioc, [&]() -> asio::awaitable<outcome> {
        outcome o;
        auto [ec, c] = co_await p.async_get_credentials(o.diag, use_tuple);
        o.ec = ec;
        o.creds = std::move(c);
        co_return o;
    });
}

std::chrono::system_clock::time_point whole_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::time_point_cast<std::chrono::seconds>(t);
}

// A source provider for AssumeRole: fixed keys, completing through a post.
class fixed_provider final : public credentials_provider {
public:
    fixed_provider(asio::any_io_executor ex, aws_credentials c) : ex_(std::move(ex)), c_(std::move(c)) {}
    std::string describe() const override { return "fixed test keys"; }
    int calls = 0;

protected:
    void do_get_credentials(diagnostics&, credentials_handler h) override {
        ++calls;
        asio::post(ex_, [h = std::move(h), c = c_]() mutable { std::move(h)(error_code{}, c); });
    }

private:
    asio::any_io_executor ex_;
    aws_credentials c_;
};

std::string closed_port_url() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();
    return "http://127.0.0.1:" + std::to_string(port);
}

class CredentialsServices : public ::testing::Test {
protected:
    CredentialsServices() {
        expiration = whole_seconds(std::chrono::system_clock::now() + 15min);
        fake.set_credentials("ASIAHANDEDOUT", "handed-out-secret", "handed-out-session-token", expiration);
    }
    asio::io_context ioc;
    fake_aws fake;
    test::temp_dir dir{"creds-svc"};
    std::chrono::system_clock::time_point expiration;
};

void expect_handed_out(const outcome& o, std::chrono::system_clock::time_point expiration) {
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "ASIAHANDEDOUT");
    EXPECT_EQ(o.creds.secret_access_key, "handed-out-secret");
    EXPECT_EQ(o.creds.session_token, "handed-out-session-token");
    ASSERT_TRUE(o.creds.expiration.has_value());
    EXPECT_EQ(*o.creds.expiration, expiration);
    EXPECT_FALSE(o.creds.source.empty());
}

// ---------------------------------------------------------------- IMDS

TEST_F(CredentialsServices, ImdsPutsTokenThenGetsRoleAndCredentialsWithIt) {
    fake.set_imds_role("node-role");
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint()}});
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    expect_handed_out(o, expiration);
    EXPECT_EQ(o.creds.source, "IMDS (role node-role)");

    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[0].method, "PUT");
    EXPECT_EQ(reqs[0].target, "/latest/api/token");
    ASSERT_TRUE(reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"));
    EXPECT_EQ(*reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    EXPECT_EQ(reqs[0].header("x-aws-ec2-metadata-token"), nullptr);
    auto tokens = fake.imds_tokens();
    ASSERT_EQ(tokens.size(), 1u);
    EXPECT_EQ(reqs[1].method, "GET");
    EXPECT_EQ(reqs[1].target, "/latest/meta-data/iam/security-credentials/");
    EXPECT_EQ(reqs[2].method, "GET");
    EXPECT_EQ(reqs[2].target, "/latest/meta-data/iam/security-credentials/node-role");
    for (int i : {1, 2}) {
        ASSERT_TRUE(reqs[i].header("x-aws-ec2-metadata-token")) << i;
        EXPECT_EQ(*reqs[i].header("x-aws-ec2-metadata-token"), tokens[0]) << i;
        EXPECT_EQ(reqs[i].header("x-aws-ec2-metadata-token-ttl-seconds"), nullptr) << i;
    }
    EXPECT_EQ(fake.refused(), 0u);
}

TEST_F(CredentialsServices, ImdsKeepsItsTokenAndFetchesANewOneAfter401) {
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint() + "/"}});
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    ASSERT_FALSE(get(ioc, *p).ec);
    ASSERT_FALSE(get(ioc, *p).ec);
    // One PUT for both gets: the token is kept until its TTL.
    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 5u);
    EXPECT_EQ(std::count_if(reqs.begin(), reqs.end(), [](const auto& r) { return r.method == "PUT"; }), 1);

    fake.forget_imds_tokens();  // IMDS restarted: the kept token is refused with 401
    auto o = get(ioc, *p);
    ASSERT_FALSE(o.ec) << o.diag.message;
    reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 9u);
    EXPECT_EQ(reqs[5].method, "GET");  // with the old token: 401
    EXPECT_EQ(reqs[6].method, "PUT");
    EXPECT_EQ(reqs[7].target, "/latest/meta-data/iam/security-credentials/");
    EXPECT_EQ(*reqs[7].header("x-aws-ec2-metadata-token"), fake.imds_tokens().back());
}

TEST_F(CredentialsServices, ImdsDisabledIsNotConfiguredAndAsksNothing) {
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint()}});
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::no_credentials);
    EXPECT_NE(o.diag.message.find("disabled"), std::string::npos) << o.diag.message;
    EXPECT_EQ(fake.requests(), 0u);
}

TEST_F(CredentialsServices, ImdsUnreachableIsNotConfigured) {
    const auto url = closed_port_url();
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", url}, {"AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2"}});
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::no_credentials) << o.ec.message();
    EXPECT_NE(o.diag.message.find("IMDS at " + url + "/latest/api/token"), std::string::npos) << o.diag.message;
}

TEST_F(CredentialsServices, ImdsThatNeverAnswersIsNotConfiguredAfterItsTimeout) {
    fake.add_fault({aws_fault::kind::stall, "/latest/api/token"});
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint()}});
    opts.imds_timeout = 100ms;  // and the default single IMDS attempt
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::no_credentials) << o.ec.message();
    EXPECT_NE(o.diag.message.find("IMDS at " + fake.endpoint() + "/latest/api/token: no answer within 100 ms"),
              std::string::npos)
        << o.diag.message;
    EXPECT_EQ(fake.requests(), 1u);
    EXPECT_TRUE(fake.wait_for_stalls_ended(1, 5s));  // the connection was closed
}

TEST_F(CredentialsServices, ImdsErrorMessagesNeverHoldItsToken) {
    fake.add_fault({aws_fault::kind::status, "/latest/meta-data/iam/security-credentials/fake-role", 500});
    auto opts = options({});
    opts.env = env_of({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint()}});
    opts.service_attempts = 1;
    auto p = make_imds_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find("HTTP 500"), std::string::npos) << o.diag.message;
    ASSERT_EQ(fake.imds_tokens().size(), 1u);
    EXPECT_EQ(o.diag.message.find(fake.imds_tokens()[0]), std::string::npos) << o.diag.message;
}

// ---------------------------------------------------------------- container

TEST_F(CredentialsServices, ContainerSendsTheTokenFileAndReadsItAgainEachCall) {
    const auto token_file = dir.path() / "eks-pod-identity-token";
    test::write_file(token_file, "pod-token-one\n");
    fake.set_container("/v1/credentials", "pod-token-one");
    auto opts = options({});
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.endpoint() + "/v1/credentials"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.string()},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token-loses-to-the-file"}});
    auto p = make_container_credentials_provider(ioc.get_executor(), opts);
    expect_handed_out(get(ioc, *p), expiration);

    test::write_file(token_file, "pod-token-two");  // the agent rotated it
    fake.set_container("/v1/credentials", "pod-token-two");
    expect_handed_out(get(ioc, *p), expiration);

    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 2u);
    for (const auto& r : reqs) {
        EXPECT_EQ(r.method, "GET");
        EXPECT_EQ(r.target, "/v1/credentials");
        EXPECT_EQ(r.verdict, "");
    }
    EXPECT_EQ(*reqs[0].header("authorization"), "pod-token-one");
    EXPECT_EQ(*reqs[1].header("authorization"), "pod-token-two");
}

TEST_F(CredentialsServices, ContainerTokenFromTheEnvironment) {
    fake.set_container("/creds", "env-token");
    auto opts = options({});
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.endpoint() + "/creds"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"}});
    auto p = make_container_credentials_provider(ioc.get_executor(), opts);
    expect_handed_out(get(ioc, *p), expiration);
    EXPECT_EQ(*fake.recorded().at(0).header("authorization"), "env-token");
}

TEST_F(CredentialsServices, ContainerRefusalNamesTheStatusButNotTheToken) {
    fake.set_container("/creds", "the-right-token");
    auto opts = options({});
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.endpoint() + "/creds?x=1"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a-wrong-secret-token"}});
    fake.set_container("/creds?x=1", "the-right-token");
    auto p = make_container_credentials_provider(ioc.get_executor(), opts);
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_EQ(fake.requests(), 1u);  // 403 is not retried
    EXPECT_NE(o.diag.message.find("container credentials at " + fake.endpoint() + "/creds: HTTP 403"),
              std::string::npos)
        << o.diag.message;
    EXPECT_EQ(o.diag.message.find("a-wrong-secret-token"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("x=1"), std::string::npos) << o.diag.message;
}

TEST_F(CredentialsServices, ContainerFullUriOverPlainHttpToAnotherHostIsRefused) {
    for (std::string url : {"http://192.0.2.10/creds", "http://metadata.example.com/creds", "http://169.254.169.254/"}) {
        auto opts = options({});
        opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}});
        auto p = make_container_credentials_provider(ioc.get_executor(), opts);
        auto o = get(ioc, *p);
        EXPECT_EQ(o.ec, errc::credentials_failed) << url;
        EXPECT_NE(o.diag.message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI " + url), std::string::npos)
            << o.diag.message;
        EXPECT_NE(o.diag.message.find("plain http"), std::string::npos) << o.diag.message;
    }
}

TEST_F(CredentialsServices, ContainerRelativeUriGoesToTheEcsAgentAndNothingSetIsNotConfigured) {
    auto opts = options({});
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}});
    EXPECT_EQ(make_container_credentials_provider(ioc.get_executor(), opts)->describe(),
              "container (http://169.254.170.2/v2/credentials/abc)");
    opts.env = env_of({});
    auto o = get(ioc, *make_container_credentials_provider(ioc.get_executor(), opts));
    EXPECT_EQ(o.ec, errc::no_credentials);
    EXPECT_NE(o.diag.message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos) << o.diag.message;
}

TEST_F(CredentialsServices, ContainerOverHttpsVerifiesTheServerWithTheCaFile) {
    const auto pki = test::make_test_pki(dir.path() / "pki");
    fake_aws good(pki.server_key.string(), pki.server_cert.string());
    good.set_credentials("ASIAHANDEDOUT", "handed-out-secret", "handed-out-session-token", expiration);
    good.set_container("/creds", "tls-token");
    auto opts = options({});
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", good.endpoint() + "/creds"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tls-token"}});
    opts.ca_file = pki.ca_cert.string();
    expect_handed_out(get(ioc, *make_container_credentials_provider(ioc.get_executor(), opts)), expiration);
    EXPECT_EQ(good.requests(), 1u);

    // Without the test CA (the system's CAs only) the certificate is refused, once.
    opts.ca_file.clear();
    auto o = get(ioc, *make_container_credentials_provider(ioc.get_executor(), opts));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find("TLS handshake failed"), std::string::npos) << o.diag.message;
    EXPECT_EQ(good.requests(), 1u);

    // A certificate of the right CA for another name: host verification refuses it.
    fake_aws other(pki.other_key.string(), pki.other_cert.string());
    opts.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", other.endpoint() + "/creds"}});
    opts.ca_file = pki.ca_cert.string();
    o = get(ioc, *make_container_credentials_provider(ioc.get_executor(), opts));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find("mismatch"), std::string::npos) << o.diag.message;
    EXPECT_EQ(other.requests(), 0u);
}

// ---------------------------------------------------------------- web identity

class WebIdentity : public CredentialsServices {
protected:
    WebIdentity() {
        token_file = dir.path() / "token";
        test::write_file(token_file, "eyJ.web-identity-token-one.sig");
        fake.set_web_identity_token_file(token_file.string());
    }
    credentials_options env(std::map<std::string, std::string> extra = {}) {
        std::map<std::string, std::string> vars{{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file.string()},
                                                {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/fluss"},
                                                {"AWS_ROLE_SESSION_NAME", "tablet-7"},
                                                {"AWS_ENDPOINT_URL_STS", fake.endpoint()}};
        for (auto& [k, v] : extra) vars[k] = v;
        return options(vars);
    }
    std::filesystem::path token_file;
};

TEST_F(WebIdentity, PostsTheFormWithTheTokenFromTheFileUnsigned) {
    auto p = make_web_identity_credentials_provider(ioc.get_executor(), env());
    EXPECT_EQ(p->describe(), "web identity (arn:aws:iam::123456789012:role/fluss)");
    auto o = get(ioc, *p);
    expect_handed_out(o, expiration);
    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].target, "/");
    EXPECT_EQ(reqs[0].verdict, "");
    EXPECT_EQ(reqs[0].header("authorization"), nullptr);
    ASSERT_TRUE(reqs[0].header("content-type"));
    EXPECT_TRUE(reqs[0].header("content-type")->starts_with("application/x-www-form-urlencoded"));
    auto form = fake_aws::parse_form(reqs[0].body);
    EXPECT_EQ(form.size(), 5u);
    EXPECT_EQ(form["Action"], "AssumeRoleWithWebIdentity");
    EXPECT_EQ(form["Version"], "2011-06-15");
    EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/fluss");
    EXPECT_EQ(form["RoleSessionName"], "tablet-7");
    EXPECT_EQ(form["WebIdentityToken"], "eyJ.web-identity-token-one.sig");
}

TEST_F(WebIdentity, ReadsTheTokenFileAgainOnEveryCall) {
    auto p = make_web_identity_credentials_provider(ioc.get_executor(), env());
    ASSERT_FALSE(get(ioc, *p).ec);
    test::write_file(token_file, "eyJ.web-identity-token-two.sig");  // the kubelet rotated it
    auto o = get(ioc, *p);
    ASSERT_FALSE(o.ec) << o.diag.message;
    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(fake_aws::parse_form(reqs[0].body)["WebIdentityToken"], "eyJ.web-identity-token-one.sig");
    EXPECT_EQ(fake_aws::parse_form(reqs[1].body)["WebIdentityToken"], "eyJ.web-identity-token-two.sig");
    EXPECT_EQ(fake.refused(), 0u);
}

TEST_F(WebIdentity, DefaultSessionName) {
    auto opts = env();
    opts.env = env_of({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file.string()},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                       {"AWS_ENDPOINT_URL", fake.endpoint()}});
    auto o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), opts));
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_TRUE(fake_aws::parse_form(fake.recorded().at(0).body)["RoleSessionName"].starts_with("fluss-fetch-"));
}

TEST_F(WebIdentity, A503OnceIsRetried) {
    fake.add_fault({aws_fault::kind::status, "", 503});
    auto o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), env()));
    expect_handed_out(o, expiration);
    EXPECT_EQ(fake.requests(), 2u);
}

TEST_F(WebIdentity, AccessDeniedIsOneRequestAndNamesTheCodeButNotTheToken) {
    fake.add_fault({aws_fault::kind::sts_error, "", 403, "AccessDenied",
                    "Not authorized to perform sts:AssumeRoleWithWebIdentity"});
    auto o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), env()));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_EQ(fake.requests(), 1u);
    EXPECT_NE(o.diag.message.find("STS AssumeRoleWithWebIdentity at " + fake.endpoint() +
                                  "/: HTTP 403 AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
              std::string::npos)
        << o.diag.message;
    EXPECT_EQ(o.diag.message.find("web-identity-token"), std::string::npos) << o.diag.message;
}

TEST_F(WebIdentity, AnErrorEchoingTheTokenIsRedacted) {
    fake.add_fault({aws_fault::kind::sts_error, "", 400, "InvalidIdentityToken",
                    "bad token eyJ.web-identity-token-one.sig"});
    auto o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), env()));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find("InvalidIdentityToken"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("web-identity-token"), std::string::npos) << o.diag.message;
}

TEST_F(WebIdentity, NotConfiguredWithoutTheTokenFileVariableAndAnErrorWithoutTheRole) {
    auto opts = options({});
    auto o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), opts));
    EXPECT_EQ(o.ec, errc::no_credentials);
    EXPECT_NE(o.diag.message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos) << o.diag.message;

    opts.env = env_of({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file.string()}});
    o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), opts));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find("AWS_ROLE_ARN"), std::string::npos) << o.diag.message;

    auto missing = env({{"AWS_WEB_IDENTITY_TOKEN_FILE", (dir.path() / "absent").string()}});
    o = get(ioc, *make_web_identity_credentials_provider(ioc.get_executor(), missing));
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_NE(o.diag.message.find((dir.path() / "absent").string()), std::string::npos) << o.diag.message;
    EXPECT_EQ(fake.requests(), 0u);
}

TEST_F(WebIdentity, CancellingAWaitingCallClosesItsConnection) {
    fake.add_fault({aws_fault::kind::stall});
    auto p = make_web_identity_credentials_provider(ioc.get_executor(), env());
    auto o = test::run_on(ioc, [&]() -> asio::awaitable<outcome> {
        outcome out;
        asio::cancellation_signal signal;
        bool done = false;
        // Cancelled by the completion handler: an event to wait on, not a sleep.
        asio::steady_timer completed(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
        auto handler = [&out, &done, &completed](error_code ec, aws_credentials) {
            out.ec = ec;
            done = true;
            completed.cancel();
        };
        p->async_get_credentials(out.diag, asio::bind_cancellation_slot(signal.slot(), handler));
        auto wait_request = [this] { return fake.wait_for_requests(1, 5s); };
        const bool seen = co_await test::off_thread(wait_request);
        EXPECT_TRUE(seen);
        signal.emit(asio::cancellation_type::terminal);
        if (!done) co_await completed.async_wait(use_tuple);
        EXPECT_TRUE(done);
        auto wait_closed = [this] { return fake.wait_for_stalls_ended(1, 5s); };
        const bool closed = co_await test::off_thread(wait_closed);
        EXPECT_TRUE(closed);  // the fake saw the client's connection close
        co_return out;
    });
    EXPECT_EQ(o.ec, asio::error::operation_aborted);
    EXPECT_EQ(fake.requests(), 1u);
}

// ---------------------------------------------------------------- AssumeRole

TEST_F(CredentialsServices, AssumeRoleIsSignedWithTheSourceKeysAndItsSessionToken) {
    fake.set_sts_source("ASIASOURCE", "source-secret-key", "source-session-token");
    aws_credentials src{"ASIASOURCE", "source-secret-key", "source-session-token"};
    auto source = std::make_shared<fixed_provider>(ioc.get_executor(), src);
    auto opts = options({{"AWS_ENDPOINT_URL_STS", fake.endpoint()}});
    opts.region = "eu-central-1";
    auto p = aws::make_assume_role_provider(ioc.get_executor(), source, "arn:aws:iam::123456789012:role/target",
                                            "replay-1", "ext-id-42", opts, "");
    EXPECT_EQ(p->describe(), "assume role (arn:aws:iam::123456789012:role/target)");
    auto o = get(ioc, *p);
    expect_handed_out(o, expiration);
    EXPECT_EQ(source->calls, 1);

    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].verdict, "");  // the fake recomputed the signature from the source keys
    EXPECT_EQ(fake.refused(), 0u);
    EXPECT_EQ(reqs[0].method, "POST");
    ASSERT_TRUE(reqs[0].header("x-amz-security-token"));
    EXPECT_EQ(*reqs[0].header("x-amz-security-token"), "source-session-token");
    const auto& auth = *reqs[0].header("authorization");
    EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIASOURCE/")) << auth;
    EXPECT_NE(auth.find("/eu-central-1/sts/aws4_request"), std::string::npos) << auth;
    EXPECT_NE(auth.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"), std::string::npos)
        << auth;
    auto form = fake_aws::parse_form(reqs[0].body);
    EXPECT_EQ(form["Action"], "AssumeRole");
    EXPECT_EQ(form["Version"], "2011-06-15");
    EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/target");
    EXPECT_EQ(form["RoleSessionName"], "replay-1");
    EXPECT_EQ(form["ExternalId"], "ext-id-42");
}

TEST_F(CredentialsServices, AssumeRoleWithLongTermSourceKeysSendsNoSecurityToken) {
    fake.set_sts_source("AKIASOURCE", "long-term-secret");
    auto source = std::make_shared<fixed_provider>(ioc.get_executor(), aws_credentials{"AKIASOURCE", "long-term-secret"});
    auto p = aws::make_assume_role_provider(ioc.get_executor(), source, "arn:aws:iam::1:role/r", "s", "",
                                            options({{"AWS_ENDPOINT_URL_STS", fake.endpoint()}}), "profile prod");
    auto o = get(ioc, *p);
    expect_handed_out(o, expiration);
    auto reqs = fake.recorded();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].verdict, "");
    EXPECT_EQ(reqs[0].header("x-amz-security-token"), nullptr);
    EXPECT_EQ(fake_aws::parse_form(reqs[0].body).count("ExternalId"), 0u);
}

TEST_F(CredentialsServices, AssumeRoleSignedWithAWrongSecretFailsOnceWithoutTheSecretInTheMessage) {
    fake.set_sts_source("AKIASOURCE", "the-real-secret");
    auto source = std::make_shared<fixed_provider>(ioc.get_executor(),
                                                   aws_credentials{"AKIASOURCE", "a-wrong-secret-value"});
    auto p = aws::make_assume_role_provider(ioc.get_executor(), source, "arn:aws:iam::1:role/r", "s", "",
                                            options({{"AWS_ENDPOINT_URL_STS", fake.endpoint()}}), "");
    auto o = get(ioc, *p);
    EXPECT_EQ(o.ec, errc::credentials_failed);
    EXPECT_EQ(fake.requests(), 1u);
    EXPECT_NE(o.diag.message.find("STS AssumeRole at " + fake.endpoint() + "/: HTTP 403 SignatureDoesNotMatch"),
              std::string::npos)
        << o.diag.message;
    EXPECT_EQ(o.diag.message.find("a-wrong-secret-value"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("the-real-secret"), std::string::npos) << o.diag.message;
}

// ---------------------------------------------------------------- small parts

TEST(CredentialsServiceParts, StsEndpoint) {
    credentials_options o;
    o.env = env_of({});
    EXPECT_EQ(aws::sts_endpoint(o, "eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
    EXPECT_EQ(aws::sts_endpoint(o, "cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
    o.env = env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}});
    EXPECT_EQ(aws::sts_endpoint(o, "eu-west-1"), "http://127.0.0.1:1");
    o.env = env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}, {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2"}});
    EXPECT_EQ(aws::sts_endpoint(o, "eu-west-1"), "http://127.0.0.1:2");
}

TEST(CredentialsServiceParts, Iso8601) {
    using namespace std::chrono;
    const auto base = sys_days{year{2026} / 12 / 2} + hours{14};
    EXPECT_EQ(aws::svc::parse_iso8601("2026-12-02T14:00:00Z"), base);
    EXPECT_EQ(aws::svc::parse_iso8601("2026-12-02T14:00:00.250Z"), base + milliseconds{250});
    EXPECT_EQ(aws::svc::parse_iso8601("2026-12-02T15:30:00+01:30"), base);
    EXPECT_EQ(aws::svc::parse_iso8601("2026-12-02T12:00:00-02:00"), base);
    EXPECT_FALSE(aws::svc::parse_iso8601("2026-12-02T14:00:00"));
    EXPECT_FALSE(aws::svc::parse_iso8601("2026-02-30T14:00:00Z"));
    EXPECT_FALSE(aws::svc::parse_iso8601("yesterday"));
}

TEST(CredentialsServiceParts, UrlForMessagesDropsUserInfoAndQuery) {
    EXPECT_EQ(aws::svc::url_for_message("http://user:pw@127.0.0.1:8080/a/b?token=x#f"), "http://127.0.0.1:8080/a/b");
}

}  // namespace
}  // namespace fluss_fetch::storage
