// Fuzzes BMP probing and decoding (clipboard images from the guest agent).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/codec/bmp_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in(data, size);
    Limits limits;
    limits.max_width = 1024;
    limits.max_height = 1024;
    limits.max_pixels = 256 * 1024;
    auto info = probe_bmp(in, limits);
    if (!info) {
        return 0;
    }
    std::vector<uint8_t> pixels(size_t{info->image.width} * info->image.height * 4);
    const PixelView view{pixels.data(), info->image.width, info->image.height,
                         size_t{info->image.width} * 4, info->image.format};
    (void)decode_bmp(in, view, limits);
    return 0;
}
