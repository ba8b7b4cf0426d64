// Test doubles for the credential provider tests: a counting provider whose
// calls wait for the test to release them, an env map, a result collector.
#pragma once

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace fluss_fetch::test {

inline storage::env_lookup env_map(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

/// Counts calls; each waits until `release` completes the oldest one.
class gated_provider final : public storage::credentials_provider {
public:
    explicit gated_provider(boost::asio::any_io_executor ex, std::string name = "fake")
        : ex_(std::move(ex)), name_(std::move(name)) {}

    std::string describe() const override { return name_; }

    int calls() const { return calls_.load(); }
    std::size_t pending() const {
        std::lock_guard l(mu_);
        return pending_.size();
    }
    /// Complete the oldest waiting call (posted to the provider's executor).
    void release(boost::system::error_code ec, storage::aws_credentials c = {}, std::string message = {}) {
        // Asio 1.81's any_completion_handler cannot be move-assigned (it
        // recurses): move-construct only.
        std::optional<call> p;
        {
            std::lock_guard l(mu_);
            if (pending_.empty()) throw std::logic_error("gated_provider: nothing to release");
            p.emplace(std::move(pending_.front()));
            pending_.pop_front();
        }
        if (ec) p->diag->message = std::move(message);
        boost::asio::post(ex_, [h = std::move(p->handler), ec, c = std::move(c)]() mutable { std::move(h)(ec, c); });
    }
    void invalidate(const storage::aws_credentials&) override { ++invalidations_; }
    int invalidations() const { return invalidations_.load(); }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        ++calls_;
        diag.clear();
        std::lock_guard l(mu_);
        pending_.push_back(call{&diag, std::move(h)});
    }

private:
    struct call {
        diagnostics* diag = nullptr;
        credentials_handler handler;
    };
    boost::asio::any_io_executor ex_;
    std::string name_;
    mutable std::mutex mu_;
    std::deque<call> pending_;
    std::atomic<int> calls_{0};
    std::atomic<int> invalidations_{0};
};

struct creds_result {
    bool done = false;
    int times = 0;
    boost::system::error_code ec;
    storage::aws_credentials creds;
};

/// A handler that records into `r`.
inline auto record(creds_result& r) {
    return [&r](boost::system::error_code ec, storage::aws_credentials c) {
        r.done = true;
        ++r.times;
        r.ec = ec;
        r.creds = std::move(c);
    };
}

inline storage::aws_credentials temp_creds(std::string id, std::chrono::system_clock::duration valid_for,
                                           std::string token = "TOKEN") {
    storage::aws_credentials c;
    c.access_key_id = std::move(id);
    c.secret_access_key = "SECRET-" + c.access_key_id;
    c.session_token = std::move(token);
    c.expiration = std::chrono::system_clock::now() + valid_for;
    c.source = "fake";
    return c;
}

}  // namespace fluss_fetch::test
