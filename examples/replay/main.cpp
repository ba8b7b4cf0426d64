// fluss-replay: rebuild a Fluss primary-key table's KV state from its remote log,
// one bucket or every bucket of a table (or of a partition) at once.
//
//   fluss-replay --remote-log-dir URI --schema "id INT, name STRING" --primary-key id
//                [--log-format arrow|compacted|indexed] [--schema-id 1] [--manifest URI]
//                [--start-offset N] [--stop-offset N] [--prefetch-num 4] [--download-threads 3]
//                [--max-requests 8] [--max-temp-bytes 4G] [--decode-threads N]
//                [--temp-dir DIR] [--no-sweep-temp] [--endpoint URL] [--region R] [--ca-file FILE]
//                [--profile NAME] [--path-style] [--no-sign-request]
//                [--magic1-layout statistics|leader-epoch] [--dump-kv FILE|DIR] [--json] [--no-progress]
//   fluss-replay --fluss-config server.yaml --table DB.TABLE --table-id N
//                [--partition NAME --partition-id N] [--bucket N] --schema ... --primary-key ...
//
// The command line is CLI11's (`--help`, `--version`, `--opt=value`). The job is the library's recovery::client: one client (one request cap and
// one temp byte budget over every bucket), every bucket's async_recover
// launched at once, each decoded on the decode pool while its next segments
// download. This file keeps only the command line, the progress and the
// printing. Exit 0 on success, 1 on a failure (one line on stderr), 2 on a
// usage error, 130/143 when interrupted.
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/kv_sink.hpp>
#include <fluss_fetch/log/log_error.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>
#include <fluss_fetch/recovery/client.hpp>
#include <fluss_fetch/recovery/fluss_config.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "../common/cli11.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using namespace fluss_fetch;
using examples::parse_count;
using examples::parse_size;
using examples::usage_error;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr const char* description =
    "fluss-replay: rebuild a Fluss primary-key table's KV state from its remote log, one bucket (a log\n"
    "tablet dir) or every bucket of a table or partition at once.\n"
    "\n"
    "Where the log is, one of:\n"
    "  --remote-log-dir URI   s3://BUCKET/.../log/DB/TABLE-ID[/PART-pPID]/BUCKET (s3a:// too) or file:///...\n"
    "                         (file:/... too): one bucket; or a table dir .../log/DB/TABLE-ID (every bucket, of\n"
    "                         every partition) or a partition dir .../log/DB/TABLE-ID/PART-pPID (its buckets)\n"
    "  --table DB.TABLE --table-id N [--partition NAME --partition-id N] [--bucket N]\n"
    "                         under remote.data.dir (--fluss-config) or --remote-data-dir; without --bucket\n"
    "                         the whole table (or partition)\n"
    "\n"
    "--fluss-config FILE reads a Fluss server.yaml: remote.data.dir, s3.endpoint (with or without a scheme),\n"
    "s3.access-key, s3.secret-key, s3.region, s3.path.style.access, kv.recover.remote-log.prefetch-num and\n"
    "kv.recover.remote-log.download-threads. Command-line flags win over the file, the file over the\n"
    "environment (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_PROFILE, ...). The secret is never printed.\n";

constexpr const char* footer =
    "Exit 0 on success, 1 on a failure (one line on stderr), 2 on a usage error, 130/143 when interrupted.";

struct args {
    std::string remote_log_dir;
    std::string schema_text;
    std::string primary_key;
    log::log_format format = log::log_format::arrow;
    std::int16_t schema_id = 1;
    std::string manifest;
    std::int64_t start_offset = 0;
    std::optional<std::int64_t> stop_offset;
    fetch::fetcher_options fetch;  // per bucket: prefetch_num, download_threads
    std::size_t max_requests = 8;
    std::uint64_t max_temp_bytes = 4ull << 30;
    std::size_t decode_threads = 0;  // 0: min(buckets, cores)
    fs::path temp_dir;
    // A replay killed with SIGKILL leaves its temp dir (lock, partial files)
    // behind; the next run removes it unless told not to.
    bool sweep_temp = true;
    storage::s3_options s3;
    log::magic1_layout magic1 = log::magic1_layout::statistics;
    fs::path dump;
    bool json = false;
    bool progress = true;
};

// What the command line says before the server.yaml and the defaults are merged in.
struct flags {
    std::optional<std::size_t> prefetch_num, download_threads;
    examples::s3_flags s3;
    std::string fluss_config;
    std::string remote_data_dir;
    std::string table;  // DB.TABLE
    std::optional<std::int64_t> table_id, partition_id, bucket;
    std::optional<std::string> partition;
};

// The tablet, partition or table dir --table and its companions name under `root` (a URI).
std::string locate(const flags& f, const std::string& root, const std::string& root_name) {
    const auto dot = f.table.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == f.table.size())
        throw usage_error("--table: '" + f.table + "' is not DB.TABLE");
    if (!f.table_id) throw usage_error("--table needs --table-id N (the table's id, as in log/DB/TABLE-ID)");
    if (f.partition.has_value() != f.partition_id.has_value())
        throw usage_error("--partition and --partition-id go together");
    if (f.bucket && *f.bucket > INT32_MAX) throw usage_error("--bucket: " + std::to_string(*f.bucket) + " is too large");
    log::tablet_ref t;
    t.database = f.table.substr(0, dot);
    t.table = f.table.substr(dot + 1);
    t.table_id = *f.table_id;
    t.partition_name = f.partition;
    t.partition_id = f.partition_id;
    t.bucket = static_cast<std::int32_t>(f.bucket.value_or(0));
    std::string dir = log::remote_log_tablet_dir(t);  // .../BUCKET
    if (!f.bucket) dir = t.partition_name ? dir.substr(0, dir.rfind('/')) : log::remote_log_table_dir(t);
    storage::object_uri u;
    try {
        u = storage::parse_object_uri(root);
    } catch (const std::exception& e) {
        throw usage_error(root_name + ": " + e.what());
    }
    while (!u.key.empty() && u.key.back() == '/') u.key.pop_back();
    u.key = u.key.empty() ? dir : u.key + "/" + dir;
    return u.to_string();
}

// nullopt: run with `a`; else the exit code (0 after --help or --version, 2 after a usage error).
std::optional<int> parse_args(int argc, char** argv, args& a) {
    using examples::add_count;
    using examples::add_value;
    CLI::App app{description, "fluss-replay"};
    examples::setup(app, "fluss-replay");
    app.footer(footer);
    flags f;

    app.add_option("--remote-log-dir", a.remote_log_dir, "a tablet, partition or table dir (see above)")
        ->type_name("URI");
    app.add_option("--fluss-config", f.fluss_config, "a Fluss server.yaml to take the remote dir, S3 settings, "
                                                     "prefetch-num and download-threads from")
        ->type_name("FILE");
    app.add_option("--remote-data-dir", f.remote_data_dir,
                   "the remote.data.dir root that --table is under (overrides the file's)")
        ->type_name("URI");
    app.add_option("--table", f.table, "the table, DB.TABLE (with --table-id)")->type_name("DB.TABLE");
    add_count(app, "--table-id", [&](std::int64_t n) { f.table_id = n; }, "the table's id");
    app.add_option("--partition", f.partition, "a partition's name (with --partition-id)")->type_name("NAME");
    add_count(app, "--partition-id", [&](std::int64_t n) { f.partition_id = n; }, "the partition's id");
    add_count(app, "--bucket", [&](std::int64_t n) { f.bucket = n; }, "one bucket; default: every bucket");
    app.add_option("--schema", a.schema_text, "columns in order, e.g. \"id INT NOT NULL, name STRING, amount BIGINT\"")
        ->type_name("COLUMNS");
    app.add_option("--primary-key", a.primary_key, "the primary key's columns")->type_name("COL[,COL...]");
    add_value(
        app, "--log-format",
        [&](const std::string& v) {
            if (v == "compacted" || v == "COMPACTED") a.format = log::log_format::compacted;
            else if (v == "indexed" || v == "INDEXED") a.format = log::log_format::indexed;
            else if (v == "arrow" || v == "ARROW") a.format = log::log_format::arrow;
            else throw usage_error("--log-format: '" + v + "' is not compacted, indexed or arrow");
        },
        "the table's table.log.format: arrow (Fluss's default), compacted or indexed", "arrow", "FORMAT");
    add_count(
        app, "--schema-id",
        [&](std::int64_t id) {
            if (id > 32767) throw usage_error("--schema-id must be 0..32767");
            a.schema_id = static_cast<std::int16_t>(id);
        },
        "the id of the schema --schema describes; a batch written with another fails the replay, naming both", "1");
    app.add_option("--manifest", a.manifest, "one bucket only; default: the newest manifest under the tablet's metadata/")
        ->type_name("URI");
    add_count(app, "--start-offset", [&](std::int64_t n) { a.start_offset = n; },
              "the first offset replayed, in every bucket", "0");
    add_count(app, "--stop-offset", [&](std::int64_t n) { a.stop_offset = n; },
              "the offset replay stops before, in every bucket (a hole in [start, stop) fails); "
              "default: the end of the manifest's log");
    add_count(app, "--prefetch-num", [&](std::int64_t n) { f.prefetch_num = static_cast<std::size_t>(n); },
              "per bucket: segments downloaded ahead (server.yaml: kv.recover.remote-log.prefetch-num)",
              std::to_string(a.fetch.prefetch_num));
    add_count(app, "--download-threads", [&](std::int64_t n) { f.download_threads = static_cast<std::size_t>(n); },
              "per bucket: requests in flight (server.yaml: kv.recover.remote-log.download-threads)",
              std::to_string(a.fetch.download_threads));
    add_count(app, "--max-requests", [&](std::int64_t n) { a.max_requests = static_cast<std::size_t>(n); },
              "requests in flight over all buckets", "8");
    add_value(app, "--max-temp-bytes", [&](const std::string& v) { a.max_temp_bytes = examples::parse_size("--max-temp-bytes", v); },
              "segment bytes on disk at once over all buckets (512M, 8388608...)", "4G", "SIZE");
    add_count(
        app, "--decode-threads",
        [&](std::int64_t n) {
            if (n < 1) throw usage_error("--decode-threads must be at least 1");
            a.decode_threads = static_cast<std::size_t>(n);
        },
        "buckets decoded at once (default: the number of buckets, at most the cores)");
    add_value(app, "--temp-dir", [&](const std::string& v) { a.temp_dir = v; },
              "where the remote-log-recovery-* download dirs go (default: the system temp dir)", "", "DIR");
    app.add_flag_function(
        "--no-sweep-temp", [&](std::int64_t) { a.sweep_temp = false; },
        "keep stale remote-log-recovery-* dirs under the temp dir; by default the ones no live process holds "
        "(left by a crash) are removed at start (a dir without a .lock file, as Fluss makes them, only once it "
        "is an hour old)");
    f.s3.add_to(app);
    add_value(
        app, "--magic1-layout",
        [&](const std::string& v) {
            if (v == "statistics") a.magic1 = log::magic1_layout::statistics;
            else if (v == "leader-epoch") a.magic1 = log::magic1_layout::leader_epoch;
            else throw usage_error("--magic1-layout: '" + v + "' is not statistics or leader-epoch");
        },
        "magic 1 batch headers: statistics, or the 0.8-0.9 leader-epoch layout", "statistics", "LAYOUT");
    add_value(app, "--dump-kv", [&](const std::string& v) { a.dump = v; },
              "the final state, one 'hexkey<TAB>hexvalue' line per key, sorted by key bytes: for a tablet dir "
              "the file PATH; for a table or partition dir the dir PATH (created) with PATH/BUCKET.tsv, or "
              "PATH/PART-pPID/BUCKET.tsv when partitioned",
              "", "PATH");
    app.add_flag("--json", a.json,
                 "print a JSON summary as the last stdout line: counts summed over buckets, \"buckets\", \"seconds\" "
                 "(wall time); for a tablet dir \"next_offset\", for a table or partition dir "
                 "\"next_offsets\":{\"log/DB/TABLE-ID[/PART-pPID]/BUCKET\":N,...}");
    app.add_flag_function("--no-progress", [&](std::int64_t) { a.progress = false; }, "no progress lines on stderr");

    if (auto rc = examples::parse(app, "fluss-replay", argc, argv)) return rc;
    try {
        std::optional<recovery::fluss_server_config> cfg;
        if (!f.fluss_config.empty()) {
            try {
                cfg = recovery::load_fluss_config(f.fluss_config);
            } catch (const std::system_error& e) {
                throw usage_error(std::string("--fluss-config: ") + e.what());
            }
        }
        const bool by_table = !f.table.empty() || f.table_id || f.partition || f.partition_id || f.bucket;
        if (by_table && !a.remote_log_dir.empty())
            throw usage_error("--table, --table-id, --partition, --partition-id and --bucket name a dir under "
                              "remote.data.dir; with --remote-log-dir they are not needed");
        if (by_table) {
            if (f.table.empty()) throw usage_error("--table-id, --partition, --partition-id and --bucket go with --table DB.TABLE");
            std::string root = f.remote_data_dir, root_name = "--remote-data-dir";
            if (root.empty() && cfg) {
                root = cfg->remote_data_dir;
                root_name = f.fluss_config + ":" + std::to_string(cfg->remote_data_dir_line) + ": remote.data.dir";
                if (root.empty()) throw usage_error("--fluss-config: " + f.fluss_config + " sets no remote.data.dir");
            }
            if (root.empty()) throw usage_error("--table needs --fluss-config FILE (its remote.data.dir) or --remote-data-dir URI");
            a.remote_log_dir = locate(f, root, root_name);
        } else if (!f.remote_data_dir.empty()) {
            throw usage_error("--remote-data-dir goes with --table DB.TABLE --table-id N");
        }
        if (a.remote_log_dir.empty())
            throw usage_error(cfg ? "--fluss-config needs --table DB.TABLE --table-id N (or --remote-log-dir)"
                                  : "--remote-log-dir (or --table with --fluss-config) is required");
        // Flags win over the file, the file over the defaults.
        if (f.prefetch_num) a.fetch.prefetch_num = *f.prefetch_num;
        else if (cfg && cfg->prefetch_num) a.fetch.prefetch_num = static_cast<std::size_t>(*cfg->prefetch_num);
        if (f.download_threads) a.fetch.download_threads = *f.download_threads;
        else if (cfg && cfg->download_threads) a.fetch.download_threads = static_cast<std::size_t>(*cfg->download_threads);
        if (cfg) a.s3 = recovery::fluss_s3_options(*cfg, std::move(a.s3));
        f.s3.apply(a.s3);

        if (a.schema_text.empty()) throw usage_error("--schema is required");
        if (a.primary_key.empty()) throw usage_error("--primary-key is required");
        if (a.fetch.prefetch_num < 1) throw usage_error("--prefetch-num must be at least 1");
        if (a.fetch.download_threads < 1) throw usage_error("--download-threads must be at least 1");
        if (a.max_requests < 1) throw usage_error("--max-requests must be at least 1");
        if (a.max_temp_bytes < 1) throw usage_error("--max-temp-bytes must be at least 1");
        if (a.stop_offset && *a.stop_offset <= a.start_offset)
            throw usage_error("--stop-offset must be greater than --start-offset");
    } catch (const usage_error& e) {
        std::cerr << "fluss-replay: " << e.what() << " (see fluss-replay --help)\n";
        return 2;
    }
    return std::nullopt;
}

// A failure to report: one line, exit 1.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The library's logger ("fluss_fetch"), registered before the library first
// logs: warnings (retries, fallbacks) go to stderr as the library's default
// logger would; errors are kept, not printed, since fluss-replay reports
// each failure itself, once (the "failed:" line). The last one explains a
// failure the API reports only as an error code (listing a table's
// tablets). With FLUSS_FETCH_LOG_LEVEL set, the library's own logger is used.
class quiet_errors_sink final : public spdlog::sinks::sink {
public:
    void log(const spdlog::details::log_msg& m) override {
        if (m.level >= spdlog::level::err) {
            std::lock_guard l(mutex_);
            last_error_.assign(m.payload.data(), m.payload.size());
            return;
        }
        inner_->log(m);
    }
    void flush() override { inner_->flush(); }
    void set_pattern(const std::string& p) override { inner_->set_pattern(p); }
    void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

    std::string last_error() const {
        std::lock_guard l(mutex_);
        return last_error_;
    }

private:
    std::shared_ptr<spdlog::sinks::sink> inner_ = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    mutable std::mutex mutex_;
    std::string last_error_;
};

std::shared_ptr<quiet_errors_sink> install_logger() {
    if (std::getenv("FLUSS_FETCH_LOG_LEVEL")) return nullptr;
    auto sink = std::make_shared<quiet_errors_sink>();
    auto logger = std::make_shared<spdlog::logger>("fluss_fetch", sink);
    logger->set_level(spdlog::level::warn);
    spdlog::register_logger(logger);
    return sink;
}

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

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    return out + "\"";
}

// One bucket: its tablet dir, its state, how its recovery ended.
struct bucket {
    std::string key;    // the tablet dir, relative to the store
    log::tablet_ref tablet;
    std::string label;  // log/DB/TABLE-ID[/PART-pPID]/BUCKET
    log::memory_kv_sink sink;
    error_code ec;
    recovery::recovery_stats stats;
};

struct program {
    program(args a_, asio::io_context& ioc_, storage::object_uri uri_, bool single_, log::schema schema_,
            std::shared_ptr<quiet_errors_sink> log_sink_)
        : a(std::move(a_)), ioc(ioc_), uri(std::move(uri_)), single(single_), schema(std::move(schema_)),
          log_sink(std::move(log_sink_)) {}

    args a;
    asio::io_context& ioc;
    storage::object_uri uri;  // --remote-log-dir, its key without a trailing '/'
    bool single = true;       // a tablet dir (else a table or partition dir)
    log::schema schema;
    std::shared_ptr<quiet_errors_sink> log_sink;
    asio::strand<asio::io_context::executor_type> strand{asio::make_strand(ioc)};
    std::unique_ptr<storage::object_store> store;
    std::unique_ptr<recovery::client> client;
    std::optional<asio::thread_pool> decoders;  // sized once the buckets are known
    std::vector<std::unique_ptr<bucket>> buckets;
    std::size_t remaining = 0;  // recoveries not completed yet
    asio::steady_timer all_done{strand, clock_type::time_point::max()};  // cancelled by the last one
    asio::cancellation_signal listing_cancel;  // the tablet listing and the manifest read
    std::string failed;                        // the first failing bucket's error
    int interrupted = 0;
    bool finished = false;

    // ---- before the recoveries

    std::string error_detail(error_code ec) const {
        const auto logged = log_sink ? log_sink->last_error() : std::string();
        return logged.empty() ? ec.message() : logged;
    }

    asio::awaitable<std::vector<std::string>> find_tablets() {
        std::string dir = uri.key;
        auto token = asio::bind_cancellation_slot(listing_cancel.slot(), use_tuple);
        auto [ec, found] = co_await client->async_find_tablets(std::move(dir), token);
        if (interrupted) co_return std::vector<std::string>{};
        if (ec == errc::no_remote_segments)
            throw failure("no tablet with a manifest under " + a.remote_log_dir);
        if (ec) throw failure("cannot list the tablets under " + a.remote_log_dir + ": " + error_detail(ec));
        co_return std::move(found);
    }

    asio::awaitable<std::optional<log::remote_log_manifest>> read_manifest() {
        auto m = storage::parse_object_uri(a.manifest);
        std::unique_ptr<storage::object_store> own;
        storage::object_store* s = store.get();
        if (m.scheme != uri.scheme || m.bucket != uri.bucket) {
            own = storage::open_store(ioc.get_executor(), m, a.s3);
            s = own.get();
        }
        std::string body;
        storage::string_sink sink(body, 64u << 20);
        diagnostics d;
        const storage::get_options whole;
        auto token = asio::bind_cancellation_slot(listing_cancel.slot(), use_tuple);
        auto [ec, r] = co_await s->async_get(m.key, whole, sink, d, token);
        if (interrupted) co_return std::nullopt;
        if (ec) throw failure("cannot read manifest: " + d.to_string(ec));
        co_return log::parse_manifest(body, a.manifest);
    }

    // ---- the job

    asio::awaitable<void> run() {
        std::vector<std::string> keys;
        if (single) keys.push_back(uri.key);
        else if (!interrupted) keys = co_await find_tablets();
        std::optional<log::remote_log_manifest> manifest;
        if (!a.manifest.empty() && !interrupted) manifest = co_await read_manifest();
        if (interrupted) co_return;

        const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
        decoders.emplace(a.decode_threads ? a.decode_threads : std::min(keys.size(), std::size_t(cores)));
        for (auto& k : keys) {
            auto b = std::make_unique<bucket>();
            b->tablet = log::parse_tablet_dir(k).tablet;
            b->label = log::remote_log_tablet_dir(b->tablet);
            b->key = std::move(k);
            buckets.push_back(std::move(b));
        }
        remaining = buckets.size();
        for (auto& b : buckets) {
            recovery::recovery_options o;
            o.schema = schema;
            o.format = a.format;
            o.schema_id = a.schema_id;
            o.magic1 = a.magic1;
            o.start_offset = a.start_offset;
            o.stop_offset = a.stop_offset;
            o.manifest = manifest;
            o.fetch = a.fetch;
            o.decode_executor = decoders->get_executor();
            bucket& bk = *b;
            client->async_recover(bk.key, std::move(o), bk.sink,
                                  asio::bind_executor(strand, [this, &bk](error_code ec, recovery::recovery_stats st) {
                                      bucket_done(bk, ec, std::move(st));
                                  }));
        }
        if (remaining > 0) co_await all_done.async_wait(use_tuple);
        if (interrupted) co_return;
        if (!failed.empty()) throw failure(failed);
        finished = true;
    }

    // On the strand.
    void bucket_done(bucket& b, error_code ec, recovery::recovery_stats st) {
        b.ec = ec;
        b.stats = std::move(st);
        if (ec && ec != asio::error::operation_aborted && failed.empty() && !interrupted) {
            // One failing bucket fails the run: the others end with operation_aborted.
            failed = b.stats.error.empty() ? "tablet " + b.key + ": " + ec.message() : b.stats.error;
            client->cancel();
        }
        if (--remaining == 0) all_done.cancel();
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
            if (buckets.empty()) continue;  // still listing
            const auto st = client->stats();
            const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
            const double rate = secs > 0 ? double(st.bytes_downloaded) / secs : 0;
            const double left =
                st.bytes_planned > st.bytes_downloaded ? double(st.bytes_planned - st.bytes_downloaded) : 0;
            const double eta = rate > 0 ? left / rate : 0;
            char line[256];
            std::snprintf(line, sizeof line, "buckets %llu/%zu  segments %llu  %s/%s  %.1f MB/s  ETA %.0f s",
                          static_cast<unsigned long long>(st.recoveries_done), buckets.size(),
                          static_cast<unsigned long long>(st.segments_applied),
                          human_bytes(double(st.bytes_downloaded)).c_str(),
                          human_bytes(double(st.bytes_planned)).c_str(), rate / 1e6, eta);
            if (tty) {
                const int width = 30;
                const int filled =
                    st.bytes_planned ? int(width * std::min(1.0, double(st.bytes_downloaded) / double(st.bytes_planned)))
                                     : 0;
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
        progress_timer.cancel();
        listing_cancel.emit(asio::cancellation_type::terminal);
        client->cancel();  // every recovery ends with operation_aborted, its temp dir removed
    }

    // ---- the end

    // The dump file of a bucket of a table or partition dir.
    fs::path dump_path(const bucket& b) const {
        fs::path p = a.dump;
        if (b.tablet.partition_name)
            p /= *b.tablet.partition_name + "-p" + std::to_string(b.tablet.partition_id.value_or(0));
        return p / (std::to_string(b.tablet.bucket) + ".tsv");
    }

    void write_dumps() const {
        auto write = [](const fs::path& path, const log::memory_kv_state& state) {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            state.dump(out);
            out.close();
            if (!out) throw failure("cannot write '" + path.string() + "'");
        };
        if (single) {
            write(a.dump, buckets.front()->sink.state());
            return;
        }
        for (const auto& b : buckets) {
            const auto path = dump_path(*b);
            std::error_code ec;
            fs::create_directories(path.parent_path(), ec);
            if (ec) throw failure("cannot create '" + path.parent_path().string() + "': " + ec.message());
            write(path, b->sink.state());
        }
    }

    void report(double seconds) const {
        log::apply_stats ap;
        fetch::stream_stats st;
        std::uint64_t segments = 0, keys = 0;
        std::chrono::nanoseconds wait{0};
        for (const auto& b : buckets) {
            const auto& s = b->stats;
            segments += s.segments;
            ap.batches += s.apply.batches;
            ap.records += s.apply.records;
            ap.inserts += s.apply.inserts;
            ap.update_befores += s.apply.update_befores;
            ap.update_afters += s.apply.update_afters;
            ap.deletes += s.apply.deletes;
            ap.appends += s.apply.appends;
            st.bytes += s.download.bytes;
            st.requests += s.download.requests;
            st.retries += s.download.retries;
            wait += s.download.consumer_wait;
            keys += b->sink.state().size();
        }
        auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        if (!single)
            for (const auto& b : buckets)
                std::fprintf(stderr, "fluss-replay: bucket %s: %llu segments, %llu records, %llu keys, next offset %lld\n",
                             b->label.c_str(), u(b->stats.segments), u(b->stats.apply.records),
                             u(b->sink.state().size()), static_cast<long long>(b->stats.next_offset));
        std::string next;  // "next_offset":N, or "next_offsets":{"tablet":N,...}
        if (single) {
            next = "\"next_offset\":" + std::to_string(buckets.front()->stats.next_offset);
        } else {
            next = "\"next_offsets\":{";
            for (std::size_t i = 0; i < buckets.size(); ++i)
                next += (i ? "," : "") + json_string(buckets[i]->label) + ":" +
                        std::to_string(buckets[i]->stats.next_offset);
            next += "}";
        }
        if (a.json) {
            std::printf("{\"segments\":%llu,\"batches\":%llu,\"records\":%llu,\"inserts\":%llu,\"update_befores\":%llu,"
                        "\"update_afters\":%llu,\"deletes\":%llu,\"appends\":%llu,\"kv_keys\":%llu,%s,"
                        "\"bytes_downloaded\":%llu,\"requests\":%llu,\"retries\":%llu,\"seconds\":%.6f,"
                        "\"consumer_wait_seconds\":%.6f,\"buckets\":%zu}\n",
                        u(segments), u(ap.batches), u(ap.records), u(ap.inserts), u(ap.update_befores),
                        u(ap.update_afters), u(ap.deletes), u(ap.appends), u(keys), next.c_str(), u(st.bytes),
                        u(st.requests), u(st.retries), seconds, std::chrono::duration<double>(wait).count(),
                        buckets.size());
        } else if (single) {
            std::printf("replayed %llu segments, %llu batches, %llu records into %llu keys; next offset %lld; "
                        "%s in %.2f s\n",
                        u(segments), u(ap.batches), u(ap.records), u(keys),
                        static_cast<long long>(buckets.front()->stats.next_offset), human_bytes(double(st.bytes)).c_str(),
                        seconds);
        } else {
            std::printf("replayed %zu buckets: %llu segments, %llu batches, %llu records into %llu keys; %s in %.2f s\n",
                        buckets.size(), u(segments), u(ap.batches), u(ap.records), u(keys),
                        human_bytes(double(st.bytes)).c_str(), seconds);
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    args a;
    storage::object_uri uri;
    bool single = true;
    log::schema schema;
    if (auto rc = parse_args(argc, argv, a)) return *rc;
    try {
        try {
            uri = storage::parse_object_uri(a.remote_log_dir);
            while (!uri.key.empty() && uri.key.back() == '/') uri.key.pop_back();
            schema = log::schema::parse(a.schema_text, a.primary_key);
            if (!a.manifest.empty()) (void)storage::parse_object_uri(a.manifest);
        } catch (const std::exception& e) {
            throw usage_error(e.what());
        }
        // A tablet dir is one bucket; a table or partition dir is what a tablet dir
        // below it would be without its bucket; anything else is a usage error.
        try {
            (void)log::parse_tablet_dir(uri.key);
        } catch (const std::invalid_argument& e) {
            try {
                (void)log::parse_tablet_dir(uri.key + "/0");
                single = false;
            } catch (const std::invalid_argument&) {
                throw usage_error(std::string(e.what()) + "; nor is it a table dir (log/{database}/{table}-{tableId}) "
                                                          "or a partition dir (.../{partition}-p{partitionId})");
            }
        }
        if (!single && !a.manifest.empty())
            throw usage_error("--manifest goes with a tablet dir (one bucket), not a table or partition dir");
        try {
            log::kv_applier check(schema, a.format, a.schema_id);  // a type the format cannot carry
        } catch (const log::log_error& e) {
            throw usage_error(e.what());
        }
    } catch (const usage_error& e) {
        std::cerr << "fluss-replay: " << e.what() << " (see fluss-replay --help)\n";
        return 2;
    }

    const auto log_sink = install_logger();
    asio::io_context ioc(2);
    program p(std::move(a), ioc, std::move(uri), single, std::move(schema), log_sink);
    try {
        p.store = storage::open_store(ioc.get_executor(), p.uri, p.a.s3);
        recovery::client_options co;
        co.max_requests = p.a.max_requests;
        co.max_temp_bytes = p.a.max_temp_bytes;
        co.temp_parent = p.a.temp_dir;
        co.sweep_stale_temp_dirs = p.a.sweep_temp;
        co.decode_threads = 1;  // unused: the recoveries decode on p.decoders, sized once the buckets are known
        p.client = std::make_unique<recovery::client>(ioc.get_executor(), *p.store, co);
    } catch (const std::exception& e) {
        std::cerr << "fluss-replay: failed: " << e.what() << "\n";
        return 1;
    }

    // The client first: a recovery started before async_run fails at once.
    // ioc.run() returns once async_run has completed (every recovery gone,
    // every temp dir removed) and nothing else is left.
    auto work = asio::make_work_guard(ioc);
    p.client->async_run([&work](error_code) { work.reset(); });

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
        p.client->cancel();  // success or not: async_run completes once every recovery has
    });
    if (p.a.progress) asio::co_spawn(p.strand, p.progress(::isatty(2) == 1), asio::detached);
    // Two io threads: sockets keep moving while the other writes a chunk to disk.
    std::thread helper([&] { ioc.run(); });
    ioc.run();
    helper.join();
    if (p.decoders) p.decoders->join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();

    if (p.interrupted) {
        std::cerr << "fluss-replay: interrupted; temp dir removed\n";
        return 128 + p.interrupted;
    }
    if (crashed) {
        try {
            std::rethrow_exception(crashed);
        } catch (const std::exception& e) {
            std::cerr << "fluss-replay: failed: " << e.what() << "\n";
            return 1;
        }
    }
    try {
        if (!p.a.dump.empty()) p.write_dumps();
    } catch (const std::exception& e) {
        std::cerr << "fluss-replay: failed: " << e.what() << "\n";
        return 1;
    }
    p.report(seconds);
    return 0;
}
