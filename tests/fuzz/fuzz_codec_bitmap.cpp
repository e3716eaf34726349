// Fuzzes BITMAP decoding (all formats, both row orders, masks) and the palette parser/cache.
// Input: format u8, flags u8, width u8, height u8, stride u16, palette entry count u8, then
// the palette entries and the pixel data.
#include <cstddef>
#include <cstdint>

#include "decode/codec/bitmap_decoder.h"
#include "decode/codec/image_cache.h"
#include "decode/codec/palette_cache.h"
#include "decode/wire/byte_reader.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    (void)parse_palette(in);

    ByteReader r(in);
    BitmapDescriptor b;
    b.format = r.u8();
    b.flags = r.u8();
    b.width = r.u8();
    b.height = r.u8();
    b.stride = r.u16();
    const uint8_t entries = r.u8();
    if (!r.ok()) {
        return 0;
    }
    Palette pal{1, {}};
    for (uint8_t i = 0; i < entries && r.remaining() >= 4; ++i) {
        pal.entries.push_back(r.u32());
    }
    b.palette = pal;
    b.palette_id = 1;
    b.data = r.rest();

    PaletteCache cache(4);
    auto resolved = cache.resolve(b.flags, b.palette, b.palette_id);
    const Palette* use = resolved && *resolved ? resolved->get() : nullptr;

    Limits limits;
    limits.max_width = 255;
    limits.max_height = 255;
    auto info = probe_bitmap(b, limits);
    if (info) {
        auto img = DecodedImage::allocate(info->width, info->height, info->format);
        (void)decode_bitmap(b, use, img.view(), limits);
        auto mask = DecodedImage::allocate(info->width, info->height, PixelFormat::A1);
        (void)decode_bitmap_mask(b, (b.flags & 8) != 0, mask.view(), limits);
    }
    return 0;
}
