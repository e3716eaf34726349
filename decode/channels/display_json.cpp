// JSON for display channel messages and their structures. Key names are part of the dump
// format (docs/dump-format.md, "## display"): change them only together with that section.
#include <fmt/core.h>

#include "decode/channels/display_channel.h"
#include "decode/channels/display_types.h"
#include "decode/wire/json_writer.h"

namespace spicetap::channels::display {

namespace {

// A named enum value, or "unknown_N" for a value nobody defined.
void enum_field(JsonWriter& w, std::string_view key, std::string_view name, uint64_t raw) {
    w.key(key);
    if (name.empty()) {
        w.value(fmt::format("unknown_{}", raw));
    } else {
        w.value(name);
    }
}

template <typename T>
void object_field(JsonWriter& w, std::string_view key, const T& v) {
    w.key(key);
    write_json(v, w);
}

template <typename T>
void optional_field(JsonWriter& w, std::string_view key, const std::optional<T>& v) {
    w.key(key);
    if (v) {
        write_json(*v, w);
    } else {
        w.null();
    }
}

void palette_ref_fields(JsonWriter& w, const PaletteRef& ref) {
    if (ref.cache_id) {
        w.field("palette_id", *ref.cache_id);
    } else {
        optional_field(w, "palette", ref.palette);
    }
}

void payload_fields(JsonWriter& w, const ImagePayload& payload) {
    std::visit(
        [&w](const auto& p) {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, BitmapData>) {
                enum_field(w, "format", bitmap_format_name(p.format), p.format);
                w.field("bitmap_flags", p.flags);
                w.field("x", p.x);
                w.field("y", p.y);
                w.field("stride", p.stride);
                palette_ref_fields(w, p.palette);
                w.field("data_size", uint64_t{p.data.size()});
            } else if constexpr (std::is_same_v<T, BinaryData>) {
                w.field("data_size", uint64_t{p.data.size()});
            } else if constexpr (std::is_same_v<T, LzPltData>) {
                w.field("bitmap_flags", p.flags);
                palette_ref_fields(w, p.palette);
                w.field("data_size", uint64_t{p.data.size()});
            } else if constexpr (std::is_same_v<T, ZlibGlzData>) {
                w.field("glz_data_size", p.glz_data_size);
                w.field("data_size", uint64_t{p.data.size()});
            } else if constexpr (std::is_same_v<T, JpegAlphaData>) {
                w.field("alpha_flags", p.flags);
                w.field("jpeg_size", p.jpeg_size);
                w.field("data_size", uint64_t{p.data.size()});
            } else if constexpr (std::is_same_v<T, SurfaceImage>) {
                w.field("surface_id", p.surface_id);
            }
        },
        payload);
}

void write_copy_like_fields(JsonWriter& w, const DisplayBase& base, const std::optional<Image>& src,
                            const Rect& src_area, uint16_t rop, uint8_t scale_mode,
                            const QMask& mask) {
    object_field(w, "base", base);
    optional_field(w, "src_bitmap", src);
    object_field(w, "src_area", src_area);
    w.field("rop_descriptor", rop);
    enum_field(w, "scale_mode", scale_mode_name(scale_mode), scale_mode);
    object_field(w, "mask", mask);
}

void write_stream_data_size(JsonWriter& w, ByteView data) {
    w.field("data_size", uint64_t{data.size()});
}

}  // namespace

void write_json(const Rect& r, JsonWriter& w) {
    w.begin_object();
    w.field("top", r.top).field("left", r.left).field("bottom", r.bottom).field("right", r.right);
    w.end_object();
}

void write_json(const Point& p, JsonWriter& w) {
    w.begin_object().field("x", p.x).field("y", p.y).end_object();
}

void write_json(const Point16& p, JsonWriter& w) {
    w.begin_object().field("x", p.x).field("y", p.y).end_object();
}

void write_json(const PointFix& p, JsonWriter& w) {
    w.begin_object().field("x", p.x).field("y", p.y).end_object();
}

void write_json(const Transform& t, JsonWriter& w) {
    w.begin_object();
    w.field("t00", t.t00).field("t01", t.t01).field("t02", t.t02);
    w.field("t10", t.t10).field("t11", t.t11).field("t12", t.t12);
    w.end_object();
}

void write_json(const Clip& c, JsonWriter& w) {
    w.begin_object();
    enum_field(w, "type", clip_type_name(c.type), c.type);
    if (c.type == static_cast<uint8_t>(ClipType::Rects)) {
        w.key("rects").begin_array();
        for (const Rect& r : c.rects) {
            write_json(r, w);
        }
        w.end_array();
    }
    w.end_object();
}

void write_json(const DisplayBase& b, JsonWriter& w) {
    w.begin_object();
    w.field("surface_id", b.surface_id);
    object_field(w, "box", b.box);
    object_field(w, "clip", b.clip);
    w.end_object();
}

void write_json(const Palette& p, JsonWriter& w) {
    w.begin_object();
    w.field("offset", p.offset);
    w.field("unique", p.unique);
    w.field("num_ents", uint64_t{p.ents.size()});
    w.key("ents").begin_array();
    for (uint32_t e : p.ents) {
        w.value(e);
    }
    w.end_array();
    w.end_object();
}

void write_json(const Image& img, JsonWriter& w) {
    w.begin_object();
    w.field("offset", img.offset);
    w.field("id", img.descriptor.id);
    enum_field(w, "type", image_type_name(img.descriptor.type), img.descriptor.type);
    w.field("flags", img.descriptor.flags);
    w.field("width", img.descriptor.width);
    w.field("height", img.descriptor.height);
    payload_fields(w, img.payload);
    w.end_object();
}

void write_json(const Brush& b, JsonWriter& w) {
    w.begin_object();
    enum_field(w, "type", brush_type_name(b.type), b.type);
    if (b.type == static_cast<uint8_t>(BrushType::Solid)) {
        w.field("color", b.color);
    } else if (b.pattern) {
        object_field(w, "pat", b.pattern->pat);
        object_field(w, "pos", b.pattern->pos);
    }
    w.end_object();
}

void write_json(const QMask& m, JsonWriter& w) {
    w.begin_object();
    w.field("flags", m.flags);
    object_field(w, "pos", m.pos);
    optional_field(w, "bitmap", m.bitmap);
    w.end_object();
}

void write_json(const LineAttr& a, JsonWriter& w) {
    w.begin_object();
    w.field("flags", a.flags);
    if (a.flags & line_flags::kStyled) {
        w.field("style_nseg", a.style_nseg);
        w.key("style");
        if (a.style_pointer == 0) {
            w.null();
        } else {
            w.begin_array();
            for (int32_t s : a.style) {
                w.value(s);
            }
            w.end_array();
        }
    }
    w.end_object();
}

void write_json(const Path& p, JsonWriter& w) {
    w.begin_object();
    w.field("offset", p.offset);
    w.key("segments").begin_array();
    for (const PathSegment& seg : p.segments) {
        w.begin_object();
        w.field("flags", seg.flags);
        w.key("points").begin_array();
        for (const PointFix& pt : seg.points) {
            write_json(pt, w);
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void write_json(const GlyphString& s, JsonWriter& w) {
    w.begin_object();
    w.field("offset", s.offset);
    w.field("length", uint64_t{s.glyphs.size()});
    w.field("flags", s.flags);
    w.key("glyphs").begin_array();
    for (const RasterGlyph& g : s.glyphs) {
        w.begin_object();
        object_field(w, "render_pos", g.render_pos);
        object_field(w, "glyph_origin", g.glyph_origin);
        w.field("width", g.width);
        w.field("height", g.height);
        w.field("data_size", uint64_t{g.data.size()});
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

namespace {

template <uint16_t Id>
void fields(JsonWriter&, const Empty<Id>&) {}

void fields(JsonWriter& w, const Mode& m) {
    w.field("x_res", m.x_res).field("y_res", m.y_res).field("bits", m.bits);
}

void fields(JsonWriter& w, const CopyBits& m) {
    object_field(w, "base", m.base);
    object_field(w, "src_pos", m.src_pos);
}

void fields(JsonWriter& w, const InvalList& m) {
    w.field("count", uint64_t{m.resources.size()});
    w.key("resources").begin_array();
    for (const ResourceId& r : m.resources) {
        w.begin_object();
        enum_field(w, "type", resource_type_name(r.type), r.type);
        w.field("id", r.id);
        w.end_object();
    }
    w.end_array();
}

void fields(JsonWriter& w, const InvalAllPixmaps& m) {
    w.field("wait_count", uint64_t{m.wait_list.size()});
    w.key("wait_list").begin_array();
    for (const WaitForChannel& c : m.wait_list) {
        w.begin_object();
        w.field("channel_type", c.channel_type);
        w.field("channel_id", c.channel_id);
        w.field("message_serial", c.message_serial);
        w.end_object();
    }
    w.end_array();
}

void fields(JsonWriter& w, const InvalPalette& m) {
    w.field("id", m.id);
}

void fields(JsonWriter& w, const StreamCreate& m) {
    w.field("surface_id", m.surface_id);
    w.field("id", m.id);
    w.field("flags", m.flags);
    enum_field(w, "codec_type", video_codec_name(m.codec_type), m.codec_type);
    w.field("stamp", m.stamp);
    w.field("stream_width", m.stream_width);
    w.field("stream_height", m.stream_height);
    w.field("src_width", m.src_width);
    w.field("src_height", m.src_height);
    object_field(w, "dest", m.dest);
    object_field(w, "clip", m.clip);
}

void fields(JsonWriter& w, const StreamData& m) {
    w.field("id", m.id);
    w.field("multi_media_time", m.multi_media_time);
    write_stream_data_size(w, m.data);
}

void fields(JsonWriter& w, const StreamClip& m) {
    w.field("id", m.id);
    object_field(w, "clip", m.clip);
}

void fields(JsonWriter& w, const StreamDestroy& m) {
    w.field("id", m.id);
}

void fields(JsonWriter& w, const DrawFill& m) {
    object_field(w, "base", m.base);
    object_field(w, "brush", m.brush);
    w.field("rop_descriptor", m.rop_descriptor);
    object_field(w, "mask", m.mask);
}

void fields(JsonWriter& w, const DrawOpaque& m) {
    object_field(w, "base", m.base);
    optional_field(w, "src_bitmap", m.src_bitmap);
    object_field(w, "src_area", m.src_area);
    object_field(w, "brush", m.brush);
    w.field("rop_descriptor", m.rop_descriptor);
    enum_field(w, "scale_mode", scale_mode_name(m.scale_mode), m.scale_mode);
    object_field(w, "mask", m.mask);
}

template <uint16_t Id>
void fields(JsonWriter& w, const CopyLike<Id>& m) {
    write_copy_like_fields(w, m.base, m.src_bitmap, m.src_area, m.rop_descriptor, m.scale_mode,
                           m.mask);
}

template <uint16_t Id>
void fields(JsonWriter& w, const MaskOnly<Id>& m) {
    object_field(w, "base", m.base);
    object_field(w, "mask", m.mask);
}

void fields(JsonWriter& w, const DrawRop3& m) {
    object_field(w, "base", m.base);
    optional_field(w, "src_bitmap", m.src_bitmap);
    object_field(w, "src_area", m.src_area);
    object_field(w, "brush", m.brush);
    w.field("rop3", m.rop3);
    enum_field(w, "scale_mode", scale_mode_name(m.scale_mode), m.scale_mode);
    object_field(w, "mask", m.mask);
}

void fields(JsonWriter& w, const DrawStroke& m) {
    object_field(w, "base", m.base);
    object_field(w, "path", m.path);
    object_field(w, "attr", m.attr);
    object_field(w, "brush", m.brush);
    w.field("fore_mode", m.fore_mode);
    w.field("back_mode", m.back_mode);
}

void fields(JsonWriter& w, const DrawText& m) {
    object_field(w, "base", m.base);
    object_field(w, "str", m.str);
    object_field(w, "back_area", m.back_area);
    object_field(w, "fore_brush", m.fore_brush);
    object_field(w, "back_brush", m.back_brush);
    w.field("fore_mode", m.fore_mode);
    w.field("back_mode", m.back_mode);
}

void fields(JsonWriter& w, const DrawTransparent& m) {
    object_field(w, "base", m.base);
    optional_field(w, "src_bitmap", m.src_bitmap);
    object_field(w, "src_area", m.src_area);
    w.field("src_color", m.src_color);
    w.field("true_color", m.true_color);
}

void fields(JsonWriter& w, const DrawAlphaBlend& m) {
    object_field(w, "base", m.base);
    w.field("alpha_flags", m.alpha_flags);
    w.field("alpha", m.alpha);
    optional_field(w, "src_bitmap", m.src_bitmap);
    object_field(w, "src_area", m.src_area);
}

void fields(JsonWriter& w, const SurfaceCreate& m) {
    w.field("surface_id", m.surface_id);
    w.field("width", m.width);
    w.field("height", m.height);
    enum_field(w, "format", surface_format_name(m.format), m.format);
    w.field("flags", m.flags);
}

void fields(JsonWriter& w, const SurfaceDestroy& m) {
    w.field("surface_id", m.surface_id);
}

void fields(JsonWriter& w, const StreamDataSized& m) {
    w.field("id", m.id);
    w.field("multi_media_time", m.multi_media_time);
    w.field("width", m.width);
    w.field("height", m.height);
    object_field(w, "dest", m.dest);
    write_stream_data_size(w, m.data);
}

void fields(JsonWriter& w, const MonitorsConfig& m) {
    w.field("count", uint64_t{m.heads.size()});
    w.field("max_allowed", m.max_allowed);
    w.key("heads").begin_array();
    for (const Head& h : m.heads) {
        w.begin_object();
        w.field("monitor_id", h.monitor_id);
        w.field("surface_id", h.surface_id);
        w.field("width", h.width);
        w.field("height", h.height);
        w.field("x", h.x);
        w.field("y", h.y);
        w.field("flags", h.flags);
        w.end_object();
    }
    w.end_array();
}

void fields(JsonWriter& w, const DrawComposite& m) {
    namespace cf = composite_flags;
    object_field(w, "base", m.base);
    w.field("flags", m.flags);
    // The packed sub-fields, so a reader need not know the bit layout.
    w.field("op", m.flags & cf::kOpMask);
    w.field("src_filter", (m.flags >> cf::kSrcFilterShift) & 7u);
    w.field("mask_filter", (m.flags >> cf::kMaskFilterShift) & 7u);
    w.field("src_repeat", (m.flags >> cf::kSrcRepeatShift) & 3u);
    w.field("mask_repeat", (m.flags >> cf::kMaskRepeatShift) & 3u);
    optional_field(w, "src_bitmap", m.src_bitmap);
    if (m.flags & cf::kHasMask) {
        optional_field(w, "mask_bitmap", m.mask_bitmap);
    }
    if (m.src_transform) {
        object_field(w, "src_transform", *m.src_transform);
    }
    if (m.mask_transform) {
        object_field(w, "mask_transform", *m.mask_transform);
    }
    object_field(w, "src_origin", m.src_origin);
    object_field(w, "mask_origin", m.mask_origin);
}

void fields(JsonWriter& w, const StreamActivateReport& m) {
    w.field("stream_id", m.stream_id);
    w.field("unique_id", m.unique_id);
    w.field("max_window_size", m.max_window_size);
    w.field("timeout_ms", m.timeout_ms);
}

void fields(JsonWriter& w, const GlScanoutUnix& m) {
    w.field("width", m.width);
    w.field("height", m.height);
    w.field("stride", m.stride);
    w.field("drm_fourcc_format", m.drm_fourcc_format);
    w.field("flags", m.flags);
}

void fields(JsonWriter& w, const GlDraw& m) {
    w.field("x", m.x).field("y", m.y).field("w", m.w).field("h", m.h);
}

void fields(JsonWriter& w, const QualityIndicator& m) {
    w.field("data_size", uint64_t{m.data.size()});
    w.key("data").hex(m.data);
}

void fields(JsonWriter& w, const Init& m) {
    w.field("pixmap_cache_id", m.pixmap_cache_id);
    w.field("pixmap_cache_size", m.pixmap_cache_size);
    w.field("glz_dictionary_id", m.glz_dictionary_id);
    w.field("glz_dictionary_window_size", m.glz_dictionary_window_size);
}

void fields(JsonWriter& w, const StreamReport& m) {
    w.field("stream_id", m.stream_id);
    w.field("unique_id", m.unique_id);
    w.field("start_frame_mm_time", m.start_frame_mm_time);
    w.field("end_frame_mm_time", m.end_frame_mm_time);
    w.field("num_frames", m.num_frames);
    w.field("num_drops", m.num_drops);
    w.field("last_frame_delay", m.last_frame_delay);
    w.field("audio_delay", m.audio_delay);
}

void fields(JsonWriter& w, const PreferredCompression& m) {
    enum_field(w, "image_compression", image_compression_name(m.image_compression),
               m.image_compression);
}

void fields(JsonWriter& w, const PreferredVideoCodecType& m) {
    w.field("num_of_codecs", uint64_t{m.codecs.size()});
    w.key("codecs").begin_array();
    for (uint8_t c : m.codecs) {
        const std::string_view name = video_codec_name(c);
        if (name.empty()) {
            w.value(fmt::format("unknown_{}", c));
        } else {
            w.value(name);
        }
    }
    w.end_array();
}

}  // namespace

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit([&w](const auto& m) { fields(w, m); }, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit([&w](const auto& m) { fields(w, m); }, msg);
}

}  // namespace spicetap::channels::display
