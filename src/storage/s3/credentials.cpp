#include "storage/s3/credentials.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace fluss_fetch::storage::s3 {
namespace {

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

[[noreturn]] void fail(errc e, const std::string& what) {
    throw std::system_error(std::error_code(make_error_code(e)), what);
}

}  // namespace

std::optional<s3_credentials> parse_credentials_file(std::string_view text, std::string_view profile,
                                                     std::string_view file_name) {
    std::istringstream in{std::string(text)};
    std::string line;
    std::string section;
    bool found = false;
    int section_line = 0;
    s3_credentials c;
    for (int n = 1; std::getline(in, line); ++n) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#' || t[0] == ';') continue;
        if (t.front() == '[') {
            if (t.back() != ']')
                fail(errc::bad_credentials_file, std::string(file_name) + ":" + std::to_string(n) +
                                                     ": section header without closing ']'");
            section = trim(std::string_view(t).substr(1, t.size() - 2));
            if (section == profile) {
                found = true;
                section_line = n;
            }
            continue;
        }
        if (section != profile) continue;
        auto eq = t.find('=');
        if (eq == std::string::npos)
            fail(errc::bad_credentials_file,
                 std::string(file_name) + ":" + std::to_string(n) + ": expected 'key = value' in profile [" +
                     std::string(profile) + "]");
        std::string k = lower(trim(std::string_view(t).substr(0, eq)));
        std::string v = trim(std::string_view(t).substr(eq + 1));
        if (k == "aws_access_key_id") c.access_key_id = v;
        else if (k == "aws_secret_access_key") c.secret_access_key = v;
        else if (k == "aws_session_token") c.session_token = v;
    }
    if (!found) return std::nullopt;
    if (c.access_key_id.empty() || c.secret_access_key.empty())
        fail(errc::bad_credentials_file,
             std::string(file_name) + ":" + std::to_string(section_line) + ": profile [" + std::string(profile) +
                 "] lacks " + (c.access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
    return c;
}

env_lookup process_env() {
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
}

resolved_credentials resolve_credentials(const s3_options& opts, const env_lookup& env) {
    if (opts.anonymous) return {{}, "anonymous"};
    if (opts.credentials) {
        if (opts.credentials->access_key_id.empty() || opts.credentials->secret_access_key.empty())
            fail(errc::no_credentials, "s3_options.credentials is set but its access key id or secret is empty");
        return {*opts.credentials, "explicit"};
    }
    auto id = env("AWS_ACCESS_KEY_ID");
    auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (id && secret) return {{*id, *secret, env("AWS_SESSION_TOKEN").value_or("")}, "environment"};
    if (id || secret)
        fail(errc::no_credentials, std::string("AWS_ACCESS_KEY_ID is ") + (id ? "set" : "not set") +
                                       " but AWS_SECRET_ACCESS_KEY is " + (secret ? "set" : "not set") +
                                       ": set both or neither");

    std::string file;
    if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) file = *f;
    else if (auto home = env("HOME")) file = *home + "/.aws/credentials";
    std::string profile = !opts.profile.empty() ? opts.profile : env("AWS_PROFILE").value_or("default");
    if (!file.empty()) {
        std::ifstream in(file);
        if (in) {
            std::stringstream ss;
            ss << in.rdbuf();
            if (auto c = parse_credentials_file(ss.str(), profile, file))
                return {*c, "file:" + file + "[" + profile + "]"};
            fail(errc::no_credentials, "no credentials: options had none, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                                       "are not set, and " + file + " has no profile [" + profile + "]");
        }
    }
    fail(errc::no_credentials, "no credentials: options had none, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not "
                               "set, and there is no credentials file" +
                                   (file.empty() ? std::string() : " at " + file) +
                                   " (for public buckets set anonymous)");
}

}  // namespace fluss_fetch::storage::s3
