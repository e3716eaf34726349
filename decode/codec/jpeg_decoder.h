// JPEG images (SpiceImage type JPEG = 105), the colour part of JPEG_ALPHA (108) and MJPEG
// stream frames: each is one complete baseline JPEG/JFIF, decoded with libjpeg(-turbo) to
// Xrgb32 like spice-gtk's decode-jpeg.c. JPEG images are lossy: the image cache marks them so.
#pragma once

#include <cstdint>

#include "decode/codec/image_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

struct JpegOptions {
    // spice-gtk decodes images with libjpeg's defaults (accurate integer IDCT, fancy
    // upsampling) but MJPEG stream frames with the fast IDCT and no fancy upsampling or block
    // smoothing; set this for stream frames to match it.
    bool fast = false;
};

// Reads the JPEG header: size, Xrgb32.
Result<ImageInfo> probe_jpeg(ByteView jpeg, const Limits& limits = {}, uint64_t base_offset = 0);

// Decodes into `out` (Xrgb32, or Argb32 with alpha 0xff for JPEG_ALPHA); the JPEG must have
// exactly out.width x out.height pixels (the image descriptor's size). Truncated or corrupt
// data is an error naming the byte offset libjpeg had reached.
Result<void> decode_jpeg(ByteView jpeg, const PixelView& out, const JpegOptions& options = {},
                         const Limits& limits = {}, uint64_t base_offset = 0);

// The JPEG_ALPHA payload after the image descriptor: flags u8 (1 = TOP_DOWN), jpeg_size u32,
// data_size u32, then data_size bytes: the JPEG, followed by an LZ stream of type XXXA holding
// the alpha plane (decoded by the LZ decoder; its top_down must match `top_down`).
struct JpegAlphaData {
    uint8_t flags = 0;
    ByteView jpeg;
    ByteView alpha;
    uint64_t jpeg_offset = 0;   // where `jpeg` starts (base_offset-relative, absolute)
    uint64_t alpha_offset = 0;  // where `alpha` starts

    bool top_down() const { return (flags & 1) != 0; }
};

Result<JpegAlphaData> parse_jpeg_alpha(ByteView payload, uint64_t base_offset = 0);

// Puts an A8 alpha plane (row 0 = top, as decoders write it) into byte 3 of an Argb32 image
// of the same size. The result is the JPEG_ALPHA image.
Result<void> combine_alpha(const PixelView& argb, const PixelView& alpha);

}  // namespace spicetap::codec
