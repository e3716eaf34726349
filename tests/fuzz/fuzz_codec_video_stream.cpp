// VideoStreamDecoder (MJPEG through libjpeg-turbo, VP8/VP9/H.264/H.265 through libavcodec) on
// arbitrary frames. Byte 0 picks the codec (any value: unknown ones must be refused), bytes 1-2
// the stream size; the rest is frames, each a little-endian u16 length and that many bytes,
// pushed in order into one decoder (reference frames carry over), then flushed.
#include <cstddef>
#include <cstdint>

#include "decode/codec/video_stream_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) {
        return 0;
    }
    const uint8_t codec = data[0] % 8;  // 1..5 are codecs; 0, 6, 7 must be refused
    const uint32_t width = 1 + data[1] % 255;
    const uint32_t height = 1 + data[2] % 255;
    // Small limits: the decoders' frames stay small and fast.
    auto decoder = VideoStreamDecoder::create(codec, width, height, Limits{512, 512, 1 << 18});
    if (!decoder) {
        return 0;
    }
    size_t pos = 3;
    uint32_t mm_time = 0;
    while (pos + 2 <= size) {
        const size_t len = data[pos] | size_t{data[pos + 1]} << 8;
        pos += 2;
        const size_t take = len < size - pos ? len : size - pos;
        (void)(*decoder)->push(ByteView(data + pos, take), mm_time += 33, pos);
        pos += take;
    }
    (void)(*decoder)->flush();
    return 0;
}
