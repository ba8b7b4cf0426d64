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
#include <fluss_fetch/fetch/downloaded_segment.hpp>
#include <fluss_fetch/fetch/fetcher_options.hpp>
#include <fluss_fetch/fetch/select.hpp>
#include <fluss_fetch/fetch/temp_dir.hpp>
#include <fluss_fetch/log/remote_log_segment.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::storage {
class object_store;
}

namespace fluss_fetch::fetch {

class download_pool;
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
/// Fetchers may share one download_pool (the recovery client's scheduler):
/// each stream is then a lane of it, with its window and its own request cap
/// (`effective_download_threads()`) within the pool's cap, and each segment
/// reserves its size from the pool's byte budget from admission until its
/// file is gone. Every lane's head goes before any lane's prefetch.
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
    /// A fetcher whose downloads go through `pool`, shared with others (see
    /// above). Closing the fetcher does not close the pool. \throws as above,
    /// and std::invalid_argument for a null pool.
    remote_log_fetcher(boost::asio::any_io_executor ex, storage::object_store& store, fetcher_options opts,
                       std::shared_ptr<download_pool> pool);
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

}  // namespace fluss_fetch::fetch
