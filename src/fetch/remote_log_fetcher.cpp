// The remote log fetcher.
//
// One stream = one strand. On it live:
//   - the producer: a coroutine that walks the relevant segments in offset
//     order and, for each, sends its pending handle into `window`, an Asio
//     channel of capacity prefetch_num, and starts its download once the send
//     completes. A full channel suspends the producer: that is the window.
//   - `admitted`: the handles sent so far and not yet handed over, in order
//     (the same handles the channel holds, kept where the consumer can look
//     at the head without taking it).
//   - the consumer (`async_next`): waits until the head has finished and
//     hands it to the completion (`handed`), leaving it the head. Right
//     before the caller's handler runs (on the handler's executor) the call
//     settles: delivered, the head is taken out of the channel (try_receive),
//     which frees one slot and lets the producer admit the next segment; or,
//     when the caller has cancelled the call by then, the handler gets
//     operation_aborted and the segment stays the head for the next call.
//     So a result thrown away by `||` never carries a segment away.
// So admitted-but-unconsumed segments never exceed prefetch_num, and files
// on disk never exceed prefetch_num + 1 (the one the caller is reading).
// The consumer never waits in the channel (Boost 1.81: a cancelled waiting
// receive breaks later sends), it waits on `changed`, a timer used as a
// condition variable: every state change cancels it, and every waiter
// re-checks its condition; all on the strand, so no wake-up is lost.
//
// Every request runs as a job of the fetcher's download pool (M strands), so
// requests in flight never exceed M. The pool is also the scheduler: each
// stream is a lane of it (its window, its own request cap); after the
// channel send, the producer waits for the lane's admission (the pool's byte
// budget, every lane's head first), and the admitted segment holds its bytes
// (`pending::hold`, shared with the downloaded_segment) until its file is
// gone. The pool is the fetcher's own, or shared by many fetchers (the
// recovery client); the schedule is the same either way. Cancellation: each download is bound to
// a cancellation_signal of its handle, emitted only on the stream strand; the
// download op forwards it to its pool jobs, which close their sockets and
// timers. `shutdown` cancels everything and waits until every download op of
// the stream has completed (after which nothing of it can write), then
// deletes the files not handed over.
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>

#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/fetch/download_pool.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/object_store.hpp>

#include "core/async_op.hpp"
#include "core/logging.hpp"
#include "fetch/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <string>

namespace fluss_fetch::fetch {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---------------------------------------------------------------- cores

namespace {

// One segment admitted into the window. Touched only on the stream strand.
struct pending {
    log::remote_log_segment seg;
    std::string key;
    fs::path path;
    asio::cancellation_signal signal;  // cancels the current download
    bool done = false;
    bool fallback_started = false;
    error_code ec;
    diagnostics diag;
    std::uint64_t bytes = 0;
    clock_type::time_point started;
    std::uint64_t seq = 0;        // position in the stream: the scheduler's depth is seq - consumed
    std::shared_ptr<void> hold;   // the bytes reserved at admission, until the file is gone
};

// Bytes of one admission, given back to the lane when the last holder goes.
struct byte_hold {
    std::shared_ptr<download_lane> lane;
    std::uint64_t bytes = 0;
    byte_hold(std::shared_ptr<download_lane> l, std::uint64_t b) : lane(std::move(l)), bytes(b) {}
    byte_hold(const byte_hold&) = delete;
    byte_hold& operator=(const byte_hold&) = delete;
    ~byte_hold() { lane->release(bytes); }
};

using window_channel = asio::experimental::channel<void(error_code, std::shared_ptr<pending>)>;

}  // namespace

struct fetcher_core : std::enable_shared_from_this<fetcher_core> {
    fetcher_core(asio::any_io_executor e, storage::object_store& s, fetcher_options o)
        : ex(std::move(e)), store(s), opts(std::move(o)), strand(asio::make_strand(ex)) {}

    ~fetcher_core() {
        // Last resort when the fetcher was destroyed without async_close and
        // its io_context stopped: nothing of it runs any more.
        remove_dir();
    }

    void remove_dir() {
        if (!dir.empty()) {
            std::error_code ec;
            fs::remove_all(dir, ec);
            if (ec) detail::logger().warn("cannot remove temp dir '{}': {}", dir.string(), ec.message());
        }
        if (lock_fd >= 0) ::close(lock_fd);
        lock_fd = -1;
    }

    asio::any_io_executor ex;
    storage::object_store& store;
    fetcher_options opts;
    detail::strand_type strand;
    std::shared_ptr<download_pool> pool;
    bool own_pool = true;  // closed with the fetcher; a shared one is not
    fs::path dir;  // const after construction
    int lock_fd = -1;

    std::mutex mutex;  // guards the members below
    std::vector<std::weak_ptr<stream_core>> streams;
    std::weak_ptr<stream_core> current;
    std::uint64_t next_stream_id = 0;
    bool closing = false;
};

struct stream_core : std::enable_shared_from_this<stream_core> {
    stream_core(std::shared_ptr<fetcher_core> fc, std::uint64_t sid, std::string tdir,
                std::vector<log::remote_log_segment> s, std::int64_t a, std::int64_t b)
        : f(std::move(fc)),
          strand(asio::make_strand(f->ex)),
          id(sid),
          tablet_dir(std::move(tdir)),
          segs(std::move(s)),
          start(a),
          stop(b),
          window(strand, f->opts.prefetch_num),
          changed(strand, clock_type::time_point::max()),
          lane(f->pool->open_lane(f->opts.prefetch_num, f->opts.effective_download_threads())) {}

    std::shared_ptr<fetcher_core> f;
    detail::strand_type strand;
    const std::uint64_t id;
    const std::string tablet_dir;
    const std::vector<log::remote_log_segment> segs;
    const std::int64_t start, stop;

    // Strand state.
    window_channel window;
    asio::steady_timer changed;
    std::shared_ptr<download_lane> lane;     // this stream's share of the pool
    asio::cancellation_signal admit_signal;  // cancels the producer's wait for admission
    std::deque<std::shared_ptr<pending>> admitted;
    std::size_t delivered = 0;
    std::shared_ptr<pending> handed;  // the head, handed to a completion not yet settled
    std::size_t running = 0;  // download ops not yet completed
    bool producer_done = false;
    bool next_busy = false;
    error_code fail_ec;

    // Any thread.
    std::atomic<bool> ended{false};
    transfer_counters counters;
    std::atomic<std::uint64_t> n_admitted{0}, n_downloaded{0}, n_delivered{0}, n_fallbacks{0};
    std::atomic<std::int64_t> wait_ns{0}, download_ns{0};
    mutable std::mutex diag_mutex;
    diagnostics fail_diag;

    void notify() { changed.cancel(); }

    asio::awaitable<void> wait_change() { co_await changed.async_wait(use_tuple); }

    std::shared_ptr<pending> make_pending(std::size_t i) {
        auto p = std::make_shared<pending>();
        p->seg = segs[i];
        p->seq = i;
        p->key = log::remote_log_segment_key(tablet_dir, p->seg.segment_id, p->seg.start_offset);
        p->path = f->dir / ("s" + std::to_string(id) + "-" + log::format_offset(p->seg.start_offset) + "-" +
                            p->seg.segment_id + ".log");
        return p;
    }

    // `fallback`: the consumer's own round for the head (only logged: the
    // head is depth 0 anyway, ahead of every prefetch but behind the heads
    // of other lanes already waiting).
    void start_download(const std::shared_ptr<pending>& p, bool fallback) {
        ++running;
        p->done = false;
        p->ec = {};
        p->started = clock_type::now();
        download_options o;
        o.part_size = f->opts.part_size;
        o.retry = f->opts.retry;
        if (p->seg.size_in_bytes > 0) o.expected_size = p->seg.size_in_bytes;
        o.stall_timeout = f->opts.stall_timeout;
        o.tag.lane = lane;
        o.tag.seq = p->seq;
        if (fallback) detail::logger().debug("segment {}: fallback download at depth 0", p->seg.segment_id);
        auto self = shared_from_this();
        async_download(f->store, *f->pool, p->key, p->path, o, counters, p->diag,
                       asio::bind_cancellation_slot(
                           p->signal.slot(), asio::bind_executor(strand, [self, p](error_code ec, download_result r) {
                               self->download_done(p, ec, r);
                           })));
    }

    void download_done(const std::shared_ptr<pending>& p, error_code ec, const download_result& r) {
        --running;
        p->done = true;
        p->ec = ec;
        p->bytes = r.bytes;
        download_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - p->started).count();
        if (!ec) {
            ++n_downloaded;
            if (ended) {
                // Finished just as the stream ended: nobody will take it.
                std::error_code fec;
                fs::remove(p->path, fec);
            }
        }
        notify();
    }

    // Cancel everything and wait until no download of this stream can run or
    // write again; then delete the files not handed over. Idempotent.
    asio::awaitable<void> shutdown() {
        ended = true;
        window.cancel();
        admit_signal.emit(asio::cancellation_type::terminal);
        for (auto& p : admitted)
            if (!p->done) p->signal.emit(asio::cancellation_type::terminal);
        while (running > 0 || !producer_done) co_await wait_change();
        for (auto& p : admitted) {
            if (p != handed) {  // settle() delivers it or deletes it
                std::error_code ec;
                fs::remove(p->path, ec);
            }
            p->hold.reset();  // the channel may keep the handle: give the bytes back now
        }
        admitted.clear();
        notify();
    }

    asio::awaitable<std::tuple<error_code, std::optional<downloaded_segment>>> next(detail::op_state& st) {
        using result = std::tuple<error_code, std::optional<downloaded_segment>>;
        if (next_busy) co_return result{asio::error::already_started, std::nullopt};
        if (fail_ec) co_return result{fail_ec, std::nullopt};
        if (ended) co_return result{asio::error::operation_aborted, std::nullopt};
        if (delivered == segs.size()) co_return result{error_code{}, std::nullopt};

        next_busy = true;
        const auto t0 = clock_type::now();
        struct busy_guard {
            stream_core* s;
            clock_type::time_point t0;
            ~busy_guard() {
                s->next_busy = false;
                s->wait_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0).count();
            }
        } guard{this, t0};

        for (;;) {
            if (fail_ec) co_return result{fail_ec, std::nullopt};
            if (ended || st.cancelled) co_return result{asio::error::operation_aborted, std::nullopt};
            if (handed) {
                // The previous call has not settled yet (only a call made
                // before its handler ran can see this): wait for it.
            } else if (delivered == segs.size()) {
                co_return result{error_code{}, std::nullopt};
            } else if (!admitted.empty() && admitted.front()->done) {
                auto head = admitted.front();
                if (!head->ec) break;
                if (!head->fallback_started) {
                    // As Fluss does: the consumer tries the head once more
                    // itself (a fresh retry budget, ahead of every queued job).
                    head->fallback_started = true;
                    ++n_fallbacks;
                    detail::logger().warn("segment {} (key {}): prefetch failed: {}; fetching it again", head->seg.segment_id,
                                          head->key, head->diag.to_string(head->ec));
                    start_download(head, true);
                    continue;
                }
                co_await fail(*head);
                co_return result{fail_ec, std::nullopt};
            }
            co_await wait_change();
        }

        // Hand the head out but keep it the head until settle() (see the top of the file).
        auto head = admitted.front();
        handed = head;
        const auto& s = head->seg;
        downloaded_segment out(s, head->key, head->path, head->bytes, std::max(s.logical_start_offset, start),
                               std::min(s.logical_end_offset, stop), head->hold);
        co_return result{error_code{}, std::move(out)};
    }

    // On the stream strand, after the completion of the call that handed out
    // `handed` settled: `taken` (the caller got it) or not (it stays the head).
    void settle(bool taken) {
        auto head = std::exchange(handed, nullptr);
        const bool still_head = head && !admitted.empty() && admitted.front() == head;
        if (taken && still_head) {
            std::shared_ptr<pending> out;
            const bool got = window.try_receive([&](error_code, std::shared_ptr<pending> h) { out = std::move(h); });
            if (!got || out != head)  // cannot happen: the channel and `admitted` hold the same handles in order
                detail::logger().error("segment stream {}: window out of step with admitted segments", id);
            admitted.pop_front();
            ++delivered;
            lane->consumed();
        } else if (!taken && head && !still_head) {
            // The stream shut down meanwhile and left this file to us.
            std::error_code ec;
            fs::remove(head->path, ec);
        }
        notify();
    }

    asio::awaitable<void> fail(const pending& head) {
        diagnostics d = head.diag;
        if (d.key.empty()) d.key = head.key;
        d.message = "segment " + head.seg.segment_id + " (offsets [" + std::to_string(head.seg.start_offset) + ", " +
                    std::to_string(head.seg.end_offset) + ")): " + (d.message.empty() ? head.ec.message() : d.message);
        {
            std::lock_guard l(diag_mutex);
            fail_diag = d;
        }
        fail_ec = head.ec;
        detail::logger().error("remote log fetch of {} failed: {}", tablet_dir, d.to_string(head.ec));
        co_await shutdown();
    }
};

namespace {

// What a spawned coroutine threw, for a log line.
std::string what_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

std::string name_of(const stream_core& s) { return "segment stream " + std::to_string(s.id) + " of " + s.tablet_dir; }

std::string name_of(const fetcher_core& f) { return "remote log fetcher " + f.dir.string(); }

// For the co_spawn completions of a coroutine nobody waits on and of a close
// (signature void()): neither can report an exception, so it is logged, at
// error (it is a bug or bad_alloc), where asio::detached would drop it.
template <class Core>
void log_thrown(const Core& core, const char* what, std::exception_ptr e) {
    if (e) detail::logger().error("{}: {} failed: {}", name_of(core), what, what_of(e));
}

asio::awaitable<void> produce(std::shared_ptr<stream_core> self) {
    for (std::size_t i = 0; i < self->segs.size(); ++i) {
        if (self->ended) break;
        auto p = self->make_pending(i);
        const error_code none;
        auto [ec] = co_await self->window.async_send(none, p, use_tuple);
        if (ec || self->ended) break;  // the window was cancelled: the stream is ending
        // The scheduler's turn: the byte budget, and every lane's head first.
        const std::uint64_t bytes = p->seg.size_in_bytes;
        auto admit_token = asio::bind_cancellation_slot(self->admit_signal.slot(), use_tuple);
        auto [aec] = co_await self->lane->async_admit(bytes, admit_token);
        if (self->ended) break;
        if (aec) {
            // The shared pool closed under a live stream: the head fails with it.
            p->done = true;
            p->ec = aec;
            p->fallback_started = true;
            p->diag.key = p->key;
            p->diag.message = "the download scheduler did not admit it: " + aec.message();
            self->admitted.push_back(p);
            ++self->n_admitted;
            self->notify();
            break;
        }
        p->hold = std::make_shared<byte_hold>(self->lane, bytes);
        self->admitted.push_back(p);
        ++self->n_admitted;
        self->start_download(p, false);
    }
    self->producer_done = true;
    self->notify();
}

asio::awaitable<void> shutdown_stream(std::shared_ptr<stream_core> self) { co_await self->shutdown(); }

void end_stream(const std::shared_ptr<stream_core>& s) {
    s->ended = true;
    asio::co_spawn(s->strand, shutdown_stream(s), [s](std::exception_ptr e) { log_thrown(*s, "shutdown", e); });
}

// On the stream strand. The producer threw (bad_alloc, or a bug): log it and
// fail the stream, so that neither the consumer nor a close waits for a
// producer that is gone.
void producer_failed(const std::shared_ptr<stream_core>& s, std::exception_ptr e) {
    log_thrown(*s, "the producer", e);
    if (!s->fail_ec) {
        {
            std::lock_guard l(s->diag_mutex);
            s->fail_diag = diagnostics{};
            s->fail_diag.message = "the segment producer failed: " + what_of(e);
        }
        s->fail_ec = detail::exception_to_error(e);
    }
    s->producer_done = true;
    s->notify();
    end_stream(s);
}

asio::awaitable<void> close_fetcher(std::shared_ptr<fetcher_core> self) {
    std::vector<std::shared_ptr<stream_core>> live;
    {
        std::lock_guard l(self->mutex);
        for (auto& w : self->streams)
            if (auto s = w.lock()) live.push_back(std::move(s));
        self->streams.clear();
        self->current.reset();
    }
    // Each stream: every download op completed. Then the pool: no job runs.
    for (auto& s : live) co_await asio::co_spawn(s->strand, shutdown_stream(s), asio::use_awaitable);
    live.clear();
    if (self->own_pool) co_await self->pool->async_close(asio::use_awaitable);
    self->remove_dir();
}

}  // namespace

// ---------------------------------------------------------------- segment_stream

segment_stream::segment_stream(std::shared_ptr<stream_core> core) noexcept : core_(std::move(core)) {}
segment_stream::segment_stream(segment_stream&&) noexcept = default;
segment_stream& segment_stream::operator=(segment_stream&& o) noexcept {
    if (this != &o) {
        if (core_) end_stream(core_);
        core_ = std::move(o.core_);
    }
    return *this;
}
segment_stream::~segment_stream() {
    if (core_) end_stream(core_);
}

void segment_stream::do_next(asio::any_completion_handler<next_signature> h) {
    using result = std::tuple<error_code, std::optional<downloaded_segment>>;
    auto self = core_;
    // On the handler's executor, right before the handler: a call cancelled
    // by now gives its segment back (the caller may never see this result,
    // as with `||`); otherwise the segment is the caller's from here on.
    // Either way the stream strand learns it before any later call runs
    // there, since that call is posted after this.
    auto settle = [self](bool cancel_requested, result& r) {
        auto& seg = std::get<1>(r);
        if (!seg) return;
        const bool taken = !cancel_requested;
        if (taken) {
            ++self->n_delivered;
        } else {
            seg->release();  // the file stays, as the head
            r = result{asio::error::operation_aborted, std::nullopt};
        }
        asio::post(self->strand, [self, taken] { self->settle(taken); });
    };
    detail::launch<std::optional<downloaded_segment>>(
        self->strand,
        [self](std::shared_ptr<detail::op_state> st) -> asio::awaitable<result> { co_return co_await self->next(*st); },
        std::move(h), std::move(settle));
}

void segment_stream::do_close(asio::any_completion_handler<void()> h) {
    auto self = core_;
    self->ended = true;
    asio::co_spawn(self->strand, shutdown_stream(self), [self, h = std::move(h)](std::exception_ptr e) mutable {
        log_thrown(*self, "close", e);  // the close has signature void(): it cannot report it
        detail::post_completion(self->f->ex, std::move(h));
    });
}

const std::vector<log::remote_log_segment>& segment_stream::segments() const noexcept { return core_->segs; }
std::int64_t segment_stream::start_offset() const noexcept { return core_->start; }
std::int64_t segment_stream::stop_offset() const noexcept { return core_->stop; }

stream_stats segment_stream::stats() const {
    stream_stats s;
    const auto& c = *core_;
    s.segments_total = c.segs.size();
    s.segments_admitted = c.n_admitted;
    s.segments_downloaded = c.n_downloaded;
    s.segments_delivered = c.n_delivered;
    s.bytes = c.counters.bytes;
    s.requests = c.counters.requests;
    s.retries = c.counters.retries;
    s.fallbacks = c.n_fallbacks;
    s.consumer_wait = std::chrono::nanoseconds(c.wait_ns.load());
    s.download_time = std::chrono::nanoseconds(c.download_ns.load());
    return s;
}

diagnostics segment_stream::last_error() const {
    std::lock_guard l(core_->diag_mutex);
    return core_->fail_diag;
}

// ---------------------------------------------------------------- remote_log_fetcher

remote_log_fetcher::remote_log_fetcher(asio::any_io_executor ex, storage::object_store& store, fetcher_options opts)
    : remote_log_fetcher(ex, store, opts,
                         std::make_shared<download_pool>(ex, (opts.validate(), opts.effective_download_threads()))) {
    core_->own_pool = true;
}

remote_log_fetcher::remote_log_fetcher(asio::any_io_executor ex, storage::object_store& store, fetcher_options opts,
                                       std::shared_ptr<download_pool> pool) {
    opts.validate();
    if (!pool) throw std::invalid_argument("remote_log_fetcher: the shared download pool is null");
    if (opts.temp_parent.empty()) opts.temp_parent = fs::temp_directory_path();
    if (opts.sweep_stale_temp_dirs) sweep_stale_temp_dirs(opts.temp_parent);
    core_ = std::make_shared<fetcher_core>(std::move(ex), store, std::move(opts));
    core_->pool = std::move(pool);
    core_->own_pool = false;
    core_->dir = make_temp_dir(core_->opts.temp_parent, core_->lock_fd);
    detail::logger().info("remote log fetcher: temp dir {}, prefetch {}, {} download threads", core_->dir.string(),
                          core_->opts.prefetch_num, core_->opts.effective_download_threads());
}

remote_log_fetcher::~remote_log_fetcher() {
    bool closing;
    {
        std::lock_guard l(core_->mutex);
        closing = core_->closing;
        core_->closing = true;
    }
    if (!closing)
        asio::co_spawn(core_->strand, close_fetcher(core_),
                       [core = core_](std::exception_ptr e) { log_thrown(*core, "close", e); });
}

segment_stream remote_log_fetcher::fetch(std::string tablet_dir, std::vector<log::remote_log_segment> segments,
                                         std::int64_t start_offset, std::int64_t stop_offset) {
    auto selected = select_segments(std::move(segments), start_offset, stop_offset);
    std::shared_ptr<stream_core> old, core;
    {
        std::lock_guard l(core_->mutex);
        if (core_->closing)
            throw boost::system::system_error(asio::error::operation_aborted, "remote_log_fetcher is closing");
        old = core_->current.lock();
        core = std::make_shared<stream_core>(core_, ++core_->next_stream_id, std::move(tablet_dir),
                                             std::move(selected), start_offset, stop_offset);
        std::erase_if(core_->streams, [](const auto& w) { return w.expired(); });
        core_->streams.push_back(core);
        core_->current = core;
    }
    if (old) end_stream(old);  // before the new stream starts: the old one admits nothing more
    detail::logger().info("fetching {} remote log segments of {} for offsets [{}, {})", core->segs.size(),
                          core->tablet_dir, start_offset, stop_offset);
    asio::co_spawn(core->strand, produce(core), [core](std::exception_ptr e) {
        if (e) producer_failed(core, e);
    });
    return segment_stream(core);
}

void remote_log_fetcher::do_close(asio::any_completion_handler<void()> h) {
    auto self = core_;
    {
        std::lock_guard l(self->mutex);
        self->closing = true;
    }
    asio::co_spawn(self->strand, close_fetcher(self), [self, h = std::move(h)](std::exception_ptr e) mutable {
        log_thrown(*self, "close", e);  // the close has signature void(): it cannot report it
        detail::post_completion(self->ex, std::move(h));
    });
}

const fs::path& remote_log_fetcher::temp_dir() const noexcept { return core_->dir; }
const fetcher_options& remote_log_fetcher::options() const noexcept { return core_->opts; }

}  // namespace fluss_fetch::fetch
