// Cancellation latency: time from remote_log_fetcher::async_close to its
// completion while three downloads are stalled mid-body and a fourth waits in
// a 60 s backoff; files left afterwards (must be 0).
//   fluss-bench-cancel [--rounds 20]
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fluss_fetch;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    int rounds = 20;
    if (argc == 3 && std::string(argv[1]) == "--rounds") rounds = std::max(1, std::atoi(argv[2]));
    const std::string tablet = log::remote_log_tablet_dir({"bench", "t", 1, {}, {}, 0});
    std::vector<double> ms;
    std::size_t files_left = 0, aborts_missing = 0;
    for (int round = 0; round < rounds; ++round) {
        test::fault_server server(2);
        std::vector<log::remote_log_segment> segs;
        for (int i = 0; i < 6; ++i) {
            char id[40];
            std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
            segs.push_back(log::remote_log_segment::physical(id, 10 * i, 10 * i + 10, 4u << 20));
            const auto key = log::remote_log_segment_key(tablet, id, 10 * i);
            server.put_object("b", key, std::string(4u << 20, 'x'));
            if (i < 3) server.add_fault({.what = test::fault::kind::stall_after, .key = key, .bytes = 1u << 20});
            if (i == 3) server.add_fault({test::fault::kind::status, key, 503, "SlowDown"});
        }
        asio::io_context ioc;
        storage::s3_options so;
        so.endpoint = server.endpoint();
        so.bucket = "b";
        so.credentials = storage::s3_credentials{"AK", "SK", ""};
        so.stall_timeout = 60s;
        storage::s3_store store(ioc.get_executor(), so);
        test::temp_dir tmp("cancel");
        fetch::fetcher_options o;
        o.prefetch_num = 4;
        o.download_threads = 4;
        o.temp_parent = tmp.path();
        o.retry.initial_backoff = 60s;
        o.retry.max_backoff = 60s;
        fetch::remote_log_fetcher fetcher(ioc.get_executor(), store, o);
        const double took = test::run_on(
            ioc,
            [&]() -> asio::awaitable<double> {
                auto s = fetcher.fetch(tablet, segs, 0);
                co_await test::off_thread([&] {
                    return server.wait_for(
                        [&] { return server.in_flight() == 3 && server.completed_for(log::remote_log_segment_key(
                                                                    tablet, segs[3].segment_id, 30)) == 1; },
                        20s);
                });
                const auto t0 = std::chrono::steady_clock::now();
                co_await fetcher.async_close(asio::use_awaitable);
                co_return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            },
            2);
        ms.push_back(took);
        for (auto it = fs::recursive_directory_iterator(tmp.path()); it != fs::recursive_directory_iterator(); ++it)
            files_left += it->is_regular_file();
        if (!server.wait_for([&] { return server.client_aborts() >= 3; }, 5s)) ++aborts_missing;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("| rounds | close → done, median ms | min ms | max ms | files left | rounds with a stalled connection left open |\n");
    std::printf("|---|---|---|---|---|---|\n");
    std::printf("| %d | %.2f | %.2f | %.2f | %zu | %zu |\n", rounds, ms[ms.size() / 2], ms.front(), ms.back(), files_left,
                aborts_missing);
    return files_left == 0 && aborts_missing == 0 ? 0 : 1;
}
