// LZ decoder on arbitrary bytes: the first byte picks the palette size and output format.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/codec/lz_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static LzDecoder dec(Limits{1024, 1024, 1 << 20});
    const uint8_t knob = data[0];
    const ByteView stream(data + 1, size - 1);
    auto info = dec.probe(stream);
    if (!info) {
        return 0;
    }
    std::vector<uint32_t> palette(1 + (knob & 0x3f));
    for (size_t i = 0; i < palette.size(); ++i) {
        palette[i] = uint32_t(i * 0x010101u);
    }
    PixelFormat format = info->format;
    if (format == PixelFormat::Argb32 && (knob & 0x40)) {
        format = PixelFormat::A8;  // XXXA may go to an A8 view; others must refuse it
    }
    const size_t pad = (knob & 0x80) ? 4 : 0;
    const size_t stride = bytes_per_row(format, info->width) + pad;
    std::vector<uint8_t> out(stride * info->height);
    (void)dec.decode(stream, PixelView{out.data(), info->width, info->height, stride, format},
                     palette);
    return 0;
}
