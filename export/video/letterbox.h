// Where a picture lands when it is scaled to fit a frame of another size, keeping its aspect:
// centred, with black bars on two sides. Offsets and sizes are even so they line up with the
// half-resolution chroma planes of 4:2:0 video (except an odd picture one pixel short of the
// frame, which stays unscaled at 0,0).
#pragma once

#include <cstdint>

namespace spicetap::video {

struct Rect {
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t w = 0;
    uint32_t h = 0;

    bool operator==(const Rect&) const = default;
};

// `dst_w` and `dst_h` even and >= 2; the result lies inside them.
Rect fit_rect(uint32_t src_w, uint32_t src_h, uint32_t dst_w, uint32_t dst_h);

}  // namespace spicetap::video
