// The download pool.
//
// Design: M strands, a free list of strand indexes and a schedule_fsm (the
// pure schedule: which queued job runs next, which lane may admit a segment),
// all under one mutex. Every event — a submission, a job's end, a lane's
// consumer taking a segment, bytes released — is fed to the schedule, which
// then answers with actions: start job J (on a free strand) or grant lane L's
// admission. So at most M jobs run, whatever the number of threads running
// the io_context, and there is no idle worker coroutine to wake. Each running
// job is a coroutine bound to a cancellation signal of its own, emitted only
// on that job's strand. Handlers are completed outside the mutex, never
// inline, and jobs are spawned from a handler posted to their strand, never
// under the mutex.
#include <fluss_fetch/fetch/download_pool.hpp>
#include <fluss_fetch/fetch/schedule.hpp>

#include "core/async_op.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
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
    schedule_fsm::job_id id = 0;
    std::shared_ptr<download_lane> lane;  // keeps a tagged lane open while its job lives
};

bool cancels(asio::cancellation_type t) {
    return (t & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                 asio::cancellation_type::total)) != asio::cancellation_type::none;
}

}  // namespace

struct download_pool::impl : std::enable_shared_from_this<download_pool::impl> {
    impl(asio::any_io_executor e, std::size_t n, std::uint64_t max_bytes)
        : ex(std::move(e)), fsm(make_limits(n, max_bytes)) {
        for (std::size_t i = 0; i < n; ++i) {
            strands.push_back(asio::make_strand(ex));
            free.push_back(n - 1 - i);  // worker 0 is used first
        }
        // The lane of untagged jobs: no window, every worker.
        default_lane = fsm.open_lane(1, n);
    }

    static schedule_limits make_limits(std::size_t n, std::uint64_t max_bytes) {
        if (n == 0) throw std::invalid_argument("download_pool needs at least one worker");
        return schedule_limits{n, max_bytes};
    }

    // What to do once the mutex is released.
    // Jobs and lanes are let go here too: a job's captures may hold the
    // last reference to a lane, whose destructor takes the mutex.
    struct completions {
        std::vector<std::pair<handler_type, error_code>> handlers;
        std::vector<asio::any_completion_handler<void()>> close_waiters;
        std::vector<download_job> jobs;
        std::vector<std::shared_ptr<download_lane>> lanes;
    };

    asio::any_io_executor ex;
    std::vector<detail::strand_type> strands;
    mutable std::mutex mutex;
    schedule_fsm fsm;
    schedule_fsm::lane_id default_lane = 0;
    std::map<schedule_fsm::job_id, std::shared_ptr<entry>> entries;  // queued and running
    struct admission {
        std::uint64_t ticket;  // a cancellation of an earlier admission of the lane must not hit this one
        handler_type handler;
    };
    std::map<schedule_fsm::lane_id, admission> admissions;  // pending, by lane
    std::uint64_t next_ticket = 1;
    std::vector<std::size_t> free;
    bool closing = false;
    std::vector<asio::any_completion_handler<void()>> close_waiters;

    void flush(completions& c) {
        for (auto& [h, ec] : c.handlers) detail::post_completion(ex, std::move(h), ec);
        for (auto& w : c.close_waiters) detail::post_completion(ex, std::move(w));
    }

    // With the mutex held: carry out what the schedule allows now.
    void pump_locked(completions& c) {
        while (auto a = fsm.next()) {
            if (a->what == schedule_fsm::action::kind::admit) {
                auto it = admissions.find(a->lane);
                if (it == admissions.end()) continue;  // cannot happen: admissions mirror the schedule's
                c.handlers.emplace_back(std::move(it->second.handler), error_code{});
                admissions.erase(it);
            } else {
                auto it = entries.find(a->job);
                if (it == entries.end() || free.empty()) continue;  // cannot happen: see above
                const std::size_t w = free.back();
                free.pop_back();
                start_locked(it->second, w);
            }
        }
        if (closing && entries.empty()) {
            auto& w = close_waiters;
            c.close_waiters.insert(c.close_waiters.end(), std::make_move_iterator(w.begin()),
                                   std::make_move_iterator(w.end()));
            w.clear();
        }
    }

    // With the mutex held: run `e` on worker `w`. The coroutine is spawned
    // from a handler posted to the worker's strand, not here: co_spawn enters
    // its executor with dispatch, which runs the job inline when this thread
    // may enter the strand (from any io_context thread, and always from the
    // end of the strand's previous job) — under the mutex, so a job calling
    // the pool before its first suspension deadlocked. A cancellation posted
    // to the strand later still finds the coroutine spawned (strand order).
    void start_locked(std::shared_ptr<entry> e, std::size_t w) {
        e->st = entry::state::running;
        e->worker = w;
        asio::post(strands[w], [self = shared_from_this(), e = std::move(e), w] { self->spawn(e, w); });
    }

    // On worker `w`'s strand.
    void spawn(const std::shared_ptr<entry>& e, std::size_t w) {
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
        completions c;
        {
            std::lock_guard lock(mutex);
            e->st = entry::state::done;
            c.handlers.emplace_back(std::move(e->handler), ec);
            c.jobs.push_back(std::move(e->job));
            c.lanes.push_back(std::move(e->lane));
            entries.erase(e->id);
            fsm.job_done(e->id);
            free.push_back(e->worker);
            pump_locked(c);
        }
        flush(c);
    }

    // Cancel one submission: drop it from the queue, or cancel its coroutine.
    void cancel(const std::shared_ptr<entry>& e) {
        completions c;
        {
            std::lock_guard lock(mutex);
            if (e->st == entry::state::queued) {
                fsm.cancel_job(e->id);
                entries.erase(e->id);
                e->st = entry::state::done;
                c.handlers.emplace_back(std::move(e->handler), asio::error::operation_aborted);
                c.jobs.push_back(std::move(e->job));
                c.lanes.push_back(std::move(e->lane));
                pump_locked(c);
            } else if (e->st == entry::state::running) {
                asio::post(strands[e->worker], [e] { e->signal.emit(asio::cancellation_type::terminal); });
            }
        }
        flush(c);
    }

    // Close: from here no queued job may start. Everything queued is dropped
    // in the same critical section that sets `closing` (a job ending on
    // another thread frees a worker, and the schedule would start the next
    // queued job on it); running jobs are cancelled after. `waiter` (empty
    // from the destructor) completes once no job runs.
    void cancel_all(asio::any_completion_handler<void()> waiter = {}) {
        std::vector<std::shared_ptr<entry>> victims;
        completions c;  // jobs and lanes are let go of outside the mutex
        {
            std::lock_guard lock(mutex);
            closing = true;
            if (waiter) close_waiters.push_back(std::move(waiter));
            for (auto it = entries.begin(); it != entries.end();) {
                auto e = it->second;
                if (e->st != entry::state::queued) {
                    victims.push_back(std::move(e));
                    ++it;
                    continue;
                }
                fsm.cancel_job(e->id);
                e->st = entry::state::done;
                c.handlers.emplace_back(std::move(e->handler), asio::error::operation_aborted);
                c.jobs.push_back(std::move(e->job));
                c.lanes.push_back(std::move(e->lane));
                it = entries.erase(it);
            }
            for (auto& [lane, a] : admissions) {
                fsm.cancel_admission(lane);
                c.handlers.emplace_back(std::move(a.handler), asio::error::operation_aborted);
            }
            admissions.clear();
            pump_locked(c);  // nothing left to start; the waiters when nothing runs
        }
        flush(c);
        for (auto& e : victims) cancel(e);
    }

    void admit(schedule_fsm::lane_id lane, std::uint64_t bytes, handler_type h) {
        auto slot = asio::get_associated_cancellation_slot(h);
        completions c;
        bool rejected = false;
        {
            std::lock_guard lock(mutex);
            if (closing) {
                rejected = true;
            } else if (admissions.count(lane)) {
                c.handlers.emplace_back(std::move(h), asio::error::already_started);
            } else {
                const std::uint64_t ticket = next_ticket++;
                if (slot.is_connected()) {
                    std::weak_ptr<impl> weak = shared_from_this();
                    slot.assign([weak, lane, ticket](asio::cancellation_type t) {
                        if (!cancels(t)) return;
                        if (auto self = weak.lock()) self->cancel_admission(lane, ticket);
                    });
                }
                admissions.emplace(lane, admission{ticket, std::move(h)});
                fsm.request_admission(lane, bytes);
                pump_locked(c);
            }
        }
        if (rejected) c.handlers.emplace_back(std::move(h), asio::error::operation_aborted);
        flush(c);
    }

    void cancel_admission(schedule_fsm::lane_id lane, std::uint64_t ticket) {
        completions c;
        {
            std::lock_guard lock(mutex);
            auto it = admissions.find(lane);
            if (it == admissions.end() || it->second.ticket != ticket) return;
            fsm.cancel_admission(lane);
            c.handlers.emplace_back(std::move(it->second.handler), asio::error::operation_aborted);
            admissions.erase(it);
            pump_locked(c);  // it may have held others back (strict admission)
        }
        flush(c);
    }

    template <class F>
    void on_lane(F&& f) {
        completions c;
        {
            std::lock_guard lock(mutex);
            f();
            pump_locked(c);
        }
        flush(c);
    }

    void close_lane(schedule_fsm::lane_id lane) {
        completions c;
        std::vector<std::shared_ptr<entry>> dropped;
        {
            std::lock_guard lock(mutex);
            auto closed = fsm.close_lane(lane);
            for (auto id : closed.dropped_jobs) {
                auto it = entries.find(id);
                if (it == entries.end()) continue;
                auto& e = it->second;
                e->st = entry::state::done;
                c.handlers.emplace_back(std::move(e->handler), asio::error::operation_aborted);
                c.jobs.push_back(std::move(e->job));
                c.lanes.push_back(std::move(e->lane));
                dropped.push_back(std::move(e));
                entries.erase(it);
            }
            if (auto it = admissions.find(lane); it != admissions.end()) {
                c.handlers.emplace_back(std::move(it->second.handler), asio::error::operation_aborted);
                admissions.erase(it);
            }
            pump_locked(c);
        }
        flush(c);
    }
};

// ---------------------------------------------------------------- download_lane

download_lane::download_lane(std::shared_ptr<void> pool, std::uint64_t id) noexcept : pool_(std::move(pool)), id_(id) {}

download_lane::~download_lane() { std::static_pointer_cast<download_pool::impl>(pool_)->close_lane(id_); }

void download_lane::consumed() {
    auto p = std::static_pointer_cast<download_pool::impl>(pool_);
    p->on_lane([&] { p->fsm.consumed(id_); });
}

void download_lane::release(std::uint64_t bytes) {
    auto p = std::static_pointer_cast<download_pool::impl>(pool_);
    p->on_lane([&] { p->fsm.release(id_, bytes); });
}

void download_lane::do_admit(std::uint64_t bytes, handler_type h) {
    std::static_pointer_cast<download_pool::impl>(pool_)->admit(id_, bytes, std::move(h));
}

// ---------------------------------------------------------------- download_pool

download_pool::download_pool(asio::any_io_executor ex, std::size_t workers, std::uint64_t max_bytes)
    : impl_(std::make_shared<impl>(std::move(ex), workers, max_bytes)) {}

download_pool::~download_pool() { impl_->cancel_all(); }

std::size_t download_pool::workers() const noexcept { return impl_->strands.size(); }

std::uint64_t download_pool::max_bytes() const noexcept { return impl_->fsm.limits().max_bytes; }

asio::any_io_executor download_pool::get_executor() const noexcept { return impl_->ex; }

std::shared_ptr<download_lane> download_pool::open_lane(std::size_t prefetch_num, std::size_t max_requests) {
    schedule_fsm::lane_id id;
    {
        std::lock_guard lock(impl_->mutex);
        id = impl_->fsm.open_lane(prefetch_num, max_requests);
    }
    return std::shared_ptr<download_lane>(new download_lane(impl_, id));
}

std::size_t download_pool::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->fsm.running();
}

std::size_t download_pool::queued() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->fsm.queued();
}

std::uint64_t download_pool::reserved_bytes() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->fsm.reserved_bytes();
}

void download_pool::do_submit(download_job job, handler_type h, bool first, job_tag tag) {
    auto e = std::make_shared<entry>();
    e->job = std::move(job);
    auto slot = asio::get_associated_cancellation_slot(h);
    e->handler.swap(h);
    std::weak_ptr<impl> weak = impl_;
    bool rejected = false;
    impl::completions c;
    {
        std::lock_guard lock(impl_->mutex);
        const auto lane = tag.lane ? tag.lane->id() : impl_->default_lane;
        // A lane of another pool: refused (never run in the wrong schedule).
        if (!impl_->closing && (!tag.lane || tag.lane->pool_ == impl_)) e->id = impl_->fsm.submit(lane, tag.seq, first);
        if (e->id == 0) {
            rejected = true;
        } else {
            e->lane = std::move(tag.lane);
            impl_->entries.emplace(e->id, e);
            impl_->pump_locked(c);
        }
    }
    if (rejected) {
        detail::post_completion(impl_->ex, std::move(e->handler), asio::error::operation_aborted);
        return;
    }
    if (slot.is_connected()) {
        slot.assign([weak, e](asio::cancellation_type t) {
            if (!cancels(t)) return;
            if (auto self = weak.lock()) self->cancel(e);
        });
    }
    impl_->flush(c);
}

void download_pool::do_close(asio::any_completion_handler<void()> h) { impl_->cancel_all(std::move(h)); }

}  // namespace fluss_fetch::fetch
