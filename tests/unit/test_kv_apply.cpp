// Fluss's KV apply rules (spec §5) one change type at a time, and the record
// framing's trailing-bytes check. Mutation testing (issue 11 item 13) found
// these caught only end to end, or not at all:
// - UPDATE_BEFORE applied as a put: every test had −U right before a +U of
//   the same key, which overwrote it; here −U follows +I, and stands alone;
// - DELETE doing nothing: the spec vector deletes a key never inserted;
// - negative INT keys (5-byte varints) only in the CLI's generated tables;
// - bytes after a batch's last counted record accepted as padding.
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/row.hpp>

#include "support/hex.hpp"

#include <gtest/gtest.h>

#include <climits>

using namespace fluss_fetch::log;
using fluss_fetch::test::unhex;

namespace {

const std::string seg = "0b7c4ad2-3f0e-4d52-9b6e-2a8f5c1d9e70";

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

struct change {
    change_type type;
    std::int32_t key;
    std::string value;
};

// Apply `changes` as one batch of (k INT, v STRING) rows in `format`; the
// state afterwards, as (key bytes, value row) pairs. Stats in `stats`.
class applier {
public:
    explicit applier(row_format f) : format_(f) {}

    void apply(const std::vector<change>& changes, std::int64_t base_offset = 0) {
        batch_builder b;
        b.base_offset = base_offset;
        b.schema_id = 7;
        for (const auto& c : changes) b.add_record(c.type, row_bytes(c.key, c.value));
        const std::string built = b.build();
        batch_reader r(bytes_of(built), seg);
        auto batch = r.next();
        ASSERT_TRUE(batch);
        apply_batch(s_, format_ == row_format::compacted ? log_format::compacted : log_format::indexed, *batch, seg,
                    state, stats);
    }

    std::string row_bytes(std::int32_t k, const std::string& v) const {
        return encode_row(s_, {k, v}, format_);
    }
    // The value stored for a row: schema id 7 LE, then the row as written.
    std::string value_of(std::int32_t k, const std::string& v) const { return std::string("\x07\x00", 2) + row_bytes(k, v); }
    // The state's value for key `k` (nullptr when absent).
    const std::string* find(std::int32_t k) const { return state.find(encode_key(s_, {k, std::string()})); }

    memory_kv_state state;
    apply_stats stats;

private:
    const schema s_ = schema::parse("k INT NOT NULL, v STRING", "k");
    row_format format_;
};

class kv_apply : public ::testing::TestWithParam<row_format> {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(formats, kv_apply, ::testing::Values(row_format::compacted, row_format::indexed),
                         [](const auto& info) { return info.param == row_format::compacted ? "compacted" : "indexed"; });

// +I k=a; −U k=b ⇒ a kept: UPDATE_BEFORE carries the old row and is skipped.
TEST_P(kv_apply, update_before_after_an_insert_keeps_the_inserted_value) {
    applier a(GetParam());
    a.apply({{change_type::insert, 1, "a"}, {change_type::update_before, 1, "b"}});
    ASSERT_NE(a.find(1), nullptr);
    EXPECT_EQ(*a.find(1), a.value_of(1, "a")) << "UPDATE_BEFORE was applied";
    EXPECT_EQ(a.state.size(), 1u);
    EXPECT_EQ(a.stats.inserts, 1u);
    EXPECT_EQ(a.stats.update_befores, 1u);
    EXPECT_EQ(a.stats.records, 2u);
}

// A lone −U (its +U in a later batch, or lost) writes nothing.
TEST_P(kv_apply, a_lone_update_before_writes_nothing) {
    applier a(GetParam());
    a.apply({{change_type::update_before, 5, "old"}});
    EXPECT_EQ(a.state.size(), 0u) << "UPDATE_BEFORE created a key";
    EXPECT_EQ(a.stats.update_befores, 1u);
    // And in a later batch, after the key exists.
    a.apply({{change_type::update_after, 5, "new"}}, 1);
    a.apply({{change_type::update_before, 5, "new"}}, 2);
    ASSERT_NE(a.find(5), nullptr);
    EXPECT_EQ(*a.find(5), a.value_of(5, "new"));
}

// DELETE removes a key that exists; the others stay; a later insert brings it back.
TEST_P(kv_apply, delete_removes_an_existing_key_and_only_that_one) {
    applier a(GetParam());
    a.apply({{change_type::insert, 1, "one"}, {change_type::insert, 2, "two"}, {change_type::insert, 3, "three"}});
    ASSERT_EQ(a.state.size(), 3u);
    a.apply({{change_type::del, 2, "two"}}, 3);
    EXPECT_EQ(a.find(2), nullptr) << "DELETE left the key";
    EXPECT_EQ(a.state.size(), 2u);
    ASSERT_NE(a.find(1), nullptr);
    ASSERT_NE(a.find(3), nullptr);
    EXPECT_EQ(*a.find(3), a.value_of(3, "three"));
    EXPECT_EQ(a.stats.deletes, 1u);
    // Insert, delete, insert again within one batch: last write wins.
    a.apply({{change_type::insert, 2, "x"}, {change_type::del, 2, ""}, {change_type::insert, 2, "y"},
             {change_type::del, 1, "one"}},
            4);
    ASSERT_NE(a.find(2), nullptr);
    EXPECT_EQ(*a.find(2), a.value_of(2, "y"));
    EXPECT_EQ(a.find(1), nullptr);
    EXPECT_EQ(a.stats.deletes, 3u);
    // Deleting an absent key is a no-op.
    a.apply({{change_type::del, 42, ""}}, 8);
    EXPECT_EQ(a.state.size(), 2u);
}

// Negative INT keys: the key is the 5-byte varint of the two's-complement
// value (no zigzag), distinct from every positive key, put and deleted like any.
TEST_P(kv_apply, negative_int_keys_are_five_byte_varints_put_and_deleted) {
    applier a(GetParam());
    a.apply({{change_type::insert, -1, "minus one"},
             {change_type::insert, INT32_MIN, "min"},
             {change_type::insert, 1, "one"},
             {change_type::insert, INT32_MAX, "max"},
             {change_type::update_after, -1, "minus one again"}});
    const auto entries = a.state.entries();
    ASSERT_EQ(entries.size(), 4u);
    // In key byte order: 01 < 80.. (INT32_MIN) < ff ff ff ff 07 (INT32_MAX) < ff ff ff ff 0f (-1).
    EXPECT_EQ(entries[0].first, unhex("01"));
    EXPECT_EQ(entries[1].first, unhex("80 80 80 80 08"));
    EXPECT_EQ(entries[2].first, unhex("ff ff ff ff 07"));
    EXPECT_EQ(entries[3].first, unhex("ff ff ff ff 0f"));
    EXPECT_EQ(entries[3].second, a.value_of(-1, "minus one again"));
    EXPECT_EQ(entries[1].second, a.value_of(INT32_MIN, "min"));
    a.apply({{change_type::del, -1, ""}, {change_type::update_before, INT32_MIN, "ignored"}}, 5);
    EXPECT_EQ(a.state.find(unhex("ff ff ff ff 0f")), nullptr) << "the negative key was not deleted";
    ASSERT_NE(a.state.find(unhex("80 80 80 80 08")), nullptr);
    EXPECT_EQ(*a.state.find(unhex("80 80 80 80 08")), a.value_of(INT32_MIN, "min"));
    EXPECT_EQ(a.state.size(), 3u);
}

// key_of for negative INT keys, both row formats, and a BIGINT key (10 bytes).
TEST(kv_keys, negative_int_and_bigint_keys_from_row_bytes) {
    const auto s = schema::parse("k INT, b BIGINT, v STRING", "k,b");
    for (auto f : {row_format::compacted, row_format::indexed}) {
        const auto row = encode_row(s, {std::int32_t{-2}, std::int64_t{-1}, std::string("v")}, f);
        EXPECT_EQ(key_of(s, bytes_of(row), f), unhex("fe ff ff ff 0f ff ff ff ff ff ff ff ff ff 01"))
            << (f == row_format::compacted ? "compacted" : "indexed");
        const auto min_row = encode_row(s, {std::int32_t{INT32_MIN}, std::int64_t{INT64_MIN}, std::string()}, f);
        EXPECT_EQ(key_of(s, bytes_of(min_row), f), unhex("80 80 80 80 08 80 80 80 80 80 80 80 80 80 01"));
    }
}

// A batch whose record area holds more than its RecordCount records: the
// bytes after the last counted record are corruption, not padding.
TEST(record_framing, bytes_after_the_last_counted_record_are_an_error) {
    const auto s = schema::parse("k INT NOT NULL, v STRING", "k");
    batch_builder one;
    one.add_record(change_type::insert, encode_row(s, {std::int32_t{1}, std::string("a")}, row_format::compacted));
    const std::string one_built = one.build();
    batch_reader r1(bytes_of(one_built), seg);
    const auto good = r1.next();
    ASSERT_TRUE(good);
    const std::string records(reinterpret_cast<const char*>(good->records.data()), good->records.size());

    for (const std::string& extra : {std::string("\0\0\0", 3), unhex("06 00 00 00 01 00 02 00 00 00")}) {
        batch_builder b;
        b.base_offset = 20;
        b.set_raw_records(records + extra, 1);
        const std::string built = b.build();
        batch_reader r(bytes_of(built), seg);
        const auto batch = r.next();
        ASSERT_TRUE(batch) << "the batch itself (header, CRC) is sound";
        record_reader rr(*batch, seg);
        ASSERT_TRUE(rr.next()) << "the counted record reads";
        try {
            rr.next();
            ADD_FAILURE() << extra.size() << " bytes after the last record were accepted";
        } catch (const log_error& e) {
            EXPECT_EQ(e.what_kind(), log_error::kind::bad_record);
            EXPECT_NE(std::string(e.what()).find(std::to_string(extra.size()) + " bytes after the batch's 1 records"),
                      std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find(seg), std::string::npos) << e.what();
        }
        // apply_batch refuses it too, and has applied nothing beyond the counted record.
        memory_kv_state state;
        apply_stats stats;
        EXPECT_THROW(apply_batch(s, log_format::compacted, *batch, seg, state, stats), log_error);
        EXPECT_EQ(stats.batches, 0u) << "the batch was counted as applied";
    }
}
