// Recovery pipeline benchmark: replaying a table's remote log through the
// library's recovery job (recovery::client::async_recover: download ahead,
// decode, apply to a kv_sink, commit) against a shaped S3 server (first-byte
// latency per request and a bandwidth cap per connection, like real S3),
// compared with the old serial fetcher (download, then read, then the next:
// no overlap) and with the ideal bound max(Σ download / threads, Σ consume)
// + first download.
//
//   fluss-bench-recovery [--segments 24] [--segment-size 16M] [--latency-ms 50] [--bandwidth 80M]
//                        [--consume-delay-ms 0] [--rounds 5] [--configs serial,4x3,...]
//
// A config is "serial" or PxT[pSIZE]: prefetch P, download threads T, ranged
// parts of SIZE (none without the suffix); each PxT run is one
// recovery::client with max_requests T. Prints a Markdown table.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/fetch/download_pool.hpp>
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

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fluss_fetch;
using fluss_fetch::bench_util::median;
using clock_type = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

namespace {

struct config {
    std::string name;
    bool serial = false;
    std::size_t prefetch = 4, threads = 3;
    std::uint64_t part_size = 0;
};

config parse_config(const std::string& text) {
    config c;
    c.name = text;
    if (text == "serial") {
        c.serial = true;
        return c;
    }
    auto x = text.find('x');
    auto p = text.find('p', x == std::string::npos ? 0 : x);
    if (x == std::string::npos) throw examples::usage_error("config '" + text + "' is not serial or PxT[pSIZE]");
    c.prefetch = std::stoul(text.substr(0, x));
    c.threads = std::stoul(text.substr(x + 1, p == std::string::npos ? std::string::npos : p - x - 1));
    if (p != std::string::npos) c.part_size = examples::parse_size("--configs", text.substr(p + 1));
    return c;
}

struct args {
    int segments = 24;
    std::uint64_t segment_size = 16u << 20;
    int latency_ms = 50;
    std::uint64_t bandwidth = 80u << 20;
    int consume_delay_ms = 0;
    int rounds = 5;
    std::vector<config> configs;
};

const log::schema bench_schema = log::schema::parse("id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE", "id");

// A changelog of inserts and updates, `size` bytes of COMPACTED batches.
std::string make_segment(std::int64_t& offset, std::uint64_t size, std::mt19937_64& rng) {
    std::string out;
    std::uniform_int_distribution<std::int32_t> key(0, 200000);
    while (out.size() < size) {
        log::batch_builder b;
        b.base_offset = offset;
        for (int i = 0; i < 64; ++i) {
            std::string name(8 + rng() % 40, 'x');
            for (auto& ch : name) ch = static_cast<char>('a' + rng() % 26);
            log::row r{key(rng), std::move(name), static_cast<std::int64_t>(rng() % 1000000), double(rng() % 10000) / 7};
            b.add_record(i % 4 == 3 ? log::change_type::update_after : log::change_type::insert,
                         log::encode_row(bench_schema, r, log::row_format::compacted));
        }
        out += b.build();
        offset += 64;
    }
    return out;
}

// The recovery's sink: a memory_kv_sink, and the simulated apply cost
// (--consume-delay-ms) slept at every commit. commit() runs once per segment
// on the decode executor, after the segment's records, as the serial
// baseline's delay runs after its apply.
class delayed_sink final : public log::kv_sink {
public:
    explicit delayed_sink(int delay_ms) : delay_ms_(delay_ms) {}
    void put(std::string_view key, std::string_view value) override { inner_.put(key, value); }
    void remove(std::string_view key) override { inner_.remove(key); }
    void commit(std::int64_t next_offset) override {
        if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));  // simulated apply cost
        inner_.commit(next_offset);
    }
    const log::memory_kv_sink& inner() const noexcept { return inner_; }

private:
    int delay_ms_;
    log::memory_kv_sink inner_;
};

struct run_result {
    double wall = 0, consumer_wait = 0, sum_download = 0, sum_consume = 0, first_download = 0;
    std::uint64_t peak_temp = 0, keys = 0;
};

class bench {
public:
    explicit bench(args a) : a_(std::move(a)), server_(2) {
        std::mt19937_64 rng(42);
        std::int64_t offset = 0;
        for (int i = 0; i < a_.segments; ++i) {
            const std::int64_t start = offset;
            auto bytes = make_segment(offset, a_.segment_size, rng);
            char id[40];
            std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
            auto seg = log::remote_log_segment::physical(id, start, offset, bytes.size());
            server_.put_object("b", log::remote_log_segment_key(tablet_, id, start), std::move(bytes));
            segs_.push_back(seg);
        }
        server_.set_first_byte_delay(std::chrono::milliseconds(a_.latency_ms));
        server_.set_bandwidth_per_connection(a_.bandwidth);
        // Handed to the recovery as read: no manifest request, as the serial
        // baseline makes none.
        manifest_.tablet = tablet_ref_;
        manifest_.segments = segs_;
    }

    run_result run(const config& c) {
        asio::io_context ioc;
        storage::s3_options so;
        so.endpoint = server_.endpoint();
        so.bucket = "b";
        so.credentials = storage::s3_credentials{"AK", "SK", ""};
        storage::s3_store store(ioc.get_executor(), so);
        test::temp_dir tmp("bench");
        bench_util::temp_sampler sampler(tmp.path(), std::chrono::milliseconds(2));
        run_result r;
        if (c.serial) {
            asio::thread_pool decoder(1);
            log::memory_kv_state state;
            const auto t0 = clock_type::now();
            auto fut = asio::co_spawn(ioc, serial(store, tmp.path(), decoder, state, r), asio::use_future);
            std::thread helper([&] { ioc.run(); });
            ioc.run();
            helper.join();
            fut.get();
            r.wall = seconds_d(clock_type::now() - t0).count();
            r.keys = state.size();
            decoder.join();
        } else {
            // One client per run: its own scheduler (max_requests = the
            // config's threads) and its own decode thread, like the serial
            // baseline's one decoder.
            recovery::client_options co;
            co.max_requests = c.threads;
            co.temp_parent = tmp.path();
            recovery::client client(ioc.get_executor(), store, co);
            delayed_sink sink(a_.consume_delay_ms);
            const auto t0 = clock_type::now();
            client.async_run(asio::detached);
            auto fut = asio::co_spawn(ioc, pipelined(c, client, sink, r), asio::use_future);
            std::thread helper([&] { ioc.run(); });
            ioc.run();
            helper.join();
            fut.get();
            r.wall = seconds_d(clock_type::now() - t0).count();
            r.keys = sink.inner().state().size();
        }
        r.peak_temp = sampler.stop();
        return r;
    }

    const args& options() const { return a_; }
    std::uint64_t total_bytes() const {
        std::uint64_t n = 0;
        for (const auto& s : segs_) n += s.size_in_bytes;
        return n;
    }

private:
    // Decode and apply one segment file (the consumer's real work), plus the configured delay.
    void consume(const fs::path& file, const log::remote_log_segment& s, log::memory_kv_state& state) {
        log::mapped_file m(file);
        log::segment_batches batches(m.bytes(), s.segment_id,
                                     {s.logical_start_offset, s.logical_end_offset, s.start_offset, s.end_offset});
        log::apply_stats st;
        while (auto b = batches.next()) log::apply_batch(bench_schema, log::log_format::compacted, *b, s.segment_id, state, st);
        if (a_.consume_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(a_.consume_delay_ms));  // simulated apply cost
    }

    static asio::awaitable<void> on_pool(bench& b, const fs::path& file, const log::remote_log_segment& s,
                                         log::memory_kv_state& state) {
        b.consume(file, s, state);
        co_return;
    }

    // The old fetcher: download a segment, read it, delete it, then the next.
    asio::awaitable<void> serial(storage::s3_store& store, fs::path dir, asio::thread_pool& decoder,
                                 log::memory_kv_state& state, run_result& r) {
        fetch::download_pool pool(co_await asio::this_coro::executor, 1);
        fetch::transfer_counters counters;
        for (std::size_t i = 0; i < segs_.size(); ++i) {
            const auto& s = segs_[i];
            const auto path = dir / (s.segment_id + ".log");
            fetch::download_options o;
            o.part_size = 0;
            o.expected_size = s.size_in_bytes;
            diagnostics d;
            const auto t0 = clock_type::now();
            co_await fetch::async_download(store, pool, log::remote_log_segment_key(tablet_, s.segment_id, s.start_offset),
                                           path, o, counters, d, asio::use_awaitable);
            const double dl = seconds_d(clock_type::now() - t0).count();
            r.sum_download += dl;
            if (i == 0) r.first_download = dl;
            const auto t1 = clock_type::now();
            co_await asio::co_spawn(decoder.get_executor(), on_pool(*this, path, s, state), asio::use_awaitable);
            r.sum_consume += seconds_d(clock_type::now() - t1).count();
            fs::remove(path);
        }
        co_await pool.async_close(asio::use_awaitable);
    }

    // The library's recovery job, the whole table from offset 0; then the
    // client stops, so async_run completes and the io_context runs out.
    asio::awaitable<void> pipelined(const config& c, recovery::client& client, log::kv_sink& sink, run_result& r) {
        recovery::recovery_options o;
        o.schema = bench_schema;
        o.format = log::log_format::compacted;
        o.manifest = manifest_;
        o.fetch.prefetch_num = c.prefetch;
        o.fetch.download_threads = c.threads;
        o.fetch.part_size = c.part_size;
        auto [ec, st] = co_await client.async_recover(tablet_, std::move(o), sink, asio::as_tuple(asio::use_awaitable));
        client.cancel();
        if (ec) throw std::runtime_error("recovery failed: " + st.error);
        if (st.next_offset != segs_.back().end_offset)
            throw std::runtime_error("recovery stopped at " + std::to_string(st.next_offset));
        r.consumer_wait = seconds_d(st.download.consumer_wait).count();
        r.sum_download = seconds_d(st.download.download_time).count();
        r.sum_consume = seconds_d(st.decode_time).count();
    }

    args a_;
    test::fault_server server_;
    const log::tablet_ref tablet_ref_{"bench", "orders", 1, {}, {}, 0};
    const std::string tablet_ = log::remote_log_tablet_dir(tablet_ref_);
    std::vector<log::remote_log_segment> segs_;
    log::remote_log_manifest manifest_;
};

}  // namespace

int main(int argc, char** argv) {
    args a;
    try {
        std::string configs = "serial,1x1,2x2,4x3,4x3p4M,4x4,8x4,8x6,8x8p8M";
        for (int i = 1; i < argc; ++i) {
            const std::string f = argv[i];
            auto value = [&] { return examples::next_value(argc, argv, i); };
            if (f == "--segments") a.segments = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--segment-size") a.segment_size = examples::parse_size(f, value());
            else if (f == "--latency-ms") a.latency_ms = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--bandwidth") a.bandwidth = examples::parse_size(f, value());
            else if (f == "--consume-delay-ms") a.consume_delay_ms = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--rounds") a.rounds = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--configs") configs = value();
            else throw examples::usage_error("unknown option '" + f + "'");
        }
        std::stringstream ss(configs);
        for (std::string c; std::getline(ss, c, ',');) a.configs.push_back(parse_config(c));
        if (a.configs.empty() || !a.configs.front().serial)
            throw examples::usage_error("--configs must start with serial (the baseline)");
    } catch (const std::exception& e) {
        std::cerr << "fluss-bench-recovery: " << e.what() << "\n";
        return 2;
    }

    bench b(a);
    std::cerr << "table: " << a.segments << " segments, " << (b.total_bytes() >> 20) << " MiB; server: "
              << a.latency_ms << " ms first byte, " << (a.bandwidth >> 20) << " MiB/s per connection; consume delay "
              << a.consume_delay_ms << " ms/segment; " << a.rounds << " rounds\n";
    std::vector<std::vector<run_result>> results(a.configs.size());
    for (int round = 0; round < a.rounds; ++round)
        for (std::size_t i = 0; i < a.configs.size(); ++i) {
            results[i].push_back(b.run(a.configs[i]));
            std::cerr << "round " << round + 1 << " " << a.configs[i].name << ": " << results[i].back().wall << " s\n";
        }

    // The serial runs measure each segment's download and consume time alone.
    std::vector<double> sd, sc, sf;
    for (const auto& r : results[0]) {
        sd.push_back(r.sum_download);
        sc.push_back(r.sum_consume);
        sf.push_back(r.first_download);
    }
    const double sum_download = median(sd), sum_consume = median(sc), first = median(sf);
    const double serial_wall = [&] {
        std::vector<double> w;
        for (const auto& r : results[0]) w.push_back(r.wall);
        return median(w);
    }();
    std::printf("Σ download %.2f s, Σ consume %.2f s, first download %.3f s (medians of the serial runs)\n\n",
                sum_download, sum_consume, first);
    std::printf("| config | wall s (median, min–max) | × serial | × bound | bound s | consumer wait s | peak temp MiB |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (std::size_t i = 0; i < a.configs.size(); ++i) {
        const auto& c = a.configs[i];
        std::vector<double> w, wait;
        std::uint64_t peak = 0;
        for (const auto& r : results[i]) {
            w.push_back(r.wall);
            wait.push_back(r.consumer_wait);
            peak = std::max(peak, r.peak_temp);
        }
        const double m = median(w);
        const double threads = c.serial ? 1.0 : double(std::min(c.threads, c.prefetch));
        const double bound = c.serial ? sum_download + sum_consume
                                      : std::max(sum_download / threads, sum_consume) + first;
        std::printf("| %s | %.2f (%.2f–%.2f) | %.2f× | %.2f× | %.2f | %s | %.0f |\n",
                    c.serial ? "serial (old fetcher)" : c.name.c_str(), m, *std::min_element(w.begin(), w.end()),
                    *std::max_element(w.begin(), w.end()), serial_wall / m, m / bound, bound,
                    c.serial ? "–" : std::to_string(median(wait)).substr(0, 5).c_str(), double(peak) / (1 << 20));
    }
    return 0;
}
