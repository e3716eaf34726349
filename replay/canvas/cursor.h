// The mouse cursor as a client shows it over a display: a premultiplied ARGB picture whose hot
// spot sits at the pointer position. Screenshots and videos draw it onto a copy of the frame.
#pragma once

#include <cstdint>
#include <memory>

#include "replay/canvas/surface.h"
#include "replay/canvas/types.h"

namespace spicetap::canvas {

struct CursorView {
    std::shared_ptr<const Surface> image;  // SurfaceFormat::Argb32, premultiplied alpha
    Point position;                        // the hot spot, in display pixels
    Point hot_spot;                        // within the picture
    bool visible = false;
    bool exact = true;  // false when the replay missed cursor messages (capture gap, bad shape)

    // Where the picture lands on the display (may stick out of it).
    Rect box() const;
};

// Draws the cursor OVER `frame` (clipped to it). Nothing happens when it is hidden or has no
// picture; the damage says what changed.
Damage compose_cursor(Surface& frame, const CursorView& cursor);

}  // namespace spicetap::canvas
