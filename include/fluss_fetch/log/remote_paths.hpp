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

}  // namespace fluss_fetch::log
