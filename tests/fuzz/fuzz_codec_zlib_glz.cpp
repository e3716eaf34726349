// ZLIB_GLZ decoder on arbitrary bytes; the first byte chooses between the raw input and a
// well-formed zlib wrapping of the rest, so both the inflate checks and the GLZ stream behind
// them are reached.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/codec/zlib_glz_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static GlzWindow window(GlzWindow::Config{1 << 21});
    static ZlibGlzDecoder dec(window, Limits{1024, 1024, 1 << 20});
    if (window.stored_pixels() > (1 << 20)) {
        window.clear();
    }
    std::vector<uint8_t> payload;
    if (data[0] & 1) {
        uLongf n = compressBound(uLong(size - 1));
        std::vector<uint8_t> z(n);
        if (compress2(z.data(), &n, data + 1, uLong(size - 1), 1) != Z_OK) {
            return 0;
        }
        const uint32_t glz_size = uint32_t(size - 1) + ((data[0] & 2) ? 1 : 0);
        for (int i = 0; i < 4; ++i) {
            payload.push_back(uint8_t(glz_size >> (8 * i)));
        }
        for (int i = 0; i < 4; ++i) {
            payload.push_back(uint8_t(n >> (8 * i)));
        }
        payload.insert(payload.end(), z.begin(), z.begin() + n);
    } else {
        payload.assign(data + 1, data + size);
    }
    if (auto info = dec.probe(payload)) {
        std::vector<uint32_t> out(size_t{info->width} * info->height);
        (void)dec.decode(payload, PixelView{reinterpret_cast<uint8_t*>(out.data()), info->width,
                                            info->height, size_t{info->width} * 4, info->format});
    }
    return 0;
}
