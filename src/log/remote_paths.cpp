#include <fluss_fetch/log/remote_log_segment.hpp>
#include <fluss_fetch/log/remote_paths.hpp>

#include <cstdio>
#include <stdexcept>

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

}  // namespace fluss_fetch::log
