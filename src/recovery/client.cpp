// The recovery client.
//
// One owner: every recovery is a coroutine launched on a strand of its own
// (detail::launch, so its token's cancellation reaches it), registered in
// the client from async_recover until its handler has run (leaving_handler).
// `cancel()` (or cancelling async_run) marks the client stopping and cancels
// every registered recovery; async_run's handler is completed by whichever
// recovery leaves last (or at once when none is left). A recovery closes
// its stream and fetcher (every download stopped, every file and its temp
// dir removed) before its coroutine returns, on every path: success,
// failure, cancel.
//
// Downloads of every recovery go through one download_pool (the shared
// scheduler: max_requests workers, max_temp_bytes budget); each recovery's
// stream is a lane of it. Decoding runs on the decode executor, one segment
// at a time per recovery, through a co_spawn whose cancellation slot is
// cut (asio#1332; the decode stops at the next batch through a flag).
#include <fluss_fetch/recovery/client.hpp>

#include <fluss_fetch/fetch/download_pool.hpp>
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/continuity.hpp>
#include <fluss_fetch/log/kv_sink.hpp>
#include <fluss_fetch/log/log_error.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/storage/object_store.hpp>

#include "core/async_op.hpp"
#include "core/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace fluss_fetch::recovery {

namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void client_options::validate() const {
    if (max_requests < 1) throw std::invalid_argument("client_options.max_requests must be at least 1");
    if (max_temp_bytes < 1) throw std::invalid_argument("client_options.max_temp_bytes must be at least 1");
    if (decode_threads < 1) throw std::invalid_argument("client_options.decode_threads must be at least 1");
}

struct client_core : std::enable_shared_from_this<client_core> {
    client_core(asio::any_io_executor e, storage::object_store& s, client_options o)
        : ex(std::move(e)), store(s), opts(std::move(o)) {}

    asio::any_io_executor ex;
    storage::object_store& store;
    client_options opts;
    std::shared_ptr<fetch::download_pool> pool;
    std::unique_ptr<asio::thread_pool> decoders;

    std::mutex mutex;  // guards the members below
    bool running = false;
    bool stopping = false;
    std::optional<asio::any_completion_handler<void(error_code)>> run_handler;
    std::map<std::uint64_t, std::weak_ptr<detail::op_state>> jobs;
    std::uint64_t next_job = 1;
    std::size_t handing_over = 0;  // jobs whose handler is running (done, still registered)

    std::atomic<std::uint64_t> done{0}, segments{0}, bytes{0}, planned{0};

    // A recovery's result goes to its handler: done, in the figures, from here.
    void job_completing() {
        std::lock_guard l(mutex);
        ++done;
        ++handing_over;
    }

    // Its handler has run: the last one of a stopping client completes async_run.
    void job_finished(std::uint64_t id) {
        std::optional<asio::any_completion_handler<void(error_code)>> h;
        {
            std::lock_guard l(mutex);
            jobs.erase(id);
            --handing_over;
            if (stopping && jobs.empty() && run_handler) {
                h.emplace(std::move(*run_handler));
                run_handler.reset();
                running = false;
            }
        }
        if (h) finish_run(std::move(*h));
    }

    void finish_run(asio::any_completion_handler<void(error_code)> h) {
        // The pool: no job can be left (every recovery closed its fetcher),
        // but queued admissions of nobody are cancelled all the same.
        pool->async_close([self = shared_from_this(), h = std::move(h)]() mutable {
            detail::post_completion(self->ex, std::move(h), error_code{});
        });
    }

    void stop() {
        std::vector<std::shared_ptr<detail::op_state>> live;
        std::optional<asio::any_completion_handler<void(error_code)>> h;
        {
            std::lock_guard l(mutex);
            if (stopping) return;
            stopping = true;
            for (auto& [id, w] : jobs)
                if (auto st = w.lock()) live.push_back(std::move(st));
            if (jobs.empty() && run_handler) {
                h.emplace(std::move(*run_handler));
                run_handler.reset();
                running = false;
            }
        }
        for (auto& st : live) {
            st->cancel_requested->store(true, std::memory_order_release);
            asio::post(st->strand, [st] { st->cancel(); });
        }
        if (h) finish_run(std::move(*h));
    }
};

namespace {

// A failure with the error code the recovery completes with.
struct recovery_failure : std::runtime_error {
    recovery_failure(error_code c, const std::string& what) : std::runtime_error(what), code(c) {}
    error_code code;
};

// The sink's own exceptions, told apart from the reader's.
struct sink_exception : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class guarded_sink final : public log::kv_state {
public:
    explicit guarded_sink(log::kv_sink& s) : s_(s) {}
    void put(std::string_view k, std::string_view v) override {
        try {
            s_.put(k, v);
        } catch (const std::exception& e) {
            throw sink_exception(std::string("put: ") + e.what());
        }
    }
    void remove(std::string_view k) override {
        try {
            s_.remove(k);
        } catch (const std::exception& e) {
            throw sink_exception(std::string("remove: ") + e.what());
        }
    }
    void commit(std::int64_t next) {
        try {
            s_.commit(next);
        } catch (const std::exception& e) {
            throw sink_exception("commit(" + std::to_string(next) + "): " + e.what());
        }
    }

private:
    log::kv_sink& s_;
};

// Everything one recovery owns; the decode parts are touched only on the
// decode executor, one segment at a time, and read by the recovery
// coroutine between segments.
struct job {
    std::shared_ptr<client_core> c;
    std::string tablet_dir;
    recovery_options opts;
    guarded_sink sink;
    std::atomic<bool> stop{false};
    recovery_stats stats;
    std::optional<log::kv_applier> applier;
    std::optional<log::replay_continuity> continuity;

    job(std::shared_ptr<client_core> core, std::string t, recovery_options o, log::kv_sink& s)
        : c(std::move(core)), tablet_dir(std::move(t)), opts(std::move(o)), sink(s) {}

    std::string where() const { return "tablet " + tablet_dir; }
};

// What decoding one segment came to (no exception crosses executors).
struct decode_outcome {
    error_code ec;
    std::string message;
};

decode_outcome decode_segment(job& j, const fetch::downloaded_segment& seg) {
    const auto& s = seg.segment();
    try {
        log::mapped_file file(seg.path());
        // Overlapping segments: read from the offset reached, so each offset is applied once.
        const auto r = j.continuity->begin_segment(s, seg.key(), seg.read_start_offset(), seg.read_end_offset());
        log::batch_reader_options ro;
        ro.magic1 = j.opts.magic1;
        log::segment_batches batches(file.bytes(), s.segment_id, r, ro);
        constexpr std::size_t drop_every = 8 << 20;  // resident memory stays ~8 MiB + readahead per segment
        std::size_t kept_from = 0;
        while (auto b = batches.next()) {
            if (j.stop.load(std::memory_order_relaxed)) return {asio::error::operation_aborted, "cancelled"};
            j.continuity->on_batch(*b);  // a batch starting past the offset reached: a hole
            j.applier->apply(*b, s.segment_id, j.sink, j.stats.apply);
            if (b->file_offset - kept_from >= drop_every) {
                file.drop_before(b->file_offset);
                kept_from = b->file_offset;
            }
        }
        j.continuity->end_segment();  // the object ended before the segment's read end: a hole
        j.sink.commit(j.continuity->next_offset());
        return {};
    } catch (const sink_exception& e) {
        return {make_error_code(errc::sink_failed), "segment " + s.segment_id + ": kv sink failed: " + e.what()};
    } catch (const log::log_error& e) {
        return {make_error_code(errc::bad_log), e.what()};
    } catch (const boost::system::system_error& e) {  // offset_gap
        return {e.code(), e.what()};
    } catch (const std::system_error& e) {  // the file cannot be mapped
        return {make_error_code(errc::file_error), "segment " + s.segment_id + ": " + e.what()};
    } catch (const std::bad_alloc&) {
        return {boost::system::errc::make_error_code(boost::system::errc::not_enough_memory),
                "segment " + s.segment_id + ": out of memory"};
    } catch (const std::exception& e) {
        return {make_error_code(errc::internal_bug), "segment " + s.segment_id + ": " + e.what()};
    }
}

asio::awaitable<decode_outcome> decode_on(std::shared_ptr<job> j, const fetch::downloaded_segment& seg) {
    const auto t0 = clock_type::now();
    auto out = decode_segment(*j, seg);
    j->stats.decode_time += std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0);
    co_return out;
}

// Manifest reads and listings run as jobs of the shared pool: they count
// under the client's request cap like every segment request.
asio::awaitable<std::string> read_small(client_core& c, const std::string& key) {
    auto body = std::make_shared<std::string>();
    auto d = std::make_shared<diagnostics>();
    storage::object_store* store = &c.store;
    fetch::download_job job = [store, key, body, d]() -> asio::awaitable<error_code> {
        body->clear();
        storage::string_sink sink(*body, 64u << 20);
        const storage::get_options whole;
        auto [ec, r] = co_await store->async_get(key, whole, sink, *d, use_tuple);
        co_return ec;
    };
    auto [ec] = co_await c.pool->async_submit(std::move(job), use_tuple);
    if (ec) throw recovery_failure(ec, "cannot read manifest: " + d->to_string(ec));
    co_return std::move(*body);
}

asio::awaitable<std::vector<storage::object_entry>> list_objects(client_core& c, const std::string& prefix,
                                                                 const char* what) {
    auto out = std::make_shared<std::vector<storage::object_entry>>();
    auto d = std::make_shared<diagnostics>();
    storage::object_store* store = &c.store;
    fetch::download_job job = [store, prefix, out, d]() -> asio::awaitable<error_code> {
        auto [ec, entries] = co_await store->async_list(prefix, *d, use_tuple);
        *out = std::move(entries);
        co_return ec;
    };
    auto [ec] = co_await c.pool->async_submit(std::move(job), use_tuple);
    if (ec) throw recovery_failure(ec, std::string("cannot list ") + what + ": " + d->to_string(ec));
    co_return std::move(*out);
}

asio::awaitable<log::remote_log_manifest> find_manifest(job& j) {
    auto& store = j.c->store;
    if (j.opts.manifest) {
        j.stats.manifest_key = j.opts.manifest_key.empty() ? std::string("(given)") : j.opts.manifest_key;
        co_return *j.opts.manifest;
    }
    if (!j.opts.manifest_key.empty()) {
        j.stats.manifest_key = j.opts.manifest_key;
        auto text = co_await read_small(*j.c, j.opts.manifest_key);
        try {
            co_return log::parse_manifest(text, j.opts.manifest_key);
        } catch (const std::invalid_argument& e) {
            throw recovery_failure(make_error_code(errc::bad_log), e.what());
        }
    }
    const std::string prefix = log::remote_log_manifest_dir(j.tablet_dir) + "/";
    const auto entries = co_await list_objects(*j.c, prefix, "manifests");
    std::vector<log::listed_object> listing;
    for (const auto& e : entries) listing.push_back({e.key, e.last_modified});
    const auto candidates = log::newest_manifest_keys(listing);
    if (candidates.empty()) {
        std::string root = store.describe();
        if (!root.ends_with('/')) root += '/';
        throw recovery_failure(make_error_code(errc::no_such_key), "no manifest under " + root + prefix);
    }
    // Among manifests written in the same instant, the one reaching furthest.
    std::optional<log::remote_log_manifest> best;
    for (const auto& key : candidates) {
        auto text = co_await read_small(*j.c, key);
        try {
            auto m = log::parse_manifest(text, key);
            if (!best || m.end_offset() > best->end_offset()) {
                best = std::move(m);
                j.stats.manifest_key = key;
            }
        } catch (const std::invalid_argument& e) {
            throw recovery_failure(make_error_code(errc::bad_log), e.what());
        }
    }
    co_return std::move(*best);
}

bool same_tablet(const log::tablet_ref& a, const log::tablet_ref& b) {
    return a.database == b.database && a.table == b.table && a.table_id == b.table_id && a.bucket == b.bucket &&
           a.partition_id == b.partition_id;
}

// The recovery up to the last segment; throws recovery_failure.
asio::awaitable<void> recover_body(std::shared_ptr<job> j, detail::op_state& st,
                                   std::unique_ptr<fetch::remote_log_fetcher>& fetcher,
                                   std::optional<fetch::segment_stream>& stream) {
    auto& o = j->opts;
    auto& c = *j->c;
    log::parsed_tablet_dir tablet;
    try {
        tablet = log::parse_tablet_dir(j->tablet_dir);
        o.fetch.validate();
        if (o.start_offset < 0) throw std::invalid_argument("recovery_options.start_offset must not be negative");
        if (o.stop_offset && *o.stop_offset <= o.start_offset)
            throw std::invalid_argument("recovery_options.stop_offset must be greater than start_offset");
        j->applier.emplace(o.schema, o.format, o.schema_id);
    } catch (const log::log_error& e) {  // a type the format cannot carry
        throw recovery_failure(make_error_code(errc::invalid_argument), e.what());
    } catch (const std::invalid_argument& e) {
        throw recovery_failure(make_error_code(errc::invalid_argument), e.what());
    }

    if (st.cancelled) throw recovery_failure(asio::error::operation_aborted, "cancelled");
    auto manifest = co_await find_manifest(*j);
    if (st.cancelled) throw recovery_failure(asio::error::operation_aborted, "cancelled");
    if (!same_tablet(manifest.tablet, tablet.tablet))
        throw recovery_failure(make_error_code(errc::invalid_argument),
                               "the manifest " + j->stats.manifest_key + " describes " +
                                   log::remote_log_tablet_dir(manifest.tablet) + ", not this tablet");
    const std::int64_t stop = o.stop_offset.value_or(manifest.end_offset());
    if (stop <= o.start_offset) co_return;  // nothing to replay: the log ends where we start

    // Prove continuity before downloading: the relevant segments' logical
    // ranges must tile [start, stop); a hole is lost data (log/continuity.hpp).
    std::vector<log::remote_log_segment> relevant;
    try {
        relevant = fetch::select_segments(manifest.segments, o.start_offset, stop);
        log::check_offset_coverage(relevant, o.start_offset, stop);
    } catch (const boost::system::system_error& e) {
        throw recovery_failure(e.code(), e.what());
    }
    j->continuity.emplace(o.start_offset);

    auto fo = o.fetch;
    fo.temp_parent = c.opts.temp_parent;
    fo.sweep_stale_temp_dirs = false;  // the client swept at construction
    fetcher = std::make_unique<fetch::remote_log_fetcher>(c.ex, c.store, fo, c.pool);
    stream.emplace(fetcher->fetch(j->tablet_dir, std::move(relevant), o.start_offset, stop));
    std::uint64_t planned = 0;
    for (const auto& s : stream->segments()) planned += s.size_in_bytes;
    c.planned += planned;

    auto decode_ex = o.decode_executor ? *o.decode_executor : asio::any_io_executor(c.decoders->get_executor());
    std::uint64_t bytes_seen = 0;
    for (;;) {
        auto [ec, seg] = co_await stream->async_next(use_tuple);
        const auto now_bytes = stream->stats().bytes;
        c.bytes += now_bytes - bytes_seen;
        bytes_seen = now_bytes;
        if (st.cancelled) throw recovery_failure(asio::error::operation_aborted, "cancelled");
        if (ec) throw recovery_failure(ec, stream->last_error().to_string(ec));
        if (!seg) break;
        // The cancellation slot is cut: the decode stops through j->stop.
        auto out = co_await asio::co_spawn(decode_ex, decode_on(j, *seg),
                                           asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable));
        if (out.ec) throw recovery_failure(out.ec, out.message);
        if (st.cancelled) throw recovery_failure(asio::error::operation_aborted, "cancelled");
        ++j->stats.segments;
        ++c.segments;
        j->stats.next_offset = j->continuity->next_offset();
    }
}

asio::awaitable<std::tuple<error_code, recovery_stats>> recover(std::shared_ptr<job> j,
                                                                std::shared_ptr<detail::op_state> st) {
    j->stats.tablet_dir = j->tablet_dir;
    j->stats.start_offset = j->opts.start_offset;
    j->stats.next_offset = j->opts.start_offset;
    st->on_cancel = [j] { j->stop = true; };

    std::unique_ptr<fetch::remote_log_fetcher> fetcher;
    std::optional<fetch::segment_stream> stream;
    error_code ec;
    std::string message;
    try {
        co_await recover_body(j, *st, fetcher, stream);
    } catch (const recovery_failure& f) {
        ec = f.code;
        message = f.what();
    } catch (const boost::system::system_error& e) {  // the fetcher's temp dir, select_segments
        ec = e.code();
        message = e.what();
    } catch (const std::system_error& e) {
        ec = make_error_code(errc::file_error);
        message = e.what();
    } catch (const std::bad_alloc&) {
        ec = boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
        message = "out of memory";
    } catch (const std::exception& e) {
        ec = make_error_code(errc::internal_bug);
        message = e.what();
    }
    if (st->cancelled) {
        ec = asio::error::operation_aborted;
        message = "cancelled";
    }
    // Every download stopped, every file and the temp dir gone, before the caller hears.
    if (stream) {
        j->stats.download = stream->stats();
        co_await stream->async_close(asio::use_awaitable);
    }
    if (fetcher) co_await fetcher->async_close(asio::use_awaitable);
    if (ec) {
        j->stats.error = j->where() + ": " + message;
        if (ec != asio::error::operation_aborted) detail::logger().error("recovery of {}", j->stats.error);
    } else {
        detail::logger().info("recovered {}: {} segments, next offset {}", j->tablet_dir, j->stats.segments,
                              j->stats.next_offset);
    }
    co_return std::tuple{ec, j->stats};
}

// ---- finding tablets

struct tablet_key {
    std::string partition;
    std::int64_t partition_id = -1;
    std::int32_t bucket = 0;
    auto operator<=>(const tablet_key&) const = default;
};

asio::awaitable<std::tuple<error_code, std::vector<std::string>>> find_tablets(std::shared_ptr<client_core> c,
                                                                               std::string dir) {
    using result = std::tuple<error_code, std::vector<std::string>>;
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    const std::string prefix = dir.empty() ? std::string() : dir + "/";
    std::vector<storage::object_entry> entries;
    try {
        entries = co_await list_objects(*c, prefix, "tablets");
    } catch (const recovery_failure& f) {
        detail::logger().error("{}", f.what());
        co_return result{f.code, {}};
    }
    std::map<tablet_key, std::string> found;
    constexpr std::string_view meta = "/metadata/";
    for (const auto& e : entries) {
        if (!e.key.ends_with(".manifest")) continue;
        const auto at = e.key.rfind(meta);
        if (at == std::string::npos || e.key.find('/', at + meta.size()) != std::string::npos) continue;
        std::string tdir = e.key.substr(0, at);
        try {
            const auto p = log::parse_tablet_dir(tdir);
            tablet_key k{p.tablet.partition_name.value_or(""), p.tablet.partition_id.value_or(-1), p.tablet.bucket};
            found.emplace(k, std::move(tdir));
        } catch (const std::invalid_argument&) {
            // not a tablet dir: ignore (e.g. a stray manifest elsewhere)
        }
    }
    std::vector<std::string> out;
    for (auto& [k, t] : found) out.push_back(std::move(t));
    if (out.empty()) co_return result{make_error_code(errc::no_remote_segments), {}};
    co_return result{error_code{}, std::move(out)};
}

}  // namespace

// The caller's handler of a recovery, after which the recovery leaves the
// client: a stopping client's async_run completes only once the handler of
// its last recovery has run (had the recovery left when its coroutine ended,
// async_run's handler could run first, on another thread, while a recovery's
// result was still on its way to a handler that may use what the caller
// frees once async_run has completed). The caller's executor and
// cancellation slot are the wrapped handler's.
struct leaving_handler {
    asio::any_completion_handler<client::recover_signature> h;
    std::shared_ptr<client_core> c;
    std::uint64_t id;

    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return asio::get_associated_cancellation_slot(h); }

    void operator()(error_code ec, recovery_stats s) {
        struct leave {
            std::shared_ptr<client_core> c;
            std::uint64_t id;
            ~leave() { c->job_finished(id); }
        } guard{std::move(c), id};
        guard.c->job_completing();
        auto inner = std::move(h);
        std::move(inner)(ec, std::move(s));
    }
};

}  // namespace fluss_fetch::recovery

template <class Candidate>
struct boost::asio::associated_executor<fluss_fetch::recovery::leaving_handler, Candidate> {
    using type = boost::asio::any_completion_executor;
    static type get(const fluss_fetch::recovery::leaving_handler& x, const Candidate& c = Candidate()) noexcept {
        return boost::asio::get_associated_executor(x.h, c);
    }
};

namespace fluss_fetch::recovery {

// ---------------------------------------------------------------- client

client::client(asio::any_io_executor ex, storage::object_store& store, client_options opts) {
    opts.validate();
    if (opts.temp_parent.empty()) opts.temp_parent = std::filesystem::temp_directory_path();
    if (opts.sweep_stale_temp_dirs) fetch::sweep_stale_temp_dirs(opts.temp_parent);
    core_ = std::make_shared<client_core>(std::move(ex), store, std::move(opts));
    core_->pool = std::make_shared<fetch::download_pool>(core_->ex, core_->opts.max_requests, core_->opts.max_temp_bytes);
    core_->decoders = std::make_unique<asio::thread_pool>(core_->opts.decode_threads);
}

client::~client() {
    core_->stop();
    // The decode threads end once their work is done; a recovery still
    // decoding holds the job (and its stop flag is set).
    core_->decoders->stop();
    core_->decoders->join();
}

void client::cancel() { core_->stop(); }

void client::do_run(asio::any_completion_handler<void(error_code)> h) {
    auto slot = asio::get_associated_cancellation_slot(h);
    {
        std::lock_guard l(core_->mutex);
        if (core_->running || core_->stopping) {
            detail::post_completion(core_->ex, std::move(h),
                                    core_->running ? error_code(asio::error::already_started)
                                                   : error_code(asio::error::operation_aborted));
            return;
        }
        core_->running = true;
        core_->run_handler.emplace(std::move(h));
    }
    if (slot.is_connected()) {
        std::weak_ptr<client_core> weak = core_;
        slot.assign([weak](asio::cancellation_type t) {
            if ((t & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                      asio::cancellation_type::total)) == asio::cancellation_type::none)
                return;
            if (auto c = weak.lock()) c->stop();
        });
    }
}

void client::do_recover(std::string tablet_dir, recovery_options opts, log::kv_sink& sink,
                        asio::any_completion_handler<recover_signature> h) {
    std::uint64_t id = 0;
    {
        std::lock_guard l(core_->mutex);
        if (core_->running && !core_->stopping) {
            id = core_->next_job++;
            // Counted from here (its state comes when its coroutine starts):
            // a stop() in between must not complete async_run without it.
            core_->jobs.emplace(id, std::weak_ptr<detail::op_state>());
        }
    }
    if (id == 0) {
        recovery_stats s;
        s.tablet_dir = tablet_dir;
        s.error = "tablet " + tablet_dir + ": the recovery client is not running (start async_run first)";
        detail::post_completion(core_->ex, std::move(h), make_error_code(errc::not_running), std::move(s));
        return;
    }
    auto j = std::make_shared<job>(core_, std::move(tablet_dir), std::move(opts), sink);
    auto core = core_;
    detail::launch<recovery_stats>(
        asio::make_strand(core_->ex),
        [j, id, core](std::shared_ptr<detail::op_state> st) -> asio::awaitable<std::tuple<error_code, recovery_stats>> {
            {
                std::lock_guard l(core->mutex);
                core->jobs[id] = st;
                if (core->stopping) {  // stopped between do_recover and here
                    st->cancel_requested->store(true);
                    st->cancel();
                }
            }
            return recover(j, st);
        },
        asio::any_completion_handler<recover_signature>(leaving_handler{std::move(h), core_, id}));
}

void client::do_find_tablets(std::string dir,
                             asio::any_completion_handler<void(error_code, std::vector<std::string>)> h) {
    auto core = core_;
    detail::launch<std::vector<std::string>>(
        asio::make_strand(core_->ex),
        [core, dir = std::move(dir)](std::shared_ptr<detail::op_state>) { return find_tablets(core, dir); },
        std::move(h));
}

client_stats client::stats() const {
    client_stats s;
    {
        std::lock_guard l(core_->mutex);
        s.recoveries_running = core_->jobs.size() - core_->handing_over;
    }
    s.recoveries_done = core_->done;
    s.segments_applied = core_->segments;
    s.bytes_downloaded = core_->bytes;
    s.bytes_planned = core_->planned;
    s.requests_in_flight = core_->pool->running();
    s.temp_bytes_reserved = core_->pool->reserved_bytes();
    return s;
}

const client_options& client::options() const noexcept { return core_->opts; }
asio::any_io_executor client::get_executor() const noexcept { return core_->ex; }

}  // namespace fluss_fetch::recovery
