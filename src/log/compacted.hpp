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

// Each encoding is written once, to a raw pointer (the ARROW reader writes a
// row into a buffer it sized beforehand: no capacity check per byte), and
// wrapped for std::string (the row encoder). `max_*` give the most bytes a
// field can take.

/// Unsigned base-128 varint, low group first (INT/DATE/TIME pass the int32
/// zero-extended, so a negative one takes 5 bytes; BIGINT 10).
inline char* write_varint(char* p, std::uint64_t v) noexcept {
    while (v >= 0x80) {
        *p++ = static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
}
inline char* write_int32(char* p, std::int32_t v) noexcept { return write_varint(p, static_cast<std::uint32_t>(v)); }
inline char* write_int64(char* p, std::int64_t v) noexcept { return write_varint(p, static_cast<std::uint64_t>(v)); }
constexpr std::size_t max_int32 = 5, max_int64 = 10;

/// STRING / CHAR / BYTES / BINARY: varint length + the bytes (at most max_int32 + n).
inline char* write_bytes(char* p, const void* data, std::size_t n) noexcept {
    p = write_varint(p, static_cast<std::uint32_t>(n));
    if (n) std::memcpy(p, data, n);
    return p + n;
}

/// TIMESTAMP(p) / TIMESTAMP_LTZ(p): varint millis, + varint nanos of the milli when p > 3.
inline char* write_timestamp(char* p, std::int64_t millis, std::int32_t nanos_of_milli, int precision) noexcept {
    p = write_int64(p, millis);
    return precision > 3 ? write_int32(p, nanos_of_milli) : p;
}
constexpr std::size_t max_timestamp = max_int64 + max_int32;

/// DECIMAL(p, s): p <= 18 a varint of the unscaled long; p > 18 varint length
/// + BigInteger.toByteArray() of the unscaled value (big-endian, minimal
/// two's complement: 0 is one byte 00).
inline char* write_decimal(char* p, int128_t unscaled, int precision) noexcept {
    if (precision <= 18) return write_int64(p, static_cast<std::int64_t>(unscaled));
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
    return write_bytes(p, be + from, static_cast<std::size_t>(16 - from));
}
constexpr std::size_t max_decimal = 1 + 16;  // > max_int64

// ---- the same, appended to a std::string

inline void put_varint(std::string& out, std::uint64_t v) {
    char buf[max_int64];
    out.append(buf, static_cast<std::size_t>(write_varint(buf, v) - buf));
}
inline void put_int32(std::string& out, std::int32_t v) { put_varint(out, static_cast<std::uint32_t>(v)); }
inline void put_int64(std::string& out, std::int64_t v) { put_varint(out, static_cast<std::uint64_t>(v)); }

template <class T>
inline void put_raw(std::string& out, T v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);  // little-endian host
    out.append(b, sizeof v);
}

inline void put_bytes(std::string& out, const void* data, std::size_t n) {
    put_varint(out, static_cast<std::uint32_t>(n));
    out.append(static_cast<const char*>(data), n);
}

inline void put_timestamp(std::string& out, std::int64_t millis, std::int32_t nanos_of_milli, int precision) {
    char buf[max_timestamp];
    out.append(buf, static_cast<std::size_t>(write_timestamp(buf, millis, nanos_of_milli, precision) - buf));
}

inline void put_decimal(std::string& out, int128_t unscaled, int precision) {
    char buf[max_decimal];
    out.append(buf, static_cast<std::size_t>(write_decimal(buf, unscaled, precision) - buf));
}

}  // namespace fluss_fetch::log::detail
