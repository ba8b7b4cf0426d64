// fluss_fetch — the remote log fetcher: a bucket's remote log segments,
// downloaded ahead through a bounded window, handed over in offset order.
//
//     fluss_fetch::fetch::remote_log_fetcher fetcher(ioc.get_executor(), store, opts);
//     auto stream = fetcher.fetch(tablet_dir, segments, snapshot_offset);
//     while (auto seg = co_await stream.async_next(asio::use_awaitable)) {
//         replay(seg->path(), seg->read_start_offset(), seg->read_end_offset());
//     }   // each file is deleted when its downloaded_segment goes
//     co_await fetcher.async_close(asio::use_awaitable);
//
// The counterpart of Apache Fluss's RemoteLogFetcher (KV recovery).
#pragma once

#include <fluss_fetch/error.hpp>
#include <fluss_fetch/fetch/retry.hpp>
#include <fluss_fetch/log/remote_log_segment.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::storage {
class object_store;
}

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

/// A downloaded segment file. Owns the file: deletes it when destroyed
/// (unless `release()`d). The file lives in the fetcher's temp dir, which
/// the fetcher removes when it closes.
class downloaded_segment {
public:
    downloaded_segment(log::remote_log_segment seg, std::string key, std::filesystem::path path, std::uint64_t size,
                       std::int64_t read_start, std::int64_t read_end) noexcept;
    downloaded_segment(downloaded_segment&& other) noexcept;
    downloaded_segment& operator=(downloaded_segment&& other) noexcept;
    downloaded_segment(const downloaded_segment&) = delete;
    downloaded_segment& operator=(const downloaded_segment&) = delete;
    ~downloaded_segment();

    const log::remote_log_segment& segment() const noexcept { return seg_; }
    const std::string& key() const noexcept { return key_; }               ///< object key it came from
    const std::filesystem::path& path() const noexcept { return path_; }   ///< local file (empty once released)
    std::uint64_t size() const noexcept { return size_; }                   ///< bytes in the file

    /// The offsets a reader uses of this file: [read_start_offset, read_end_offset),
    /// the segment's logical range clipped to the fetch's [start, stop).
    /// Batches ending at or before read_start_offset are skipped; reading stops
    /// at the first batch that starts at or after read_end_offset.
    std::int64_t read_start_offset() const noexcept { return read_start_; }
    std::int64_t read_end_offset() const noexcept { return read_end_; }

    /// Give up ownership: the file is no longer deleted by this object.
    std::filesystem::path release() noexcept;

private:
    void remove_file() noexcept;
    log::remote_log_segment seg_;
    std::string key_;
    std::filesystem::path path_;
    std::uint64_t size_ = 0;
    std::int64_t read_start_ = 0, read_end_ = 0;
};

/// The segments of `[start_offset, stop_offset)` as Fluss's recovery reads
/// them: the segment whose logical range contains `start_offset`, then every
/// later one (by logical start) whose logical start is below `stop_offset`.
/// Segments with an empty logical range are skipped.
/// \throws boost::system::system_error: `errc::invalid_argument` for a
/// malformed segment or a duplicate id (naming it), `errc::no_remote_segments`
/// when no segment contains `start_offset` (naming the range and what is there).
std::vector<log::remote_log_segment> select_segments(std::vector<log::remote_log_segment> segments,
                                                     std::int64_t start_offset, std::int64_t stop_offset);

struct stream_core;
struct fetcher_core;

/// The segments of one `fetch()`, downloaded ahead and handed over in offset
/// order. Move-only handle; destroying it closes the stream (without waiting).
///
/// \par Thread safety
/// One `async_next` at a time. `async_close`, `stats` and `last_error` may be
/// called from any thread.
class segment_stream {
public:
    using next_signature = void(boost::system::error_code, std::optional<downloaded_segment>);

    segment_stream(segment_stream&&) noexcept;
    segment_stream& operator=(segment_stream&&) noexcept;
    segment_stream(const segment_stream&) = delete;
    segment_stream& operator=(const segment_stream&) = delete;
    ~segment_stream();

    /// The next segment in offset order, or an empty optional at the end.
    /// Signature: `void(error_code, std::optional<downloaded_segment>)`.
    ///
    /// Errors: the segment's download failed after its retries and one more
    /// round on the consumer's path (`last_error()` names segment, key, S3 code
    /// and HTTP status; the stream is then closed and every file deleted, and
    /// later calls repeat the error); `operation_aborted` when the stream was
    /// closed or ended by a newer `fetch()`, or when this call was cancelled
    /// through its token.
    ///
    /// \par Cancellation
    /// Terminal, partial and total cancellation through the token's slot end
    /// only this call; the downloads go on. A cancelled call takes nothing:
    /// when the cancellation reaches the call before its handler is invoked —
    /// also after the segment was ready, while the result was on its way — the
    /// handler gets `operation_aborted` and an empty optional, and the segment
    /// stays the head: the next call returns it (same file, same order). Only a
    /// cancellation that comes after the handler has been invoked is too late;
    /// then the caller has the segment. The check is made on the handler's
    /// associated executor just before the handler runs, so when the
    /// cancellation is emitted on that executor too — `co_await
    /// (stream.async_next(use_awaitable) || timer.async_wait(use_awaitable))`
    /// in a coroutine on a strand, or on an io_context run by one thread — no
    /// segment is ever lost: `||` throws away only results of calls it had
    /// cancelled first. (A coroutine on the executor of an io_context run by
    /// several threads lets the two sides of `||` run at once on different
    /// threads; there the timer can win while the segment is already being
    /// handed over, and `||` drops it. Use a strand.)
    template <class Token>
    auto async_next(Token&& token) {
        return boost::asio::async_initiate<Token, next_signature>(
            [this](auto handler) { do_next(std::move(handler)); }, token);
    }

    /// Cancel every download of the stream, wait until none can run or
    /// write again, delete every file not yet handed over. Signature: `void()`.
    template <class Token>
    auto async_close(Token&& token) {
        return boost::asio::async_initiate<Token, void()>([this](auto handler) { do_close(std::move(handler)); },
                                                          token);
    }

    /// The relevant segments, in the order they are handed over.
    const std::vector<log::remote_log_segment>& segments() const noexcept;
    std::int64_t start_offset() const noexcept;
    std::int64_t stop_offset() const noexcept;

    stream_stats stats() const;
    /// What the last failed `async_next` failed on (segment, key, S3 code, status).
    diagnostics last_error() const;

private:
    friend class remote_log_fetcher;
    explicit segment_stream(std::shared_ptr<stream_core> core) noexcept;
    void do_next(boost::asio::any_completion_handler<next_signature> h);
    void do_close(boost::asio::any_completion_handler<void()> h);
    std::shared_ptr<stream_core> core_;
};

/// Downloads a bucket's remote log segments from an object store (S3 or a
/// local remote.data.dir) into a temp dir of its own,
/// `{temp_parent}/remote-log-recovery-{uuid}`, made at construction.
///
/// Every HTTP request runs on one of `effective_download_threads()` workers
/// (strands of the executor), so the requests in flight never exceed that,
/// however many threads run the io_context.
///
/// \par Object lifetimes
/// `store` must outlive the fetcher's operations: until `async_close`
/// completes, or, when the fetcher is destroyed without closing, until the
/// io_context has run the cancelled operations out (destruction cancels
/// everything and never blocks; the temp dir is removed once the last
/// download has stopped).
class remote_log_fetcher {
public:
    /// \throws std::invalid_argument for bad options, std::system_error when the temp dir cannot be made.
    remote_log_fetcher(boost::asio::any_io_executor ex, storage::object_store& store, fetcher_options opts = {});
    ~remote_log_fetcher();
    remote_log_fetcher(const remote_log_fetcher&) = delete;
    remote_log_fetcher& operator=(const remote_log_fetcher&) = delete;

    /// Start downloading the segments of `[start_offset, stop_offset)` of the
    /// tablet whose remote dir (relative to the store's root) is `tablet_dir`
    /// (see log::remote_log_tablet_dir). Downloads start at once. Ends the
    /// stream of an earlier `fetch()`: its `async_next` reports
    /// operation_aborted from then on and it starts no more downloads.
    /// \throws boost::system::system_error as `select_segments` does, and
    /// operation_aborted once the fetcher is closing.
    segment_stream fetch(std::string tablet_dir, std::vector<log::remote_log_segment> segments,
                         std::int64_t start_offset,
                         std::int64_t stop_offset = std::numeric_limits<std::int64_t>::max());

    /// End the current stream, wait until no download of this fetcher can
    /// run or write again, then remove the temp dir. Signature: `void()`.
    template <class Token>
    auto async_close(Token&& token) {
        return boost::asio::async_initiate<Token, void()>([this](auto handler) { do_close(std::move(handler)); },
                                                          token);
    }

    const std::filesystem::path& temp_dir() const noexcept;
    const fetcher_options& options() const noexcept;

private:
    void do_close(boost::asio::any_completion_handler<void()> h);
    std::shared_ptr<fetcher_core> core_;
};

/// Remove the `remote-log-recovery-*` dirs under `parent` that no live
/// fetcher holds (see `fetcher_options::sweep_stale_temp_dirs`). Returns how
/// many were removed; a dir that cannot be removed is logged and skipped.
std::size_t sweep_stale_temp_dirs(const std::filesystem::path& parent,
                                  std::chrono::seconds unlocked_min_age = std::chrono::hours(1));

}  // namespace fluss_fetch::fetch
