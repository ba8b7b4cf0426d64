#include "storage/s3/config.hpp"

#include "storage/aws/profile.hpp"
#include "storage/s3/sigv4.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <system_error>

namespace fluss_fetch::storage::s3 {
namespace {

[[noreturn]] void fail(errc e, const std::string& what) {
    throw std::system_error(std::error_code(make_error_code(e)), what);
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

bool is_ip_literal(std::string_view host) {
    if (host.empty()) return false;
    if (host.front() == '[') return true;  // IPv6
    return std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// A bucket name that can be a DNS label set (virtual-hosted style).
bool dns_compatible(std::string_view bucket) {
    if (bucket.size() < 3 || bucket.size() > 63) return false;
    return std::all_of(bucket.begin(), bucket.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string base64(std::string_view in) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (unsigned(static_cast<unsigned char>(in[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(in[i + 1])) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += tbl[v & 63];
    }
    if (i + 1 == in.size()) {
        const unsigned v = unsigned(static_cast<unsigned char>(in[i])) << 16;
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        const unsigned v = (unsigned(static_cast<unsigned char>(in[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(in[i + 1])) << 8);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// The URL without anything between "://" and '@' (user info), for messages.
std::string redact_userinfo(std::string_view url) {
    const auto scheme = url.find("://");
    const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    const auto at = url.find('@', start);
    if (at == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1));
}

// The profile, read only when a setting is left to it.
class lazy_profile {
public:
    lazy_profile(const s3_options& opts, const env_lookup& env) : opts_(opts), env_(env) {}

    const aws::shared_files& files() {
        if (!files_) {
            credentials_options co;
            co.profile = opts_.profile;
            co.env = env_;
            files_ = aws::load_shared_files(co);
        }
        return *files_;
    }
    // A key of the selected profile in the config file (then the credentials file).
    const std::string* get(std::string_view key, std::string& where) {
        const auto& f = files();
        for (const auto* s : {f.config ? &*f.config : nullptr, f.credentials ? &*f.credentials : nullptr}) {
            if (s == nullptr) continue;
            if (const auto* v = s->get(key)) {
                where = describe(*s) + " " + std::string(key);
                return v;
            }
        }
        return nullptr;
    }
    // A key of the profile's nested `section =` block.
    const std::string* get_nested(std::string_view section, std::string_view key, std::string& where) {
        const auto& f = files();
        for (const auto* s : {f.config ? &*f.config : nullptr, f.credentials ? &*f.credentials : nullptr}) {
            if (s == nullptr) continue;
            if (const auto* v = s->get_nested(section, key)) {
                where = describe(*s) + " " + std::string(section) + "." + std::string(key);
                return v;
            }
        }
        return nullptr;
    }

private:
    static std::string describe(const aws::profile_section& s) {
        return "profile " + s.name + " (" + s.file + (s.line > 0 ? ":" + std::to_string(s.line) : "") + ")";
    }
    const s3_options& opts_;
    const env_lookup& env_;
    std::optional<aws::shared_files> files_;
};

}  // namespace

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in) {
    std::string host = lower(host_in);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    while (!host.empty() && host.back() == '.') host.pop_back();
    std::size_t pos = 0;
    while (pos <= no_proxy.size()) {
        auto comma = no_proxy.find(',', pos);
        if (comma == std::string_view::npos) comma = no_proxy.size();
        std::string entry = lower(trim(no_proxy.substr(pos, comma - pos)));
        pos = comma + 1;
        if (entry.empty()) continue;
        if (entry == "*") return true;
        // Ports are not compared: "[::1]:8080" → "::1", "host:9000" → "host".
        if (entry.front() == '[') {
            const auto close = entry.find(']');
            entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
        } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
            entry = entry.substr(0, entry.find(':'));
        }
        while (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
        while (!entry.empty() && entry.back() == '.') entry.pop_back();
        if (entry.empty()) continue;
        if (host == entry) return true;
        if (host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.')
            return true;
    }
    return false;
}

proxy_config parse_proxy_url(std::string_view url_in, std::string_view from) {
    std::string url(trim(url_in));
    const std::string shown = redact_userinfo(url);
    const auto bad = [&](const std::string& why) {
        fail(errc::invalid_argument, "proxy '" + shown + "' (from " + std::string(from) + "): " + why);
    };
    if (url.find("://") == std::string::npos) url = "http://" + url;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) bad("not a URL");
    auto u = *parsed;
    const std::string scheme = lower(u.scheme());
    if (scheme != "http")
        bad("scheme must be http (a proxy spoken to in plain HTTP; https origins go through a CONNECT tunnel), not '" +
            scheme + "'");
    proxy_config p;
    p.host = std::string(u.encoded_host_address());
    if (p.host.empty()) bad("no host");
    if (!u.encoded_path().empty() && u.encoded_path() != "/") bad("a proxy URL has no path");
    p.port = u.has_port() && !u.port().empty() ? std::string(u.port()) : "80";
    if (p.host.size() > 2 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
    p.url = "http://" + (p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host) + ":" + p.port;
    if (u.has_userinfo()) {
        const std::string user = u.user();          // percent-decoded
        const std::string pass = u.password();
        p.authorization = "Basic " + base64(user + ":" + pass);
    }
    return p;
}

store_config resolve_config(const s3_options& opts, const env_lookup& env) {
    store_config c;
    auto& p = c.pub;
    lazy_profile profile(opts, env);

    if (opts.bucket.empty()) fail(errc::invalid_argument, "s3_options.bucket is empty: an S3 store needs a bucket");
    p.bucket = opts.bucket;

    p.region = opts.region;
    if (p.region.empty()) p.region = env("AWS_REGION").value_or("");
    if (p.region.empty()) p.region = env("AWS_DEFAULT_REGION").value_or("");
    if (p.region.empty()) {
        std::string where;
        if (const auto* r = profile.get("region", where)) p.region = std::string(trim(*r));
    }
    if (p.region.empty()) p.region = "us-east-1";

    std::string endpoint = opts.endpoint;
    std::string endpoint_source = "s3_options.endpoint";
    const auto from_env = [&](const char* name) {
        if (!endpoint.empty()) return;
        endpoint = env(name).value_or("");
        endpoint_source = name;
    };
    from_env("AWS_ENDPOINT_URL_S3");
    from_env("AWS_ENDPOINT_URL");
    if (endpoint.empty()) {
        // The service's own (`s3 =` / `endpoint_url`) over the profile's global one.
        std::string where;
        const std::string* v = profile.get_nested("s3", "endpoint_url", where);
        if (v == nullptr) v = profile.get("endpoint_url", where);
        if (v != nullptr) {
            endpoint = std::string(trim(*v));
            endpoint_source = where;
        }
    }
    if (endpoint.empty()) {
        endpoint = "https://s3." + p.region + ".amazonaws.com";
        endpoint_source = "the default endpoint";
    }
    p.endpoint_source = endpoint_source;
    auto parsed = boost::urls::parse_uri(endpoint);
    if (!parsed)
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    ") is not a URL: " + parsed.error().message());
    auto u = *parsed;
    p.scheme = lower(u.scheme());
    if (p.scheme != "http" && p.scheme != "https")
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    "): scheme must be http or https, not '" + p.scheme + "'");
    // encoded_host() keeps an IPv6 literal's brackets (encoded_host_address()
    // drops them): the Host header and is_ip_literal() need them; connect_host
    // loses them below.
    p.host = std::string(u.encoded_host());
    if (p.host.empty()) fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source + ") has no host");
    if (u.has_query() || u.has_fragment() || u.has_userinfo())
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    ") must not carry a query, a fragment or user info");
    // A path prefix (a gateway serving S3 under /minio/): kept without the
    // trailing slash, each segment encoded as SigV4 wants it.
    {
        std::string prefix;
        for (auto seg : u.segments()) {
            if (seg.empty()) continue;
            prefix += "/" + uri_encode(seg, false);
        }
        p.path_prefix = prefix;
    }
    const std::string default_port = p.scheme == "https" ? "443" : "80";
    p.port = u.has_port() ? std::string(u.port()) : default_port;
    if (p.port.empty()) p.port = default_port;

    s3_addressing addressing = opts.addressing;
    p.addressing_source = "s3_options.addressing";
    if (addressing == s3_addressing::automatic) {
        p.addressing_source = "automatic";
        std::string where;
        if (const auto* v = profile.get_nested("s3", "addressing_style", where)) {
            const std::string style = lower(trim(*v));
            if (style == "path") addressing = s3_addressing::path;
            else if (style == "virtual") addressing = s3_addressing::virtual_hosted;
            else if (style != "auto")
                fail(errc::invalid_argument, where + " is '" + std::string(trim(*v)) +
                                                 "': addressing_style must be path, virtual or auto");
            p.addressing_source = where;
        }
    }
    switch (addressing) {
    case s3_addressing::path: p.path_style = true; break;
    case s3_addressing::virtual_hosted: p.path_style = false; break;
    case s3_addressing::automatic:
        p.path_style = is_ip_literal(p.host) || p.host == "localhost" || !dns_compatible(p.bucket);
        break;
    }
    if (!p.path_style && !dns_compatible(p.bucket))
        fail(errc::invalid_argument, "bucket '" + p.bucket + "' cannot be used with virtual-hosted addressing (from " +
                                         p.addressing_source + ")");

    c.connect_host = p.path_style ? p.host : p.bucket + "." + p.host;
    c.host_header = c.connect_host + (p.port == default_port ? "" : ":" + p.port);
    // IPv6 literals stay bracketed in the Host header; the resolver and the TLS
    // name check want them bare.
    if (c.connect_host.size() > 2 && c.connect_host.front() == '[')
        c.connect_host = c.connect_host.substr(1, c.connect_host.size() - 2);

    // The proxy: the option, else the scheme's variable unless NO_PROXY exempts the host.
    if (opts.proxy == "none") {
        // explicitly none
    } else if (!opts.proxy.empty()) {
        c.proxy = parse_proxy_url(opts.proxy, "s3_options.proxy");
    } else {
        const bool https = p.scheme == "https";
        std::string value, from;
        static constexpr const char* https_names[] = {"HTTPS_PROXY", "https_proxy"};
        static constexpr const char* http_names[] = {"HTTP_PROXY", "http_proxy"};
        for (const char* name : https ? https_names : http_names) {
            if (auto v = env(name); v && !trim(*v).empty()) {
                value = *v;
                from = name;
                break;
            }
        }
        if (!value.empty()) {
            std::string no_proxy = env("NO_PROXY").value_or("");
            if (no_proxy.empty()) no_proxy = env("no_proxy").value_or("");
            if (!no_proxy_matches(no_proxy, c.connect_host)) c.proxy = parse_proxy_url(value, from);
        }
    }
    if (c.proxy) p.proxy = c.proxy->url;

    c.ca_file = opts.ca_file;
    if (c.ca_file.empty()) c.ca_file = env("AWS_CA_BUNDLE").value_or("");
    return c;
}

}  // namespace fluss_fetch::storage::s3
