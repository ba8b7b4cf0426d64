// An in-memory object_store whose every GET answer a test decides: what to
// write to the sink, how many bytes to report, what size and ETag to claim,
// or which error to fail with. Records each call (key, options, when), so a
// test can look at attempts and the time between them. Only GET is served.
#pragma once

#include <fluss_fetch/storage/object_store.hpp>

#include "core/async_op.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace fluss_fetch::test {

class fake_store final : public storage::object_store {
public:
    struct call {
        std::string key;
        storage::get_options opts;
        std::chrono::steady_clock::time_point at;
        int index = 0;  ///< 0 for the first GET the store saw
    };

    /// What one GET does. The bytes written are the stored object's, from the
    /// range's offset (or 0); `report` is what the result claims was written.
    struct answer {
        boost::system::error_code ec;
        std::uint64_t write = 0;
        std::uint64_t report = 0;
        std::uint64_t size = 0;  ///< the whole object's size the result claims
        std::string etag = "\"fake\"";
    };

    /// An honest answer for `c`: the range (clipped to the object) or the whole object.
    answer honest(const call& c) const {
        answer a;
        const std::uint64_t from = c.opts.range ? std::min<std::uint64_t>(c.opts.range->offset, object_.size()) : 0;
        const std::uint64_t len = c.opts.range
                                      ? std::min<std::uint64_t>(c.opts.range->length, object_.size() - from)
                                      : object_.size();
        a.write = a.report = len;
        a.size = object_.size();
        return a;
    }

    using behaviour = std::function<answer(const call&)>;

    fake_store(executor_type ex, std::string object, behaviour b)
        : ex_(std::move(ex)), object_(std::move(object)), behaviour_(std::move(b)) {}

    executor_type get_executor() const noexcept override { return ex_; }
    std::string describe() const override { return "fake://store"; }

    std::vector<call> calls() const {
        std::lock_guard l(mutex_);
        return calls_;
    }
    const std::string& object() const noexcept { return object_; }

protected:
    void do_get(std::string key, storage::get_options opts, storage::byte_sink& sink, diagnostics& diag,
                get_handler h) override {
        call c;
        {
            std::lock_guard l(mutex_);
            c.key = std::move(key);
            c.opts = std::move(opts);
            c.at = std::chrono::steady_clock::now();
            c.index = static_cast<int>(calls_.size());
            calls_.push_back(c);
        }
        const answer a = behaviour_(c);
        storage::get_result r;
        r.bytes = a.report;
        r.meta.size = a.size;
        r.meta.etag = a.etag;
        boost::system::error_code ec = a.ec;
        if (!ec && a.write > 0) {
            const std::uint64_t from = c.opts.range ? c.opts.range->offset : 0;
            const std::uint64_t n = std::min<std::uint64_t>(a.write, object_.size() - std::min<std::uint64_t>(from, object_.size()));
            ec = sink.write(reinterpret_cast<const std::byte*>(object_.data() + from), static_cast<std::size_t>(n));
        }
        if (ec) {
            diag.message = "fake store: " + ec.message();
            r = {};
        }
        detail::post_completion(ex_, std::move(h), ec, r);
    }
    void do_head(std::string, diagnostics&, head_handler h) override {
        detail::post_completion(ex_, std::move(h), make_error_code(errc::invalid_argument), storage::object_meta{});
    }
    void do_list(std::string, diagnostics&, list_handler h) override {
        detail::post_completion(ex_, std::move(h), make_error_code(errc::invalid_argument),
                                std::vector<storage::object_entry>{});
    }
    void do_put(std::string, std::string, diagnostics&, put_handler h) override {
        detail::post_completion(ex_, std::move(h), make_error_code(errc::invalid_argument));
    }

private:
    executor_type ex_;
    std::string object_;
    behaviour behaviour_;
    mutable std::mutex mutex_;
    std::vector<call> calls_;
};

}  // namespace fluss_fetch::test
