// A set of pixels as y-x banded rectangles (pixman's region arithmetic behind a value type), used
// for the "possibly wrong" area of each surface. Plain data in the header so users need no pixman.
#pragma once

#include <cstdint>
#include <vector>

#include "replay/canvas/types.h"

namespace spicetap::replay {

class PixelRegion {
public:
    PixelRegion() = default;

    explicit PixelRegion(const canvas::Rect& r) { add(r); }

    void add(const canvas::Rect& r);
    void add(const PixelRegion& other);
    void subtract(const PixelRegion& other);
    void subtract(const canvas::Rect& r);
    void intersect(const canvas::Rect& r);
    void intersect(const PixelRegion& other);
    void translate(int32_t dx, int32_t dy);

    void clear() { rects_.clear(); }

    bool empty() const { return rects_.empty(); }

    bool intersects(const canvas::Rect& r) const;
    uint64_t area() const;
    canvas::Rect extents() const;

    const std::vector<canvas::Rect>& rects() const { return rects_; }

    static PixelRegion from_rects(const std::vector<canvas::Rect>& rects);

private:
    std::vector<canvas::Rect> rects_;  // banded, non-overlapping
};

// The area a draw may touch: box, cut by the clip rectangles when there are any.
PixelRegion clip_region(const canvas::Rect& box, const canvas::Clip& clip);

}  // namespace spicetap::replay
