// fluss_fetch — how a remote log fetcher downloads (fetcher_options, also
// from Fluss-style configuration) and the figures of one stream (stream_stats).
#pragma once

#include <fluss_fetch/fetch/retry.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace fluss_fetch::fetch {

/// How a fetcher downloads. Defaults are Fluss's.
struct fetcher_options {
    /// Segments downloaded or downloading but not yet handed to the consumer
    /// (`kv.recover.remote-log.prefetch-num`). 1 is the old one-at-a-time
    /// fetcher. Files on disk never exceed prefetch_num + 1 (the one being read).
    std::size_t prefetch_num = 4;
    /// HTTP requests in flight at once (`kv.recover.remote-log.download-threads`),
    /// clamped to [1, prefetch_num] (see `effective_download_threads`).
    std::size_t download_threads = 3;
    /// Retries of each request: 5 retries, 100 ms × 2^k ±25 %, capped at 5 s.
    retry_policy retry;
    /// Where the fetcher makes its `remote-log-recovery-{uuid}` dir. Empty:
    /// the system temp dir (`std::filesystem::temp_directory_path()`).
    std::filesystem::path temp_parent;
    /// Segments larger than this are fetched as ranged parts of this size
    /// (each part a request of its own, with its own retries). 0: whole objects.
    std::uint64_t part_size = 64ull << 20;
    /// No byte for this long fails an attempt (retried). 0: the store's own.
    std::chrono::milliseconds stall_timeout{0};
    /// At construction, remove `remote-log-recovery-*` dirs under the temp
    /// parent that no live fetcher holds (left by a crashed process). A dir
    /// is held through an advisory lock on its `.lock` file; a dir without
    /// one (e.g. made by Fluss itself) is removed once it is an hour old.
    bool sweep_stale_temp_dirs = false;

    /// download_threads clamped to [1, prefetch_num].
    std::size_t effective_download_threads() const noexcept;

    /// \throws std::invalid_argument naming the field when a value is out of range.
    void validate() const;

    /// Options from Fluss-style configuration: `kv.recover.remote-log.prefetch-num`
    /// and `kv.recover.remote-log.download-threads` (other keys are ignored),
    /// on top of `base`. \throws std::invalid_argument naming the key and the
    /// value when a value is not a positive integer.
    static fetcher_options from_config(const std::map<std::string, std::string>& config);
    static fetcher_options from_config(const std::map<std::string, std::string>& config, fetcher_options base);
};

/// Figures of one stream, updated as it runs (read them at any time).
struct stream_stats {
    std::uint64_t segments_total = 0;        ///< relevant segments of the fetch
    std::uint64_t segments_admitted = 0;     ///< let into the window (download started)
    std::uint64_t segments_downloaded = 0;   ///< downloads finished successfully
    std::uint64_t segments_delivered = 0;    ///< handed to the consumer
    std::uint64_t bytes = 0;                 ///< body bytes received by successful attempts
    std::uint64_t requests = 0;              ///< HTTP requests (attempts)
    std::uint64_t retries = 0;               ///< attempts after a retryable failure
    std::uint64_t fallbacks = 0;             ///< head segments re-fetched on the consumer's path
    std::chrono::nanoseconds consumer_wait{0};   ///< time async_next spent waiting for a download
    std::chrono::nanoseconds download_time{0};   ///< sum over segments of start-to-finish download time
};

}  // namespace fluss_fetch::fetch
