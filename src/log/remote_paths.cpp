#include <fluss_fetch/log/remote_log_segment.hpp>
#include <fluss_fetch/log/remote_paths.hpp>

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace fluss_fetch::log {

bool is_segment_id(const std::string& s) noexcept {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string check_segment(const remote_log_segment& seg) {
    const std::string who = "segment '" + seg.segment_id + "'";
    if (!is_segment_id(seg.segment_id)) return who + ": segment_id is not a lower-case UUID";
    auto range = [](std::int64_t a, std::int64_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + ")"; };
    if (seg.start_offset < 0 || seg.end_offset <= seg.start_offset)
        return who + ": physical range " + range(seg.start_offset, seg.end_offset) + " is empty or negative";
    if (seg.logical_start_offset < seg.start_offset || seg.logical_end_offset > seg.end_offset ||
        seg.logical_end_offset < seg.logical_start_offset)
        return who + ": logical range " + range(seg.logical_start_offset, seg.logical_end_offset) +
               " is not inside the physical range " + range(seg.start_offset, seg.end_offset);
    return {};
}

std::string format_offset(std::int64_t offset) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
    return buf;
}

std::string remote_log_table_dir(const tablet_ref& t) {
    return "log/" + t.database + "/" + t.table + "-" + std::to_string(t.table_id);
}

std::string remote_log_tablet_dir(const tablet_ref& t) {
    if (t.partition_name.has_value() != t.partition_id.has_value())
        throw std::invalid_argument("tablet of table '" + t.table +
                                    "': partition_name and partition_id must be set together");
    std::string dir = remote_log_table_dir(t);
    if (t.partition_name) dir += "/" + *t.partition_name + "-p" + std::to_string(*t.partition_id);
    return dir + "/" + std::to_string(t.bucket);
}

std::string remote_log_segment_key(std::string_view tablet_dir, std::string_view segment_id, std::int64_t start_offset) {
    std::string key(tablet_dir);
    if (!key.empty() && key.back() != '/') key += '/';
    key.append(segment_id);
    key += '/';
    key += format_offset(start_offset);
    key += ".log";
    return key;
}

std::string remote_log_manifest_dir(std::string_view tablet_dir) {
    std::string dir(tablet_dir);
    if (!dir.empty() && dir.back() != '/') dir += '/';
    return dir + "metadata";
}

namespace {

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
    if (s.empty() || s.size() > 19 || (s.size() > 1 && s.front() == '0')) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && out >= 0;
}

// "{name}-{digits}" → name, number (the last hyphen splits).
template <class Int>
bool split_suffix(std::string_view s, std::string_view sep, std::string& name, Int& number) {
    auto pos = s.rfind(sep);
    if (pos == std::string_view::npos || pos == 0) return false;
    name = std::string(s.substr(0, pos));
    return parse_int(s.substr(pos + sep.size()), number);
}

}  // namespace

parsed_tablet_dir parse_tablet_dir(std::string_view path) {
    const std::string quoted = "'" + std::string(path) + "'";
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    auto parts = split(path);
    for (const auto& p : parts)
        if (p.empty() || p == "." || p == "..")
            throw std::invalid_argument("tablet dir " + quoted + " has an empty, '.' or '..' component");
    const std::size_t n = parts.size();
    parsed_tablet_dir out;
    auto fill = [&](std::size_t log_at, bool partitioned) {
        std::string root;
        for (std::size_t i = 0; i < log_at; ++i) root += (i ? "/" : "") + std::string(parts[i]);
        out.root = std::move(root);
        out.tablet.database = std::string(parts[log_at + 1]);
        if (!split_suffix(parts[log_at + 2], "-", out.tablet.table, out.tablet.table_id))
            throw std::invalid_argument("tablet dir " + quoted + ": '" + std::string(parts[log_at + 2]) +
                                        "' is not {table}-{tableId}");
        if (partitioned) {
            std::string name;
            std::int64_t id = 0;
            split_suffix(parts[n - 2], "-p", name, id);
            out.tablet.partition_name = name;
            out.tablet.partition_id = id;
        }
        if (!parse_int(parts[n - 1], out.tablet.bucket))
            throw std::invalid_argument("tablet dir " + quoted + ": '" + std::string(parts[n - 1]) +
                                        "' is not a bucket number");
    };
    std::string pname;
    std::int64_t pid = 0;
    if (n >= 4 && parts[n - 4] == "log") {
        fill(n - 4, false);
    } else if (n >= 5 && parts[n - 5] == "log" && split_suffix(parts[n - 2], "-p", pname, pid)) {
        fill(n - 5, true);
    } else {
        throw std::invalid_argument("tablet dir " + quoted +
                                    " does not end in log/{database}/{table}-{tableId}[/{partition}-p{partitionId}]/{bucket}");
    }
    return out;
}

parsed_segment_key parse_segment_key(std::string_view key) {
    const std::string quoted = "'" + std::string(key) + "'";
    auto slash2 = key.rfind('/');
    if (slash2 == std::string_view::npos || slash2 == 0) throw std::invalid_argument("segment key " + quoted + " has no segment dir");
    auto slash1 = key.rfind('/', slash2 - 1);
    std::string_view file = key.substr(slash2 + 1);
    std::string id(key.substr(slash1 == std::string_view::npos ? 0 : slash1 + 1,
                              slash2 - (slash1 == std::string_view::npos ? 0 : slash1 + 1)));
    parsed_segment_key out;
    if (!is_segment_id(id)) throw std::invalid_argument("segment key " + quoted + ": '" + id + "' is not a segment id");
    if (file.size() != 24 || !file.ends_with(".log"))
        throw std::invalid_argument("segment key " + quoted + ": '" + std::string(file) + "' is not {offset:020d}.log");
    auto digits = file.substr(0, 20);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.start_offset);
    if (ec != std::errc{} || end != digits.data() + digits.size() || out.start_offset < 0)
        throw std::invalid_argument("segment key " + quoted + ": '" + std::string(file) + "' is not {offset:020d}.log");
    out.segment_id = std::move(id);
    out.tablet_dir = slash1 == std::string_view::npos ? std::string() : std::string(key.substr(0, slash1));
    return out;
}

}  // namespace fluss_fetch::log
