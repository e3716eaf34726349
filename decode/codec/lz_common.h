// Facts shared by SPICE's LZ and GLZ image formats: the image types carried inside the stream,
// the stream magic and version, and what each type means in pixels.
#pragma once

#include <cstdint>

#include "decode/codec/image_types.h"

namespace spicetap::codec {

// The type field inside an LZ/GLZ stream (not the SpiceImage type).
enum class LzImageType : uint8_t {
    Invalid = 0,
    Plt1Le = 1,  // 1 bit per pixel, palette indices, first pixel in bit 0
    Plt1Be = 2,  // 1 bit per pixel, first pixel in bit 7
    Plt4Le = 3,  // 4 bits per pixel, first pixel in the low nibble
    Plt4Be = 4,  // 4 bits per pixel, first pixel in the high nibble
    Plt8 = 5,    // one palette index per byte
    Rgb16 = 6,   // x1r5g5b5, sent high byte first
    Rgb24 = 7,   // B, G, R
    Rgb32 = 8,   // B, G, R (the pad byte is not sent)
    Rgba = 9,    // an Rgb32 pass over all pixels, then an alpha pass
    Xxxa = 10,   // alpha pass only (the alpha plane of JPEG_ALPHA)
    A8 = 11,     // one alpha byte per pixel
};

const char* lz_image_type_name(LzImageType type);

namespace lz {

inline constexpr uint32_t kMagic = 0x20205a4c;  // big-endian u32, bytes "  ZL" on the wire
inline constexpr uint32_t kVersion = 0x00010001;
inline constexpr uint8_t kMaxType = 11;

constexpr bool is_palette(LzImageType t) {
    return t >= LzImageType::Plt1Le && t <= LzImageType::Plt8;
}

// Palette types code packed bytes; this many pixels per coded byte.
constexpr uint32_t pixels_per_byte(LzImageType t) {
    switch (t) {
        case LzImageType::Plt1Le:
        case LzImageType::Plt1Be:
            return 8;
        case LzImageType::Plt4Le:
        case LzImageType::Plt4Be:
            return 2;
        default:
            return 1;
    }
}

// Bytes per pixel of the image the encoder saw; RGB types require stride == width * this.
constexpr uint32_t bytes_per_pixel(LzImageType t) {
    switch (t) {
        case LzImageType::Rgb16:
            return 2;
        case LzImageType::Rgb24:
            return 3;
        case LzImageType::Rgb32:
        case LzImageType::Rgba:
        case LzImageType::Xxxa:
            return 4;
        default:
            return 1;
    }
}

// What our decoders write for each type.
constexpr PixelFormat output_format(LzImageType t) {
    switch (t) {
        case LzImageType::Rgba:
        case LzImageType::Xxxa:
            return PixelFormat::Argb32;
        case LzImageType::A8:
            return PixelFormat::A8;
        default:
            return PixelFormat::Xrgb32;
    }
}

}  // namespace lz
}  // namespace spicetap::codec
