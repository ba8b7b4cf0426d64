#include "storage/s3/exchange.hpp"

#include "core/logging.hpp"
#include "storage/s3/sigv4.hpp"
#include "storage/s3/store_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>

namespace fluss_fetch::storage::s3 {

namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view empty_payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Arm the stream's timer for one phase: `phase` from now, or the request's
// own deadline when that comes first. Returns the error a timeout then means.
errc arm(connection& c, std::chrono::milliseconds phase, std::chrono::steady_clock::time_point deadline,
         errc phase_timeout) {
    const auto phase_end = std::chrono::steady_clock::now() + phase;
    if (deadline < phase_end) {
        c.lowest().expires_at(deadline);
        return errc::deadline_exceeded;
    }
    c.lowest().expires_at(phase_end);
    return phase_timeout;
}

// The phase decides what a Beast stream timeout means.
boost::system::error_code map_timeout(boost::system::error_code ec, errc phase_timeout) {
    if (ec == beast::error::timeout) return make_error_code(phase_timeout);
    return ec;
}

// The first bytes of an answer that is not HTTP, as hex ("15 03 01 00 02"), for messages.
std::string hex_prefix(const beast::flat_buffer& b, std::size_t n = 8) {
    auto d = b.cdata();
    const auto* p = static_cast<const unsigned char*>(d.data());
    std::string out;
    static const char* digits = "0123456789abcdef";
    for (std::size_t i = 0; i < std::min(n, d.size()); ++i) {
        if (!out.empty()) out += ' ';
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

// A TLS record header: content type 20-23 (change_cipher_spec, alert,
// handshake, application_data), then major version 3.
bool looks_like_tls(const beast::flat_buffer& b) {
    auto d = b.cdata();
    const auto* p = static_cast<const unsigned char*>(d.data());
    return d.size() >= 2 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03;
}

bool is_identity(std::string_view coding) {
    return coding.empty() || beast::iequals(coding, "identity");
}

// "bytes FIRST-LAST/TOTAL" → (first, last, total); TOTAL may be '*'.
bool parse_content_range(std::string_view v, std::uint64_t& first, std::uint64_t& last, std::uint64_t& total) {
    if (!v.starts_with("bytes ")) return false;
    v.remove_prefix(6);
    auto dash = v.find('-'), slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return false;
    auto num = [](std::string_view s, std::uint64_t& out) {
        auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc{} && r.ptr == s.data() + s.size() && !s.empty();
    };
    if (!num(v.substr(0, dash), first) || !num(v.substr(dash + 1, slash - dash - 1), last)) return false;
    auto t = v.substr(slash + 1);
    if (t == "*") {
        total = 0;
        return true;
    }
    return num(t, total);
}

http::request<http::string_body> build_request(const store_state& s, const request_spec& spec,
                                               const aws_credentials* creds) {
    const auto& cfg = s.cfg;
    std::string target = spec.canonical_uri;
    if (!spec.query.empty()) target += "?" + canonical_query(spec.query);
    // Through a proxy in plain HTTP the request line carries the absolute
    // URL; the Host header and the signature (over the path) stay the same.
    if (cfg.proxy && cfg.pub.scheme == "http") target = "http://" + cfg.host_header + target;
    http::request<http::string_body> req{spec.method, target, 11};

    const std::string date = amz_date(std::chrono::system_clock::now());
    const std::string payload_hash =
        spec.body.empty() ? std::string(empty_payload_hash) : sha256_hex(spec.body);
    std::vector<std::pair<std::string, std::string>> signed_headers{
        {"host", cfg.host_header}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}};
    if (spec.range)
        signed_headers.emplace_back("range", "bytes=" + std::to_string(spec.range->offset) + "-" +
                                                 std::to_string(spec.range->offset + spec.range->length - 1));
    if (!spec.if_match.empty()) signed_headers.emplace_back("if-match", spec.if_match);
    if (creds && !creds->session_token.empty()) signed_headers.emplace_back("x-amz-security-token", creds->session_token);
    for (const auto& [name, value] : signed_headers) req.set(name, value);
    req.set(http::field::user_agent, "fluss_fetch/0.1");
    if (cfg.proxy && cfg.pub.scheme == "http" && !cfg.proxy->authorization.empty())
        req.set(http::field::proxy_authorization, cfg.proxy->authorization);
    if (creds) {
        request_to_sign rs{http::to_string(spec.method), spec.canonical_uri, spec.query, signed_headers, payload_hash};
        auto sig = sign(rs, creds->access_key_id, creds->secret_access_key, cfg.pub.region, "s3", date);
        req.set(http::field::authorization, sig.authorization);
    }
    req.body() = spec.body;
    req.keep_alive(true);
    if (spec.method == http::verb::put || !spec.body.empty()) req.prepare_payload();
    return req;
}

// Stream a Content-Length body from `stream` to the sink in chunks of the
// connection's io buffer. Bytes that arrived with the header come first.
template <class Stream>
asio::awaitable<boost::system::error_code> stream_body(Stream& stream, connection& c, const store_state& s,
                                                       detail::op_state& st, std::uint64_t length, byte_sink& sink,
                                                       std::uint64_t& written, std::chrono::milliseconds stall,
                                                       std::chrono::steady_clock::time_point deadline) {
    if (!c.io || c.io_size != s.opts.io_buffer_size) {
        c.io_size = s.opts.io_buffer_size;
        c.io = std::make_unique<std::byte[]>(c.io_size);
    }
    std::byte* io = c.io.get();
    const std::size_t cap = c.io_size;
    std::size_t fill = 0;
    std::uint64_t remaining = length;

    auto head = c.buffer.data();
    const std::size_t first = static_cast<std::size_t>(std::min<std::uint64_t>(asio::buffer_size(head), remaining));
    asio::buffer_copy(asio::buffer(io, first), head);
    c.buffer.consume(first);
    fill = first;
    remaining -= first;

    while (remaining > 0) {
        if (fill == cap) {
            if (auto ec = sink.write(io, fill)) co_return ec;
            written += fill;
            fill = 0;
        }
        if (st.cancelled) co_return asio::error::operation_aborted;
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cap - fill, remaining));
        const errc timeout = arm(c, stall, deadline, errc::stall_timeout);
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(io + fill, want), use_tuple);
        fill += n;
        remaining -= n;
        if (ec) {
            if (st.cancelled) co_return asio::error::operation_aborted;
            if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
                co_return make_error_code(errc::truncated_body);
            co_return map_timeout(ec, timeout);
        }
    }
    if (fill > 0) {
        if (auto ec = sink.write(io, fill)) co_return ec;
        written += fill;
    }
    co_return boost::system::error_code{};
}

template <class Stream>
asio::awaitable<exchange_result> exchange_on(Stream& stream, connection& c, const store_state& s,
                                             detail::op_state& st, const request_spec& spec,
                                             const aws_credentials* creds) {
    exchange_result r;
    c.reusable = false;

    const auto stall = spec.stall_timeout.count() > 0 ? spec.stall_timeout : s.opts.stall_timeout;
    auto req = build_request(s, spec, creds);
    const std::string where = s.cfg.connect_host + ":" + s.cfg.pub.port;
    const auto deadline_message = [&](const std::string& phase) {
        return "the request's deadline passed while " + phase + " (" + where +
               "; download_options.part_deadline / get_options.deadline)";
    };
    const errc write_timeout = arm(c, stall, spec.deadline, errc::stall_timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    if (wec) {
        r.ec = st.cancelled ? asio::error::operation_aborted : map_timeout(wec, write_timeout);
        if (r.ec == errc::deadline_exceeded) r.message = deadline_message("sending the request");
        r.stale = !st.cancelled;
        co_return r;
    }

    http::response_parser<http::empty_body> hp;
    hp.body_limit(boost::none);
    hp.header_limit(64 * 1024);
    if (spec.method == http::verb::head) hp.skip(true);
    const errc header_timeout = arm(c, s.opts.first_byte_timeout, spec.deadline, errc::first_byte_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, c.buffer, hp, use_tuple);
    if (hec) {
        if (st.cancelled) {
            r.ec = asio::error::operation_aborted;
        } else if (c.plain && looks_like_tls(c.buffer)) {
            // TLS bytes on an http:// endpoint: the port speaks TLS, and no
            // retry changes that (Beast sees a bad or partial status line).
            r.ec = make_error_code(errc::unsupported_response);
            r.message = "the server at " + where + " answered with TLS (bytes " + hex_prefix(c.buffer) +
                        "), not HTTP: it seems to speak TLS; use an https:// endpoint instead of http://";
        } else if (hec == http::error::header_limit) {
            r.ec = hec;
            r.message = "the response header of " + where + " is larger than 64 KiB";
        } else if (hec.category() == boost::system::error_code(http::error::bad_version).category() &&
                   hec != http::error::end_of_stream && hec != http::error::partial_message) {
            // Not an HTTP response at all.
            r.ec = hec;
            r.message = "the answer of " + where + " is not an HTTP/1.1 response (" + hec.message() +
                        "; first bytes " + hex_prefix(c.buffer) + ")";
        } else {
            r.stale = hec == http::error::end_of_stream || hec == asio::error::connection_reset;
            r.ec = map_timeout(hec, header_timeout);
            if (hec == http::error::end_of_stream) r.ec = asio::error::eof;
            if (r.ec == errc::deadline_exceeded)
                r.message = deadline_message("waiting for the response header");
            else if (r.ec == errc::first_byte_timeout)
                r.message = "no complete response header from " + where + " within " +
                            std::to_string(s.opts.first_byte_timeout.count()) + " ms (s3_options.first_byte_timeout)";
            else if (hec == http::error::end_of_stream && c.plain)
                r.message = "the server at " + where +
                            " closed the connection without answering (if that port speaks TLS, use https://)";
        }
        co_return r;
    }
    const auto& h = hp.get();
    r.status = h.result_int();
    if (auto cl = hp.content_length()) r.content_length = *cl;
    r.etag = std::string(h[http::field::etag]);
    r.last_modified = std::string(h[http::field::last_modified]);
    r.request_id = std::string(h["x-amz-request-id"]);
    r.location = std::string(h[http::field::location]);
    r.bucket_region = std::string(h["x-amz-bucket-region"]);
    r.object_size = r.content_length.value_or(0);
    const bool ok = r.status >= 200 && r.status < 300;

    if (spec.method == http::verb::head) {
        c.reusable = hp.keep_alive();
        co_return r;
    }

    if (ok && spec.sink) {
        // Answers that no retry makes usable: the same server answers the same way.
        const std::string status_text = "HTTP " + std::to_string(r.status);
        if (const auto coding = h[http::field::content_encoding]; !is_identity(coding)) {
            r.ec = make_error_code(errc::unsupported_response);
            r.message = status_text + " with Content-Encoding: " + std::string(coding) +
                        ": fluss_fetch takes the object's bytes as stored and does not decode them (the object was "
                        "uploaded with that encoding, or a proxy re-encodes it)";
            co_return r;
        }
        if (hp.chunked() || !r.content_length) {
            r.ec = make_error_code(errc::missing_content_length);
            r.message = hp.chunked() ? status_text + " with Transfer-Encoding: chunked and no Content-Length"
                                     : status_text + " without Content-Length (the body ends when the connection does)";
            r.message += ": a GET body needs a Content-Length, or a short body cannot be told from a whole one";
            co_return r;
        }
        if (spec.range) {
            std::uint64_t first = 0, last = 0, total = 0;
            const auto cr = h[http::field::content_range];
            const std::uint64_t want_last = spec.range->offset + spec.range->length - 1;
            const std::string asked =
                "a ranged GET of bytes " + std::to_string(spec.range->offset) + "-" + std::to_string(want_last);
            if (r.status == 200) {
                // The server ignores Range. When the range starts at 0 and covers
                // the whole object these are exactly the bytes asked for (a range
                // past the end is clipped, as S3 does); otherwise never usable.
                if (spec.range->offset != 0 || *r.content_length > spec.range->length) {
                    r.ec = make_error_code(errc::unsupported_response);
                    r.message = "HTTP 200 with the whole object (Content-Length " + std::to_string(*r.content_length) +
                                ") to " + asked + ": the server ignores Range";
                    co_return r;
                }
            } else {
                // A range that runs past the end comes back clipped to the object (as S3 does).
                const bool parsed = r.status == 206 && parse_content_range(cr, first, last, total);
                if (!parsed || first != spec.range->offset || total == 0 || last != std::min(want_last, total - 1) ||
                    *r.content_length != last - first + 1) {
                    r.ec = make_error_code(errc::content_range_mismatch);
                    r.message = "asked for bytes " + std::to_string(spec.range->offset) + "-" +
                                std::to_string(want_last) + ", got " + status_text + " Content-Range '" +
                                std::string(cr) + "' Content-Length " + std::to_string(*r.content_length);
                    co_return r;
                }
                r.object_size = total;
            }
        }
        r.ec = co_await stream_body(stream, c, s, st, *r.content_length, *spec.sink, r.sink_bytes, stall,
                                    spec.deadline);
        if (r.ec == errc::deadline_exceeded)
            r.message = deadline_message("reading the body (" + std::to_string(r.sink_bytes) + " of " +
                                         std::to_string(*r.content_length) + " bytes written)");
        if (!r.ec) c.reusable = hp.keep_alive();
        co_return r;
    }

    // Small bodies: error documents and listings.
    http::response_parser<http::string_body> bp{std::move(hp)};
    bp.body_limit(ok ? spec.string_limit : 64 * 1024);
    while (!bp.is_done()) {
        const errc body_timeout = arm(c, stall, spec.deadline, errc::stall_timeout);
        auto [bec, bn] = co_await http::async_read_some(stream, c.buffer, bp, use_tuple);
        if (bec) {
            if (st.cancelled) {
                r.ec = asio::error::operation_aborted;
            } else if (bec == http::error::body_limit) {
                r.ec = ok ? make_error_code(errc::bad_response) : boost::system::error_code{};
                if (!ok) break;  // an oversized error body still tells the status
            } else if (bec == http::error::partial_message || bec == asio::error::eof) {
                r.ec = make_error_code(errc::truncated_body);
            } else {
                r.ec = map_timeout(bec, body_timeout);
                if (r.ec == errc::deadline_exceeded) r.message = deadline_message("reading the body");
            }
            co_return r;
        }
    }
    r.body = std::move(bp.get().body());
    c.reusable = bp.is_done() && bp.keep_alive();
    co_return r;
}

}  // namespace

asio::awaitable<exchange_result> exchange(connection& c, const store_state& s, detail::op_state& st,
                                          const request_spec& spec, const aws_credentials* creds) {
    if (c.plain) co_return co_await exchange_on(*c.plain, c, s, st, spec, creds);
    co_return co_await exchange_on(*c.tls, c, s, st, spec, creds);
}

}  // namespace fluss_fetch::storage::s3
