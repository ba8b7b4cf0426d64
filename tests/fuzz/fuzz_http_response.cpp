// Fuzz target: the HTTP response path of the S3 client. The fault server
// answers one real request of a real s3_store with the fuzz input, byte for
// byte, then closes the connection. The first input byte picks the request:
// GET, ranged GET, HEAD or LIST. Contract: the operation completes (no hang:
// every timeout is short), with an error code or with exactly the promised
// bytes; never a crash, a leak or a body handed on that is longer or shorter
// than what the response declared.
#include "support/fault_server.hpp"

#include <fluss_fetch/storage/s3_store.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
using namespace fluss_fetch;
using namespace fluss_fetch::storage;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

// A completion handler that hands (error code, value) to the calling thread
// through a promise. Not use_future: that carries errors as an exception_ptr
// whose reference count libstdc++ drops with atomics ThreadSanitizer cannot
// see, so TSan reports the exception's release on the I/O thread as a race
// with the catch block on this one.
// The handler shares the promise, so it stays alive until the handler is done.
template <class T>
struct outcome {
    using value_type = std::pair<boost::system::error_code, T>;
    std::shared_ptr<std::promise<value_type>> promise = std::make_shared<std::promise<value_type>>();
    std::future<value_type> future = promise->get_future();
    auto handler() {
        return [p = promise](boost::system::error_code ec, T value) { p->set_value({ec, std::move(value)}); };
    }
    value_type get() { return future.get(); }
};

struct harness {
    test::fault_server server{1};
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::unique_ptr<s3_store> store;
    std::thread runner;

    harness() {
        server.put_object("b", "obj", std::string(64, 'x'));
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.credentials = s3_credentials{"AK", "SK", ""};
        o.connect_timeout = std::chrono::milliseconds(2000);
        o.first_byte_timeout = std::chrono::milliseconds(2000);
        o.stall_timeout = std::chrono::milliseconds(2000);
        o.max_idle_connections = 0;  // every request on a fresh connection: one input, one answer
        o.io_buffer_size = 256 * 1024;
        store = std::make_unique<s3_store>(ioc.get_executor(), o);
        runner = std::thread([this] { ioc.run(); });
    }
    ~harness() {
        store.reset();
        work.reset();
        runner.join();
    }
};

harness& the_harness() {
    static harness h;  // lives for the whole fuzzing run
    return h;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    harness& h = the_harness();
    test::fault f;
    f.what = test::fault::kind::raw;
    f.raw.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    h.server.add_fault(std::move(f));

    diagnostics diag;
    switch (data[0] % 4) {
    case 0:
    case 1: {
        const bool ranged = data[0] % 4 == 1;
        get_options opts;
        if (ranged) opts.range = byte_range{3, 10};
        std::string body;
        string_sink sink(body);
        outcome<get_result> o;
        h.store->async_get("obj", opts, sink, diag, o.handler());
        auto [ec, result] = o.get();
        if (!ec) {
            check(result.bytes == body.size());
            if (ranged) check(result.bytes == 10 && result.meta.size >= 13);
            else check(result.meta.size == result.bytes);
        } else {
            (void)diag.to_string(ec);
        }
        break;
    }
    case 2: {
        outcome<object_meta> o;
        h.store->async_head("obj", diag, o.handler());
        auto [ec, meta] = o.get();
        if (ec) (void)diag.to_string(ec);
        break;
    }
    default: {
        outcome<std::vector<object_entry>> o;
        h.store->async_list("", diag, o.handler());
        auto [ec, entries] = o.get();
        if (ec) (void)diag.to_string(ec);
        break;
    }
    }
    // A fault the request never reached (it failed before the server read it)
    // must not answer the next input's request.
    check(h.server.faults_left() == 0);
    return 0;
}
