// Run one awaitable to completion on a fresh io_context (optionally with
// several threads) and return its value; exceptions propagate.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

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

}  // namespace fluss_fetch::test
