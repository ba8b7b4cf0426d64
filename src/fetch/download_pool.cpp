// The download pool.
//
// Design: M strands, a FIFO queue and a free list of strand indexes, all under
// one mutex. A submission starts at once on a free strand, or waits in the
// queue; when a job ends, its strand takes the next queued job. So at most M
// jobs run, whatever the number of threads running the io_context, and there
// is no idle worker coroutine to wake. Each running job is a coroutine bound
// to a cancellation signal of its own, emitted only on that job's strand.
#include <fluss_fetch/fetch/download_pool.hpp>

#include "core/async_op.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <mutex>
#include <vector>

namespace fluss_fetch::fetch {

namespace asio = boost::asio;
using boost::system::error_code;
// Never move-assign an any_completion_handler in Boost 1.81: its operator=
// copies from an lvalue into its own template constructor and recurses
// until the stack overflows. Move-construct or swap() instead.
using handler_type = asio::any_completion_handler<void(error_code)>;

namespace {

struct entry {
    download_job job;
    handler_type handler;
    asio::cancellation_signal signal;
    enum class state { queued, running, done } st = state::queued;
    std::size_t worker = 0;
};

void complete(asio::any_io_executor fallback, handler_type h, error_code ec) {
    detail::post_completion(std::move(fallback), std::move(h), ec);
}

}  // namespace

struct download_pool::impl : std::enable_shared_from_this<download_pool::impl> {
    impl(asio::any_io_executor e, std::size_t n) : ex(std::move(e)) {
        if (n == 0) throw std::invalid_argument("download_pool needs at least one worker");
        for (std::size_t i = 0; i < n; ++i) {
            strands.push_back(asio::make_strand(ex));
            free.push_back(n - 1 - i);  // worker 0 is used first
        }
    }

    asio::any_io_executor ex;
    std::vector<detail::strand_type> strands;
    std::mutex mutex;
    std::deque<std::shared_ptr<entry>> queue;
    std::vector<std::size_t> free;
    std::vector<std::shared_ptr<entry>> running;
    bool closing = false;
    std::vector<asio::any_completion_handler<void()>> close_waiters;

    // Called with the mutex held: start `e` on worker `w`.
    void start_locked(std::shared_ptr<entry> e, std::size_t w) {
        e->st = entry::state::running;
        e->worker = w;
        running.push_back(e);
        auto self = shared_from_this();
        auto body = [](std::shared_ptr<entry> e) -> asio::awaitable<error_code> {
            co_await asio::this_coro::throw_if_cancelled(false);
            co_return co_await e->job();
        };
        asio::co_spawn(strands[w], body(e),
                       asio::bind_cancellation_slot(e->signal.slot(),
                                                    [self, e](std::exception_ptr ex, error_code ec) {
                                                        if (ex) ec = detail::exception_to_error(ex);
                                                        self->finished(e, ec);
                                                    }));
    }

    void finished(const std::shared_ptr<entry>& e, error_code ec) {
        handler_type h;
        std::vector<asio::any_completion_handler<void()>> waiters;
        {
            std::lock_guard lock(mutex);
            e->st = entry::state::done;
            h.swap(e->handler);
            e->job = nullptr;
            std::erase(running, e);
            if (!queue.empty() && !closing) {
                auto next = std::move(queue.front());
                queue.pop_front();
                start_locked(std::move(next), e->worker);
            } else {
                free.push_back(e->worker);
            }
            if (closing && running.empty()) waiters.swap(close_waiters);
        }
        complete(ex, std::move(h), ec);
        for (auto& w : waiters) detail::post_completion(ex, std::move(w));
    }

    // Cancel one submission: drop it from the queue, or cancel its coroutine.
    void cancel(const std::shared_ptr<entry>& e) {
        handler_type h;
        {
            std::lock_guard lock(mutex);
            if (e->st == entry::state::queued) {
                auto it = std::find(queue.begin(), queue.end(), e);
                if (it != queue.end()) queue.erase(it);
                e->st = entry::state::done;
                h.swap(e->handler);
                e->job = nullptr;
            } else if (e->st == entry::state::running) {
                asio::post(strands[e->worker], [e] { e->signal.emit(asio::cancellation_type::terminal); });
            }
        }
        if (h) complete(ex, std::move(h), asio::error::operation_aborted);
    }

    void cancel_all() {
        std::vector<std::shared_ptr<entry>> victims;
        {
            std::lock_guard lock(mutex);
            closing = true;
            victims.assign(queue.begin(), queue.end());
            victims.insert(victims.end(), running.begin(), running.end());
        }
        for (auto& e : victims) cancel(e);
    }
};

download_pool::download_pool(asio::any_io_executor ex, std::size_t workers)
    : impl_(std::make_shared<impl>(std::move(ex), workers)) {}

download_pool::~download_pool() { impl_->cancel_all(); }

std::size_t download_pool::workers() const noexcept { return impl_->strands.size(); }

asio::any_io_executor download_pool::get_executor() const noexcept { return impl_->ex; }

void download_pool::do_submit(download_job job, handler_type h, bool first) {
    auto e = std::make_shared<entry>();
    e->job = std::move(job);
    auto slot = asio::get_associated_cancellation_slot(h);
    e->handler.swap(h);
    std::weak_ptr<impl> weak = impl_;
    bool rejected = false;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->closing) {
            rejected = true;
        } else if (!impl_->free.empty()) {
            std::size_t w = impl_->free.back();
            impl_->free.pop_back();
            impl_->start_locked(e, w);
        } else {
            if (first)
                impl_->queue.push_front(e);
            else
                impl_->queue.push_back(e);
        }
    }
    if (rejected) {
        complete(impl_->ex, std::move(e->handler), asio::error::operation_aborted);
        return;
    }
    if (slot.is_connected()) {
        slot.assign([weak, e](asio::cancellation_type t) {
            if ((t & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                      asio::cancellation_type::total)) == asio::cancellation_type::none)
                return;
            if (auto self = weak.lock()) self->cancel(e);
        });
    }
}

void download_pool::do_close(asio::any_completion_handler<void()> h) {
    bool done_now = false;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->closing = true;
        if (impl_->running.empty() && impl_->queue.empty())
            done_now = true;
        else
            impl_->close_waiters.push_back(std::move(h));
    }
    if (done_now) {
        detail::post_completion(impl_->ex, std::move(h));
        return;
    }
    impl_->cancel_all();
}

}  // namespace fluss_fetch::fetch
