#include "export/video/letterbox.h"

#include <algorithm>

namespace spicetap::video {

Rect fit_rect(uint32_t src_w, uint32_t src_h, uint32_t dst_w, uint32_t dst_h) {
    // A picture one pixel short of the frame (an odd size rounded up) is not scaled: it keeps
    // its odd size in the top-left corner and the last column or row stays black.
    if (src_w <= dst_w && src_h <= dst_h && dst_w - src_w <= 1 && dst_h - src_h <= 1) {
        return Rect{0, 0, src_w, src_h};
    }
    uint64_t w = dst_w;
    uint64_t h = dst_h;
    // Compare aspect ratios exactly: src_w / src_h > dst_w / dst_h -> full width.
    if (uint64_t{src_w} * dst_h > uint64_t{dst_w} * src_h) {
        h = (uint64_t{dst_w} * src_h + src_w / 2) / src_w;
    } else {
        w = (uint64_t{dst_h} * src_w + src_h / 2) / src_h;
    }
    w = std::max<uint64_t>(2, std::min<uint64_t>(w & ~uint64_t{1}, dst_w));
    h = std::max<uint64_t>(2, std::min<uint64_t>(h & ~uint64_t{1}, dst_h));
    const auto x = static_cast<uint32_t>(((dst_w - w) / 2) & ~uint64_t{1});
    const auto y = static_cast<uint32_t>(((dst_h - h) / 2) & ~uint64_t{1});
    return Rect{x, y, static_cast<uint32_t>(w), static_cast<uint32_t>(h)};
}

}  // namespace spicetap::video
