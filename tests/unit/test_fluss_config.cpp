// The Fluss server.yaml reader: the flat `key: value` lines Fluss reads, every
// name Fluss's S3 plugin takes a setting under, errors naming file:line, no
// secret in any message, and the s3_options made from it.
#include <fluss_fetch/error.hpp>
#include <fluss_fetch/recovery/fluss_config.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <system_error>

using namespace fluss_fetch;
using recovery::fluss_server_config;
using recovery::parse_fluss_config;

namespace {

constexpr const char* secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

// The what() of the exception `f` throws, and its code; "" when it throws none.
template <class F>
std::pair<std::string, std::error_code> error_of(F f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return {e.what(), e.code()};
    }
    return {"", {}};
}

// The message of parsing `text` as "conf/server.yaml"; checks it is an invalid_argument.
std::string parse_error(const std::string& text) {
    auto [msg, code] = error_of([&] { parse_fluss_config(text, "conf/server.yaml"); });
    EXPECT_EQ(code, make_error_code(errc::invalid_argument)) << text;
    EXPECT_FALSE(msg.empty()) << "no error for:\n" << text;
    return msg;
}

}  // namespace

TEST(fluss_config, reads_the_flat_lines_fluss_reads) {
    const std::string text = std::string() +
                             "# Fluss server.yaml\n"
                             "\n"
                             "bind.listeners: FLUSS://localhost:9123\n"
                             "remote.data.dir: s3://fluss-lake/remote   # the remote dir\n"
                             "   \n"
                             "s3.endpoint:   minio.local:9000\r\n"
                             "s3.access-key: 'AKIAEXAMPLE'\n"
                             "s3.secret-key: \"" + secret + "\"\n"
                             "s3.region: eu-west-1\n"
                             "s3.path.style.access: TRUE\n"
                             "kv.recover.remote-log.prefetch-num: 6\n"
                             "kv.recover.remote-log.download-threads: 2 # fewer than prefetch-num\n"
                             "tablet-server.id: 0";  // no final newline
    const auto c = parse_fluss_config(text, "server.yaml");
    EXPECT_EQ(c.source, "server.yaml");
    EXPECT_EQ(c.remote_data_dir, "s3://fluss-lake/remote");
    EXPECT_EQ(c.remote_data_dir_line, 4);
    EXPECT_EQ(c.s3_endpoint, "minio.local:9000");
    EXPECT_EQ(c.s3_access_key, "AKIAEXAMPLE");
    EXPECT_EQ(c.s3_secret_key, secret);
    EXPECT_EQ(c.s3_region, "eu-west-1");
    EXPECT_EQ(c.s3_path_style_access, std::optional<bool>(true));
    EXPECT_EQ(c.s3_ssl_enabled, std::nullopt);
    EXPECT_EQ(c.prefetch_num, std::optional<int>(6));
    EXPECT_EQ(c.download_threads, std::optional<int>(2));
}

TEST(fluss_config, quotes_comments_and_empty_values) {
    const auto c = parse_fluss_config("remote.data.dir: 'file:/var/fluss/it''s here' # c\n"
                                      "s3.region: \"us-\\\"east\\\"-1\" \n"
                                      "s3.endpoint: http://h:1/a#b\n"  // '#' without a space before: part of the value
                                      "s3.access-key:\n"                // empty: skipped, as Fluss does
                                      "s3.secret-key:   # nothing\n"
                                      "kv.recover.remote-log.prefetch-num: '3'\n",
                                      "x.yaml");
    EXPECT_EQ(c.remote_data_dir, "file:/var/fluss/it's here");
    EXPECT_EQ(c.s3_region, "us-\"east\"-1");
    EXPECT_EQ(c.s3_endpoint, "http://h:1/a#b");
    EXPECT_EQ(c.s3_access_key, "");
    EXPECT_EQ(c.s3_secret_key, "");
    EXPECT_EQ(c.prefetch_num, std::optional<int>(3));
    // An empty file and a file of comments: nothing set.
    const auto empty = parse_fluss_config("", "e.yaml");
    EXPECT_EQ(empty.remote_data_dir, "");
    EXPECT_EQ(empty.prefetch_num, std::nullopt);
    EXPECT_EQ(parse_fluss_config("# only\n\n  # comments\n", "e.yaml").s3_endpoint, "");
    // `$${` is Fluss's escape for a literal `${`.
    EXPECT_EQ(parse_fluss_config("s3.region: $${x}\n", "e.yaml").s3_region, "${x}");
}

TEST(fluss_config, every_name_of_an_s3_setting_and_the_last_line_wins) {
    const auto c = parse_fluss_config("fs.s3a.access.key: AK1\n"
                                      "s3a.secret.key: SK1\n"
                                      "fs.s3a.endpoint: e1\n"
                                      "s3a.region: r1\n"
                                      "fs.s3a.path-style-access: false\n"
                                      "fs.s3a.connection.ssl.enabled: false\n"
                                      "s3.access-key: AK2\n",  // later: wins over fs.s3a.access.key
                                      "a.yaml");
    EXPECT_EQ(c.s3_access_key, "AK2");
    EXPECT_EQ(c.s3_secret_key, "SK1");
    EXPECT_EQ(c.s3_endpoint, "e1");
    EXPECT_EQ(c.s3_region, "r1");
    EXPECT_EQ(c.s3_path_style_access, std::optional<bool>(false));
    EXPECT_EQ(c.s3_ssl_enabled, std::optional<bool>(false));
    // The same key twice: the last one (Fluss's Configuration.setString overwrites).
    EXPECT_EQ(parse_fluss_config("s3.region: a\ns3.region: b\n", "a.yaml").s3_region, "b");
    // Names that only look alike are not read.
    const auto other = parse_fluss_config("s3x.region: a\nmy.s3.region: b\ns3.regions: c\n", "a.yaml");
    EXPECT_EQ(other.s3_region, "");
}

TEST(fluss_config, nested_maps_and_other_yaml_are_refused_naming_file_and_line) {
    auto msg = parse_error("remote.data.dir: s3://b/r\n# s3 settings\ns3:\n  endpoint: h\n");
    EXPECT_NE(msg.find("conf/server.yaml:3: 's3:' starts a nested map (line 4 is indented)"), std::string::npos) << msg;
    msg = parse_error("a: b\n  c: d\n");
    EXPECT_NE(msg.find("conf/server.yaml:2: an indented line"), std::string::npos) << msg;
    msg = parse_error("a: b\n- item\n");
    EXPECT_NE(msg.find("conf/server.yaml:2: a list item"), std::string::npos) << msg;
    msg = parse_error("a: b\nc: d\ns3.endpoint:h\n");  // Fluss needs ": "
    EXPECT_NE(msg.find("conf/server.yaml:3: not a 'key: value' line"), std::string::npos) << msg;
    msg = parse_error("just words\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: not a 'key: value' line"), std::string::npos) << msg;
    msg = parse_error("\n\ns3.region: 'open\n");
    EXPECT_NE(msg.find("conf/server.yaml:3: s3.region: unterminated single-quoted value"), std::string::npos) << msg;
    msg = parse_error("s3.region: \"a\" b\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: s3.region: text after the closing quote"), std::string::npos) << msg;
    msg = parse_error("x: 1\ns3.region: {a: b}\n");
    EXPECT_NE(msg.find("conf/server.yaml:2: s3.region: a flow collection"), std::string::npos) << msg;
    msg = parse_error("s3.region: |\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: s3.region: a block scalar"), std::string::npos) << msg;
    msg = parse_error(": v\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: an empty key"), std::string::npos) << msg;
    msg = parse_error("s3.region: \"a\\q\"\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: s3.region: an escape"), std::string::npos) << msg;
    // An empty `key:` followed by a flat line is not a nested map.
    EXPECT_EQ(parse_fluss_config("s3:\ns3.region: r\n", "ok.yaml").s3_region, "r");
}

TEST(fluss_config, bad_values_name_the_key_and_line) {
    auto msg = parse_error("s3.path.style.access: yes\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: s3.path.style.access: 'yes' is not true or false"), std::string::npos)
        << msg;
    msg = parse_error("\nkv.recover.remote-log.prefetch-num: four\n");
    EXPECT_NE(msg.find("conf/server.yaml:2: kv.recover.remote-log.prefetch-num: 'four' is not an integer"),
              std::string::npos)
        << msg;
    msg = parse_error("kv.recover.remote-log.download-threads: 0\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: kv.recover.remote-log.download-threads: must be at least 1"),
              std::string::npos)
        << msg;
    msg = parse_error("kv.recover.remote-log.download-threads: 99999999999\n");
    EXPECT_NE(msg.find("is not an integer"), std::string::npos) << msg;
    msg = parse_error("kv.recover.remote-log.download-threads: -2\n");
    EXPECT_NE(msg.find("must be at least 1"), std::string::npos) << msg;
    msg = parse_error("s3.region: ${env:REGION}\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: s3.region: a config provider marker"), std::string::npos) << msg;
}

TEST(fluss_config, no_error_quotes_the_secret) {
    const std::string s = secret;
    for (const std::string text : {"s3.secret-key: \"" + s + "\n",           // unterminated
                                   "s3.secret-key: '" + s + "' trailing\n",  // text after the quote
                                   "s3.secret-key: " + s + "\n",             // no access key
                                   "s3.access-key: AK\ns3.secret-key: ${file:/x:" + s + "}\n",  // a marker
                                   "s3.secret-key: {" + s + "}\n",           // a flow collection
                                   s + "\n",                                 // a line that is only the secret
                                   "s3.secret-key: \"" + s + "\\q\"\n"}) {   // a bad escape
        const auto msg = parse_error(text);
        EXPECT_EQ(msg.find(s), std::string::npos) << msg;
        EXPECT_NE(msg.find("conf/server.yaml:"), std::string::npos) << msg;
    }
    // Half of the pair is named, by the name used.
    auto msg = parse_error("fs.s3a.secret.key: " + s + "\n");
    EXPECT_NE(msg.find("conf/server.yaml:1: fs.s3a.secret.key is set but no access key"), std::string::npos) << msg;
    msg = parse_error("x: y\ns3.access-key: AK\n");
    EXPECT_NE(msg.find("conf/server.yaml:2: s3.access-key is set but no secret key"), std::string::npos) << msg;
    // describe() shows what was read, not the secret.
    const auto c = parse_fluss_config("s3.access-key: AK\ns3.secret-key: " + s + "\ns3.endpoint: h:9000\n", "d.yaml");
    const auto d = c.describe();
    EXPECT_EQ(d.find(s), std::string::npos) << d;
    EXPECT_NE(d.find("s3.access-key=AK"), std::string::npos) << d;
    EXPECT_NE(d.find("s3.secret-key=(set)"), std::string::npos) << d;
    EXPECT_NE(d.find("s3.endpoint=h:9000"), std::string::npos) << d;
}

TEST(fluss_config, s3_options_from_the_file) {
    // An endpoint without a scheme is https (Hadoop's fs.s3a.connection.ssl.enabled defaults to true).
    auto c = parse_fluss_config("s3.endpoint: minio.local:9000\ns3.region: eu-west-1\ns3.path.style.access: true\n"
                                "s3.access-key: AK\ns3.secret-key: SK\n",
                                "o.yaml");
    storage::s3_options base;
    base.ca_file = "/etc/ca.pem";
    base.profile = "dev";
    auto o = recovery::fluss_s3_options(c, base);
    EXPECT_EQ(o.endpoint, "https://minio.local:9000");
    EXPECT_EQ(o.region, "eu-west-1");
    EXPECT_EQ(o.addressing, storage::s3_addressing::path);
    ASSERT_TRUE(o.credentials.has_value());
    EXPECT_EQ(o.credentials->access_key_id, "AK");
    EXPECT_EQ(o.credentials->secret_access_key, "SK");
    EXPECT_EQ(o.credentials->session_token, "");
    EXPECT_NE(o.credentials->source.find("o.yaml"), std::string::npos);
    EXPECT_EQ(o.ca_file, "/etc/ca.pem");  // the rest is base's
    EXPECT_EQ(o.profile, "dev");
    // A scheme is kept; ssl disabled makes a bare endpoint http; false is virtual-hosted.
    c = parse_fluss_config("s3.endpoint: http://127.0.0.1:9000/prefix\ns3.path.style.access: false\n", "o.yaml");
    o = recovery::fluss_s3_options(c);
    EXPECT_EQ(o.endpoint, "http://127.0.0.1:9000/prefix");
    EXPECT_EQ(o.addressing, storage::s3_addressing::virtual_hosted);
    EXPECT_FALSE(o.credentials.has_value());
    c = parse_fluss_config("s3.endpoint: ceph.local\ns3.connection.ssl.enabled: false\n", "o.yaml");
    EXPECT_EQ(recovery::fluss_s3_endpoint_url(c), "http://ceph.local");
    // Nothing set: base as it was (the environment and the default chain decide).
    base.endpoint = "http://flag:1";
    base.addressing = storage::s3_addressing::virtual_hosted;
    o = recovery::fluss_s3_options(parse_fluss_config("remote.data.dir: s3://b/r\n", "o.yaml"), base);
    EXPECT_EQ(o.endpoint, "http://flag:1");
    EXPECT_EQ(o.region, "");
    EXPECT_EQ(o.addressing, storage::s3_addressing::virtual_hosted);
    EXPECT_FALSE(o.credentials.has_value());
}

TEST(fluss_config, load_reads_a_file_and_names_it) {
    test::temp_dir dir("fluss-config");
    const auto file = dir.path() / "server.yaml";
    test::write_file(file, "remote.data.dir: file:/var/fluss\nkv.recover.remote-log.prefetch-num: 8\n");
    const auto c = recovery::load_fluss_config(file);
    EXPECT_EQ(c.source, file.string());
    EXPECT_EQ(c.remote_data_dir, "file:/var/fluss");
    EXPECT_EQ(c.prefetch_num, std::optional<int>(8));
    test::write_file(file, "ok: 1\ns3:\n  region: x\n");
    auto [msg, code] = error_of([&] { recovery::load_fluss_config(file); });
    EXPECT_EQ(code, make_error_code(errc::invalid_argument));
    EXPECT_NE(msg.find(file.string() + ":2: 's3:' starts a nested map"), std::string::npos) << msg;
    std::tie(msg, code) = error_of([&] { recovery::load_fluss_config(dir.path() / "missing.yaml"); });
    EXPECT_EQ(code, make_error_code(errc::file_error));
    EXPECT_NE(msg.find("missing.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
}
