// Test schemas built column by column (the ARROW reader and writer tests and
// the ARROW fuzz target share them), without going through schema::parse.
#pragma once

#include <fluss_fetch/log/row.hpp>

#include <string>

namespace test_support {

inline fluss_fetch::log::column col(std::string name, fluss_fetch::log::data_type t, bool nullable = true,
                                    int precision = 6, int scale = 0, int length = 1) {
    fluss_fetch::log::column c;
    c.name = std::move(name);
    c.type = t;
    c.nullable = nullable;
    c.precision = precision;
    c.scale = scale;
    c.length = length;
    return c;
}

/// One column of every type, each time unit and both decimal encodings;
/// key (i, str). `dec2_nullable`: whether the wide decimal may be null.
inline fluss_fetch::log::schema every_type_schema(bool dec2_nullable = true) {
    using fluss_fetch::log::data_type;
    fluss_fetch::log::schema s;
    s.columns = {
        col("b", data_type::boolean), col("t", data_type::tinyint), col("s", data_type::smallint),
        col("i", data_type::int_, false), col("l", data_type::bigint), col("f", data_type::float_),
        col("d", data_type::double_), col("str", data_type::string, false), col("by", data_type::bytes),
        col("dt", data_type::date), col("tm0", data_type::time, true, 0), col("tm3", data_type::time, true, 3),
        col("tm6", data_type::time, true, 6), col("tm9", data_type::time, true, 9),
        col("ts0", data_type::timestamp, true, 0), col("ts3", data_type::timestamp, true, 3),
        col("ts6", data_type::timestamp, true, 6), col("ts9", data_type::timestamp, true, 9),
        col("ch", data_type::char_, true, 6, 0, 5), col("bin", data_type::binary, true, 6, 0, 3),
        col("dec", data_type::decimal, true, 10, 2), col("dec2", data_type::decimal, dec2_nullable, 30, 4),
        col("ltz", data_type::timestamp_ltz, true, 6), col("ltz9", data_type::timestamp_ltz, true, 9),
    };
    s.primary_key = {3, 7};
    return s;
}

}  // namespace test_support
