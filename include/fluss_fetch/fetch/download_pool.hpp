// fluss_fetch — the download pool: at most N requests in flight, on strands.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>

namespace fluss_fetch::fetch {

class download_pool;

/// A unit of work for the pool: one HTTP request (with its own retries).
/// Runs on a worker's strand; must honour the coroutine's cancellation.
using download_job = std::function<boost::asio::awaitable<boost::system::error_code>()>;

/// One stream's share of a pool (a lane of its schedule, fetch/schedule.hpp):
/// a window of `prefetch_num` segments and a request cap of its own within
/// the pool's. Made by `download_pool::open_lane`; held by `shared_ptr` by
/// the stream, its jobs and its byte holds. When the last holder lets go the
/// lane closes: its queued jobs and a pending admission complete with
/// operation_aborted.
///
/// \par Thread safety
/// Every member may be called from any thread.
class download_lane : public std::enable_shared_from_this<download_lane> {
public:
    ~download_lane();
    download_lane(const download_lane&) = delete;
    download_lane& operator=(const download_lane&) = delete;

    /// Wait until the lane's next segment, of `bytes`, may enter its window:
    /// the window has room, the pool's byte budget has `bytes` (or nothing at
    /// all is reserved), and no lane's segment of smaller depth waits. Once
    /// it completes without error the bytes are reserved until `release`.
    /// One at a time per lane. Signature: `void(error_code)`; terminal,
    /// partial or total cancellation withdraws the request (nothing reserved,
    /// operation_aborted), as does closing the pool.
    template <class Token>
    auto async_admit(std::uint64_t bytes, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, std::uint64_t bytes) { do_admit(bytes, std::move(handler)); }, token, bytes);
    }

    /// The lane's head segment was taken by its consumer (a window slot frees).
    void consumed();
    /// Bytes of an admission are free again (the file is gone, or was never made).
    void release(std::uint64_t bytes);

    std::uint64_t id() const noexcept { return id_; }

private:
    friend class download_pool;
    download_lane(std::shared_ptr<void> pool, std::uint64_t id) noexcept;
    void do_admit(std::uint64_t bytes, boost::asio::any_completion_handler<void(boost::system::error_code)> h);
    std::shared_ptr<void> pool_;  // the pool's impl
    std::uint64_t id_;
};

/// Which lane a job belongs to and the position (0-based, in the lane's
/// order) of the segment it is a request of: the pool runs the job of least
/// depth (seq − segments the lane's consumer took) first, then the earliest.
struct job_tag {
    std::shared_ptr<download_lane> lane;
    std::uint64_t seq = 0;
};

/// A pool of `workers` download workers, each on its own strand of the
/// executor, each running one job at a time. Every request of the fetcher and
/// of fluss-get runs as a job here, so requests in flight never exceed
/// `workers` whatever the number of threads running the io_context.
///
/// The pool is a download scheduler too (fetch/schedule.hpp): streams that
/// share it each open a lane, and the pool decides which request runs next
/// (every lane's head before any lane's prefetch; a lane at its own cap does
/// not hold the others up) and which segment may enter its lane's window
/// under one byte budget (`max_bytes`). Jobs submitted without a tag run in a
/// lane of their own, in submission order.
///
/// Cancelling a submission (terminal cancellation through the token's slot)
/// removes a queued job, or cancels a running one; either way the submission
/// completes with operation_aborted (or the job's own error) once the job can
/// no longer run.
///
/// \par Object lifetimes
/// `async_close` (or the destructor) cancels every queued and running job and
/// every pending admission; the close completes once no job of the pool is
/// running. Lanes may outlive the pool (they then do nothing).
class download_pool {
public:
    /// \throws std::invalid_argument when `workers` is 0.
    download_pool(boost::asio::any_io_executor ex, std::size_t workers,
                  std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());
    ~download_pool();

    download_pool(const download_pool&) = delete;
    download_pool& operator=(const download_pool&) = delete;

    std::size_t workers() const noexcept;
    std::uint64_t max_bytes() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

    /// A new lane: a window of `prefetch_num` segments, at most
    /// `max_requests` of its jobs running at once (both clamped to ≥ 1).
    std::shared_ptr<download_lane> open_lane(std::size_t prefetch_num, std::size_t max_requests);

    /// Jobs running now, jobs queued, bytes reserved by admissions.
    std::size_t running() const;
    std::size_t queued() const;
    std::uint64_t reserved_bytes() const;

    /// Run `job` on a worker once one is free. Signature: `void(error_code)`.
    template <class Token>
    auto async_submit(download_job job, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, download_job job) { do_submit(std::move(job), std::move(handler)); }, token,
            std::move(job));
    }

    /// Run `job`, a request of segment `tag.seq` of `tag.lane`, once the
    /// schedule picks it. Signature: `void(error_code)`.
    template <class Token>
    auto async_submit(download_job job, job_tag tag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, download_job job, job_tag tag) {
                do_submit(std::move(job), std::move(handler), false, std::move(tag));
            },
            token, std::move(job), std::move(tag));
    }

    /// Like `async_submit`, but the job goes ahead of every queued job of
    /// the untagged lane (the latest such job first).
    template <class Token>
    auto async_submit_first(download_job job, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, download_job job) { do_submit(std::move(job), std::move(handler), true); }, token,
            std::move(job));
    }

    /// Cancel every job and complete when none is running. Signature: `void()`.
    template <class Token>
    auto async_close(Token&& token) {
        return boost::asio::async_initiate<Token, void()>(
            [this](auto handler) { do_close(std::move(handler)); }, token);
    }

    struct impl;

private:
    void do_submit(download_job job, boost::asio::any_completion_handler<void(boost::system::error_code)> h,
                   bool first = false, job_tag tag = {});
    void do_close(boost::asio::any_completion_handler<void()> h);
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::fetch
