// LZ_RGB decode speed on text-console images, beside a plain memcpy of the same output pixels.
//   bench_codec_lz [seconds per case]
// Cases: the real SeaBIOS text console payload (720x400, as spice-server encoded it), a console
// tile of 32x10 glyph cells (8x16 glyphs, 256x160 px), a full 80x25 console, a single 8x16 glyph
// cell and a 32x10 px crop, all encoded by the test encoder, and a real 9x2 payload (per-image
// overhead).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode/codec/lz_decoder.h"
#include "tests/decode/codec/lz_test_encoder.h"

using namespace spicetap;
using namespace spicetap::codec;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        std::exit(1);
    }
    return {std::istreambuf_iterator<char>(f), {}};
}

// A console screen: glyphs drawn from a fixed set of 96 deterministic 8x16 bitmaps, light grey
// on black with a few coloured words, like a shell session.
test::LzSource console(uint32_t cols, uint32_t rows) {
    const uint32_t w = cols * 8, h = rows * 16;
    uint32_t seed = 12345;
    const auto next = [&]() { return seed = seed * 1103515245u + 12345u; };
    std::vector<std::vector<uint8_t>> glyphs(96, std::vector<uint8_t>(16));
    for (auto& g : glyphs) {
        for (int y = 2; y < 14; ++y) {
            g[y] = uint8_t((next() >> 16) & 0x7e);
        }
    }
    test::LzSource s;
    s.type = LzImageType::Rgb32;
    s.width = w;
    s.height = h;
    s.stride = w * 4;
    s.px.assign(size_t{w} * h, 0);
    for (uint32_t r = 0; r < rows; ++r) {
        const uint32_t line_len = (next() >> 16) % (cols + 1);
        for (uint32_t c = 0; c < line_len; ++c) {
            const uint32_t ch = (next() >> 16) % 96;
            const uint32_t fg = ch < 8 ? 0x5555ff : (ch < 16 ? 0x55ff55 : 0xaaaaaa);
            if (ch == 0) {
                continue;  // space
            }
            for (uint32_t y = 0; y < 16; ++y) {
                for (uint32_t x = 0; x < 8; ++x) {
                    if ((glyphs[ch][y] >> (7 - x)) & 1) {
                        s.px[size_t{r * 16 + y} * w + c * 8 + x] = fg;
                    }
                }
            }
        }
    }
    return s;
}

test::LzSource crop(test::LzSource s, uint32_t w, uint32_t h) {
    std::vector<uint32_t> px;
    for (uint32_t y = 0; y < h; ++y) {
        px.insert(px.end(), s.px.begin() + size_t{y} * s.width,
                  s.px.begin() + size_t{y} * s.width + w);
    }
    s.px = std::move(px);
    s.width = w;
    s.height = h;
    s.stride = w * 4;
    return s;
}

struct Case {
    std::string name;
    std::vector<uint8_t> stream;
};

void run(const Case& c, double seconds) {
    LzDecoder dec;
    auto info = dec.probe(c.stream);
    if (!info) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(), info.error().message().c_str());
        std::exit(1);
    }
    const size_t pixels = size_t{info->width} * info->height;
    std::vector<uint32_t> out(pixels), src(pixels, 0xff202020u);
    const PixelView view{reinterpret_cast<uint8_t*>(out.data()), info->width, info->height,
                         size_t{info->width} * 4, info->format};
    if (auto r = dec.decode(c.stream, view); !r) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.error().message().c_str());
        std::exit(1);
    }
    const auto measure = [&](auto&& body) {
        size_t iters = 0;
        const auto start = Clock::now();
        const auto stop = start + std::chrono::duration<double>(seconds);
        auto now = start;
        while (now < stop) {
            for (int k = 0; k < 64; ++k) {
                body();
            }
            iters += 64;
            now = Clock::now();
        }
        const double s = std::chrono::duration<double>(now - start).count();
        return double(iters) * double(pixels) / s / 1e6;
    };
    bool ok = true;
    const double lz = measure([&]() { ok &= bool(dec.decode(c.stream, view)); });
    const double copy = measure([&]() {
        std::memcpy(out.data(), src.data(), pixels * 4);
        asm volatile("" : : "r"(out.data()) : "memory");
    });
    std::printf("%-34s %5ux%-4u %7zu B  LZ %8.1f MPixel/s  memcpy %8.1f MPixel/s  (%.0f%%)%s\n",
                c.name.c_str(), info->width, info->height, c.stream.size(), lz, copy,
                100.0 * lz / copy, ok ? "" : "  DECODE FAILED");
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
    const std::string vectors = std::string(SPICETAP_SOURCE_PATH) + "/tests/decode/codec/vectors/";
    std::vector<Case> cases = {
        {"real: SeaBIOS text console", read_file(vectors + "lz/seabios_text_720x400.lz")},
        {"console tile, 32x10 cells of 8x16", test::lz_encode(console(32, 10))},
        {"console, 80x25 cells", test::lz_encode(console(80, 25))},
        {"one 8x16 glyph cell", test::lz_encode(console(1, 1))},
        {"32x10 px crop of a console line", test::lz_encode(crop(console(4, 1), 32, 10))},
        {"real: 9x2 image", read_file(vectors + "lz/small_9x2.lz")},
    };
    for (const Case& c : cases) {
        run(c, seconds);
    }
    return 0;
}
