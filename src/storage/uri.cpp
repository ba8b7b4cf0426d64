#include <fluss_fetch/storage/local_store.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include <system_error>

namespace fluss_fetch::storage {
namespace {

[[noreturn]] void fail(std::string_view uri, const std::string& why) {
    throw std::system_error(std::error_code(make_error_code(errc::invalid_uri)),
                            "'" + std::string(uri) + "': " + why);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view uri, std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
            fail(uri, "bad percent-escape at position " + std::to_string(i));
        out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
        i += 2;
    }
    return out;
}

}  // namespace

object_uri parse_object_uri(std::string_view uri) {
    object_uri u;
    // s3a:// is how Hadoop (and so Fluss's S3 plugin) names the same buckets.
    const std::size_t s3_prefix = uri.starts_with("s3://") ? 5 : uri.starts_with("s3a://") ? 6 : 0;
    if (s3_prefix != 0) {
        u.scheme = object_uri::scheme_kind::s3;
        auto rest = uri.substr(s3_prefix);
        auto slash = rest.find('/');
        u.bucket = std::string(rest.substr(0, slash));
        if (u.bucket.empty()) fail(uri, "no bucket (expected s3://BUCKET/KEY)");
        if (u.bucket.find_first_of("?#") != std::string::npos) fail(uri, "query or fragment not allowed");
        if (slash != std::string_view::npos) u.key = std::string(rest.substr(slash + 1));
        return u;
    }
    if (uri.starts_with("file://")) {
        u.scheme = object_uri::scheme_kind::file;
        auto rest = uri.substr(7);
        if (rest.starts_with("localhost/")) rest.remove_prefix(9);
        if (!rest.starts_with("/")) fail(uri, "a file URI needs an absolute path: file:///PATH");
        auto path = percent_decode(uri, rest);
        u.key = path.substr(1);
        return u;
    }
    // file:/PATH, the form Java's File.toURI() and Hadoop's Path write (no authority).
    if (uri.starts_with("file:/")) {
        u.scheme = object_uri::scheme_kind::file;
        auto path = percent_decode(uri, uri.substr(5));
        u.key = path.substr(1);
        return u;
    }
    auto colon = uri.find("://");
    if (colon == std::string_view::npos) fail(uri, "not a URI; expected s3://BUCKET/KEY (or s3a://) or file:///PATH (or file:/PATH)");
    fail(uri, "unsupported scheme '" + std::string(uri.substr(0, colon)) + "' (use s3://, s3a:// or file://)");
}

std::string object_uri::to_string() const {
    if (scheme == scheme_kind::s3) return "s3://" + bucket + "/" + key;
    return "file:///" + key;
}

std::unique_ptr<object_store> open_store(object_store::executor_type ex, const object_uri& uri,
                                         const s3_options& base) {
    if (uri.scheme == object_uri::scheme_kind::file) return std::make_unique<local_store>(std::move(ex), "/");
    s3_options o = base;
    o.bucket = uri.bucket;
    return std::make_unique<s3_store>(std::move(ex), std::move(o));
}

}  // namespace fluss_fetch::storage
