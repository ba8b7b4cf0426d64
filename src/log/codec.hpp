// Buffer codecs of ARROW batches (spec fluss-arrow §3): ZSTD frames through
// libzstd, LZ4 frames through liblz4. Internal to the log layer.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace fluss_fetch::log::detail {

/// Decompress one ZSTD frame (or several back to back) into exactly
/// `out.size()` bytes. \throws std::invalid_argument saying what is wrong
/// (libzstd's message, or the size produced versus the size announced).
void zstd_decompress(std::span<const std::byte> in, std::span<std::byte> out);

/// Decompress one LZ4 frame into exactly `out.size()` bytes; bytes after the
/// frame's end mark are an error. \throws std::invalid_argument.
void lz4_frame_decompress(std::span<const std::byte> in, std::span<std::byte> out);

/// A ZSTD frame of `in` at `level` (1..22).
std::string zstd_compress(std::span<const std::byte> in, int level);

/// An LZ4 frame of `in` as Fluss writes it: FLG 0x60 (independent blocks, no
/// checksums, no content size), BD 0x40 (64 KiB blocks).
std::string lz4_frame_compress(std::span<const std::byte> in);

}  // namespace fluss_fetch::log::detail
