// Display messages onto the canvas. Each handler mirrors what channel-display.c does with the
// message; what the replay adds is the bookkeeping of possibly-wrong pixels (see finish_draw).
#include "replay/display_state.h"

#include <fmt/core.h>

#include <cstring>
#include <deque>
#include <limits>

#include "replay/canvas/canvas.h"

namespace spicetap::replay {

namespace display = channels::display;

void ReplayRecorder::issue(const MessageContext& ctx, std::string kind, std::string text) {
    ++stats.issues_by_kind[kind];
    if (issues.size() < max_issues) {
        issues.push_back(ReplayIssue{ctx.ts_us, ctx.connection, ctx.channel_id, ctx.msg_type,
                                     std::move(kind), std::move(text)});
    }
}

void ReplayRecorder::primary_changed(const MessageContext& ctx) {
    if (!last_update_us_ || *last_update_us_ != ctx.ts_us) {
        ++stats.screen_updates;
        last_update_us_ = ctx.ts_us;
    }
}

namespace {

canvas::Rect to_rect(const display::Rect& r) {
    return {r.left, r.top, r.right, r.bottom};
}

canvas::Point to_point(const display::Point& p) {
    return {p.x, p.y};
}

canvas::Clip to_clip(const display::Clip& c) {
    if (c.type != uint8_t(display::ClipType::Rects)) {
        return std::nullopt;
    }
    std::vector<canvas::Rect> rects;
    rects.reserve(c.rects.size());
    for (const display::Rect& r : c.rects) {
        rects.push_back(to_rect(r));
    }
    return rects;
}

// Descriptors whose result does not depend on what the destination held.
bool rop_overwrites(uint16_t descriptor) {
    return (descriptor &
            (canvas::ropd::kOpPut | canvas::ropd::kOpBlackness | canvas::ropd::kOpWhiteness)) != 0;
}

// A rop3 code whose truth table ignores the destination bit.
bool rop3_overwrites(uint8_t code) {
    return ((code >> 1) & 0x55) == (code & 0x55) && !canvas::rop3_missing_in_reference(code);
}

}  // namespace

// One video stream (STREAM_CREATE .. STREAM_DESTROY).
struct DisplayState::Stream {
    uint32_t surface_id = 0;
    uint8_t flags = 0;
    uint8_t codec = 0;
    uint32_t width = 0;  // stream_width / stream_height, to rebuild the decoder
    uint32_t height = 0;
    std::vector<size_t> frame_events;  // frames fed since STREAM_CREATE (not for MJPEG)
    canvas::Rect dest;
    canvas::Clip clip;
    std::unique_ptr<codec::VideoStreamDecoder> decoder;
    std::string broken;    // why frames cannot be decoded at all
    bool damaged = false;  // a frame was lost: inter-coded frames after it are suspect
    // Decoded frames waiting for their multimedia time, oldest first. The first one is the
    // frame spice-gtk has a display timer for; the others are its queue behind it.
    std::deque<PendingFrame> pending;
    // When the client last looked at the queue (it does after showing a frame): a frame that
    // is late by then is dropped (MJPEG) or shown at once when nothing follows it (GStreamer).
    int64_t scheduled_us = std::numeric_limits<int64_t>::min();
};

// A decoded video frame the client holds until its multimedia time.
struct DisplayState::PendingFrame {
    uint32_t mm_time = 0;
    int64_t arrival_us = 0;
    MessageContext ctx;  // the STREAM_DATA it came in, for issues
    std::optional<canvas::Rect> sized_dest;
    bool suspect = false;       // decoded after a lost frame of an inter-coded stream
    codec::DecodedImage image;  // rows top-down
};

DisplayState::DisplayState(int channel_id, ImageSource& images, ReplayRecorder& recorder,
                           const MmClock& clock)
    : channel_id_(channel_id), images_(images), rec_(recorder), clock_(clock) {}

DisplayState::~DisplayState() = default;

DisplayState::SurfaceSlot* DisplayState::slot(uint32_t id) {
    auto it = surfaces_.find(id);
    return it == surfaces_.end() ? nullptr : &it->second;
}

const canvas::Surface* DisplayState::surface(uint32_t id) const {
    auto it = surfaces_.find(id);
    return it == surfaces_.end() ? nullptr : &it->second.surface;
}

const canvas::Surface* DisplayState::primary() const {
    return primary_ ? surface(*primary_) : nullptr;
}

const PixelRegion* DisplayState::unsure(uint32_t surface_id) const {
    auto it = surfaces_.find(surface_id);
    return it == surfaces_.end() ? nullptr : &it->second.unsure;
}

ImageSource::SurfaceLookup DisplayState::lookup() const {
    return [this](uint32_t id) { return surface(id); };
}

void DisplayState::mark_all_unsure() {
    for (auto& [id, s] : surfaces_) {
        s.unsure = PixelRegion(s.surface.bounds());
    }
    for (auto& [id, st] : streams_) {
        st->damaged = true;
    }
}

bool DisplayState::fail_draw(const MessageContext& ctx, uint32_t surface_id,
                             const canvas::Rect& box, const canvas::Clip& clip,
                             const std::string& kind, const std::string& text) {
    rec_.issue(ctx, kind, text);
    if (SurfaceSlot* s = slot(surface_id)) {
        PixelRegion area = clip_region(box, clip);
        area.intersect(s->surface.bounds());
        s->unsure.add(area);
    }
    return false;
}

bool DisplayState::finish_draw(const MessageContext& ctx, uint32_t surface_id,
                               const canvas::Rect& box, const canvas::Clip& clip,
                               const Result<canvas::Damage>& result, Effect effect,
                               const std::vector<const ResolvedImage*>& sources, const char* name) {
    ++rec_.stats.draws;
    ++rec_.stats.draws_by_type[name];
    if (!result) {
        return fail_draw(ctx, surface_id, box, clip, "draw_error",
                         fmt::format("{}: {}", name, result.error().message()));
    }
    SurfaceSlot* dest = slot(surface_id);
    if (!dest) {
        return false;
    }
    const PixelRegion damage = PixelRegion::from_rects(result->rects);
    // Pixels read from a possibly wrong surface area are possibly wrong where they land.
    PixelRegion inherited;
    for (const ResolvedImage* src : sources) {
        if (!src || !src->surface) {
            continue;
        }
        auto it = surfaces_.find(src->surface_id);
        if (it == surfaces_.end() || it->second.unsure.empty()) {
            continue;
        }
        inherited.add(damage);
    }
    if (effect == Effect::Overwrites) {
        dest->unsure.subtract(damage);
    }
    dest->unsure.add(inherited);
    if (primary_ && *primary_ == surface_id && !damage.empty()) {
        primary_touched(ctx);
    }
    return inherited.empty();
}

void DisplayState::primary_touched(const MessageContext& ctx) {
    ++primary_version_;
    rec_.primary_changed(ctx);
}

// ---- draw commands ---------------------------------------------------------------------

namespace {

// Images a draw needs, kept alive until the draw is done.
struct Operands {
    std::deque<ResolvedImage> images;
    std::optional<ImageFailure> failure;

    const ResolvedImage* keep(std::optional<ResolvedImage> r, ImageFailure& f) {
        if (!r) {
            if (!failure) {
                failure = f;
            }
            return nullptr;
        }
        images.push_back(std::move(*r));
        return &images.back();
    }
};

}  // namespace

template <typename Op>
bool DisplayState::draw(const Op& op, const MessageContext& ctx) {
    const display::DisplayBase& base = op.base;
    const canvas::Rect box = to_rect(base.box);
    const canvas::Clip clip = to_clip(base.clip);
    const canvas::DrawArea area{box, clip};
    Operands ops;
    const auto surfaces = lookup();

    auto image = [&](const display::Image& img) -> const ResolvedImage* {
        ImageFailure f;
        return ops.keep(images_.resolve(img, palettes_, surfaces, f), f);
    };
    auto src_image = [&](const std::optional<display::Image>& img) -> const ResolvedImage* {
        if (!img) {
            if (!ops.failure) {
                ops.failure = ImageFailure{"undecodable_image", "draw without a source image"};
            }
            return nullptr;
        }
        return image(*img);
    };
    auto brush = [&](const display::Brush& b) {
        canvas::Brush out;
        out.type = static_cast<canvas::Brush::Type>(b.type);
        out.color = b.color;
        if (b.type == uint8_t(display::BrushType::Pattern) && b.pattern) {
            if (const ResolvedImage* r = image(b.pattern->pat)) {
                out.pattern = r->source();
            }
            out.pos = to_point(b.pattern->pos);
        }
        return out;
    };
    auto mask = [&](const display::QMask& m) {
        canvas::Mask out;
        out.pos = to_point(m.pos);
        out.invert = (m.flags & 1) != 0;
        if (m.bitmap) {
            ImageFailure f;
            if (const ResolvedImage* r =
                    ops.keep(images_.resolve_mask(*m.bitmap, surfaces, f), f)) {
                out.image = r->source();
            }
        }
        return out;
    };

    // Images are decoded before the surface is looked up: their cache and GLZ side effects
    // happen whether or not the draw lands anywhere.
    std::optional<Result<canvas::Damage>> result;
    Effect effect = Effect::ReadsDest;
    std::vector<const ResolvedImage*> sources;
    const char* name = "";
    canvas::Surface* dest = nullptr;
    if (SurfaceSlot* s = slot(base.surface_id)) {
        dest = &s->surface;
    }
    auto run = [&](auto&& fn) {
        if (dest && !ops.failure) {
            result.emplace(fn(*dest));
        }
    };

    if constexpr (std::is_same_v<Op, display::DrawFill>) {
        name = "fill";
        const canvas::Fill fill{brush(op.brush), op.rop_descriptor, mask(op.mask)};
        effect = rop_overwrites(op.rop_descriptor) && !fill.mask.image ? Effect::Overwrites
                                                                       : Effect::ReadsDest;
        run([&](canvas::Surface& d) { return canvas::draw_fill(d, area, fill); });
    } else if constexpr (std::is_same_v<Op, display::DrawOpaque>) {
        name = "opaque";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::Opaque o;
        if (src) {
            o.src = src->source();
        }
        o.src_area = to_rect(op.src_area);
        o.brush = brush(op.brush);
        o.rop_descriptor = op.rop_descriptor;
        o.scale_mode = static_cast<canvas::ScaleMode>(op.scale_mode);
        o.mask = mask(op.mask);
        effect = o.mask.image ? Effect::ReadsDest : Effect::Overwrites;
        run([&](canvas::Surface& d) { return canvas::draw_opaque(d, area, o); });
    } else if constexpr (std::is_same_v<Op, display::DrawCopy> ||
                         std::is_same_v<Op, display::DrawBlend>) {
        constexpr bool kCopy = std::is_same_v<Op, display::DrawCopy>;
        name = kCopy ? "copy" : "blend";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::Copy c;
        if (src) {
            c.src = src->source();
        }
        c.src_area = to_rect(op.src_area);
        c.rop_descriptor = op.rop_descriptor;
        c.scale_mode = static_cast<canvas::ScaleMode>(op.scale_mode);
        c.mask = mask(op.mask);
        effect = rop_overwrites(op.rop_descriptor) && !c.mask.image ? Effect::Overwrites
                                                                    : Effect::ReadsDest;
        run([&](canvas::Surface& d) {
            return kCopy ? canvas::draw_copy(d, area, c) : canvas::draw_blend(d, area, c);
        });
    } else if constexpr (std::is_same_v<Op, display::DrawBlackness> ||
                         std::is_same_v<Op, display::DrawWhiteness> ||
                         std::is_same_v<Op, display::DrawInvers>) {
        const canvas::Mask m = mask(op.mask);
        if constexpr (std::is_same_v<Op, display::DrawBlackness>) {
            name = "blackness";
            effect = m.image ? Effect::ReadsDest : Effect::Overwrites;
            run([&](canvas::Surface& d) { return canvas::draw_blackness(d, area, m); });
        } else if constexpr (std::is_same_v<Op, display::DrawWhiteness>) {
            name = "whiteness";
            effect = m.image ? Effect::ReadsDest : Effect::Overwrites;
            run([&](canvas::Surface& d) { return canvas::draw_whiteness(d, area, m); });
        } else {
            name = "invers";
            run([&](canvas::Surface& d) { return canvas::draw_invers(d, area, m); });
        }
    } else if constexpr (std::is_same_v<Op, display::DrawRop3>) {
        name = "rop3";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::Rop3 r;
        if (src) {
            r.src = src->source();
        }
        r.src_area = to_rect(op.src_area);
        r.brush = brush(op.brush);
        r.rop3 = op.rop3;
        r.scale_mode = static_cast<canvas::ScaleMode>(op.scale_mode);
        r.mask = mask(op.mask);
        effect = rop3_overwrites(op.rop3) && !r.mask.image ? Effect::Overwrites : Effect::ReadsDest;
        run([&](canvas::Surface& d) { return canvas::draw_rop3(d, area, r); });
    } else if constexpr (std::is_same_v<Op, display::DrawStroke>) {
        name = "stroke";
        canvas::Stroke s;
        for (const display::PathSegment& seg : op.path.segments) {
            canvas::PathSegment ps;
            ps.flags = seg.flags;
            for (const display::PointFix& p : seg.points) {
                ps.points.push_back(canvas::PointFix{p.x, p.y});
            }
            s.path.push_back(std::move(ps));
        }
        s.attr.flags = op.attr.flags;
        s.attr.style = op.attr.style;
        s.brush = brush(op.brush);
        s.fore_mode = op.fore_mode;
        s.back_mode = op.back_mode;
        run([&](canvas::Surface& d) { return canvas::draw_stroke(d, area, s); });
    } else if constexpr (std::is_same_v<Op, display::DrawText>) {
        name = "text";
        canvas::Text t;
        t.str.flags = op.str.flags;
        for (const display::RasterGlyph& g : op.str.glyphs) {
            t.str.glyphs.push_back(canvas::Glyph{to_point(g.render_pos), to_point(g.glyph_origin),
                                                 g.width, g.height, g.data.data(), g.data.size()});
        }
        t.back_area = to_rect(op.back_area);
        t.fore_brush = brush(op.fore_brush);
        t.back_brush = brush(op.back_brush);
        t.fore_mode = op.fore_mode;
        t.back_mode = op.back_mode;
        run([&](canvas::Surface& d) { return canvas::draw_text(d, area, t); });
    } else if constexpr (std::is_same_v<Op, display::DrawTransparent>) {
        name = "transparent";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::Transparent t;
        if (src) {
            t.src = src->source();
        }
        t.src_area = to_rect(op.src_area);
        t.src_color = op.src_color;
        t.true_color = op.true_color;
        run([&](canvas::Surface& d) { return canvas::draw_transparent(d, area, t); });
    } else if constexpr (std::is_same_v<Op, display::DrawAlphaBlend>) {
        name = "alpha_blend";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::AlphaBlend a;
        if (src) {
            a.src = src->source();
        }
        a.alpha_flags = op.alpha_flags;
        a.alpha = op.alpha;
        a.src_area = to_rect(op.src_area);
        run([&](canvas::Surface& d) { return canvas::draw_alpha_blend(d, area, a); });
    } else if constexpr (std::is_same_v<Op, display::DrawComposite>) {
        name = "composite";
        const ResolvedImage* src = src_image(op.src_bitmap);
        sources.push_back(src);
        canvas::Composite c;
        c.flags = op.flags;
        if (src) {
            c.src = src->source();
        }
        if (op.mask_bitmap) {
            const ResolvedImage* m = image(*op.mask_bitmap);
            sources.push_back(m);
            if (m) {
                c.mask = m->source();
            }
        }
        auto transform = [](const display::Transform& t) {
            return canvas::Transform{int32_t(t.t00), int32_t(t.t01), int32_t(t.t02),
                                     int32_t(t.t10), int32_t(t.t11), int32_t(t.t12)};
        };
        if (op.src_transform) {
            c.src_transform = transform(*op.src_transform);
        }
        if (op.mask_transform) {
            c.mask_transform = transform(*op.mask_transform);
        }
        c.src_origin = canvas::Point{op.src_origin.x, op.src_origin.y};
        c.mask_origin = canvas::Point{op.mask_origin.x, op.mask_origin.y};
        run([&](canvas::Surface& d) { return canvas::draw_composite(d, area, c); });
    } else if constexpr (std::is_same_v<Op, display::CopyBits>) {
        name = "copy_bits";
        effect = Effect::Overwrites;
        const canvas::Point src_pos = to_point(op.src_pos);
        if (dest) {
            // The moved pixels carry their possibly-wrong marks along.
            SurfaceSlot* s = slot(base.surface_id);
            PixelRegion moved = s->unsure;
            moved.intersect(canvas::Rect{src_pos.x, src_pos.y, int32_t(src_pos.x + box.width()),
                                         int32_t(src_pos.y + box.height())});
            moved.translate(box.left - src_pos.x, box.top - src_pos.y);
            result.emplace(canvas::copy_bits(*dest, area, src_pos));
            if (*result) {
                moved.intersect(PixelRegion::from_rects((*result)->rects));
                const bool ok =
                    finish_draw(ctx, base.surface_id, box, clip, *result, effect, {}, name);
                s->unsure.add(moved);
                return ok && moved.empty();
            }
        }
    }

    if (ops.failure) {
        ++rec_.stats.draws;
        ++rec_.stats.draws_by_type[name];
        return fail_draw(ctx, base.surface_id, box, clip, ops.failure->kind,
                         fmt::format("{}: {}", name, ops.failure->text));
    }
    if (!dest) {
        ++rec_.stats.draws;
        ++rec_.stats.draws_by_type[name];
        rec_.issue(ctx, "unknown_surface",
                   fmt::format("{} on surface {}, which does not exist", name, base.surface_id));
        return false;
    }
    return finish_draw(ctx, base.surface_id, box, clip, *result, effect, sources, name);
}

// ---- surfaces --------------------------------------------------------------------------

bool DisplayState::surface_create(const display::SurfaceCreate& m, const MessageContext& ctx) {
    const bool primary = (m.flags & 1) != 0;
    if (primary && primary_) {
        SurfaceSlot* old = slot(*primary_);
        if (old && old->surface.width() == m.width && old->surface.height() == m.height) {
            // channel-display.c create_canvas: a primary of the same size is kept, pixels and
            // all (the guest redraws it anyway).
            if (*primary_ != m.surface_id) {
                auto node = surfaces_.extract(*primary_);
                node.key() = m.surface_id;
                surfaces_.erase(m.surface_id);
                surfaces_.insert(std::move(node));
                primary_ = m.surface_id;
            }
            return true;
        }
        surfaces_.erase(*primary_);
        primary_.reset();
        ++primary_version_;
    }
    auto s = canvas::Surface::create(m.surface_id, m.width, m.height,
                                     static_cast<canvas::SurfaceFormat>(m.format));
    if (!s) {
        rec_.issue(ctx, "bad_surface",
                   fmt::format("surface {} ({}x{}, format {}): {}", m.surface_id, m.width, m.height,
                               m.format, s.error().message()));
        return false;
    }
    surfaces_.erase(m.surface_id);
    surfaces_.emplace(m.surface_id, SurfaceSlot{std::move(*s), {}});
    if (primary) {
        primary_ = m.surface_id;
        primary_touched(ctx);
    }
    return true;
}

bool DisplayState::surface_destroy(const display::SurfaceDestroy& m, const MessageContext&) {
    // An unknown surface is not a problem for spice-gtk either.
    if (primary_ && *primary_ == m.surface_id) {
        primary_.reset();
        ++primary_version_;
        mark_ = false;
    }
    surfaces_.erase(m.surface_id);
    return true;
}

// ---- streams ---------------------------------------------------------------------------

bool DisplayState::stream_create(const display::StreamCreate& m, const MessageContext& ctx) {
    ++rec_.stats.streams;
    if (streams_.contains(m.id)) {
        // channel-display.c refuses a second create of a live id and keeps the first.
        rec_.issue(ctx, "stream_error", fmt::format("stream {} created twice", m.id));
        return false;
    }
    auto st = std::make_unique<Stream>();
    st->surface_id = m.surface_id;
    st->flags = m.flags;
    st->codec = m.codec_type;
    st->width = m.stream_width;
    st->height = m.stream_height;
    st->dest = to_rect(m.dest);
    st->clip = to_clip(m.clip);
    auto dec = codec::VideoStreamDecoder::create(m.codec_type, m.stream_width, m.stream_height);
    bool ok = true;
    if (!dec) {
        st->broken = dec.error().message();
        rec_.issue(ctx, "stream_error",
                   fmt::format("stream {} ({}): {}", m.id, codec::video_codec_name(m.codec_type),
                               st->broken));
        ok = false;
    } else {
        st->decoder = std::move(*dec);
    }
    streams_.emplace(m.id, std::move(st));
    return ok;
}

bool DisplayState::stream_frame(uint32_t id, ByteView data, uint32_t mm_time,
                                const std::optional<canvas::Rect>& sized_dest,
                                const MessageContext& ctx) {
    auto it = streams_.find(id);
    if (it == streams_.end()) {
        rec_.issue(ctx, "unknown_stream",
                   fmt::format("frame for stream {}, which does not exist", id));
        return false;
    }
    Stream& st = *it->second;
    const canvas::Rect dest = sized_dest.value_or(st.dest);
    if (!slot(st.surface_id)) {
        rec_.issue(
            ctx, "unknown_surface",
            fmt::format("stream {} draws on surface {}, which does not exist", id, st.surface_id));
        return false;
    }
    if (!st.decoder) {
        return fail_draw(ctx, st.surface_id, dest, st.clip, "undecodable_frame",
                         fmt::format("stream {}: {}", id, st.broken));
    }
    if (st.codec != uint8_t(codec::VideoCodec::Mjpeg) &&
        (st.frame_events.empty() || st.frame_events.back() != ctx.event)) {
        st.frame_events.push_back(ctx.event);
    }
    auto frames = st.decoder->push(data, mm_time);
    if (!frames) {
        st.damaged = true;
        return fail_draw(ctx, st.surface_id, dest, st.clip, "undecodable_frame",
                         fmt::format("stream {} frame at mm_time {}: {}", id, mm_time,
                                     frames.error().message()));
    }
    // After a lost frame, only intra-coded streams are certain again.
    const bool suspect = st.damaged && st.codec != uint8_t(codec::VideoCodec::Mjpeg);
    for (codec::VideoFrame& f : *frames) {
        codec::DecodedImage& img = f.image;
        if (!(st.flags & 1)) {
            // Not TOP_DOWN: the frame's rows are stored bottom-up (stream_display_frame).
            std::vector<uint8_t> row(img.stride);
            for (uint32_t y = 0; y < img.height / 2; ++y) {
                uint8_t* a = img.pixels.data() + size_t(y) * img.stride;
                uint8_t* b = img.pixels.data() + size_t(img.height - 1 - y) * img.stride;
                std::memcpy(row.data(), a, img.stride);
                std::memcpy(a, b, img.stride);
                std::memcpy(b, row.data(), img.stride);
            }
        }
        PendingFrame p{f.mm_time, ctx.ts_us, ctx, sized_dest, suspect, std::move(img)};
        if (p.mm_time == 0 && clock_.known()) {
            // spice-gtk's workaround for drivers that stamp nothing: 100 ms from now.
            p.mm_time = clock_.at(ctx.ts_us) + 100;
        }
        if (!clock_.known()) {
            // No main channel in the log: the best guess is that frames show on arrival.
            show_frame(id, st, p, ctx.ts_us);
            continue;
        }
        queue_frame(st, std::move(p));
    }
    if (clock_.known()) {
        present(id, st, ctx.ts_us);
    }
    return !suspect;
}

// What spice-gtk's decoders do with a frame as it arrives (queue_frame in
// channel-display-mjpeg.c / channel-display-gst.c). The GStreamer decoder decodes at once and
// queues the output; timing is all that differs from MJPEG, which drops late frames early.
void DisplayState::queue_frame(Stream& st, PendingFrame frame) {
    if (st.codec == uint8_t(codec::VideoCodec::Mjpeg)) {
        // The queue behind the frame on the display timer: a frame older than its newest means
        // the stream restarted, and the queue goes.
        if (st.pending.size() >= 2 && int32_t(frame.mm_time - st.pending.back().mm_time) < 0) {
            rec_.stats.stream_frames_dropped += st.pending.size() - 1;
            st.pending.erase(st.pending.begin() + 1, st.pending.end());
        }
        if (int32_t(frame.mm_time - clock_.at(frame.arrival_us)) < 0) {
            ++rec_.stats.stream_frames_dropped;  // arrived late: never shown
            return;
        }
    }
    st.pending.push_back(std::move(frame));
}

// The display timer: frames whose multimedia time came by t_us are shown, in order. A frame
// found late when the queue is looked at is dropped, except that the GStreamer decoder still
// shows the last one it has so that the picture does not freeze.
void DisplayState::present(uint32_t id, Stream& st, int64_t t_us) {
    while (!st.pending.empty()) {
        PendingFrame& f = st.pending.front();
        const int64_t looked_at = std::max(st.scheduled_us, f.arrival_us);
        int64_t show_at = 0;
        if (int32_t(f.mm_time - clock_.at(looked_at)) >= 0) {
            const int64_t due = std::max(clock_.when(f.mm_time), looked_at);
            if (due > t_us) {
                return;
            }
            show_at = due;
        } else {
            const bool more = st.pending.size() >= 2 && st.pending[1].arrival_us <= looked_at;
            if (st.codec == uint8_t(codec::VideoCodec::Mjpeg) || more) {
                ++rec_.stats.stream_frames_dropped;
                st.pending.pop_front();
                continue;
            }
            show_at = looked_at;
        }
        show_frame(id, st, f, show_at);
        st.scheduled_us = show_at;
        st.pending.pop_front();
    }
}

// sw_canvas put_image: the frame scaled (nearest) onto its dest box, limited by the stream's
// clip at the moment it shows.
void DisplayState::show_frame(uint32_t id, Stream& st, PendingFrame& frame, int64_t at_us) {
    MessageContext ctx = frame.ctx;
    ctx.ts_us = at_us;
    const canvas::Rect dest = frame.sized_dest.value_or(st.dest);
    SurfaceSlot* s = slot(st.surface_id);
    if (!s) {
        rec_.issue(
            ctx, "unknown_surface",
            fmt::format("stream {} draws on surface {}, which does not exist", id, st.surface_id));
        return;
    }
    const codec::DecodedImage& img = frame.image;
    canvas::Copy c;
    c.src = canvas::ImageRef{img.pixels.data(), img.width, img.height, img.stride, img.format};
    c.src_area = canvas::Rect{0, 0, int32_t(img.width), int32_t(img.height)};
    c.scale_mode = canvas::ScaleMode::Nearest;
    auto r = canvas::draw_copy(s->surface, canvas::DrawArea{dest, st.clip}, c);
    ++rec_.stats.stream_frames;
    if (!r) {
        fail_draw(ctx, st.surface_id, dest, st.clip, "draw_error",
                  fmt::format("stream {} frame: {}", id, r.error().message()));
        return;
    }
    const PixelRegion damage = PixelRegion::from_rects(r->rects);
    if (frame.suspect) {
        s->unsure.add(damage);
    } else {
        s->unsure.subtract(damage);
    }
    if (primary_ && *primary_ == st.surface_id && !damage.empty()) {
        primary_touched(ctx);
    }
}

void DisplayState::drop_pending(Stream& st) {
    rec_.stats.stream_frames_dropped += st.pending.size();
    st.pending.clear();
}

void DisplayState::present_until(int64_t t_us) {
    for (auto& [id, st] : streams_) {
        present(id, *st, t_us);
    }
}

std::optional<int64_t> DisplayState::next_due() const {
    std::optional<int64_t> due;
    for (const auto& [id, st] : streams_) {
        if (st->pending.empty()) {
            continue;
        }
        const PendingFrame& f = st->pending.front();
        const int64_t looked_at = std::max(st->scheduled_us, f.arrival_us);
        const int64_t t = int32_t(f.mm_time - clock_.at(looked_at)) >= 0
                              ? std::max(clock_.when(f.mm_time), looked_at)
                              : looked_at;
        due = due ? std::min(*due, t) : t;
    }
    return due;
}

size_t DisplayState::pending_frames() const {
    size_t n = 0;
    for (const auto& [id, st] : streams_) {
        n += st->pending.size();
    }
    return n;
}

bool DisplayState::stream_clip(const display::StreamClip& m, const MessageContext& ctx) {
    auto it = streams_.find(m.id);
    if (it == streams_.end()) {
        rec_.issue(ctx, "unknown_stream",
                   fmt::format("clip for stream {}, which does not exist", m.id));
        return false;
    }
    it->second->clip = to_clip(m.clip);
    return true;
}

// The decoder goes with the stream, and with it every frame still waiting to be shown.
void DisplayState::stream_destroy(uint32_t id) {
    if (auto it = streams_.find(id); it != streams_.end()) {
        drop_pending(*it->second);
        streams_.erase(it);
    }
}

// ---- dispatch --------------------------------------------------------------------------

bool DisplayState::apply(const display::ServerMessage& msg, const MessageContext& ctx) {
    return std::visit(
        [&](const auto& m) -> bool {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, display::DrawFill> ||
                          std::is_same_v<T, display::DrawOpaque> ||
                          std::is_same_v<T, display::DrawCopy> ||
                          std::is_same_v<T, display::DrawBlend> ||
                          std::is_same_v<T, display::DrawBlackness> ||
                          std::is_same_v<T, display::DrawWhiteness> ||
                          std::is_same_v<T, display::DrawInvers> ||
                          std::is_same_v<T, display::DrawRop3> ||
                          std::is_same_v<T, display::DrawStroke> ||
                          std::is_same_v<T, display::DrawText> ||
                          std::is_same_v<T, display::DrawTransparent> ||
                          std::is_same_v<T, display::DrawAlphaBlend> ||
                          std::is_same_v<T, display::DrawComposite> ||
                          std::is_same_v<T, display::CopyBits>) {
                return draw(m, ctx);
            } else if constexpr (std::is_same_v<T, display::Mode>) {
                // The pre-surface protocol's primary: 32 bits xRGB, anything else 16-bit 555.
                display::SurfaceCreate c;
                c.surface_id = 0;
                c.width = m.x_res;
                c.height = m.y_res;
                c.format = m.bits == 32 ? 32 : 16;
                c.flags = 1;
                return surface_create(c, ctx);
            } else if constexpr (std::is_same_v<T, display::Mark>) {
                ++rec_.stats.marks;
                mark_ = true;
                return true;
            } else if constexpr (std::is_same_v<T, display::Reset>) {
                if (SurfaceSlot* p = primary_ ? slot(*primary_) : nullptr) {
                    auto fresh = canvas::Surface::create(p->surface.id(), p->surface.width(),
                                                         p->surface.height(), p->surface.format());
                    if (fresh) {
                        p->surface = std::move(*fresh);
                        p->unsure.clear();
                        primary_touched(ctx);
                    }
                }
                palettes_.clear();
                mark_ = false;
                return true;
            } else if constexpr (std::is_same_v<T, display::InvalList>) {
                for (const display::ResourceId& r : m.resources) {
                    if (r.type == 1) {
                        images_.cache().remove(r.id);
                    }
                }
                return true;
            } else if constexpr (std::is_same_v<T, display::InvalAllPixmaps>) {
                images_.cache().clear();
                return true;
            } else if constexpr (std::is_same_v<T, display::InvalPalette>) {
                palettes_.remove(m.id);
                return true;
            } else if constexpr (std::is_same_v<T, display::InvalAllPalettes>) {
                palettes_.clear();
                return true;
            } else if constexpr (std::is_same_v<T, display::SurfaceCreate>) {
                return surface_create(m, ctx);
            } else if constexpr (std::is_same_v<T, display::SurfaceDestroy>) {
                return surface_destroy(m, ctx);
            } else if constexpr (std::is_same_v<T, display::StreamCreate>) {
                return stream_create(m, ctx);
            } else if constexpr (std::is_same_v<T, display::StreamData>) {
                return stream_frame(m.id, m.data, m.multi_media_time, std::nullopt, ctx);
            } else if constexpr (std::is_same_v<T, display::StreamDataSized>) {
                return stream_frame(m.id, m.data, m.multi_media_time, to_rect(m.dest), ctx);
            } else if constexpr (std::is_same_v<T, display::StreamClip>) {
                return stream_clip(m, ctx);
            } else if constexpr (std::is_same_v<T, display::StreamDestroy>) {
                stream_destroy(m.id);
                return true;
            } else if constexpr (std::is_same_v<T, display::StreamDestroyAll>) {
                for (auto& [id, st] : streams_) {
                    drop_pending(*st);
                }
                streams_.clear();
                return true;
            } else if constexpr (std::is_same_v<T, display::MonitorsConfig>) {
                monitors_ = m.heads;
                return true;
            } else if constexpr (std::is_same_v<T, display::GlScanoutUnix> ||
                                 std::is_same_v<T, display::GlDraw>) {
                // The pixels travel as a dma-buf on a local socket, never in a capture.
                rec_.issue(ctx, "unsupported_message",
                           "GL scanout: the pixels are not in the capture");
                mark_all_unsure();
                return false;
            } else {
                // STREAM_ACTIVATE_REPORT, QUALITY_INDICATOR: nothing on screen.
                return true;
            }
        },
        msg);
}

// ---- checkpoints ---------------------------------------------------------------------

namespace {

void save_rect(StateWriter& w, const canvas::Rect& r) {
    w.i32(r.left);
    w.i32(r.top);
    w.i32(r.right);
    w.i32(r.bottom);
}

canvas::Rect load_rect(ByteReader& r) {
    canvas::Rect out;
    out.left = r.i32();
    out.top = r.i32();
    out.right = r.i32();
    out.bottom = r.i32();
    return out;
}

void save_rects(StateWriter& w, const std::vector<canvas::Rect>& rects) {
    w.u64(rects.size());
    for (const canvas::Rect& r : rects) {
        save_rect(w, r);
    }
}

std::vector<canvas::Rect> load_rects(ByteReader& r) {
    const uint64_t n = r.u64();
    std::vector<canvas::Rect> out;
    if (n > r.remaining() / 16) {
        r.fail();
        return out;
    }
    out.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) {
        out.push_back(load_rect(r));
    }
    return out;
}

void save_clip(StateWriter& w, const canvas::Clip& clip) {
    w.u8(clip ? 1 : 0);
    if (clip) {
        save_rects(w, *clip);
    }
}

canvas::Clip load_clip(ByteReader& r) {
    if (r.u8() == 0) {
        return std::nullopt;
    }
    return load_rects(r);
}

void save_context(StateWriter& w, const MessageContext& c) {
    w.i64(c.ts_us);
    w.i64(c.connection);
    w.i32(c.channel_id);
    w.u16(c.msg_type);
    w.u64(c.event);
    w.u64(c.serial);
}

MessageContext load_context(ByteReader& r) {
    MessageContext c;
    c.ts_us = r.i64();
    c.connection = r.i64();
    c.channel_id = r.i32();
    c.msg_type = r.u16();
    c.event = size_t(r.u64());
    c.serial = r.u64();
    return c;
}

void save_stats(StateWriter& w, const ReplayStats& s) {
    for (uint64_t v : {s.messages, s.server_messages, s.applied, s.failed, s.base_messages,
                       s.sub_messages, s.marks, s.screen_updates, s.draws, s.stream_frames,
                       s.stream_frames_dropped, s.streams, s.capture_gaps, s.cursor_messages,
                       s.cursor_failed, uint64_t(s.walked_us), uint64_t(s.exact_us)}) {
        w.u64(v);
    }
    auto counts = [&](const std::map<std::string, uint64_t>& m) {
        w.u64(m.size());
        for (const auto& [k, v] : m) {
            w.str(k);
            w.u64(v);
        }
    };
    counts(s.draws_by_type);
    counts(s.issues_by_kind);
    w.u64(s.images_by_codec.size());
    for (const auto& [k, c] : s.images_by_codec) {
        w.str(k);
        w.u64(c.images);
        w.u64(c.failures);
        w.u64(c.pixels);
        w.u64(c.bytes);
        w.f64(c.decode_ms);
    }
}

void load_stats(ByteReader& r, ReplayStats& s) {
    for (uint64_t* v :
         {&s.messages, &s.server_messages, &s.applied, &s.failed, &s.base_messages, &s.sub_messages,
          &s.marks, &s.screen_updates, &s.draws, &s.stream_frames, &s.stream_frames_dropped,
          &s.streams, &s.capture_gaps, &s.cursor_messages, &s.cursor_failed}) {
        *v = r.u64();
    }
    s.walked_us = int64_t(r.u64());
    s.exact_us = int64_t(r.u64());
    auto counts = [&](std::map<std::string, uint64_t>& m) {
        m.clear();
        const uint64_t n = r.u64();
        for (uint64_t i = 0; i < n && r.ok(); ++i) {
            std::string k = read_str(r);
            m[k] = r.u64();
        }
    };
    counts(s.draws_by_type);
    counts(s.issues_by_kind);
    s.images_by_codec.clear();
    const uint64_t n = r.u64();
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
        CodecStats& c = s.images_by_codec[read_str(r)];
        c.images = r.u64();
        c.failures = r.u64();
        c.pixels = r.u64();
        c.bytes = r.u64();
        c.decode_ms = read_f64(r);
    }
}

}  // namespace

void ReplayRecorder::restart() {
    if (issues.size() > longest_.size()) {
        longest_ = issues;
    }
    issues.clear();
    stats = {};
    last_update_us_.reset();
}

void ReplayRecorder::save(StateWriter& w) const {
    save_stats(w, stats);
    w.u64(issues.size());
    w.u8(last_update_us_ ? 1 : 0);
    w.i64(last_update_us_.value_or(0));
}

Result<void> ReplayRecorder::load(ByteReader& r) {
    load_stats(r, stats);
    const uint64_t count = r.u64();
    const bool has_update = r.u8() != 0;
    const int64_t update = r.i64();
    if (!r.ok()) {
        return r.error("checkpoint: replay statistics");
    }
    last_update_us_ = has_update ? std::optional<int64_t>(update) : std::nullopt;
    if (issues.size() > longest_.size()) {
        longest_ = issues;
    }
    if (count > longest_.size()) {
        return make_error(Errc::Corrupt, 0, "checkpoint: issues that were never recorded");
    }
    issues.assign(longest_.begin(), longest_.begin() + ptrdiff_t(count));
    return {};
}

void DisplayState::save(StateWriter& w) const {
    w.u64(surfaces_.size());
    for (const auto& [id, s] : surfaces_) {
        const canvas::Surface& sf = s.surface;
        w.u32(id);
        w.u32(uint32_t(sf.format()));
        w.u32(sf.width());
        w.u32(sf.height());
        w.blob(ByteView(sf.row(0), sf.stride() * sf.height()));
        save_rects(w, s.unsure.rects());
    }
    w.u8(primary_ ? 1 : 0);
    w.u32(primary_.value_or(0));
    const std::vector<codec::PaletteHandle> palettes = palettes_.save();
    w.u64(palettes.size());
    for (const codec::PaletteHandle& p : palettes) {
        w.u64(p->unique);
        w.u64(p->entries.size());
        for (uint32_t e : p->entries) {
            w.u32(e);
        }
    }
    w.u64(streams_.size());
    for (const auto& [id, st] : streams_) {
        w.u32(id);
        w.u32(st->surface_id);
        w.u8(st->flags);
        w.u8(st->codec);
        w.u32(st->width);
        w.u32(st->height);
        save_rect(w, st->dest);
        save_clip(w, st->clip);
        w.str(st->broken);
        w.u8(st->damaged ? 1 : 0);
        w.u8(st->decoder ? 1 : 0);
        w.u64(st->frame_events.size());
        for (size_t e : st->frame_events) {
            w.u64(e);
        }
        w.i64(st->scheduled_us);
        w.u64(st->pending.size());
        for (const PendingFrame& f : st->pending) {
            w.u32(f.mm_time);
            w.i64(f.arrival_us);
            save_context(w, f.ctx);
            w.u8(f.sized_dest ? 1 : 0);
            save_rect(w, f.sized_dest.value_or(canvas::Rect{}));
            w.u8(f.suspect ? 1 : 0);
            w.u32(f.image.width);
            w.u32(f.image.height);
            w.u32(uint32_t(f.image.format));
            w.u64(f.image.stride);
            w.blob(ByteView(f.image.pixels));
        }
    }
    w.u64(monitors_.size());
    for (const display::Head& h : monitors_) {
        for (uint32_t v : {h.monitor_id, h.surface_id, h.width, h.height, h.x, h.y, h.flags}) {
            w.u32(v);
        }
    }
    w.u8(mark_ ? 1 : 0);
}

Result<void> DisplayState::load(ByteReader& r, const Refeed& refeed) {
    surfaces_.clear();
    streams_.clear();
    const uint64_t n_surfaces = r.u64();
    for (uint64_t i = 0; i < n_surfaces && r.ok(); ++i) {
        const uint32_t id = r.u32();
        const auto format = static_cast<canvas::SurfaceFormat>(r.u32());
        const uint32_t width = r.u32();
        const uint32_t height = r.u32();
        const ByteView pixels = read_blob(r);
        std::vector<canvas::Rect> unsure = load_rects(r);
        if (!r.ok()) {
            break;
        }
        auto sf = canvas::Surface::create(id, width, height, format);
        if (!sf) {
            return sf.error();
        }
        if (pixels.size() != sf->stride() * height) {
            return make_error(Errc::Corrupt, 0, "checkpoint: surface size");
        }
        std::memcpy(sf->row(0), pixels.data(), pixels.size());
        surfaces_.emplace(id, SurfaceSlot{std::move(*sf), PixelRegion::from_rects(unsure)});
    }
    const bool has_primary = r.u8() != 0;
    const uint32_t primary = r.u32();
    primary_ = has_primary ? std::optional<uint32_t>(primary) : std::nullopt;
    std::vector<codec::PaletteHandle> palettes;
    const uint64_t n_palettes = r.u64();
    for (uint64_t i = 0; i < n_palettes && r.ok(); ++i) {
        auto p = std::make_shared<codec::Palette>();
        p->unique = r.u64();
        const uint64_t n = r.u64();
        if (n > r.remaining() / 4) {
            r.fail();
            break;
        }
        p->entries.resize(size_t(n));
        for (uint32_t& e : p->entries) {
            e = r.u32();
        }
        palettes.push_back(std::move(p));
    }
    palettes_.restore(palettes);
    const uint64_t n_streams = r.u64();
    for (uint64_t i = 0; i < n_streams && r.ok(); ++i) {
        const uint32_t id = r.u32();
        auto st = std::make_unique<Stream>();
        st->surface_id = r.u32();
        st->flags = r.u8();
        st->codec = r.u8();
        st->width = r.u32();
        st->height = r.u32();
        st->dest = load_rect(r);
        st->clip = load_clip(r);
        st->broken = read_str(r);
        st->damaged = r.u8() != 0;
        const bool has_decoder = r.u8() != 0;
        const uint64_t n_events = r.u64();
        if (n_events > r.remaining() / 8) {
            r.fail();
            break;
        }
        for (uint64_t k = 0; k < n_events; ++k) {
            st->frame_events.push_back(size_t(r.u64()));
        }
        st->scheduled_us = r.i64();
        const uint64_t n_pending = r.u64();
        for (uint64_t k = 0; k < n_pending && r.ok(); ++k) {
            PendingFrame f;
            f.mm_time = r.u32();
            f.arrival_us = r.i64();
            f.ctx = load_context(r);
            const bool sized = r.u8() != 0;
            const canvas::Rect dest = load_rect(r);
            f.sized_dest = sized ? std::optional<canvas::Rect>(dest) : std::nullopt;
            f.suspect = r.u8() != 0;
            f.image.width = r.u32();
            f.image.height = r.u32();
            f.image.format = static_cast<codec::PixelFormat>(r.u32());
            f.image.stride = size_t(r.u64());
            const ByteView pixels = read_blob(r);
            if (!r.ok() || pixels.size() != f.image.stride * f.image.height ||
                f.image.stride < size_t(f.image.width) * 4) {
                return make_error(Errc::Corrupt, 0, "checkpoint: pending video frame");
            }
            f.image.pixels.assign(pixels.begin(), pixels.end());
            st->pending.push_back(std::move(f));
        }
        if (has_decoder && r.ok()) {
            auto dec = codec::VideoStreamDecoder::create(st->codec, st->width, st->height);
            if (!dec) {
                return dec.error();
            }
            if (auto ok = refeed(id, st->frame_events, **dec); !ok) {
                return ok.error();
            }
            st->decoder = std::move(*dec);
        }
        streams_.emplace(id, std::move(st));
    }
    monitors_.clear();
    const uint64_t n_heads = r.u64();
    for (uint64_t i = 0; i < n_heads && r.ok(); ++i) {
        display::Head h;
        for (uint32_t* v :
             {&h.monitor_id, &h.surface_id, &h.width, &h.height, &h.x, &h.y, &h.flags}) {
            *v = r.u32();
        }
        monitors_.push_back(h);
    }
    mark_ = r.u8() != 0;
    if (!r.ok()) {
        return r.error("checkpoint: display channel state");
    }
    return {};
}

}  // namespace spicetap::replay
