// Fuzzes LZ4 image decoding and spicevmc COMPRESSED_DATA. Input: width u8, height u8, then the
// LZ4 image payload (also tried whole as a COMPRESSED_DATA body).
#include <cstddef>
#include <cstdint>

#include "decode/codec/image_cache.h"
#include "decode/codec/lz4_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    (void)decode_spicevmc_compressed(in, 1u << 20);
    if (size < 2) {
        return 0;
    }
    const uint32_t width = data[0];
    const uint32_t height = data[1];
    const ByteView payload = in.subspan(2);
    Limits limits;
    limits.max_width = 255;
    limits.max_height = 255;
    auto info = probe_lz4(payload, width, height, limits);
    if (info) {
        auto img = DecodedImage::allocate(width, height, info->format);
        (void)decode_lz4(payload, img.view(), limits);
    }
    return 0;
}
