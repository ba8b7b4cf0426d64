// Manifest JSON and remote path parsing (spec §1, §2).
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>

#include <gtest/gtest.h>

using namespace fluss_fetch::log;

namespace {

std::string error_of(const std::string& json) {
    try {
        parse_manifest(json, "metadata/x.manifest");
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(manifest, parses_the_spec_example_with_logical_defaults) {
    const auto m = parse_manifest(R"({"version":1,"database":"db","table":"t","table_id":1002,"bucket_id":1,
 "remote_log_segments":[{"segment_id":"6e94fbd1-c056-446e-859c-77345dddcd96",
   "start_offset":10,"end_offset":20,"max_timestamp":1722225103853,"size_in_bytes":2850}]})");
    EXPECT_EQ(m.version, 1);
    EXPECT_EQ(m.tablet.database, "db");
    EXPECT_EQ(m.tablet.table, "t");
    EXPECT_EQ(m.tablet.table_id, 1002);
    EXPECT_EQ(m.tablet.bucket, 1);
    EXPECT_FALSE(m.tablet.partition_name);
    EXPECT_FALSE(m.highest_copied_end_offset);
    ASSERT_EQ(m.segments.size(), 1u);
    const auto& s = m.segments[0];
    EXPECT_EQ(s.segment_id, "6e94fbd1-c056-446e-859c-77345dddcd96");
    EXPECT_EQ(s.start_offset, 10);
    EXPECT_EQ(s.end_offset, 20);
    EXPECT_EQ(s.logical_start_offset, 10) << "absent logical offsets equal the physical ones";
    EXPECT_EQ(s.logical_end_offset, 20);
    EXPECT_EQ(s.max_timestamp, 1722225103853);
    EXPECT_EQ(s.size_in_bytes, 2850u);
    EXPECT_EQ(m.end_offset(), 20);
}

TEST(manifest, partitioned_with_logical_ranges_round_trips) {
    remote_log_manifest m;
    m.tablet = {"db", "events", 7, "2024-06-01", 12, 3};
    m.highest_copied_end_offset = 20;
    m.segments.push_back({"6e94fbd1-c056-446e-859c-77345dddcd96", 0, 10, 0, 5, 111, 1000});
    m.segments.push_back(remote_log_segment::physical("a4421366-4a1d-4c3b-a0f8-0be2e77b1368", 5, 20, 2000, 222));
    const auto text = write_manifest(m);
    EXPECT_NE(text.find("\"partition_name\":\"2024-06-01\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"logical_end_offset\":5"), std::string::npos) << text;
    const auto back = parse_manifest(text);
    EXPECT_EQ(back.tablet.partition_name, m.tablet.partition_name);
    EXPECT_EQ(back.tablet.partition_id, m.tablet.partition_id);
    EXPECT_EQ(back.tablet.bucket, 3);
    EXPECT_EQ(back.highest_copied_end_offset, 20);
    EXPECT_EQ(back.segments, m.segments);
    EXPECT_EQ(back.end_offset(), 20);
}

TEST(manifest, errors_name_the_source_field_and_segment) {
    EXPECT_NE(error_of("{").find("metadata/x.manifest: JSON"), std::string::npos);
    EXPECT_NE(error_of(R"({"version":2})").find("version 2"), std::string::npos);
    const std::string head = R"({"version":1,"database":"db","table":"t","table_id":1,"bucket_id":0,)";
    EXPECT_NE(error_of(head + R"("remote_log_segments":5})").find("not an array"), std::string::npos);
    auto e = error_of(head + R"("remote_log_segments":[{"segment_id":"6e94fbd1-c056-446e-859c-77345dddcd96",
        "start_offset":"ten","end_offset":20,"size_in_bytes":1}]})");
    EXPECT_NE(e.find("remote_log_segments[0]"), std::string::npos) << e;
    EXPECT_NE(e.find("6e94fbd1-c056-446e-859c-77345dddcd96"), std::string::npos) << e;
    EXPECT_NE(e.find("start_offset"), std::string::npos) << e;
    e = error_of(head + R"("remote_log_segments":[{"segment_id":"6e94fbd1-c056-446e-859c-77345dddcd96",
        "start_offset":30,"end_offset":20,"size_in_bytes":1}]})");
    EXPECT_NE(e.find("physical range"), std::string::npos) << e;
    e = error_of(head + R"("remote_log_segments":[{"segment_id":"6e94fbd1-c056-446e-859c-77345dddcd96",
        "start_offset":0,"end_offset":20}]})");
    EXPECT_NE(e.find("size_in_bytes"), std::string::npos) << e;
    e = error_of(R"({"version":1,"database":"db","table":"t","table_id":1,"bucket_id":0,"partition_name":"p",
        "remote_log_segments":[]})");
    EXPECT_NE(e.find("partition_name and partition_id"), std::string::npos) << e;
}

TEST(remote_paths, parse_tablet_dirs) {
    auto p = parse_tablet_dir("fluss/log/fluss/orders-1001/3");
    EXPECT_EQ(p.root, "fluss");
    EXPECT_EQ(p.tablet.database, "fluss");
    EXPECT_EQ(p.tablet.table, "orders");
    EXPECT_EQ(p.tablet.table_id, 1001);
    EXPECT_EQ(p.tablet.bucket, 3);
    EXPECT_FALSE(p.tablet.partition_name);

    p = parse_tablet_dir("log/db/my-table-7/2024-06-01-p12/0/");
    EXPECT_EQ(p.root, "");
    EXPECT_EQ(p.tablet.table, "my-table") << "the last hyphen separates the table id";
    EXPECT_EQ(p.tablet.table_id, 7);
    EXPECT_EQ(p.tablet.partition_name, "2024-06-01");
    EXPECT_EQ(p.tablet.partition_id, 12);
    EXPECT_EQ(remote_log_tablet_dir(p.tablet), "log/db/my-table-7/2024-06-01-p12/0");

    p = parse_tablet_dir("a/b/log/log/t-1/0");
    EXPECT_EQ(p.root, "a/b");
    EXPECT_EQ(p.tablet.database, "log");

    for (const char* bad : {"fluss/log/db/orders/3", "log/db/t-1/x", "log/db/t-1", "db/t-1/0", "log/db/t-1/../0",
                            "log/db/t-1/-1"}) {
        EXPECT_THROW(parse_tablet_dir(bad), std::invalid_argument) << bad;
    }
    try {
        parse_tablet_dir("fluss/log/db/orders/3");
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'orders'"), std::string::npos) << e.what();
    }
}

TEST(remote_paths, parse_segment_keys) {
    auto k = parse_segment_key("log/fluss/orders-1001/3/a4421366-4a1d-4c3b-a0f8-0be2e77b1368/00000000000000001234.log");
    EXPECT_EQ(k.tablet_dir, "log/fluss/orders-1001/3");
    EXPECT_EQ(k.segment_id, "a4421366-4a1d-4c3b-a0f8-0be2e77b1368");
    EXPECT_EQ(k.start_offset, 1234);
    EXPECT_THROW(parse_segment_key("log/x/not-a-uuid/00000000000000001234.log"), std::invalid_argument);
    EXPECT_THROW(parse_segment_key("log/x/a4421366-4a1d-4c3b-a0f8-0be2e77b1368/1234.log"), std::invalid_argument);
    EXPECT_THROW(parse_segment_key("log/x/a4421366-4a1d-4c3b-a0f8-0be2e77b1368/00000000000000001234.index"),
                 std::invalid_argument);
}

TEST(manifest, newest_keys_are_the_latest_manifests_ties_included) {
    std::vector<listed_object> listing{{"t/metadata/a.manifest", "2026-11-20T10:00:00.000Z"},
                                       {"t/metadata/b.manifest", "2026-11-21T09:00:00.000Z"},
                                       {"t/metadata/c.manifest", "2026-11-21T09:00:00.000Z"},
                                       {"t/metadata/zzz.tmp", "2026-11-22T00:00:00.000Z"}};
    EXPECT_EQ(newest_manifest_keys(listing), (std::vector<std::string>{"t/metadata/b.manifest", "t/metadata/c.manifest"}));
    EXPECT_TRUE(newest_manifest_keys({{"t/metadata/x.json", "2026"}}).empty());
}
