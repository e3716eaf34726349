#include "replay/region.h"

#include <pixman.h>

#include <algorithm>

namespace spicetap::replay {

namespace {

// pixman regions are built and taken apart around every operation; surfaces have few unsure
// rectangles, so the copies cost little next to the draws themselves.
class Pix {
public:
    Pix() { pixman_region32_init(&r_); }

    explicit Pix(const std::vector<canvas::Rect>& rects) {
        std::vector<pixman_box32_t> boxes;
        boxes.reserve(rects.size());
        for (const canvas::Rect& r : rects) {
            if (!r.empty()) {
                boxes.push_back(pixman_box32_t{r.left, r.top, r.right, r.bottom});
            }
        }
        pixman_region32_init_rects(&r_, boxes.data(), int(boxes.size()));
    }

    ~Pix() { pixman_region32_fini(&r_); }

    Pix(const Pix&) = delete;
    Pix& operator=(const Pix&) = delete;

    pixman_region32_t* get() { return &r_; }

    std::vector<canvas::Rect> rects() {
        int n = 0;
        const pixman_box32_t* b = pixman_region32_rectangles(&r_, &n);
        std::vector<canvas::Rect> out;
        out.reserve(size_t(n));
        for (int i = 0; i < n; ++i) {
            out.push_back(canvas::Rect{b[i].x1, b[i].y1, b[i].x2, b[i].y2});
        }
        return out;
    }

private:
    pixman_region32_t r_;
};

}  // namespace

void PixelRegion::add(const canvas::Rect& r) {
    if (r.empty()) {
        return;
    }
    Pix a(rects_);
    Pix b(std::vector<canvas::Rect>{r});
    pixman_region32_union(a.get(), a.get(), b.get());
    rects_ = a.rects();
}

void PixelRegion::add(const PixelRegion& other) {
    if (other.empty()) {
        return;
    }
    Pix a(rects_);
    Pix b(other.rects_);
    pixman_region32_union(a.get(), a.get(), b.get());
    rects_ = a.rects();
}

void PixelRegion::subtract(const PixelRegion& other) {
    if (empty() || other.empty()) {
        return;
    }
    Pix a(rects_);
    Pix b(other.rects_);
    pixman_region32_subtract(a.get(), a.get(), b.get());
    rects_ = a.rects();
}

void PixelRegion::subtract(const canvas::Rect& r) {
    subtract(PixelRegion(r));
}

void PixelRegion::intersect(const canvas::Rect& r) {
    intersect(PixelRegion(r));
}

void PixelRegion::intersect(const PixelRegion& other) {
    if (empty()) {
        return;
    }
    Pix a(rects_);
    Pix b(other.rects_);
    pixman_region32_intersect(a.get(), a.get(), b.get());
    rects_ = a.rects();
}

void PixelRegion::translate(int32_t dx, int32_t dy) {
    for (canvas::Rect& r : rects_) {
        r.left += dx;
        r.right += dx;
        r.top += dy;
        r.bottom += dy;
    }
}

bool PixelRegion::intersects(const canvas::Rect& r) const {
    return std::any_of(rects_.begin(), rects_.end(), [&](const canvas::Rect& a) {
        return std::max(a.left, r.left) < std::min(a.right, r.right) &&
               std::max(a.top, r.top) < std::min(a.bottom, r.bottom);
    });
}

uint64_t PixelRegion::area() const {
    uint64_t sum = 0;
    for (const canvas::Rect& r : rects_) {
        sum += uint64_t(r.width()) * uint64_t(r.height());
    }
    return sum;
}

canvas::Rect PixelRegion::extents() const {
    if (rects_.empty()) {
        return {};
    }
    canvas::Rect e = rects_.front();
    for (const canvas::Rect& r : rects_) {
        e.left = std::min(e.left, r.left);
        e.top = std::min(e.top, r.top);
        e.right = std::max(e.right, r.right);
        e.bottom = std::max(e.bottom, r.bottom);
    }
    return e;
}

PixelRegion PixelRegion::from_rects(const std::vector<canvas::Rect>& rects) {
    PixelRegion out;
    Pix a(rects);
    out.rects_ = a.rects();
    return out;
}

PixelRegion clip_region(const canvas::Rect& box, const canvas::Clip& clip) {
    PixelRegion out(box);
    if (clip) {
        out.intersect(PixelRegion::from_rects(*clip));
    }
    return out;
}

}  // namespace spicetap::replay
