// Private to the LZ-family decoders: how each LZ image type turns literal bytes into output
// pixels and how a back-reference copies them. The token parsers (LZ in lz_decoder.cpp, GLZ in
// glz_decoder.cpp) are templates over these units, so each type gets its own tight loop.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "decode/wire/result.h"

namespace spicetap::codec::lz_detail {

// Where a pass stopped and why; what == nullptr means success. Cheap to return from hot loops;
// the decoders turn it into a DecodeError with the codec name and image id.
struct PassStatus {
    const char* what = nullptr;
    Errc code = Errc::Corrupt;
    size_t at = 0;  // byte offset in the stream

    bool ok() const { return what == nullptr; }
};

// dst[i] = dst[i - ofs] for i in [0, len): an LZ match that may overlap its own output.
template <typename T>
inline void copy_match(T* dst, size_t ofs, size_t len) {
    const T* src = dst - ofs;
    if (len <= 16) {  // short matches dominate text; a forward loop also handles overlap
        for (size_t i = 0; i < len; ++i) {
            dst[i] = src[i];
        }
        return;
    }
    if (ofs == 1) {
        std::fill_n(dst, len, *src);
        return;
    }
    // Longer: whole periods of the (possibly overlapping) source at a time, growing each step.
    while (len != 0) {
        const size_t n = std::min(len, static_cast<size_t>(dst - src));
        std::memcpy(dst, src, n * sizeof(T));
        dst += n;
        len -= n;
    }
}

// Each unit: Out (output element), kInBytes (stream bytes per literal unit), kPixels (output
// pixels per unit), literals(in, out, n), match(out, ofs, len) and copy_from(dst, src, len) in
// output pixels.

// RGB24 and RGB32: B, G, R literals into 32-bit pixels with a fixed top byte.
struct RgbUnit {
    using Out = uint32_t;
    static constexpr size_t kInBytes = 3;
    static constexpr size_t kPixels = 1;
    uint32_t top = 0;

    void literals(const uint8_t* in, uint32_t* out, size_t n) const {
        // All but the last pixel may load 4 bytes: the next pixel's bytes follow in the run.
        size_t i = 0;
        for (; i + 1 < n; ++i, in += 3) {
            uint32_t v;
            std::memcpy(&v, in, 4);
            out[i] = top | (le32(v) & 0x00ffffffu);
        }
        out[i] = top | uint32_t{in[0]} | (uint32_t{in[1]} << 8) | (uint32_t{in[2]} << 16);
    }

    static void match(uint32_t* out, size_t ofs, size_t len) { copy_match(out, ofs, len); }

    static void copy_from(uint32_t* dst, const uint32_t* src, size_t len) {
        std::memcpy(dst, src, len * sizeof(uint32_t));
    }

private:
    static uint32_t le32(uint32_t v) {
        if constexpr (std::endian::native == std::endian::big) {
            return __builtin_bswap32(v);
        }
        return v;
    }
};

// x1r5g5b5 sent high byte first, widened to 8 bits per channel as (c << 3) | (c >> 2).
struct Rgb16Unit {
    using Out = uint32_t;
    static constexpr size_t kInBytes = 2;
    static constexpr size_t kPixels = 1;
    uint32_t top = 0;

    void literals(const uint8_t* in, uint32_t* out, size_t n) const {
        for (size_t i = 0; i < n; ++i, in += 2) {
            const uint32_t v = (uint32_t{in[0]} << 8) | in[1];
            const uint32_t r = (v >> 10) & 0x1f;
            const uint32_t g = (v >> 5) & 0x1f;
            const uint32_t b = v & 0x1f;
            out[i] = top | (((r << 3) | (r >> 2)) << 16) | (((g << 3) | (g >> 2)) << 8) |
                     ((b << 3) | (b >> 2));
        }
    }

    static void match(uint32_t* out, size_t ofs, size_t len) { copy_match(out, ofs, len); }

    static void copy_from(uint32_t* dst, const uint32_t* src, size_t len) {
        std::memcpy(dst, src, len * sizeof(uint32_t));
    }
};

// The alpha pass of RGBA: one byte per pixel into the top byte, colour bytes untouched.
struct AlphaUnit {
    using Out = uint32_t;
    static constexpr size_t kInBytes = 1;
    static constexpr size_t kPixels = 1;

    static void literals(const uint8_t* in, uint32_t* out, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            out[i] = (out[i] & 0x00ffffffu) | (uint32_t{in[i]} << 24);
        }
    }

    static void match(uint32_t* out, size_t ofs, size_t len) {
        const uint32_t* src = out - ofs;
        for (size_t i = 0; i < len; ++i) {
            out[i] = (out[i] & 0x00ffffffu) | (src[i] & 0xff000000u);
        }
    }

    static void copy_from(uint32_t* dst, const uint32_t* src, size_t len) {
        for (size_t i = 0; i < len; ++i) {
            dst[i] = (dst[i] & 0x00ffffffu) | (src[i] & 0xff000000u);
        }
    }
};

// One byte per pixel: A8, and the alpha plane (XXXA) decoded on its own.
struct ByteUnit {
    using Out = uint8_t;
    static constexpr size_t kInBytes = 1;
    static constexpr size_t kPixels = 1;

    static void literals(const uint8_t* in, uint8_t* out, size_t n) { std::memcpy(out, in, n); }

    static void match(uint8_t* out, size_t ofs, size_t len) { copy_match(out, ofs, len); }

    static void copy_from(uint8_t* dst, const uint8_t* src, size_t len) {
        std::memcpy(dst, src, len);
    }
};

// Palette indices (1, 4 or 8 bits) expanded through a 256-entry table. The stream codes packed
// bytes, so offsets and lengths scale by the pixels per byte.
template <int kBits, bool kMsbFirst>
struct PaletteUnit {
    using Out = uint32_t;
    static constexpr size_t kInBytes = 1;
    static constexpr size_t kPixels = 8 / kBits;
    const uint32_t* table = nullptr;  // 256 entries, already reduced modulo the palette size

    void literals(const uint8_t* in, uint32_t* out, size_t n) const {
        constexpr uint32_t mask = (1u << kBits) - 1;
        for (size_t i = 0; i < n; ++i) {
            const uint32_t byte = in[i];
            for (size_t k = 0; k < kPixels; ++k) {
                const uint32_t shift =
                    kMsbFirst ? uint32_t(8 - kBits * (k + 1)) : uint32_t(kBits * k);
                *out++ = table[(byte >> shift) & mask];
            }
        }
    }

    static void match(uint32_t* out, size_t ofs, size_t len) { copy_match(out, ofs, len); }

    static void copy_from(uint32_t* dst, const uint32_t* src, size_t len) {
        std::memcpy(dst, src, len * sizeof(uint32_t));
    }
};

using Plt1LeUnit = PaletteUnit<1, false>;
using Plt1BeUnit = PaletteUnit<1, true>;
using Plt4LeUnit = PaletteUnit<4, false>;
using Plt4BeUnit = PaletteUnit<4, true>;
using Plt8Unit = PaletteUnit<8, false>;

inline uint32_t read_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace spicetap::codec::lz_detail
