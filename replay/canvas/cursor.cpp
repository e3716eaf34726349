#include "replay/canvas/cursor.h"

#include "replay/canvas/pixman_internal.h"

namespace spicetap::canvas {

Rect CursorView::box() const {
    if (!image) {
        return {};
    }
    const int32_t left = position.x - hot_spot.x;
    const int32_t top = position.y - hot_spot.y;
    return Rect{left, top, left + int32_t(image->width()), top + int32_t(image->height())};
}

Damage compose_cursor(Surface& frame, const CursorView& cursor) {
    if (!cursor.visible || !cursor.image) {
        return {};
    }
    detail::Region area(cursor.box());
    area.intersect(frame.bounds());
    if (area.empty()) {
        return {};
    }
    const Rect b = cursor.box();
    // The same OVER a compositing window system applies to an ARGB cursor.
    pixman_image_composite32(PIXMAN_OP_OVER, cursor.image->impl().image, nullptr,
                             frame.impl().image, 0, 0, 0, 0, b.left, b.top,
                             int(cursor.image->width()), int(cursor.image->height()));
    return area.damage();
}

}  // namespace spicetap::canvas
