// Download one object to a file: the whole object or ranged parts (the first
// part finds the size when nobody knows it), every request a job of the download pool with its
// own retries; the bytes land in a temp file renamed only when complete.
#include <fluss_fetch/fetch/download.hpp>

#include "core/async_op.hpp"
#include "core/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace fluss_fetch::fetch {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

double uniform01() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string random_suffix() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

/// Writes at a fixed offset of a file, advancing with each write.
class positional_sink final : public storage::byte_sink {
public:
    positional_sink(int fd, std::uint64_t offset) : fd_(fd), offset_(offset) {}
    error_code write(const std::byte* data, std::size_t size) override {
        while (size > 0) {
            ssize_t n = ::pwrite(fd_, data, size, static_cast<off_t>(offset_));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                errno_ = errno;
                return make_error_code(errc::file_error);
            }
            data += n;
            size -= static_cast<std::size_t>(n);
            offset_ += static_cast<std::uint64_t>(n);
        }
        return {};
    }
    int last_errno() const { return errno_; }

private:
    int fd_;
    std::uint64_t offset_;
    int errno_ = 0;
};

struct part {
    std::optional<storage::byte_range> range;  // empty: the whole object
    std::uint64_t length = 0;                  // expected bytes (0 when unknown, whole object)
    error_code ec;
    diagnostics diag;
    storage::object_meta meta;
    std::uint64_t bytes = 0;
};

// One request with its retries, run as a pool job. Writes only `p`.
asio::awaitable<error_code> fetch_part(storage::object_store& store, const std::string& key, int fd,
                                       const std::string& temp, const std::string& if_match, part& p,
                                       const download_options& opts, transfer_counters& counters) {
    const retry_policy& policy = opts.retry;
    const auto deadline = opts.part_deadline.count() > 0 ? std::chrono::steady_clock::now() + opts.part_deadline
                                                         : std::chrono::steady_clock::time_point::max();
    // A cancellation that arrives between two operations (say, while the
    // response of a failed attempt is being looked at) reaches no operation:
    // the coroutine's cancellation state remembers it, so look before each wait.
    auto cancelled = [&]() -> asio::awaitable<bool> {
        auto cs = co_await asio::this_coro::cancellation_state;
        co_return cs.cancelled() != asio::cancellation_type::none;
    };
    for (int attempt = 0;; ++attempt) {
        if (co_await cancelled()) {
            p.ec = asio::error::operation_aborted;
            co_return p.ec;
        }
        ++counters.requests;
        positional_sink sink(fd, p.range ? p.range->offset : 0);
        storage::get_options go;
        go.range = p.range;
        go.if_match = if_match;
        go.stall_timeout = opts.stall_timeout;
        go.deadline = deadline;
        auto [ec, r] = co_await store.async_get(key, go, sink, p.diag, use_tuple);
        if (!ec && opts.expected_size && r.meta.size != *opts.expected_size) {
            // Another object than the one described (a stale manifest, an
            // overwritten key): no retry makes it right.
            ec = make_error_code(errc::size_mismatch);
            p.diag.message = "object is " + std::to_string(r.meta.size) + " bytes, expected " +
                             std::to_string(*opts.expected_size);
        } else if (!ec && p.length != 0 && r.bytes != p.length) {
            ec = make_error_code(errc::truncated_body);
            p.diag.message = "got " + std::to_string(r.bytes) + " bytes, expected " + std::to_string(p.length);
        }
        if (ec == errc::file_error && sink.last_errno() != 0)
            p.diag.message = "cannot write temp file '" + temp + "': " + std::strerror(sink.last_errno());
        if (!ec) {
            counters.bytes += r.bytes;
            p.bytes = r.bytes;
            p.meta = r.meta;
            co_return error_code{};
        }
        if (ec == asio::error::operation_aborted || !is_retryable(ec) || attempt >= policy.max_retries) {
            p.ec = ec;
            co_return ec;
        }
        const auto wait = policy.backoff(attempt, uniform01());
        if (std::chrono::steady_clock::now() + wait >= deadline) {  // no retry can finish in time
            p.diag.message = (p.diag.message.empty() ? ec.message() : p.diag.message) +
                             " (not retried: download_options.part_deadline would pass first)";
            co_return ec;
        }
        detail::logger().info("retrying {} after {} (attempt {} of {}), in {} ms", store.describe() + "/" + key,
                              p.diag.to_string(ec), attempt + 1, policy.max_retries + 1,
                              std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        if (co_await cancelled()) {
            p.ec = asio::error::operation_aborted;
            co_return p.ec;
        }
        ++counters.retries;
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(wait);
        auto [tec] = co_await timer.async_wait(use_tuple);
        if (tec) {
            p.ec = asio::error::operation_aborted;
            co_return p.ec;
        }
    }
}

struct shared_download {
    storage::object_store& store;
    download_pool& pool;
    std::string key;
    fs::path path;
    download_options opts;
    transfer_counters& counters;
};

}  // namespace

void async_download_file(storage::object_store& store, download_pool& pool, std::string key, fs::path path,
                         download_options opts, transfer_counters& counters, diagnostics& diag,
                         asio::any_completion_handler<void(error_code, download_result)> h) {
    auto d = std::make_shared<shared_download>(shared_download{store, pool, std::move(key), std::move(path),
                                                               std::move(opts), counters});
    using result = std::tuple<error_code, download_result>;
    detail::launch<download_result>(
        asio::make_strand(pool.get_executor()),
        [d, &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<result> {
            diag.clear();
            diag.operation = "GET";
            diag.key = d->key;
            const auto& o = d->opts;
            try {
                o.retry.validate();
            } catch (const std::invalid_argument& e) {
                diag.message = e.what();
                co_return result{make_error_code(errc::invalid_argument), {}};
            }

            // 1. What is known of the size. When it is unknown and the object may
            //    need splitting, the first part is fetched alone as a ranged GET:
            //    its Content-Range tells the size and its ETag guards the rest.
            //    (No HEAD: one round trip less, and real S3 error bodies.)
            std::optional<std::uint64_t> size = o.expected_size;
            std::string etag;
            const bool discover = !size && o.part_size > 0;
            // 2. The temp file, next to the destination.
            std::error_code fec;
            if (d->path.has_parent_path()) fs::create_directories(d->path.parent_path(), fec);
            const std::string temp = d->path.string() + ".tmp-" + random_suffix();
            int fd = fec ? -1 : ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) {
                diag.message = "cannot create temp file '" + temp + "': " + (fec ? fec.message() : std::strerror(errno));
                co_return result{make_error_code(errc::file_error), {}};
            }

            // 3. The parts.
            std::vector<part> parts;
            auto plan_from = [&](std::uint64_t from) {
                for (std::uint64_t off = from; off < *size; off += o.part_size) {
                    part p;
                    p.length = std::min(o.part_size, *size - off);
                    p.range = storage::byte_range{off, p.length};
                    parts.push_back(std::move(p));
                }
            };
            if (discover) {
                part p;  // length unknown until the answer: 0 skips the length check
                p.range = storage::byte_range{0, o.part_size};
                parts.push_back(std::move(p));
            } else if (size && o.part_size > 0 && *size > o.part_size) {
                plan_from(0);
            } else {
                part p;
                p.length = size.value_or(0);
                parts.push_back(std::move(p));
            }

            // 4. Run them through the pool. Without a known ETag the first part
            //    goes alone and its ETag guards the rest (If-Match).
            std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
            std::size_t pending = 0;
            error_code first_error;
            std::size_t failed_part = 0;
            asio::steady_timer wake(st->strand, std::chrono::steady_clock::time_point::max());
            st->on_cancel = [&signals] {
                for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
            };
            auto submit = [&](std::size_t i) {
                auto job = [d, fd, &temp, &etag, &p = parts[i]]() -> asio::awaitable<error_code> {
                    co_return co_await fetch_part(d->store, d->key, fd, temp, etag, p, d->opts, d->counters);
                };
                signals.push_back(std::make_unique<asio::cancellation_signal>());
                ++pending;
                auto submit_to_pool = [&](auto&& token) {
                    if (d->opts.urgent)
                        d->pool.async_submit_first(job, std::forward<decltype(token)>(token));
                    else
                        d->pool.async_submit(job, std::forward<decltype(token)>(token));
                };
                submit_to_pool(asio::bind_cancellation_slot(
                             signals.back()->slot(),
                             asio::bind_executor(st->strand, [&, i](error_code ec) {
                                 if (ec && !first_error) {
                                     first_error = ec;
                                     failed_part = i;
                                     // The download has failed: stop every other part.
                                     for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
                                 }
                                 if (--pending == 0) wake.cancel();
                             })));
            };
            auto wait_all = [&]() -> asio::awaitable<void> {
                while (pending > 0) co_await wake.async_wait(use_tuple);
            };
            std::size_t next = 0;
            if (discover) {
                submit(next++);
                co_await wait_all();
                if (first_error == errc::invalid_range) {
                    // An empty object has no byte 0: fetch it whole.
                    first_error = {};
                    parts[0] = part{};
                    signals.clear();
                    submit(0);
                    co_await wait_all();
                } else if (!first_error) {
                    size = parts[0].meta.size;
                    etag = parts[0].meta.etag;
                    if (*size > o.part_size) plan_from(o.part_size);
                }
            } else if (etag.empty() && parts.size() > 1) {
                submit(next++);
                co_await wait_all();
                if (!first_error) etag = parts[0].meta.etag;
            }
            while (!first_error && !st->cancelled && next < parts.size()) submit(next++);
            co_await wait_all();
            st->on_cancel = nullptr;

            // 5. Verify and publish, or clean up.
            error_code ec = first_error;
            if (!ec && st->cancelled) ec = asio::error::operation_aborted;
            std::uint64_t total = 0;
            for (const auto& p : parts) total += p.bytes;
            if (!ec && size && total != *size) {
                ec = make_error_code(errc::truncated_body);
                diag.message = "received " + std::to_string(total) + " bytes of " + std::to_string(*size);
            }
            if (!ec && ::ftruncate(fd, static_cast<off_t>(total)) != 0) {
                ec = make_error_code(errc::file_error);
                diag.message = "cannot size temp file '" + temp + "': " + std::strerror(errno);
            }
            if (::close(fd) != 0 && !ec) {
                ec = make_error_code(errc::file_error);
                diag.message = "cannot close temp file '" + temp + "': " + std::strerror(errno);
            }
            if (!ec) {
                fs::rename(temp, d->path, fec);
                if (fec) {
                    ec = make_error_code(errc::file_error);
                    diag.message = "cannot rename '" + temp + "' to '" + d->path.string() + "': " + fec.message();
                }
            }
            if (ec) {
                ::unlink(temp.c_str());
                if (first_error) diag = parts[failed_part].diag;
                if (diag.key.empty()) diag.key = d->key;
                co_return result{ec, {}};
            }
            download_result out;
            out.bytes = total;
            out.meta = parts.front().meta;
            out.meta.size = total;
            co_return result{error_code{}, out};
        },
        std::move(h));
}

}  // namespace fluss_fetch::fetch
