// GLZ decoder on arbitrary bytes, split into several images that share one window, so
// cross-image references, releases and the memory cap all get exercised.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/codec/glz_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    GlzWindow window(GlzWindow::Config{1 << 21});
    GlzDecoder dec(window, Limits{1024, 1024, 1 << 20});
    // Images are separated by the 4-byte marker "\xff\xfeGZ" (or take the whole input).
    size_t start = 0;
    for (size_t i = 0; i <= size; ++i) {
        const bool at_end = i == size;
        const bool marker = !at_end && i + 4 <= size && data[i] == 0xff && data[i + 1] == 0xfe &&
                            data[i + 2] == 'G' && data[i + 3] == 'Z';
        if (!at_end && !marker) {
            continue;
        }
        const ByteView stream(data + start, i - start);
        if (auto info = dec.probe(stream)) {
            std::vector<uint32_t> out(size_t{info->width} * info->height);
            (void)dec.decode(
                stream, PixelView{reinterpret_cast<uint8_t*>(out.data()), info->width, info->height,
                                  size_t{info->width} * 4, info->format});
        }
        start = i + 4;
        i += 3;
    }
    return 0;
}
