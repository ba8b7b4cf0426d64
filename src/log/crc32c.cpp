// CRC-32C: slicing-by-8 tables, or the CPU's CRC32 instruction when it has one
// (chosen once at run time; the hardware versions are compiled for their
// target with function attributes, so the rest of the build stays portable).
#include <fluss_fetch/log/crc32c.hpp>

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace fluss_fetch::log {

namespace {

constexpr std::uint32_t poly = 0x82F63B78u;

struct tables {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    constexpr tables() {
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? poly : 0);
            t[0][i] = c;
        }
        for (std::uint32_t i = 0; i < 256; ++i)
            for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
};
constexpr tables table;

}  // namespace

namespace detail {

std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
    const auto& t = table.t;
    while (size >= 8) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= c;  // little-endian host assumed (x86-64, AArch64 Linux)
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
            t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(const void* data, std::size_t size,
                                                                 std::uint32_t crc) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t c = ~crc;
    while (size >= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        size -= 8;
    }
    std::uint32_t c32 = static_cast<std::uint32_t>(c);
    while (size--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

bool crc32c_hardware_available() noexcept {
    static const bool available = __builtin_cpu_supports("sse4.2");
    return available;
}
#elif defined(__aarch64__) && defined(__linux__)
__attribute__((target("+crc"))) std::uint32_t crc32c_hardware(const void* data, std::size_t size,
                                                               std::uint32_t crc) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
    while (size >= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        c = __crc32cd(c, v);
        p += 8;
        size -= 8;
    }
    while (size--) c = __crc32cb(c, *p++);
    return ~c;
}

bool crc32c_hardware_available() noexcept {
    static const bool available = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
    return available;
}
#else
std::uint32_t crc32c_hardware(const void* data, std::size_t size, std::uint32_t crc) noexcept {
    return crc32c_portable(data, size, crc);
}
bool crc32c_hardware_available() noexcept { return false; }
#endif

}  // namespace detail

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) noexcept {
    return detail::crc32c_hardware_available() ? detail::crc32c_hardware(data, size, crc)
                                               : detail::crc32c_portable(data, size, crc);
}

const char* crc32c_implementation() noexcept {
    if (!detail::crc32c_hardware_available()) return "portable";
#if defined(__x86_64__)
    return "sse4.2";
#else
    return "armv8-crc";
#endif
}

}  // namespace fluss_fetch::log
