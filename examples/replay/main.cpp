// fluss-replay: rebuild a Fluss primary-key bucket's KV state from its remote log.
//
//   fluss-replay --remote-log-dir URI --schema "id INT, name STRING" --primary-key id
//                [--log-format arrow|compacted|indexed] [--schema-id 1] [--manifest URI]
//                [--start-offset N] [--stop-offset N] [--prefetch-num 4] [--download-threads 3]
//                [--temp-dir DIR] [--no-sweep-temp] [--endpoint URL] [--region R] [--ca-file FILE]
//                [--magic1-layout statistics|leader-epoch] [--dump-kv FILE] [--json] [--no-progress]
//
// Segments come from the fetcher's stream with co_await; each is decoded on a
// thread of its own while the next ones download. Exit 0 on success, 1 on a
// failure (one line on stderr), 2 on a usage error, 130/143 when interrupted.
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/continuity.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "../common/cli.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using namespace fluss_fetch;
using examples::parse_count;
using examples::usage_error;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr const char* usage_text =
    "usage: fluss-replay --remote-log-dir URI --schema COLUMNS --primary-key COL[,COL...]\n"
    "                    [--log-format arrow|compacted|indexed] [--schema-id 1] [--manifest URI]\n"
    "                    [--start-offset N] [--stop-offset N] [--prefetch-num 4] [--download-threads 3]\n"
    "                    [--temp-dir DIR] [--no-sweep-temp] [--endpoint URL] [--region R] [--ca-file FILE]\n"
    "                    [--magic1-layout statistics|leader-epoch] [--dump-kv FILE] [--json] [--no-progress]\n"
    "  --remote-log-dir  a log tablet dir: s3://BUCKET/.../log/DB/TABLE-ID[/PART-pPID]/BUCKET or file:///...\n"
    "  --schema          columns in order, e.g. \"id INT NOT NULL, name STRING, amount BIGINT\"\n"
    "  --log-format      the table's table.log.format (default arrow, as Fluss's)\n"
    "  --schema-id N     the id of the schema --schema describes (default 1); a batch written\n"
    "                    with another schema id fails the replay, naming both\n"
    "  --manifest        default: the newest manifest under the tablet's metadata/\n"
    "  --stop-offset     default: the end of the manifest's log; --start-offset default 0\n"
    "                    (a hole in [start, stop), between or inside segments, fails the replay)\n"
    "  --temp-dir DIR    where the remote-log-recovery-* download dir goes (default: the system temp dir)\n"
    "  --no-sweep-temp   keep stale remote-log-recovery-* dirs under the temp dir; by default the ones\n"
    "                    no live process holds (left by a crash) are removed at start (a dir without\n"
    "                    a .lock file, as Fluss makes them, only once it is an hour old)\n"
    "  --dump-kv FILE    the final state, one 'hexkey<TAB>hexvalue' line per key, sorted by key bytes\n"
    "  --json            print a JSON summary as the last stdout line\n";

struct args {
    std::string remote_log_dir;
    std::string schema_text;
    std::string primary_key;
    log::log_format format = log::log_format::arrow;
    std::int16_t schema_id = 1;
    std::string manifest;
    std::int64_t start_offset = 0;
    std::optional<std::int64_t> stop_offset;
    fetch::fetcher_options fetch;
    storage::s3_options s3;
    log::magic1_layout magic1 = log::magic1_layout::statistics;
    fs::path dump;
    bool json = false;
    bool progress = true;
};

args parse_args(int argc, char** argv) {
    args a;
    // A replay killed with SIGKILL leaves its temp dir (lock, partial files)
    // behind; the next run removes it unless told not to.
    a.fetch.sweep_stale_temp_dirs = true;
    auto value = [&](int& i) { return examples::next_value(argc, argv, i); };
    for (int i = 1; i < argc; ++i) {
        const std::string f = argv[i];
        if (f == "--remote-log-dir") a.remote_log_dir = value(i);
        else if (f == "--schema") a.schema_text = value(i);
        else if (f == "--primary-key") a.primary_key = value(i);
        else if (f == "--log-format") {
            const auto v = value(i);
            if (v == "compacted" || v == "COMPACTED") a.format = log::log_format::compacted;
            else if (v == "indexed" || v == "INDEXED") a.format = log::log_format::indexed;
            else if (v == "arrow" || v == "ARROW") a.format = log::log_format::arrow;
            else throw usage_error("--log-format: '" + v + "' is not compacted, indexed or arrow");
        } else if (f == "--schema-id") {
            const auto id = parse_count(f, value(i));
            if (id > 32767) throw usage_error("--schema-id must be 0..32767");
            a.schema_id = static_cast<std::int16_t>(id);
        } else if (f == "--manifest") a.manifest = value(i);
        else if (f == "--start-offset") a.start_offset = parse_count(f, value(i));
        else if (f == "--stop-offset") a.stop_offset = parse_count(f, value(i));
        else if (f == "--prefetch-num") a.fetch.prefetch_num = static_cast<std::size_t>(parse_count(f, value(i)));
        else if (f == "--download-threads") a.fetch.download_threads = static_cast<std::size_t>(parse_count(f, value(i)));
        else if (f == "--temp-dir") a.fetch.temp_parent = value(i);
        else if (f == "--no-sweep-temp") a.fetch.sweep_stale_temp_dirs = false;
        else if (f == "--endpoint") a.s3.endpoint = value(i);
        else if (f == "--region") a.s3.region = value(i);
        else if (f == "--ca-file") a.s3.ca_file = value(i);
        else if (f == "--magic1-layout") {
            const auto v = value(i);
            if (v == "statistics") a.magic1 = log::magic1_layout::statistics;
            else if (v == "leader-epoch") a.magic1 = log::magic1_layout::leader_epoch;
            else throw usage_error("--magic1-layout: '" + v + "' is not statistics or leader-epoch");
        } else if (f == "--dump-kv") a.dump = value(i);
        else if (f == "--json") a.json = true;
        else if (f == "--no-progress") a.progress = false;
        else if (f == "-h" || f == "--help") {
            std::cout << usage_text;
            std::exit(0);
        } else throw usage_error("unknown option '" + f + "'");
    }
    if (a.remote_log_dir.empty()) throw usage_error("--remote-log-dir is required");
    if (a.schema_text.empty()) throw usage_error("--schema is required");
    if (a.primary_key.empty()) throw usage_error("--primary-key is required");
    if (a.fetch.prefetch_num < 1) throw usage_error("--prefetch-num must be at least 1");
    if (a.fetch.download_threads < 1) throw usage_error("--download-threads must be at least 1");
    if (a.stop_offset && *a.stop_offset <= a.start_offset)
        throw usage_error("--stop-offset must be greater than --start-offset");
    return a;
}

// A failure to report: one line, exit 1.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct counters {
    std::atomic<std::uint64_t> segments{0};
    std::atomic<std::int64_t> next_offset{0};
    log::apply_stats apply;  // written by the decode thread only between segments, read at the end
};

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
    return buf;
}

struct program {
    args a;
    asio::io_context& ioc;
    asio::strand<asio::io_context::executor_type> strand{asio::make_strand(ioc)};
    asio::thread_pool decoder{1};
    log::schema schema;
    log::memory_kv_state state;
    std::optional<log::kv_applier> applier;  // the decode thread's
    counters stats;
    std::optional<log::replay_continuity> continuity;  // the decode thread's, once the range is known
    std::unique_ptr<storage::object_store> store;
    std::unique_ptr<fetch::remote_log_fetcher> fetcher;
    std::optional<fetch::segment_stream> stream;
    std::uint64_t total_bytes = 0;
    std::size_t total_segments = 0;
    std::atomic<bool> stop_decoding{false};
    int interrupted = 0;
    bool finished = false;

    // ---- the manifest

    asio::awaitable<std::string> read_small(storage::object_store& s, const std::string& key) {
        std::string body;
        storage::string_sink sink(body, 64u << 20);
        diagnostics d;
        const storage::get_options whole;
        auto [ec, r] = co_await s.async_get(key, whole, sink, d, use_tuple);
        if (ec) throw failure("cannot read manifest: " + d.to_string(ec));
        co_return body;
    }

    asio::awaitable<log::remote_log_manifest> find_manifest(const std::string& tablet_key) {
        if (!a.manifest.empty()) {
            auto u = storage::parse_object_uri(a.manifest);
            auto own = storage::open_store(ioc.get_executor(), u, a.s3);
            auto text = co_await read_small(*own, u.key);
            co_return log::parse_manifest(text, a.manifest);
        }
        const std::string prefix = log::remote_log_manifest_dir(tablet_key) + "/";
        diagnostics d;
        auto [ec, entries] = co_await store->async_list(prefix, d, use_tuple);
        if (ec) throw failure("cannot list manifests: " + d.to_string(ec));
        std::vector<log::listed_object> listing;
        for (const auto& e : entries) listing.push_back({e.key, e.last_modified});
        const auto candidates = log::newest_manifest_keys(listing);
        if (candidates.empty()) {
            std::string root = store->describe();
            if (!root.ends_with('/')) root += '/';
            throw failure("no manifest under " + root + prefix);
        }
        // Among manifests written in the same instant, the one reaching furthest.
        std::optional<log::remote_log_manifest> best;
        for (const auto& key : candidates) {
            auto m = log::parse_manifest(co_await read_small(*store, key), key);
            if (!best || m.end_offset() > best->end_offset()) best = std::move(m);
        }
        co_return std::move(*best);
    }

    // ---- decoding one segment (on the decode thread)

    void decode(const fetch::downloaded_segment& seg) {
        log::mapped_file file(seg.path());
        const auto& s = seg.segment();
        // Overlapping segments: read from the offset reached, so each offset is applied once.
        const auto r = continuity->begin_segment(s, seg.key(), seg.read_start_offset(), seg.read_end_offset());
        log::batch_reader_options ro;
        ro.magic1 = a.magic1;
        log::segment_batches batches(file.bytes(), s.segment_id, r, ro);
        constexpr std::size_t drop_every = 8 << 20;  // resident memory stays ~8 MiB + readahead per segment
        std::size_t kept_from = 0;
        while (auto b = batches.next()) {
            if (stop_decoding) return;
            continuity->on_batch(*b);  // a batch starting past the offset reached: a hole
            applier->apply(*b, s.segment_id, state, stats.apply);
            stats.next_offset = continuity->next_offset();
            if (b->file_offset - kept_from >= drop_every) {
                file.drop_before(b->file_offset);
                kept_from = b->file_offset;
            }
        }
        continuity->end_segment();  // the object ended before the segment's read end: a hole
    }

    static asio::awaitable<void> decode_on(program& p, const fetch::downloaded_segment& seg) {
        p.decode(seg);
        co_return;
    }

    // ---- the main loop

    asio::awaitable<void> run() {
        storage::object_uri u;
        log::parsed_tablet_dir tablet;
        try {
            u = storage::parse_object_uri(a.remote_log_dir);
            while (!u.key.empty() && u.key.back() == '/') u.key.pop_back();
            tablet = log::parse_tablet_dir(u.key);
            schema = log::schema::parse(a.schema_text, a.primary_key);
        } catch (const std::exception& e) {
            throw usage_error(e.what());
        }
        try {
            applier.emplace(schema, a.format, a.schema_id);
        } catch (const log::log_error& e) {  // a type the format cannot carry
            throw usage_error(e.what());
        }
        store = storage::open_store(ioc.get_executor(), u, a.s3);
        auto manifest = co_await find_manifest(u.key);
        const auto& mt = manifest.tablet;
        if (mt.database != tablet.tablet.database || mt.table != tablet.tablet.table ||
            mt.table_id != tablet.tablet.table_id || mt.bucket != tablet.tablet.bucket ||
            mt.partition_id != tablet.tablet.partition_id)
            throw failure("the manifest describes " + log::remote_log_tablet_dir(mt) + ", not the tablet " + u.key);
        const std::int64_t stop = a.stop_offset.value_or(manifest.end_offset());
        stats.next_offset = a.start_offset;
        if (stop <= a.start_offset) {
            finished = true;  // nothing to replay: the log ends where we start
            co_return;
        }

        // Prove continuity before downloading: the relevant segments' logical
        // ranges must tile [start, stop); a hole is lost data (see log/continuity.hpp).
        std::vector<log::remote_log_segment> relevant;
        try {
            relevant = fetch::select_segments(manifest.segments, a.start_offset, stop);
            log::check_offset_coverage(relevant, a.start_offset, stop);
        } catch (const boost::system::system_error& e) {
            throw failure(e.what());
        }
        continuity.emplace(a.start_offset);

        fetcher = std::make_unique<fetch::remote_log_fetcher>(ioc.get_executor(), *store, a.fetch);
        try {
            stream.emplace(fetcher->fetch(u.key, std::move(relevant), a.start_offset, stop));
        } catch (const boost::system::system_error& e) {
            throw failure(e.what());
        }
        for (const auto& s : stream->segments()) total_bytes += s.size_in_bytes;
        total_segments = stream->segments().size();

        for (;;) {
            auto [ec, seg] = co_await stream->async_next(use_tuple);
            if (ec == asio::error::operation_aborted && interrupted) break;
            if (ec) throw failure(stream->last_error().to_string(ec));
            if (!seg) break;
            try {
                co_await asio::co_spawn(decoder.get_executor(), decode_on(*this, *seg), asio::use_awaitable);
            } catch (const log::log_error& e) {
                throw failure(e.what());
            } catch (const boost::system::system_error& e) {  // errc::offset_gap
                throw failure(e.what());
            }
            if (interrupted) break;
            ++stats.segments;
        }
        if (!interrupted) finished = true;
        co_await fetcher->async_close(asio::use_awaitable);
    }

    // ---- progress

    asio::steady_timer progress_timer{strand};

    asio::awaitable<void> progress(bool tty) {
        auto& t = progress_timer;
        const auto start = clock_type::now();
        for (;;) {
            t.expires_after(tty ? std::chrono::milliseconds(200) : std::chrono::seconds(2));
            auto [ec] = co_await t.async_wait(use_tuple);
            if (ec || finished || interrupted) break;
            if (!stream) continue;
            const auto st = stream->stats();
            const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
            const double rate = secs > 0 ? double(st.bytes) / secs : 0;
            const double left = total_bytes > st.bytes ? double(total_bytes - st.bytes) : 0;
            const double eta = rate > 0 ? left / rate : 0;
            char line[256];
            std::snprintf(line, sizeof line, "segments %llu/%zu  %s/%s  %.1f MB/s  ETA %.0f s",
                          static_cast<unsigned long long>(stats.segments.load()), total_segments,
                          human_bytes(double(st.bytes)).c_str(), human_bytes(double(total_bytes)).c_str(), rate / 1e6,
                          eta);
            if (tty) {
                const int width = 30;
                const int filled = total_segments ? int(width * stats.segments.load() / total_segments) : 0;
                std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
                std::fprintf(stderr, "\r%s%s\x1b[K", bar.c_str(), line);
            } else {
                std::fprintf(stderr, "fluss-replay: %s\n", line);
            }
        }
        if (tty) std::fprintf(stderr, "\r\x1b[K");
    }

    void interrupt(int sig) {
        interrupted = sig;
        stop_decoding = true;
        progress_timer.cancel();
        if (stream) stream->async_close(asio::detached);
        if (fetcher) fetcher->async_close(asio::detached);
    }
};

}  // namespace

int main(int argc, char** argv) {
    args a;
    try {
        a = parse_args(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "fluss-replay: " << e.what() << "\n" << usage_text;
        return 2;
    }

    asio::io_context ioc(2);
    program p{std::move(a), ioc};
    asio::signal_set sigs(p.strand, SIGINT, SIGTERM);
    sigs.async_wait([&](error_code ec, int sig) {
        if (!ec) p.interrupt(sig);
    });

    const auto start = clock_type::now();
    std::exception_ptr crashed;
    asio::co_spawn(p.strand, p.run(), [&](std::exception_ptr e) {
        crashed = e;
        p.finished = true;
        sigs.cancel();
        p.progress_timer.cancel();
        // On a failure, stop what is still downloading and remove the temp dir.
        if (e && p.fetcher) p.fetcher->async_close(asio::detached);
    });
    if (p.a.progress) asio::co_spawn(p.strand, p.progress(::isatty(2) == 1), asio::detached);
    // Two io threads: sockets keep moving while the other writes a chunk to disk.
    std::thread helper([&] { ioc.run(); });
    ioc.run();
    helper.join();
    p.decoder.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();

    if (crashed) {
        try {
            std::rethrow_exception(crashed);
        } catch (const usage_error& e) {
            std::cerr << "fluss-replay: " << e.what() << "\n";
            return 2;
        } catch (const std::exception& e) {
            if (!p.interrupted) {
                std::cerr << "fluss-replay: failed: " << e.what() << "\n";
                return 1;
            }
        }
    }
    if (p.interrupted) {
        std::cerr << "fluss-replay: interrupted; temp dir removed\n";
        return 128 + p.interrupted;
    }
    if (!p.a.dump.empty()) {
        std::ofstream out(p.a.dump, std::ios::binary | std::ios::trunc);
        p.state.dump(out);
        out.close();
        if (!out) {
            std::cerr << "fluss-replay: failed: cannot write '" << p.a.dump.string() << "'\n";
            return 1;
        }
    }
    const auto& ap = p.stats.apply;
    fetch::stream_stats st;
    if (p.stream) st = p.stream->stats();
    auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    if (p.a.json) {
        std::printf("{\"segments\":%llu,\"batches\":%llu,\"records\":%llu,\"inserts\":%llu,\"update_befores\":%llu,"
                    "\"update_afters\":%llu,\"deletes\":%llu,\"appends\":%llu,\"kv_keys\":%llu,\"next_offset\":%lld,"
                    "\"bytes_downloaded\":%llu,\"requests\":%llu,\"retries\":%llu,\"seconds\":%.6f,"
                    "\"consumer_wait_seconds\":%.6f}\n",
                    u(p.stats.segments), u(ap.batches), u(ap.records), u(ap.inserts), u(ap.update_befores),
                    u(ap.update_afters), u(ap.deletes), u(ap.appends), u(p.state.size()),
                    static_cast<long long>(p.stats.next_offset.load()), u(st.bytes), u(st.requests), u(st.retries),
                    seconds, std::chrono::duration<double>(st.consumer_wait).count());
    } else {
        std::printf("replayed %llu segments, %llu batches, %llu records into %llu keys; next offset %lld; "
                    "%s in %.2f s\n",
                    u(p.stats.segments), u(ap.batches), u(ap.records), u(p.state.size()),
                    static_cast<long long>(p.stats.next_offset.load()), human_bytes(double(st.bytes)).c_str(), seconds);
    }
    return 0;
}
