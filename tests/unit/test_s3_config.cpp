// Endpoint, region, addressing and credentials resolution of an s3_store.
#include "storage/s3/config.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace fluss_fetch::storage::s3;

namespace {
env_lookup env_of(std::map<std::string, std::string> vars) {
    vars.emplace("AWS_ACCESS_KEY_ID", "AK");
    vars.emplace("AWS_SECRET_ACCESS_KEY", "SK");
    return [vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
s3_options bucket(std::string b) {
    s3_options o;
    o.bucket = std::move(b);
    return o;
}
std::string error_of(const s3_options& o, const env_lookup& env) {
    try {
        resolve_config(o, env);
    } catch (const std::system_error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(s3_config, defaults_to_aws_virtual_hosted_https) {
    auto c = resolve_config(bucket("my-bucket"), env_of({}));
    EXPECT_EQ(c.pub.scheme, "https");
    EXPECT_EQ(c.pub.host, "s3.us-east-1.amazonaws.com");
    EXPECT_EQ(c.pub.port, "443");
    EXPECT_FALSE(c.pub.path_style);
    EXPECT_EQ(c.host_header, "my-bucket.s3.us-east-1.amazonaws.com");
    EXPECT_EQ(c.pub.endpoint_source, "the default endpoint");
    EXPECT_EQ(c.pub.addressing_source, "automatic");
    EXPECT_EQ(c.pub.path_prefix, "");
    EXPECT_EQ(c.pub.proxy, "");
}

TEST(s3_config, region_and_endpoint_from_the_environment) {
    auto c = resolve_config(bucket("b1b"), env_of({{"AWS_DEFAULT_REGION", "eu-west-1"}}));
    EXPECT_EQ(c.pub.region, "eu-west-1");
    EXPECT_EQ(c.pub.host, "s3.eu-west-1.amazonaws.com");
    c = resolve_config(bucket("b1b"), env_of({{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "eu-west-1"},
                                              {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"}}));
    EXPECT_EQ(c.pub.region, "ap-south-1");
    EXPECT_EQ(c.pub.scheme, "http");
    EXPECT_TRUE(c.pub.path_style) << "IP endpoints use path style";
    EXPECT_EQ(c.host_header, "127.0.0.1:9000");
    auto o = bucket("b1b");
    o.endpoint = "http://localhost:80";
    o.region = "x-1";
    c = resolve_config(o, env_of({{"AWS_REGION", "ap-south-1"}}));
    EXPECT_EQ(c.pub.region, "x-1");
    EXPECT_TRUE(c.pub.path_style);
    EXPECT_EQ(c.host_header, "localhost") << "default port is not sent";
}

TEST(s3_config, addressing_can_be_forced_and_odd_buckets_use_path_style) {
    auto o = bucket("Bucket_With.Odd");
    o.endpoint = "https://minio.example:9443";
    EXPECT_TRUE(resolve_config(o, env_of({})).pub.path_style);
    o.addressing = s3_addressing::virtual_hosted;
    EXPECT_NE(error_of(o, env_of({})).find("cannot be used with virtual-hosted"), std::string::npos);
    o = bucket("good-bucket");
    o.endpoint = "https://minio.example:9443";
    o.addressing = s3_addressing::path;
    auto c = resolve_config(o, env_of({}));
    EXPECT_TRUE(c.pub.path_style);
    EXPECT_EQ(c.host_header, "minio.example:9443");
}

TEST(s3_config, bad_endpoints_are_named) {
    auto o = bucket("b1b");
    o.endpoint = "ftp://host";
    EXPECT_NE(error_of(o, env_of({})).find("scheme must be http or https"), std::string::npos);
    o.endpoint = "http://host/some/path?x=1";
    EXPECT_NE(error_of(o, env_of({})).find("must not carry a query"), std::string::npos);
    EXPECT_NE(error_of(bucket("b1b"), env_of({{"AWS_ENDPOINT_URL", "::nonsense"}})).find("AWS_ENDPOINT_URL"),
              std::string::npos);
    EXPECT_NE(error_of(bucket(""), env_of({})).find("bucket is empty"), std::string::npos);
}

// An IPv6 literal endpoint: path style like any IP, the Host header (and so
// the signature) bracketed as RFC 3986 writes the authority, the address to
// connect to bare.
TEST(s3_config, ipv6_endpoints_keep_brackets_in_the_host_header_only) {
    auto o = bucket("b1b");
    o.endpoint = "http://[::1]:9000";
    auto c = resolve_config(o, env_of({}));
    EXPECT_TRUE(c.pub.path_style) << "IP endpoints use path style";
    EXPECT_EQ(c.pub.host, "[::1]");
    EXPECT_EQ(c.pub.port, "9000");
    EXPECT_EQ(c.host_header, "[::1]:9000");
    EXPECT_EQ(c.connect_host, "::1");
    o.endpoint = "https://[2001:db8::7]";
    c = resolve_config(o, env_of({}));
    EXPECT_EQ(c.host_header, "[2001:db8::7]");
    EXPECT_EQ(c.connect_host, "2001:db8::7");
    EXPECT_EQ(c.pub.port, "443");
}
