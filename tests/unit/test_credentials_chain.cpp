// The credentials chain and the local providers: order (environment over
// profile over process), "no credentials" naming every place tried, a
// configured provider that fails ending the chain, the environment's edge
// cases, the profile's static keys from each file and their precedence,
// role_arn + source_profile / web_identity_token_file through the STS seam
// (test doubles), source_profile loops, and where completions run.
#include "credentials_fakes.hpp"

#include "storage/aws/profile.hpp"
#include "support/temp_dir.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace std::chrono_literals;
using test::creds_result;
using test::env_map;

namespace {

struct outcome {
    boost::system::error_code ec;
    aws_credentials creds;
    diagnostics diag;
};

/// Run one get to completion on `ioc`, checking it did not complete inline.
outcome get(asio::io_context& ioc, credentials_provider& p) {
    outcome o;
    creds_result r;
    p.async_get_credentials(o.diag, test::record(r));
    EXPECT_FALSE(r.done) << p.describe() << " completed inside async_get_credentials";
    ioc.restart();
    ioc.run();
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.times, 1);
    o.ec = r.ec;
    o.creds = std::move(r.creds);
    return o;
}

/// A home with ~/.aws files, and the env that points at it.
struct aws_home {
    test::temp_dir dir{"aws-home"};
    std::map<std::string, std::string> vars{{"HOME", dir.path().string()},
                                            {"AWS_EC2_METADATA_DISABLED", "true"}};
    fs::path credentials() const { return dir.path() / ".aws/credentials"; }
    fs::path config() const { return dir.path() / ".aws/config"; }
    void write_credentials(const std::string& s) { test::write_file(credentials(), s); }
    void write_config(const std::string& s) { test::write_file(config(), s); }
    credentials_options opts() const {
        credentials_options o;
        o.env = env_map(vars);
        o.process_timeout = 5s;
        return o;
    }
};

/// A provider that always gives `ec` (and counts its calls).
class fixed : public credentials_provider {
public:
    fixed(asio::any_io_executor ex, std::string name, boost::system::error_code ec, std::string msg,
          std::string key = {})
        : ex_(std::move(ex)), name_(std::move(name)), ec_(ec), msg_(std::move(msg)), key_(std::move(key)) {}
    std::string describe() const override { return name_; }
    int calls = 0;

protected:
    void do_get_credentials(diagnostics& d, credentials_handler h) override {
        ++calls;
        d.clear();
        d.message = msg_;
        aws_credentials c;
        if (!ec_) {
            c.access_key_id = key_;
            c.secret_access_key = "S";
            c.source = name_;
        }
        asio::post(ex_, [h = std::move(h), ec = ec_, c]() mutable { std::move(h)(ec, c); });
    }

private:
    asio::any_io_executor ex_;
    std::string name_;
    boost::system::error_code ec_;
    std::string msg_, key_;
};

auto no_creds = make_error_code(errc::no_credentials);

}  // namespace

// --- the chain on its own ----------------------------------------------------

TEST(CredentialsChain, FirstConfiguredProviderAnswers) {
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto a = std::make_shared<fixed>(ex, "a", no_creds, "a: nothing here");
    auto b = std::make_shared<fixed>(ex, "b", boost::system::error_code{}, "", "FROM-B");
    auto c = std::make_shared<fixed>(ex, "c", boost::system::error_code{}, "", "FROM-C");
    auto chain = make_chain_credentials_provider(ex, {a, b, c}, "my chain");
    EXPECT_EQ(chain->describe(), "my chain");
    auto o = get(ioc, *chain);
    EXPECT_FALSE(o.ec);
    EXPECT_EQ(o.creds.access_key_id, "FROM-B");
    EXPECT_EQ(a->calls, 1);
    EXPECT_EQ(b->calls, 1);
    EXPECT_EQ(c->calls, 0) << "the chain stops at the first answer";
}

TEST(CredentialsChain, NoCredentialsJoinsEveryProvidersMessage) {
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto chain = make_chain_credentials_provider(
        ex, {std::make_shared<fixed>(ex, "environment", no_creds, "environment: AWS_ACCESS_KEY_ID is not set"),
             std::make_shared<fixed>(ex, "profile default", no_creds, "profile default: not in /x or /y"),
             std::make_shared<fixed>(ex, "silent", no_creds, "")});
    auto o = get(ioc, *chain);
    EXPECT_EQ(o.ec, no_creds);
    EXPECT_EQ(o.diag.message,
              "no credentials: environment: AWS_ACCESS_KEY_ID is not set; profile default: not in /x or /y; "
              "silent: not configured");
}

TEST(CredentialsChain, AConfiguredProviderThatFailsEndsTheChain) {
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto a = std::make_shared<fixed>(ex, "a", no_creds, "a: nothing");
    auto b = std::make_shared<fixed>(ex, "web identity", make_error_code(errc::credentials_failed),
                                     "web identity: STS AssumeRoleWithWebIdentity: HTTP 403 AccessDenied");
    auto c = std::make_shared<fixed>(ex, "IMDS", boost::system::error_code{}, "", "INSTANCE-ROLE");
    auto chain = make_chain_credentials_provider(ex, {a, b, c});
    auto o = get(ioc, *chain);
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_EQ(o.diag.message, "web identity: STS AssumeRoleWithWebIdentity: HTTP 403 AccessDenied");
    EXPECT_EQ(c->calls, 0) << "never falls back to the instance role";
}

TEST(CredentialsChain, EmptyChainSaysSo) {
    asio::io_context ioc;
    auto chain = make_chain_credentials_provider(ioc.get_executor(), {}, "nothing");
    auto o = get(ioc, *chain);
    EXPECT_EQ(o.ec, no_creds);
    EXPECT_NE(o.diag.message.find("no providers"), std::string::npos) << o.diag.message;
}

TEST(CredentialsChain, CompletesOnTheHandlersAssociatedExecutor) {
    asio::io_context ioc, other;
    auto ex = ioc.get_executor();
    auto chain = make_chain_credentials_provider(
        ex, {std::make_shared<fixed>(ex, "a", no_creds, "a: no"),
             make_static_credentials_provider(ex, aws_credentials{"AK", "SK", "", std::nullopt, ""})});
    bool ran = false, on_other = false;
    diagnostics d;
    aws_credentials got;
    chain->async_get_credentials(d, asio::bind_executor(other, [&](boost::system::error_code, aws_credentials c) {
                                     ran = true;
                                     on_other = other.get_executor().running_in_this_thread();
                                     got = c;
                                 }));
    ioc.run();
    EXPECT_FALSE(ran);
    other.run();
    EXPECT_TRUE(ran);
    EXPECT_TRUE(on_other);
    EXPECT_EQ(got.access_key_id, "AK");
    EXPECT_EQ(got.source, "explicit");
}

// --- static and environment --------------------------------------------------

TEST(CredentialsChain, StaticProvider) {
    asio::io_context ioc;
    auto p = make_static_credentials_provider(ioc.get_executor(), aws_credentials{"AK", "SK", "T", std::nullopt, ""});
    EXPECT_EQ(p->describe(), "explicit");
    auto o = get(ioc, *p);
    EXPECT_FALSE(o.ec);
    EXPECT_EQ(o.creds.secret_access_key, "SK");
    EXPECT_EQ(o.creds.session_token, "T");

    auto empty = make_static_credentials_provider(ioc.get_executor(), aws_credentials{"AK", "", "", std::nullopt, ""});
    o = get(ioc, *empty);
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("secret access key is empty"), std::string::npos) << o.diag.message;
}

TEST(CredentialsChain, EnvironmentKeysTokenAndExpiration) {
    asio::io_context ioc;
    credentials_options opts;
    opts.env = env_map({{"AWS_ACCESS_KEY_ID", "ENVAK"},
                        {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                        {"AWS_SESSION_TOKEN", "ENVTOKEN"},
                        {"AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05.250+01:00"}});
    auto p = make_environment_credentials_provider(ioc.get_executor(), opts);
    EXPECT_EQ(p->describe(), "environment");
    auto o = get(ioc, *p);
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "ENVAK");
    EXPECT_EQ(o.creds.secret_access_key, "ENVSECRET");
    EXPECT_EQ(o.creds.session_token, "ENVTOKEN");
    EXPECT_EQ(o.creds.source, "environment");
    ASSERT_TRUE(o.creds.expiration);
    // 2030-01-02T02:04:05.250Z
    auto want = std::chrono::system_clock::from_time_t(1893549845) + 250ms;
    EXPECT_EQ(*o.creds.expiration, want);
}

TEST(CredentialsChain, EnvironmentEdgeCases) {
    asio::io_context ioc;
    auto run = [&](std::map<std::string, std::string> vars) {
        credentials_options opts;
        opts.env = env_map(std::move(vars));
        auto p = make_environment_credentials_provider(ioc.get_executor(), opts);
        return get(ioc, *p);
    };
    auto o = run({});
    EXPECT_EQ(o.ec, no_creds);
    EXPECT_EQ(o.diag.message, "environment: AWS_ACCESS_KEY_ID is not set");

    o = run({{"AWS_ACCESS_KEY_ID", "AK"}});
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed)) << "a key id without its secret is a broken setup";
    EXPECT_NE(o.diag.message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos) << o.diag.message;

    o = run({{"AWS_SECRET_ACCESS_KEY", "TOPSECRET"}});
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("AWS_ACCESS_KEY_ID is not"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("TOPSECRET"), std::string::npos);

    o = run({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}});
    EXPECT_EQ(o.ec, no_creds) << "empty variables count as unset";

    o = run({{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "TOPSECRET"}, {"AWS_SESSION_TOKEN", ""}});
    EXPECT_FALSE(o.ec);
    EXPECT_EQ(o.creds.session_token, "");
    EXPECT_FALSE(o.creds.expiration);

    o = run({{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "TOPSECRET"},
             {"AWS_CREDENTIAL_EXPIRATION", "tomorrow"}});
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("AWS_CREDENTIAL_EXPIRATION"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("TOPSECRET"), std::string::npos);
}

// --- the profile ----------------------------------------------------------------

TEST(CredentialsChain, ProfileStaticKeysFromEitherFile) {
    asio::io_context ioc;
    {
        aws_home home;
        home.write_credentials("[default]\naws_access_key_id = CREDAK\naws_secret_access_key = CREDSK\n");
        auto p = make_profile_credentials_provider(ioc.get_executor(), home.opts());
        EXPECT_EQ(p->describe(), "profile default");
        auto o = get(ioc, *p);
        ASSERT_FALSE(o.ec) << o.diag.message;
        EXPECT_EQ(o.creds.access_key_id, "CREDAK");
        EXPECT_EQ(o.creds.source, "profile default (" + home.credentials().string() + ")");
    }
    {
        aws_home home;
        home.write_config("[profile dev]\naws_access_key_id = CONFAK\naws_secret_access_key = CONFSK\n"
                          "aws_session_token = CONFTOKEN\n");
        home.vars["AWS_PROFILE"] = "dev";
        auto p = make_profile_credentials_provider(ioc.get_executor(), home.opts());
        auto o = get(ioc, *p);
        ASSERT_FALSE(o.ec) << o.diag.message;
        EXPECT_EQ(o.creds.access_key_id, "CONFAK");
        EXPECT_EQ(o.creds.session_token, "CONFTOKEN");
        EXPECT_EQ(o.creds.source, "profile dev (" + home.config().string() + ")");
    }
}

TEST(CredentialsChain, ProfileCredentialsFileWinsOverConfigFile) {
    asio::io_context ioc;
    aws_home home;
    home.write_credentials("[dev]\naws_access_key_id = CREDAK\naws_secret_access_key = CREDSK\n");
    home.write_config("[profile dev]\naws_access_key_id = CONFAK\naws_secret_access_key = CONFSK\n");
    auto opts = home.opts();
    opts.profile = "dev";
    auto o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), opts));
    ASSERT_FALSE(o.ec);
    EXPECT_EQ(o.creds.access_key_id, "CREDAK");
    EXPECT_EQ(o.creds.secret_access_key, "CREDSK");
}

TEST(CredentialsChain, ProfileNotConfiguredNamesTheFiles) {
    asio::io_context ioc;
    aws_home home;
    auto o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, no_creds);
    EXPECT_NE(o.diag.message.find("profile default: not in " + home.credentials().string() + " (no such file)"),
              std::string::npos)
        << o.diag.message;
    EXPECT_NE(o.diag.message.find(home.config().string()), std::string::npos) << o.diag.message;

    home.write_config("[default]\nregion = eu-west-1\n");
    o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, no_creds) << "a profile with only a region has no credentials";
    EXPECT_NE(o.diag.message.find(home.config().string() + ":1"), std::string::npos) << o.diag.message;
}

TEST(CredentialsChain, ProfileBrokenSetupsFail) {
    asio::io_context ioc;
    aws_home home;
    home.write_credentials("[default]\naws_access_key_id = AK\n");
    auto o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("aws_secret_access_key"), std::string::npos) << o.diag.message;
    EXPECT_NE(o.diag.message.find(home.credentials().string() + ":1"), std::string::npos) << o.diag.message;

    home.write_credentials("[default]\naws_access_key_id AK\n");
    o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, make_error_code(errc::bad_credentials_file));
    EXPECT_NE(o.diag.message.find(home.credentials().string() + ":2"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find("bad credentials file"), std::string::npos)
        << "the category's words are not repeated: " << o.diag.message;

    home.write_credentials("[default]\nrole_arn = arn:aws:iam::1:role/r\n");
    o = get(ioc, *make_profile_credentials_provider(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("role_arn without source_profile"), std::string::npos) << o.diag.message;
}

namespace {

/// The STS seam, recorded: what a profile asked for, and the source's keys
/// the assumed role would be signed with.
struct sts_double {
    struct call {
        std::string role_arn, session_name, external_id, region, description;
        credentials_provider_ptr source;
        std::string token_file;
    };
    std::vector<call> calls;

    aws::role_factories factories() {
        aws::role_factories f;
        f.assume_role = [this](asio::any_io_executor ex, credentials_provider_ptr source, std::string role,
                               std::string session, std::string external, credentials_options o, std::string desc) {
            calls.push_back({role, session, external, o.region, desc, source, {}});
            return make_static_credentials_provider(ex, aws_credentials{"ASSUMED:" + role, "ASSUMED-SK", "ASSUMED-T",
                                                                        std::nullopt, desc});
        };
        f.web_identity = [this](asio::any_io_executor ex, std::string token_file, std::string role,
                                std::string session, credentials_options o, std::string desc) {
            calls.push_back({role, session, {}, o.region, desc, nullptr, token_file});
            return make_static_credentials_provider(ex, aws_credentials{"WEBID:" + role, "W-SK", "W-T", std::nullopt,
                                                                        desc});
        };
        return f;
    }
};

}  // namespace

TEST(CredentialsChain, RoleArnWithSourceProfileAssumesWithTheSourcesKeys) {
    asio::io_context ioc;
    aws_home home;
    home.write_credentials("[base]\naws_access_key_id = BASEAK\naws_secret_access_key = BASESK\n");
    home.write_config("[profile app]\nrole_arn = arn:aws:iam::123:role/app\nsource_profile = base\n"
                      "role_session_name = recovery-1\nexternal_id = ext-9\nregion = eu-central-1\n");
    auto opts = home.opts();
    opts.profile = "app";
    sts_double sts;
    auto p = aws::make_profile_provider(ioc.get_executor(), opts, sts.factories());
    EXPECT_EQ(p->describe(), "profile app");
    auto o = get(ioc, *p);
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "ASSUMED:arn:aws:iam::123:role/app");
    ASSERT_EQ(sts.calls.size(), 1u);
    const auto& c = sts.calls[0];
    EXPECT_EQ(c.role_arn, "arn:aws:iam::123:role/app");
    EXPECT_EQ(c.session_name, "recovery-1");
    EXPECT_EQ(c.external_id, "ext-9");
    EXPECT_EQ(c.region, "eu-central-1") << "STS in the profile's region";
    ASSERT_TRUE(c.source);
    auto src = get(ioc, *c.source);
    ASSERT_FALSE(src.ec);
    EXPECT_EQ(src.creds.access_key_id, "BASEAK");
    EXPECT_EQ(src.creds.secret_access_key, "BASESK");
    EXPECT_EQ(src.creds.source, "profile base (" + home.credentials().string() + ")");
}

TEST(CredentialsChain, RoleChainsFollowSourceProfiles) {
    asio::io_context ioc;
    aws_home home;
    home.write_config("[profile a]\nrole_arn = arn:role/a\nsource_profile = b\n"
                      "[profile b]\nrole_arn = arn:role/b\nsource_profile = c\n"
                      "[profile c]\naws_access_key_id = CAK\naws_secret_access_key = CSK\n"
                      "role_arn = arn:role/c-ignored\n");
    auto opts = home.opts();
    opts.profile = "a";
    sts_double sts;
    auto o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), opts, sts.factories()));
    ASSERT_FALSE(o.ec) << o.diag.message;
    ASSERT_EQ(sts.calls.size(), 2u);
    // b is made first (as a's source), then a.
    EXPECT_EQ(sts.calls[0].role_arn, "arn:role/b");
    EXPECT_EQ(sts.calls[1].role_arn, "arn:role/a");
    auto b_source = get(ioc, *sts.calls[0].source);
    EXPECT_EQ(b_source.creds.access_key_id, "CAK") << "a source profile with keys gives its keys";
    auto a_source = get(ioc, *sts.calls[1].source);
    EXPECT_EQ(a_source.creds.access_key_id, "ASSUMED:arn:role/b");
    EXPECT_NE(sts.calls[0].session_name.find("fluss-fetch-"), std::string::npos) << "a default session name";
}

TEST(CredentialsChain, SourceProfileLoopsAreRefusedNamingTheChain) {
    asio::io_context ioc;
    aws_home home;
    home.write_config("[profile a]\nrole_arn = arn:role/a\nsource_profile = b\n"
                      "[profile b]\nrole_arn = arn:role/b\nsource_profile = c\n"
                      "[profile c]\nrole_arn = arn:role/c\nsource_profile = a\n"
                      "[profile self]\nrole_arn = arn:role/s\nsource_profile = self\n"
                      "[profile selfkeys]\nrole_arn = arn:role/k\nsource_profile = selfkeys\n"
                      "aws_access_key_id = SELFAK\naws_secret_access_key = SELFSK\n"
                      "[profile dangling]\nrole_arn = arn:role/d\nsource_profile = nowhere\n");
    sts_double sts;
    auto opts = home.opts();
    opts.profile = "a";
    auto o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), opts, sts.factories()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("a → b → c → a"), std::string::npos) << o.diag.message;

    opts.profile = "self";
    o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), opts, sts.factories()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("self → self"), std::string::npos) << o.diag.message;

    opts.profile = "selfkeys";
    o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), opts, sts.factories()));
    ASSERT_FALSE(o.ec) << "a profile may assume its role with its own keys: " << o.diag.message;
    ASSERT_FALSE(sts.calls.empty());
    EXPECT_EQ(get(ioc, *sts.calls.back().source).creds.access_key_id, "SELFAK");

    opts.profile = "dangling";
    o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), opts, sts.factories()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("source_profile nowhere"), std::string::npos) << o.diag.message;
}

TEST(CredentialsChain, RoleArnWithWebIdentityTokenFile) {
    asio::io_context ioc;
    aws_home home;
    home.write_config("[default]\nrole_arn = arn:aws:iam::1:role/irsa\nweb_identity_token_file = /var/run/token\n");
    sts_double sts;
    auto o = get(ioc, *aws::make_profile_provider(ioc.get_executor(), home.opts(), sts.factories()));
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "WEBID:arn:aws:iam::1:role/irsa");
    ASSERT_EQ(sts.calls.size(), 1u);
    EXPECT_EQ(sts.calls[0].token_file, "/var/run/token");
}

// --- the default chain, with the real providers ----------------------------------

TEST(CredentialsChain, DefaultChainEnvironmentWinsOverProfile) {
    asio::io_context ioc;
    aws_home home;
    home.write_credentials("[default]\naws_access_key_id = PROFAK\naws_secret_access_key = PROFSK\n");
    home.vars["AWS_ACCESS_KEY_ID"] = "ENVAK";
    home.vars["AWS_SECRET_ACCESS_KEY"] = "ENVSK";
    auto chain = make_default_credentials_chain(ioc.get_executor(), home.opts());
    EXPECT_EQ(chain->describe(), "default chain");
    auto o = get(ioc, *chain);
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "ENVAK");
    EXPECT_EQ(o.creds.source, "environment");
}

TEST(CredentialsChain, DefaultChainProfileWinsOverProcess) {
    asio::io_context ioc;
    aws_home home;
    auto marker = home.dir.path() / "process-ran";
    home.write_config("[default]\naws_access_key_id = PROFAK\naws_secret_access_key = PROFSK\n"
                      "credential_process = touch " + marker.string() + "\n");
    auto o = get(ioc, *make_default_credentials_chain(ioc.get_executor(), home.opts()));
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "PROFAK");
    EXPECT_FALSE(fs::exists(marker)) << "the process provider was not asked";
}

TEST(CredentialsChain, DefaultChainFallsThroughToTheProcess) {
    asio::io_context ioc;
    aws_home home;
    auto script = home.dir.path() / "creds.sh";
    test::write_file(script, "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"PROCAK\", "
                             "\"SecretAccessKey\": \"PROCSK\"}'\n");
    fs::permissions(script, fs::perms::owner_all);
    home.write_config("[default]\nregion = us-west-2\ncredential_process = " + script.string() + "\n");
    auto o = get(ioc, *make_default_credentials_chain(ioc.get_executor(), home.opts()));
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "PROCAK");
    EXPECT_EQ(o.creds.source, "process (profile default (" + home.config().string() + "))");
}

TEST(CredentialsChain, DefaultChainNoCredentialsListsEveryPlace) {
    asio::io_context ioc;
    aws_home home;
    auto o = get(ioc, *make_default_credentials_chain(ioc.get_executor(), home.opts()));
    ASSERT_EQ(o.ec, no_creds) << o.diag.message;
    const auto& m = o.diag.message;
    EXPECT_EQ(m.rfind("no credentials: environment: AWS_ACCESS_KEY_ID is not set; profile default: not in ", 0), 0u)
        << m;
    std::string lower = m;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    for (const char* place : {"environment", "profile default", "process:", "web identity", "container"})
        EXPECT_NE(lower.find(place), std::string::npos) << place << " missing in: " << m;
    EXPECT_TRUE(lower.find("imds") != std::string::npos || lower.find("metadata") != std::string::npos) << m;
}

TEST(CredentialsChain, DefaultChainABrokenEnvironmentStopsIt) {
    asio::io_context ioc;
    aws_home home;
    home.write_credentials("[default]\naws_access_key_id = PROFAK\naws_secret_access_key = PROFSK\n");
    home.vars["AWS_ACCESS_KEY_ID"] = "ENVAK";
    auto o = get(ioc, *make_default_credentials_chain(ioc.get_executor(), home.opts()));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << o.diag.message;
}
