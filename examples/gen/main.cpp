// fluss-gen: write a synthetic primary-key table's remote log tablet (segments
// and a manifest) in the Fluss layout, plus the KV state a full replay must
// rebuild, computed from the generator's own model of the table.
//
//   fluss-gen --out URI [--database fluss] [--table orders] [--table-id 1001]
//             [--partition NAME --partition-id N] [--bucket 0]
//             [--schema COLUMNS --primary-key COLS] [--log-format compacted|indexed|arrow] [--magic 0|1|2]
//             [--arrow-compression zstd|lz4|none] [--zstd-level 3]
//             [--segments 4] [--segment-size 4M] [--keys 10000] [--batch-records 64] [--seed 1]
//             [--expected-kv FILE] [--endpoint URL] [--region R] [--ca-file FILE]
//             [--profile NAME] [--path-style] [--no-sign-request]
//
// The command line is CLI11's (`--help` with the defaults, `--version`, `--opt=value`).
// URI is the remote.data.dir root (file:///dir or s3://bucket[/prefix]). The
// last stdout line is the tablet's URI, what fluss-replay --remote-log-dir takes.
// With --log-format arrow each batch's changes (+I, -U/+U, -D) are one Arrow
// IPC RecordBatch as Fluss's server writes its changelog (encode_arrow_records,
// not append-only), and the expected KV values are the schema id + the
// COMPACTED row, as Fluss's KV recovery rebuilds them from Arrow rows.
#include <fluss_fetch/log/arrow.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/manifest.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/log/row.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "../common/cli11.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace fluss_fetch;
using examples::parse_count;
using examples::parse_size;
using examples::usage_error;

namespace {

constexpr const char* description =
    "fluss-gen: write a synthetic primary-key table's remote log tablet (segments and a manifest) in the\n"
    "Fluss layout, plus the KV state a full replay must rebuild. URI is the remote.data.dir root, file:///DIR\n"
    "or s3://BUCKET[/PREFIX]; the last stdout line is the tablet's URI, what fluss-replay --remote-log-dir takes.\n";

constexpr const char* default_schema =
    "id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE, active BOOLEAN, level TINYINT, code SMALLINT, "
    "ratio FLOAT, payload BYTES, day DATE, at TIME, ts TIMESTAMP(6)";

struct args {
    std::string out;
    log::tablet_ref tablet{"fluss", "orders", 1001, {}, {}, 0};
    std::string schema_text = default_schema;
    std::string primary_key = "id";
    log::row_format format = log::row_format::compacted;  ///< compacted / indexed: the rows' format
    bool arrow = true;                                     ///< --log-format arrow (the default)
    log::arrow_write_options arrow_opts;
    int magic = 0;
    std::int64_t segments = 4;
    std::uint64_t segment_size = 4u << 20;
    std::int64_t records = 0;  ///< --records: 0 = --segments decides
    std::int64_t keys = 10000;
    std::int64_t batch_records = 64;
    std::uint64_t seed = 1;
    std::string expected_kv;
    storage::s3_options s3;
};

// nullopt: run with `a`; else the exit code (0 after --help or --version, 2 after a usage error).
std::optional<int> parse_args(int argc, char** argv, args& a) {
    using examples::add_count;
    using examples::add_value;
    CLI::App app{description, "fluss-gen"};
    examples::setup(app, "fluss-gen");
    examples::s3_flags s3;
    app.add_option("--out", a.out, "the remote.data.dir root, file:///DIR or s3://BUCKET[/PREFIX]")->type_name("URI");
    app.add_option("--database", a.tablet.database, "the database")->capture_default_str();
    app.add_option("--table", a.tablet.table, "the table")->capture_default_str();
    add_count(app, "--table-id", [&](std::int64_t n) { a.tablet.table_id = n; }, "the table's id", "1001");
    app.add_option("--partition", a.tablet.partition_name, "a partition's name (with --partition-id)")
        ->type_name("NAME");
    add_count(app, "--partition-id", [&](std::int64_t n) { a.tablet.partition_id = n; }, "the partition's id");
    add_count(app, "--bucket", [&](std::int64_t n) { a.tablet.bucket = static_cast<std::int32_t>(n); }, "the bucket",
              "0");
    app.add_option("--schema", a.schema_text, "columns in order (default: 12 columns of most types)")
        ->type_name("COLUMNS");
    app.add_option("--primary-key", a.primary_key, "the primary key's columns")->type_name("COLS")->capture_default_str();
    add_value(
        app, "--log-format",
        [&](const std::string& v) {
            if (v == "compacted") a.format = log::row_format::compacted;
            else if (v == "indexed") a.format = log::row_format::indexed;
            else if (v == "arrow") a.arrow = true;
            else throw usage_error("--log-format: '" + v + "' is not compacted, indexed or arrow");
            if (v != "arrow") a.arrow = false;
        },
        "the table's table.log.format (Fluss's default arrow: one Arrow RecordBatch per batch, expected values "
        "in COMPACTED rows), compacted or indexed",
        "arrow", "FORMAT");
    add_value(
        app, "--arrow-compression",
        [&](const std::string& v) {
            if (v == "zstd") a.arrow_opts.compression = log::arrow_compression::zstd;
            else if (v == "lz4") a.arrow_opts.compression = log::arrow_compression::lz4_frame;
            else if (v == "none") a.arrow_opts.compression = log::arrow_compression::none;
            else throw usage_error("--arrow-compression: '" + v + "' is not zstd, lz4 or none");
        },
        "arrow only: table.log.arrow.compression.type, zstd, lz4 or none", "zstd", "CODEC");
    add_count(
        app, "--zstd-level",
        [&](std::int64_t level) {
            if (level < 1 || level > 22) throw usage_error("--zstd-level must be 1..22");
            a.arrow_opts.zstd_level = static_cast<int>(level);
        },
        "arrow with zstd: table.log.arrow.compression.zstd.level, 1..22", "3");
    add_count(
        app, "--magic",
        [&](std::int64_t m) {
            if (m > 2) throw usage_error("--magic must be 0, 1 or 2");
            a.magic = static_cast<int>(m);
        },
        "the batches' magic, 0, 1 or 2", "0");
    add_count(app, "--segments", [&](std::int64_t n) { a.segments = n; }, "segments written", "4");
    add_value(app, "--segment-size", [&](const std::string& v) { a.segment_size = parse_size("--segment-size", v); },
              "bytes per segment (4M, 60K...)", "4M", "SIZE");
    add_count(app, "--records", [&](std::int64_t n) { a.records = n; },
              "write until the log reaches offset N, in as many segments of --segment-size as that takes "
              "(--segments is ignored); the rows are the same whatever the format and segment size (values "
              "limited to what ARROW keeps), so formats can be compared on the same changelog");
    add_count(app, "--keys", [&](std::int64_t n) { a.keys = n; }, "distinct keys", "10000");
    add_count(app, "--batch-records", [&](std::int64_t n) { a.batch_records = n; }, "records per batch at most", "64");
    add_count(app, "--seed", [&](std::int64_t n) { a.seed = static_cast<std::uint64_t>(n); }, "the random seed", "1");
    app.add_option("--expected-kv", a.expected_kv, "write the state a full replay must rebuild here (--dump-kv format)")
        ->type_name("FILE");
    s3.add_to(app);
    if (auto rc = examples::parse(app, "fluss-gen", argc, argv)) return rc;
    s3.apply(a.s3);
    const char* bad = a.out.empty()                 ? "--out is required"
                      : a.segments < 1              ? "--segments must be at least 1"
                      : a.keys < 1                  ? "--keys must be at least 1"
                      : a.batch_records < 1         ? "--batch-records must be at least 1"
                      : a.tablet.partition_name.has_value() != a.tablet.partition_id.has_value()
                          ? "--partition and --partition-id go together"
                          : nullptr;
    if (bad) {
        std::cerr << "fluss-gen: " << bad << " (see fluss-gen --help)\n";
        return 2;
    }
    return std::nullopt;
}

// The table the generator keeps in its head: rows by key, and what a replay must end with.
class generator {
public:
    generator(const args& a, log::schema s) : a_(a), schema_(std::move(s)), rng_(a.seed) {}

    /// Fill `b` with one batch's records, updating the model.
    void fill(log::batch_builder& b) {
        // Now and then an empty batch (it still takes one offset).
        if (uniform(0, 49) == 0) return;
        const auto n = uniform(1, a_.batch_records);
        changes_.clear();
        for (std::int64_t i = 0; i < n; ++i) one_change(b.schema_id);
        if (a_.arrow) {
            // One Arrow RecordBatch with a change-type byte per row, as the server's changelog.
            b.set_raw_records(log::encode_arrow_records(schema_, changes_, false, a_.arrow_opts),
                              static_cast<std::int32_t>(changes_.size()));
            return;
        }
        for (const auto& [type, r] : changes_) b.add_record(type, log::encode_row(schema_, r, a_.format));
    }

    /// The state a full replay must rebuild, in --dump-kv format.
    std::string expected_dump() const {
        static const char* hex = "0123456789abcdef";
        std::string out;
        for (const auto& [k, v] : expected_) {
            for (unsigned char c : k) out += {hex[c >> 4], hex[c & 15]};
            out += '\t';
            for (unsigned char c : v) out += {hex[c >> 4], hex[c & 15]};
            out += '\n';
        }
        return out;
    }

    std::uint64_t rng() { return rng_(); }

private:
    std::int64_t uniform(std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_); }

    std::string text() {
        static const std::vector<std::string> pieces{"a", "Z", "7", " ", "é", "ß", "漢字", "🦀", "-", "Fluss", "\t", "ü"};
        std::string s;
        const auto len = uniform(0, 5) == 0 ? uniform(100, 400) : uniform(0, 12);  // some long strings
        for (std::int64_t i = 0; i < len; ++i) s += pieces[static_cast<std::size_t>(uniform(0, std::int64_t(pieces.size()) - 1))];
        return s;
    }

    log::field value_of(const log::column& c) {
        using log::data_type;
        if (c.nullable && uniform(0, 9) == 0) return std::monostate{};
        switch (c.type) {
        case data_type::boolean: return uniform(0, 1) == 1;
        case data_type::tinyint: return static_cast<std::int8_t>(uniform(-128, 127));
        case data_type::smallint: return static_cast<std::int16_t>(uniform(-32768, 32767));
        case data_type::int_: return static_cast<std::int32_t>(uniform(INT32_MIN, INT32_MAX));
        case data_type::bigint: return uniform(0, 3) == 0 ? uniform(INT64_MIN, INT64_MAX) : uniform(-1000000, 1000000);
        case data_type::float_: return static_cast<float>(uniform(-1000000, 1000000)) / 64.0f;
        case data_type::double_: return static_cast<double>(uniform(-1000000000, 1000000000)) / 1024.0;
        case data_type::string: return text();
        case data_type::bytes: {
            std::string b(static_cast<std::size_t>(uniform(0, 40)), '\0');
            for (auto& ch : b) ch = static_cast<char>(uniform(0, 255));
            return b;
        }
        case data_type::char_: {
            // At most n characters (in an IndexedRow also at most n UTF-8
            // bytes: it stores CHAR(n) in n bytes); never a trailing NUL
            // (an IndexedRow reader strips those).
            static const std::vector<std::string> chars{"a", "Z", "7", " ", "é", "ß", "漢", "🦀", "-", "ü", "\t"};
            const auto want = uniform(0, std::min<std::int64_t>(c.length, 40));
            std::string s;
            std::size_t bytes_left = a_.format == log::row_format::indexed ? static_cast<std::size_t>(c.length) : std::string::npos;
            for (std::int64_t i = 0; i < want; ++i) {
                const auto& ch = chars[static_cast<std::size_t>(uniform(0, std::int64_t(chars.size()) - 1))];
                if (ch.size() > bytes_left) break;
                s += ch;
                bytes_left -= ch.size();
            }
            return s;
        }
        case data_type::binary: {  // exactly n bytes, zeros included
            std::string b(static_cast<std::size_t>(std::min(c.length, 4096)), '\0');
            for (auto& ch : b) ch = static_cast<char>(uniform(0, 3) == 0 ? 0 : uniform(0, 255));
            return b;
        }
        case data_type::decimal: {
            // |unscaled| < 10^p: up to p random digits; now and then +-(10^p - 1).
            __extension__ typedef __int128 i128;
            i128 v = 0;
            if (uniform(0, 9) == 0) {
                for (int i = 0; i < c.precision; ++i) v = v * 10 + 9;
            } else {
                const auto digits = uniform(0, c.precision);
                for (std::int64_t i = 0; i < digits; ++i) v = v * 10 + uniform(0, 9);
            }
            return log::decimal_value{uniform(0, 1) == 0 ? -v : v};
        }
        case data_type::date: return static_cast<std::int32_t>(uniform(-100000, 100000));
        case data_type::time: {
            // [0, 86400000) milliseconds, truncated to the precision (Fluss keeps millis only).
            std::int32_t unit = 1;
            for (int p = c.precision; p < 3; ++p) unit *= 10;
            return static_cast<std::int32_t>(uniform(0, 86399999) / unit * unit);
        }
        case data_type::timestamp:
        case data_type::timestamp_ltz:
            return log::timestamp_value{uniform(-1000000000000, 4000000000000),
                                        c.precision > 3 ? static_cast<std::int32_t>(uniform(0, 999999)) : 0};
        }
        return std::monostate{};
    }

    // The primary-key fields of key number k (negative numbers included).
    // Distinct k give distinct keys; a CHAR/BINARY/DECIMAL/TIME key column
    // too narrow for --keys distinct values is an error.
    void set_key(log::row& r, std::int64_t k) {
        using log::data_type;
        auto too_narrow = [&](const log::column& c) {
            throw std::invalid_argument("--schema: primary key column '" + c.name + "' (" + log::type_name(c.type) +
                                        ") cannot hold " + std::to_string(a_.keys) + " distinct keys");
        };
        for (auto idx : schema_.primary_key) {
            const auto& c = schema_.columns[idx];
            const std::int64_t v = k - a_.keys / 2;
            switch (c.type) {
            case data_type::boolean: r[idx] = (k & 1) != 0; break;
            case data_type::tinyint: r[idx] = static_cast<std::int8_t>(v); break;
            case data_type::smallint: r[idx] = static_cast<std::int16_t>(v); break;
            case data_type::int_:
            case data_type::date: r[idx] = static_cast<std::int32_t>(v); break;
            case data_type::time: {  // k units of the precision, inside the day
                std::int64_t unit = 1;
                for (int p = c.precision; p < 3; ++p) unit *= 10;
                if ((a_.keys - 1) * unit >= 86400000) too_narrow(c);
                r[idx] = static_cast<std::int32_t>(k * unit);
                break;
            }
            case data_type::bigint: r[idx] = v * 1000003; break;
            case data_type::float_: r[idx] = static_cast<float>(v); break;
            case data_type::double_: r[idx] = static_cast<double>(v) / 3; break;
            case data_type::string: r[idx] = "key-" + std::to_string(v) + "-ключ"; break;
            case data_type::bytes: r[idx] = std::string("k\0", 2) + std::to_string(v); break;
            case data_type::char_: {  // k in base 62, ASCII (so n characters are n bytes in an IndexedRow too)
                static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                std::string s;
                for (std::int64_t x = k;; x /= 62) {
                    s.insert(s.begin(), digits[x % 62]);
                    if (x < 62) break;
                }
                std::size_t widest = 1;
                for (std::int64_t x = a_.keys - 1; x >= 62; x /= 62) ++widest;
                if (widest > static_cast<std::size_t>(c.length)) too_narrow(c);
                r[idx] = s;
                break;
            }
            case data_type::binary: {
                // Exactly n bytes: a leading 00 (when n > 1), then k in base
                // 255 with digits 01..ff, so the last byte is never 00 (an
                // IndexedRow reader strips trailing zero bytes).
                const auto n = static_cast<std::size_t>(c.length);
                std::string b(n, '\0');
                std::int64_t x = k;
                for (std::size_t i = n; i-- > (n > 1 ? 1u : 0u);) {
                    b[i] = static_cast<char>(1 + x % 255);
                    x /= 255;
                }
                if (x != 0) too_narrow(c);
                r[idx] = b;
                break;
            }
            case data_type::decimal: {
                __extension__ typedef __int128 i128;
                i128 limit = 1;
                for (int i = 0; i < c.precision; ++i) limit *= 10;
                if (a_.keys / 2 + 1 > limit) too_narrow(c);
                r[idx] = log::decimal_value{i128{v} * (limit > 1000003 * i128{a_.keys} ? 1000003 : 1)};
                break;
            }
            case data_type::timestamp:
            case data_type::timestamp_ltz:
                r[idx] = log::timestamp_value{v, 0};
                break;
            }
        }
    }

    log::row fresh_row(std::int64_t k) {
        log::row r;
        for (const auto& c : schema_.columns) r.push_back(value_of(c));
        set_key(r, k);
        // --records: the same rows in every format, so only what ARROW keeps.
        if (a_.arrow || a_.records > 0) keep_what_arrow_keeps(r);
        return r;
    }

    // Arrow holds TIME / TIMESTAMP in the unit of their precision, so a
    // replay reads back what that unit keeps (fluss-arrow.md §4, §5): whole
    // seconds at p0 (Java truncates toward zero), no nanos at p1..3, whole
    // micros at p4..6. And Fluss cannot recover a pre-1970 timestamp with a
    // sub-millisecond part from Arrow (the remainder comes out negative), so
    // the model keeps none. The log then holds exactly the model's rows.
    void keep_what_arrow_keeps(log::row& r) const {
        using log::data_type;
        for (std::size_t i = 0; i < r.size(); ++i) {
            const auto& c = schema_.columns[i];
            if (auto* ms = std::get_if<std::int32_t>(&r[i]); ms && c.type == data_type::time && c.precision == 0) {
                *ms = *ms / 1000 * 1000;
            } else if (auto* t = std::get_if<log::timestamp_value>(&r[i])) {
                if (c.precision == 0) t->millis = t->millis / 1000 * 1000;
                if (c.precision <= 3) t->nanos_of_milli = 0;
                else if (c.precision <= 6) t->nanos_of_milli = t->nanos_of_milli / 1000 * 1000;
                if (t->millis < 0) t->nanos_of_milli = 0;
            }
        }
    }

    // The KV value a replay must hold for `r`: the schema id (LE) + the row,
    // COMPACTED for arrow (what KV recovery encodes Arrow rows into), else
    // the row as the log stores it.
    void put_expected(const log::row& r, std::int16_t schema_id) {
        std::string v(2, '\0');
        v[0] = static_cast<char>(schema_id & 0xff);
        v[1] = static_cast<char>((schema_id >> 8) & 0xff);
        expected_[log::encode_key(schema_, r)] =
            v + log::encode_row(schema_, r, a_.arrow ? log::row_format::compacted : a_.format);
    }

    // One change of the model, appended to changes_: +I of a new key, -D of
    // a present one, or -U (the old row) and +U (a fresh one).
    void one_change(std::int16_t schema_id) {
        const auto k = uniform(0, a_.keys - 1);
        auto it = rows_.find(k);
        if (it == rows_.end()) {
            auto r = fresh_row(k);
            put_expected(r, schema_id);
            changes_.emplace_back(log::change_type::insert, r);
            rows_.emplace(k, std::move(r));
        } else if (uniform(0, 4) == 0) {
            expected_.erase(log::encode_key(schema_, it->second));
            changes_.emplace_back(log::change_type::del, std::move(it->second));
            rows_.erase(it);
        } else {
            changes_.emplace_back(log::change_type::update_before, it->second);
            auto r = fresh_row(k);
            put_expected(r, schema_id);
            changes_.emplace_back(log::change_type::update_after, r);
            it->second = std::move(r);
        }
    }

    const args& a_;
    log::schema schema_;
    std::mt19937_64 rng_;
    std::map<std::int64_t, log::row> rows_;
    std::map<std::string, std::string> expected_;
    std::vector<std::pair<log::change_type, log::row>> changes_;  // the batch being built
};

std::string uuid_from(std::uint64_t hi, std::uint64_t lo) {
    hi = (hi & 0xffffffffffff0fffull) | 0x4000ull;
    lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xffff),
                  static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffull));
    return buf;
}

asio::awaitable<void> put(storage::object_store& store, const std::string& key, std::string body) {
    diagnostics d;
    auto [ec] = co_await store.async_put(key, std::move(body), d, asio::as_tuple(asio::use_awaitable));
    if (ec) throw std::runtime_error("cannot write " + store.describe() + "/" + key + ": " + d.to_string(ec));
}

// Arrow keeps whole seconds of a precision-0 TIME / TIMESTAMP, and the
// generated keys are milliseconds apart: such a key column would collide.
void check_arrow_keys(const args& a, const log::schema& schema) {
    if (!a.arrow) return;
    for (auto idx : schema.primary_key) {
        const auto& c = schema.columns[idx];
        if ((c.type == log::data_type::time || c.type == log::data_type::timestamp ||
             c.type == log::data_type::timestamp_ltz) &&
            c.precision == 0)
            throw usage_error("--log-format arrow: primary-key column '" + c.name +
                              "' of precision 0 keeps whole seconds only, and the generated keys are milliseconds "
                              "apart: they would collide");
    }
}

asio::awaitable<std::string> generate(const args& a, storage::object_store& store, const std::string& root) {
    auto schema = log::schema::parse(a.schema_text, a.primary_key);
    generator gen(a, schema);
    const std::string tablet = (root.empty() ? "" : root + "/") + log::remote_log_tablet_dir(a.tablet);
    log::remote_log_manifest manifest;
    manifest.tablet = a.tablet;
    std::int64_t offset = 0;
    std::int64_t timestamp = 1722225103853;
    // With --records, segment and manifest ids come from a generator of their
    // own, so the rows do not depend on where segments are cut.
    std::mt19937_64 id_rng(a.seed ^ 0x5eed5eed5eed5eedull);
    auto next_id = [&] { return a.records > 0 ? id_rng() : gen.rng(); };
    std::int64_t segments = 0;
    for (std::int64_t s = 0; a.records > 0 ? offset < a.records : s < a.segments; ++s, ++segments) {
        std::string bytes;
        const std::int64_t start = offset;
        while (bytes.size() < a.segment_size && (a.records == 0 || offset < a.records)) {
            log::batch_builder b;
            b.magic = static_cast<std::int8_t>(a.magic);
            b.base_offset = offset;
            b.commit_timestamp = ++timestamp;
            b.schema_id = 1;
            gen.fill(b);
            const auto batch = b.build();
            // Read it back: the next offset is what the header says (an empty batch takes one).
            log::batch_reader check(std::as_bytes(std::span(batch.data(), batch.size())), "generated");
            offset = check.next()->header.next_offset();
            bytes += batch;
        }
        const std::string id = uuid_from(next_id(), next_id());
        auto seg = log::remote_log_segment::physical(id, start, offset, bytes.size(), timestamp);
        co_await put(store, log::remote_log_segment_key(tablet, id, start), std::move(bytes));
        manifest.segments.push_back(seg);
    }
    manifest.highest_copied_end_offset = offset;
    const std::string manifest_key =
        log::remote_log_manifest_dir(tablet) + "/" + uuid_from(next_id(), next_id()) + ".manifest";
    co_await put(store, manifest_key, log::write_manifest(manifest));
    if (!a.expected_kv.empty()) {
        std::ofstream out(a.expected_kv, std::ios::binary | std::ios::trunc);
        out << gen.expected_dump();
        if (!out) throw std::runtime_error("cannot write '" + a.expected_kv + "'");
    }
    std::fprintf(stderr, "fluss-gen: %lld segments, offsets [0, %lld), manifest %s\n",
                 static_cast<long long>(segments), static_cast<long long>(offset), manifest_key.c_str());
    co_return tablet;
}

}  // namespace

int main(int argc, char** argv) {
    args a;
    storage::object_uri uri;
    if (auto rc = parse_args(argc, argv, a)) return *rc;
    try {
        uri = storage::parse_object_uri(a.out);
        check_arrow_keys(a, log::schema::parse(a.schema_text, a.primary_key));
    } catch (const std::exception& e) {
        std::cerr << "fluss-gen: " << e.what() << " (see fluss-gen --help)\n";
        return 2;
    }
    std::string root = uri.key;
    while (!root.empty() && root.back() == '/') root.pop_back();
    asio::io_context ioc;
    try {
        auto store = storage::open_store(ioc.get_executor(), uri, a.s3);
        auto fut = asio::co_spawn(ioc, generate(a, *store, root), asio::use_future);
        ioc.run();
        const auto tablet = fut.get();
        storage::object_uri out{uri.scheme, uri.bucket, tablet};
        std::cout << out.to_string() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "fluss-gen: failed: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
