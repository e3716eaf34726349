// A 5x7 pixel font with digits, ':' and '.', enough for time labels on thumbnails.
#pragma once

#include <cstdint>
#include <string_view>

#include "decode/codec/image_types.h"

namespace spicetap::video {

// Width in pixels of `text` drawn at `scale` (glyphs 5 wide, 1 apart).
uint32_t text_width(std::string_view text, uint32_t scale);

inline uint32_t text_height(uint32_t scale) {
    return 7 * scale;
}

// Draws `text` with its top-left at (x, y) in 0xRRGGBB `colour` onto an Xrgb32 picture,
// clipped to it. Characters without a glyph leave a blank cell.
void draw_text(const codec::PixelView& dst, int64_t x, int64_t y, std::string_view text,
               uint32_t colour, uint32_t scale);

}  // namespace spicetap::video
