// Uses the installed headers and library: opens a file:// store and GETs an
// object through the public API with a callback token, and prints the
// installed (generated) version header's version.
#include <fluss_fetch/storage/local_store.hpp>
#include <fluss_fetch/version.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <fstream>
#include <string>

static_assert(FLUSS_FETCH_VERSION_MAJOR >= 0 && FLUSS_FETCH_VERSION_MINOR >= 0 && FLUSS_FETCH_VERSION_PATCH >= 0);
static_assert(FLUSS_FETCH_VERSION ==
              FLUSS_FETCH_VERSION_MAJOR * 10000 + FLUSS_FETCH_VERSION_MINOR * 100 + FLUSS_FETCH_VERSION_PATCH);

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const std::string dir = argv[1];
    std::ofstream(dir + "/hello.txt") << "hello from an installed fluss_fetch";
    boost::asio::io_context ioc;
    fluss_fetch::storage::local_store store(ioc.get_executor(), dir);
    std::string body;
    fluss_fetch::storage::string_sink sink(body);
    fluss_fetch::diagnostics diag;
    boost::system::error_code result = fluss_fetch::errc::http_error;
    store.async_get("hello.txt", {}, sink, diag,
                    [&](boost::system::error_code ec, fluss_fetch::storage::get_result) { result = ec; });
    ioc.run();
    if (result || body != "hello from an installed fluss_fetch") {
        std::fprintf(stderr, "consumer: %s\n", diag.to_string(result).c_str());
        return 1;
    }
    std::printf("consumer: ok, fluss_fetch %s (%d.%d.%d)\n", FLUSS_FETCH_VERSION_STRING, FLUSS_FETCH_VERSION_MAJOR,
                FLUSS_FETCH_VERSION_MINOR, FLUSS_FETCH_VERSION_PATCH);
    return 0;
}
