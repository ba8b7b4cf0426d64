// fluss_fetch — where Fluss puts a bucket's remote log under remote.data.dir.
//
// Keys here are relative to the remote.data.dir root (the object store opened
// on it): `log/{database}/{table}-{tableId}[/{partition}-p{partitionId}]/{bucket}`
// is a tablet dir, `{tabletDir}/{segmentId}/{startOffset:020d}.log` a segment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::log {

/// The identity of one log tablet (one bucket of a table or of a partition).
struct tablet_ref {
    std::string database;
    std::string table;
    std::int64_t table_id = 0;
    std::optional<std::string> partition_name;  ///< partitioned tables only
    std::optional<std::int64_t> partition_id;   ///< partitioned tables only
    std::int32_t bucket = 0;
};

/// An offset as Fluss writes it in file names: 20 digits, zero-padded.
std::string format_offset(std::int64_t offset);

/// `log/{database}/{table}-{tableId}`.
std::string remote_log_table_dir(const tablet_ref& t);

/// The tablet dir: the table dir (or `{table dir}/{partition}-p{id}`), then `/{bucket}`.
/// \throws std::invalid_argument when only one of partition name and id is set.
std::string remote_log_tablet_dir(const tablet_ref& t);

/// `{tabletDir}/{segmentId}/{startOffset:020d}.log`.
std::string remote_log_segment_key(std::string_view tablet_dir, std::string_view segment_id,
                                   std::int64_t start_offset);

/// `{tabletDir}/metadata`: where the manifest snapshots live.
std::string remote_log_manifest_dir(std::string_view tablet_dir);

/// A tablet dir taken apart: `{root}/log/{db}/{table}-{id}[/{partition}-p{pid}]/{bucket}`.
struct parsed_tablet_dir {
    std::string root;   ///< what precedes `log/` (no trailing '/'; may be empty)
    tablet_ref tablet;
};

/// Parse a tablet dir (a trailing '/' is allowed). 	hrows std::invalid_argument
/// quoting the path and saying which part does not fit the layout.
parsed_tablet_dir parse_tablet_dir(std::string_view path);

/// A segment data file's key taken apart: `{tabletDir}/{segmentId}/{startOffset:020d}.log`.
struct parsed_segment_key {
    std::string tablet_dir;
    std::string segment_id;
    std::int64_t start_offset = 0;
};
/// 	hrows std::invalid_argument quoting the key.
parsed_segment_key parse_segment_key(std::string_view key);

}  // namespace fluss_fetch::log
