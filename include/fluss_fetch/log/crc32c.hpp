// fluss_fetch — CRC-32C (Castagnoli), the checksum of Fluss record batches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fluss_fetch::log {

/// CRC-32C of `size` bytes at `data` (reflected polynomial 0x82F63B78, init
/// and xorout 0xFFFFFFFF; "123456789" → 0xE3069283). `crc` continues a
/// checksum: crc32c(b, nb, crc32c(a, na)) == crc32c(a ++ b). Uses the CPU's
/// CRC32 instruction when it has one (SSE 4.2 on x86-64, the CRC extension
/// on AArch64), a table-driven portable version otherwise.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;

/// "sse4.2", "armv8-crc" or "portable": what crc32c uses on this machine.
const char* crc32c_implementation() noexcept;

namespace detail {
std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc) noexcept;
/// Only valid when crc32c_hardware_available().
std::uint32_t crc32c_hardware(const void* data, std::size_t size, std::uint32_t crc) noexcept;
bool crc32c_hardware_available() noexcept;
}  // namespace detail

}  // namespace fluss_fetch::log
