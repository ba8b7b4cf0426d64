// fluss-get: download objects from S3 (or a file:// dir) with fluss_fetch.
//
//   fluss-get [--endpoint URL] [--region R] [--ca-file FILE] [--profile NAME] [--path-style]
//             [--no-sign-request] [--concurrency M] [--part-size BYTES] [--json] -o DIR URI...
//
// The command line is CLI11's (`--help`, `--version`, `--opt=value`).
// Exit 0 when every object arrived, 1 when any failed (one line each on
// stderr), 2 on a usage error, 130/143 when interrupted.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "../common/cli11.hpp"

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

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
using namespace fluss_fetch;
using examples::parse_size;
using examples::usage_error;

namespace {

constexpr const char* description =
    "fluss-get: download objects from S3 (or a file:// dir) with fluss_fetch.\n"
    "  URI: s3://BUCKET/KEY, s3://BUCKET/PREFIX/ (every object under it; s3a:// too) or file:///PATH[/]\n"
    "  (file:/PATH too); each lands under -o DIR as its key names it.\n";

struct args {
    storage::s3_options s3;
    std::size_t concurrency = 3;
    std::uint64_t part_size = 8ull << 20;
    bool json = false;
    fs::path out;
    std::vector<std::string> uris;
};

// nullopt: run with `a`; else the exit code (0 after --help or --version, 2 after a usage error).
std::optional<int> parse_args(int argc, char** argv, args& a) {
    CLI::App app{description, "fluss-get"};
    examples::setup(app, "fluss-get");
    app.footer("Exit 0 when every object arrived, 1 when any failed (one line each on stderr), 2 on a usage "
               "error, 130/143 when interrupted.");
    examples::s3_flags s3;
    s3.add_to(app);
    examples::add_value(
        app, "--concurrency",
        [&](const std::string& v) {
            auto n = parse_size("--concurrency", v);
            if (n < 1 || n > 1024) throw usage_error("--concurrency must be between 1 and 1024");
            a.concurrency = static_cast<std::size_t>(n);
        },
        "HTTP requests in flight at most", "3", "M");
    examples::add_value(
        app, "--part-size", [&](const std::string& v) { a.part_size = parse_size("--part-size", v); },
        "objects larger than this download as ranged parts (0: never)", "8M", "BYTES");
    app.add_flag("--json", a.json, "print a JSON summary as the last stdout line");
    examples::add_value(app, "-o,--output", [&](const std::string& v) { a.out = v; }, "the output dir (created)", "",
                        "DIR");
    app.add_option("URI", a.uris, "objects or prefixes to download")->type_name("URI");
    if (auto rc = examples::parse(app, "fluss-get", argc, argv)) return rc;
    s3.apply(a.s3);
    const char* missing = a.out.empty() ? "-o DIR is required" : a.uris.empty() ? "give at least one URI" : nullptr;
    if (missing) {
        std::cerr << "fluss-get: " << missing << " (see fluss-get --help)\n";
        return 2;
    }
    return std::nullopt;
}

// One object to download: where from, where to.
struct job {
    storage::object_store* store = nullptr;
    std::string label;  // the URI of the object, for messages
    std::string key;
    bool is_file = false;
    std::string rel;  // where under the output dir, as named by the source
    fs::path dest;
    std::string refusal;  // why it is not downloaded (an error)
    std::string note;     // why it is skipped (not an error)
    bool duplicate = false;
    std::optional<std::uint64_t> size;
    diagnostics diag;
    error_code ec;
    bool done = false;
    std::unique_ptr<asio::cancellation_signal> signal;  // set when the download starts
};

// S3 keys are strings: 'a//b', 'a/./b', 'a/../b', '/a' and 'a/' are keys of
// their own, which a file system would take for other paths ('a//b' is the
// file 'a/b'). Why `rel` cannot be a local file under its own name, "" when
// it can. Such keys are refused rather than encoded: an encoded name is not a
// file that anyone reading the remote log layout would look for.
std::string name_problem(const std::string& rel) {
    if (rel.empty()) return "it is empty";
    if (rel.front() == '/') return "it starts with '/'";
    if (rel.back() == '/') return "it ends with '/'";
    for (std::size_t start = 0; start <= rel.size();) {
        auto end = std::min(rel.find('/', start), rel.size());
        const auto part = std::string_view(rel).substr(start, end - start);
        if (part.empty()) return "it has an empty path segment ('//')";
        if (part == ".") return "it has a '.' segment";
        if (part == "..") return "it has a '..' segment";
        start = end + 1;
    }
    return "";
}

// The relative path the file system makes of `rel`: empty and '.' segments
// dropped, '..' removing the segment before it; nullopt when that climbs
// out of the output dir (or is the dir itself).
std::optional<std::string> as_local_path(const std::string& rel) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0; start <= rel.size();) {
        auto end = std::min(rel.find('/', start), rel.size());
        const auto part = std::string_view(rel).substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (parts.empty()) return std::nullopt;
            parts.pop_back();
        } else {
            parts.push_back(part);
        }
    }
    if (parts.empty()) return std::nullopt;
    std::string out;
    for (auto p : parts) (out.empty() ? out : out += '/') += p;
    return out;
}

struct program {
    args a;
    asio::io_context& ioc;
    asio::strand<asio::io_context::executor_type> strand{asio::make_strand(ioc)};
    std::map<std::string, std::unique_ptr<storage::object_store>> stores;
    std::vector<std::unique_ptr<job>> candidates;  // as listed, before resolve()
    std::vector<std::unique_ptr<job>> jobs;        // what is downloaded
    std::vector<std::string> notes;
    std::size_t reported = 0;                      // failures printed before the downloads
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
                add_job(store, is_file, text, u.key, name, std::nullopt);
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
                add_job(store, is_file, storage::object_uri{u.scheme, u.bucket, e.key}.to_string(), e.key, rel,
                        e.size);
            }
        }
    }

    void add_job(storage::object_store* store, bool is_file, std::string label, std::string key, std::string rel,
                 std::optional<std::uint64_t> size) {
        auto j = std::make_unique<job>();
        j->store = store;
        j->is_file = is_file;
        j->label = std::move(label);
        j->key = std::move(key);
        j->rel = std::move(rel);
        j->size = size;
        candidates.push_back(std::move(j));
    }

    // How messages name an object: its key and URI (a file:// URI is its own key).
    static std::string describe(const job& j) {
        return j.is_file ? j.label : "key '" + j.key + "' (" + j.label + ")";
    }
    std::string refusing(const job& j) const {
        return j.is_file ? "refusing it: " : "refusing key '" + j.key + "': ";
    }

    // Turn the candidates into jobs, before anything is downloaded: one job
    // per object (the same object named twice is fetched once) and never two
    // objects for one local file. Refused: a name that is not a plain relative
    // path (the file system would write it elsewhere, see name_problem), a
    // file that would have to be another key's folder ('a' next to 'a/b'),
    // and every object of a file that more than one object would write.
    // Skipped with a note: zero-byte folder markers ('dir/').
    void resolve() {
        std::map<std::string, std::vector<job*>> by_rel;  // plain names only
        for (auto& c : candidates) {
            if (!name_problem(c->rel).empty()) continue;
            auto& v = by_rel[c->rel];
            bool again = false;
            for (job* o : v) again = again || (o->store == c->store && o->key == c->key);
            if (again) c->duplicate = true;
            else v.push_back(c.get());
        }
        for (auto& [rel, v] : by_rel) {
            if (v.size() > 1)
                for (job* j : v) {
                    std::string others;
                    for (job* o : v)
                        if (o != j) others += (others.empty() ? "" : ", ") + describe(*o);
                    j->refusal = refusing(*j) + "it would be written to " + (a.out / rel).string() +
                                 ", and so would " + others + "; none of them is downloaded";
                }
            auto sub = by_rel.lower_bound(rel + "/");
            if (sub != by_rel.end() && sub->first.starts_with(rel + "/"))
                for (job* j : v)
                    if (j->refusal.empty())
                        j->refusal = refusing(*j) + (a.out / rel).string() + " must be the folder of " +
                                     describe(*sub->second.front()) + ", it cannot be a file too";
        }
        for (auto& c : candidates) {
            const auto why = name_problem(c->rel);
            if (why.empty()) continue;
            if (c->rel.back() == '/' && c->size == 0 && name_problem(c->rel.substr(0, c->rel.size() - 1)).empty()) {
                c->note = "skipped: a zero-byte folder marker (the key ends with '/'), not a file";
                continue;
            }
            const auto local = as_local_path(c->rel);
            if (!local) {
                c->refusal = refusing(*c) + why + ", so its file would be outside " + a.out.string();
                continue;
            }
            c->refusal = refusing(*c) + why + ": S3 tells it apart from '" + *local +
                         "', a file system does not: it would be written to " + (a.out / *local).string();
            if (auto same = by_rel.find(*local); same != by_rel.end())
                c->refusal += ", the file of " + describe(*same->second.front());
        }
        for (auto& c : candidates) {
            if (!c->refusal.empty()) failures.push_back(c->label + ": " + c->refusal);
            else if (!c->note.empty()) notes.push_back(c->label + ": " + c->note);
            else if (!c->duplicate) {
                c->dest = a.out / c->rel;
                jobs.push_back(std::move(c));
            }
        }
        candidates.clear();
    }

    // Temp files of interrupted runs. async_download_file writes DEST into
    // DEST + ".tmp-" + 16 lower-case hex digits and removes it on any failure,
    // but a SIGKILL (or a crash, or a power cut) leaves it behind; a rerun of
    // the command removes those of its own destinations before it starts.
    //
    // Not while another fluss-get is writing into the same output dir (its
    // temp files look the same): every run holds a shared flock on the output
    // dir itself from here to its exit, and only a run that gets the lock
    // exclusively cleans. The kernel drops the lock with the process, however
    // it ends, so a leftover is never protected by a dead run; no file is
    // created for the lock, and no clock is involved (an age threshold would
    // either keep the leftovers of a run killed a minute ago or remove the
    // temp file of a live download stalled for longer than the threshold).
    // Not seen: a run whose -o is another dir with destinations in this one.
    int dir_lock = -1;

    ~program() {
        if (dir_lock >= 0) ::close(dir_lock);
    }

    static void note(const std::string& what) { std::cerr << "fluss-get: note: " << what << "\n"; }

    // True when this run holds the output dir exclusively (nobody else writes there).
    bool lock_output_dir() {
        dir_lock = ::open(a.out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_lock < 0) {
            note("cannot open '" + a.out.string() + "' to lock it (" + std::strerror(errno) +
                 "): temp files of interrupted runs are not looked for");
            return false;
        }
        int r;
        while ((r = ::flock(dir_lock, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
        }
        if (r == 0) return true;
        if (errno == EWOULDBLOCK)
            note("another fluss-get is writing into '" + a.out.string() +
                 "': temp files of interrupted runs are left for a later run to remove");
        else
            note("cannot lock '" + a.out.string() + "' (" + std::strerror(errno) +
                 "): temp files of interrupted runs are not looked for");
        return false;
    }

    // From exclusive (or none) to shared: held until the process exits.
    void share_output_dir() {
        if (dir_lock < 0) return;
        while (::flock(dir_lock, LOCK_SH) != 0 && errno == EINTR) {
        }
    }

    // `name` is BASE + ".tmp-" + 16 lower-case hex digits (download.cpp's random_suffix).
    static std::optional<std::string> temp_file_base(const std::string& name) {
        constexpr std::size_t digits = 16, tail = 5 + digits;
        if (name.size() <= tail || name.compare(name.size() - tail, 5, ".tmp-") != 0) return std::nullopt;
        for (char ch : std::string_view(name).substr(name.size() - digits))
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return std::nullopt;
        return name.substr(0, name.size() - tail);
    }

    void remove_leftovers() {
        std::map<fs::path, std::set<std::string>> names_by_dir;
        for (const auto& j : jobs) names_by_dir[j->dest.parent_path()].insert(j->dest.filename().string());
        std::size_t removed = 0;
        std::string first;
        for (const auto& [dir, names] : names_by_dir) {
            std::error_code ec;
            for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
                const std::string name = it->path().filename().string();
                const auto base = temp_file_base(name);
                // A destination of this run that looks like a temp file stays.
                if (!base || !names.contains(*base) || names.contains(name)) continue;
                std::error_code sec;
                if (it->symlink_status(sec).type() != fs::file_type::regular) continue;
                if (fs::remove(it->path(), sec)) {
                    if (removed++ == 0) first = it->path().string();
                } else if (sec) {
                    note("cannot remove '" + it->path().string() + "', left by an interrupted run: " + sec.message());
                }
            }
        }
        if (removed > 0)
            note("removed " + std::to_string(removed) + " temp file" + (removed == 1 ? "" : "s") +
                 " left by an interrupted fluss-get ('" + first + "'" + (removed > 1 ? " and others" : "") + ")");
    }

    // At most --concurrency downloads at a time, the next one started when one
    // ends. Starting every object at once and letting the pool queue them kept
    // one descriptor per object (2,000 objects: ~2,000 fds, "Too many open
    // files" under the usual `ulimit -n 1024`); a download now opens its temp
    // file only at its first request, but a started download also keeps its
    // state, and a multi-part one its file, until its last part. Runs on
    // `strand` only.
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
        resolve();
        // What was refused is said now, not after the downloads.
        for (const auto& n : notes) std::cerr << "fluss-get: note: " << n << "\n";
        for (const auto& f : failures) std::cerr << "fluss-get: failed: " << f << "\n";
        reported = failures.size();
        if (lock_output_dir()) remove_leftovers();
        share_output_dir();
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
    if (auto rc = parse_args(argc, argv, a)) return *rc;
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
    for (std::size_t i = p.reported; i < p.failures.size(); ++i)
        std::cerr << "fluss-get: failed: " << p.failures[i] << "\n";
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
