// Micro-benchmarks (Google Benchmark): CRC-32C (hardware and portable),
// batch decode + KV apply, SigV4 signing, and memcpy as the physical limit.
//   fluss-bench-micro [--benchmark_filter=...]
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/crc32c.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/row.hpp>

#include "storage/s3/sigv4.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
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

// A 4 MiB segment of COMPACTED batches (64 records each), decoded and applied.
void bm_decode_apply(benchmark::State& st) {
    const auto schema = log::schema::parse("id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE", "id");
    std::mt19937_64 rng(7);
    std::string file;
    std::int64_t offset = 0, records = 0;
    while (file.size() < (4u << 20)) {
        log::batch_builder b;
        b.base_offset = offset;
        for (int i = 0; i < 64; ++i) {
            std::string name(8 + rng() % 40, 'x');
            log::row r{static_cast<std::int32_t>(rng() % 200000), name, static_cast<std::int64_t>(rng() % 1000000),
                       double(rng() % 10000) / 7};
            b.add_record(log::change_type::insert, log::encode_row(schema, r, log::row_format::compacted));
        }
        file += b.build();
        offset += 64;
        records += 64;
    }
    const auto bytes = std::as_bytes(std::span(file.data(), file.size()));
    for (auto _ : st) {
        log::memory_kv_state state;
        log::apply_stats stats;
        log::batch_reader r(bytes, "bench");
        while (auto b = r.next()) log::apply_batch(schema, log::log_format::compacted, *b, "bench", state, stats);
        benchmark::DoNotOptimize(state.size());
    }
    st.SetBytesProcessed(st.iterations() * std::int64_t(file.size()));
    st.SetItemsProcessed(st.iterations() * records);
}
BENCHMARK(bm_decode_apply)->Unit(benchmark::kMillisecond);

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
