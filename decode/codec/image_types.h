// Types shared by every image codec in decode/codec/. Codecs work in two phases, like
// spice-common: probe(payload) -> ImageInfo, then decode(payload, PixelView) into pixels the
// caller owns. Codecs never allocate frames and never read or write outside the spans given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace spicetap::codec {

// Output pixel formats. 32-bit formats are native-endian uint32 0xAARRGGBB (pixman's
// a8r8g8b8 / x8r8g8b8 on little-endian): bytes B, G, R, A in memory. Alpha is stored as sent
// (SPICE sends premultiplied alpha for RGBA content; codecs do not convert).
enum class PixelFormat : uint8_t {
    Xrgb32,  // 4 bytes/pixel, the top byte undefined on read; decoders write 0xff there
    Argb32,  // 4 bytes/pixel with alpha
    A8,      // 1 byte/pixel alpha
    A1,      // 1 bit/pixel, bit 0 of each byte = leftmost pixel (pixman a1 on little-endian)
};

inline size_t bytes_per_row(PixelFormat f, uint32_t width) {
    switch (f) {
        case PixelFormat::Xrgb32:
        case PixelFormat::Argb32:
            return size_t{width} * 4;
        case PixelFormat::A8:
            return width;
        case PixelFormat::A1:
            return (size_t{width} + 7) / 8;
    }
    return 0;
}

struct ImageInfo {
    uint32_t width = 0;
    uint32_t height = 0;
    PixelFormat format = PixelFormat::Xrgb32;  // what decode() writes
    bool top_down = true;  // false: the payload stores rows bottom-up (decode() still writes
                           // row 0 = top into the PixelView)
};

// Caller-owned destination. Row y starts at data + y * stride.
struct PixelView {
    uint8_t* data = nullptr;
    uint32_t width = 0;
    uint32_t height = 0;
    size_t stride = 0;
    PixelFormat format = PixelFormat::Xrgb32;

    uint8_t* row(uint32_t y) const { return data + size_t{y} * stride; }
};

// Hard caps on what a payload may make us do; explicit so fuzzers and replay can tighten them.
struct Limits {
    uint32_t max_width = 16384;
    uint32_t max_height = 16384;
    uint64_t max_pixels = uint64_t{1} << 26;  // 64 Mpixel
};

// dst[i] = src[i] | top for n 32-bit pixels (dst may be src), four at a time: the loop the
// decoders use to make Xrgb32 rows opaque, at memcpy-like speed without -O3.
inline void copy_pixels_or(uint8_t* dst, const uint8_t* src, size_t n, uint32_t top) {
    using U32x4 = uint32_t __attribute__((vector_size(16)));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        U32x4 v;
        std::memcpy(&v, src + 4 * i, sizeof v);
        v |= top;
        std::memcpy(dst + 4 * i, &v, sizeof v);
    }
    for (; i < n; ++i) {
        uint32_t v;
        std::memcpy(&v, src + 4 * i, 4);
        v |= top;
        std::memcpy(dst + 4 * i, &v, 4);
    }
}

}  // namespace spicetap::codec
