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
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
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
    std::optional<std::uint64_t> total;        // the object size the answer must show (when known)
    std::string if_match;                      // the ETag it is sent with (empty: none known yet)
    diagnostics diag;
    storage::object_meta meta;
    std::uint64_t bytes = 0;
};

// "bytes F-L" as asked, or "the whole object".
std::string describe_range(const part& p) {
    if (!p.range) return "the whole object";
    return "bytes " + std::to_string(p.range->offset) + "-" + std::to_string(p.range->offset + p.range->length - 1);
}

// What the server said of a successful ranged answer, as its Content-Range.
std::string content_range_of(const part& p) {
    if (!p.range || p.bytes == 0) return "object size " + std::to_string(p.meta.size);
    return "Content-Range bytes " + std::to_string(p.range->offset) + "-" +
           std::to_string(p.range->offset + p.bytes - 1) + "/" + std::to_string(p.meta.size);
}

// One request with its retries, run as a pool job. Writes only `p`.
asio::awaitable<error_code> fetch_part(storage::object_store& store, const std::string& key, int fd,
                                       const std::string& temp, part& p, const download_options& opts,
                                       transfer_counters& counters) {
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
        if (co_await cancelled()) co_return asio::error::operation_aborted;
        ++counters.requests;
        positional_sink sink(fd, p.range ? p.range->offset : 0);
        storage::get_options go;
        go.range = p.range;
        go.if_match = p.if_match;
        go.stall_timeout = opts.stall_timeout;
        go.deadline = deadline;
        auto [ec, r] = co_await store.async_get(key, go, sink, p.diag, use_tuple);
        if (!ec && p.total && r.meta.size != *p.total) {
            // Another object than the one described (a stale manifest, an
            // overwritten key): no retry makes it right. The download decides
            // which (the first answer: size_mismatch; a later one: a new version).
            ec = make_error_code(errc::size_mismatch);
            p.bytes = r.bytes;
            p.meta = r.meta;
            p.diag.message = "the answer to " + describe_range(p) + " says the object is " +
                             std::to_string(r.meta.size) + " bytes (" + content_range_of(p) + "), expected " +
                             std::to_string(*p.total);
            p.bytes = 0;
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
        if (ec == asio::error::operation_aborted || !is_retryable(ec) || attempt >= policy.max_retries) co_return ec;
        const auto wait = policy.backoff(attempt, uniform01());
        if (std::chrono::steady_clock::now() + wait >= deadline) {  // no retry can finish in time
            p.diag.message = (p.diag.message.empty() ? ec.message() : p.diag.message) +
                             " (not retried: download_options.part_deadline would pass first)";
            co_return ec;
        }
        detail::logger().info("retrying {} after {} (attempt {} of {}), in {} ms", store.describe() + "/" + key,
                              p.diag.to_string(ec), attempt + 1, policy.max_retries + 1,
                              std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        if (co_await cancelled()) co_return asio::error::operation_aborted;
        ++counters.retries;
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(wait);
        auto [tec] = co_await timer.async_wait(use_tuple);
        if (tec) co_return asio::error::operation_aborted;
    }
}

// A part submitted to the pool: exists from its submission until the
// download has looked at its completion, so only the parts in flight (at
// most download_options::part_window) hold memory.
struct part_in_flight {
    part p;
    asio::cancellation_signal signal;
};

// The temp file of one download, created by the first of its parts that runs
// (not when the download starts): a download waiting in the pool's queue
// holds no descriptor. Parts run on several pool strands at once.
struct temp_file {
    std::mutex m;
    int fd = -1;
    int open_errno = 0;
    bool tried = false;
    int get(const std::string& path) {
        std::lock_guard lock(m);
        if (!tried) {
            tried = true;
            fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) open_errno = errno;
        }
        return fd;
    }
};

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
                if (o.max_object_size == 0) throw std::invalid_argument("download_options::max_object_size must be > 0");
                if (o.part_window == 0) throw std::invalid_argument("download_options::part_window must be > 0");
            } catch (const std::invalid_argument& e) {
                diag.message = e.what();
                co_return result{make_error_code(errc::invalid_argument), {}};
            }

            // 1. The temp file, next to the destination: its folder now, the
            //    file itself when the first part runs (temp_file).
            std::error_code fec;
            if (d->path.has_parent_path()) fs::create_directories(d->path.parent_path(), fec);
            const std::string temp = d->path.string() + ".tmp-" + random_suffix();
            if (fec) {
                diag.message = "cannot create temp file '" + temp + "': " + fec.message();
                co_return result{make_error_code(errc::file_error), {}};
            }
            temp_file tf;

            // 2. How the object is fetched:
            //  - whole: one unranged GET (no ranged parts, or a known size of at most one part);
            //  - parallel: a known size (the caller's, within max_object_size): the parts go
            //    at once, up to part_window of them;
            //  - discover: the size is unknown (or the caller's is beyond belief): the first
            //    part goes alone as a ranged GET, its Content-Range total is checked against
            //    the caller's size and max_object_size, and only then are the others planned.
            //    (No HEAD: one round trip less, and real S3 error bodies.)
            //  Parts are planned lazily from a cursor: whatever size is claimed, at most
            //  part_window parts exist at a time.
            enum class mode { whole, parallel, discover };
            const bool believable = o.expected_size && *o.expected_size <= o.max_object_size;
            const mode initial = o.part_size == 0                                ? mode::whole
                                 : believable && *o.expected_size <= o.part_size ? mode::whole
                                 : believable                                    ? mode::parallel
                                                                                 : mode::discover;

            // 3. Run the parts through the pool. Their completions are queued
            //    here and looked at by this coroutine, one at a time, on its strand.
            asio::steady_timer wake(st->strand, std::chrono::steady_clock::time_point::max());
            std::map<std::size_t, std::unique_ptr<part_in_flight>> flying;
            std::deque<std::pair<std::size_t, error_code>> done;
            std::size_t next_index = 0;
            st->on_cancel = [&flying] {
                for (auto& [i, f] : flying) f->signal.emit(asio::cancellation_type::terminal);
            };
            auto cancel_all = [&flying] {
                for (auto& [i, f] : flying) f->signal.emit(asio::cancellation_type::terminal);
            };
            auto submit = [&](part p) {
                auto f = std::make_unique<part_in_flight>();
                f->p = std::move(p);
                part* pp = &f->p;
                const std::size_t i = next_index++;
                auto job = [d, &tf, &temp, pp]() -> asio::awaitable<error_code> {
                    const int fd = tf.get(temp);
                    if (fd < 0) {
                        pp->diag.operation = "GET";
                        pp->diag.key = d->key;
                        pp->diag.message = "cannot create temp file '" + temp + "': " + std::strerror(tf.open_errno);
                        co_return make_error_code(errc::file_error);
                    }
                    co_return co_await fetch_part(d->store, d->key, fd, temp, *pp, d->opts, d->counters);
                };
                auto on_done = asio::bind_cancellation_slot(
                    f->signal.slot(), asio::bind_executor(st->strand, [&done, &wake, i](error_code ec) {
                        done.emplace_back(i, ec);
                        wake.cancel();
                    }));
                flying.emplace(i, std::move(f));
                try {
                    if (d->opts.tag.lane)
                        d->pool.async_submit(std::move(job), d->opts.tag, std::move(on_done));
                    else if (d->opts.urgent)
                        d->pool.async_submit_first(std::move(job), std::move(on_done));
                    else
                        d->pool.async_submit(std::move(job), std::move(on_done));
                } catch (...) {
                    flying.erase(i);  // never submitted: nothing will complete it
                    throw;
                }
            };

            error_code ec;
            std::uint64_t received = 0;
            std::optional<std::uint64_t> size;
            storage::object_meta first_meta;
            // Anything thrown (bad_alloc) is caught here, and the parts still in
            // flight are cancelled and waited for before the frame they write
            // into goes: every path then reaches the cleanup below.
            std::exception_ptr thrown;
            try {
                for (int pass = 0;; ++pass) {
                    mode m = initial;
                    size = m == mode::discover ? std::nullopt : o.expected_size;
                    std::uint64_t cursor = 0;  // offset of the next part to plan
                    bool first_sent = false;
                    // The version every part must show: the first successful answer's
                    // ETag and object size. In the parallel mode no ETag is known when the
                    // first parts go: they go without If-Match, and whichever answers first
                    // sets the version; each other answer is compared with it when it
                    // completes, and the parts sent after it carry it as If-Match. A
                    // server that ignores If-Match is caught by the comparison, one that
                    // honours it by its 412: either way no byte of another version is kept.
                    std::optional<storage::object_meta> version;
                    error_code pass_ec;
                    diagnostics pass_diag;
                    std::optional<diagnostics> changed;  // the object changed: what showed it
                    received = 0;

                    for (;;) {
                        // Plan and submit what may go now.
                        while (!pass_ec && !changed && !st->cancelled) {
                            part p;
                            if (m == mode::whole) {
                                if (first_sent) break;
                                p.length = size.value_or(0);
                                p.total = o.expected_size;
                            } else if (!size) {  // discover: the first part alone
                                if (first_sent) break;
                                p.range = storage::byte_range{0, o.part_size};  // length 0: the answer tells it
                            } else {
                                if (cursor >= *size || flying.size() >= o.part_window) break;
                                p.length = std::min(o.part_size, *size - cursor);
                                p.range = storage::byte_range{cursor, p.length};
                                p.total = size;
                                if (version) p.if_match = version->etag;
                            }
                            cursor += p.range ? p.range->length : 0;
                            first_sent = true;
                            submit(std::move(p));
                        }
                        if (flying.empty() && done.empty()) break;
                        if (done.empty()) {
                            co_await wake.async_wait(use_tuple);
                            continue;
                        }
                        // Plain names, not a structured binding: the lambdas below use them
                        // (Clang 14, which builds the fuzz targets, cannot capture bindings).
                        const std::size_t i = done.front().first;
                        const error_code pec = done.front().second;
                        done.pop_front();
                        auto node = flying.extract(i);
                        part& p = node.mapped()->p;
                        auto changed_by = [&](std::string what) {
                            if (changed || pass_ec) return;
                            diagnostics c;
                            c.operation = "GET";
                            c.key = d->key;
                            if (pec) {  // a 412: what the server said; a 206 is no error to show
                                c.http_status = p.diag.http_status;
                                c.s3_code = p.diag.s3_code;
                                c.request_id = p.diag.request_id;
                            }
                            c.message = "the object changed during the download: " + what;
                            changed = std::move(c);
                            cancel_all();
                        };
                        auto fail = [&](error_code e, diagnostics dg) {
                            if (changed || pass_ec) return;
                            pass_ec = e;
                            pass_diag = std::move(dg);
                            if (pass_diag.key.empty()) pass_diag.key = d->key;
                            if (pass_diag.operation.empty()) pass_diag.operation = "GET";
                            cancel_all();  // the download has failed: stop every other part
                        };
                        if (!pec) {
                            if (!version) {
                                if (m == mode::discover && !size) {
                                    // The first answer tells the size: believe it only within bounds.
                                    const std::uint64_t total = p.meta.size;
                                    diagnostics dg;
                                    if (o.expected_size && total != *o.expected_size) {
                                        dg.message = "expected " + std::to_string(*o.expected_size) +
                                                     " bytes (download_options::expected_size), the server's first "
                                                     "ranged answer says " +
                                                     std::to_string(total) + " bytes (" + content_range_of(p) + ")";
                                        fail(make_error_code(errc::size_mismatch), std::move(dg));
                                    } else if (total > o.max_object_size) {
                                        dg.message = "the server's first ranged answer claims the object is " +
                                                     std::to_string(total) + " bytes (" + content_range_of(p) +
                                                     "), above the limit of " + std::to_string(o.max_object_size) +
                                                     " bytes (download_options::max_object_size)";
                                        fail(make_error_code(errc::object_too_large), std::move(dg));
                                    } else if (p.bytes != std::min(o.part_size, total)) {
                                        dg.message = "the first ranged answer has " + std::to_string(p.bytes) +
                                                     " bytes, expected " + std::to_string(std::min(o.part_size, total));
                                        fail(make_error_code(errc::truncated_body), std::move(dg));
                                    } else {
                                        size = total;
                                    }
                                }
                                version = p.meta;
                            } else if (p.meta.etag != version->etag || p.meta.size != version->size) {
                                changed_by(describe_range(p) + " came with ETag " + p.meta.etag + " (object of " +
                                           std::to_string(p.meta.size) + " bytes), the first answer had ETag " +
                                           version->etag + " (" + std::to_string(version->size) + " bytes)");
                            }
                            received += p.bytes;
                        } else if (pec == errc::size_mismatch && version) {
                            // A part's answer shows another size than the first answer's: a new version.
                            changed_by(describe_range(p) + " came with ETag " + p.meta.etag + " (object of " +
                                       std::to_string(p.meta.size) + " bytes), the first answer had ETag " +
                                       version->etag + " (" + std::to_string(version->size) + " bytes)");
                        } else if (pec == errc::precondition_failed && !p.if_match.empty()) {
                            changed_by("the server answered " + describe_range(p) + " with HTTP 412 to If-Match " +
                                       p.if_match);
                        } else if (pec == errc::invalid_range && m == mode::discover && !size && !version) {
                            // An empty object has no byte 0: fetch it whole.
                            m = mode::whole;
                            first_sent = false;
                        } else {
                            if (pec == errc::invalid_range && p.total)
                                p.diag.message += (p.diag.message.empty() ? "" : "; ") + describe_range(p) +
                                                  " of an object expected to be " + std::to_string(*p.total) + " bytes";
                            fail(pec, p.diag);
                        }
                    }

                    if (changed && !st->cancelled) {
                        if (pass == 0) {
                            detail::logger().warn("{}: {}; downloading it again from scratch", d->store.describe(),
                                                  changed->to_string(make_error_code(errc::object_changed)));
                            if (tf.fd >= 0 && ::ftruncate(tf.fd, 0) != 0) {
                                ec = make_error_code(errc::file_error);
                                diag.message = "cannot empty temp file '" + temp + "': " + std::strerror(errno);
                                break;
                            }
                            continue;
                        }
                        ec = make_error_code(errc::object_changed);
                        diag = *changed;
                        diag.message += "; it had changed before too, and the download was restarted once from scratch";
                        break;
                    }
                    if (pass_ec) {
                        ec = pass_ec;
                        diag = pass_diag;
                    } else if (st->cancelled) {
                        ec = asio::error::operation_aborted;
                    } else {
                        if (!size && version) size = version->size;
                        if (version) first_meta = *version;
                    }
                    break;
                }
            } catch (...) {
                thrown = std::current_exception();
            }
            if (thrown) {
                cancel_all();
                while (!flying.empty()) {
                    while (!done.empty()) {
                        flying.erase(done.front().first);
                        done.pop_front();
                    }
                    if (!flying.empty()) co_await wake.async_wait(use_tuple);
                }
                ec = detail::exception_to_error(thrown);
                diag = diagnostics{};
                diag.operation = "GET";
                diag.key = d->key;
                try {
                    std::rethrow_exception(thrown);
                } catch (const std::exception& e) {
                    diag.message = std::string("the download failed: ") + e.what();
                } catch (...) {
                    diag.message = "the download failed: unknown exception";
                }
            }
            st->on_cancel = nullptr;

            // 4. Verify and publish, or clean up. No part runs any more: tf.fd
            //    is -1 when none ran (or its open failed: then the name may be
            //    another's, never unlink it).
            const int fd = tf.fd;
            if (!ec && size && received != *size) {
                ec = make_error_code(errc::truncated_body);
                diag.message = "received " + std::to_string(received) + " bytes of " + std::to_string(*size);
            }
            if (!ec && fd < 0) ec = asio::error::operation_aborted;  // no part ran: cancelled before any
            if (!ec && ::ftruncate(fd, static_cast<off_t>(received)) != 0) {
                ec = make_error_code(errc::file_error);
                diag.message = "cannot size temp file '" + temp + "': " + std::strerror(errno);
            }
            if (fd >= 0 && ::close(fd) != 0 && !ec) {
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
                if (fd >= 0) ::unlink(temp.c_str());
                if (diag.key.empty()) diag.key = d->key;
                co_return result{ec, {}};
            }
            download_result out;
            out.bytes = received;
            out.meta = first_meta;
            out.meta.size = received;
            co_return result{error_code{}, out};
        },
        std::move(h));
}

}  // namespace fluss_fetch::fetch
