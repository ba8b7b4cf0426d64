// credential_process: a good answer, Version 2 refused, a failing exit with
// its stderr line named, a timeout that kills the process group (both the
// shell and what it started are gone), cancellation, and stdout (which holds
// the secret) never quoted in an error.
#include "credentials_fakes.hpp"

#include "support/temp_dir.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace std::chrono_literals;
using test::creds_result;

namespace {

constexpr const char* secret = "wJalrXUtnFEMI-PROCESS-SECRET";

struct process_fixture {
    test::temp_dir dir{"credential-process"};
    asio::io_context ioc;
    std::chrono::milliseconds timeout{5'000};

    /// A config whose default profile runs `script` (a /bin/sh script body).
    credentials_provider_ptr provider(const std::string& script, const std::string& profile = "default") {
        auto path = dir.path() / "tool.sh";
        test::write_file(path, "#!/bin/sh\n" + script);
        fs::permissions(path, fs::perms::owner_all);
        test::write_file(dir.path() / "config", "[profile " + profile + "]\ncredential_process = " + path.string() +
                                                    " --some-arg\n");
        credentials_options o;
        o.config_file = (dir.path() / "config").string();
        o.credentials_file = (dir.path() / "none").string();
        o.profile = profile;
        o.env = test::env_map({{"HOME", dir.path().string()}});
        o.process_timeout = timeout;
        return make_process_credentials_provider(ioc.get_executor(), o);
    }

    struct outcome {
        boost::system::error_code ec;
        aws_credentials creds;
        diagnostics diag;
    };
    outcome get(credentials_provider& p) {
        outcome o;
        creds_result r;
        p.async_get_credentials(o.diag, test::record(r));
        EXPECT_FALSE(r.done) << "completed inline";
        ioc.restart();
        ioc.run();
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.times, 1);
        o.ec = r.ec;
        o.creds = r.creds;
        return o;
    }
};

std::string answer(const std::string& extra = {}) {
    return std::string("cat <<'EOF'\n{\"Version\": 1, \"AccessKeyId\": \"PROCAK\", \"SecretAccessKey\": \"") + secret +
           "\", \"SessionToken\": \"PROCTOKEN\"" + extra + "}\nEOF\n";
}

}  // namespace

TEST(CredentialsProcess, GoodAnswerWithExpiration) {
    process_fixture f;
    auto p = f.provider(answer(", \"Expiration\": \"2030-01-02T02:04:05Z\""), "dev");
    EXPECT_EQ(p->describe(), "process (profile dev (" + (f.dir.path() / "config").string() + "))");
    auto o = f.get(*p);
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.access_key_id, "PROCAK");
    EXPECT_EQ(o.creds.secret_access_key, secret);
    EXPECT_EQ(o.creds.session_token, "PROCTOKEN");
    ASSERT_TRUE(o.creds.expiration);
    EXPECT_EQ(*o.creds.expiration, std::chrono::system_clock::from_time_t(1893549845));
    EXPECT_NE(o.creds.source.find("profile dev"), std::string::npos) << o.creds.source;

    // Run again on every call: the tool decides about caching.
    auto again = f.get(*p);
    EXPECT_FALSE(again.ec);
}

TEST(CredentialsProcess, ArgumentsReachTheToolAndStdinIsEmpty) {
    process_fixture f;
    auto p = f.provider("[ \"$1\" = --some-arg ] || exit 7\n"
                        "[ -z \"$(cat)\" ] || exit 8\n" +
                        answer());
    auto o = f.get(*p);
    EXPECT_FALSE(o.ec) << o.diag.message;
}

TEST(CredentialsProcess, LongTermKeysWithoutExpiration) {
    process_fixture f;
    auto o = f.get(*f.provider("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'\n"));
    ASSERT_FALSE(o.ec) << o.diag.message;
    EXPECT_EQ(o.creds.session_token, "");
    EXPECT_FALSE(o.creds.expiration);
}

TEST(CredentialsProcess, Version2IsRefused) {
    process_fixture f;
    auto o = f.get(*f.provider(
        std::string("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"") + secret + "\"}'\n"));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("Version 2"), std::string::npos) << o.diag.message;
    EXPECT_NE(o.diag.message.find("profile default"), std::string::npos) << o.diag.message;
    EXPECT_EQ(o.diag.message.find(secret), std::string::npos) << o.diag.message;
}

TEST(CredentialsProcess, NonZeroExitNamesStatusAndStderrsFirstLine) {
    process_fixture f;
    auto o = f.get(*f.provider(std::string("echo '{\"SecretAccessKey\": \"") + secret +
                               "\"}'\necho 'sso session expired, run aws sso login' >&2\n"
                               "echo 'second line' >&2\nexit 3\n"));
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    const auto& m = o.diag.message;
    EXPECT_NE(m.find("exited with status 3: sso session expired, run aws sso login"), std::string::npos) << m;
    EXPECT_NE(m.find("tool.sh"), std::string::npos) << "names the program: " << m;
    EXPECT_EQ(m.find("--some-arg"), std::string::npos) << "not its arguments: " << m;
    EXPECT_EQ(m.find("second line"), std::string::npos) << m;
    EXPECT_EQ(m.find(secret), std::string::npos) << m;
}

TEST(CredentialsProcess, StdoutNeverAppearsInAnError) {
    process_fixture f;
    // Not JSON, truncated JSON, a wrong type: the text (and the secret) stays out.
    for (std::string body : {std::string("echo 'AccessKeyId=A SecretAccessKey=") + secret + "'\n",
                             std::string("printf '{\"Version\": 1, \"SecretAccessKey\": \"") + secret + "'\n",
                             std::string("echo '{\"Version\": 1, \"AccessKeyId\": 5, \"SecretAccessKey\": \"") +
                                 secret + "\"}'\n",
                             std::string("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"") +
                                 secret + "\", \"Expiration\": \"soon\"}'\n",
                             std::string("echo '[\"") + secret + "\"]'\n"}) {
        auto o = f.get(*f.provider(body));
        EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed)) << body;
        EXPECT_NE(o.diag.message.find("credential_process of profile default"), std::string::npos) << o.diag.message;
        EXPECT_EQ(o.diag.message.find(secret), std::string::npos) << o.diag.message;
        EXPECT_EQ(o.diag.to_string(o.ec).find(secret), std::string::npos);
    }
}

TEST(CredentialsProcess, NoCredentialProcessIsNotConfigured) {
    process_fixture f;
    test::write_file(f.dir.path() / "config", "[default]\nregion = x\n");
    credentials_options o;
    o.config_file = (f.dir.path() / "config").string();
    o.credentials_file = (f.dir.path() / "none").string();
    o.env = test::env_map({});
    auto p = make_process_credentials_provider(f.ioc.get_executor(), o);
    auto r = f.get(*p);
    EXPECT_EQ(r.ec, make_error_code(errc::no_credentials));
    EXPECT_EQ(r.diag.message, "process: profile default has no credential_process");
}

TEST(CredentialsProcess, TimeoutKillsTheProcessGroup) {
    process_fixture f;
    f.timeout = 300ms;
    auto pids = f.dir.path() / "pids";
    // The shell and a child of it that holds stdout open; both must die.
    auto p = f.provider("echo $$ > " + pids.string() + "\nsleep 30 &\necho $! >> " + pids.string() +
                        "\necho started >&2\nwait\n");
    // Become the subreaper, so the orphaned `sleep` is ours to wait for.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    auto o = f.get(*p);
    EXPECT_EQ(o.ec, make_error_code(errc::credentials_failed));
    EXPECT_NE(o.diag.message.find("no answer within 300 ms"), std::string::npos) << o.diag.message;
    EXPECT_NE(o.diag.message.find("killed"), std::string::npos) << o.diag.message;

    std::ifstream in(pids);
    pid_t shell = 0, child = 0;
    in >> shell >> child;
    ASSERT_GT(shell, 0) << "the script did not start within the timeout";
    ASSERT_GT(child, 0);
    // As the subreaper, every orphan of the killed group becomes our child:
    // wait (blocking: no sleep) while a recorded pid still exists. The
    // provider reaped its own child; the others must show up killed by SIGKILL.
    std::set<pid_t> want{shell, child};
    int killed = 0;
    for (;;) {
        for (auto it = want.begin(); it != want.end();)  // gone for good (the provider reaped it)
            it = (::kill(*it, 0) == -1 && errno == ESRCH) ? want.erase(it) : std::next(it);
        if (want.empty()) break;
        int status = 0;
        pid_t r = ::waitpid(-1, &status, 0);
        if (r < 0) break;  // ECHILD: nothing of ours is left
        if (want.erase(r)) {
            EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "pid " << r << " status " << status;
            ++killed;
        }
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    for (pid_t p : want) {
        EXPECT_EQ(::kill(p, 0), -1) << "pid " << p << " still exists";
        EXPECT_EQ(errno, ESRCH);
    }
    EXPECT_GE(killed, 1) << "the background sleep was killed, not left running";
}

TEST(CredentialsProcess, CancellationKillsItAndCompletesWithOperationAborted) {
    process_fixture f;
    auto started = f.dir.path() / "started";
    auto p = f.provider("touch " + started.string() + "\nexec sleep 30\n");
    asio::cancellation_signal sig;
    creds_result r;
    diagnostics d;
    p->async_get_credentials(d, asio::bind_cancellation_slot(sig.slot(), test::record(r)));
    // Cancel once the tool has started (seen through its marker file), from
    // the io_context's thread as Asio expects.
    asio::steady_timer t(f.ioc);
    std::function<void()> check = [&] {
        if (fs::exists(started)) return sig.emit(asio::cancellation_type::terminal);
        t.expires_after(5ms);
        t.async_wait([&](boost::system::error_code) { check(); });
    };
    check();
    f.ioc.run();
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.times, 1);
    EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

TEST(CredentialsProcess, CancellationRightAfterTheCallStartsNothing) {
    process_fixture f;
    auto started = f.dir.path() / "started";
    auto p = f.provider("touch " + started.string() + "\nexec sleep 30\n");
    asio::cancellation_signal sig;
    creds_result r;
    diagnostics d;
    p->async_get_credentials(d, asio::bind_cancellation_slot(sig.slot(), test::record(r)));
    sig.emit(asio::cancellation_type::terminal);
    EXPECT_FALSE(r.done) << "not inline";
    f.ioc.run();
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, asio::error::operation_aborted);
    EXPECT_FALSE(fs::exists(started)) << "the tool never ran";
}
