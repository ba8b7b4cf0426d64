// The AWS shared files (~/.aws/credentials, ~/.aws/config), parsed as the
// AWS CLI and the SDKs read them (aws-c-sdkutils' profile rules):
//
// - `[default]` and `[profile NAME]` in the config file (`[NAME]` alone is
//   no profile there; `[profile default]` wins over `[default]`); `[NAME]`
//   in the credentials file, where `[profile dev]` is a profile literally
//   named "profile dev";
// - `key = value` (spaces optional), names lower-cased, values trimmed;
// - comments: a line whose first non-blank is '#' or ';', and after a value
//   a '#' or ';' preceded by a blank;
// - an indented line after `key =` (empty value) is a sub-property
//   (`s3 =` / `  addressing_style = path`); after `key = value` it continues
//   the value (joined with '\n') unless it is a `key = value` itself;
// - a property before any section, a header without ']', or a line without
//   '=' is an error naming file:line. Sections of the same name merge.
#include "storage/aws/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <sys/stat.h>

namespace fluss_fetch::storage::aws {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return r;
}

/// Cut a trailing comment: '#' or ';' preceded by a blank (or at the start).
std::string_view strip_inline_comment(std::string_view v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
        if ((v[i] == '#' || v[i] == ';') && (i == 0 || is_blank(v[i - 1]))) return v.substr(0, i);
    }
    return v;
}

[[noreturn]] void fail(std::string_view file, int line, const std::string& what) {
    throw std::system_error(std::error_code(make_error_code(errc::bad_credentials_file)),
                            std::string(file) + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

const std::string* profile_section::get(std::string_view key) const {
    auto it = values.find(lower(key));
    return it == values.end() ? nullptr : &it->second;
}

const std::string* profile_section::get_nested(std::string_view section, std::string_view key) const {
    auto s = nested.find(lower(section));
    if (s == nested.end()) return nullptr;
    auto it = s->second.find(lower(key));
    return it == s->second.end() ? nullptr : &it->second;
}

std::map<std::string, profile_section> parse_shared_file(std::string_view text, std::string_view file_name,
                                                         bool config_style) {
    std::map<std::string, profile_section> out;
    std::set<std::string> prefixed;  // config file: profiles that came from a [profile NAME] header

    // The section keys go to: nullptr before any header; `skip` for a section
    // that is no profile (config `[dev]`, `[sso-session x]`, `[default]` after
    // `[profile default]`): its lines are still checked, their keys dropped.
    bool in_section = false;
    profile_section* current = nullptr;
    profile_section skip;
    std::string last_key;       // the property an indented line belongs to
    bool last_empty = false;    // its value was empty: indented lines are sub-properties

    int n = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view raw = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++n;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);

        std::string_view t = trim(raw);
        if (t.empty() || t.front() == '#' || t.front() == ';') continue;

        if (t.front() == '[') {
            auto close = t.find(']');
            if (close == std::string_view::npos) fail(file_name, n, "section header without closing ']'");
            std::string_view rest = trim(t.substr(close + 1));
            if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
                fail(file_name, n, "unexpected text after the section header's ']'");
            std::string_view name = trim(t.substr(1, close - 1));
            if (name.empty()) fail(file_name, n, "empty section name '[]'");
            in_section = true;
            last_key.clear();
            current = &skip;
            std::string profile;
            bool has_prefix = false;
            if (!config_style) {
                profile = std::string(name);
            } else if (name == "default") {
                profile = "default";
            } else if (name.size() > 7 && name.substr(0, 7) == "profile" && is_blank(name[7])) {
                profile = std::string(trim(name.substr(8)));
                has_prefix = true;
            }
            if (profile.empty()) continue;  // not a profile: skipped
            if (config_style && profile == "default") {
                bool had_prefixed = prefixed.count(profile) > 0;
                if (!has_prefix && had_prefixed) continue;  // [profile default] wins over [default]
                if (has_prefix && !had_prefixed) {
                    out.erase(profile);  // drop what a plain [default] gave
                    prefixed.insert(profile);
                }
            } else if (has_prefix) {
                prefixed.insert(profile);
            }
            auto [it, inserted] = out.try_emplace(profile);
            if (inserted) {
                it->second.name = profile;
                it->second.file = std::string(file_name);
                it->second.line = n;
            }
            current = &it->second;
            continue;
        }

        bool indented = is_blank(raw.front());
        // An indented `key = value` after a property with a value is a
        // property of its own (an indented paste), not a continuation: taken
        // as one, `aws_secret_access_key = ...` would land inside the key id.
        bool own_property = !last_empty && t.find('=') != std::string_view::npos;
        if (indented && in_section && !last_key.empty() && !own_property) {
            std::string_view v = trim(strip_inline_comment(t));
            if (last_empty) {
                auto eq = v.find('=');
                if (eq == std::string_view::npos)
                    fail(file_name, n, "expected 'key = value' under '" + last_key + " ='");
                std::string k = lower(trim(v.substr(0, eq)));
                if (k.empty()) fail(file_name, n, "a sub-property without a name under '" + last_key + " ='");
                current->nested[last_key][k] = std::string(trim(v.substr(eq + 1)));
            } else if (!v.empty()) {
                std::string& value = current->values[last_key];
                value += '\n';
                value += v;
            }
            continue;
        }

        auto eq = t.find('=');
        if (eq == std::string_view::npos) fail(file_name, n, "expected 'key = value' or '[section]'");
        std::string key = lower(trim(t.substr(0, eq)));
        if (key.empty()) fail(file_name, n, "a property without a name");
        if (!in_section) fail(file_name, n, "property '" + key + "' outside any [section]");
        std::string value(trim(strip_inline_comment(t.substr(eq + 1))));
        last_key = key;
        last_empty = value.empty();
        current->values[key] = std::move(value);
    }
    return out;
}

const std::string* shared_files::get(std::string_view key) const {
    if (credentials)
        if (auto v = credentials->get(key)) return v;
    if (config)
        if (auto v = config->get(key)) return v;
    return nullptr;
}

std::string expand_home(std::string_view path, const env_lookup& env) {
    if (path.empty() || path.front() != '~') return std::string(path);
    if (path.size() > 1 && path[1] != '/') return std::string(path);  // ~user: not ours to expand
    std::optional<std::string> home = env ? env("HOME") : std::nullopt;
    if (!home || home->empty()) return std::string(path);
    std::string r = *home;
    if (r.size() > 1 && r.back() == '/') r.pop_back();
    r.append(path.substr(1));
    return r;
}

namespace {

/// Read `path`; false when it does not exist. Throws when it exists but
/// cannot be read (a directory, no permission): that is a broken setup, not
/// "not configured".
bool read_whole(const std::string& path, std::string& out) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return false;
        int e = errno;
        throw std::system_error(std::error_code(make_error_code(errc::bad_credentials_file)),
                                path + ": " + std::strerror(e));
    }
    if (S_ISDIR(st.st_mode))
        throw std::system_error(std::error_code(make_error_code(errc::bad_credentials_file)),
                                path + ": is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int e = errno;
        throw std::system_error(std::error_code(make_error_code(errc::bad_credentials_file)),
                                path + ": cannot open: " + std::strerror(e));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = std::move(ss).str();
    return true;
}

}  // namespace

shared_files load_shared_files(const credentials_options& opts) {
    env_lookup env = opts.env ? opts.env : process_env();
    shared_files f;
    f.profile = opts.profile;
    if (f.profile.empty()) f.profile = env("AWS_PROFILE").value_or("");
    if (f.profile.empty()) f.profile = "default";

    std::string cred = opts.credentials_file;
    if (cred.empty()) cred = env("AWS_SHARED_CREDENTIALS_FILE").value_or("");
    if (cred.empty()) cred = "~/.aws/credentials";
    std::string conf = opts.config_file;
    if (conf.empty()) conf = env("AWS_CONFIG_FILE").value_or("");
    if (conf.empty()) conf = "~/.aws/config";
    f.credentials_path = expand_home(cred, env);
    f.config_path = expand_home(conf, env);

    std::string text;
    if (read_whole(f.credentials_path, text)) {
        f.credentials_file_exists = true;
        f.all_credentials = parse_shared_file(text, f.credentials_path, false);
        if (auto it = f.all_credentials.find(f.profile); it != f.all_credentials.end()) f.credentials = it->second;
    }
    text.clear();
    if (read_whole(f.config_path, text)) {
        f.config_file_exists = true;
        f.all_config = parse_shared_file(text, f.config_path, true);
        if (auto it = f.all_config.find(f.profile); it != f.all_config.end()) f.config = it->second;
    }
    return f;
}

}  // namespace fluss_fetch::storage::aws
