// AudioDecoder (raw PCM, Opus; CELT refused) on arbitrary DATA payloads. Byte 0 picks the mode
// (any value), byte 1 the channel count, byte 2 the START frequency from a list (and a bad
// one); the rest is packets, each a u8 length and that many bytes, decoded in order by one
// decoder; a zero length resets it, as playback START does.
#include <cstddef>
#include <cstdint>

#include "decode/codec/audio_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) {
        return 0;
    }
    static constexpr uint32_t kFrequencies[] = {48000, 44100, 22050, 16000, 8000, 0, 12345, 96000};
    const uint8_t mode = data[0] % 5;
    const uint32_t channels = data[1] % 4;
    const uint32_t frequency = kFrequencies[data[2] % 8];
    auto decoder = AudioDecoder::create(mode, channels, frequency, data[2] >> 7 ? 2 : 1);
    if (!decoder) {
        return 0;
    }
    size_t pos = 3;
    uint32_t time = 0;
    while (pos < size) {
        const size_t len = data[pos++];
        if (len == 0) {
            (*decoder)->reset();
            continue;
        }
        const size_t take = len < size - pos ? len : size - pos;
        (void)(*decoder)->decode(ByteView(data + pos, take), time += 10, pos);
        pos += take;
    }
    return 0;
}
