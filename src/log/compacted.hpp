// CompactedRow field writers shared by the row encoder and the ARROW reader
// (fluss-arrow.md §5, CompactedRowWriter): one definition of each encoding.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace fluss_fetch::log::detail {

// __extension__ is allowed on a declaration, not on a parameter's or a cast's type.
__extension__ typedef __int128 int128_t;
__extension__ typedef unsigned __int128 uint128_t;

/// Unsigned base-128 varint, low group first (INT/DATE/TIME pass the int32
/// zero-extended, so a negative one takes 5 bytes; BIGINT 10).
inline void put_varint(std::string& out, std::uint64_t v) {
    char buf[10];
    int n = 0;
    while (v >= 0x80) {
        buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out.append(buf, static_cast<std::size_t>(n));
}

inline void put_int32(std::string& out, std::int32_t v) { put_varint(out, static_cast<std::uint32_t>(v)); }
inline void put_int64(std::string& out, std::int64_t v) { put_varint(out, static_cast<std::uint64_t>(v)); }

template <class T>
inline void put_raw(std::string& out, T v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);  // little-endian host
    out.append(b, sizeof v);
}

/// STRING / CHAR / BYTES / BINARY: varint length + the bytes.
inline void put_bytes(std::string& out, const void* data, std::size_t n) {
    put_varint(out, static_cast<std::uint32_t>(n));
    out.append(static_cast<const char*>(data), n);
}

/// TIMESTAMP(p) / TIMESTAMP_LTZ(p): varint millis, + varint nanos of the milli when p > 3.
inline void put_timestamp(std::string& out, std::int64_t millis, std::int32_t nanos_of_milli, int precision) {
    put_int64(out, millis);
    if (precision > 3) put_int32(out, nanos_of_milli);
}

/// DECIMAL(p, s): p <= 18 a varint of the unscaled long; p > 18 varint length
/// + BigInteger.toByteArray() of the unscaled value (big-endian, minimal
/// two's complement: 0 is one byte 00).
inline void put_decimal(std::string& out, int128_t unscaled, int precision) {
    if (precision <= 18) {
        put_int64(out, static_cast<std::int64_t>(unscaled));
        return;
    }
    unsigned char be[16];
    auto u = static_cast<uint128_t>(unscaled);
    for (int i = 15; i >= 0; --i) {
        be[i] = static_cast<unsigned char>(u & 0xff);
        u >>= 8;
    }
    // Drop leading bytes that only repeat the sign of the next one.
    int from = 0;
    while (from < 15 && ((be[from] == 0x00 && (be[from + 1] & 0x80) == 0) || (be[from] == 0xff && (be[from + 1] & 0x80) != 0)))
        ++from;
    put_bytes(out, be + from, static_cast<std::size_t>(16 - from));
}

}  // namespace fluss_fetch::log::detail
