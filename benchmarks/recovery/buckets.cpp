// Many buckets under one download budget: a tablet server taking over 16
// buckets at once recovers each from its remote log, against a shaped S3
// server (a first-byte latency per request, a bandwidth cap per connection,
// and one over all connections: the server's NIC). Compares
//
//   shared-N     one recovery::client (max_requests N, max_temp_bytes B) running
//                every bucket's async_recover at once (one row per N of
//                --max-requests; the first N is the cap of the bound);
//   independent  one client per bucket (max_requests = download threads, no
//                byte budget): Fluss today, one RemoteLogFetcher per bucket
//                with nothing shared;
//   ideal        the bound for a cap of N requests (see bound() below);
//   model        what N requests reach in a fluid model of the shaped link
//                (see fluid_model() below), for each N.
//
//   fluss-bench-buckets [--buckets 16] [--segments 8] [--segment-size 4M] [--latency-ms 50]
//                       [--bandwidth 40M] [--bandwidth-total 200M] [--max-requests 8[,N...]]
//                       [--max-temp-bytes 64M] [--prefetch 4] [--threads 3] [--rounds 3]
//
// Every recovery decodes on the same 2-thread pool in both configs (the
// cores of the machine), and the rows are ~1 KiB, so the replay's CPU is
// not what is measured here (that is fluss-bench-recovery's matter): the
// download schedule is. Prints a Markdown table.
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/kv_sink.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>
#include <fluss_fetch/recovery/client.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "sampler.hpp"
#include "support/fault_server.hpp"
#include "support/temp_dir.hpp"

#include "../../examples/common/cli.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
using namespace fluss_fetch;
using fluss_fetch::bench_util::median;
using clock_type = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

namespace {

struct args {
    int buckets = 16;
    int segments = 8;
    std::uint64_t segment_size = 4u << 20;
    int latency_ms = 50;
    std::uint64_t bandwidth = 40u << 20;
    std::uint64_t bandwidth_total = 200u << 20;
    std::vector<std::size_t> max_requests{8};  // one shared row each; the first is the bound's cap
    std::uint64_t max_temp_bytes = 64u << 20;
    std::size_t prefetch = 4, threads = 3;
    int rounds = 3;
};

const log::schema bench_schema = log::schema::parse("id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE", "id");

// A changelog of inserts and updates of 2,000 keys with ~1 KiB names,
// `size` bytes of COMPACTED batches. The names are slices of one random pool
// (generating 512 MiB a byte at a time would take longer than the runs).
std::string make_segment(std::int64_t& offset, std::uint64_t size, std::mt19937_64& rng, const std::string& pool) {
    std::string out;
    std::uniform_int_distribution<std::int32_t> key(0, 1999);
    while (out.size() < size) {
        log::batch_builder b;
        b.base_offset = offset;
        for (int i = 0; i < 64; ++i) {
            const std::size_t len = 768 + rng() % 512;
            std::string name = pool.substr(rng() % (pool.size() - len), len);
            log::row r{key(rng), std::move(name), static_cast<std::int64_t>(rng() % 1000000), double(rng() % 10000) / 7};
            b.add_record(i % 4 == 3 ? log::change_type::update_after : log::change_type::insert,
                         log::encode_row(bench_schema, r, log::row_format::compacted));
        }
        out += b.build();
        offset += 64;
    }
    return out;
}

// A memory_kv_sink that notes when its first commit (the bucket's first
// segment applied) happened.
class timed_sink final : public log::kv_sink {
public:
    explicit timed_sink(clock_type::time_point t0) : t0_(t0) {}
    void put(std::string_view key, std::string_view value) override { inner_.put(key, value); }
    void remove(std::string_view key) override { inner_.remove(key); }
    void commit(std::int64_t next_offset) override {
        if (!inner_.committed_offset()) first_commit_ = seconds_d(clock_type::now() - t0_).count();
        inner_.commit(next_offset);
    }
    double first_commit() const noexcept { return first_commit_; }
    const log::memory_kv_sink& inner() const noexcept { return inner_; }

private:
    clock_type::time_point t0_;
    double first_commit_ = -1;
    log::memory_kv_sink inner_;
};

struct config {
    bool shared = true;
    std::size_t max_requests = 8;  // of the shared client
};

struct run_result {
    double wall = 0;
    double first_all = 0;  // the slowest bucket's first commit
    std::size_t max_in_flight = 0, max_open = 0, opened = 0;
    std::uint64_t peak_temp = 0, peak_reserved = 0;
};

class bench {
public:
    explicit bench(args a) : a_(std::move(a)), server_(2) {
        std::mt19937_64 rng(42);
        std::string pool(1 << 16, 'a');
        for (auto& ch : pool) ch = static_cast<char>('a' + rng() % 26);
        for (int bucket = 0; bucket < a_.buckets; ++bucket) {
            log::remote_log_manifest m;
            m.tablet = log::tablet_ref{"bench", "orders", 1, {}, {}, bucket};
            const auto dir = log::remote_log_tablet_dir(m.tablet);
            std::int64_t offset = 0;
            for (int i = 0; i < a_.segments; ++i) {
                const std::int64_t start = offset;
                auto bytes = make_segment(offset, a_.segment_size, rng, pool);
                char id[40];
                std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%06d%06d", bucket, i);
                auto seg = log::remote_log_segment::physical(id, start, offset, bytes.size());
                total_bytes_ += bytes.size();
                server_.put_object("b", log::remote_log_segment_key(dir, id, start), std::move(bytes));
                m.segments.push_back(seg);
            }
            end_offsets_.push_back(offset);
            tablets_.push_back(dir);
            manifests_.push_back(std::move(m));
        }
        server_.set_first_byte_delay(std::chrono::milliseconds(a_.latency_ms));
        server_.set_bandwidth_per_connection(a_.bandwidth);
        server_.set_bandwidth_total(a_.bandwidth_total);
    }

    run_result run(const config& cfg) {
        asio::io_context ioc;
        storage::s3_options so;
        so.endpoint = server_.endpoint();
        so.bucket = "b";
        so.credentials = storage::s3_credentials{"AK", "SK", ""};
        storage::s3_store store(ioc.get_executor(), so);  // one per process, as Fluss's S3 filesystem
        test::temp_dir tmp("buckets");
        asio::thread_pool decoders(2);

        std::vector<std::unique_ptr<recovery::client>> clients;
        recovery::client_options co;
        co.temp_parent = tmp.path();
        if (cfg.shared) {
            co.max_requests = cfg.max_requests;
            co.max_temp_bytes = a_.max_temp_bytes;
            clients.push_back(std::make_unique<recovery::client>(ioc.get_executor(), store, co));
        } else {
            co.max_requests = a_.threads;
            co.max_temp_bytes = std::numeric_limits<std::uint64_t>::max();
            for (int i = 0; i < a_.buckets; ++i)
                clients.push_back(std::make_unique<recovery::client>(ioc.get_executor(), store, co));
        }

        server_.reset_peaks();
        const std::size_t opened_before = server_.connections();
        bench_util::temp_sampler sampler(tmp.path(), std::chrono::milliseconds(5), [&clients] {
            std::uint64_t n = 0;
            for (const auto& c : clients) n += c->stats().temp_bytes_reserved;
            return n;
        });
        const auto t0 = clock_type::now();
        std::vector<std::unique_ptr<timed_sink>> sinks;
        for (int i = 0; i < a_.buckets; ++i) sinks.push_back(std::make_unique<timed_sink>(t0));

        for (auto& c : clients) c->async_run(asio::detached);
        std::atomic<int> left{a_.buckets};
        std::mutex errors_mutex;
        std::vector<std::string> errors;
        for (int i = 0; i < a_.buckets; ++i) {
            recovery::recovery_options o;
            o.schema = bench_schema;
            o.format = log::log_format::compacted;
            o.manifest = manifests_[i];  // as read: no manifest request (the same in both configs)
            o.fetch.prefetch_num = a_.prefetch;
            o.fetch.download_threads = a_.threads;
            o.decode_executor = decoders.get_executor();
            auto& c = *clients[cfg.shared ? 0 : i];
            const std::int64_t end = end_offsets_[i];
            c.async_recover(tablets_[i], std::move(o), *sinks[i],
                            [&, end](boost::system::error_code ec, recovery::recovery_stats st) {
                                if (ec || st.next_offset != end) {
                                    std::lock_guard l(errors_mutex);
                                    errors.push_back(ec ? st.error : st.tablet_dir + " stopped early");
                                }
                                if (--left == 0)  // the last bucket: stop every client, the io_context runs out
                                    for (auto& cl : clients) cl->cancel();
                            });
        }
        std::thread helper([&] { ioc.run(); });
        ioc.run();
        helper.join();
        run_result r;
        r.wall = seconds_d(clock_type::now() - t0).count();
        r.peak_temp = sampler.stop();
        r.peak_reserved = sampler.peak_extra();
        if (!errors.empty()) throw std::runtime_error("recovery failed: " + errors.front());
        for (const auto& s : sinks) r.first_all = std::max(r.first_all, s->first_commit());
        r.max_in_flight = server_.max_in_flight();
        r.max_open = server_.max_open_connections();
        r.opened = server_.connections() - opened_before;
        return r;
    }

    // The least wall time any schedule of at most `max_requests` requests in
    // flight can reach, the greatest of: the link moving every byte at the
    // total cap after the first request's latency (nothing arrives before
    // it); the `max_requests` slots each spending, per request, one
    // first-byte latency and its bytes at the per-connection cap; one
    // request alone.
    double bound(std::size_t max_requests) const {
        const double lat = a_.latency_ms / 1000.0;
        const double one = lat + double(total_bytes_) / (double(a_.buckets) * a_.segments) / double(a_.bandwidth);
        return std::max({link_bound() + lat, slot_bound(max_requests), one});
    }
    // What `max_requests` slots can reach when the link is shared fairly: a
    // fluid model in steps of 10 µs. Each slot repeats "wait one first-byte
    // latency, then receive a segment" at min(per-connection cap, total cap ÷
    // slots receiving); their first requests are spread over one latency (in
    // lockstep they would all wait at once, and the link would idle longer).
    // Not a bound: a schedule cannot do better than the link allows, and the
    // bound above ignores that a slot waiting for its first byte leaves the
    // link to fewer connections, each at most at the per-connection cap.
    double fluid_model(std::size_t max_requests) const {
        const double seg = double(total_bytes_) / (double(a_.buckets) * a_.segments);
        const double lat = a_.latency_ms / 1000.0, dt = 1e-5;
        std::size_t to_start = std::size_t(a_.buckets) * a_.segments;
        struct slot {
            bool receiving;
            double left;  // seconds of latency, or bytes
        };
        std::vector<slot> slots;
        for (std::size_t i = 0; i < max_requests && to_start > 0; ++i, --to_start)
            slots.push_back({false, lat + lat * double(i) / double(max_requests)});
        double t = 0;
        while (!slots.empty()) {
            std::size_t receiving = 0;
            for (const auto& s : slots) receiving += s.receiving;
            const double rate =
                receiving ? std::min(double(a_.bandwidth), double(a_.bandwidth_total) / double(receiving)) : 0;
            for (auto it = slots.begin(); it != slots.end();) {
                it->left -= it->receiving ? rate * dt : dt;
                if (it->left > 0) {
                    ++it;
                } else if (!it->receiving) {
                    *it = {true, seg};
                    ++it;
                } else if (to_start > 0) {
                    --to_start;
                    *it++ = {false, lat};
                } else {
                    it = slots.erase(it);
                }
            }
            t += dt;
        }
        return t;
    }
    double link_bound() const { return double(total_bytes_) / double(a_.bandwidth_total); }
    double slot_bound(std::size_t max_requests) const {
        return (double(total_bytes_) / double(a_.bandwidth) + double(a_.buckets) * a_.segments * a_.latency_ms / 1000.0) /
               double(max_requests);
    }
    std::uint64_t total_bytes() const { return total_bytes_; }

private:
    args a_;
    test::fault_server server_;
    std::vector<std::string> tablets_;
    std::vector<log::remote_log_manifest> manifests_;
    std::vector<std::int64_t> end_offsets_;
    std::uint64_t total_bytes_ = 0;
};

std::string range(const std::vector<double>& v, const char* fmt) {
    char buf[96];
    std::snprintf(buf, sizeof buf, fmt, median(v), *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()));
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    args a;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string f = argv[i];
            auto value = [&] { return examples::next_value(argc, argv, i); };
            if (f == "--buckets") a.buckets = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--segments") a.segments = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--segment-size") a.segment_size = examples::parse_size(f, value());
            else if (f == "--latency-ms") a.latency_ms = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--bandwidth") a.bandwidth = examples::parse_size(f, value());
            else if (f == "--bandwidth-total") a.bandwidth_total = examples::parse_size(f, value());
            else if (f == "--max-requests") {
                a.max_requests.clear();
                std::stringstream ss(value());
                for (std::string n; std::getline(ss, n, ',');) a.max_requests.push_back(examples::parse_count(f, n));
            }
            else if (f == "--max-temp-bytes") a.max_temp_bytes = examples::parse_size(f, value());
            else if (f == "--prefetch") a.prefetch = examples::parse_count(f, value());
            else if (f == "--threads") a.threads = examples::parse_count(f, value());
            else if (f == "--rounds") a.rounds = static_cast<int>(examples::parse_count(f, value()));
            else throw examples::usage_error("unknown option '" + f + "'");
        }
        if (a.max_requests.empty() || std::count(a.max_requests.begin(), a.max_requests.end(), 0u))
            throw examples::usage_error("--max-requests: counts must be positive");
        if (a.buckets < 1 || a.segments < 1 || a.rounds < 1 || a.threads < 1 ||
            a.prefetch < 1 || a.bandwidth == 0 || a.bandwidth_total == 0 || a.max_temp_bytes == 0)
            throw examples::usage_error("counts, sizes and bandwidths must be positive");
    } catch (const std::exception& e) {
        std::cerr << "fluss-bench-buckets: " << e.what() << "\n";
        return 2;
    }

    bench b(a);
    const std::size_t cap = a.max_requests.front();
    const double bound = b.bound(cap);
    std::cerr << a.buckets << " buckets x " << a.segments << " segments, " << (b.total_bytes() >> 20)
              << " MiB; server: " << a.latency_ms << " ms first byte, " << (a.bandwidth >> 20)
              << " MiB/s per connection, " << (a.bandwidth_total >> 20) << " MiB/s in total; " << a.rounds
              << " rounds\n";
    std::vector<config> configs;
    for (auto n : a.max_requests) configs.push_back({true, n});
    configs.push_back({false, 0});
    std::vector<std::vector<run_result>> results(configs.size());
    auto name_of = [&](const config& c) {
        char name[96];
        if (c.shared)
            std::snprintf(name, sizeof name, "shared-%zu (1 client, %.0f MiB budget)", c.max_requests,
                          double(a.max_temp_bytes) / (1 << 20));
        else
            std::snprintf(name, sizeof name, "independent (%d clients × %zu)", a.buckets, a.threads);
        return std::string(name);
    };
    for (int round = 0; round < a.rounds; ++round)  // interleaved: a slow moment of the machine hits every config
        for (std::size_t i = 0; i < configs.size(); ++i) {
            results[i].push_back(b.run(configs[i]));
            std::cerr << "round " << round + 1 << " " << name_of(configs[i]) << ": " << results[i].back().wall << " s\n";
        }

    std::printf("%d buckets × %d segments of %.0f MiB (%.0f MiB); %d ms first byte, %.0f MiB/s per connection, "
                "%.0f MiB/s in total. Bound for %zu requests: max(link %.2f s + first byte %.3f s, slots %.2f s) = "
                "%.2f s.\n\n",
                a.buckets, a.segments, double(a.segment_size) / (1 << 20), double(b.total_bytes()) / (1 << 20),
                a.latency_ms, double(a.bandwidth) / (1 << 20), double(a.bandwidth_total) / (1 << 20), cap,
                b.link_bound(), a.latency_ms / 1000.0, b.slot_bound(cap), bound);
    std::printf("| config | wall s (median, min–max) | × ideal | max requests in flight | max connections open "
                "(opened) | peak temp MiB (reserved) | every bucket's first segment applied, s |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (std::size_t i = 0; i < configs.size(); ++i) {
        std::vector<double> wall, first;
        std::size_t in_flight = 0, open = 0, opened = 0;
        std::uint64_t peak = 0, reserved = 0;
        for (const auto& r : results[i]) {
            wall.push_back(r.wall);
            first.push_back(r.first_all);
            in_flight = std::max(in_flight, r.max_in_flight);
            open = std::max(open, r.max_open);
            opened = std::max(opened, r.opened);
            peak = std::max(peak, r.peak_temp);
            reserved = std::max(reserved, r.peak_reserved);
        }
        std::printf("| %s | %s | %.2f× | %zu | %zu (%zu) | %.0f (%.0f) | %s |\n", name_of(configs[i]).c_str(),
                    range(wall, "%.2f (%.2f–%.2f)").c_str(), median(wall) / bound, in_flight, open, opened,
                    double(peak) / (1 << 20), double(reserved) / (1 << 20), range(first, "%.2f (%.2f–%.2f)").c_str());
    }
    const std::size_t requests = std::size_t(a.buckets) * a.segments;
    std::printf("| ideal (cap %zu) | %.2f | 1.00× | %zu | %zu | – | – |\n", cap, bound, std::min(cap, requests),
                std::min(cap, requests));
    for (auto n : a.max_requests) {
        const double model = b.fluid_model(n);
        std::printf("| model: %zu slots sharing the link fairly | %.2f | %.2f× | %zu | %zu | – | – |\n", n, model,
                    model / bound, std::min(n, requests), std::min(n, requests));
    }
    return 0;
}
