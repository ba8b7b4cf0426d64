#include "storage/s3/config.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <system_error>

namespace fluss_fetch::storage::s3 {
namespace {

[[noreturn]] void fail(errc e, const std::string& what) {
    throw std::system_error(std::error_code(make_error_code(e)), what);
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

}  // namespace

store_config resolve_config(const s3_options& opts, const env_lookup& env) {
    store_config c;
    auto& p = c.pub;

    if (opts.bucket.empty()) fail(errc::invalid_argument, "s3_options.bucket is empty: an S3 store needs a bucket");
    p.bucket = opts.bucket;

    p.region = opts.region;
    if (p.region.empty()) p.region = env("AWS_REGION").value_or("");
    if (p.region.empty()) p.region = env("AWS_DEFAULT_REGION").value_or("");
    if (p.region.empty()) p.region = "us-east-1";

    std::string endpoint = opts.endpoint;
    std::string endpoint_source = "s3_options.endpoint";
    if (endpoint.empty()) {
        endpoint = env("AWS_ENDPOINT_URL").value_or("");
        endpoint_source = "AWS_ENDPOINT_URL";
    }
    if (endpoint.empty()) {
        endpoint = "https://s3." + p.region + ".amazonaws.com";
        endpoint_source = "the default endpoint";
    }
    auto parsed = boost::urls::parse_uri(endpoint);
    if (!parsed)
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    ") is not a URL: " + parsed.error().message());
    auto u = *parsed;
    p.scheme = std::string(u.scheme());
    std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (p.scheme != "http" && p.scheme != "https")
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    "): scheme must be http or https, not '" + p.scheme + "'");
    p.host = std::string(u.encoded_host_address());
    if (p.host.empty()) fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source + ") has no host");
    if (!u.encoded_path().empty() && u.encoded_path() != "/")
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    ") has a path; give only scheme://host[:port]");
    if (u.has_query() || u.has_userinfo())
        fail(errc::invalid_uri, "endpoint '" + endpoint + "' (from " + endpoint_source +
                                    ") must not carry a query or user info");
    const std::string default_port = p.scheme == "https" ? "443" : "80";
    p.port = u.has_port() ? std::string(u.port()) : default_port;
    if (p.port.empty()) p.port = default_port;

    switch (opts.addressing) {
    case s3_addressing::path: p.path_style = true; break;
    case s3_addressing::virtual_hosted: p.path_style = false; break;
    case s3_addressing::automatic:
        p.path_style = is_ip_literal(p.host) || p.host == "localhost" || !dns_compatible(p.bucket);
        break;
    }
    if (!p.path_style && !dns_compatible(p.bucket))
        fail(errc::invalid_argument, "bucket '" + p.bucket + "' cannot be used with virtual-hosted addressing");

    c.connect_host = p.path_style ? p.host : p.bucket + "." + p.host;
    c.host_header = c.connect_host + (p.port == default_port ? "" : ":" + p.port);
    // IPv6 literals come bracketed from the URL; the resolver wants them bare.
    if (c.connect_host.size() > 2 && c.connect_host.front() == '[')
        c.connect_host = c.connect_host.substr(1, c.connect_host.size() - 2);

    auto rc = resolve_credentials(opts, env);
    c.creds = std::move(rc.creds);
    p.credentials_source = rc.source;
    p.anonymous = opts.anonymous;
    p.access_key_id = c.creds.access_key_id;

    c.ca_file = opts.ca_file;
    if (c.ca_file.empty()) c.ca_file = env("AWS_CA_BUNDLE").value_or("");
    return c;
}

}  // namespace fluss_fetch::storage::s3
