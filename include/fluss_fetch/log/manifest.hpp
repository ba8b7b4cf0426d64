// fluss_fetch — the remote log manifest of a tablet (RemoteLogManifestJsonSerde, version 1).
#pragma once

#include <fluss_fetch/log/remote_log_segment.hpp>
#include <fluss_fetch/log/remote_paths.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fluss_fetch::log {

struct remote_log_manifest {
    int version = 1;
    tablet_ref tablet;                                  ///< database, table, ids, partition, bucket
    std::optional<std::int64_t> highest_copied_end_offset;
    std::vector<remote_log_segment> segments;           ///< as listed (not sorted)

    /// The end of the log the manifest describes: the greatest logical end
    /// offset of its segments (0 when it has none).
    std::int64_t end_offset() const noexcept;
};

/// Parse manifest JSON. Logical offsets default to the physical ones;
/// `partition_name` and `partition_id` go together.
/// \throws std::invalid_argument naming `source` (a key or path), the field
/// and, for a segment, its index and id.
remote_log_manifest parse_manifest(std::string_view json, std::string_view source = "manifest");

/// The manifest as Fluss writes it (logical offsets only when they differ from the physical ones).
std::string write_manifest(const remote_log_manifest& m);

/// An object of a listing, as far as choosing a manifest needs it.
struct listed_object {
    std::string key;
    std::string last_modified;  ///< ISO 8601 as S3 listings and local stores give it (sorts as text)
};

/// Of a listing of a tablet's `metadata/` dir, the manifests that may be the
/// current one: the `.manifest` objects with the newest modification time
/// (several when they tie; the caller then takes the one reaching furthest).
/// The current manifest is named in ZooKeeper, which a recovery tool cannot
/// ask; the newest snapshot is the one Fluss wrote last.
std::vector<std::string> newest_manifest_keys(const std::vector<listed_object>& listing);

}  // namespace fluss_fetch::log
