// Fuzzes the image and palette caches with operation sequences like a display channel's: images
// stored with CACHE_ME / CACHE_REPLACE_ME (lossy and lossless types), FROM_CACHE and
// FROM_CACHE_LOSSLESS lookups, INVAL_LIST removals, INVAL_ALL_PIXMAPS, capacity changes
// (DISPLAY_INIT), and palettes through PAL_CACHE_ME / PAL_FROM_CACHE / INVAL_PALETTE. Checks the
// invariants the replay relies on after every step.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "decode/codec/image_cache.h"
#include "decode/codec/palette_cache.h"
#include "decode/wire/byte_reader.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ByteReader r(ByteView(data, size));
    ImageCache images(4096);
    PaletteCache palettes(8);
    // Image types as on the wire: BITMAP, LZ_RGB, GLZ_RGB, JPEG, JPEG_ALPHA, FROM_CACHE,
    // FROM_CACHE_LOSSLESS.
    static constexpr uint8_t kTypes[] = {0, 101, 102, 105, 108, 103, 106};
    while (r.remaining() >= 3) {
        const uint8_t op = r.u8();
        const uint64_t id = r.u8() & 0x1f;  // few ids, so operations meet each other
        const uint8_t arg = r.u8();
        switch (op % 8) {
            case 0:
            case 1: {  // an image decoded with descriptor flags `arg`
                const uint8_t type = kTypes[(op >> 3) % 7];
                auto img = std::make_shared<DecodedImage>(
                    DecodedImage::allocate(1 + arg % 40, 1 + (arg >> 3) % 40, PixelFormat::Xrgb32));
                (void)images.store_decoded(id, type, arg & 7, img);
                break;
            }
            case 2: {
                const uint8_t type = (op >> 3) & 1 ? 106 : 103;
                auto hit = images.lookup(type, id);
                if (hit) {
                    check(*hit != nullptr);
                    check(type == 103 || !images.find(id)->lossy);
                }
                break;
            }
            case 3:
                (void)images.remove(id);
                break;
            case 4:
                if (arg == 0) {
                    images.clear();
                } else {
                    images.set_capacity(uint64_t(arg) * 64);
                }
                break;
            case 5: {  // an indexed image: inline palette (maybe PAL_CACHE_ME) or PAL_FROM_CACHE
                std::optional<Palette> inline_palette;
                if (!(arg & 2)) {
                    Palette p{id, {}};
                    for (uint8_t i = 0; i < (op >> 3) && r.remaining() >= 4; ++i) {
                        p.entries.push_back(r.u32());
                    }
                    inline_palette = std::move(p);
                }
                auto pal = palettes.resolve(arg & 3, inline_palette, id);
                if (pal && (arg & 2)) {
                    check(*pal != nullptr && (*pal)->unique == id);
                }
                break;
            }
            case 6:
                (void)palettes.remove(id);
                break;
            case 7:
                palettes.clear();
                break;
        }
        check(images.used_pixels() <= images.capacity() || images.size() <= 1);
        check(palettes.size() <= 8);
    }
    return 0;
}
