// The AWS shared files: parsing (comments, spaces, CRLF, nested `s3 =`
// keys, the config file's `[profile NAME]`), errors naming file:line, and the
// files and profile chosen through options and the environment.
#include "storage/aws/profile.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
using namespace fluss_fetch::storage::aws;

namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string value(const std::map<std::string, profile_section>& m, const std::string& profile,
                  const std::string& key) {
    auto it = m.find(profile);
    if (it == m.end()) return "<no profile " + profile + ">";
    auto v = it->second.get(key);
    return v ? *v : "<no key " + key + ">";
}

std::string parse_error(std::string_view text, bool config_style) {
    try {
        parse_shared_file(text, "/home/u/.aws/config", config_style);
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), static_cast<int>(errc::bad_credentials_file));
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(CredentialsSharedFiles, credentials_file_keys_spaces_and_comments) {
    auto m = parse_shared_file("# leading comment\n"
                               "; another\n"
                               "[default]\n"
                               "aws_access_key_id=AKID1\n"
                               "  aws_secret_access_key   =   s3cr3t/+x   \n"
                               "aws_session_token = tok # an inline comment\n"
                               "Region = eu-west-1 ; also a comment\n"
                               "url = http://h/#frag\n"
                               "\n"
                               "[dev]\n"
                               "aws_access_key_id = AKID2\n",
                               "creds", false);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(value(m, "default", "aws_access_key_id"), "AKID1");
    EXPECT_EQ(value(m, "default", "aws_secret_access_key"), "s3cr3t/+x");
    EXPECT_EQ(value(m, "default", "aws_session_token"), "tok");
    EXPECT_EQ(value(m, "default", "region"), "eu-west-1") << "names are lower-cased";
    EXPECT_EQ(value(m, "default", "url"), "http://h/#frag") << "a '#' without a blank before it is no comment";
    EXPECT_EQ(value(m, "dev", "aws_access_key_id"), "AKID2");
    EXPECT_EQ(m.at("dev").line, 10);
    EXPECT_EQ(m.at("dev").file, "creds");
    EXPECT_EQ(m.at("dev").name, "dev");
}

TEST(CredentialsSharedFiles, crlf_line_ends) {
    auto m = parse_shared_file("[default]\r\naws_access_key_id = AK\r\nregion=us-west-2\r\n\r\n[b]\r\nx = 1\r\n", "f",
                               false);
    EXPECT_EQ(value(m, "default", "aws_access_key_id"), "AK");
    EXPECT_EQ(value(m, "default", "region"), "us-west-2");
    EXPECT_EQ(value(m, "b", "x"), "1");
}

TEST(CredentialsSharedFiles, config_file_profile_prefix) {
    auto m = parse_shared_file("[default]\n"
                               "region = us-east-2\n"
                               "[profile dev]\n"
                               "region = eu-north-1\n"
                               "[staging]\n"  // no profile in the config file
                               "region = nowhere\n"
                               "[sso-session corp]\n"
                               "sso_region = us-east-1\n"
                               "[services s]\n"
                               "s3 =\n"
                               "  endpoint_url = http://x\n"
                               "[profile   spaced   ]\n"
                               "region = ap-east-1\n",
                               "config", true);
    EXPECT_EQ(value(m, "default", "region"), "us-east-2");
    EXPECT_EQ(value(m, "dev", "region"), "eu-north-1");
    EXPECT_EQ(value(m, "spaced", "region"), "ap-east-1");
    EXPECT_EQ(m.count("staging"), 0u);
    EXPECT_EQ(m.count("sso-session corp"), 0u);
    EXPECT_EQ(m.count("corp"), 0u);
    EXPECT_EQ(m.count("services s"), 0u);
    EXPECT_EQ(m.count("profile dev"), 0u);
    EXPECT_EQ(m.size(), 3u);
}

TEST(CredentialsSharedFiles, credentials_file_takes_section_names_literally) {
    auto m = parse_shared_file("[profile dev]\naws_access_key_id = A\n[dev]\naws_access_key_id = B\n", "creds", false);
    EXPECT_EQ(value(m, "dev", "aws_access_key_id"), "B");
    EXPECT_EQ(value(m, "profile dev", "aws_access_key_id"), "A") << "in the credentials file the prefix is the name";
}

TEST(CredentialsSharedFiles, profile_default_wins_over_default_in_either_order) {
    auto a = parse_shared_file("[default]\nregion = plain\nonly_plain = 1\n[profile default]\nregion = prefixed\n",
                               "config", true);
    EXPECT_EQ(value(a, "default", "region"), "prefixed");
    EXPECT_EQ(value(a, "default", "only_plain"), "<no key only_plain>") << "the plain [default] is ignored";
    EXPECT_EQ(a.at("default").line, 4);
    auto b = parse_shared_file("[profile default]\nregion = prefixed\n[default]\nregion = plain\n", "config", true);
    EXPECT_EQ(value(b, "default", "region"), "prefixed");
    // Without a [profile default], [default] is the default profile.
    auto c = parse_shared_file("[default]\nregion = plain\n", "config", true);
    EXPECT_EQ(value(c, "default", "region"), "plain");
}

TEST(CredentialsSharedFiles, repeated_sections_merge) {
    auto m = parse_shared_file("[profile a]\nx = 1\ny = 2\n[profile b]\nz = 3\n[profile a]\ny = 20\n", "config", true);
    EXPECT_EQ(value(m, "a", "x"), "1");
    EXPECT_EQ(value(m, "a", "y"), "20");
    EXPECT_EQ(m.at("a").line, 1);
}

TEST(CredentialsSharedFiles, nested_s3_section) {
    auto m = parse_shared_file("[profile minio]\n"
                               "region = us-east-1\n"
                               "s3 =\n"
                               "  addressing_style = path\n"
                               "\tendpoint_url = http://127.0.0.1:9000   # MinIO\n"
                               "  # a comment inside\n"
                               "  Max_Concurrent_Requests=20\n"
                               "output = json\n"
                               "  \n"
                               "[profile other]\n"
                               "s3 =\n"
                               "    addressing_style = virtual\n",
                               "config", true);
    const auto& p = m.at("minio");
    ASSERT_NE(p.get_nested("s3", "addressing_style"), nullptr);
    EXPECT_EQ(*p.get_nested("s3", "addressing_style"), "path");
    EXPECT_EQ(*p.get_nested("s3", "endpoint_url"), "http://127.0.0.1:9000");
    EXPECT_EQ(*p.get_nested("S3", "max_concurrent_requests"), "20");
    EXPECT_EQ(p.get_nested("s3", "region"), nullptr);
    EXPECT_EQ(p.get_nested("sts", "endpoint_url"), nullptr);
    EXPECT_EQ(value(m, "minio", "output"), "json") << "an unindented line ends the nested section";
    EXPECT_EQ(value(m, "minio", "region"), "us-east-1");
    EXPECT_EQ(p.get("addressing_style"), nullptr) << "sub-properties are not top-level keys";
    EXPECT_EQ(*m.at("other").get_nested("s3", "addressing_style"), "virtual");
    EXPECT_EQ(m.at("other").get_nested("s3", "endpoint_url"), nullptr) << "nested keys belong to their profile";
}

TEST(CredentialsSharedFiles, indented_line_after_a_value_continues_it) {
    auto m = parse_shared_file("[default]\ncredential_process = /bin/tool\n  --flag\nregion = r\n", "config", true);
    EXPECT_EQ(value(m, "default", "credential_process"), "/bin/tool\n--flag");
    EXPECT_EQ(value(m, "default", "region"), "r");
    // An indented property after one with a value stands on its own: the
    // secret must not become part of the (displayed) key id.
    m = parse_shared_file("[default]\naws_access_key_id = AK\n  aws_secret_access_key = SK\n", "creds", false);
    EXPECT_EQ(value(m, "default", "aws_access_key_id"), "AK");
    EXPECT_EQ(value(m, "default", "aws_secret_access_key"), "SK");
}

TEST(CredentialsSharedFiles, key_outside_any_section_names_file_and_line) {
    auto what = parse_error("# comment\n\nregion = us-east-1\n[default]\n", true);
    EXPECT_NE(what.find("/home/u/.aws/config:3:"), std::string::npos) << what;
    EXPECT_NE(what.find("outside any [section]"), std::string::npos) << what;
}

TEST(CredentialsSharedFiles, malformed_lines_name_file_and_line) {
    auto what = parse_error("[default]\nregion = x\nthis line has no equals sign\n", true);
    EXPECT_NE(what.find("/home/u/.aws/config:3:"), std::string::npos) << what;
    EXPECT_NE(what.find("key = value"), std::string::npos) << what;

    what = parse_error("[default]\n[profile broken\n", true);
    EXPECT_NE(what.find("/home/u/.aws/config:2:"), std::string::npos) << what;
    EXPECT_NE(what.find("']'"), std::string::npos) << what;

    what = parse_error("[default]\r\n = value\r\n", false);
    EXPECT_NE(what.find(":2:"), std::string::npos) << what;

    what = parse_error("[profile x]\ns3 =\n  not a property\n", true);
    EXPECT_NE(what.find(":3:"), std::string::npos) << what;
    EXPECT_NE(what.find("s3 ="), std::string::npos) << what;

    what = parse_error("[x] trailing\n", false);
    EXPECT_NE(what.find(":1:"), std::string::npos) << what;

    // Lines of a skipped section are still checked.
    what = parse_error("[sso-session a]\nbroken\n", true);
    EXPECT_NE(what.find(":2:"), std::string::npos) << what;
}

TEST(CredentialsSharedFiles, error_messages_hold_no_values) {
    // A malformed line may be a pasted secret: the message names the place only.
    auto what = parse_error("[default]\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", false);
    EXPECT_EQ(what.find("wJalrXUtnFEMI"), std::string::npos) << what;
    EXPECT_NE(what.find(":2:"), std::string::npos) << what;
}

TEST(CredentialsSharedFiles, header_comment_and_empty_values) {
    auto m = parse_shared_file("[default] # the default\nempty =\nafter = 1 ;c\n", "creds", false);
    EXPECT_EQ(value(m, "default", "empty"), "");
    EXPECT_EQ(value(m, "default", "after"), "1");
}

TEST(CredentialsSharedFiles, expand_home) {
    auto env = env_of({{"HOME", "/home/u"}});
    EXPECT_EQ(expand_home("~/.aws/config", env), "/home/u/.aws/config");
    EXPECT_EQ(expand_home("~", env), "/home/u");
    EXPECT_EQ(expand_home("/etc/x", env), "/etc/x");
    EXPECT_EQ(expand_home("~other/x", env), "~other/x");
    EXPECT_EQ(expand_home("~/x", env_of({{"HOME", "/root/"}})), "/root/x");
    EXPECT_EQ(expand_home("~/x", env_of({})), "~/x") << "no HOME: left alone (the file is then missing)";
}

TEST(CredentialsSharedFiles, load_from_home_with_aws_profile) {
    test::temp_dir dir("shared-files");
    test::write_file(dir.path() / ".aws/credentials", "[dev]\naws_access_key_id = FROMCREDS\nregion = c-1\n");
    test::write_file(dir.path() / ".aws/config", "[profile dev]\nregion = conf-1\noutput = json\n[default]\nx = 1\n");
    credentials_options o;
    o.env = env_of({{"HOME", dir.path().string()}, {"AWS_PROFILE", "dev"}});
    auto f = load_shared_files(o);
    EXPECT_EQ(f.profile, "dev");
    EXPECT_EQ(f.credentials_path, (dir.path() / ".aws/credentials").string());
    EXPECT_EQ(f.config_path, (dir.path() / ".aws/config").string());
    EXPECT_TRUE(f.credentials_file_exists);
    EXPECT_TRUE(f.config_file_exists);
    ASSERT_TRUE(f.credentials);
    ASSERT_TRUE(f.config);
    EXPECT_EQ(f.credentials->file, f.credentials_path);
    ASSERT_NE(f.get("region"), nullptr);
    EXPECT_EQ(*f.get("region"), "c-1") << "the credentials file first";
    EXPECT_EQ(*f.get("output"), "json") << "then the config file";
    EXPECT_EQ(f.get("x"), nullptr) << "keys of other profiles are not the selected one's";
    EXPECT_EQ(f.all_config.count("default"), 1u);
    EXPECT_EQ(f.all_credentials.count("dev"), 1u);
}

TEST(CredentialsSharedFiles, load_from_variables_and_options) {
    test::temp_dir dir("shared-files");
    auto creds = dir.path() / "c.ini";
    auto conf = dir.path() / "k.ini";
    test::write_file(creds, "[default]\naws_access_key_id = ENVFILE\n[p2]\naws_access_key_id = P2\n");
    test::write_file(conf, "[profile p2]\nregion = r2\n");
    credentials_options o;
    o.env = env_of({{"HOME", "/nonexistent-home"},
                    {"AWS_SHARED_CREDENTIALS_FILE", creds.string()},
                    {"AWS_CONFIG_FILE", conf.string()}});
    auto f = load_shared_files(o);
    EXPECT_EQ(f.profile, "default");
    EXPECT_EQ(f.credentials_path, creds.string());
    EXPECT_EQ(f.config_path, conf.string());
    ASSERT_TRUE(f.credentials);
    EXPECT_EQ(*f.get("aws_access_key_id"), "ENVFILE");
    EXPECT_FALSE(f.config) << "no default profile in the config file";

    // Options win over the variables.
    o.profile = "p2";
    o.credentials_file = creds.string();
    o.config_file = conf.string();
    o.env = env_of({{"AWS_PROFILE", "nope"}, {"AWS_SHARED_CREDENTIALS_FILE", "/x"}, {"AWS_CONFIG_FILE", "/y"}});
    f = load_shared_files(o);
    EXPECT_EQ(f.profile, "p2");
    EXPECT_EQ(*f.get("aws_access_key_id"), "P2");
    EXPECT_EQ(*f.get("region"), "r2");
}

TEST(CredentialsSharedFiles, missing_files_are_not_an_error) {
    test::temp_dir dir("shared-files");
    credentials_options o;
    o.env = env_of({{"HOME", dir.path().string()}});
    auto f = load_shared_files(o);
    EXPECT_FALSE(f.credentials_file_exists);
    EXPECT_FALSE(f.config_file_exists);
    EXPECT_FALSE(f.credentials);
    EXPECT_FALSE(f.config);
    EXPECT_EQ(f.get("region"), nullptr);
    EXPECT_EQ(f.credentials_path, (dir.path() / ".aws/credentials").string());
}

TEST(CredentialsSharedFiles, a_malformed_file_fails_the_load_naming_it) {
    test::temp_dir dir("shared-files");
    auto conf = dir.path() / "config";
    test::write_file(conf, "[default]\nregion = x\n\n[profile dev\n");
    credentials_options o;
    o.config_file = conf.string();
    o.env = env_of({{"HOME", dir.path().string()}});
    try {
        load_shared_files(o);
        FAIL() << "no error";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find(conf.string() + ":4:"), std::string::npos) << e.what();
    }
    // A directory where the file should be is an error too, not "missing".
    o.config_file = dir.path().string();
    EXPECT_THROW(load_shared_files(o), std::system_error);
}
