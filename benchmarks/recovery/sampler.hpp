// What the recovery benchmarks share: a sampler of the temp dir's bytes
// (and, optionally, of any other figure) while a run goes on, and medians.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

namespace fluss_fetch::bench_util {

// Sums the sizes of the files under a dir every `period` while a run goes
// on, and samples `extra` (e.g. a scheduler's reserved bytes) as often; keeps
// the peak of each.
class temp_sampler {
public:
    temp_sampler(std::filesystem::path dir, std::chrono::milliseconds period,
                 std::function<std::uint64_t()> extra = {})
        : dir_(std::move(dir)), period_(period), extra_(std::move(extra)), thread_([this] { loop(); }) {}
    ~temp_sampler() { stop(); }
    temp_sampler(const temp_sampler&) = delete;
    temp_sampler& operator=(const temp_sampler&) = delete;

    /// Stop sampling; the peak bytes on disk.
    std::uint64_t stop() {
        if (!stopped_.exchange(true)) thread_.join();
        return peak_;
    }
    /// The peak of `extra` (after stop()).
    std::uint64_t peak_extra() const noexcept { return peak_extra_; }

private:
    void loop() {
        while (!stopped_) {
            std::uint64_t total = 0;
            std::error_code ec;
            for (std::filesystem::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
                std::error_code sec;
                if (!it->is_regular_file(sec)) continue;
                // A file can vanish between listing and stat; then the size is
                // uintmax_t(-1), which once turned a peak into 2^64 bytes.
                const auto size = it->file_size(sec);
                if (!sec && size != static_cast<std::uintmax_t>(-1)) total += size;
            }
            peak_ = std::max(peak_, total);
            if (extra_) peak_extra_ = std::max(peak_extra_, extra_());
            std::this_thread::sleep_for(period_);  // a sampling period, not a synchronisation
        }
    }
    std::filesystem::path dir_;
    std::chrono::milliseconds period_;
    std::function<std::uint64_t()> extra_;
    std::atomic<bool> stopped_{false};
    std::uint64_t peak_ = 0, peak_extra_ = 0;
    std::thread thread_;
};

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace fluss_fetch::bench_util
