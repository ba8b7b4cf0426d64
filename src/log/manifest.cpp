// Manifest JSON, version 1, as Fluss's RemoteLogManifestJsonSerde reads and writes it.
#include <fluss_fetch/log/manifest.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace fluss_fetch::log {

namespace json = boost::json;

std::int64_t remote_log_manifest::end_offset() const noexcept {
    std::int64_t end = 0;
    for (const auto& s : segments) end = std::max(end, s.logical_end_offset);
    return end;
}

namespace {

struct reader {
    std::string source;

    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw std::invalid_argument(source + ": " + where + ": " + what);
    }

    const json::value* find(const json::object& o, const char* name) const {
        auto it = o.find(name);
        return it == o.end() || it->value().is_null() ? nullptr : &it->value();
    }

    std::int64_t integer(const json::object& o, const char* name, const std::string& where) const {
        const auto* v = find(o, name);
        if (!v) fail(where, "field '" + std::string(name) + "' is missing");
        return as_integer(*v, name, where);
    }

    std::optional<std::int64_t> opt_integer(const json::object& o, const char* name, const std::string& where) const {
        const auto* v = find(o, name);
        if (!v) return std::nullopt;
        return as_integer(*v, name, where);
    }

    std::int64_t as_integer(const json::value& v, const char* name, const std::string& where) const {
        if (v.is_int64()) return v.get_int64();
        if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
            return static_cast<std::int64_t>(v.get_uint64());
        fail(where, "field '" + std::string(name) + "' is not an integer (" + json::serialize(v) + ")");
    }

    std::string string(const json::object& o, const char* name, const std::string& where) const {
        const auto* v = find(o, name);
        if (!v) fail(where, "field '" + std::string(name) + "' is missing");
        if (!v->is_string()) fail(where, "field '" + std::string(name) + "' is not a string");
        return std::string(v->get_string());
    }

    std::optional<std::string> opt_string(const json::object& o, const char* name, const std::string& where) const {
        if (!find(o, name)) return std::nullopt;
        return string(o, name, where);
    }
};

}  // namespace

remote_log_manifest parse_manifest(std::string_view text, std::string_view source) {
    reader r{std::string(source)};
    json::error_code ec;
    json::value root = json::parse(text, ec);
    if (ec) r.fail("JSON", ec.message());
    if (!root.is_object()) r.fail("JSON", "the top level is not an object");
    const auto& o = root.get_object();
    remote_log_manifest m;
    m.version = static_cast<int>(r.integer(o, "version", "top level"));
    if (m.version != 1) r.fail("top level", "version " + std::to_string(m.version) + " is not supported (only 1)");
    m.tablet.database = r.string(o, "database", "top level");
    m.tablet.table = r.string(o, "table", "top level");
    m.tablet.table_id = r.integer(o, "table_id", "top level");
    m.tablet.partition_name = r.opt_string(o, "partition_name", "top level");
    m.tablet.partition_id = r.opt_integer(o, "partition_id", "top level");
    if (m.tablet.partition_name.has_value() != m.tablet.partition_id.has_value())
        r.fail("top level", "partition_name and partition_id must come together");
    const auto bucket = r.integer(o, "bucket_id", "top level");
    if (bucket < 0 || bucket > INT32_MAX) r.fail("top level", "bucket_id " + std::to_string(bucket) + " is out of range");
    m.tablet.bucket = static_cast<std::int32_t>(bucket);
    m.highest_copied_end_offset = r.opt_integer(o, "highest_copied_end_offset", "top level");

    const auto* segs = r.find(o, "remote_log_segments");
    if (!segs) r.fail("top level", "field 'remote_log_segments' is missing");
    if (!segs->is_array()) r.fail("top level", "field 'remote_log_segments' is not an array");
    std::size_t index = 0;
    for (const auto& v : segs->get_array()) {
        std::string where = "remote_log_segments[" + std::to_string(index++) + "]";
        if (!v.is_object()) r.fail(where, "is not an object");
        const auto& so = v.get_object();
        remote_log_segment s;
        s.segment_id = r.string(so, "segment_id", where);
        where += " (segment " + s.segment_id + ")";
        s.start_offset = r.integer(so, "start_offset", where);
        s.end_offset = r.integer(so, "end_offset", where);
        s.logical_start_offset = r.opt_integer(so, "logical_start_offset", where).value_or(s.start_offset);
        s.logical_end_offset = r.opt_integer(so, "logical_end_offset", where).value_or(s.end_offset);
        s.max_timestamp = r.opt_integer(so, "max_timestamp", where).value_or(-1);
        const auto size = r.integer(so, "size_in_bytes", where);
        if (size < 0) r.fail(where, "size_in_bytes is negative");
        s.size_in_bytes = static_cast<std::uint64_t>(size);
        if (auto why = check_segment(s); !why.empty()) r.fail(where, why);
        m.segments.push_back(std::move(s));
    }
    return m;
}

std::string write_manifest(const remote_log_manifest& m) {
    json::object o;
    o["version"] = m.version;
    o["database"] = m.tablet.database;
    o["table"] = m.tablet.table;
    if (m.tablet.partition_name) o["partition_name"] = *m.tablet.partition_name;
    o["table_id"] = m.tablet.table_id;
    if (m.tablet.partition_id) o["partition_id"] = *m.tablet.partition_id;
    o["bucket_id"] = m.tablet.bucket;
    if (m.highest_copied_end_offset) o["highest_copied_end_offset"] = *m.highest_copied_end_offset;
    json::array segs;
    for (const auto& s : m.segments) {
        json::object so;
        so["segment_id"] = s.segment_id;
        so["start_offset"] = s.start_offset;
        so["end_offset"] = s.end_offset;
        if (s.logical_start_offset != s.start_offset || s.logical_end_offset != s.end_offset) {
            so["logical_start_offset"] = s.logical_start_offset;
            so["logical_end_offset"] = s.logical_end_offset;
        }
        so["max_timestamp"] = s.max_timestamp;
        so["size_in_bytes"] = s.size_in_bytes;
        segs.push_back(std::move(so));
    }
    o["remote_log_segments"] = std::move(segs);
    return json::serialize(o);
}

std::vector<std::string> newest_manifest_keys(const std::vector<listed_object>& listing) {
    std::string newest;
    for (const auto& o : listing)
        if (o.key.ends_with(".manifest")) newest = std::max(newest, o.last_modified);
    std::vector<std::string> out;
    for (const auto& o : listing)
        if (o.key.ends_with(".manifest") && o.last_modified == newest) out.push_back(o.key);
    return out;
}

}  // namespace fluss_fetch::log
