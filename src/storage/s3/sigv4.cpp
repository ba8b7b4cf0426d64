#include "storage/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace fluss_fetch::storage::s3 {
namespace {

constexpr char hex_upper[] = "0123456789ABCDEF";
constexpr char hex_lower[] = "0123456789abcdef";

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

std::string to_hex(const unsigned char* data, std::size_t n) {
    std::string out(n * 2, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = hex_lower[data[i] >> 4];
        out[2 * i + 1] = hex_lower[data[i] & 0xF];
    }
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
        throw std::runtime_error("HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Trim both ends and collapse inner runs of spaces to one (SigV4 header values).
std::string canonical_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    bool pending_space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

}  // namespace

std::string uri_encode(std::string_view raw, bool keep_slash) {
    std::string out;
    out.reserve(raw.size() * 3 / 2);
    for (unsigned char c : raw) {
        if (unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex_upper[c >> 4]);
            out.push_back(hex_upper[c & 0xF]);
        }
    }
    return out;
}

std::string object_path(std::string_view bucket, std::string_view key, bool path_style) {
    std::string path = "/";
    if (path_style) {
        path += uri_encode(bucket, false);
        path += '/';
    }
    path += uri_encode(key, true);
    return path;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return to_hex(digest, sizeof digest);
}

std::string amz_date(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string derive_signing_key(const signing_key_inputs& in) {
    std::string k = hmac_sha256("AWS4" + std::string(in.secret_access_key), in.date);
    k = hmac_sha256(k, in.region);
    k = hmac_sha256(k, in.service);
    return hmac_sha256(k, "aws4_request");
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<std::pair<std::string, std::string>> enc;
    enc.reserve(query.size());
    for (const auto& [name, value] : query) enc.emplace_back(uri_encode(name, false), uri_encode(value, false));
    std::sort(enc.begin(), enc.end());
    std::string out;
    for (const auto& [name, value] : enc) {
        if (!out.empty()) out.push_back('&');
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

signature sign(const request_to_sign& req, std::string_view access_key_id, std::string_view secret_access_key,
               std::string_view region, std::string_view service, std::string_view amz_date) {
    std::vector<std::pair<std::string, std::string>> headers;
    headers.reserve(req.headers.size());
    for (const auto& [name, value] : req.headers) headers.emplace_back(lower(name), canonical_value(value));
    std::sort(headers.begin(), headers.end());

    signature sig;
    std::string canonical_headers;
    for (const auto& [name, value] : headers) {
        canonical_headers += name + ":" + value + "\n";
        if (!sig.signed_headers.empty()) sig.signed_headers.push_back(';');
        sig.signed_headers += name;
    }
    sig.canonical_request = std::string(req.method) + "\n" + std::string(req.canonical_uri) + "\n" +
                            canonical_query(req.query) + "\n" + canonical_headers + "\n" + sig.signed_headers + "\n" +
                            std::string(req.payload_hash);

    const std::string date(amz_date.substr(0, 8));
    const std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
    sig.string_to_sign =
        "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" + sha256_hex(sig.canonical_request);

    const std::string key = derive_signing_key({secret_access_key, date, region, service});
    const std::string mac = hmac_sha256(key, sig.string_to_sign);
    sig.signature_hex = to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
    sig.authorization = "AWS4-HMAC-SHA256 Credential=" + std::string(access_key_id) + "/" + scope +
                        ", SignedHeaders=" + sig.signed_headers + ", Signature=" + sig.signature_hex;
    return sig;
}

}  // namespace fluss_fetch::storage::s3
