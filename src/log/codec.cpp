// ZSTD and LZ4-frame buffers of ARROW batches.
#include "log/codec.hpp"

#include <lz4frame.h>
#include <zstd.h>

#include <memory>
#include <stdexcept>

namespace fluss_fetch::log::detail {

namespace {

// One decompression context per thread, reused: ZSTD_decompress and a fresh
// LZ4F context allocate and clear ~100 KiB per call, which costs more than
// decompressing the small buffers of an ARROW batch (a batch has 2-3 buffers
// per column).
ZSTD_DCtx* zstd_context() {
    thread_local const std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!ctx) throw std::bad_alloc();
    return ctx.get();
}

struct lz4_context {
    LZ4F_dctx* ctx = nullptr;
    lz4_context() {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) ctx = nullptr;
    }
    ~lz4_context() { LZ4F_freeDecompressionContext(ctx); }
};

LZ4F_dctx* lz4_dcontext() {
    thread_local lz4_context c;
    if (!c.ctx) throw std::bad_alloc();
    LZ4F_resetDecompressionContext(c.ctx);  // a failed frame may have left it mid-frame
    return c.ctx;
}

}  // namespace

void zstd_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
    const std::size_t n = ZSTD_decompressDCtx(zstd_context(), out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n))
        throw std::invalid_argument(std::string("ZSTD: ") + ZSTD_getErrorName(n) + " (" + std::to_string(in.size()) +
                                    " compressed bytes, " + std::to_string(out.size()) + " announced)");
    if (n != out.size())
        throw std::invalid_argument("ZSTD: decompressed to " + std::to_string(n) + " bytes, the buffer announces " +
                                    std::to_string(out.size()));
}

void lz4_frame_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
    LZ4F_dctx* const ctx = lz4_dcontext();
    std::size_t in_at = 0, out_at = 0;
    LZ4F_decompressOptions_t opts{};
    for (;;) {
        std::size_t src = in.size() - in_at;
        std::size_t dst = out.size() - out_at;
        const std::size_t hint = LZ4F_decompress(ctx, out.data() + out_at, &dst, in.data() + in_at, &src, &opts);
        if (LZ4F_isError(hint)) throw std::invalid_argument(std::string("LZ4 frame: ") + LZ4F_getErrorName(hint));
        in_at += src;
        out_at += dst;
        if (hint == 0) break;  // the frame is complete
        if (src == 0 && dst == 0) {
            if (in_at == in.size())
                throw std::invalid_argument("LZ4 frame: truncated (" + std::to_string(in.size()) + " bytes, frame incomplete)");
            throw std::invalid_argument("LZ4 frame: decompresses to more than the " + std::to_string(out.size()) +
                                        " bytes the buffer announces");
        }
    }
    if (in_at != in.size())
        throw std::invalid_argument("LZ4 frame: " + std::to_string(in.size() - in_at) + " bytes after the frame's end");
    if (out_at != out.size())
        throw std::invalid_argument("LZ4 frame: decompressed to " + std::to_string(out_at) +
                                    " bytes, the buffer announces " + std::to_string(out.size()));
}

std::string zstd_compress(std::span<const std::byte> in, int level) {
    std::string out(ZSTD_compressBound(in.size()), '\0');
    const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
    if (ZSTD_isError(n)) throw std::invalid_argument(std::string("ZSTD: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

std::string lz4_frame_compress(std::span<const std::byte> in) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    prefs.frameInfo.contentSize = 0;
    std::string out(LZ4F_compressFrameBound(in.size(), &prefs), '\0');
    const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
    if (LZ4F_isError(n)) throw std::invalid_argument(std::string("LZ4 frame: ") + LZ4F_getErrorName(n));
    out.resize(n);
    return out;
}

}  // namespace fluss_fetch::log::detail
