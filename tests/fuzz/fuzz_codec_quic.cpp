// QUIC decoder on arbitrary bytes: the first byte picks the output view (format, padding).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/codec/quic_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static QuicDecoder dec(Limits{1024, 1024, 1 << 20});
    const uint8_t knob = data[0];
    const ByteView stream(data + 1, size - 1);
    auto info = dec.probe(stream);
    if (!info) {
        return 0;
    }
    PixelFormat format = info->format;
    if (knob & 0x40) {
        format = PixelFormat::Argb32;  // accepted for RGB types, refused for GRAY
    }
    const size_t pad = (knob & 0x80) ? 4 : 0;
    const size_t stride = bytes_per_row(format, info->width) + pad;
    std::vector<uint8_t> out(stride * info->height);
    (void)dec.decode(stream, PixelView{out.data(), info->width, info->height, stride, format});
    return 0;
}
