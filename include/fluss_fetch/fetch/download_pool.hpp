// fluss_fetch — the download pool: at most N requests in flight, on strands.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace fluss_fetch::fetch {

/// A unit of work for the pool: one HTTP request (with its own retries).
/// Runs on a worker's strand; must honour the coroutine's cancellation.
using download_job = std::function<boost::asio::awaitable<boost::system::error_code>()>;

/// A pool of `workers` download workers, each on its own strand of the
/// executor, each running one job at a time. Every request of the fetcher and
/// of fluss-get runs as a job here, so requests in flight never exceed
/// `workers` whatever the number of threads running the io_context.
///
/// Jobs are taken in submission order. Cancelling a submission (terminal
/// cancellation through the token's slot) removes a queued job, or cancels a
/// running one; either way the submission completes with operation_aborted
/// (or the job's own error) once the job can no longer run.
///
/// \par Object lifetimes
/// `async_close` (or the destructor) cancels every queued and running job;
/// the close completes once no job of the pool is running.
class download_pool {
public:
    download_pool(boost::asio::any_io_executor ex, std::size_t workers);
    ~download_pool();

    download_pool(const download_pool&) = delete;
    download_pool& operator=(const download_pool&) = delete;

    std::size_t workers() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

    /// Run `job` on a worker once one is free. Signature: `void(error_code)`.
    template <class Token>
    auto async_submit(download_job job, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, download_job job) { do_submit(std::move(job), std::move(handler)); }, token,
            std::move(job));
    }

    /// Like `async_submit`, but the job goes ahead of every queued job (the
    /// fetcher uses it for the segment the consumer is waiting on).
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
                   bool first = false);
    void do_close(boost::asio::any_completion_handler<void()> h);
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::fetch
