// fluss_fetch — the recovery job: rebuild buckets' KV state from their
// remote logs, many at once, under one download budget.
//
//     recovery::client client(ioc.get_executor(), store, {.max_requests = 8});
//     client.async_run(asio::detached);              // owns every background coroutine
//     log::memory_kv_sink sink;
//     recovery::recovery_options o{.schema = schema};
//     auto r = co_await client.async_recover("log/db/orders-7/0", o, sink, asio::use_awaitable);
//     // sink holds bucket 0's state; r.next_offset is where the changelog goes on
//     client.cancel();                               // shutdown; async_run completes when all is gone
//
// The counterpart of what a Fluss tablet server does with its
// RemoteLogFetcher on failover, for every bucket it takes over at once:
// choose the manifest, select the segments, download them ahead (through
// one scheduler shared by every recovery of the client: one cap on
// requests in flight, one budget of bytes on disk, every bucket's head
// before any bucket's prefetch), decode each on an executor of the
// caller's choosing, apply it to a kv_sink, commit the next offset.
#pragma once

#include <fluss_fetch/error.hpp>
#include <fluss_fetch/fetch/fetcher_options.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::storage {
class object_store;
}
namespace fluss_fetch::log {
class kv_sink;
}

namespace fluss_fetch::recovery {

/// What a client shares between its recoveries.
struct client_options {
    /// HTTP requests in flight at once, over every recovery of the client.
    std::size_t max_requests = 8;
    /// Bytes of segment files on disk at once (downloading, downloaded and
    /// being decoded), over every recovery. A single segment larger than
    /// this still goes, alone. Must be > 0.
    std::uint64_t max_temp_bytes = 4ull << 30;
    /// Where each recovery makes its `remote-log-recovery-{uuid}` dir.
    /// Empty: the system temp dir.
    std::filesystem::path temp_parent;
    /// At construction, remove stale `remote-log-recovery-*` dirs under
    /// temp_parent (see fetch::fetcher_options::sweep_stale_temp_dirs).
    bool sweep_stale_temp_dirs = false;
    /// Threads of the client's own decode pool, used by recoveries whose
    /// options name no decode executor. Each recovery decodes one segment
    /// at a time; N threads decode N buckets at once. Must be ≥ 1.
    std::size_t decode_threads = 1;

    /// \throws std::invalid_argument naming the field.
    void validate() const;
};

/// One bucket's recovery.
struct recovery_options {
    log::schema schema;                            ///< the table's schema (with its primary key)
    log::log_format format = log::log_format::arrow;  ///< `table.log.format`
    /// The id of the schema `schema` describes; a batch of another id fails
    /// the recovery naming both. nullopt: take every batch's id.
    std::optional<std::int16_t> schema_id = 1;
    log::magic1_layout magic1 = log::magic1_layout::statistics;
    /// First offset to apply (the KV snapshot's log offset; 0 without one).
    std::int64_t start_offset = 0;
    /// First offset not to apply. nullopt: the end of the manifest's log.
    std::optional<std::int64_t> stop_offset;
    /// The manifest's key (relative to the store). Empty: the newest
    /// `*.manifest` under the tablet's `metadata/`, the one reaching
    /// furthest among equally new ones.
    std::string manifest_key;
    /// A manifest the caller read itself (from anywhere); wins over
    /// manifest_key. It must describe this tablet.
    std::optional<log::remote_log_manifest> manifest;
    /// This recovery's window (`prefetch_num`), its own request cap
    /// (`download_threads`, within the client's `max_requests`), retries,
    /// part size and timeouts. `temp_parent` and `sweep_stale_temp_dirs`
    /// are the client's.
    fetch::fetcher_options fetch;
    /// Where segments are decoded and applied (never on the I/O threads).
    /// Empty: the client's decode pool.
    std::optional<boost::asio::any_io_executor> decode_executor;
};

/// What a recovery did.
struct recovery_stats {
    std::string tablet_dir;         ///< the tablet recovered
    std::string manifest_key;       ///< the manifest it used
    std::int64_t start_offset = 0;
    std::int64_t next_offset = 0;   ///< first offset not applied: where the changelog goes on
    std::uint64_t segments = 0;     ///< segments applied (and committed)
    log::apply_stats apply;         ///< batches and records by change type
    fetch::stream_stats download;   ///< requests, retries, bytes, fallbacks, waits
    std::chrono::nanoseconds decode_time{0};  ///< decoding and applying, sink included
    /// When it failed: one line naming the tablet, the segment, the key, and
    /// the S3 code and HTTP status or the offset and problem. Empty on success.
    std::string error;
};

/// Figures of a whole client, as it runs (read at any time, any thread).
struct client_stats {
    std::size_t recoveries_running = 0;
    std::uint64_t recoveries_done = 0;    ///< completed, successfully or not
    std::uint64_t segments_applied = 0;
    std::uint64_t bytes_downloaded = 0;
    std::uint64_t bytes_planned = 0;      ///< sizes of every selected segment so far
    std::size_t requests_in_flight = 0;   ///< now, at the shared scheduler
    std::uint64_t temp_bytes_reserved = 0;  ///< now, at the shared scheduler
};

struct client_core;

/// Owns every background coroutine of its recoveries and the download
/// scheduler they share.
///
/// \par Running
/// `async_run` must be started before `async_recover` (a recovery started
/// otherwise completes at once with `errc::not_running`). It completes —
/// signature `void(error_code)`, no error — once the client was stopped
/// (`cancel()`, or terminal/partial/total cancellation of async_run's own
/// token) and every recovery has completed, every download has stopped,
/// every temp dir is gone. Nothing is detached: when async_run has
/// completed, no coroutine of the client is left.
///
/// \par Object lifetimes
/// The store and the client must outlive async_run's completion; every
/// kv_sink must outlive its async_recover's completion.
///
/// \par Thread safety
/// Every member may be called from any thread.
class client {
public:
    /// \throws std::invalid_argument for bad options.
    client(boost::asio::any_io_executor ex, storage::object_store& store, client_options opts = {});
    /// Stops the client (as `cancel()`); does not wait.
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    template <class Token>
    auto async_run(Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler) { do_run(std::move(handler)); }, token);
    }

    /// Stop: every recovery completes with operation_aborted (its temp files
    /// removed), and async_run completes once all of them have.
    void cancel();

    using recover_signature = void(boost::system::error_code, recovery_stats);

    /// Recover the tablet whose remote dir (relative to the store) is
    /// `tablet_dir` into `sink`. Signature `void(error_code, recovery_stats)`.
    ///
    /// Errors (with `recovery_stats::error` saying where): the store's
    /// (no manifest: `no_such_key`; a download that failed after its
    /// retries and the consumer's fallback: the S3 one), `no_remote_segments`
    /// / `offset_gap` (lost offsets, before any download), `bad_log` (a
    /// batch, record or row refused by the reader), `sink_failed`,
    /// `invalid_argument` (bad options, or a manifest of another tablet),
    /// `not_running`, `operation_aborted`.
    ///
    /// \par Cancellation
    /// Terminal, partial or total cancellation through the token's slot ends
    /// this recovery only (operation_aborted once its downloads have stopped
    /// and its files are gone). The sink keeps what was committed.
    template <class Token>
    auto async_recover(std::string tablet_dir, recovery_options opts, log::kv_sink& sink, Token&& token) {
        return boost::asio::async_initiate<Token, recover_signature>(
            [this, &sink](auto handler, std::string tablet_dir, recovery_options opts) {
                do_recover(std::move(tablet_dir), std::move(opts), sink, std::move(handler));
            },
            token, std::move(tablet_dir), std::move(opts));
    }

    /// The tablet dirs under `dir` (relative to the store): `dir` itself when
    /// it is a tablet dir, else every tablet under it (a table dir: its
    /// buckets, or every partition's buckets; a partition dir: its buckets)
    /// that has a `metadata/` dir with a manifest, sorted (partition, then
    /// bucket number). Signature `void(error_code, std::vector<std::string>)`;
    /// none found is `errc::no_remote_segments` naming `dir`.
    template <class Token>
    auto async_find_tablets(std::string dir, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::vector<std::string>)>(
            [this](auto handler, std::string dir) { do_find_tablets(std::move(dir), std::move(handler)); }, token,
            std::move(dir));
    }

    client_stats stats() const;
    const client_options& options() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

private:
    void do_run(boost::asio::any_completion_handler<void(boost::system::error_code)> h);
    void do_recover(std::string tablet_dir, recovery_options opts, log::kv_sink& sink,
                    boost::asio::any_completion_handler<recover_signature> h);
    void do_find_tablets(std::string dir,
                         boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<std::string>)> h);
    std::shared_ptr<client_core> core_;
};

}  // namespace fluss_fetch::recovery
