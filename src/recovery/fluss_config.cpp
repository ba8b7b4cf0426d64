#include <fluss_fetch/error.hpp>
#include <fluss_fetch/recovery/fluss_config.hpp>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace fluss_fetch::recovery {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Where the trailing comment of `s` starts: a '#' at the start or after
// whitespace (YAML's rule); npos when there is none.
std::size_t comment_start(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '#' && (i == 0 || is_space(s[i - 1]))) return i;
    return std::string_view::npos;
}

struct entry {
    std::string value;
    int line = 0;
};

class parser {
public:
    explicit parser(std::string_view name) : name_(name.empty() ? "<fluss config>" : name) {}

    [[noreturn]] void fail(int line, const std::string& why) const {
        throw std::system_error(make_error_code(errc::invalid_argument),
                                name_ + ":" + std::to_string(line) + ": " + why);
    }

    std::map<std::string, entry> parse(std::string_view text) {
        std::map<std::string, entry> out;
        int line_no = 0;
        std::string open_key;  // a `key:` with no value, just before: a nested map if indented lines follow
        int open_line = 0;
        while (!text.empty() || line_no == 0) {
            const auto nl = text.find('\n');
            std::string_view line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
            ++line_no;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            std::size_t indent = 0;
            while (indent < line.size() && is_space(line[indent])) ++indent;
            if (indent == line.size() || line[indent] == '#') {
                if (nl == std::string_view::npos) break;
                continue;  // blank, or a comment
            }
            if (indent > 0) {
                if (!open_key.empty())
                    fail(open_line, "'" + open_key + ":' starts a nested map (line " + std::to_string(line_no) +
                                        " is indented); Fluss reads flat 'key: value' lines: write '" + open_key +
                                        ".NAME: value'");
                fail(line_no, "an indented line: nested YAML is not what Fluss reads (flat 'key: value' lines)");
            }
            open_key.clear();
            one_line(line, line_no, out, open_key, open_line);
            if (nl == std::string_view::npos) break;
        }
        return out;
    }

private:
    void one_line(std::string_view content, int line_no, std::map<std::string, entry>& out, std::string& open_key,
                  int& open_line) {
        if (content.front() == '-' && (content.size() == 1 || is_space(content[1])))
            fail(line_no, "a list item: Fluss reads flat 'key: value' lines");
        if (content.front() == '"' || content.front() == '\'' || content.front() == '?')
            fail(line_no, "a quoted or complex key: Fluss reads plain keys");
        // The key ends at the first ':' followed by whitespace or the end of the line.
        std::size_t sep = std::string_view::npos;
        for (std::size_t i = 0; i < content.size(); ++i)
            if (content[i] == ':' && (i + 1 == content.size() || is_space(content[i + 1]))) {
                sep = i;
                break;
            }
        const auto comment = comment_start(content);
        if (sep == std::string_view::npos || (comment != std::string_view::npos && comment < sep))
            fail(line_no, "not a 'key: value' line (missing ': ' after the key?)");
        const std::string key(trim(content.substr(0, sep)));
        if (key.empty()) fail(line_no, "an empty key");
        const std::string_view rest = trim(content.substr(sep + 1));
        if (rest.empty() || rest.front() == '#') {
            // No value: Fluss skips the line; a nested map if indented lines follow.
            open_key = key;
            open_line = line_no;
            return;
        }
        std::string value;
        const char q = rest.front();
        if (q == '"' || q == '\'') {
            std::size_t i = 1;
            bool closed = false;
            for (; i < rest.size(); ++i) {
                const char c = rest[i];
                if (q == '\'' && c == '\'') {
                    if (i + 1 < rest.size() && rest[i + 1] == '\'') {
                        value += '\'';
                        ++i;
                        continue;
                    }
                    closed = true;
                    break;
                }
                if (q == '"' && c == '"') {
                    closed = true;
                    break;
                }
                if (q == '"' && c == '\\') {
                    if (i + 1 >= rest.size()) break;
                    const char e = rest[++i];
                    switch (e) {
                    case '\\': value += '\\'; break;
                    case '"': value += '"'; break;
                    case '/': value += '/'; break;
                    case 'n': value += '\n'; break;
                    case 't': value += '\t'; break;
                    case 'r': value += '\r'; break;
                    case '0': value += '\0'; break;
                    default:
                        fail(line_no, key + ": an escape this reader does not take in a double-quoted value "
                                            "(\\\\, \\\", \\/, \\n, \\t, \\r, \\0)");
                    }
                    continue;
                }
                value += c;
            }
            if (!closed)
                fail(line_no, key + ": unterminated " + (q == '"' ? "double" : "single") +
                                  "-quoted value (quotes must open and close on one line)");
            const auto after = rest.substr(i + 1);
            const auto tail = trim(after);
            if (!tail.empty() && !(tail.front() == '#' && !after.empty() && is_space(after.front())))
                fail(line_no, key + ": text after the closing quote");
        } else {
            if (q == '{' || q == '[')
                fail(line_no, key + ": a flow collection ({...} or [...]); Fluss reads plain values");
            if (q == '|' || q == '>')
                fail(line_no, key + ": a block scalar (| or >); Fluss reads one-line values");
            if (q == '&' || q == '*' || q == '!')
                fail(line_no, key + ": YAML anchors, aliases and tags are not what Fluss reads");
            value = std::string(trim(rest.substr(0, comment_start(rest))));
        }
        out[key] = entry{std::move(value), line_no};
    }

    std::string name_;
};

// The names Fluss's S3 plugin reads a setting under (S3FileSystemPlugin:
// the s3., s3a. and fs.s3a. prefixes map to fs.s3a., and the dashed forms
// mirror onto the dotted ones).
bool is_s3_key(const std::string& key, std::initializer_list<std::string_view> suffixes) {
    for (std::string_view prefix : {"s3.", "s3a.", "fs.s3a."})
        for (auto suffix : suffixes)
            if (key.size() == prefix.size() + suffix.size() && key.starts_with(prefix) && key.ends_with(suffix))
                return true;
    return false;
}

}  // namespace

fluss_server_config parse_fluss_config(std::string_view text, std::string_view name) {
    parser p(name);
    const auto entries = p.parse(text);
    fluss_server_config c;
    c.source = std::string(name);

    // The last line of a setting wins, whichever of its names it uses.
    const entry* dir = nullptr;
    const entry* endpoint = nullptr;
    const entry* access = nullptr;
    const entry* secret = nullptr;
    const entry* region = nullptr;
    const entry* path_style = nullptr;
    const entry* ssl = nullptr;
    const entry* prefetch = nullptr;
    const entry* threads = nullptr;
    std::string access_name, secret_name;
    auto take = [](const entry*& slot, const entry& e) {
        if (!slot || slot->line < e.line) slot = &e;
    };
    for (const auto& [key, e] : entries) {
        if (key == "remote.data.dir") take(dir, e);
        else if (is_s3_key(key, {"endpoint"})) take(endpoint, e);
        else if (is_s3_key(key, {"access-key", "access.key"})) {
            take(access, e);
            if (access == &e) access_name = key;
        } else if (is_s3_key(key, {"secret-key", "secret.key"})) {
            take(secret, e);
            if (secret == &e) secret_name = key;
        } else if (is_s3_key(key, {"region"})) take(region, e);
        else if (is_s3_key(key, {"path.style.access", "path-style-access"})) take(path_style, e);
        else if (is_s3_key(key, {"connection.ssl.enabled"})) take(ssl, e);
        else if (key == "kv.recover.remote-log.prefetch-num") take(prefetch, e);
        else if (key == "kv.recover.remote-log.download-threads") take(threads, e);
    }
    auto key_of = [&](const entry* e) {
        for (const auto& [k, v] : entries)
            if (&v == e) return k;
        return std::string();
    };
    // Fluss resolves `${provider:...}` markers (config.providers) before use;
    // this reader does not, and says so rather than sending the marker as a value.
    auto text_of = [&](const entry* e) -> std::string {
        if (!e) return {};
        if (e->value.starts_with("$${")) return e->value.substr(1);
        if (e->value.size() > 3 && e->value.starts_with("${") && e->value.ends_with("}"))
            p.fail(e->line, key_of(e) + ": a config provider marker (${...}); fluss-fetch does not resolve them: "
                                        "write the value, or pass it on the command line");
        return e->value;
    };
    auto boolean = [&](const entry* e) -> std::optional<bool> {
        if (!e) return std::nullopt;
        const auto v = lower(text_of(e));
        if (v == "true") return true;
        if (v == "false") return false;
        p.fail(e->line, key_of(e) + ": '" + e->value + "' is not true or false");
    };
    auto positive = [&](const entry* e) -> std::optional<int> {
        if (!e) return std::nullopt;
        const auto v = text_of(e);
        std::size_t i = (v.starts_with('+') || v.starts_with('-')) ? 1 : 0;
        bool digits = i < v.size();
        long long n = 0;
        for (; i < v.size() && digits; ++i) {
            if (v[i] < '0' || v[i] > '9') digits = false;
            else if ((n = n * 10 + (v[i] - '0')) > INT_MAX) digits = false;
        }
        if (!digits) p.fail(e->line, key_of(e) + ": '" + v + "' is not an integer");
        if (v.starts_with('-') || n < 1) p.fail(e->line, key_of(e) + ": must be at least 1, not " + v);
        return static_cast<int>(n);
    };

    c.remote_data_dir = text_of(dir);
    c.remote_data_dir_line = dir ? dir->line : 0;
    c.s3_endpoint = text_of(endpoint);
    c.s3_access_key = text_of(access);
    c.s3_secret_key = text_of(secret);
    c.s3_region = text_of(region);
    c.s3_path_style_access = boolean(path_style);
    c.s3_ssl_enabled = boolean(ssl);
    c.prefetch_num = positive(prefetch);
    c.download_threads = positive(threads);
    if (!c.s3_access_key.empty() && c.s3_secret_key.empty())
        p.fail(access->line, access_name + " is set but no secret key (s3.secret-key) is: static credentials need both");
    if (c.s3_access_key.empty() && !c.s3_secret_key.empty())
        p.fail(secret->line, secret_name + " is set but no access key (s3.access-key) is: static credentials need both");
    return c;
}

fluss_server_config load_fluss_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        const int e = errno;
        throw std::system_error(make_error_code(errc::file_error),
                                "cannot read Fluss config '" + file.string() + "': " + std::strerror(e));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        throw std::system_error(make_error_code(errc::file_error), "cannot read Fluss config '" + file.string() + "'");
    return parse_fluss_config(text.str(), file.string());
}

std::string fluss_s3_endpoint_url(const fluss_server_config& c) {
    if (c.s3_endpoint.empty()) return {};
    if (c.s3_endpoint.find("://") != std::string::npos) return c.s3_endpoint;
    return (c.s3_ssl_enabled.value_or(true) ? "https://" : "http://") + c.s3_endpoint;
}

storage::s3_options fluss_s3_options(const fluss_server_config& c, storage::s3_options base) {
    if (!c.s3_endpoint.empty()) base.endpoint = fluss_s3_endpoint_url(c);
    if (!c.s3_region.empty()) base.region = c.s3_region;
    if (c.s3_path_style_access)
        base.addressing = *c.s3_path_style_access ? storage::s3_addressing::path : storage::s3_addressing::virtual_hosted;
    if (!c.s3_access_key.empty() && !c.s3_secret_key.empty()) {
        storage::s3_credentials cred;
        cred.access_key_id = c.s3_access_key;
        cred.secret_access_key = c.s3_secret_key;
        cred.source = "Fluss config" + (c.source.empty() ? std::string() : " (" + c.source + ")");
        base.credentials = std::move(cred);
    }
    return base;
}

std::string fluss_server_config::describe() const {
    std::string out;
    auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) out += (out.empty() ? "" : ", ") + std::string(k) + "=" + v;
    };
    add("remote.data.dir", remote_data_dir);
    add("s3.endpoint", s3_endpoint);
    add("s3.region", s3_region);
    add("s3.access-key", s3_access_key);
    add("s3.secret-key", s3_secret_key.empty() ? "" : "(set)");
    if (s3_path_style_access) add("s3.path.style.access", *s3_path_style_access ? "true" : "false");
    if (s3_ssl_enabled) add("s3.connection.ssl.enabled", *s3_ssl_enabled ? "true" : "false");
    if (prefetch_num) add("kv.recover.remote-log.prefetch-num", std::to_string(*prefetch_num));
    if (download_threads) add("kv.recover.remote-log.download-threads", std::to_string(*download_threads));
    return out;
}

}  // namespace fluss_fetch::recovery
