#include "export/video/tiny_font.h"

#include <array>
#include <cstring>

namespace spicetap::video {

namespace {

// Seven rows per glyph, the five low bits of each row, bit 4 = leftmost column.
using Glyph = std::array<uint8_t, 7>;

constexpr Glyph kDigits[10] = {
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},  // 0
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},  // 1
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},  // 2
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},  // 3
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},  // 4
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},  // 5
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},  // 6
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},  // 8
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},  // 9
};
constexpr Glyph kColon = {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00};
constexpr Glyph kDot = {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c};

const Glyph* glyph(char c) {
    if (c >= '0' && c <= '9') {
        return &kDigits[c - '0'];
    }
    if (c == ':') {
        return &kColon;
    }
    if (c == '.') {
        return &kDot;
    }
    return nullptr;
}

}  // namespace

uint32_t text_width(std::string_view text, uint32_t scale) {
    return text.empty() ? 0 : static_cast<uint32_t>(text.size() * 6 - 1) * scale;
}

void draw_text(const codec::PixelView& dst, int64_t x, int64_t y, std::string_view text,
               uint32_t colour, uint32_t scale) {
    const uint32_t px = 0xff000000u | colour;
    for (size_t i = 0; i < text.size(); ++i) {
        const Glyph* g = glyph(text[i]);
        if (g == nullptr) {
            continue;
        }
        const int64_t gx = x + static_cast<int64_t>(i * 6 * scale);
        for (int row = 0; row < 7; ++row) {
            for (int col = 0; col < 5; ++col) {
                if (!((*g)[row] & (0x10 >> col))) {
                    continue;
                }
                for (uint32_t sy = 0; sy < scale; ++sy) {
                    const int64_t yy = y + row * int64_t{scale} + sy;
                    if (yy < 0 || yy >= dst.height) {
                        continue;
                    }
                    uint8_t* line = dst.row(static_cast<uint32_t>(yy));
                    for (uint32_t sx = 0; sx < scale; ++sx) {
                        const int64_t xx = gx + col * int64_t{scale} + sx;
                        if (xx >= 0 && xx < dst.width) {
                            std::memcpy(line + xx * 4, &px, 4);
                        }
                    }
                }
            }
        }
    }
}

}  // namespace spicetap::video
