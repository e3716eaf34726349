// LZ image decoder: the stream inside SpiceImage LZ_RGB (101) and LZ_PLT (100), and the alpha
// plane of JPEG_ALPHA (108). No state across images; one LzDecoder is reused for every image so
// its scratch buffer is allocated once.
//
// Input is the LZ stream itself (the `data_size` bytes after the SpiceImage LZ header fields):
// a 28-byte big-endian header (magic "  ZL", version 1.1, type, width, height, stride,
// top_down) then the tokens. The whole span must be consumed, as spice-common asserts.
//
// Output, by stream type:
//   PLT1/PLT4/PLT8, RGB16, RGB24, RGB32 -> Xrgb32 (top byte 0xff; an Argb32 view is accepted too)
//   RGBA                                -> Argb32 (alpha as sent)
//   XXXA                                -> Argb32: only the alpha byte of each pixel is written,
//                                          the colour bytes are left as they are (JPEG_ALPHA:
//                                          decode the JPEG into the view first); or A8
//   A8                                  -> A8
// Palette types take the SpicePalette entries (u32 xRGB) as a span and write Xrgb32 through
// them, like spice-common's canvas. An index beyond the palette wraps modulo its size (what
// spice-common does for 4-bit images; for 8- and 1-bit ones it reads out of bounds).
// Rows come out top row first whatever the stream's row order; palette rows are cut to width.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "decode/codec/image_types.h"
#include "decode/codec/lz_common.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

struct LzHeader {
    LzImageType type = LzImageType::Invalid;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;  // bytes per row of the encoded image
    bool top_down = true;

    // Units the stream decodes to: pixels for RGB types, stride * pixels_per_byte per row for
    // palette types (may exceed width).
    uint64_t gross_pixels() const;
};

inline constexpr size_t kLzHeaderSize = 28;

class LzDecoder {
public:
    explicit LzDecoder(Limits limits = {}) : limits_(limits) {}

    // Parses and validates the header (type, sizes, stride rules, limits).
    Result<LzHeader> read_header(ByteView stream) const;

    Result<ImageInfo> probe(ByteView stream) const;

    // Decodes into `out`, which must have the header's width and height and a format listed
    // above. `palette` is required for palette types and ignored otherwise.
    Result<void> decode(ByteView stream, const PixelView& out,
                        std::span<const uint32_t> palette = {});

private:
    Limits limits_;
    std::vector<uint32_t> scratch_;  // stream-order pixels when `out` cannot take them directly
    std::vector<uint8_t> scratch8_;
};

}  // namespace spicetap::codec
