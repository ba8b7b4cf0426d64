// One bucket's remote log, made up for tests and benchmarks: segments of
// COMPACTED batches (inserts, updates with their UPDATE_BEFOREs, deletes of
// keys that exist and of keys that never did), a manifest, and the KV state a
// correct replay ends with, computed from the changes themselves (not by
// reading the batches back).
#pragma once

#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fluss_fetch::test {

/// The schema of every generated log: `id INT NOT NULL, name STRING, amount BIGINT`, key `id`.
const log::schema& remote_log_schema();

struct remote_log_spec {
    unsigned seed = 1;                 ///< keys, values and segment ids follow from it
    int segments = 6;
    std::size_t segment_bytes = 4096;  ///< each segment ends with the batch that reaches this size
    std::int16_t schema_id = 1;
};

struct generated_remote_log {
    std::string tablet_dir;                     ///< log/{db}/{table}-{id}[/{partition}-p{pid}]/{bucket}
    log::remote_log_manifest manifest;
    std::string manifest_key;                   ///< {tablet_dir}/metadata/{uuid}.manifest
    std::vector<std::string> segment_keys;      ///< in log order, as manifest.segments
    /// Every object to store (segments, then the manifest), key → bytes.
    std::vector<std::pair<std::string, std::string>> objects;
    /// The state after replaying the whole log: KV key bytes → value bytes
    /// (schema id, little endian, then the COMPACTED row).
    std::map<std::string, std::string> expected;
    std::int64_t end_offset = 0;                ///< first offset after the log
    std::uint64_t total_bytes = 0;              ///< sum of the segments' sizes
    std::uint64_t max_segment_bytes = 0;
};

/// Generate the remote log of tablet `t`. Keys are distinct per seed.
generated_remote_log generate_remote_log(const log::tablet_ref& t, const remote_log_spec& spec);

}  // namespace fluss_fetch::test
