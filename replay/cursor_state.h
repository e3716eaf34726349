// The state of one cursor channel, as a client keeps it: the shape (decoded the way spice-gtk's
// channel-cursor.c decodes each SpiceCursorType), the cursor cache (CACHE_ME, FROM_CACHE,
// INVAL_ONE, INVAL_ALL), the pointer position, visibility and the trail settings. Cursor
// channel N draws over display channel N (one QXL device has one of each).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "decode/channels/cursor_channel.h"
#include "decode/wire/result.h"
#include "replay/canvas/cursor.h"
#include "replay/canvas/surface.h"
#include "replay/display_state.h"

namespace spicetap::replay {

// A decoded cursor shape.
struct CursorShape {
    uint64_t unique = 0;
    uint8_t type = 0;  // channels::cursor::CursorType
    uint16_t hot_x = 0;
    uint16_t hot_y = 0;
    std::shared_ptr<const canvas::Surface> image;  // Argb32, premultiplied
    // spice-gtk has no decoder for COLOR8 and COLOR24 and shows its default arrow instead; we
    // decode them like the other colour types (palette / 24-bit pixels + AND mask).
    bool reference_shows_default = false;
};

// SpiceCursor pixel data to a picture, following spice-gtk set_cursor(): ALPHA is straight
// 0xAARRGGBB; MONO is an AND mask then an XOR mask (1,0 transparent, 0,0 black, 0,1 and 1,1
// white, and with an all-ones AND mask the pixels around XOR pixels turn black); the COLOR
// types are pixels then (COLOR4/8) a palette then a 1-bit AND mask: mask 0 is opaque, mask 1
// transparent, except mask 1 over white, which spice-gtk shows as a grey checker instead of
// inverting. A hot spot outside the shape is capped to its size.
Result<CursorShape> decode_cursor_shape(const channels::cursor::CursorHeader& header,
                                        ByteView data);

class CursorState {
public:
    CursorState(int channel_id, ReplayRecorder& recorder);

    // Applies one server message. True when applied exactly.
    bool apply(const channels::cursor::ServerMessage& msg, const MessageContext& ctx);

    // Cursor messages were lost (capture gap, cut or unparsable message): shape, position and
    // visibility may be wrong until the next INIT.
    void mark_unsure() { exact_ = false; }

    int channel_id() const { return channel_id_; }

    // The cursor now, or nullopt before any shape arrived (or after RESET).
    std::optional<canvas::CursorView> view() const;

    const std::shared_ptr<const CursorShape>& shape() const { return shape_; }

    canvas::Point position() const { return position_; }

    bool visible() const { return visible_; }

    uint16_t trail_length() const { return trail_length_; }

    uint16_t trail_frequency() const { return trail_frequency_; }

    size_t cached_shapes() const { return cache_.size(); }

    // Checkpoints.
    void save(StateWriter& w) const;
    Result<void> load(ByteReader& r);

private:
    // The shape a SpiceCursor names (decoded, or from the cache); null for flag NONE or when it
    // cannot be had (an issue is recorded).
    std::shared_ptr<const CursorShape> resolve(const channels::cursor::Cursor& c,
                                               const MessageContext& ctx, bool& ok);

    int channel_id_;
    ReplayRecorder* rec_;
    std::map<uint64_t, std::shared_ptr<const CursorShape>> cache_;
    std::shared_ptr<const CursorShape> shape_;
    canvas::Point position_;
    bool visible_ = false;
    bool exact_ = true;
    uint16_t trail_length_ = 0;
    uint16_t trail_frequency_ = 0;
};

}  // namespace spicetap::replay
