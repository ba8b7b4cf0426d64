// Run one awaitable to completion on a fresh io_context (optionally with
// several threads) and return its value; exceptions propagate.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <functional>
#include <thread>
#include <vector>

namespace fluss_fetch::test {

template <class MakeAwaitable>
auto run_on(boost::asio::io_context& ioc, MakeAwaitable make, unsigned threads = 1) {
    auto fut = boost::asio::co_spawn(ioc, make(), boost::asio::use_future);
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
/// io_context keeps running until the call has returned.
inline boost::asio::awaitable<bool> off_thread(std::function<bool()> blocking) {
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(bool)>(
        [ex](auto handler, std::function<bool()> f) {
            auto work = asio::make_work_guard(ex);
            std::thread([f = std::move(f), h = std::move(handler), work = std::move(work)]() mutable {
                const bool r = f();
                f = nullptr;
                auto ex = work.get_executor();
                asio::post(ex, [h = std::move(h), r]() mutable { std::move(h)(r); });
                work.reset();
            }).detach();
        },
        asio::use_awaitable, std::move(blocking));
}

}  // namespace fluss_fetch::test
