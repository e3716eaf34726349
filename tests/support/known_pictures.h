// The test server's known pictures (tests/peers/server/display.c, pattern_*), rebuilt so tests
// can compare what a real session carried with what the server drew. Pixels are 0x00RRGGBB.
// draw_known(d, v) draws: photo(256, 160, v + display), flat(200, 100, v + display),
// noise(97, 33, 7 + v), flat(16, 16, 3) four times, flat(64, 48, 5 + v) on surface 1.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace spicetap::test {

inline std::vector<uint32_t> pattern_photo(int w, int h, int seed) {
    std::vector<uint32_t> p(size_t(w) * h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const int r = (x * 255) / (w - 1);
            const int g = (y * 255) / (h - 1);
            const int b =
                int(127.5 + 100.0 * std::sin((x + seed) / 13.0) * std::cos((y - seed) / 17.0));
            p[size_t(y) * w + x] = uint32_t(r << 16 | g << 8 | b);
        }
    }
    return p;
}

inline std::vector<uint32_t> pattern_flat(int w, int h, int seed) {
    static const uint32_t palette[] = {0xffffff, 0x000000, 0x3465a4, 0xcc0000,
                                       0x4e9a06, 0xedd400, 0x75507b, 0xbabdb6};
    std::vector<uint32_t> p(size_t(w) * h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t c = palette[(((x / 8) ^ (y / 6)) + seed) & 7];
            if ((y % 12) == 11 || (x % 24) == 23) {
                c = 0x101010;
            }
            p[size_t(y) * w + x] = c;
        }
    }
    return p;
}

inline std::vector<uint32_t> pattern_noise(int w, int h, uint32_t seed) {
    std::vector<uint32_t> p(size_t(w) * h);
    uint32_t s = seed * 2654435761u + 1;
    for (auto& v : p) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        v = s & 0xffffff;
    }
    return p;
}

}  // namespace spicetap::test
