// The fault server's shaping that the many-buckets benchmark relies on
// (benchmarks/recovery/buckets.cpp): a bandwidth cap shared by every
// connection (a tablet server's NIC), and the most connections open at once.
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

asio::awaitable<std::size_t> get_one(s3_store& store, std::string key) {
    std::string received;
    string_sink sink(received);
    get_options whole;
    diagnostics d;
    auto [ec, r] = co_await store.async_get(key, whole, sink, d, use_tuple);
    EXPECT_FALSE(ec) << d.to_string(ec);
    co_return received.size();
}

// Three GETs of 200 kB at once under a total cap of 1.2 MB/s and no cap per
// connection: together they cannot finish before 600 kB / 1.2 MB/s = 0.5 s
// (less the 10 ms burst and one 16 KiB chunk; 0.4 s leaves slack), where
// unshaped loopback takes milliseconds. The server saw three connections open
// at once, and none once the store is gone.
TEST(fault_server_shaping, a_total_cap_holds_over_all_connections) {
    test::fault_server server;
    const std::string body(200'000, 'x');
    for (int i = 0; i < 3; ++i) server.put_object("b", "k" + std::to_string(i), body);
    server.set_bandwidth_total(1'200'000);
    asio::io_context ioc;
    {
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.credentials = s3_credentials{"AK", "SK", ""};
        s3_store store(ioc.get_executor(), o);
        std::vector<std::future<std::size_t>> got;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 3; ++i) got.push_back(asio::co_spawn(ioc, get_one(store, "k" + std::to_string(i)), asio::use_future));
        ioc.run();
        const auto took = std::chrono::steady_clock::now() - t0;
        for (auto& g : got) EXPECT_EQ(g.get(), body.size());
        EXPECT_GE(took, std::chrono::milliseconds(400));
        EXPECT_LT(took, std::chrono::seconds(5));
        EXPECT_EQ(server.max_in_flight(), 3u);
        EXPECT_EQ(server.max_open_connections(), 3u);
    }
    EXPECT_TRUE(server.wait_for([&] { return server.open_connections() == 0; }, std::chrono::seconds(10)));
    server.reset_peaks();
    EXPECT_EQ(server.max_open_connections(), 0u);
    EXPECT_EQ(server.max_in_flight(), 0u);
    EXPECT_EQ(server.connections(), 3u);
}

}  // namespace
