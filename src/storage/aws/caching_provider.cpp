// The refreshing cache in front of a provider (the default chain's, or an
// application's own).
//
// - Single flight: callers that find no usable credentials queue up behind
//   one fetch of the inner provider, however many there are.
// - Usable: long-term credentials until invalidated; temporary ones until
//   `expiration - refresh_before`, and after a failed refresh (or one that
//   brought credentials already inside that window) for `retry_after` more,
//   as long as they have not expired.
// - A refresh that fails while the cached credentials still work serves the
//   cached ones and logs a warning (key id and source only).
// - invalidate(c) drops the cached credentials only when they are `c`, so N
//   requests rejected with the same expired credentials cause one refresh.
// - A waiting caller's cancellation (any type) completes it alone with
//   operation_aborted; the fetch goes on for the others.
// State is under one mutex; every completion goes through complete_later
// (posted, then on the handler's associated executor).
#include "storage/aws/providers_detail.hpp"

#include "core/logging.hpp"

#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <list>
#include <optional>

namespace fluss_fetch::storage {

namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::system_clock;

namespace {

bool same_credentials(const aws_credentials& a, const aws_credentials& b) {
    return a.access_key_id == b.access_key_id && a.session_token == b.session_token;
}

class caching_provider final : public credentials_provider, public std::enable_shared_from_this<caching_provider> {
public:
    caching_provider(asio::any_io_executor ex, credentials_provider_ptr inner, caching_options opts)
        : ex_(std::move(ex)), inner_(std::move(inner)), opts_(opts) {}

    std::string describe() const override { return inner_->describe(); }

    void invalidate(const aws_credentials& rejected) override {
        std::lock_guard l(mu_);
        if (cached_ && same_credentials(*cached_, rejected)) {
            cached_.reset();
            serve_until_.reset();
        }
    }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        diag.clear();
        auto now = clock_type::now();
        std::unique_lock l(mu_);
        if (cached_ && usable(*cached_, now)) {
            aws_credentials c = *cached_;
            l.unlock();
            aws::complete_later(ex_, std::move(h), error_code{}, std::move(c));
            return;
        }
        std::uint64_t id = next_id_++;
        // Under the lock, so a cancellation from another thread finds the waiter.
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            std::weak_ptr<caching_provider> weak = shared_from_this();
            slot.assign([weak, id](asio::cancellation_type) {
                if (auto self = weak.lock()) self->cancel_waiter(id);
            });
        }
        waiters_.emplace_back(id, &diag, std::move(h));
        bool start = !fetching_;
        fetching_ = true;
        l.unlock();
        if (start) fetch();
    }

private:
    struct waiter {
        waiter(std::uint64_t i, diagnostics* d, credentials_handler h) : id(i), diag(d), handler(std::move(h)) {}
        std::uint64_t id;
        diagnostics* diag;
        credentials_handler handler;
    };

    bool usable(const aws_credentials& c, clock_type::time_point now) const {
        if (!c.expiration) return true;
        if (now >= *c.expiration) return false;
        if (now < *c.expiration - opts_.refresh_before) return true;
        return serve_until_ && now < *serve_until_;
    }

    void fetch() {
        auto self = shared_from_this();
        inner_->async_get_credentials(fetch_diag_, [self](error_code ec, aws_credentials c) {
            self->fetched(ec, std::move(c));
        });
    }

    void fetched(error_code ec, aws_credentials c) {
        auto now = clock_type::now();
        std::list<waiter> ws;
        aws_credentials serve;
        diagnostics diag;
        std::string warning;
        {
            std::lock_guard l(mu_);
            fetching_ = false;
            ws.splice(ws.end(), waiters_);
            if (!ec) {
                cached_ = c;
                serve_until_.reset();
                // Already due (a source that hands out short-lived ones): use
                // them, and ask again only after retry_after.
                if (c.expiration && now >= *c.expiration - opts_.refresh_before)
                    serve_until_ = now + opts_.retry_after;
                serve = std::move(c);
            } else if (ec != asio::error::operation_aborted && cached_ && cached_->expiration &&
                       now < *cached_->expiration) {
                serve_until_ = now + opts_.retry_after;
                serve = *cached_;
                auto left = std::chrono::duration_cast<std::chrono::seconds>(*cached_->expiration - now);
                warning = "refreshing credentials from " + inner_->describe() + " failed (" +
                          fetch_diag_.to_string(ec) + "); the current ones (access key id " + cached_->access_key_id +
                          ", " + cached_->source + ") still serve, for " + std::to_string(left.count()) + " s";
                ec = {};
            } else {
                if (cached_ && cached_->expiration && now >= *cached_->expiration) cached_.reset();
                diag = fetch_diag_;
            }
        }
        if (!warning.empty()) detail::logger().warn("{}", warning);
        for (auto& w : ws) {
            if (ec) *w.diag = diag;
            aws::complete_later(ex_, std::move(w.handler), ec, ec ? aws_credentials{} : serve);
        }
    }

    void cancel_waiter(std::uint64_t id) {
        // Asio 1.81's any_completion_handler recurses when move-assigned:
        // only ever move-construct one (hence the optional and the list).
        std::optional<credentials_handler> h;
        {
            std::lock_guard l(mu_);
            auto it = std::find_if(waiters_.begin(), waiters_.end(), [id](const waiter& w) { return w.id == id; });
            if (it == waiters_.end()) return;  // already being completed
            h.emplace(std::move(it->handler));
            it->diag->clear();
            it->diag->message = "cancelled while waiting for credentials from " + inner_->describe();
            waiters_.erase(it);
        }
        aws::complete_later(ex_, std::move(*h), asio::error::operation_aborted, aws_credentials{});
    }

    asio::any_io_executor ex_;
    credentials_provider_ptr inner_;
    caching_options opts_;

    std::mutex mu_;
    std::optional<aws_credentials> cached_;
    std::optional<clock_type::time_point> serve_until_;
    bool fetching_ = false;
    std::list<waiter> waiters_;
    std::uint64_t next_id_ = 0;
    diagnostics fetch_diag_;  // only the one fetch in flight touches it
};

}  // namespace

credentials_provider_ptr make_caching_credentials_provider(asio::any_io_executor ex, credentials_provider_ptr inner,
                                                           caching_options opts) {
    return std::make_shared<caching_provider>(std::move(ex), std::move(inner), opts);
}

}  // namespace fluss_fetch::storage
