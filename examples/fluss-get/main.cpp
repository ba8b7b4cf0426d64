// fluss-get: download objects from S3 (or a file:// dir) with fluss_fetch.
//
//   fluss-get [--endpoint URL] [--region R] [--ca-file FILE] [--concurrency M]
//             [--part-size BYTES] [--json] -o DIR URI...
//
// Exit 0 when every object arrived, 1 when any failed (one line each on
// stderr), 2 on a usage error, 130/143 when interrupted.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "../common/cli.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using namespace fluss_fetch;
using examples::parse_size;
using examples::usage_error;

namespace {

constexpr const char* usage_text =
    "usage: fluss-get [--endpoint URL] [--region R] [--ca-file FILE] [--concurrency M]\n"
    "                 [--part-size BYTES] [--json] -o DIR URI...\n"
    "  URI: s3://BUCKET/KEY, s3://BUCKET/PREFIX/ (every object under it) or file:///PATH[/]\n"
    "  --concurrency M    HTTP requests in flight at most (default 3)\n"
    "  --part-size BYTES  objects larger than this download as ranged parts (default 8M; 0: never)\n"
    "  --json             print a JSON summary as the last stdout line\n";

struct args {
    storage::s3_options s3;
    std::size_t concurrency = 3;
    std::uint64_t part_size = 8ull << 20;
    bool json = false;
    fs::path out;
    std::vector<std::string> uris;
};

args parse_args(int argc, char** argv) {
    args a;
    auto value = [&](int& i) { return examples::next_value(argc, argv, i); };
    for (int i = 1; i < argc; ++i) {
        std::string f = argv[i];
        if (f == "--endpoint") a.s3.endpoint = value(i);
        else if (f == "--region") a.s3.region = value(i);
        else if (f == "--ca-file") a.s3.ca_file = value(i);
        else if (f == "--concurrency") {
            auto n = parse_size(f, value(i));
            if (n < 1 || n > 1024) throw usage_error("--concurrency must be between 1 and 1024");
            a.concurrency = static_cast<std::size_t>(n);
        } else if (f == "--part-size") a.part_size = parse_size(f, value(i));
        else if (f == "--json") a.json = true;
        else if (f == "-o" || f == "--output") a.out = value(i);
        else if (f == "-h" || f == "--help") {
            std::cout << usage_text;
            std::exit(0);
        } else if (f.starts_with("-")) throw usage_error("unknown option '" + f + "'");
        else a.uris.push_back(f);
    }
    if (a.out.empty()) throw usage_error("-o DIR is required");
    if (a.uris.empty()) throw usage_error("give at least one URI");
    return a;
}

// One object to download: where from, where to.
struct job {
    storage::object_store* store = nullptr;
    std::string label;  // the URI of the object, for messages
    std::string key;
    fs::path dest;
    std::optional<std::uint64_t> size;
    diagnostics diag;
    error_code ec;
    bool done = false;
    std::unique_ptr<asio::cancellation_signal> signal;  // set when the download starts
};

// DIR/relative, refusing anything that would leave DIR.
std::optional<fs::path> destination(const fs::path& dir, const std::string& relative) {
    fs::path rel(relative);
    if (relative.empty() || rel.is_absolute()) return std::nullopt;
    for (const auto& part : rel)
        if (part == ".." || part == ".") return std::nullopt;
    return dir / rel;
}

struct program {
    args a;
    asio::io_context& ioc;
    asio::strand<asio::io_context::executor_type> strand{asio::make_strand(ioc)};
    std::map<std::string, std::unique_ptr<storage::object_store>> stores;
    std::vector<std::unique_ptr<job>> jobs;
    fetch::download_pool* pool = nullptr;
    std::vector<std::string> failures;
    fetch::transfer_counters counters;
    int interrupted = 0;
    bool cancelled = false;

    storage::object_store& store_for(const storage::object_uri& u) {
        std::string id = u.scheme == storage::object_uri::scheme_kind::s3 ? "s3://" + u.bucket : "file://";
        auto& s = stores[id];
        if (!s) s = storage::open_store(ioc.get_executor(), u, a.s3);
        return *s;
    }

    // Expand URIs to jobs (listing prefixes). Failures are recorded, not fatal.
    asio::awaitable<void> plan() {
        for (const auto& text : a.uris) {
            storage::object_uri u;
            storage::object_store* store = nullptr;
            try {
                u = storage::parse_object_uri(text);
                store = &store_for(u);
            } catch (const std::exception& e) {
                failures.push_back(text + ": " + e.what());
                continue;
            }
            const bool is_file = u.scheme == storage::object_uri::scheme_kind::file;
            if (!u.is_prefix()) {
                auto name = is_file ? fs::path(u.key).filename().string() : u.key;
                add_job(store, text, u.key, name, std::nullopt);
                continue;
            }
            diagnostics diag;
            auto [ec, entries] = co_await store->async_list(u.key, diag, asio::as_tuple(asio::use_awaitable));
            if (ec) {
                failures.push_back(text + ": " + diag.to_string(ec));
                continue;
            }
            if (entries.empty()) failures.push_back(text + ": no objects under this prefix");
            for (auto& e : entries) {
                auto rel = is_file ? e.key.substr(u.key.size()) : e.key;
                add_job(store, storage::object_uri{u.scheme, u.bucket, e.key}.to_string(), e.key, rel, e.size);
            }
        }
    }

    void add_job(storage::object_store* store, std::string label, std::string key, const std::string& rel,
                 std::optional<std::uint64_t> size) {
        auto dest = destination(a.out, rel);
        if (!dest) {
            failures.push_back(label + ": refusing to write outside " + a.out.string() + " (key '" + rel + "')");
            return;
        }
        auto j = std::make_unique<job>();
        j->store = store;
        j->label = std::move(label);
        j->key = std::move(key);
        j->dest = *dest;
        j->size = size;
        jobs.push_back(std::move(j));
    }

    // At most `window` downloads at a time (the pool's worker count): a download
    // holds its temp file open from its start to its end, so starting every
    // object at once and letting the pool queue the requests would keep one
    // descriptor per object (2,000 objects: ~2,000 fds, "Too many open files"
    // under the usual `ulimit -n 1024`). Runs on `strand` only.
    std::size_t next = 0;     // the first job not started yet
    std::size_t running = 0;  // started, not completed
    bool finished = false;    // nothing runs and nothing more will start
    std::optional<asio::steady_timer> all_done;

    void start_more() {
        while (!cancelled && running < a.concurrency && next < jobs.size()) start(*jobs[next++]);
        if (running == 0 && (cancelled || next == jobs.size()) && !finished) {
            finished = true;
            if (all_done) all_done->cancel();
        }
    }

    void start(job& j) {
        fetch::download_options opts;
        opts.part_size = a.part_size;
        opts.expected_size = j.size;
        j.signal = std::make_unique<asio::cancellation_signal>();
        ++running;
        fetch::async_download(*j.store, *pool, j.key, j.dest, opts, counters, j.diag,
                              asio::bind_cancellation_slot(
                                  j.signal->slot(),
                                  asio::bind_executor(strand, [this, &j](error_code ec, fetch::download_result) {
                                      j.ec = ec;
                                      j.done = true;
                                      --running;
                                      start_more();
                                  })));
    }

    asio::awaitable<void> run(fetch::download_pool& p) {
        pool = &p;
        co_await plan();
        all_done.emplace(strand, std::chrono::steady_clock::time_point::max());
        start_more();
        while (!finished) co_await all_done->async_wait(asio::as_tuple(asio::use_awaitable));
        for (auto& j : jobs)
            if (j->ec && !cancelled) failures.push_back(j->label + ": " + j->diag.to_string(j->ec));
        co_await p.async_close(asio::use_awaitable);
    }

    void cancel_all(int sig) {
        interrupted = sig;
        cancelled = true;
        for (auto& j : jobs)
            if (j->signal && !j->done) j->signal->emit(asio::cancellation_type::terminal);
        start_more();  // nothing more starts; ends the wait if nothing runs
    }
};

}  // namespace

int main(int argc, char** argv) {
    args a;
    try {
        a = parse_args(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "fluss-get: " << e.what() << "\n" << usage_text;
        return 2;
    }
    std::error_code fec;
    fs::create_directories(a.out, fec);
    if (fec) {
        std::cerr << "fluss-get: cannot create output dir '" << a.out.string() << "': " << fec.message() << "\n";
        return 1;
    }

    asio::io_context ioc(2);
    program p{std::move(a), ioc};
    fetch::download_pool pool(ioc.get_executor(), p.a.concurrency);
    asio::signal_set sigs(p.strand, SIGINT, SIGTERM);
    sigs.async_wait([&](error_code ec, int sig) {
        if (!ec) p.cancel_all(sig);
    });

    const auto start = std::chrono::steady_clock::now();
    std::exception_ptr crashed;
    asio::co_spawn(p.strand, p.run(pool), [&](std::exception_ptr e) {
        crashed = e;
        sigs.cancel();
    });
    // Two threads: one can write a chunk to disk while the other reads the socket.
    std::thread helper([&] { ioc.run(); });
    ioc.run();
    helper.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (crashed) {
        try {
            std::rethrow_exception(crashed);
        } catch (const std::exception& e) {
            std::cerr << "fluss-get: " << e.what() << "\n";
            return 1;
        }
    }
    for (const auto& f : p.failures) std::cerr << "fluss-get: failed: " << f << "\n";
    std::uint64_t objects = 0;
    for (auto& j : p.jobs)
        if (j->done && !j->ec) ++objects;
    if (p.a.json)
        std::printf("{\"objects\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"requests\":%llu,\"retries\":%llu}\n",
                    static_cast<unsigned long long>(objects), static_cast<unsigned long long>(p.counters.bytes),
                    seconds, static_cast<unsigned long long>(p.counters.requests),
                    static_cast<unsigned long long>(p.counters.retries));
    if (p.interrupted) return 128 + p.interrupted;
    return p.failures.empty() ? 0 : 1;
}
