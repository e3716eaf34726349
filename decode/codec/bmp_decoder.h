// Windows bitmaps (BMP / DIB), as guest agents put them on the clipboard (VD_AGENT_CLIPBOARD_
// IMAGE_BMP): a "BM" file header followed by the DIB, or the DIB alone. Headers: CORE (12
// bytes), INFO (40), INFO with masks (52, 56), V4 (108), V5 (124). Depths 1, 4, 8 (palette),
// 16, 24, 32; uncompressed or BITFIELDS. RLE and embedded JPEG/PNG are reported as unsupported.
#pragma once

#include <cstdint>

#include "decode/codec/image_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

struct BmpInfo {
    ImageInfo image;  // Argb32 when the bitmap has an alpha mask, else Xrgb32
    uint16_t bits_per_pixel = 0;
    uint32_t compression = 0;  // BI_RGB 0, BI_BITFIELDS 3, BI_ALPHABITFIELDS 6
    uint32_t header_size = 0;  // of the DIB header
    bool file_header = false;  // starts with "BM"
};

Result<BmpInfo> probe_bmp(ByteView bmp, const Limits& limits = {});

// Decodes into `out`, which must be image.width x image.height of the probed format. Row 0 is
// the top row whatever the bitmap's row order. Error offsets are within `bmp`.
Result<void> decode_bmp(ByteView bmp, const PixelView& out, const Limits& limits = {});

}  // namespace spicetap::codec
