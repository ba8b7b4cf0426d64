#include "support/fault_server.hpp"

#include "storage/s3/sigv4.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace fluss_fetch::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct fault_server::impl {
    // State first: coroutine frames (destroyed with the io_context) touch it.
    mutable std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t generation = 0;
    std::map<std::string, std::shared_ptr<const std::string>> objects;  // "bucket/key" → bytes (never copied)
    std::map<std::string, std::string> etags;  // "bucket/key" → ETag set by put_object or a replacement
    bool honour_if_match = false;
    std::uint64_t bandwidth = 0;  // bytes/s per connection; 0: unlimited
    std::uint64_t bandwidth_total = 0;  // bytes/s over all connections; 0: unlimited
    std::deque<fault> faults;
    std::size_t page_size = 1000;
    std::size_t total = 0, in_flight = 0, max_in_flight = 0, conns = 0, aborts = 0, done = 0, holding = 0;
    std::size_t open_conns = 0, max_open_conns = 0;
    std::map<std::string, std::size_t> per_key, done_per_key;
    bool released = false;
    std::vector<std::shared_ptr<asio::steady_timer>> hold_timers;
    std::chrono::milliseconds first_byte_delay{0};
    std::vector<recorded_request> log;
    // Access keys (set_accepted_access_keys / set_expired_access_keys / expire_access_key_after).
    std::set<std::string> accepted_keys, expired_keys;
    std::map<std::string, std::size_t> expire_after, served_with_key;
    std::string path_prefix;
    // The shared link (set_bandwidth_total): a token bucket kept as the time
    // at which every byte reserved so far has gone out. Its own mutex: every
    // body chunk of every connection takes it.
    std::mutex link_mutex;
    std::chrono::steady_clock::time_point link_free{};

    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<std::thread> threads;

    void notify() {
        {
            std::lock_guard l(mutex);
            ++generation;
        }
        changed.notify_all();
    }

    // An answer refusing the request's credentials, if they are refused
    // (called under the mutex). Counts the requests each key was accepted for.
    std::optional<fault> check_access_key(const std::string& id) {
        if (accepted_keys.empty() && expired_keys.empty() && expire_after.empty()) return std::nullopt;
        fault f;
        f.what = fault::kind::status;
        if (expired_keys.count(id)) {
            f.status = 400;
            f.s3_code = "ExpiredToken";
            return f;
        }
        if (!accepted_keys.empty() && !accepted_keys.count(id)) {
            f.status = 403;
            f.s3_code = id.empty() ? "AccessDenied" : "InvalidAccessKeyId";
            return f;
        }
        const std::size_t n = ++served_with_key[id];
        if (auto it = expire_after.find(id); it != expire_after.end() && n >= it->second) {
            expired_keys.insert(id);
            expire_after.erase(it);
        }
        return std::nullopt;
    }

    // The first queued fault this request can show: body faults need a GET,
    // a wrong Content-Range needs a ranged GET.
    std::optional<fault> take_fault(const std::string& key, bool is_get, bool ranged) {
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            const bool body_fault = it->what == fault::kind::reset_after || it->what == fault::kind::stall_after ||
                                    it->what == fault::kind::short_body;
            if (body_fault && !is_get) continue;
            if ((it->what == fault::kind::wrong_content_range || it->what == fault::kind::claim_total) &&
                !(is_get && ranged))
                continue;
            if (it->what == fault::kind::replace_after && !is_get) continue;
            if (it->key.empty() || it->key == key) {
                fault f = *it;
                faults.erase(it);
                return f;
            }
        }
        return std::nullopt;
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            // A response is written as a header and body slices: without
            // TCP_NODELAY a slice's tail can wait for the client's delayed
            // ACK (up to 40 ms) and every figure measured here would carry it.
            boost::system::error_code ig;
            sock.set_option(tcp::no_delay(true), ig);
            {
                std::lock_guard l(mutex);
                ++conns;
            }
            notify();
            // One strand per connection: a release_held() posted to it runs
            // either before a hold starts waiting or after, never in between.
            asio::co_spawn(asio::make_strand(ioc), serve(std::move(sock)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket sock);

    // Reserve `n` bytes of the shared link at `rate` bytes/s: the time by
    // which they have gone out (the caller waits for it before its next
    // chunk). Up to 10 ms of unused link accumulate as a burst, no more, so
    // an idle link does not let a later response through at full speed.
    std::chrono::steady_clock::time_point reserve_link(std::size_t n, std::uint64_t rate) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard l(link_mutex);
        link_free = std::max(link_free, now - std::chrono::milliseconds(10));
        link_free += std::chrono::nanoseconds(static_cast<std::int64_t>(double(n) * 1e9 / double(rate)));
        return link_free;
    }
};

namespace {

std::string xml_error(unsigned status, const std::string& code, const std::string& key) {
    (void)status;
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>injected " + code +
           "</Message><Key>" + key + "</Key><RequestId>fault-server</RequestId></Error>";
}

std::string reason(unsigned status) {
    return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

std::string header_block(unsigned status, std::size_t content_length, const std::vector<std::string>& extra) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    h += "Content-Length: " + std::to_string(content_length) + "\r\n";
    h += "x-amz-request-id: fault-server\r\n";
    for (const auto& e : extra) h += e + "\r\n";
    return h + "\r\n";
}

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

}  // namespace

asio::awaitable<void> fault_server::impl::serve(tcp::socket sock) {
    struct open_guard {
        impl* self;
        explicit open_guard(impl* s) : self(s) {
            {
                std::lock_guard l(self->mutex);
                ++self->open_conns;
                self->max_open_conns = std::max(self->max_open_conns, self->open_conns);
            }
            self->notify();
        }
        ~open_guard() {
            {
                std::lock_guard l(self->mutex);
                --self->open_conns;
            }
            self->notify();
        }
    } open{this};
    boost::beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        auto [rec, rn] = co_await http::async_read(sock, buf, parser, use_tuple);
        if (rec) co_return;
        auto& req = parser.get();

        recorded_request rr;
        rr.method = std::string(req.method_string());
        rr.target = std::string(req.target());
        for (const auto& f : req) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            rr.headers[name] = std::string(f.value());
        }
        {
            // "AWS4-HMAC-SHA256 Credential=KEY/20250101/region/s3/aws4_request, ..."
            auto h = rr.headers.find("authorization");
            const std::string auth = h == rr.headers.end() ? std::string() : h->second;
            if (auto at = auth.find("Credential="); at != std::string::npos) {
                auto from = at + 11;
                rr.access_key_id = auth.substr(from, auth.find('/', from) - from);
            }
        }
        auto url = boost::urls::parse_origin_form(req.target());
        std::string path = url ? std::string(url->path()) : std::string(req.target());
        {
            std::lock_guard l(mutex);
            if (!path_prefix.empty() && path.starts_with(path_prefix + "/")) path = path.substr(path_prefix.size());
        }
        std::string bucket, key;
        if (path.size() > 1) {
            auto slash = path.find('/', 1);
            bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
            if (slash != std::string::npos) key = path.substr(slash + 1);
        }
        rr.key = key;
        rr.at = std::chrono::steady_clock::now();

        std::optional<fault> f;
        std::shared_ptr<const std::string> body_ptr;
        std::string object_etag;
        bool found = false;
        bool honour = false;
        std::uint64_t rate = 0, rate_total = 0;
        std::chrono::milliseconds global_delay{0};
        {
            std::lock_guard l(mutex);
            ++total;
            ++per_key[key];
            ++in_flight;
            max_in_flight = std::max(max_in_flight, in_flight);
            log.push_back(rr);
            f = check_access_key(rr.access_key_id);
            if (!f) f = take_fault(key, req.method() == http::verb::get, !req[http::field::range].empty());
            if (req.method() == http::verb::get && !key.empty()) global_delay = first_byte_delay;
            auto it = objects.find(bucket + "/" + key);
            if (it != objects.end()) {
                found = true;
                body_ptr = it->second;
                auto e = etags.find(it->first);
                object_etag = e != etags.end() ? e->second : "\"e" + std::to_string(body_ptr->size()) + "\"";
                if (f && f->what == fault::kind::replace_after) {
                    // This request keeps the version it found; later ones see the new one.
                    it->second = std::make_shared<const std::string>(f->replacement);
                    if (f->replacement_etag.empty())
                        etags.erase(it->first);
                    else
                        etags[it->first] = f->replacement_etag;
                    f.reset();
                }
            }
            rate = bandwidth;
            rate_total = bandwidth_total;
            honour = honour_if_match;
        }
        notify();
        bool finished = false;
        struct in_flight_guard {
            impl* self;
            bool* finished;
            std::string key;
            ~in_flight_guard() {
                {
                    std::lock_guard l(self->mutex);
                    --self->in_flight;
                    if (!*finished) ++self->aborts;
                    else {
                        ++self->done;
                        ++self->done_per_key[key];
                    }
                }
                self->notify();
            }
        } guard{this, &finished, key};

        if (f && f->what == fault::kind::hold) {
            auto t = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                          asio::steady_timer::time_point::max());
            bool wait = false;
            {
                std::lock_guard l(mutex);
                if (!released) {
                    hold_timers.push_back(t);
                    ++holding;
                    wait = true;
                }
            }
            if (wait) {
                notify();
                co_await t->async_wait(use_tuple);
                {
                    std::lock_guard l(mutex);
                    --holding;
                }
                notify();
            }
            f.reset();
        }
        if (global_delay.count() > 0) {
            asio::steady_timer t(sock.get_executor());
            t.expires_after(global_delay);
            co_await t.async_wait(use_tuple);
        }

        if (f && f->what == fault::kind::delay_first_byte) {
            asio::steady_timer t(sock.get_executor());
            t.expires_after(f->delay);
            co_await t.async_wait(use_tuple);
            f.reset();
        }
        if (f && f->what == fault::kind::raw) {
            co_await asio::async_write(sock, asio::buffer(f->raw), use_tuple);
            finished = true;
            boost::system::error_code ig;
            sock.shutdown(tcp::socket::shutdown_both, ig);
            sock.close(ig);
            co_return;
        }
        if (f && f->what == fault::kind::status) {
            std::string x = req.method() == http::verb::head ? "" : xml_error(f->status, f->s3_code, key);
            std::string out = header_block(f->status, x.size(), {"Content-Type: application/xml"}) + x;
            auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
            if (wec) co_return;
            finished = true;
            continue;
        }

        std::string out;
        if (req.method() == http::verb::put) {
            {
                std::lock_guard l(mutex);
                objects[bucket + "/" + key] = std::make_shared<const std::string>(req.body());
                etags.erase(bucket + "/" + key);
            }
            out = header_block(200, 0, {"ETag: \"put\""});
        } else if (req.method() == http::verb::get && key.empty() && url && url->params().contains("list-type")) {
            std::string prefix, token;
            if (auto it = url->params().find("prefix"); it != url->params().end()) prefix = (*it).value;
            if (auto it = url->params().find("continuation-token"); it != url->params().end()) token = (*it).value;
            std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>" + bucket +
                              "</Name><Prefix>" + xml_escape(prefix) + "</Prefix>";
            std::lock_guard l(mutex);
            std::size_t n = 0;
            std::string last;
            bool more = false;
            for (auto it = objects.lower_bound(bucket + "/" + std::max(prefix, token)); it != objects.end(); ++it) {
                if (!it->first.starts_with(bucket + "/" + prefix)) break;
                std::string k = it->first.substr(bucket.size() + 1);
                if (!token.empty() && k <= token) continue;
                if (n == page_size) {
                    more = true;
                    break;
                }
                xml += "<Contents><Key>" + xml_escape(k) + "</Key><Size>" + std::to_string(it->second->size()) +
                       "</Size><ETag>" +
                       (etags.count(it->first) ? etags.at(it->first)
                                               : "\"e" + std::to_string(it->second->size()) + "\"") +
                       "</ETag></Contents>";
                last = k;
                ++n;
            }
            xml += std::string("<IsTruncated>") + (more ? "true" : "false") + "</IsTruncated>";
            if (more) xml += "<NextContinuationToken>" + xml_escape(last) + "</NextContinuationToken>";
            xml += "</ListBucketResult>";
            out = header_block(200, xml.size(), {"Content-Type: application/xml"}) + xml;
        } else if (!found) {
            std::string x = req.method() == http::verb::head ? "" : xml_error(404, "NoSuchKey", key);
            out = header_block(404, x.size(), {"Content-Type: application/xml"}) + x;
        } else {
            const std::string_view body = *body_ptr;
            const std::string etag = "ETag: " + object_etag;
            std::size_t first = 0, last = body.empty() ? 0 : body.size() - 1;
            unsigned status = 200;
            std::vector<std::string> extra{etag, "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT"};
            auto range = req[http::field::range];
            auto if_match = req[http::field::if_match];
            if (honour && !if_match.empty() && if_match != object_etag) {
                std::string x = req.method() == http::verb::head ? "" : xml_error(412, "PreconditionFailed", key);
                out = header_block(412, x.size(), {"Content-Type: application/xml"}) + x;
                auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
                if (wec) co_return;
                finished = true;
                continue;
            }
            if (!range.empty() && range.starts_with("bytes=")) {
                auto r = range.substr(6);
                auto dash = r.find('-');
                first = std::stoull(std::string(r.substr(0, dash)));
                if (first >= body.size()) {
                    // As S3: no byte of the range exists (an empty object has no byte 0).
                    std::string x = req.method() == http::verb::head ? "" : xml_error(416, "InvalidRange", key);
                    out = header_block(416, x.size(), {"Content-Type: application/xml",
                                                       "Content-Range: bytes */" + std::to_string(body.size())}) +
                          x;
                    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
                    if (wec) co_return;
                    finished = true;
                    continue;
                }
                if (dash + 1 < r.size()) last = std::min<std::size_t>(std::stoull(std::string(r.substr(dash + 1))), last);
                status = 206;
                std::size_t shown = (f && f->what == fault::kind::wrong_content_range) ? 1 : 0;
                std::string total = std::to_string(body.size());
                if (f && f->what == fault::kind::claim_total) {
                    total = std::to_string(f->claimed_total);
                    f.reset();
                }
                extra.push_back("Content-Range: bytes " + std::to_string(first + shown) + "-" +
                                std::to_string(last + shown) + "/" + total);
                if (shown) f.reset();
            }
            const std::string_view slice = body.empty() ? std::string_view() : body.substr(first, last - first + 1);
            std::string head = header_block(status, slice.size(), extra);
            if (req.method() == http::verb::head) {
                out = head;
            } else if (f && (f->what == fault::kind::reset_after || f->what == fault::kind::stall_after ||
                             f->what == fault::kind::short_body)) {
                std::string partial = head + std::string(slice.substr(0, std::min(f->bytes, slice.size())));
                auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(partial), use_tuple);
                if (wec) co_return;
                boost::system::error_code ig;
                if (f->what == fault::kind::reset_after) {
                    sock.set_option(asio::socket_base::linger(true, 0), ig);
                    sock.close(ig);
                } else if (f->what == fault::kind::short_body) {
                    sock.shutdown(tcp::socket::shutdown_both, ig);
                    sock.close(ig);
                } else {
                    char c;
                    co_await sock.async_read_some(asio::buffer(&c, 1), use_tuple);  // until the client leaves
                }
                co_return;
            } else {
                // The header, then the body straight from the stored object,
                // paced to the bandwidth caps when there are any: this
                // connection's, and the link's shared by all of them.
                auto [hec, hn] = co_await asio::async_write(sock, asio::buffer(head), use_tuple);
                if (hec) co_return;
                if (rate == 0 && rate_total == 0) {
                    auto [bec, bn] = co_await asio::async_write(sock, asio::buffer(slice.data(), slice.size()), use_tuple);
                    if (bec) co_return;
                } else {
                    // 5 ms of the tighter cap per chunk: small enough that
                    // connections sharing the link take turns finely.
                    const std::uint64_t tight = rate == 0 ? rate_total : rate_total == 0 ? rate : std::min(rate, rate_total);
                    const std::size_t chunk = std::max<std::size_t>(16 * 1024, tight / 200);
                    const auto start = std::chrono::steady_clock::now();
                    asio::steady_timer pace(co_await asio::this_coro::executor);
                    for (std::size_t sent = 0; sent < slice.size();) {
                        const std::size_t n = std::min(chunk, slice.size() - sent);
                        auto until = start;
                        if (rate_total != 0) until = reserve_link(n, rate_total);
                        auto [bec, bn] = co_await asio::async_write(sock, asio::buffer(slice.data() + sent, n), use_tuple);
                        if (bec) co_return;
                        sent += n;
                        if (rate != 0)
                            until = std::max(until, start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                                                double(sent) * 1e9 / double(rate))));
                        pace.expires_at(until);
                        co_await pace.async_wait(use_tuple);
                    }
                }
                finished = true;
                if (!req.keep_alive()) co_return;
                continue;
            }
        }
        auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
        if (wec) co_return;
        finished = true;
        if (!req.keep_alive()) co_return;
    }
}

fault_server::fault_server(unsigned threads) : impl_(std::make_shared<impl>()) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    for (unsigned i = 0; i < std::max(1u, threads); ++i) impl_->threads.emplace_back([i = impl_.get()] { i->ioc.run(); });
}

fault_server::~fault_server() {
    impl_->ioc.stop();
    for (auto& t : impl_->threads) t.join();
}

std::string fault_server::endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }
unsigned short fault_server::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

void fault_server::put_object(const std::string& bucket, const std::string& key, std::string bytes,
                              std::string etag) {
    std::lock_guard l(impl_->mutex);
    impl_->objects[bucket + "/" + key] = std::make_shared<const std::string>(std::move(bytes));
    if (etag.empty())
        impl_->etags.erase(bucket + "/" + key);
    else
        impl_->etags[bucket + "/" + key] = std::move(etag);
}
void fault_server::set_honour_if_match(bool on) {
    std::lock_guard l(impl_->mutex);
    impl_->honour_if_match = on;
}
void fault_server::add_fault(fault f) {
    std::lock_guard l(impl_->mutex);
    if (f.what == fault::kind::hold) impl_->released = false;
    impl_->faults.push_back(std::move(f));
}
void fault_server::release_held() {
    std::vector<std::shared_ptr<asio::steady_timer>> timers;
    {
        std::lock_guard l(impl_->mutex);
        impl_->released = true;
        timers.swap(impl_->hold_timers);
    }
    for (auto& t : timers) asio::post(t->get_executor(), [t] { t->cancel(); });
}
void fault_server::set_bandwidth_per_connection(std::uint64_t bytes_per_second) {
    std::lock_guard l(impl_->mutex);
    impl_->bandwidth = bytes_per_second;
}
void fault_server::set_bandwidth_total(std::uint64_t bytes_per_second) {
    std::lock_guard l(impl_->mutex);
    impl_->bandwidth_total = bytes_per_second;
}
void fault_server::set_first_byte_delay(std::chrono::milliseconds d) {
    std::lock_guard l(impl_->mutex);
    impl_->first_byte_delay = d;
}
void fault_server::set_accepted_access_keys(std::set<std::string> ids) {
    std::lock_guard l(impl_->mutex);
    impl_->accepted_keys = std::move(ids);
}
void fault_server::set_expired_access_keys(std::set<std::string> ids) {
    std::lock_guard l(impl_->mutex);
    impl_->expired_keys = std::move(ids);
}
void fault_server::expire_access_key_after(const std::string& id, std::size_t requests) {
    std::lock_guard l(impl_->mutex);
    impl_->served_with_key.erase(id);
    impl_->expire_after[id] = requests;
}
void fault_server::set_path_prefix(std::string prefix) {
    std::lock_guard l(impl_->mutex);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    impl_->path_prefix = std::move(prefix);
}
void fault_server::set_list_page_size(std::size_t n) {
    std::lock_guard l(impl_->mutex);
    impl_->page_size = n;
}

#define FF_GETTER(name, expr)                  \
    std::size_t fault_server::name() const {   \
        std::lock_guard l(impl_->mutex);       \
        return expr;                           \
    }
FF_GETTER(requests, impl_->total)
FF_GETTER(in_flight, impl_->in_flight)
FF_GETTER(max_in_flight, impl_->max_in_flight)
FF_GETTER(connections, impl_->conns)
FF_GETTER(open_connections, impl_->open_conns)
FF_GETTER(max_open_connections, impl_->max_open_conns)
FF_GETTER(client_aborts, impl_->aborts)
FF_GETTER(faults_left, impl_->faults.size())
FF_GETTER(completed, impl_->done)
FF_GETTER(held, impl_->holding)
#undef FF_GETTER

void fault_server::reset_peaks() {
    std::lock_guard l(impl_->mutex);
    impl_->max_in_flight = impl_->in_flight;
    impl_->max_open_conns = impl_->open_conns;
}

std::size_t fault_server::requests_for(const std::string& key) const {
    std::lock_guard l(impl_->mutex);
    auto it = impl_->per_key.find(key);
    return it == impl_->per_key.end() ? 0 : it->second;
}

std::size_t fault_server::completed_for(const std::string& key) const {
    std::lock_guard l(impl_->mutex);
    auto it = impl_->done_per_key.find(key);
    return it == impl_->done_per_key.end() ? 0 : it->second;
}

std::vector<recorded_request> fault_server::recorded() const {
    std::lock_guard l(impl_->mutex);
    return impl_->log;
}

bool fault_server::wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    // `pred` may call the getters (which lock), so it runs unlocked; the
    // generation counter makes sure no change between the check and the wait is missed.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::uint64_t seen;
        {
            std::lock_guard l(impl_->mutex);
            seen = impl_->generation;
        }
        if (pred()) return true;
        std::unique_lock l(impl_->mutex);
        if (!impl_->changed.wait_until(l, deadline, [&] { return impl_->generation != seen; })) {
            l.unlock();
            return pred();
        }
    }
}

bool sigv4_matches(const recorded_request& r, const std::string& secret, const std::string& region,
                   std::string* why) {
    const auto get = [&](const char* name) -> std::string {
        auto it = r.headers.find(name);
        return it == r.headers.end() ? std::string() : it->second;
    };
    const std::string auth = get("authorization");
    const auto field = [&](const std::string& name) -> std::string {
        auto at = auth.find(name + "=");
        if (at == std::string::npos) return {};
        at += name.size() + 1;
        return auth.substr(at, auth.find_first_of(", ", at) - at);
    };
    const std::string credential = field("Credential"), signed_list = field("SignedHeaders"), sig = field("Signature");
    if (credential.empty() || signed_list.empty() || sig.empty()) {
        if (why) *why = "no SigV4 Authorization header";
        return false;
    }
    const std::string access_key = credential.substr(0, credential.find('/'));
    std::vector<std::pair<std::string, std::string>> headers;
    for (std::size_t pos = 0; pos <= signed_list.size();) {
        auto semi = signed_list.find(';', pos);
        if (semi == std::string::npos) semi = signed_list.size();
        const std::string name = signed_list.substr(pos, semi - pos);
        headers.emplace_back(name, get(name.c_str()));
        pos = semi + 1;
    }
    const auto q = r.target.find('?');
    const std::string path = r.target.substr(0, q);
    std::vector<std::pair<std::string, std::string>> query;
    if (q != std::string::npos) {
        auto u = boost::urls::parse_origin_form(r.target);
        if (u)
            for (auto p : u->params()) query.emplace_back(p.key, p.has_value ? p.value : std::string());
    }
    const std::string payload = get("x-amz-content-sha256");
    storage::s3::request_to_sign rs{r.method, path, query, headers, payload};
    auto out = storage::s3::sign(rs, access_key, secret, region, "s3", get("x-amz-date"));
    if (out.signature_hex == sig) return true;
    if (why) *why = out.canonical_request;
    return false;
}

}  // namespace fluss_fetch::test
