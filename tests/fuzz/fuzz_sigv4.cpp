// Fuzz target: SigV4 canonicalisation and signing. Contract: no crash on any
// key, query or header bytes; uri_encode emits only unreserved characters and
// %XX escapes and decodes back to its input; a signature is 64 lower-case hex
// digits, the same every time, and the same whatever the order of the query
// pairs and headers and the case of header names.
#include "storage/s3/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

using namespace fluss_fetch::storage::s3;

namespace {
// Takes values off the front of the input: a length byte, then that many bytes.
struct input {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    bool flag() { return byte() & 1; }
    int count(int max) { return byte() % (max + 1); }
    std::string text(std::size_t max) {
        std::size_t len = std::min<std::size_t>({byte(), max, n});
        std::string s(reinterpret_cast<const char*>(p), len);
        p += len;
        n -= len;
        return s;
    }
};

void check(bool ok) {
    if (!ok) std::abort();
}

bool unreserved(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // lower-case hex is not what SigV4 wants
}

std::string percent_decode(const std::string& s, bool keep_slash) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            check(i + 2 < s.size());
            const int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            check(hi >= 0 && lo >= 0);
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            check(unreserved(s[i]) || (keep_slash && s[i] == '/'));
            out.push_back(s[i]);
        }
    }
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in{data, size};
    const std::string key = in.text(255);
    const bool keep_slash = in.flag();
    check(percent_decode(uri_encode(key, keep_slash), keep_slash) == key);

    const std::string bucket = in.text(64);
    const std::string path = object_path(bucket, key, in.flag());
    check(!path.empty() && path[0] == '/');

    std::vector<std::pair<std::string, std::string>> query, headers;
    const int nq = in.count(4);
    for (int i = 0; i < nq; ++i) {
        auto name = in.text(32);
        query.emplace_back(std::move(name), in.text(32));
    }
    const int nh = in.count(4);
    for (int i = 0; i < nh; ++i) {
        std::string name = "x-fz-" + std::to_string(i) + in.text(16);
        headers.emplace_back(std::move(name), in.text(48));
    }
    const std::string amz_date = "20261125T061500Z";
    headers.emplace_back("x-amz-date", amz_date);
    const std::string secret = in.text(40);
    const std::string region = in.text(16);

    request_to_sign req{"GET", path, query, headers, "UNSIGNED-PAYLOAD"};
    const signature a = sign(req, "AKIDFUZZ", secret, region, "s3", amz_date);
    check(a.signature_hex.size() == 64);
    check(std::all_of(a.signature_hex.begin(), a.signature_hex.end(),
                      [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
    check(sign(req, "AKIDFUZZ", secret, region, "s3", amz_date).signature_hex == a.signature_hex);

    std::reverse(req.query.begin(), req.query.end());
    std::reverse(req.headers.begin(), req.headers.end());
    for (auto& h : req.headers)
        for (auto& c : h.first) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const signature b = sign(req, "AKIDFUZZ", secret, region, "s3", amz_date);
    check(b.canonical_request == a.canonical_request);
    check(b.signature_hex == a.signature_hex);
    return 0;
}
