// Writes the seed inputs of the batch and row fuzz targets that are easier to
// build than to type: rows of every type in both formats, batches of every
// magic and layout, and the spec's segment (§6). Run once by hand; its output
// is committed under corpus/ (see tests/fuzz/README.md):
//   build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/row.hpp>

#include "support/hex.hpp"

#include <filesystem>
#include <fstream>
#include <string>

using namespace fluss_fetch::log;
namespace fs = std::filesystem;
using fluss_fetch::test::unhex;

namespace {
void write(const fs::path& dir, const std::string& name, char first, const std::string& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / ("seed-" + name), std::ios::binary) << first << bytes;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const fs::path root = argv[1];

    // Rows (fuzz_row): first byte bit 0 = INDEXED.
    const schema all = schema::parse(
        "b BOOLEAN, t TINYINT, s SMALLINT, i INT NOT NULL, l BIGINT, f FLOAT, d DOUBLE, str STRING, "
        "by BYTES, dt DATE, tm TIME, ts3 TIMESTAMP(3), ts9 TIMESTAMP(9)",
        "i, str");
    const row full{true, std::int8_t{-7}, std::int16_t{300}, std::int32_t{-123456}, std::int64_t{1} << 40, 1.5f,
                   -2.25, std::string("h\xc3\xa9llo"), std::string("\x00\xff", 2), std::int32_t{19000},
                   std::int32_t{3600000}, timestamp_value{1722225103853, 0}, timestamp_value{-1, 999999}};
    row sparse(all.columns.size());
    sparse[3] = std::int32_t{0};
    sparse[7] = std::string(300, 'k');
    for (auto [fmt, tag] : {std::pair{row_format::compacted, 'c'}, std::pair{row_format::indexed, 'i'}}) {
        const char first = fmt == row_format::indexed ? 1 : 0;
        write(root / "row", std::string("full-") + tag, first, encode_row(all, full, fmt));
        write(root / "row", std::string("sparse-") + tag, first, encode_row(all, sparse, fmt));
    }

    // Batches (fuzz_batch): first byte bit 0 verify CRC, 1 magic-1 leader-epoch
    // layout, 2 COMPACTED (else INDEXED), 3 ranged (4 × 2 bytes follow), 4 ARROW.
    const std::string spec = unhex(R"(
00 00 00 00 00 00 00 00 3c 00 00 00 00 00 00 00 00 00 00 00 00 ed 1c 9c 7a 01 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 01 00 00 00 14 00 00 00 01 00 02 00
00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62
01 00 00 00 00 00 00 00 6b 00 00 00 00 00 00 00 00 00 00 00 00 46 6f 89 de 01 00 00
02 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 03 00 00 00
14 00 00 00 02 00 02 00 00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62
15 00 00 00 03 00 03 00 00 00 01 00 00 00 c8 00 00 00 00 00 00 00 61 62 63
12 00 00 00 04 04 00 00 00 00 02 00 00 00 05 00 00 00 00 00 00 00)");
    write(root / "batch", "spec-crc", 0x01, spec);
    write(root / "batch", "spec-nocrc", 0x00, spec);
    write(root / "batch", "spec-ranged", 0x09, std::string("\x00\x00\x00\x04\x00\x01\x00\x03", 8) + spec);

    const schema s = schema::parse("id INT, v BIGINT, name STRING", "id");
    for (int magic : {0, 1, 2}) {
        for (auto [fmt, tag] : {std::pair{row_format::compacted, 'c'}, std::pair{row_format::indexed, 'i'}}) {
            std::string file;
            std::int64_t base = 0;
            for (int b = 0; b < 2; ++b) {
                batch_builder bb;
                bb.magic = static_cast<std::int8_t>(magic);
                bb.base_offset = base;
                if (magic > 0) bb.statistics = "st";
                bb.add_record(change_type::insert, encode_row(s, {std::int32_t{b}, std::int64_t{7}, std::string("x")}, fmt));
                bb.add_record(change_type::update_before, encode_row(s, {std::int32_t{b}, std::int64_t{7}, std::monostate{}}, fmt));
                bb.add_record(change_type::update_after, encode_row(s, {std::int32_t{b}, std::int64_t{8}, std::monostate{}}, fmt));
                bb.add_record(change_type::del, encode_row(s, {std::int32_t{b + 1}, std::int64_t{0}, std::string()}, fmt));
                file += bb.build();
                base += 4;
            }
            const char first = static_cast<char>(0x01 | (fmt == row_format::compacted ? 0x04 : 0));
            write(root / "batch", "magic" + std::to_string(magic) + "-" + tag, first, file);
        }
    }
    batch_builder epoch;
    epoch.magic = 1;
    epoch.magic1 = magic1_layout::leader_epoch;
    epoch.add_record(change_type::insert, encode_row(s, {std::int32_t{1}, std::int64_t{1}, std::string("e")}, row_format::indexed));
    write(root / "batch", "magic1-epoch", 0x03, epoch.build());
    batch_builder arrow;
    arrow.set_raw_records(std::string(16, '\x01'), 1);
    write(root / "batch", "arrow", 0x11, arrow.build());
    return 0;
}
