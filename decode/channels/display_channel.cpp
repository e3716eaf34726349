// Display channel message demarshallers: one reader per message, dispatched by type id.
#include "decode/channels/display_channel.h"

#include <fmt/core.h>

#include "decode/channels/display_parse.h"

namespace spicetap::channels::display {

namespace {

using detail::Ctx;
using detail::read_base;
using detail::read_brush;
using detail::read_clip;
using detail::read_image_ptr;
using detail::read_point;
using detail::read_point16;
using detail::read_qmask;
using detail::read_rect;
using detail::read_transform;

// Whose announcement makes a message legal: the receiver's for what the server pushes, the
// server's for client preferences, and the client's own for replies to gated server messages.
enum class Announcer { Client, Server };

struct CapRule {
    unsigned bit;
    Announcer by;
    std::string_view cap_name;
};

std::optional<CapRule> server_rule(uint16_t type) {
    switch (type) {
        case StreamDataSized::kType:
            return CapRule{cap::kSizedStream, Announcer::Client, "sized_stream"};
        case MonitorsConfig::kType:
            return CapRule{cap::kMonitorsConfig, Announcer::Client, "monitors_config"};
        case DrawComposite::kType:
            return CapRule{cap::kComposite, Announcer::Client, "composite"};
        case StreamActivateReport::kType:
            return CapRule{cap::kStreamReport, Announcer::Client, "stream_report"};
        case GlScanoutUnix::kType:
        case GlDraw::kType:
            return CapRule{cap::kGlScanout, Announcer::Client, "gl_scanout"};
        default:
            return std::nullopt;
    }
}

std::optional<CapRule> client_rule(uint16_t type) {
    switch (type) {
        case StreamReport::kType:
            return CapRule{cap::kStreamReport, Announcer::Client, "stream_report"};
        case PreferredCompression::kType:
            return CapRule{cap::kPrefCompression, Announcer::Server, "pref_compression"};
        case GlDrawDone::kType:
            return CapRule{cap::kGlScanout, Announcer::Client, "gl_scanout"};
        case PreferredVideoCodecType::kType:
            return CapRule{cap::kPrefVideoCodecType, Announcer::Server, "pref_video_codec_type"};
        default:
            return std::nullopt;
    }
}

// A capability counts as missing only when that side's display caps are known at all.
bool announced(const wire::ChannelCaps& caps, Announcer by, unsigned bit) {
    const auto& words = by == Announcer::Client ? caps.client_channel : caps.server_channel;
    return words.empty() || wire::cap_bit(words, bit);
}

std::optional<DecodeError> check_caps(std::optional<CapRule> rule, const wire::ChannelCaps& caps,
                                      std::string_view name) {
    if (!rule || announced(caps, rule->by, rule->bit)) {
        return std::nullopt;
    }
    return make_error(
        Errc::BadValue, 0,
        fmt::format("{}: the {} did not announce display capability {}", name,
                    rule->by == Announcer::Client ? "client" : "server", rule->cap_name));
}

template <typename T>
Result<T> finish(Ctx& ctx, T&& value) {
    if (ctx.failed()) {
        return ctx.error();
    }
    return std::forward<T>(value);
}

// Fixed-size messages: read every field, then one truncation check naming the message.
template <typename T, typename Fill>
Result<T> read_fixed(Ctx& ctx, Fill fill) {
    ByteReader r(ctx.body());
    T m;
    fill(r, m);
    ctx.check(r, "body");
    return finish(ctx, std::move(m));
}

// Rest-of-body arrays whose length comes from a count field.
bool read_stream_data(Ctx& ctx, ByteReader& r, ByteView& out) {
    const uint32_t size = r.u32();
    if (!ctx.fits(r, size, 1, "data")) {
        return false;
    }
    out = r.bytes(size);
    return ctx.check(r, "data");
}

Result<CopyBits> parse_copy_bits(Ctx& ctx) {
    ByteReader r(ctx.body());
    CopyBits m;
    if (read_base(ctx, r, m.base)) {
        m.src_pos = read_point(r);
        ctx.check(r, "src_pos");
    }
    return finish(ctx, std::move(m));
}

Result<InvalList> parse_inval_list(Ctx& ctx) {
    ByteReader r(ctx.body());
    InvalList m;
    const uint16_t count = r.u16();
    if (ctx.fits(r, count, 9, "resources")) {
        m.resources.reserve(count);
        for (unsigned i = 0; i < count; ++i) {
            ResourceId res;
            res.type = r.u8();
            res.id = r.u64();
            m.resources.push_back(res);
        }
        ctx.check(r, "resources");
    }
    return finish(ctx, std::move(m));
}

Result<InvalAllPixmaps> parse_inval_all_pixmaps(Ctx& ctx) {
    ByteReader r(ctx.body());
    InvalAllPixmaps m;
    const uint8_t count = r.u8();
    if (ctx.fits(r, count, 10, "wait_list")) {
        m.wait_list.reserve(count);
        for (unsigned i = 0; i < count; ++i) {
            WaitForChannel wait;
            wait.channel_type = r.u8();
            wait.channel_id = r.u8();
            wait.message_serial = r.u64();
            m.wait_list.push_back(wait);
        }
        ctx.check(r, "wait_list");
    }
    return finish(ctx, std::move(m));
}

Result<StreamCreate> parse_stream_create(Ctx& ctx) {
    ByteReader r(ctx.body());
    StreamCreate m;
    m.surface_id = r.u32();
    m.id = r.u32();
    m.flags = r.u8();
    m.codec_type = r.u8();
    m.stamp = r.u64();
    m.stream_width = r.u32();
    m.stream_height = r.u32();
    m.src_width = r.u32();
    m.src_height = r.u32();
    m.dest = read_rect(r);
    if (ctx.check(r, "header")) {
        read_clip(ctx, r, m.clip, "clip");
    }
    return finish(ctx, std::move(m));
}

Result<StreamData> parse_stream_data(Ctx& ctx) {
    ByteReader r(ctx.body());
    StreamData m;
    m.id = r.u32();
    m.multi_media_time = r.u32();
    read_stream_data(ctx, r, m.data);
    return finish(ctx, std::move(m));
}

Result<StreamClip> parse_stream_clip(Ctx& ctx) {
    ByteReader r(ctx.body());
    StreamClip m;
    m.id = r.u32();
    if (ctx.check(r, "id")) {
        read_clip(ctx, r, m.clip, "clip");
    }
    return finish(ctx, std::move(m));
}

Result<DrawFill> parse_draw_fill(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawFill m;
    if (read_base(ctx, r, m.base) && read_brush(ctx, r, m.brush, "brush")) {
        m.rop_descriptor = r.u16();
        if (ctx.check(r, "rop_descriptor")) {
            read_qmask(ctx, r, m.mask, "mask");
        }
    }
    return finish(ctx, std::move(m));
}

Result<DrawOpaque> parse_draw_opaque(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawOpaque m;
    if (read_base(ctx, r, m.base) && read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
        m.src_area = read_rect(r);
        if (ctx.check(r, "src_area") && read_brush(ctx, r, m.brush, "brush")) {
            m.rop_descriptor = r.u16();
            m.scale_mode = r.u8();
            if (ctx.check(r, "rop_descriptor")) {
                read_qmask(ctx, r, m.mask, "mask");
            }
        }
    }
    return finish(ctx, std::move(m));
}

template <typename T>
Result<T> parse_copy_like(Ctx& ctx) {
    ByteReader r(ctx.body());
    T m;
    if (read_base(ctx, r, m.base) && read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
        m.src_area = read_rect(r);
        m.rop_descriptor = r.u16();
        m.scale_mode = r.u8();
        if (ctx.check(r, "src_area")) {
            read_qmask(ctx, r, m.mask, "mask");
        }
    }
    return finish(ctx, std::move(m));
}

template <typename T>
Result<T> parse_mask_only(Ctx& ctx) {
    ByteReader r(ctx.body());
    T m;
    if (read_base(ctx, r, m.base)) {
        read_qmask(ctx, r, m.mask, "mask");
    }
    return finish(ctx, std::move(m));
}

Result<DrawRop3> parse_draw_rop3(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawRop3 m;
    if (read_base(ctx, r, m.base) && read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
        m.src_area = read_rect(r);
        if (ctx.check(r, "src_area") && read_brush(ctx, r, m.brush, "brush")) {
            m.rop3 = r.u8();
            m.scale_mode = r.u8();
            if (ctx.check(r, "rop3")) {
                read_qmask(ctx, r, m.mask, "mask");
            }
        }
    }
    return finish(ctx, std::move(m));
}

Result<DrawStroke> parse_draw_stroke(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawStroke m;
    if (read_base(ctx, r, m.base) && detail::read_path_ptr(ctx, r, m.path, "path") &&
        detail::read_line_attr(ctx, r, m.attr, "attr") && read_brush(ctx, r, m.brush, "brush")) {
        m.fore_mode = r.u16();
        m.back_mode = r.u16();
        ctx.check(r, "fore_mode/back_mode");
    }
    return finish(ctx, std::move(m));
}

Result<DrawText> parse_draw_text(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawText m;
    if (read_base(ctx, r, m.base) && detail::read_string_ptr(ctx, r, m.str, "str")) {
        m.back_area = read_rect(r);
        if (ctx.check(r, "back_area") && read_brush(ctx, r, m.fore_brush, "fore_brush") &&
            read_brush(ctx, r, m.back_brush, "back_brush")) {
            m.fore_mode = r.u16();
            m.back_mode = r.u16();
            ctx.check(r, "fore_mode/back_mode");
        }
    }
    return finish(ctx, std::move(m));
}

Result<DrawTransparent> parse_draw_transparent(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawTransparent m;
    if (read_base(ctx, r, m.base) && read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
        m.src_area = read_rect(r);
        m.src_color = r.u32();
        m.true_color = r.u32();
        ctx.check(r, "src_area/src_color/true_color");
    }
    return finish(ctx, std::move(m));
}

Result<DrawAlphaBlend> parse_draw_alpha_blend(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawAlphaBlend m;
    if (read_base(ctx, r, m.base)) {
        m.alpha_flags = r.u8();
        m.alpha = r.u8();
        if (ctx.check(r, "alpha_flags/alpha") &&
            read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
            m.src_area = read_rect(r);
            ctx.check(r, "src_area");
        }
    }
    return finish(ctx, std::move(m));
}

Result<StreamDataSized> parse_stream_data_sized(Ctx& ctx) {
    ByteReader r(ctx.body());
    StreamDataSized m;
    m.id = r.u32();
    m.multi_media_time = r.u32();
    m.width = r.u32();
    m.height = r.u32();
    m.dest = read_rect(r);
    read_stream_data(ctx, r, m.data);
    return finish(ctx, std::move(m));
}

Result<MonitorsConfig> parse_monitors_config(Ctx& ctx) {
    ByteReader r(ctx.body());
    MonitorsConfig m;
    const uint16_t count = r.u16();
    m.max_allowed = r.u16();
    if (ctx.fits(r, count, 28, "heads")) {
        m.heads.reserve(count);
        for (unsigned i = 0; i < count; ++i) {
            Head h;
            h.monitor_id = r.u32();
            h.surface_id = r.u32();
            h.width = r.u32();
            h.height = r.u32();
            h.x = r.u32();
            h.y = r.u32();
            h.flags = r.u32();
            m.heads.push_back(h);
        }
        ctx.check(r, "heads");
    }
    return finish(ctx, std::move(m));
}

Result<DrawComposite> parse_draw_composite(Ctx& ctx) {
    ByteReader r(ctx.body());
    DrawComposite m;
    if (!read_base(ctx, r, m.base)) {
        return finish(ctx, std::move(m));
    }
    m.flags = r.u32();
    if (!ctx.check(r, "flags") || !read_image_ptr(ctx, r, m.src_bitmap, "src_bitmap", false)) {
        return finish(ctx, std::move(m));
    }
    if (m.flags & composite_flags::kHasMask) {
        if (!read_image_ptr(ctx, r, m.mask_bitmap, "mask_bitmap", false)) {
            return finish(ctx, std::move(m));
        }
    }
    if (m.flags & composite_flags::kHasSrcTransform) {
        m.src_transform = read_transform(r);
    }
    if (m.flags & composite_flags::kHasMaskTransform) {
        m.mask_transform = read_transform(r);
    }
    m.src_origin = read_point16(r);
    m.mask_origin = read_point16(r);
    ctx.check(r, "transforms/origins");
    return finish(ctx, std::move(m));
}

Result<QualityIndicator> parse_quality_indicator(Ctx& ctx) {
    ByteReader r(ctx.body());
    QualityIndicator m;
    m.data = r.rest();
    return finish(ctx, std::move(m));
}

template <typename T>
Result<ServerMessage> widen(Result<T>&& r) {
    if (!r) {
        return r.error();
    }
    return ServerMessage(std::move(*r));
}

template <typename T>
Result<ClientMessage> widen_client(Result<T>&& r) {
    if (!r) {
        return r.error();
    }
    return ClientMessage(std::move(*r));
}

std::string_view server_name(uint16_t type) {
    switch (type) {
        case Mode::kType:
            return "mode";
        case Mark::kType:
            return "mark";
        case Reset::kType:
            return "reset";
        case CopyBits::kType:
            return "copy_bits";
        case InvalList::kType:
            return "inval_list";
        case InvalAllPixmaps::kType:
            return "inval_all_pixmaps";
        case InvalPalette::kType:
            return "inval_palette";
        case InvalAllPalettes::kType:
            return "inval_all_palettes";
        case StreamCreate::kType:
            return "stream_create";
        case StreamData::kType:
            return "stream_data";
        case StreamClip::kType:
            return "stream_clip";
        case StreamDestroy::kType:
            return "stream_destroy";
        case StreamDestroyAll::kType:
            return "stream_destroy_all";
        case DrawFill::kType:
            return "draw_fill";
        case DrawOpaque::kType:
            return "draw_opaque";
        case DrawCopy::kType:
            return "draw_copy";
        case DrawBlend::kType:
            return "draw_blend";
        case DrawBlackness::kType:
            return "draw_blackness";
        case DrawWhiteness::kType:
            return "draw_whiteness";
        case DrawInvers::kType:
            return "draw_invers";
        case DrawRop3::kType:
            return "draw_rop3";
        case DrawStroke::kType:
            return "draw_stroke";
        case DrawText::kType:
            return "draw_text";
        case DrawTransparent::kType:
            return "draw_transparent";
        case DrawAlphaBlend::kType:
            return "draw_alpha_blend";
        case SurfaceCreate::kType:
            return "surface_create";
        case SurfaceDestroy::kType:
            return "surface_destroy";
        case StreamDataSized::kType:
            return "stream_data_sized";
        case MonitorsConfig::kType:
            return "monitors_config";
        case DrawComposite::kType:
            return "draw_composite";
        case StreamActivateReport::kType:
            return "stream_activate_report";
        case GlScanoutUnix::kType:
            return "gl_scanout_unix";
        case GlDraw::kType:
            return "gl_draw";
        case QualityIndicator::kType:
            return "quality_indicator";
        default:
            return {};
    }
}

std::string_view client_name(uint16_t type) {
    switch (type) {
        case Init::kType:
            return "init";
        case StreamReport::kType:
            return "stream_report";
        case PreferredCompression::kType:
            return "preferred_compression";
        case GlDrawDone::kType:
            return "gl_draw_done";
        case PreferredVideoCodecType::kType:
            return "preferred_video_codec_type";
        default:
            return {};
    }
}

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    const std::string_view name = server_name(type);
    if (name.empty()) {
        return make_error(Errc::Unsupported, 0,
                          fmt::format("unknown display message type {}", type));
    }
    if (auto err = check_caps(server_rule(type), caps, name)) {
        return *err;
    }
    Ctx ctx(body, name, announced(caps, Announcer::Client, cap::kLz4Compression));
    switch (type) {
        case Mode::kType:
            return widen(read_fixed<Mode>(ctx, [](ByteReader& r, Mode& m) {
                m.x_res = r.u32();
                m.y_res = r.u32();
                m.bits = r.u32();
            }));
        case Mark::kType:
            return ServerMessage(Mark{});
        case Reset::kType:
            return ServerMessage(Reset{});
        case CopyBits::kType:
            return widen(parse_copy_bits(ctx));
        case InvalList::kType:
            return widen(parse_inval_list(ctx));
        case InvalAllPixmaps::kType:
            return widen(parse_inval_all_pixmaps(ctx));
        case InvalPalette::kType:
            return widen(read_fixed<InvalPalette>(
                ctx, [](ByteReader& r, InvalPalette& m) { m.id = r.u64(); }));
        case InvalAllPalettes::kType:
            return ServerMessage(InvalAllPalettes{});
        case StreamCreate::kType:
            return widen(parse_stream_create(ctx));
        case StreamData::kType:
            return widen(parse_stream_data(ctx));
        case StreamClip::kType:
            return widen(parse_stream_clip(ctx));
        case StreamDestroy::kType:
            return widen(read_fixed<StreamDestroy>(
                ctx, [](ByteReader& r, StreamDestroy& m) { m.id = r.u32(); }));
        case StreamDestroyAll::kType:
            return ServerMessage(StreamDestroyAll{});
        case DrawFill::kType:
            return widen(parse_draw_fill(ctx));
        case DrawOpaque::kType:
            return widen(parse_draw_opaque(ctx));
        case DrawCopy::kType:
            return widen(parse_copy_like<DrawCopy>(ctx));
        case DrawBlend::kType:
            return widen(parse_copy_like<DrawBlend>(ctx));
        case DrawBlackness::kType:
            return widen(parse_mask_only<DrawBlackness>(ctx));
        case DrawWhiteness::kType:
            return widen(parse_mask_only<DrawWhiteness>(ctx));
        case DrawInvers::kType:
            return widen(parse_mask_only<DrawInvers>(ctx));
        case DrawRop3::kType:
            return widen(parse_draw_rop3(ctx));
        case DrawStroke::kType:
            return widen(parse_draw_stroke(ctx));
        case DrawText::kType:
            return widen(parse_draw_text(ctx));
        case DrawTransparent::kType:
            return widen(parse_draw_transparent(ctx));
        case DrawAlphaBlend::kType:
            return widen(parse_draw_alpha_blend(ctx));
        case SurfaceCreate::kType:
            return widen(read_fixed<SurfaceCreate>(ctx, [](ByteReader& r, SurfaceCreate& m) {
                m.surface_id = r.u32();
                m.width = r.u32();
                m.height = r.u32();
                m.format = r.u32();
                m.flags = r.u32();
            }));
        case SurfaceDestroy::kType:
            return widen(read_fixed<SurfaceDestroy>(
                ctx, [](ByteReader& r, SurfaceDestroy& m) { m.surface_id = r.u32(); }));
        case StreamDataSized::kType:
            return widen(parse_stream_data_sized(ctx));
        case MonitorsConfig::kType:
            return widen(parse_monitors_config(ctx));
        case DrawComposite::kType:
            return widen(parse_draw_composite(ctx));
        case StreamActivateReport::kType:
            return widen(
                read_fixed<StreamActivateReport>(ctx, [](ByteReader& r, StreamActivateReport& m) {
                    m.stream_id = r.u32();
                    m.unique_id = r.u32();
                    m.max_window_size = r.u32();
                    m.timeout_ms = r.u32();
                }));
        case GlScanoutUnix::kType:
            return widen(read_fixed<GlScanoutUnix>(ctx, [](ByteReader& r, GlScanoutUnix& m) {
                m.width = r.u32();
                m.height = r.u32();
                m.stride = r.u32();
                m.drm_fourcc_format = r.u32();
                m.flags = r.u32();
            }));
        case GlDraw::kType:
            return widen(read_fixed<GlDraw>(ctx, [](ByteReader& r, GlDraw& m) {
                m.x = r.u32();
                m.y = r.u32();
                m.w = r.u32();
                m.h = r.u32();
            }));
        case QualityIndicator::kType:
            return widen(parse_quality_indicator(ctx));
        default:
            break;
    }
    return make_error(Errc::Unsupported, 0, fmt::format("unknown display message type {}", type));
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    const std::string_view name = client_name(type);
    if (name.empty()) {
        return make_error(Errc::Unsupported, 0,
                          fmt::format("unknown display message type {}", type));
    }
    if (auto err = check_caps(client_rule(type), caps, name)) {
        return *err;
    }
    Ctx ctx(body, name, true);
    switch (type) {
        case Init::kType:
            return widen_client(read_fixed<Init>(ctx, [](ByteReader& r, Init& m) {
                m.pixmap_cache_id = r.u8();
                m.pixmap_cache_size = r.i64();
                m.glz_dictionary_id = r.u8();
                m.glz_dictionary_window_size = r.i32();
            }));
        case StreamReport::kType:
            return widen_client(read_fixed<StreamReport>(ctx, [](ByteReader& r, StreamReport& m) {
                m.stream_id = r.u32();
                m.unique_id = r.u32();
                m.start_frame_mm_time = r.u32();
                m.end_frame_mm_time = r.u32();
                m.num_frames = r.u32();
                m.num_drops = r.u32();
                m.last_frame_delay = r.i32();
                m.audio_delay = r.u32();
            }));
        case PreferredCompression::kType:
            return widen_client(read_fixed<PreferredCompression>(
                ctx, [](ByteReader& r, PreferredCompression& m) { m.image_compression = r.u8(); }));
        case GlDrawDone::kType:
            return ClientMessage(GlDrawDone{});
        case PreferredVideoCodecType::kType: {
            ByteReader r(body);
            PreferredVideoCodecType m;
            const uint8_t count = r.u8();
            if (ctx.fits(r, count, 1, "codecs")) {
                const ByteView codecs = r.bytes(count);
                m.codecs.assign(codecs.begin(), codecs.end());
            }
            return widen_client(finish(ctx, std::move(m)));
        }
        default:
            break;
    }
    return make_error(Errc::Unsupported, 0, fmt::format("unknown display message type {}", type));
}

uint16_t message_type(const ServerMessage& msg) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, msg);
}

uint16_t message_type(const ClientMessage& msg) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, msg);
}

}  // namespace spicetap::channels::display
