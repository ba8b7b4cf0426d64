// SigV4 for S3 (header authentication). Sans-I/O: strings in, strings out.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fluss_fetch::storage::s3 {

/// Percent-encode per SigV4: every byte except A-Z a-z 0-9 - . _ ~ becomes
/// %XX (upper-case hex); '/' is kept when `keep_slash`. Never normalizes.
std::string uri_encode(std::string_view raw, bool keep_slash);

/// The request path for `key` in `bucket`: "/bucket/key" (path style) or
/// "/key" (virtual-hosted), each segment encoded once by `uri_encode(.., true)`.
/// The same string is sent on the request line and signed.
std::string object_path(std::string_view bucket, std::string_view key, bool path_style);

/// hex(SHA-256(data)), lower case.
std::string sha256_hex(std::string_view data);

/// "20130524T000000Z" for a point in time (UTC).
std::string amz_date(std::chrono::system_clock::time_point t);

struct signing_key_inputs {
    std::string_view secret_access_key;
    std::string_view date;     ///< yyyymmdd
    std::string_view region;
    std::string_view service;  ///< "s3"
};

/// The derived signing key (32 raw bytes): HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
std::string derive_signing_key(const signing_key_inputs& in);

/// Everything that goes into one signature.
struct request_to_sign {
    std::string_view method;                                  ///< "GET"
    std::string_view canonical_uri;                           ///< already encoded, e.g. "/bucket/a%20b"
    std::vector<std::pair<std::string, std::string>> query;   ///< raw (unencoded) name/value pairs
    std::vector<std::pair<std::string, std::string>> headers; ///< every header to sign, as sent (any case)
    std::string_view payload_hash;                            ///< the x-amz-content-sha256 value
};

struct signature {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers;   ///< "host;range;x-amz-content-sha256;x-amz-date"
    std::string signature_hex;
    std::string authorization;    ///< the full Authorization header value
};

/// The canonical query string: encoded names and values, sorted by name then
/// value, "name=value" joined by '&' (a bare name gives "name=").
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

/// Sign `req`. `amz_date` must equal the x-amz-date header in `req.headers`.
signature sign(const request_to_sign& req, std::string_view access_key_id, std::string_view secret_access_key,
               std::string_view region, std::string_view service, std::string_view amz_date);

}  // namespace fluss_fetch::storage::s3
