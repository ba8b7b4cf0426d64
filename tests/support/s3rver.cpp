#include "support/s3rver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace fluss_fetch::test {

s3rver::s3rver(options opts) {
    const std::string node_dir = std::string(FLUSS_FETCH_SOURCE_DIR) + "/tests/node";
    if (!std::filesystem::exists(node_dir + "/node_modules/@20minutes/s3rver/lib/s3rver.js"))
        throw std::runtime_error("s3rver is not installed in " + node_dir + "/node_modules: run scripts/setup");
    tls_ = !opts.tls_key.empty() && !opts.tls_cert.empty();

    std::vector<std::string> args{"node", "--openssl-legacy-provider", node_dir + "/start-s3rver.js", data_.path().string()};
    if (tls_) args.insert(args.end(), {"--key", opts.tls_key, "--cert", opts.tls_cert});
    for (const auto& b : opts.buckets) args.insert(args.end(), {"--bucket", b});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    stdin_ = in[1];  // node exits when this closes, even if the test process dies
    const std::string log = (data_.path() / "s3rver.log").string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = ::posix_spawnp(&pid_, "node", &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(in[0]);
    if (rc != 0) {
        ::close(out[0]);
        pid_ = -1;
        throw std::runtime_error(std::string("cannot start node for s3rver: ") + std::strerror(rc));
    }

    // Read "PORT n\n", 20 s at most.
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{out[0], POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[256];
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    if (!line.starts_with("PORT ")) {
        stop();
        std::string err;
        try {
            err = read_file(log);
        } catch (...) {
        }
        throw std::runtime_error("s3rver did not report its port (got '" + line + "'); its stderr: " + err);
    }
    port_ = static_cast<unsigned short>(std::stoul(line.substr(5)));
}

s3rver::~s3rver() { stop(); }

void s3rver::stop() noexcept {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {  // up to 5 s for a clean exit, then SIGKILL
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 50);
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string s3rver::endpoint() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

}  // namespace fluss_fetch::test
