// Cursor messages as channel-cursor.c handles them, visibility as spice-server keeps it.
#include "replay/cursor_state.h"

#include <fmt/core.h>

#include <cstring>
#include <vector>

namespace spicetap::replay {

namespace cursor = channels::cursor;

namespace {

uint32_t le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// What spice-gtk shows for a masked white pixel of a colour cursor (it cannot invert).
uint32_t checker(size_t i, uint32_t width) {
    return (((i % width) ^ (i / width)) & 1) ? 0xc0303030u : 0x30505050u;
}

// Rounded c * a / 255, the premultiplication GDK applies to a pixbuf cursor.
uint32_t premultiply(uint32_t argb) {
    const uint32_t a = argb >> 24;
    auto mul = [a](uint32_t c) {
        const uint32_t t = a * c + 0x80;
        return ((t >> 8) + t) >> 8;
    };
    return a << 24 | mul((argb >> 16) & 0xff) << 16 | mul((argb >> 8) & 0xff) << 8 |
           mul(argb & 0xff);
}

bool all_ones(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] != 0xff) {
            return false;
        }
    }
    return true;
}

// MONO: AND and XOR planes of ceil(w/8) bytes per row, MSB first.
void decode_mono(const uint8_t* data, uint32_t w, uint32_t h, std::vector<uint32_t>& out) {
    const size_t bpl = (size_t(w) + 7) / 8;
    const uint8_t* and_plane = data;
    const uint8_t* xor_plane = data + bpl * h;
    auto xor_bit = [&](uint32_t x, uint32_t y) {
        return (xor_plane[bpl * y + x / 8] & (0x80 >> (x % 8))) != 0;
    };
    // An all-ones AND mask means "invert where XOR is set"; spice-gtk draws those pixels white
    // with a black edge around them (not on the shape's border).
    const bool invert_only = all_ones(and_plane, bpl * h);
    auto is_edge = [&](uint32_t x, uint32_t y) {
        if (x == 0 || x + 1 == w || y == 0 || y + 1 == h || xor_bit(x, y)) {
            return false;
        }
        for (int dy = -1; dy <= 1; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
                if ((dx || dy) && xor_bit(x + dx, y + dy)) {
                    return true;
                }
            }
        }
        return false;
    };
    for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x) {
            uint32_t& o = out[size_t(y) * w + x];
            if (invert_only && is_edge(x, y)) {
                o = 0xff000000u;
                continue;
            }
            const bool a = (and_plane[bpl * y + x / 8] & (0x80 >> (x % 8))) != 0;
            const bool xr = xor_bit(x, y);
            o = xr ? 0xffffffffu : (a ? 0u : 0xff000000u);
        }
    }
}

}  // namespace

Result<CursorShape> decode_cursor_shape(const cursor::CursorHeader& h, ByteView data) {
    CursorShape shape;
    shape.unique = h.unique;
    shape.type = h.type;
    shape.hot_x = std::min(h.hot_spot_x, h.width);
    shape.hot_y = std::min(h.hot_spot_y, h.height);
    const uint32_t w = h.width;
    const uint32_t ht = h.height;
    if (w == 0 || ht == 0) {
        return make_error(Errc::BadValue, 0, fmt::format("cursor of {}x{} pixels", w, ht));
    }
    const size_t pixels = size_t(w) * ht;
    const size_t bpl = (size_t(w) + 7) / 8;
    // The colour types' AND mask: spice-gtk indexes it by the pixel's position in the whole
    // picture (i / 8), not row by row, which only differs for widths that are not a multiple of 8.
    const size_t mask_bytes = (pixels + 7) / 8;
    size_t need = 0;
    size_t pixel_bytes = 0;
    switch (static_cast<cursor::CursorType>(h.type)) {
        case cursor::CursorType::Alpha:
            need = pixels * 4;
            break;
        case cursor::CursorType::Mono:
            need = 2 * bpl * ht;
            break;
        case cursor::CursorType::Color4:
            pixel_bytes = (size_t(w) + 1) / 2 * ht;
            need = pixel_bytes + 16 * 4 + mask_bytes;
            break;
        case cursor::CursorType::Color8:
            pixel_bytes = pixels;
            need = pixel_bytes + 256 * 4 + mask_bytes;
            shape.reference_shows_default = true;
            break;
        case cursor::CursorType::Color16:
            pixel_bytes = pixels * 2;
            need = pixel_bytes + mask_bytes;
            break;
        case cursor::CursorType::Color24:
            pixel_bytes = pixels * 3;
            need = pixel_bytes + mask_bytes;
            shape.reference_shows_default = true;
            break;
        case cursor::CursorType::Color32:
            pixel_bytes = pixels * 4;
            need = pixel_bytes + mask_bytes;
            break;
        default:
            return make_error(Errc::Unsupported, 0, fmt::format("cursor type {}", h.type));
    }
    if (data.size() < need) {
        return make_error(Errc::Truncated, data.size(),
                          fmt::format("{} cursor of {}x{} needs {} bytes of data, has {}",
                                      cursor::cursor_type_name(h.type), w, ht, need, data.size()));
    }
    std::vector<uint32_t> argb(pixels, 0);
    const uint8_t* d = data.data();
    auto masked = [&](size_t i) { return (d[need - mask_bytes + i / 8] & (0x80 >> (i % 8))) != 0; };
    // Colour pixel i with its mask bit: opaque, transparent, or the checker for "invert".
    auto colour = [&](size_t i, uint32_t rgb, bool white) {
        if (masked(i)) {
            argb[i] = white ? checker(i, w) : rgb;
        } else {
            argb[i] = rgb | 0xff000000u;
        }
    };
    switch (static_cast<cursor::CursorType>(h.type)) {
        case cursor::CursorType::Alpha:
            for (size_t i = 0; i < pixels; ++i) {
                argb[i] = le32(d + i * 4);
            }
            break;
        case cursor::CursorType::Mono:
            decode_mono(d, w, ht, argb);
            break;
        case cursor::CursorType::Color4:
        case cursor::CursorType::Color8: {
            const bool four = h.type == uint8_t(cursor::CursorType::Color4);
            const uint8_t* palette = d + pixel_bytes;
            for (size_t i = 0; i < pixels; ++i) {
                // spice-gtk reads COLOR4 indices by pixel position too (two per byte, high first).
                const uint32_t idx = four ? ((i & 1) ? d[i >> 1] & 0x0f : d[i >> 1] >> 4) : d[i];
                const uint32_t rgb = le32(palette + idx * 4);
                colour(i, rgb, rgb == 0xffffff);
            }
            break;
        }
        case cursor::CursorType::Color16:
            for (size_t i = 0; i < pixels; ++i) {
                const uint32_t p = uint32_t(d[i * 2]) | uint32_t(d[i * 2 + 1]) << 8;
                // 5-5-5 widened by shifting only, as spice-gtk does.
                const uint32_t rgb = (p & 0x1f) << 3 | (p & 0x3e0) << 6 | (p & 0x7c00) << 9;
                colour(i, rgb, p == 0x7fff);
            }
            break;
        case cursor::CursorType::Color24:
            for (size_t i = 0; i < pixels; ++i) {
                const uint32_t rgb =
                    uint32_t(d[i * 3]) | uint32_t(d[i * 3 + 1]) << 8 | uint32_t(d[i * 3 + 2]) << 16;
                colour(i, rgb, rgb == 0xffffff);
            }
            break;
        case cursor::CursorType::Color32:
            for (size_t i = 0; i < pixels; ++i) {
                const uint32_t p = le32(d + i * 4);
                if (masked(i)) {
                    argb[i] = p == 0xffffff ? checker(i, w) : p;
                } else {
                    argb[i] = p | 0xff000000u;
                }
            }
            break;
    }
    auto surface = canvas::Surface::create(0, w, ht, canvas::SurfaceFormat::Argb32);
    if (!surface) {
        return surface.error();
    }
    for (uint32_t y = 0; y < ht; ++y) {
        uint8_t* row = surface->row(y);
        for (uint32_t x = 0; x < w; ++x) {
            const uint32_t v = premultiply(argb[size_t(y) * w + x]);
            std::memcpy(row + size_t(x) * 4, &v, 4);
        }
    }
    shape.image = std::make_shared<const canvas::Surface>(std::move(*surface));
    return shape;
}

CursorState::CursorState(int channel_id, ReplayRecorder& recorder)
    : channel_id_(channel_id), rec_(&recorder) {}

std::optional<canvas::CursorView> CursorState::view() const {
    if (!shape_) {
        return std::nullopt;
    }
    canvas::CursorView v;
    v.image = shape_->image;
    v.position = position_;
    v.hot_spot = canvas::Point{shape_->hot_x, shape_->hot_y};
    v.visible = visible_;
    v.exact = exact_;
    return v;
}

std::shared_ptr<const CursorShape> CursorState::resolve(const cursor::Cursor& c,
                                                        const MessageContext& ctx, bool& ok) {
    if ((c.flags & cursor::kCursorFlagNone) || !c.header) {
        return nullptr;
    }
    const cursor::CursorHeader& h = *c.header;
    if (c.flags & cursor::kCursorFlagFromCache) {
        auto it = cache_.find(h.unique);
        if (it == cache_.end()) {
            ok = false;
            rec_->issue(
                ctx, "missing_cursor",
                fmt::format("cursor {:#x} from the cache, which does not hold it", h.unique));
            return nullptr;
        }
        return it->second;
    }
    auto shape = decode_cursor_shape(h, c.data);
    if (!shape) {
        ok = false;
        rec_->issue(ctx, "cursor_error",
                    fmt::format("cursor {:#x}: {}", h.unique, shape.error().message()));
        // spice-gtk caches nothing either; a later FROM_CACHE of it is reported as missing.
        return nullptr;
    }
    auto out = std::make_shared<const CursorShape>(std::move(*shape));
    if (c.flags & cursor::kCursorFlagCacheMe) {
        cache_[h.unique] = out;
    }
    return out;
}

bool CursorState::apply(const cursor::ServerMessage& msg, const MessageContext& ctx) {
    bool ok = true;
    auto at = [](const cursor::Point16& p) { return canvas::Point{p.x, p.y}; };
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, cursor::Init>) {
                // A fresh start: the whole state is in this message.
                cache_.clear();
                exact_ = true;
                shape_ = resolve(m.cursor, ctx, ok);
                position_ = at(m.position);
                visible_ = m.visible != 0 && shape_ != nullptr;
                trail_length_ = m.trail_length;
                trail_frequency_ = m.trail_frequency;
            } else if constexpr (std::is_same_v<T, cursor::Reset>) {
                cache_.clear();
                shape_.reset();
                visible_ = false;
            } else if constexpr (std::is_same_v<T, cursor::Set>) {
                shape_ = resolve(m.cursor, ctx, ok);
                position_ = at(m.position);
                visible_ = m.visible != 0 && shape_ != nullptr;
            } else if constexpr (std::is_same_v<T, cursor::Move>) {
                // spice-server shows a hidden cursor again when the guest moves it.
                position_ = at(m.position);
                visible_ = shape_ != nullptr;
            } else if constexpr (std::is_same_v<T, cursor::Hide>) {
                visible_ = false;
            } else if constexpr (std::is_same_v<T, cursor::Trail>) {
                // Recorded; no client draws trails (spice-gtk logs "TODO").
                trail_length_ = m.length;
                trail_frequency_ = m.frequency;
            } else if constexpr (std::is_same_v<T, cursor::InvalOne>) {
                cache_.erase(m.id);
            } else if constexpr (std::is_same_v<T, cursor::InvalAll>) {
                cache_.clear();
            }
        },
        msg);
    return ok;
}

// ---- checkpoints ---------------------------------------------------------------------

namespace {

void save_shape(StateWriter& w, const CursorShape& c) {
    w.u64(c.unique);
    w.u8(c.type);
    w.u16(c.hot_x);
    w.u16(c.hot_y);
    w.u8(c.reference_shows_default ? 1 : 0);
    const canvas::Surface& img = *c.image;
    w.u32(img.width());
    w.u32(img.height());
    w.blob(ByteView(img.row(0), img.stride() * img.height()));
}

Result<std::shared_ptr<const CursorShape>> load_shape(ByteReader& r) {
    CursorShape c;
    c.unique = r.u64();
    c.type = r.u8();
    c.hot_x = r.u16();
    c.hot_y = r.u16();
    c.reference_shows_default = r.u8() != 0;
    const uint32_t w = r.u32();
    const uint32_t h = r.u32();
    const ByteView px = read_blob(r);
    if (!r.ok()) {
        return r.error("checkpoint: cursor shape");
    }
    auto img = canvas::Surface::create(0, w, h, canvas::SurfaceFormat::Argb32);
    if (!img) {
        return img.error();
    }
    if (px.size() != img->stride() * h) {
        return make_error(Errc::Corrupt, 0, "checkpoint: cursor shape size");
    }
    std::memcpy(img->row(0), px.data(), px.size());
    c.image = std::make_shared<const canvas::Surface>(std::move(*img));
    return std::make_shared<const CursorShape>(std::move(c));
}

}  // namespace

void CursorState::save(StateWriter& w) const {
    w.u64(cache_.size());
    for (const auto& [id, shape] : cache_) {
        w.u64(id);
        save_shape(w, *shape);
    }
    w.u8(shape_ ? 1 : 0);
    if (shape_) {
        save_shape(w, *shape_);
    }
    w.i32(position_.x);
    w.i32(position_.y);
    w.u8(visible_ ? 1 : 0);
    w.u8(exact_ ? 1 : 0);
    w.u16(trail_length_);
    w.u16(trail_frequency_);
}

Result<void> CursorState::load(ByteReader& r) {
    cache_.clear();
    shape_.reset();
    const uint64_t n = r.u64();
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
        const uint64_t id = r.u64();
        auto shape = load_shape(r);
        if (!shape) {
            return shape.error();
        }
        cache_[id] = *shape;
    }
    if (r.u8() != 0) {
        auto shape = load_shape(r);
        if (!shape) {
            return shape.error();
        }
        shape_ = *shape;
    }
    position_.x = r.i32();
    position_.y = r.i32();
    visible_ = r.u8() != 0;
    exact_ = r.u8() != 0;
    trail_length_ = r.u16();
    trail_frequency_ = r.u16();
    if (!r.ok()) {
        return r.error("checkpoint: cursor state");
    }
    return {};
}

}  // namespace spicetap::replay
