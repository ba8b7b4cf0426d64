// Fault soak: thousands of segment downloads through the fetcher against the
// fault server with random faults (503, 500, reset mid-body, stall, short
// body, wrong Content-Range, slow first byte) and random cancels. Checks every
// delivered segment byte for byte (CRC-32C of the body), that no temp file and
// no file descriptor is left, and that no key saw more requests than its retry
// budget allows. Not part of CI (`scripts/soak`, a few minutes).
//   fluss-soak [--streams 70] [--segments 200] [--size 64K] [--seed 1]
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/crc32c.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include "../../examples/common/cli.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fluss_fetch;
using namespace std::chrono_literals;

namespace {

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

std::size_t files_under(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        n += it->is_regular_file() && it->path().filename() != ".lock";
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    int streams = 70, per_stream = 200;  // 14,000 planned: over 10,000 delivered after failures and cancels
    std::uint64_t size = 64 * 1024, seed = 1;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string f = argv[i];
            auto value = [&] { return examples::next_value(argc, argv, i); };
            if (f == "--streams") streams = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--segments") per_stream = static_cast<int>(examples::parse_count(f, value()));
            else if (f == "--size") size = examples::parse_size(f, value());
            else if (f == "--seed") seed = static_cast<std::uint64_t>(examples::parse_count(f, value()));
            else throw examples::usage_error("unknown option '" + f + "'");
        }
    } catch (const std::exception& e) {
        std::cerr << "fluss-soak: " << e.what() << "\n";
        return 2;
    }

    const std::size_t fds_before = open_fds();
    std::mt19937_64 rng(seed);
    std::map<std::string, std::uint64_t> fault_counts;
    std::uint64_t delivered = 0, corrupted = 0, failed_streams = 0, cancelled_streams = 0, budget_breaches = 0;
    std::uint64_t requests = 0, retries = 0, fallbacks = 0, temp_left = 0;
    fetch::retry_policy policy;
    policy.initial_backoff = 1ms;
    policy.max_backoff = 10ms;
    policy.max_retries = 4;
    {
        test::fault_server server(2);
        test::temp_dir tmp("soak");
        const std::string tablet = log::remote_log_tablet_dir({"soak", "t", 1, {}, {}, 0});
        for (int s = 0; s < streams; ++s) {
            // A fresh set of segments (fresh keys) for each stream.
            std::vector<log::remote_log_segment> segs;
            std::map<std::string, std::uint32_t> crc_of;
            std::map<std::string, int> faults_on;
            for (int i = 0; i < per_stream; ++i) {
                char id[40];
                std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012d", s, i);
                std::string body(size + rng() % 1000, '\0');
                for (auto& c : body) c = static_cast<char>(rng());
                const auto key = log::remote_log_segment_key(tablet, id, 100 * i);
                crc_of[id] = log::crc32c(body.data(), body.size());
                segs.push_back(log::remote_log_segment::physical(id, 100 * i, 100 * i + 100, body.size()));
                server.put_object("b", key, std::move(body));
                // About one segment in three gets a fault; one in a hundred gets more faults than its budget.
                const int n = rng() % 100 == 0 ? 2 * (policy.max_retries + 1) : (rng() % 3 == 0 ? 1 : 0);
                for (int k = 0; k < n; ++k) {
                    test::fault f;
                    f.key = key;
                    switch (rng() % 7) {
                    case 0: f = {test::fault::kind::status, key, 503, "SlowDown"}; break;
                    case 1: f = {test::fault::kind::status, key, 500, "InternalError"}; break;
                    case 2: f.what = test::fault::kind::reset_after; f.bytes = rng() % size; break;
                    case 3: f.what = test::fault::kind::stall_after; f.bytes = rng() % size; break;
                    case 4: f.what = test::fault::kind::short_body; f.bytes = rng() % size; break;
                    case 5: f = {test::fault::kind::status, key, 503, "ServiceUnavailable"}; break;
                    default: f.what = test::fault::kind::delay_first_byte; f.delay = std::chrono::milliseconds(rng() % 50); break;
                    }
                    static const char* names[] = {"HTTP status", "reset mid-body", "stall mid-body", "short body",
                                                  "wrong Content-Range", "slow first byte", "hold"};
                    ++fault_counts[std::string(names[int(f.what)]) +
                                   (f.what == test::fault::kind::status ? " " + std::to_string(f.status) + " " + f.s3_code : "")];
                    server.add_fault(f);
                }
                faults_on[id] = n;
            }
            // Ranged parts on every other stream (some get the wrong Content-Range fault too).
            const bool parts = s % 2 == 1;
            if (parts)
                for (int k = 0; k < 5; ++k) {
                    const auto& victim = segs[rng() % segs.size()];
                    server.add_fault({.what = test::fault::kind::wrong_content_range,
                                      .key = log::remote_log_segment_key(tablet, victim.segment_id, victim.start_offset)});
                    ++fault_counts["wrong Content-Range"];
                }
            const int cancel_after = rng() % 10 == 0 ? static_cast<int>(rng() % per_stream) : -1;

            asio::io_context ioc;
            storage::s3_options so;
            so.endpoint = server.endpoint();
            so.bucket = "b";
            so.credentials = storage::s3_credentials{"AK", "SK", ""};
            so.stall_timeout = 75ms;  // loopback bodies of 64 KiB never pause this long unless stalled
            storage::s3_store store(ioc.get_executor(), so);
            fetch::fetcher_options o;
            o.prefetch_num = 1 + rng() % 8;
            o.download_threads = 1 + rng() % 6;
            o.part_size = parts ? size / 3 : 0;
            o.retry = policy;
            o.temp_parent = tmp.path();
            fetch::remote_log_fetcher fetcher(ioc.get_executor(), store, o);
            const auto dir = fetcher.temp_dir();
            test::run_on(
                ioc,
                [&]() -> asio::awaitable<void> {
                    auto stream = fetcher.fetch(tablet, segs, 0);
                    for (int got = 0;; ++got) {
                        if (got == cancel_after) {
                            ++cancelled_streams;
                            break;
                        }
                        auto [ec, seg] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
                        if (ec) {
                            ++failed_streams;
                            const auto& m = stream.last_error().message;  // "segment <id> (offsets ...): ..."
                            if (m.size() < 44 || faults_on[m.substr(8, 36)] <= policy.max_retries)
                                std::fprintf(stderr, "unexpected failure: %s\n", stream.last_error().to_string(ec).c_str());
                            break;
                        }
                        if (!seg) break;
                        std::string bytes(seg->size(), '\0');
                        {
                            std::FILE* f = std::fopen(seg->path().c_str(), "rb");
                            if (!f || std::fread(bytes.data(), 1, bytes.size(), f) != bytes.size()) ++corrupted;
                            if (f) std::fclose(f);
                        }
                        if (log::crc32c(bytes.data(), bytes.size()) != crc_of[seg->segment().segment_id]) ++corrupted;
                        ++delivered;
                    }
                    const auto st = stream.stats();
                    requests += st.requests;
                    retries += st.retries;
                    fallbacks += st.fallbacks;
                    co_await fetcher.async_close(asio::use_awaitable);
                },
                2);
            if (fs::exists(dir)) ++temp_left;
            temp_left += files_under(tmp.path());
            // Budget: per key, (retries + 1) attempts per part, twice (prefetch, fallback).
            const std::uint64_t parts_per_segment = parts ? 4 : 1;
            for (const auto& seg : segs)
                if (server.requests_for(log::remote_log_segment_key(tablet, seg.segment_id, seg.start_offset)) >
                    2 * parts_per_segment * static_cast<std::uint64_t>(policy.max_retries + 1))
                    ++budget_breaches;
            std::fprintf(stderr, "stream %d/%d: prefetch %zu, threads %zu%s%s\n", s + 1, streams, o.prefetch_num,
                         o.download_threads, parts ? ", parts" : "", cancel_after >= 0 ? ", cancelled" : "");
        }
    }
    const std::size_t fds_after = open_fds();
    std::printf("| what | count |\n|---|---|\n");
    std::printf("| segments delivered and verified | %llu |\n", static_cast<unsigned long long>(delivered));
    std::printf("| corrupted deliveries | %llu |\n", static_cast<unsigned long long>(corrupted));
    std::printf("| streams failed (a segment beyond its budget) | %llu |\n", static_cast<unsigned long long>(failed_streams));
    std::printf("| streams cancelled midway | %llu |\n", static_cast<unsigned long long>(cancelled_streams));
    std::printf("| requests / retries / fallbacks | %llu / %llu / %llu |\n", static_cast<unsigned long long>(requests),
                static_cast<unsigned long long>(retries), static_cast<unsigned long long>(fallbacks));
    for (const auto& [k, v] : fault_counts)
        std::printf("| faults queued: %s | %llu |\n", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("| keys over their retry budget | %llu |\n", static_cast<unsigned long long>(budget_breaches));
    std::printf("| temp dirs or files left | %llu |\n", static_cast<unsigned long long>(temp_left));
    std::printf("| file descriptors before / after | %zu / %zu |\n", fds_before, fds_after);
    const bool ok = corrupted == 0 && budget_breaches == 0 && temp_left == 0 && fds_after <= fds_before;
    std::printf("\n%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
