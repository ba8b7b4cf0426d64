// S3 XML documents, the store's choice of credentials provider and s3:// / file:// URIs.
#include "storage/s3/credentials.hpp"
#include "storage/s3/xml.hpp"

#include <fluss_fetch/storage/uri.hpp>

#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <map>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace fluss_fetch::storage::s3;

TEST(xml, error_body) {
    auto e = parse_error_body(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The resource you requested "
        "does not exist &amp; never did</Message><Key>a/b&lt;c</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "NoSuchKey");
    EXPECT_EQ(e->message, "The resource you requested does not exist & never did");
    EXPECT_EQ(e->key, "a/b<c");
    EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
    EXPECT_FALSE(parse_error_body("<html>503 Service Unavailable</html>"));
    EXPECT_FALSE(parse_error_body(""));
}

TEST(xml, list_page_with_entities_and_token) {
    auto p = parse_list_page(
        "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>log/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>log/a&amp;b.log</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>123</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>log/caf&#xE9;&#233;.log</Key><Size>0</Size></Contents>"
        "<NextContinuationToken>tok/en==</NextContinuationToken></ListBucketResult>");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->entries.size(), 2u);
    EXPECT_EQ(p->entries[0].key, "log/a&b.log");
    EXPECT_EQ(p->entries[0].size, 123u);
    EXPECT_EQ(p->entries[0].etag, "\"abc\"");
    EXPECT_EQ(p->entries[1].key, "log/caf\xc3\xa9\xc3\xa9.log");
    EXPECT_TRUE(p->is_truncated);
    EXPECT_EQ(p->next_continuation_token, "tok/en==");
}

TEST(xml, last_page_and_garbage) {
    auto p = parse_list_page("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->entries.empty());
    EXPECT_FALSE(p->is_truncated);
    EXPECT_FALSE(parse_list_page("<ListBucketResult><Contents><Key>k</Key><Size>x1</Size></Contents>"
                                 "</ListBucketResult>"));
    EXPECT_FALSE(parse_list_page("not xml"));
}

namespace {
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.what();
    }
    return "no exception";
}

// A provider that is never asked here: only its describe() is seen.
class named_provider final : public credentials_provider {
public:
    std::string describe() const override { return "my own"; }

protected:
    void do_get_credentials(diagnostics&, credentials_handler) override { ADD_FAILURE() << "asked for credentials"; }
};
}  // namespace

// The shared files and the environment are the providers' business now
// (storage/aws, tests of their own); the store only picks which provider.
TEST(credentials, the_store_picks_provider_then_static_then_anonymous_then_the_default_chain) {
    boost::asio::io_context ioc;
    const env_lookup no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };
    s3_options o;
    o.credentials_provider = std::make_shared<named_provider>();
    o.credentials = s3_credentials{"EX", "EXS", ""};
    o.anonymous = true;
    auto c = make_store_credentials(ioc.get_executor(), o, no_env);
    EXPECT_EQ(c.provider, o.credentials_provider);
    EXPECT_EQ(c.source, "my own");
    EXPECT_EQ(c.access_key_id, "") << "a provider's keys are not known up front";

    o.credentials_provider.reset();
    c = make_store_credentials(ioc.get_executor(), o, no_env);
    ASSERT_TRUE(c.provider);
    EXPECT_EQ(c.source, c.provider->describe());
    EXPECT_EQ(c.access_key_id, "EX");

    o.credentials.reset();
    c = make_store_credentials(ioc.get_executor(), o, no_env);
    EXPECT_FALSE(c.provider);
    EXPECT_EQ(c.source, "anonymous");

    o.anonymous = false;
    c = make_store_credentials(ioc.get_executor(), o, no_env);
    ASSERT_TRUE(c.provider) << "the default chain";
    EXPECT_EQ(c.source, c.provider->describe());
    EXPECT_NE(c.source, "anonymous");
    EXPECT_EQ(c.access_key_id, "");
}

TEST(credentials, half_set_static_credentials_are_named_without_the_secret) {
    boost::asio::io_context ioc;
    s3_options o;
    o.credentials = s3_credentials{"", "SECRETVALUE", ""};
    auto msg = message_of([&] { make_store_credentials(ioc.get_executor(), o, process_env()); });
    EXPECT_NE(msg.find("s3_options.credentials"), std::string::npos) << msg;
    EXPECT_NE(msg.find("access_key_id is empty"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("SECRETVALUE"), std::string::npos) << msg;
}

TEST(credentials, only_token_rejections_earn_a_redo) {
    EXPECT_TRUE(rejects_token(400, "ExpiredToken"));
    EXPECT_TRUE(rejects_token(403, "ExpiredToken"));
    EXPECT_TRUE(rejects_token(400, "InvalidToken"));
    EXPECT_TRUE(rejects_token(403, "InvalidToken"));
    EXPECT_FALSE(rejects_token(403, "AccessDenied"));
    EXPECT_FALSE(rejects_token(403, "SignatureDoesNotMatch"));
    EXPECT_FALSE(rejects_token(403, "InvalidAccessKeyId"));
    EXPECT_FALSE(rejects_token(500, "ExpiredToken"));
}

TEST(object_uri, s3_and_file_forms) {
    auto a = parse_object_uri("s3://bkt/log/db/t-1/0/x.log");
    EXPECT_EQ(a.scheme, object_uri::scheme_kind::s3);
    EXPECT_EQ(a.bucket, "bkt");
    EXPECT_EQ(a.key, "log/db/t-1/0/x.log");
    EXPECT_FALSE(a.is_prefix());
    EXPECT_EQ(a.to_string(), "s3://bkt/log/db/t-1/0/x.log");
    EXPECT_TRUE(parse_object_uri("s3://bkt/log/").is_prefix());
    EXPECT_TRUE(parse_object_uri("s3://bkt").is_prefix());
    auto f = parse_object_uri("file:///var/fluss/a%20b.log");
    EXPECT_EQ(f.scheme, object_uri::scheme_kind::file);
    EXPECT_EQ(f.key, "var/fluss/a b.log");
    EXPECT_EQ(parse_object_uri("file://localhost/tmp/x").key, "tmp/x");
}

TEST(object_uri, errors_quote_the_uri) {
    EXPECT_NE(message_of([] { parse_object_uri("http://x/y"); }).find("unsupported scheme 'http'"),
              std::string::npos);
    EXPECT_NE(message_of([] { parse_object_uri("s3:///key"); }).find("'s3:///key': no bucket"), std::string::npos);
    EXPECT_NE(message_of([] { parse_object_uri("file://relative/x"); }).find("absolute path"), std::string::npos);
    EXPECT_NE(message_of([] { parse_object_uri("file:///a%zz"); }).find("percent-escape"), std::string::npos);
}

TEST(object_uri, java_single_slash_file_and_s3a_forms) {
    // Java's File.toURI() and Hadoop write file:/PATH; Hadoop's S3A names buckets s3a://.
    auto f = parse_object_uri("file:/var/fluss/remote/a%20b");
    EXPECT_EQ(f.scheme, object_uri::scheme_kind::file);
    EXPECT_EQ(f.key, "var/fluss/remote/a b");
    EXPECT_EQ(f.to_string(), "file:///var/fluss/remote/a b");
    EXPECT_EQ(parse_object_uri("file:/").key, "");
    EXPECT_EQ(parse_object_uri("file:/x/").key, "x/");
    EXPECT_TRUE(parse_object_uri("file:/x/").is_prefix());
    auto a = parse_object_uri("s3a://bkt/fluss/log/db/t-1/0");
    EXPECT_EQ(a.scheme, object_uri::scheme_kind::s3);
    EXPECT_EQ(a.bucket, "bkt");
    EXPECT_EQ(a.key, "fluss/log/db/t-1/0");
    EXPECT_EQ(a.to_string(), "s3://bkt/fluss/log/db/t-1/0");
    EXPECT_TRUE(parse_object_uri("s3a://bkt").is_prefix());
    EXPECT_NE(message_of([] { parse_object_uri("s3a:///key"); }).find("'s3a:///key': no bucket"), std::string::npos);
    EXPECT_NE(message_of([] { parse_object_uri("file:relative/x"); }).find("'file:relative/x'"), std::string::npos);
    EXPECT_NE(message_of([] { parse_object_uri("s3n://bkt/x"); }).find("unsupported scheme 's3n'"), std::string::npos);
}
