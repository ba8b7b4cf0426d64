// Micro-benchmarks (Google Benchmark): CRC-32C (hardware and portable),
// batch decode + KV apply (COMPACTED, and ARROW uncompressed, LZ4 and ZSTD on
// the same rows), SigV4 signing, and memcpy as the physical limit.
//   fluss-bench-micro [--benchmark_filter=...]
#include <fluss_fetch/log/arrow.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/crc32c.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/row.hpp>

#include "storage/s3/sigv4.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>
#include <random>
#include <string>

using namespace fluss_fetch;

namespace {

std::string random_buffer(std::size_t n) {
    std::mt19937_64 rng(1);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

const std::string buffer = random_buffer(16u << 20);

void bm_memcpy(benchmark::State& st) {
    std::string dst(buffer.size(), '\0');
    for (auto _ : st) {
        std::memcpy(dst.data(), buffer.data(), buffer.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(st.iterations() * std::int64_t(buffer.size()));
}
BENCHMARK(bm_memcpy);

void bm_crc32c_hardware(benchmark::State& st) {
    if (!log::detail::crc32c_hardware_available()) {
        st.SkipWithError("no CRC32 instruction on this CPU");
        return;
    }
    for (auto _ : st) benchmark::DoNotOptimize(log::detail::crc32c_hardware(buffer.data(), buffer.size(), 0));
    st.SetBytesProcessed(st.iterations() * std::int64_t(buffer.size()));
}
BENCHMARK(bm_crc32c_hardware);

void bm_crc32c_portable(benchmark::State& st) {
    for (auto _ : st) benchmark::DoNotOptimize(log::detail::crc32c_portable(buffer.data(), buffer.size(), 0));
    st.SetBytesProcessed(st.iterations() * std::int64_t(buffer.size()));
}
BENCHMARK(bm_crc32c_portable);

// The rows of the decode + apply benchmarks: fluss-gen's 12 columns, ~200k
// distinct keys, INSERTs (one put each), in batches of 64 rows (a client's
// small write) or 1024 (closer to a KV write batch's changelog: Fluss's
// client batches up to 2 MiB per write, and the server writes one ARROW
// batch per KV write batch).
const log::schema& bench_schema() {
    static const auto s = log::schema::parse(
        "id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE, active BOOLEAN, level TINYINT, code SMALLINT, "
        "ratio FLOAT, payload BYTES, day DATE, at TIME, ts TIMESTAMP(6)",
        "id");
    return s;
}

std::vector<std::vector<log::row>> bench_batches(std::size_t batches, int per_batch) {
    std::mt19937_64 rng(7);
    std::vector<std::vector<log::row>> out(batches);
    for (auto& b : out)
        for (int i = 0; i < per_batch; ++i) {
            const auto u = [&](std::uint64_t n) { return rng() % n; };
            log::row r{static_cast<std::int32_t>(u(200000)),
                       std::string(8 + u(40), static_cast<char>('a' + u(26))),
                       static_cast<std::int64_t>(u(1000000)) - 500000,
                       double(u(10000)) / 7,
                       u(2) == 1,
                       static_cast<std::int8_t>(u(256) - 128),
                       static_cast<std::int16_t>(u(65536) - 32768),
                       float(u(1000)) / 3,
                       std::string(u(24), static_cast<char>(u(256))),
                       static_cast<std::int32_t>(u(40000)),
                       static_cast<std::int32_t>(u(86400000)),
                       log::timestamp_value{1722225103853 + static_cast<std::int64_t>(u(1u << 30)),
                                            static_cast<std::int32_t>(u(1000) * 1000)}};
            if (u(10) == 0) r[1] = std::monostate{};  // some nulls
            b.push_back(std::move(r));
        }
    return out;
}

// 0: COMPACTED; 1: ARROW none; 2: ARROW LZ4_FRAME; 3: ARROW ZSTD(3).
struct bench_segment {
    std::string file;
    std::int64_t records = 0;
    std::size_t row_bytes = 0;  // the COMPACTED row bytes of all records: the same work for every format
};

// 65,536 records in batches of `per_batch` rows (the rows are the same for
// every variant of one batch size).
const bench_segment& segment_of(int variant, int per_batch) {
    static std::map<std::pair<int, int>, bench_segment> cache;
    if (auto it = cache.find({variant, per_batch}); it != cache.end()) return it->second;
    const auto batches = bench_batches(static_cast<std::size_t>(65536 / per_batch), per_batch);
    const auto& schema = bench_schema();
    bench_segment seg;
    std::int64_t offset = 0;
    for (const auto& rows : batches) {
        log::batch_builder b;
        b.base_offset = offset;
        if (variant == 0) {
            for (const auto& r : rows) {
                const auto bytes = log::encode_row(schema, r, log::row_format::compacted);
                seg.row_bytes += bytes.size();
                b.add_record(log::change_type::insert, bytes);
            }
        } else {
            std::vector<std::pair<log::change_type, log::row>> changes;
            for (const auto& r : rows) {
                seg.row_bytes += log::encode_row(schema, r, log::row_format::compacted).size();
                changes.emplace_back(log::change_type::insert, r);
            }
            log::arrow_write_options o;
            o.compression = variant == 1 ? log::arrow_compression::none
                          : variant == 2 ? log::arrow_compression::lz4_frame
                                         : log::arrow_compression::zstd;
            b.set_raw_records(log::encode_arrow_records(schema, changes, false, o), static_cast<std::int32_t>(rows.size()));
        }
        seg.file += b.build();
        offset += static_cast<std::int64_t>(rows.size());
        seg.records += static_cast<std::int64_t>(rows.size());
    }
    return cache.emplace(std::make_pair(variant, per_batch), std::move(seg)).first->second;
}

// Decode and apply one segment of 65,536 records (args: variant, rows per batch) into a fresh state. Bytes
// are counted as COMPACTED row bytes, the same for every format, so MB/s
// compare like records/s do; the file size is a counter.
void bm_decode_apply(benchmark::State& st) {
    const int variant = static_cast<int>(st.range(0));
    const auto& seg = segment_of(variant, static_cast<int>(st.range(1)));
    const auto bytes = std::as_bytes(std::span(seg.file.data(), seg.file.size()));
    const auto format = variant == 0 ? log::log_format::compacted : log::log_format::arrow;
    for (auto _ : st) {
        auto state = std::make_unique<log::memory_kv_state>();
        log::apply_stats stats;
        log::kv_applier applier(bench_schema(), format);
        log::batch_reader r(bytes, "bench");
        while (auto b = r.next()) applier.apply(*b, "bench", *state, stats);
        benchmark::DoNotOptimize(state->size());
        st.PauseTiming();  // freeing 65k entries is the allocator's business, not the format's
        state.reset();
        st.ResumeTiming();
    }
    st.SetBytesProcessed(st.iterations() * std::int64_t(seg.row_bytes));
    st.SetItemsProcessed(st.iterations() * seg.records);
    st.counters["file_MiB"] = double(seg.file.size()) / (1 << 20);
    static const char* names[] = {"COMPACTED", "ARROW none", "ARROW LZ4_FRAME", "ARROW ZSTD"};
    st.SetLabel(names[variant]);
}
BENCHMARK(bm_decode_apply)->ArgsProduct({{0, 1, 2, 3}, {64, 1024}})->Unit(benchmark::kMillisecond);

// Decode only: every record's key and value through the format's record
// source, into nothing (what the format costs without the hash map).
void bm_decode(benchmark::State& st) {
    const int variant = static_cast<int>(st.range(0));
    const auto& seg = segment_of(variant, static_cast<int>(st.range(1)));
    const auto bytes = std::as_bytes(std::span(seg.file.data(), seg.file.size()));
    auto source = log::make_record_source(variant == 0 ? log::log_format::compacted : log::log_format::arrow,
                                          bench_schema());
    for (auto _ : st) {
        std::size_t n = 0;
        log::batch_reader r(bytes, "bench");
        while (auto b = r.next()) {
            source->open(*b, "bench");
            log::kv_record rec;
            while (source->next(rec)) n += rec.key.size() + rec.value.size();
        }
        benchmark::DoNotOptimize(n);
    }
    st.SetBytesProcessed(st.iterations() * std::int64_t(seg.row_bytes));
    st.SetItemsProcessed(st.iterations() * seg.records);
    static const char* names[] = {"COMPACTED", "ARROW none", "ARROW LZ4_FRAME", "ARROW ZSTD"};
    st.SetLabel(names[variant]);
}
BENCHMARK(bm_decode)->ArgsProduct({{0, 1, 2, 3}, {64, 1024}})->Unit(benchmark::kMillisecond);

void bm_sigv4_sign(benchmark::State& st) {
    storage::s3::request_to_sign req{
        "GET",
        "/bucket/log/fluss/orders-1001/3/a4421366-4a1d-4c3b-a0f8-0be2e77b1368/00000000000000001234.log",
        {},
        {{"host", "s3.eu-west-1.amazonaws.com"},
         {"range", "bytes=0-8388607"},
         {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {"x-amz-date", "20261125T021500Z"}},
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    for (auto _ : st)
        benchmark::DoNotOptimize(
            storage::s3::sign(req, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1", "s3",
                              "20261125T021500Z"));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(bm_sigv4_sign);

}  // namespace

BENCHMARK_MAIN();
