// fluss_fetch — download one object to a local file: ranged parts, retries,
// verified before it appears under its final name.
#pragma once

#include <fluss_fetch/error.hpp>
#include <fluss_fetch/fetch/download_pool.hpp>
#include <fluss_fetch/fetch/retry.hpp>
#include <fluss_fetch/storage/object_store.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace fluss_fetch::fetch {

struct download_options {
    /// Objects larger than this are fetched as ranged parts of this size, in
    /// parallel through the pool, the parts sent once an ETag is known carry
    /// If-Match with it. 0 disables ranged parts (one whole-object GET).
    ///
    /// Every part's answer must show the ETag and object size of the first
    /// answer, whatever the server does with If-Match (s3rver and some proxies
    /// ignore it). A difference (or a 412 to If-Match) means the object was
    /// replaced mid-download: the download restarts once from scratch (temp
    /// file emptied, size and ETag found again); a second difference fails
    /// with `errc::object_changed`, naming the key and both ETags. So a file
    /// at its final name is always one version of the object, byte for byte.
    std::uint64_t part_size = 8ull << 20;
    retry_policy retry;
    /// Known size (e.g. from a manifest or a listing): the parts start at once
    /// (up to `part_window`). Unknown, or above `max_object_size`: the first
    /// part goes alone as a ranged GET whose Content-Range tells the size (no
    /// HEAD); a total above `max_object_size` fails with
    /// `errc::object_too_large` before any further part is planned. Either way
    /// the received size is checked: an object of another size fails with
    /// `errc::size_mismatch` (not retried), naming both sizes.
    std::optional<std::uint64_t> expected_size;
    /// The largest object size a download believes, from the caller or from a
    /// server's Content-Range total. A Fluss log segment is at most 1 GiB by
    /// default (`log.segment.file-size`); 64 GiB leaves room for any sane
    /// setting while keeping a corrupt manifest or a lying proxy from driving
    /// the download. Must be > 0.
    std::uint64_t max_object_size = 64ull << 30;
    /// Ranged parts submitted to the pool and not yet finished, at most. Parts
    /// are planned lazily from a cursor, so the memory a download holds is
    /// bounded by this, whatever size the object claims. The pool runs
    /// `workers` of them at a time; the rest wait in its queue in order. 128
    /// queues a 1 GiB segment of 8 MiB parts whole, as before. Must be > 0.
    std::size_t part_window = 128;
    /// Stall timeout of each request; 0 keeps the store's own.
    std::chrono::milliseconds stall_timeout{0};
    /// The lane and segment position the requests are scheduled by (see
    /// `job_tag`). No lane: the pool's untagged lane, in submission order.
    job_tag tag;
    /// Untagged only: queue the requests ahead of every waiting untagged job.
    bool urgent = false;
    /// Time allowed for one request with all its retries and backoffs (one
    /// ranged part, or the whole object when it is not split): an attempt
    /// still running then fails with `errc::deadline_exceeded` (passed to the
    /// store as `get_options::deadline`), and no retry starts whose backoff
    /// would end past it. This bounds what the per-phase timeouts cannot: a
    /// body that trickles in without ever stalling. 0: no deadline. 15 min
    /// asks ≥ 75 KB/s of a 64 MiB part (the fetcher's default) and ≥ 1.2 MB/s
    /// of a 1 GiB object fetched whole (`part_size` 0): raise it for slow links.
    std::chrono::milliseconds part_deadline{15 * 60 * 1000};
};

/// Counters that many downloads may share (atomics: jobs run on several strands).
struct transfer_counters {
    std::atomic<std::uint64_t> requests{0};  ///< HTTP requests started (attempts)
    std::atomic<std::uint64_t> retries{0};   ///< attempts after a retryable failure
    std::atomic<std::uint64_t> bytes{0};     ///< body bytes of successful attempts
};

struct download_result {
    std::uint64_t bytes = 0;    ///< size of the finished file
    storage::object_meta meta;  ///< of the object as downloaded
};

/// Download `key` into `path`: the body goes to `path` + ".tmp-<random>" in
/// the same folder (created as needed) and is renamed to `path` only when
/// every byte arrived and was checked; on any failure or cancellation the
/// temp file is removed and `path` is not touched. Every request runs as a
/// job of `pool`. Signature: `void(error_code, download_result)`; on failure
/// `diag` describes the last failed attempt.
void async_download_file(storage::object_store& store, download_pool& pool, std::string key,
                         std::filesystem::path path, download_options opts, transfer_counters& counters,
                         diagnostics& diag,
                         boost::asio::any_completion_handler<void(boost::system::error_code, download_result)> h);

/// Token-taking form of `async_download_file`.
template <class Token>
auto async_download(storage::object_store& store, download_pool& pool, std::string key,
                    std::filesystem::path path, download_options opts, transfer_counters& counters,
                    diagnostics& diag, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, download_result)>(
        [&store, &pool, &counters, &diag](auto handler, std::string key, std::filesystem::path path,
                                          download_options opts) {
            async_download_file(store, pool, std::move(key), std::move(path), std::move(opts), counters, diag,
                                std::move(handler));
        },
        token, std::move(key), std::move(path), std::move(opts));
}

}  // namespace fluss_fetch::fetch
