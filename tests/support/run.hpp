// Run one awaitable to completion on a fresh io_context (optionally with
// several threads) and return its value; exceptions propagate.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fluss_fetch::test {

/// The coroutine runs on a strand of `ioc`, as a consumer in an Asio service
/// would: with `threads` > 1 its handlers and the library's run on any thread.
template <class MakeAwaitable>
auto run_on(boost::asio::io_context& ioc, MakeAwaitable make, unsigned threads = 1) {
    auto fut = boost::asio::co_spawn(boost::asio::make_strand(ioc), make(), boost::asio::use_future);
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < threads; ++i) extra.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    ioc.restart();
    return fut.get();
}

/// Run a blocking call (e.g. fault_server::wait_for) on a thread of its own
/// and resume the calling coroutine with its result, so a test coroutine can
/// wait for something the server sees without blocking the io_context. The
/// io_context keeps running until the call has returned; the thread is
/// joined before this returns.
inline boost::asio::awaitable<bool> off_thread(std::function<bool()> blocking) {
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    std::mutex m;  // held while `t` is assigned: the thread resumes us only after that
    std::thread t;
    // Named, not a temporary inside the co_await: GCC 12 destroys the captures
    // of a lambda passed as a temporary inside a co_await expression once more
    // than it constructs them (here the strand executor: use after free).
    auto start = [&m, &t, &blocking, ex](auto handler) {
        std::lock_guard l(m);
        t = std::thread([&m, &blocking, h = std::move(handler), work = asio::make_work_guard(ex)]() mutable {
            const bool r = blocking();
            { std::lock_guard wait_for_assignment(m); }
            asio::post(work.get_executor(), [h = std::move(h), r]() mutable { std::move(h)(r); });
            work.reset();
        });
    };
    const bool r = co_await asio::async_initiate<decltype(asio::use_awaitable), void(bool)>(start, asio::use_awaitable);
    t.join();
    co_return r;
}

}  // namespace fluss_fetch::test
