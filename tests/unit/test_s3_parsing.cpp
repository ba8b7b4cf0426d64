// S3 XML documents, the credentials chain and s3:// / file:// URIs.
#include "storage/s3/credentials.hpp"
#include "storage/s3/xml.hpp"

#include <fluss_fetch/storage/uri.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

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
env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.what();
    }
    return "no exception";
}
}  // namespace

TEST(credentials, file_profiles_comments_and_case) {
    const char* text =
        "# comment\n[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n\n"
        "; another\n[ prod ]\nAWS_ACCESS_KEY_ID=AK2\naws_secret_access_key = SK2\naws_session_token = T2\n";
    auto d = parse_credentials_file(text, "default", "f");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->access_key_id, "AK1");
    EXPECT_EQ(d->secret_access_key, "SK1");
    auto p = parse_credentials_file(text, "prod", "f");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->access_key_id, "AK2");
    EXPECT_EQ(p->session_token, "T2");
    EXPECT_FALSE(parse_credentials_file(text, "missing", "f"));
}

TEST(credentials, incomplete_profile_names_file_line_and_key_but_not_the_secret) {
    auto msg = message_of([] { parse_credentials_file("[x]\naws_secret_access_key=VERYSECRET\n", "x", "creds"); });
    EXPECT_NE(msg.find("creds:1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("aws_access_key_id"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("VERYSECRET"), std::string::npos) << msg;
}

TEST(credentials, chain_order) {
    s3_options o;
    o.credentials = s3_credentials{"EX", "EXS", ""};
    EXPECT_EQ(resolve_credentials(o, fake_env({{"AWS_ACCESS_KEY_ID", "E"}, {"AWS_SECRET_ACCESS_KEY", "S"}})).source,
              "explicit");
    o.credentials.reset();
    auto env = resolve_credentials(
        o, fake_env({{"AWS_ACCESS_KEY_ID", "E"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_SESSION_TOKEN", "T"}}));
    EXPECT_EQ(env.source, "environment");
    EXPECT_EQ(env.creds.session_token, "T");

    test::temp_dir dir("creds");
    auto file = dir.path() / "credentials";
    test::write_file(file, "[default]\naws_access_key_id=FD\naws_secret_access_key=FS\n[p2]\n"
                           "aws_access_key_id=P2\naws_secret_access_key=P2S\n");
    auto f = resolve_credentials(o, fake_env({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}}));
    EXPECT_EQ(f.creds.access_key_id, "FD");
    EXPECT_EQ(f.source, "file:" + file.string() + "[default]");
    auto p = resolve_credentials(o, fake_env({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}, {"AWS_PROFILE", "p2"}}));
    EXPECT_EQ(p.creds.access_key_id, "P2");
    o.profile = "default";
    EXPECT_EQ(
        resolve_credentials(o, fake_env({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}, {"AWS_PROFILE", "p2"}}))
            .creds.access_key_id,
        "FD");
    o.profile.clear();
    test::write_file(dir.path() / "home/.aws/credentials", "[default]\naws_access_key_id=H\naws_secret_access_key=HS\n");
    EXPECT_EQ(resolve_credentials(o, fake_env({{"HOME", (dir.path() / "home").string()}})).creds.access_key_id, "H");
    o.anonymous = true;
    EXPECT_EQ(resolve_credentials(o, fake_env({})).source, "anonymous");
}

TEST(credentials, nothing_found_or_half_set_is_a_clear_error) {
    s3_options o;
    auto msg = message_of([&] { resolve_credentials(o, fake_env({{"HOME", "/nonexistent-home"}})); });
    EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/nonexistent-home/.aws/credentials"), std::string::npos) << msg;
    msg = message_of([&] { resolve_credentials(o, fake_env({{"AWS_SECRET_ACCESS_KEY", "SECRETVALUE"}})); });
    EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID is not set"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("SECRETVALUE"), std::string::npos) << msg;
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
