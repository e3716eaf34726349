// Fuzzes JPEG decoding (image and MJPEG settings) and the JPEG_ALPHA payload split.
#include <cstddef>
#include <cstdint>

#include "decode/codec/image_cache.h"
#include "decode/codec/jpeg_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    if (auto parts = parse_jpeg_alpha(in); parts) {
        (void)probe_jpeg(parts->jpeg);
    }
    // Small limits keep progressive JPEGs from spending the fuzzer's time and memory.
    Limits limits;
    limits.max_width = 1024;
    limits.max_height = 1024;
    limits.max_pixels = 256 * 1024;
    auto info = probe_jpeg(in, limits);
    if (!info) {
        return 0;
    }
    auto img = DecodedImage::allocate(info->width, info->height, PixelFormat::Xrgb32);
    JpegOptions options;
    options.fast = (size & 1) != 0;
    (void)decode_jpeg(in, img.view(), options, limits);
    return 0;
}
