// Uncompressed SPICE bitmaps (SpiceImage type BITMAP = 0), as canvas_get_bits and
// canvas_get_bitmap_mask in spice-common interpret them.
//
// Output: the 1/4/8-bit indexed formats, 16BIT (x1r5g5b5), 24BIT and 32BIT become Xrgb32;
// RGBA becomes Argb32 (alpha as sent, premultiplied); 8BIT_A becomes A8. 1-bit bitmaps used as
// masks (QMask) become A1 through decode_bitmap_mask, which ignores the palette.
#pragma once

#include <cstdint>
#include <optional>

#include "decode/codec/image_types.h"
#include "decode/codec/palette_cache.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// SpiceBitmapFmt values.
enum class BitmapFormat : uint8_t {
    Invalid = 0,
    OneBitLe = 1,   // 1 bpp indexed, leftmost pixel in bit 0
    OneBitBe = 2,   // 1 bpp indexed, leftmost pixel in bit 7
    FourBitLe = 3,  // 4 bpp indexed, leftmost pixel in the low nibble
    FourBitBe = 4,  // 4 bpp indexed, leftmost pixel in the high nibble
    EightBit = 5,   // 8 bpp indexed
    Rgb16 = 6,      // little-endian u16 x1r5g5b5
    Rgb24 = 7,      // bytes B, G, R
    Rgb32 = 8,      // bytes B, G, R, x
    Rgba = 9,       // bytes B, G, R, A
    Alpha8 = 10,    // 1 byte alpha
};

const char* bitmap_format_name(uint8_t format);
bool bitmap_format_is_indexed(uint8_t format);

// Everything of a SpiceBitmap (the BITMAP image payload after the 18-byte image descriptor)
// a decoder needs; the display-channel demarshaller fills it. Fields hold the wire values
// unchanged, validation happens here.
struct BitmapDescriptor {
    uint8_t format = 0;   // SpiceBitmapFmt (BitmapFormat)
    uint8_t flags = 0;    // SpiceBitmapFlags (bitmap_flags::*)
    uint32_t width = 0;   // "x"
    uint32_t height = 0;  // "y"
    uint32_t stride = 0;  // bytes per stored row
    // flags & PAL_FROM_CACHE: the cache id (palette_id u64 on the wire).
    uint64_t palette_id = 0;
    // otherwise: the palette the u32 pointer refers to (parse_palette), nullopt for pointer 0.
    std::optional<Palette> palette;
    // The pixel rows: stride * height bytes as stored (bottom row first unless TOP_DOWN).
    ByteView data;
    uint64_t data_offset = 0;  // where `data` starts in the message, for error offsets
};

// Validates the descriptor against `limits` and says what decode_bitmap will write.
Result<ImageInfo> probe_bitmap(const BitmapDescriptor& bitmap, const Limits& limits = {});

// Converts the bitmap into `out` (row 0 = top whatever the stored order). `palette` is what
// PaletteCache::resolve returned; indexed formats need one. `out` must have the bitmap's size
// and the format probe_bitmap reports (Xrgb32 and Argb32 are interchangeable for colour
// formats; non-alpha formats write 0xff into the top byte). Palette indices past the end of
// the palette read as black (the reference client reads uninitialised memory there).
Result<void> decode_bitmap(const BitmapDescriptor& bitmap, const Palette* palette,
                           const PixelView& out, const Limits& limits = {});

// A 1-bit bitmap as a mask: `out` is A1 of the bitmap's size; the set bits of the stored
// bitmap become set bits, inverted when `invert` (QMask flag INVERS). Only 1BIT_LE/1BIT_BE.
Result<void> decode_bitmap_mask(const BitmapDescriptor& bitmap, bool invert, const PixelView& out,
                                const Limits& limits = {});

// 5-bit channel to 8 bits the way pixman and spice-common widen x1r5g5b5: (c << 3) | (c >> 2).
inline uint32_t rgb555_to_xrgb(uint16_t v) {
    const uint32_t r = (v >> 10) & 0x1f;
    const uint32_t g = (v >> 5) & 0x1f;
    const uint32_t b = v & 0x1f;
    return 0xff000000u | (((r << 3) | (r >> 2)) << 16) | (((g << 3) | (g >> 2)) << 8) |
           ((b << 3) | (b >> 2));
}

// Stores a native-endian 32-bit pixel at p (4 bytes, no alignment assumed).
inline void store_pixel32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
    p[3] = static_cast<uint8_t>(v >> 24);
}

// Checks a caller's PixelView against what a decoder will write; `codec` names the decoder.
Result<void> check_output(const char* codec, const PixelView& out, uint32_t width, uint32_t height,
                          PixelFormat want);

}  // namespace spicetap::codec
