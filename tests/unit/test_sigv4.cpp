// SigV4 against the AWS documentation examples (spec/s3.md), and the encoders.
#include "storage/s3/sigv4.hpp"

#include <gtest/gtest.h>

using namespace fluss_fetch::storage::s3;

namespace {
constexpr const char* ak = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* sk = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* date = "20130524T000000Z";
constexpr const char* host = "examplebucket.s3.amazonaws.com";
constexpr const char* empty_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}  // namespace

TEST(sigv4, signing_key_matches_aws_example) {
    auto k = derive_signing_key({sk, "20130524", "us-east-1", "s3"});
    std::string hex;
    for (unsigned char c : k) {
        static const char* d = "0123456789abcdef";
        hex += d[c >> 4];
        hex += d[c & 15];
    }
    EXPECT_EQ(hex, "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST(sigv4, get_object_with_range) {
    request_to_sign r{"GET", "/test.txt", {},
                      {{"Host", host}, {"Range", "bytes=0-9"}, {"x-amz-content-sha256", empty_hash}, {"x-amz-date", date}},
                      empty_hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_EQ(sha256_hex(s.canonical_request), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    EXPECT_EQ(s.signature_hex, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(s.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
              "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(sigv4, put_object_with_encoded_key_and_body_hash) {
    const std::string body = "Welcome to Amazon S3.";
    const std::string hash = sha256_hex(body);
    EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const std::string path = object_path("examplebucket", "test$file.text", false);
    EXPECT_EQ(path, "/test%24file.text");
    request_to_sign r{"PUT", path, {},
                      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                       {"Host", host},
                       {"x-amz-content-sha256", hash},
                       {"x-amz-date", date},
                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                      hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
    EXPECT_EQ(s.signature_hex, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(sigv4, bucket_lifecycle_bare_query_name) {
    request_to_sign r{"GET", "/", {{"lifecycle", ""}},
                      {{"Host", host}, {"x-amz-content-sha256", empty_hash}, {"x-amz-date", date}}, empty_hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_NE(s.canonical_request.find("\nlifecycle=\n"), std::string::npos);
    EXPECT_EQ(s.signature_hex, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(sigv4, list_objects_sorted_query) {
    // Given out of order on purpose: the canonical query sorts by name.
    request_to_sign r{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                      {{"Host", host}, {"x-amz-content-sha256", empty_hash}, {"x-amz-date", date}}, empty_hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_NE(s.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
    EXPECT_EQ(s.signature_hex, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(sigv4, a_different_secret_gives_a_different_signature) {
    request_to_sign r{"GET", "/test.txt", {},
                      {{"Host", host}, {"x-amz-content-sha256", empty_hash}, {"x-amz-date", date}}, empty_hash};
    EXPECT_NE(sign(r, ak, sk, "us-east-1", "s3", date).signature_hex,
              sign(r, ak, "other", "us-east-1", "s3", date).signature_hex);
}

TEST(sigv4, header_values_trimmed_collapsed_and_names_lowered) {
    request_to_sign r{"GET", "/k", {},
                      {{"X-Amz-Date", date}, {"HOST", host}, {"x-amz-meta-a", "  a   b  c "},
                       {"x-amz-content-sha256", empty_hash}},
                      empty_hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_NE(s.canonical_request.find("x-amz-meta-a:a b c\n"), std::string::npos);
    EXPECT_NE(s.canonical_request.find("host:examplebucket.s3.amazonaws.com\n"), std::string::npos);
    EXPECT_EQ(s.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a");
}

TEST(sigv4, session_token_is_signed) {
    request_to_sign r{"GET", "/k", {},
                      {{"host", host}, {"x-amz-content-sha256", empty_hash}, {"x-amz-date", date},
                       {"x-amz-security-token", "TOKEN"}},
                      empty_hash};
    auto s = sign(r, ak, sk, "us-east-1", "s3", date);
    EXPECT_EQ(s.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
    EXPECT_NE(s.canonical_request.find("x-amz-security-token:TOKEN\n"), std::string::npos);
}

TEST(uri_encode, encodes_once_and_never_normalizes) {
    EXPECT_EQ(uri_encode("a b", true), "a%20b");
    EXPECT_EQ(uri_encode("a+b", true), "a%2Bb");
    EXPECT_EQ(uri_encode("100%", true), "100%25");
    EXPECT_EQ(uri_encode("~-._", true), "~-._");
    EXPECT_EQ(uri_encode("\xc3\xa9", true), "%C3%A9");  // é in UTF-8
    EXPECT_EQ(uri_encode("a//b/./../c", true), "a//b/./../c");
    EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
    EXPECT_EQ(uri_encode("=&", false), "%3D%26");
}

TEST(uri_encode, object_paths_by_addressing_style) {
    EXPECT_EQ(object_path("bkt", "log/db/t-1/0/x y.log", true), "/bkt/log/db/t-1/0/x%20y.log");
    EXPECT_EQ(object_path("bkt", "log/db/t-1/0/x y.log", false), "/log/db/t-1/0/x%20y.log");
}

TEST(canonical_query, encodes_slash_and_equals_and_sorts_by_value_too) {
    EXPECT_EQ(canonical_query({{"prefix", "a/b=c"}, {"list-type", "2"}}), "list-type=2&prefix=a%2Fb%3Dc");
    EXPECT_EQ(canonical_query({{"k", "b"}, {"k", "a"}}), "k=a&k=b");
}

TEST(amz_date, formats_utc) {
    EXPECT_EQ(amz_date(std::chrono::system_clock::time_point{} + std::chrono::seconds(1369353600)),
              "20130524T000000Z");
}
