// credential_process: run the profile's command through /bin/sh -c in a
// process group of its own (stdin /dev/null, stdout and stderr through pipes
// read on the provider's executor), wait for its exit through a pidfd (or a
// short WNOHANG poll where pidfd_open is refused), kill the whole group on a
// timeout or a cancellation, and read the JSON answer:
//   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//    "SessionToken": "...", "Expiration": "2026-12-02T14:00:00Z"}
// stdout may hold secrets: no byte of it reaches a message. stderr's first
// line does (it is the tool's own explanation).
#include "storage/aws/providers_detail.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fluss_fetch::storage::aws {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t max_stdout = 1 << 20;  // a credentials answer is a few hundred bytes
constexpr std::size_t max_stderr = 16 << 10;

/// The first word of the command: names the tool without its arguments
/// (which may carry a secret).
std::string program_of(const std::string& command) {
    auto b = command.find_first_not_of(" \t\n");
    if (b == std::string::npos) return {};
    auto e = command.find_first_of(" \t\n", b);
    return command.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

std::string first_line(const std::string& s) {
    auto e = s.find_first_of("\r\n");
    std::string l = s.substr(0, e);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (l.size() > 300) l = l.substr(0, 300) + "...";
    return l;
}

struct fd_closer {
    int fd = -1;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
    int release() {
        int f = fd;
        fd = -1;
        return f;
    }
};

/// One run of the command.
class run : public std::enable_shared_from_this<run> {
public:
    using handler_type = asio::any_completion_handler<void(error_code, aws_credentials)>;

    run(asio::any_io_executor ex, std::string command, std::string who, std::chrono::milliseconds timeout,
        diagnostics& diag, handler_type h)
        : ex_(std::move(ex)), strand_(asio::make_strand(ex_)), out_(strand_), err_(strand_), exit_(strand_),
          timer_(strand_), command_(std::move(command)), who_(std::move(who)), timeout_(timeout), diag_(&diag),
          handler_(std::move(h)) {}

    ~run() {
        // Only when the executor went away mid-run (its handlers destroyed
        // unrun): leave no process and no zombie behind.
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    }

    void start() {
        // Cancellation from the caller: onto the strand, then kill (or, when
        // it comes before the spawn, do not start at all).
        auto slot = asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            std::weak_ptr<run> weak = shared_from_this();
            slot.assign([weak](asio::cancellation_type) {
                if (auto self = weak.lock()) {
                    self->cancel_requested_.store(true);  // seen by a spawn that has not run yet
                    asio::post(self->strand_, [self] { self->abort(abort_reason::cancelled); });
                }
            });
        }
        // On the strand: every member below is touched only there.
        asio::post(strand_, [self = shared_from_this()] { self->spawn(); });
    }

private:
    void spawn() {
        if (cancel_requested_.load()) reason_ = abort_reason::cancelled;
        if (reason_ == abort_reason::cancelled) {
            finished_ = true;
            return conclude();
        }
        int out[2], err[2];
        if (::pipe2(out, O_CLOEXEC) != 0) return fail_now("cannot create a pipe: " + std::string(std::strerror(errno)));
        fd_closer out_r{out[0]}, out_w{out[1]};
        if (::pipe2(err, O_CLOEXEC) != 0) return fail_now("cannot create a pipe: " + std::string(std::strerror(errno)));
        fd_closer err_r{err[0]}, err_w{err[1]};

        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        // Its own process group, so that a timeout kills what it started too;
        // default signal dispositions and an empty mask whatever ours are.
        posix_spawnattr_setpgroup(&attr, 0);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT}) sigaddset(&defaults, s);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        const char* argv[] = {"sh", "-c", command_.c_str(), nullptr};
        pid_t pid = -1;
        int rc = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) return fail_now("cannot start /bin/sh: " + std::string(std::strerror(rc)));
        pid_ = pid;
        // The child has its copies; ours of the write ends must go, or EOF never comes.
        ::close(out_w.release());
        ::close(err_w.release());
        error_code ec;
        out_.assign(out_r.release(), ec);
        if (!ec) err_.assign(err_r.release(), ec);
        if (ec) {
            kill_group();
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            return fail_now("cannot watch the pipes: " + ec.message());
        }


        timer_.expires_after(timeout_);
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->abort(abort_reason::timed_out);
        });
        read_out();
        read_err();
        watch_exit();
    }

    enum class abort_reason { none, timed_out, cancelled };

    void abort(abort_reason why) {
        if (finished_ || reason_ != abort_reason::none) return;
        reason_ = why;
        // Also after the shell exited: what it left behind in its group (a
        // background child holding stdout) goes too.
        kill_group();
        maybe_finish();
    }

    void kill_group() {
        // pid_ leads the group (POSIX_SPAWN_SETPGROUP with 0); after the
        // shell was reaped the group lives on while a member does.
        if (pid_ > 0) ::kill(-pid_, SIGKILL);
    }

    void read_out() {
        out_.async_read_some(asio::buffer(out_buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (n > 0 && self->stdout_.size() < max_stdout) self->stdout_.append(self->out_buf_.data(), n);
            if (self->stdout_.size() >= max_stdout) self->too_much_ = true;
            if (ec) {
                self->out_eof_ = true;
                self->maybe_finish();
            } else {
                self->read_out();
            }
        });
    }

    void read_err() {
        err_.async_read_some(asio::buffer(err_buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (n > 0 && self->stderr_.size() < max_stderr) self->stderr_.append(self->err_buf_.data(), n);
            if (ec) {
                self->err_eof_ = true;
                self->maybe_finish();
            } else {
                self->read_err();
            }
        });
    }

    void watch_exit() {
#ifdef SYS_pidfd_open
        int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pfd >= 0) {
            ::fcntl(pfd, F_SETFD, FD_CLOEXEC);
            error_code ec;
            exit_.assign(pfd, ec);
            if (!ec) {
                exit_.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [self = shared_from_this()](error_code) { self->reap(); });
                return;
            }
            ::close(pfd);
        }
#endif
        poll_exit();
    }

    // Where pidfd_open is not allowed (old kernels, seccomp): ask every 10 ms.
    void poll_exit() {
        if (try_reap()) return maybe_finish();
        auto t = std::make_shared<asio::steady_timer>(strand_, std::chrono::milliseconds(10));
        t->async_wait([self = shared_from_this(), t](error_code) { self->poll_exit(); });
    }

    bool try_reap() {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno == ECHILD)) {
            exited_ = true;
            status_ = r == pid_ ? status : -1;
            return true;
        }
        return false;
    }

    void reap() {
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid_, &status, 0);  // readable pidfd: it has exited, this does not block
        } while (r < 0 && errno == EINTR);
        exited_ = true;
        status_ = r == pid_ ? status : -1;
        maybe_finish();
    }

    void maybe_finish() {
        if (finished_ || !exited_) return;
        // After a kill, a grandchild outside the group may still hold the
        // pipes: do not wait for their EOF then.
        if (reason_ == abort_reason::none && (!out_eof_ || !err_eof_)) return;
        finished_ = true;
        timer_.cancel();
        error_code ig;
        out_.close(ig);
        err_.close(ig);
        exit_.close(ig);
        pid_ = -1;
        conclude();
    }

    void conclude() {
        std::string where = "credential_process of " + who_;
        std::string prog = program_of(command_);
        if (!prog.empty()) where += " (" + prog + ")";
        if (reason_ == abort_reason::cancelled) return complete(asio::error::operation_aborted, {}, where + ": cancelled");
        if (reason_ == abort_reason::timed_out)
            return complete(make_error_code(errc::credentials_failed), {},
                            where + ": no answer within " + std::to_string(timeout_.count()) +
                                " ms; its process group was killed");
        std::string err_line = first_line(stderr_);
        std::string tail = err_line.empty() ? std::string() : ": " + err_line;
        if (status_ == -1) return complete(make_error_code(errc::credentials_failed), {}, where + ": lost its exit status");
        if (WIFSIGNALED(status_))
            return complete(make_error_code(errc::credentials_failed), {},
                            where + ": killed by signal " + std::to_string(WTERMSIG(status_)) + tail);
        if (WEXITSTATUS(status_) != 0)
            return complete(make_error_code(errc::credentials_failed), {},
                            where + ": exited with status " + std::to_string(WEXITSTATUS(status_)) + tail);
        if (too_much_)
            return complete(make_error_code(errc::credentials_failed), {},
                            where + ": printed more than " + std::to_string(max_stdout) + " bytes");
        parse(where);
    }

    void parse(const std::string& where) {
        auto bad = [&](const std::string& what) {
            complete(make_error_code(errc::credentials_failed), {}, where + ": " + what);
        };
        error_code ec;
        boost::json::value v = boost::json::parse(stdout_, ec);
        // The parser's message and position only: never the text, which may hold the secret.
        if (ec) return bad("its output is not JSON (" + ec.message() + ")");
        if (!v.is_object()) return bad("its output is not a JSON object");
        const auto& o = v.as_object();
        auto version = o.if_contains("Version");
        if (!version) return bad("its answer has no Version (expected 1)");
        if (!version->is_int64() && !version->is_uint64()) return bad("its answer's Version is not a number (expected 1)");
        auto ver = version->is_int64() ? version->as_int64() : static_cast<std::int64_t>(version->as_uint64());
        if (ver != 1) return bad("its answer has Version " + std::to_string(ver) + "; only Version 1 is understood");
        auto str = [&](const char* name, std::string& out, bool required) -> bool {
            auto f = o.if_contains(name);
            if (!f || f->is_null()) {
                if (required) bad(std::string("its answer has no ") + name);
                return !required;
            }
            if (!f->is_string()) {
                bad(std::string("its answer's ") + name + " is not a string");
                return false;
            }
            out = std::string(f->as_string());
            if (required && out.empty()) {
                bad(std::string("its answer's ") + name + " is empty");
                return false;
            }
            return true;
        };
        aws_credentials c;
        std::string expiration;
        if (!str("AccessKeyId", c.access_key_id, true)) return;
        if (!str("SecretAccessKey", c.secret_access_key, true)) return;
        if (!str("SessionToken", c.session_token, false)) return;
        if (!str("Expiration", expiration, false)) return;
        if (!expiration.empty()) {
            auto tp = parse_iso8601(expiration);
            if (!tp) return bad("its answer's Expiration is not an ISO 8601 time: '" + expiration + "'");
            c.expiration = *tp;
        }
        c.source = "process (" + who_ + ")";
        complete({}, std::move(c), {});
    }

    void fail_now(std::string what) {
        finished_ = true;
        complete(make_error_code(errc::credentials_failed), {}, "credential_process of " + who_ + ": " + what);
    }

    void complete(error_code ec, aws_credentials c, std::string message) {
        diag_->clear();
        if (ec) diag_->message = std::move(message);
        complete_later(ex_, std::move(handler_), ec, std::move(c));
    }

    asio::any_io_executor ex_;
    asio::strand<asio::any_io_executor> strand_;
    asio::posix::stream_descriptor out_, err_, exit_;
    asio::steady_timer timer_;
    std::string command_, who_;
    std::chrono::milliseconds timeout_;
    diagnostics* diag_;
    handler_type handler_;

    pid_t pid_ = -1;
    int status_ = 0;
    bool exited_ = false, out_eof_ = false, err_eof_ = false, finished_ = false, too_much_ = false;
    abort_reason reason_ = abort_reason::none;
    std::atomic<bool> cancel_requested_{false};
    std::string stdout_, stderr_;
    std::array<char, 4096> out_buf_{}, err_buf_{};
};

class command_provider final : public credentials_provider {
public:
    command_provider(asio::any_io_executor ex, std::string command, std::string who, std::chrono::milliseconds timeout)
        : ex_(std::move(ex)), command_(std::move(command)), who_(std::move(who)), timeout_(timeout) {}

    std::string describe() const override { return "process (" + who_ + ")"; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        std::make_shared<run>(ex_, command_, who_, timeout_, diag, std::move(h))->start();
    }

private:
    asio::any_io_executor ex_;
    std::string command_, who_;
    std::chrono::milliseconds timeout_;
};

}  // namespace

credentials_provider_ptr make_command_provider(asio::any_io_executor ex, std::string command, std::string who,
                                               std::chrono::milliseconds timeout) {
    return std::make_shared<command_provider>(std::move(ex), std::move(command), std::move(who), timeout);
}

}  // namespace fluss_fetch::storage::aws

namespace fluss_fetch::storage {

credentials_provider_ptr make_process_credentials_provider(boost::asio::any_io_executor ex, credentials_options opts) {
    aws::shared_files f;
    try {
        f = aws::load_shared_files(opts);
    } catch (const std::system_error& e) {
        // The profile provider, ahead in the chain, reports the broken file.
        return aws::make_failing_provider(ex, boost::system::error_code(e.code()), e.what(), "process");
    }
    std::string desc = "process (profile " + f.profile + ")";
    const std::string* cmd = f.get("credential_process");
    if (!cmd || cmd->empty()) {
        std::string msg = "process: profile " + f.profile + " has no credential_process";
        if (!f.credentials && !f.config) msg = "process: no profile " + f.profile + " in the shared files";
        return aws::make_failing_provider(ex, make_error_code(errc::no_credentials), std::move(msg), desc);
    }
    const aws::profile_section* s = (f.credentials && f.credentials->get("credential_process")) ? &*f.credentials : &*f.config;
    return aws::make_command_provider(std::move(ex), *cmd, "profile " + f.profile + " (" + s->file + ")",
                                      opts.process_timeout);
}

}  // namespace fluss_fetch::storage
