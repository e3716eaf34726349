// Display channel demarshallers: every message built from spice.proto's layout with known
// values, malformed input (bad pointers, lengths, every truncation), JSON shape, and bodies
// taken from real QEMU <-> spicy captures.
#include "decode/channels/display_channel.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "decode/wire/json_writer.h"
#include "tests/support/paths.h"

namespace sd = spicetap::channels::display;
using spicetap::ByteView;
using spicetap::Errc;

namespace {

// Writes little-endian fields; pointer fields are reserved and patched once their target's
// position is known.
class Builder {
public:
    Builder& u8(uint8_t v) { return le(v, 1); }

    Builder& u16(uint16_t v) { return le(v, 2); }

    Builder& u32(uint32_t v) { return le(v, 4); }

    Builder& u64(uint64_t v) { return le(v, 8); }

    Builder& i16(int16_t v) { return le(static_cast<uint16_t>(v), 2); }

    Builder& i32(int32_t v) { return le(static_cast<uint32_t>(v), 4); }

    Builder& i64(int64_t v) { return le(static_cast<uint64_t>(v), 8); }

    Builder& rect(int32_t top, int32_t left, int32_t bottom, int32_t right) {
        return i32(top).i32(left).i32(bottom).i32(right);
    }

    Builder& point(int32_t x, int32_t y) { return i32(x).i32(y); }

    Builder& fill(size_t n, uint8_t v) {
        bytes_.insert(bytes_.end(), n, v);
        return *this;
    }

    // A pointer field to patch later; returns its position.
    size_t ptr() {
        const size_t at = bytes_.size();
        u32(0);
        return at;
    }

    // Makes the pointer at `field` point at the current end.
    Builder& here(size_t field) { return set_u32(field, static_cast<uint32_t>(bytes_.size())); }

    Builder& set_u32(size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            bytes_[at + i] = static_cast<uint8_t>(v >> (8 * i));
        }
        return *this;
    }

    size_t size() const { return bytes_.size(); }

    const std::vector<uint8_t>& bytes() const { return bytes_; }

    // DisplayBase: surface 7, box (10,20,110,220), clip with two rects.
    Builder& base() {
        u32(7).rect(10, 20, 110, 220);
        u8(1).u32(2).rect(10, 20, 60, 120).rect(60, 20, 110, 220);
        return *this;
    }

private:
    Builder& le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) {
            bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
        return *this;
    }

    std::vector<uint8_t> bytes_;
};

// An image descriptor followed by a QUIC payload of `n` bytes.
void quic_image(Builder& b, uint64_t id, size_t n) {
    b.u64(id).u8(1).u8(1).u32(64).u32(32);
    b.u32(static_cast<uint32_t>(n)).fill(n, 0xab);
}

spicetap::wire::ChannelCaps all_caps() {
    spicetap::wire::ChannelCaps caps;
    caps.client_common = caps.server_common = {0xf};
    caps.client_channel = caps.server_channel = {0xffff};
    return caps;
}

sd::ServerMessage server_ok(uint16_t type, const std::vector<uint8_t>& body) {
    auto r = sd::parse_server(type, ByteView(body), all_caps());
    INFO((r ? std::string("ok") : r.error().message()));
    REQUIRE(r.has_value());
    CHECK(sd::message_type(*r) == type);
    return std::move(*r);
}

sd::ClientMessage client_ok(uint16_t type, const std::vector<uint8_t>& body) {
    auto r = sd::parse_client(type, ByteView(body), all_caps());
    INFO((r ? std::string("ok") : r.error().message()));
    REQUIRE(r.has_value());
    CHECK(sd::message_type(*r) == type);
    return std::move(*r);
}

spicetap::DecodeError server_err(uint16_t type, const std::vector<uint8_t>& body,
                                 const spicetap::wire::ChannelCaps& caps = all_caps()) {
    auto r = sd::parse_server(type, ByteView(body), caps);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

// Every strict prefix of a message whose bytes all belong to its layout must be an error.
void every_truncation_fails(uint16_t type, const std::vector<uint8_t>& body, bool client = false) {
    for (size_t n = 0; n < body.size(); ++n) {
        std::vector<uint8_t> cut(body.begin(), body.begin() + static_cast<long>(n));
        const bool ok = client ? sd::parse_client(type, ByteView(cut), all_caps()).has_value()
                               : sd::parse_server(type, ByteView(cut), all_caps()).has_value();
        INFO("type " << type << " truncated to " << n << " of " << body.size());
        CHECK_FALSE(ok);
    }
}

std::string json_of(const sd::ServerMessage& m) {
    std::string out;
    spicetap::JsonWriter w(out);
    w.begin_object();
    sd::write_json(m, w);
    w.end_object();
    return out;
}

std::string json_of(const sd::ClientMessage& m) {
    std::string out;
    spicetap::JsonWriter w(out);
    w.begin_object();
    sd::write_json(m, w);
    w.end_object();
    return out;
}

void check_base(const sd::DisplayBase& b) {
    CHECK(b.surface_id == 7);
    CHECK(b.box.top == 10);
    CHECK(b.box.left == 20);
    CHECK(b.box.bottom == 110);
    CHECK(b.box.right == 220);
    REQUIRE(b.clip.type == 1);
    REQUIRE(b.clip.rects.size() == 2);
    CHECK(b.clip.rects[1].top == 60);
    CHECK(b.clip.rects[1].right == 220);
}

void check_quic(const std::optional<sd::Image>& img, uint64_t id, size_t n) {
    REQUIRE(img.has_value());
    CHECK(img->descriptor.id == id);
    CHECK(img->type() == sd::ImageType::Quic);
    CHECK(img->descriptor.flags == 1);
    CHECK(img->descriptor.width == 64);
    CHECK(img->descriptor.height == 32);
    REQUIRE(std::holds_alternative<sd::BinaryData>(img->payload));
    CHECK(img->data().size() == n);
    CHECK((n == 0 || img->data()[0] == 0xab));
}

// A mask pointing at a 1-bpp bitmap image.
void mask_with_bitmap(Builder& b, size_t& mask_ptr) {
    b.u8(1).point(3, 4);
    mask_ptr = b.ptr();
}

void mask_bitmap_image(Builder& b) {
    // 1BIT_BE, TOP_DOWN, 8x2, stride 1, NULL palette, 2 data bytes.
    b.u64(0x99).u8(0).u8(0).u32(8).u32(2);
    b.u8(2).u8(4).u32(8).u32(2).u32(1).u32(0).u8(0xf0).u8(0x0f);
}

void check_mask(const sd::QMask& m) {
    CHECK(m.flags == 1);
    CHECK(m.pos.x == 3);
    CHECK(m.pos.y == 4);
    REQUIRE(m.bitmap.has_value());
    CHECK(m.bitmap->descriptor.id == 0x99);
    const auto& bmp = std::get<sd::BitmapData>(m.bitmap->payload);
    CHECK(bmp.format == 2);
    CHECK(bmp.flags == 4);
    CHECK(bmp.x == 8);
    CHECK(bmp.y == 2);
    CHECK(bmp.stride == 1);
    CHECK_FALSE(bmp.palette.palette.has_value());
    REQUIRE(bmp.data.size() == 2);
    CHECK(bmp.data[1] == 0x0f);
}

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path vectors() {
    return spicetap::test::source_dir() / "tests/decode/channels/vectors/display";
}

}  // namespace

TEST_CASE("display: fixed-size server messages", "[display]") {
    SECTION("mode") {
        Builder b;
        b.u32(1024).u32(768).u32(32);
        auto m = std::get<sd::Mode>(server_ok(101, b.bytes()));
        CHECK(m.x_res == 1024);
        CHECK(m.y_res == 768);
        CHECK(m.bits == 32);
        every_truncation_fails(101, b.bytes());
    }
    SECTION("empty messages") {
        for (uint16_t t : {102, 103, 108, 126}) {
            CHECK(sd::message_type(server_ok(t, {})) == t);
        }
    }
    SECTION("inval_palette") {
        Builder b;
        b.u64(0x1122334455667788);
        CHECK(std::get<sd::InvalPalette>(server_ok(107, b.bytes())).id == 0x1122334455667788);
        every_truncation_fails(107, b.bytes());
    }
    SECTION("stream_destroy") {
        Builder b;
        b.u32(12);
        CHECK(std::get<sd::StreamDestroy>(server_ok(125, b.bytes())).id == 12);
        every_truncation_fails(125, b.bytes());
    }
    SECTION("surface_create / surface_destroy") {
        Builder b;
        b.u32(3).u32(1280).u32(800).u32(32).u32(1);
        auto m = std::get<sd::SurfaceCreate>(server_ok(314, b.bytes()));
        CHECK(m.surface_id == 3);
        CHECK(m.width == 1280);
        CHECK(m.height == 800);
        CHECK(m.format == 32);
        CHECK(m.flags == 1);
        every_truncation_fails(314, b.bytes());
        Builder d;
        d.u32(3);
        CHECK(std::get<sd::SurfaceDestroy>(server_ok(315, d.bytes())).surface_id == 3);
        every_truncation_fails(315, d.bytes());
    }
    SECTION("stream_activate_report") {
        Builder b;
        b.u32(5).u32(0xdead).u32(100).u32(1000);
        auto m = std::get<sd::StreamActivateReport>(server_ok(319, b.bytes()));
        CHECK(m.stream_id == 5);
        CHECK(m.unique_id == 0xdead);
        CHECK(m.max_window_size == 100);
        CHECK(m.timeout_ms == 1000);
        every_truncation_fails(319, b.bytes());
    }
    SECTION("gl_scanout_unix / gl_draw") {
        Builder b;
        b.u32(1920).u32(1080).u32(7680).u32(0x34325258).u32(1);
        auto m = std::get<sd::GlScanoutUnix>(server_ok(320, b.bytes()));
        CHECK(m.width == 1920);
        CHECK(m.height == 1080);
        CHECK(m.stride == 7680);
        CHECK(m.drm_fourcc_format == 0x34325258);
        CHECK(m.flags == 1);
        every_truncation_fails(320, b.bytes());
        Builder g;
        g.u32(1).u32(2).u32(3).u32(4);
        auto d = std::get<sd::GlDraw>(server_ok(321, g.bytes()));
        CHECK(d.x == 1);
        CHECK(d.y == 2);
        CHECK(d.w == 3);
        CHECK(d.h == 4);
        every_truncation_fails(321, g.bytes());
    }
    SECTION("quality_indicator is the rest of the body") {
        const std::vector<uint8_t> body = {'q', '=', '5'};
        auto m = std::get<sd::QualityIndicator>(server_ok(322, body));
        CHECK(m.data.size() == 3);
        CHECK(json_of(sd::ServerMessage(m)) == R"({"data_size":3,"data":"713d35"})");
    }
}

TEST_CASE("display: lists and streams", "[display]") {
    SECTION("copy_bits") {
        Builder b;
        b.base().point(-5, 6);
        auto m = std::get<sd::CopyBits>(server_ok(104, b.bytes()));
        check_base(m.base);
        CHECK(m.src_pos.x == -5);
        CHECK(m.src_pos.y == 6);
        every_truncation_fails(104, b.bytes());
    }
    SECTION("inval_list") {
        Builder b;
        b.u16(2).u8(1).u64(100).u8(1).u64(0xffffffffffffffff);
        auto m = std::get<sd::InvalList>(server_ok(105, b.bytes()));
        REQUIRE(m.resources.size() == 2);
        CHECK(m.resources[0].type == 1);
        CHECK(m.resources[0].id == 100);
        CHECK(m.resources[1].id == 0xffffffffffffffff);
        every_truncation_fails(105, b.bytes());
        CHECK(json_of(sd::ServerMessage(m)) ==
              R"({"count":2,"resources":[{"type":"pixmap","id":100},)"
              R"({"type":"pixmap","id":18446744073709551615}]})");
    }
    SECTION("inval_all_pixmaps") {
        Builder b;
        b.u8(1).u8(2).u8(1).u64(42);
        auto m = std::get<sd::InvalAllPixmaps>(server_ok(106, b.bytes()));
        REQUIRE(m.wait_list.size() == 1);
        CHECK(m.wait_list[0].channel_type == 2);
        CHECK(m.wait_list[0].channel_id == 1);
        CHECK(m.wait_list[0].message_serial == 42);
        every_truncation_fails(106, b.bytes());
    }
    SECTION("stream_create") {
        Builder b;
        b.u32(0).u32(9).u8(1).u8(3).u64(777).u32(640).u32(480).u32(320).u32(240);
        b.rect(1, 2, 481, 642).u8(1).u32(1).rect(1, 2, 100, 200);
        auto m = std::get<sd::StreamCreate>(server_ok(122, b.bytes()));
        CHECK(m.surface_id == 0);
        CHECK(m.id == 9);
        CHECK(m.flags == 1);
        CHECK(m.codec_type == 3);
        CHECK(m.stamp == 777);
        CHECK(m.stream_width == 640);
        CHECK(m.stream_height == 480);
        CHECK(m.src_width == 320);
        CHECK(m.src_height == 240);
        CHECK(m.dest.top == 1);
        CHECK(m.dest.left == 2);
        CHECK(m.dest.bottom == 481);
        CHECK(m.dest.right == 642);
        REQUIRE(m.clip.rects.size() == 1);
        CHECK(m.clip.rects[0].right == 200);
        every_truncation_fails(122, b.bytes());
    }
    SECTION("stream_data and stream_data_sized") {
        Builder b;
        b.u32(9).u32(123456).u32(5).fill(5, 0xee);
        auto m = std::get<sd::StreamData>(server_ok(123, b.bytes()));
        CHECK(m.id == 9);
        CHECK(m.multi_media_time == 123456);
        CHECK(m.data.size() == 5);
        every_truncation_fails(123, b.bytes());

        Builder s;
        s.u32(9).u32(123457).u32(800).u32(600).rect(0, 0, 600, 800).u32(4).fill(4, 1);
        auto z = std::get<sd::StreamDataSized>(server_ok(316, s.bytes()));
        CHECK(z.id == 9);
        CHECK(z.multi_media_time == 123457);
        CHECK(z.width == 800);
        CHECK(z.height == 600);
        CHECK(z.dest.bottom == 600);
        CHECK(z.dest.right == 800);
        CHECK(z.data.size() == 4);
        every_truncation_fails(316, s.bytes());
    }
    SECTION("stream_clip") {
        Builder b;
        b.u32(4).u8(0);
        auto m = std::get<sd::StreamClip>(server_ok(124, b.bytes()));
        CHECK(m.id == 4);
        CHECK(m.clip.type == 0);
        CHECK(m.clip.rects.empty());
        every_truncation_fails(124, b.bytes());
    }
    SECTION("monitors_config") {
        Builder b;
        b.u16(2).u16(4);
        b.u32(0).u32(0).u32(1024).u32(768).u32(0).u32(0).u32(0);
        b.u32(1).u32(0).u32(800).u32(600).u32(1024).u32(0).u32(0);
        auto m = std::get<sd::MonitorsConfig>(server_ok(317, b.bytes()));
        CHECK(m.max_allowed == 4);
        REQUIRE(m.heads.size() == 2);
        CHECK(m.heads[1].monitor_id == 1);
        CHECK(m.heads[1].width == 800);
        CHECK(m.heads[1].height == 600);
        CHECK(m.heads[1].x == 1024);
        CHECK(m.heads[1].y == 0);
        every_truncation_fails(317, b.bytes());
    }
}

TEST_CASE("display: draw_copy with every image type", "[display]") {
    // draw_copy: base, src_bitmap*, src_area, rop_descriptor, scale_mode, mask.
    auto build = [](auto&& write_image) {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 32, 64).u16(8).u8(1);
        size_t mask = 0;
        mask_with_bitmap(b, mask);
        b.here(src);
        write_image(b);
        b.here(mask);
        mask_bitmap_image(b);
        return b;
    };

    SECTION("quic") {
        Builder b = build([](Builder& x) { quic_image(x, 0x1234, 10); });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        check_base(m.base);
        check_quic(m.src_bitmap, 0x1234, 10);
        CHECK(m.src_area.bottom == 32);
        CHECK(m.src_area.right == 64);
        CHECK(m.rop_descriptor == 8);
        CHECK(m.scale_mode == 1);
        check_mask(m.mask);
        every_truncation_fails(304, b.bytes());
    }
    SECTION("bitmap with an inline palette") {
        Builder b = build([](Builder& x) {
            x.u64(5).u8(0).u8(0).u32(2).u32(2);
            x.u8(5).u8(1).u32(2).u32(2).u32(4);
            const size_t pal = x.ptr();
            x.fill(8, 7);
            x.here(pal);
            x.u64(0xabc).u16(2).u32(0xff0000).u32(0x00ff00);
        });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        const auto& bmp = std::get<sd::BitmapData>(m.src_bitmap->payload);
        CHECK(bmp.format == 5);
        CHECK(bmp.flags == 1);
        CHECK(bmp.stride == 4);
        CHECK(bmp.data.size() == 8);
        REQUIRE(bmp.palette.palette.has_value());
        CHECK_FALSE(bmp.palette.cache_id.has_value());
        CHECK(bmp.palette.palette->unique == 0xabc);
        CHECK(bmp.palette.palette->ents == std::vector<uint32_t>{0xff0000, 0x00ff00});
        every_truncation_fails(304, b.bytes());
    }
    SECTION("bitmap with a cached palette") {
        Builder b = build([](Builder& x) {
            x.u64(5).u8(0).u8(0).u32(2).u32(1);
            x.u8(5).u8(2).u32(2).u32(1).u32(2).u64(0x77).fill(2, 1);
        });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        const auto& bmp = std::get<sd::BitmapData>(m.src_bitmap->payload);
        REQUIRE(bmp.palette.cache_id.has_value());
        CHECK(*bmp.palette.cache_id == 0x77);
        CHECK(bmp.data.size() == 2);
        every_truncation_fails(304, b.bytes());
    }
    SECTION("binary payloads: lz_rgb, glz_rgb, jpeg, lz4") {
        for (uint8_t type : {101, 102, 105, 109}) {
            Builder b = build(
                [type](Builder& x) { x.u64(type).u8(type).u8(0).u32(4).u32(4).u32(3).fill(3, 9); });
            auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
            CHECK(m.src_bitmap->descriptor.type == type);
            CHECK(std::get<sd::BinaryData>(m.src_bitmap->payload).data.size() == 3);
            every_truncation_fails(304, b.bytes());
        }
    }
    SECTION("lz_plt") {
        Builder b = build([](Builder& x) {
            x.u64(1).u8(100).u8(0).u32(4).u32(4);
            x.u8(4).u32(3);
            const size_t pal = x.ptr();
            x.fill(3, 2);
            x.here(pal);
            x.u64(0x55).u16(1).u32(0x123456);
        });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        const auto& plt = std::get<sd::LzPltData>(m.src_bitmap->payload);
        CHECK(plt.flags == 4);
        CHECK(plt.data.size() == 3);
        REQUIRE(plt.palette.palette.has_value());
        CHECK(plt.palette.palette->ents == std::vector<uint32_t>{0x123456});
        every_truncation_fails(304, b.bytes());
    }
    SECTION("zlib_glz_rgb") {
        Builder b = build(
            [](Builder& x) { x.u64(1).u8(107).u8(0).u32(4).u32(4).u32(1000).u32(6).fill(6, 3); });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        const auto& z = std::get<sd::ZlibGlzData>(m.src_bitmap->payload);
        CHECK(z.glz_data_size == 1000);
        CHECK(z.data.size() == 6);
        every_truncation_fails(304, b.bytes());
    }
    SECTION("jpeg_alpha") {
        Builder b = build([](Builder& x) {
            x.u64(1).u8(108).u8(0).u32(4).u32(4).u8(1).u32(4).u32(7).fill(7, 3);
        });
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        const auto& ja = std::get<sd::JpegAlphaData>(m.src_bitmap->payload);
        CHECK(ja.flags == 1);
        CHECK(ja.jpeg_size == 4);
        CHECK(ja.jpeg().size() == 4);
        CHECK(ja.alpha().size() == 3);
        every_truncation_fails(304, b.bytes());
    }
    SECTION("surface, from_cache, from_cache_lossless") {
        Builder s = build([](Builder& x) { x.u64(1).u8(104).u8(0).u32(4).u32(4).u32(2); });
        auto m = std::get<sd::DrawCopy>(server_ok(304, s.bytes()));
        CHECK(std::get<sd::SurfaceImage>(m.src_bitmap->payload).surface_id == 2);
        every_truncation_fails(304, s.bytes());
        for (uint8_t type : {103, 106}) {
            Builder c = build([type](Builder& x) { x.u64(77).u8(type).u8(0).u32(4).u32(4); });
            auto cm = std::get<sd::DrawCopy>(server_ok(304, c.bytes()));
            CHECK(cm.src_bitmap->descriptor.id == 77);
            CHECK(std::holds_alternative<std::monostate>(cm.src_bitmap->payload));
        }
    }
    SECTION("draw_blend shares the layout") {
        Builder b = build([](Builder& x) { quic_image(x, 8, 2); });
        auto m = std::get<sd::DrawBlend>(server_ok(305, b.bytes()));
        check_base(m.base);
        check_quic(m.src_bitmap, 8, 2);
        check_mask(m.mask);
    }
    SECTION("NULL src_bitmap and NULL mask") {
        Builder b;
        b.base().u32(0).rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        auto m = std::get<sd::DrawCopy>(server_ok(304, b.bytes()));
        CHECK_FALSE(m.src_bitmap.has_value());
        CHECK_FALSE(m.mask.bitmap.has_value());
    }
}

TEST_CASE("display: other draw operations", "[display]") {
    SECTION("draw_fill with a solid brush") {
        Builder b;
        b.base().u8(1).u32(0x00ff8800).u16(8).u8(0).point(0, 0).u32(0);
        auto m = std::get<sd::DrawFill>(server_ok(302, b.bytes()));
        check_base(m.base);
        CHECK(m.brush.type == 1);
        CHECK(m.brush.color == 0x00ff8800);
        CHECK(m.rop_descriptor == 8);
        every_truncation_fails(302, b.bytes());
    }
    SECTION("draw_fill with a pattern brush") {
        Builder b;
        b.base().u8(2);
        const size_t pat = b.ptr();
        b.point(-1, -2).u16(16);
        size_t mask = 0;
        mask_with_bitmap(b, mask);
        b.here(pat);
        quic_image(b, 0x42, 4);
        b.here(mask);
        mask_bitmap_image(b);
        auto m = std::get<sd::DrawFill>(server_ok(302, b.bytes()));
        REQUIRE(m.brush.pattern.has_value());
        CHECK(m.brush.pattern->pat.descriptor.id == 0x42);
        CHECK(m.brush.pattern->pos.x == -1);
        CHECK(m.brush.pattern->pos.y == -2);
        CHECK(m.rop_descriptor == 16);
        check_mask(m.mask);
        every_truncation_fails(302, b.bytes());
    }
    SECTION("draw_opaque") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(1, 2, 3, 4).u8(1).u32(0xabcdef).u16(64).u8(1).u8(0).point(0, 0).u32(0);
        b.here(src);
        quic_image(b, 3, 1);
        auto m = std::get<sd::DrawOpaque>(server_ok(303, b.bytes()));
        check_quic(m.src_bitmap, 3, 1);
        CHECK(m.src_area.left == 2);
        CHECK(m.brush.color == 0xabcdef);
        CHECK(m.rop_descriptor == 64);
        CHECK(m.scale_mode == 1);
        every_truncation_fails(303, b.bytes());
    }
    SECTION("blackness, whiteness, invers") {
        for (uint16_t t : {306, 307, 308}) {
            Builder b;
            b.base();
            size_t mask = 0;
            mask_with_bitmap(b, mask);
            b.here(mask);
            mask_bitmap_image(b);
            auto m = server_ok(t, b.bytes());
            std::visit(
                [](const auto& v) {
                    using T = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<T, sd::DrawBlackness> ||
                                  std::is_same_v<T, sd::DrawWhiteness> ||
                                  std::is_same_v<T, sd::DrawInvers>) {
                        check_base(v.base);
                        check_mask(v.mask);
                    } else {
                        FAIL("wrong alternative");
                    }
                },
                m);
            every_truncation_fails(t, b.bytes());
        }
    }
    SECTION("draw_rop3") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 8, 8).u8(0).u8(0xca).u8(0).u8(0).point(0, 0).u32(0);
        b.here(src);
        quic_image(b, 11, 3);
        auto m = std::get<sd::DrawRop3>(server_ok(309, b.bytes()));
        check_quic(m.src_bitmap, 11, 3);
        CHECK(m.brush.type == 0);
        CHECK(m.rop3 == 0xca);
        CHECK(m.scale_mode == 0);
        every_truncation_fails(309, b.bytes());
    }
    SECTION("draw_stroke with a styled line") {
        Builder b;
        b.base();
        const size_t path = b.ptr();
        b.u8(8 | 4).u8(2);
        const size_t style = b.ptr();
        b.u8(1).u32(0x112233).u16(8).u16(4);
        b.here(path);
        b.u32(2).u8(1).u32(2).point(16, 32).point(48, 64).u8(2 | 8).u32(1).point(-16, 0);
        b.here(style);
        b.i32(40).i32(24);
        auto m = std::get<sd::DrawStroke>(server_ok(310, b.bytes()));
        check_base(m.base);
        REQUIRE(m.path.segments.size() == 2);
        CHECK(m.path.segments[0].flags == 1);
        REQUIRE(m.path.segments[0].points.size() == 2);
        CHECK(m.path.segments[0].points[1].x == 48);
        CHECK(m.path.segments[0].points[1].y == 64);
        CHECK(m.path.segments[1].flags == 10);
        CHECK(m.path.segments[1].points[0].x == -16);
        CHECK(m.attr.flags == 12);
        CHECK(m.attr.style_nseg == 2);
        CHECK(m.attr.style == std::vector<int32_t>{40, 24});
        CHECK(m.brush.color == 0x112233);
        CHECK(m.fore_mode == 8);
        CHECK(m.back_mode == 4);
        every_truncation_fails(310, b.bytes());
    }
    SECTION("draw_text with 1, 4 and 8 bpp glyphs") {
        for (auto [flag, bpp] : {std::pair{1, 1}, std::pair{2, 4}, std::pair{4, 8}}) {
            Builder b;
            b.base();
            const size_t str = b.ptr();
            b.rect(5, 6, 7, 8).u8(1).u32(0xffffff).u8(0).u16(8).u16(1);
            b.here(str);
            b.u16(2).u8(static_cast<uint8_t>(flag | 8));
            // 3x2 and 9x1 glyphs.
            const size_t g1 = ((3 * bpp + 7) / 8) * 2;
            const size_t g2 = ((9 * bpp + 7) / 8) * 1;
            b.point(1, 2).point(0, -1).u16(3).u16(2).fill(g1, 0x5a);
            b.point(10, 2).point(0, -1).u16(9).u16(1).fill(g2, 0xa5);
            auto m = std::get<sd::DrawText>(server_ok(311, b.bytes()));
            check_base(m.base);
            CHECK(m.str.bpp() == static_cast<unsigned>(bpp));
            REQUIRE(m.str.glyphs.size() == 2);
            CHECK(m.str.glyphs[0].render_pos.x == 1);
            CHECK(m.str.glyphs[0].glyph_origin.y == -1);
            CHECK(m.str.glyphs[0].width == 3);
            CHECK(m.str.glyphs[0].data.size() == g1);
            CHECK(m.str.glyphs[1].data.size() == g2);
            CHECK(m.back_area.top == 5);
            CHECK(m.back_area.right == 8);
            CHECK(m.fore_brush.color == 0xffffff);
            CHECK(m.back_brush.type == 0);
            CHECK(m.fore_mode == 8);
            CHECK(m.back_mode == 1);
            every_truncation_fails(311, b.bytes());
        }
    }
    SECTION("draw_transparent") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 2, 2).u32(0xff00ff).u32(0x00ff00ff);
        b.here(src);
        quic_image(b, 12, 1);
        auto m = std::get<sd::DrawTransparent>(server_ok(312, b.bytes()));
        check_quic(m.src_bitmap, 12, 1);
        CHECK(m.src_color == 0xff00ff);
        CHECK(m.true_color == 0x00ff00ff);
        every_truncation_fails(312, b.bytes());
    }
    SECTION("draw_alpha_blend") {
        Builder b;
        b.base().u8(2).u8(128);
        const size_t src = b.ptr();
        b.rect(0, 0, 5, 6);
        b.here(src);
        quic_image(b, 13, 2);
        auto m = std::get<sd::DrawAlphaBlend>(server_ok(313, b.bytes()));
        CHECK(m.alpha_flags == 2);
        CHECK(m.alpha == 128);
        check_quic(m.src_bitmap, 13, 2);
        CHECK(m.src_area.right == 6);
        every_truncation_fails(313, b.bytes());
    }
    SECTION("draw_composite with mask and both transforms") {
        namespace cf = sd::composite_flags;
        const uint32_t flags = 3 | (2u << cf::kSrcFilterShift) | (1u << cf::kSrcRepeatShift) |
                               cf::kHasMask | cf::kHasSrcTransform | cf::kHasMaskTransform;
        Builder b;
        b.base().u32(flags);
        const size_t src = b.ptr();
        const size_t mask = b.ptr();
        b.u32(0x10000).u32(0).u32(5).u32(0).u32(0x10000).u32(6);
        b.u32(1).u32(2).u32(3).u32(4).u32(5).u32(6);
        b.i16(-3).i16(4).i16(5).i16(-6);
        b.here(src);
        quic_image(b, 21, 2);
        b.here(mask);
        mask_bitmap_image(b);
        auto m = std::get<sd::DrawComposite>(server_ok(318, b.bytes()));
        check_base(m.base);
        CHECK(m.flags == flags);
        check_quic(m.src_bitmap, 21, 2);
        REQUIRE(m.mask_bitmap.has_value());
        CHECK(m.mask_bitmap->descriptor.id == 0x99);
        REQUIRE(m.src_transform.has_value());
        CHECK(m.src_transform->t00 == 0x10000);
        CHECK(m.src_transform->t12 == 6);
        REQUIRE(m.mask_transform.has_value());
        CHECK(m.mask_transform->t10 == 4);
        CHECK(m.src_origin.x == -3);
        CHECK(m.src_origin.y == 4);
        CHECK(m.mask_origin.x == 5);
        CHECK(m.mask_origin.y == -6);
        every_truncation_fails(318, b.bytes());
        const std::string json = json_of(sd::ServerMessage(m));
        CHECK_THAT(json, Catch::Contains(R"("op":3,"src_filter":2,"mask_filter":0,)"
                                         R"("src_repeat":1,"mask_repeat":0)"));
        CHECK_THAT(json, Catch::Contains(R"("src_origin":{"x":-3,"y":4})"));
    }
    SECTION("draw_composite without optional parts") {
        Builder b;
        b.base().u32(3);
        const size_t src = b.ptr();
        b.i16(1).i16(2).i16(3).i16(4);
        b.here(src);
        quic_image(b, 22, 1);
        auto m = std::get<sd::DrawComposite>(server_ok(318, b.bytes()));
        CHECK_FALSE(m.mask_bitmap.has_value());
        CHECK_FALSE(m.src_transform.has_value());
        CHECK_FALSE(m.mask_transform.has_value());
        CHECK(m.src_origin.y == 2);
        CHECK(m.mask_origin.y == 4);
        const std::string json = json_of(sd::ServerMessage(m));
        CHECK_THAT(json, !Catch::Contains("mask_bitmap"));
        CHECK_THAT(json, !Catch::Contains("transform"));
    }
}

TEST_CASE("display: client messages", "[display]") {
    SECTION("init") {
        Builder b;
        b.u8(1).i64(20971520).u8(1).i32(4194304);
        auto m = std::get<sd::Init>(client_ok(101, b.bytes()));
        CHECK(m.pixmap_cache_id == 1);
        CHECK(m.pixmap_cache_size == 20971520);
        CHECK(m.glz_dictionary_id == 1);
        CHECK(m.glz_dictionary_window_size == 4194304);
        every_truncation_fails(101, b.bytes(), true);
        CHECK(json_of(sd::ClientMessage(m)) ==
              R"({"pixmap_cache_id":1,"pixmap_cache_size":20971520,"glz_dictionary_id":1,)"
              R"("glz_dictionary_window_size":4194304})");
    }
    SECTION("stream_report") {
        Builder b;
        b.u32(3).u32(99).u32(1000).u32(2000).u32(25).u32(2).i32(-40).u32(0xffffffff);
        auto m = std::get<sd::StreamReport>(client_ok(102, b.bytes()));
        CHECK(m.stream_id == 3);
        CHECK(m.unique_id == 99);
        CHECK(m.start_frame_mm_time == 1000);
        CHECK(m.end_frame_mm_time == 2000);
        CHECK(m.num_frames == 25);
        CHECK(m.num_drops == 2);
        CHECK(m.last_frame_delay == -40);
        CHECK(m.audio_delay == 0xffffffff);
        every_truncation_fails(102, b.bytes(), true);
    }
    SECTION("preferred_compression") {
        auto m = std::get<sd::PreferredCompression>(client_ok(103, {7}));
        CHECK(m.image_compression == 7);
        CHECK(json_of(sd::ClientMessage(m)) == R"({"image_compression":"lz4"})");
        every_truncation_fails(103, {7}, true);
    }
    SECTION("gl_draw_done") {
        CHECK(std::holds_alternative<sd::GlDrawDone>(client_ok(104, {})));
    }
    SECTION("preferred_video_codec_type") {
        auto m = std::get<sd::PreferredVideoCodecType>(client_ok(105, {3, 3, 1, 9}));
        CHECK(m.codecs == std::vector<uint8_t>{3, 1, 9});
        CHECK(json_of(sd::ClientMessage(m)) ==
              R"({"num_of_codecs":3,"codecs":["h264","mjpeg","unknown_9"]})");
        every_truncation_fails(105, {3, 3, 1, 9}, true);
    }
}

TEST_CASE("display: malformed bodies", "[display]") {
    SECTION("unknown message types") {
        auto r = sd::parse_server(200, {}, all_caps());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::Unsupported);
        CHECK(r.error().what == "unknown display message type 200");
        auto c = sd::parse_client(106, {}, all_caps());
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error().code == Errc::Unsupported);
    }
    SECTION("src_bitmap pointer past the end of the body") {
        Builder b;
        b.base().u32(0x1234).rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        auto e = server_err(304, b.bytes());
        CHECK(e.code == Errc::Truncated);
        CHECK(e.offset == 57);  // the pointer field itself
        CHECK(e.what == "draw_copy: src_bitmap pointer 0x1234 past end of body (93 bytes)");
    }
    SECTION("pointer to the last byte: descriptor does not fit") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        b.set_u32(src, static_cast<uint32_t>(b.size() - 1));
        CHECK(server_err(304, b.bytes()).code == Errc::Truncated);
    }
    SECTION("image data_size past the end") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        b.here(src);
        b.u64(1).u8(1).u8(0).u32(1).u32(1).u32(0xffffffff).fill(4, 0);
        auto e = server_err(304, b.bytes());
        CHECK(e.code == Errc::Truncated);
        CHECK_THAT(e.what, Catch::Contains("src_bitmap (quic) data (4294967295 bytes) past end"));
    }
    SECTION("bitmap stride * height overflows 32 bits") {
        Builder b;
        b.base();
        const size_t src = b.ptr();
        b.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        b.here(src);
        b.u64(1).u8(0).u8(0).u32(1).u32(1).u8(8).u8(0).u32(1).u32(0x10000).u32(0x10000).u32(0);
        b.fill(16, 0);
        CHECK(server_err(304, b.bytes()).code == Errc::Truncated);
    }
    SECTION("huge counts are refused before allocating") {
        Builder clip;
        clip.u32(0).rect(0, 0, 1, 1).u8(1).u32(0xffffffff);
        CHECK(server_err(104, clip.bytes()).code == Errc::Truncated);
        Builder inval;
        inval.u16(0xffff);
        CHECK(server_err(105, inval.bytes()).code == Errc::Truncated);
        Builder stream;
        stream.u32(1).u32(2).u32(0xfffffff0);
        CHECK(server_err(123, stream.bytes()).code == Errc::Truncated);
        Builder path;
        path.base();
        const size_t p = path.ptr();
        path.u8(0).u8(0).u16(0).u16(0);
        path.here(p);
        path.u32(0xffffffff);
        CHECK(server_err(310, path.bytes()).code == Errc::Truncated);
    }
    SECTION("values the format forbids") {
        Builder clip;
        clip.u32(0).rect(0, 0, 1, 1).u8(2).point(0, 0);
        auto e = server_err(104, clip.bytes());
        CHECK(e.code == Errc::BadValue);
        CHECK(e.offset == 20);
        CHECK(e.what == "copy_bits: base.clip: unknown clip type 2");

        Builder brush;
        brush.base().u8(3).u16(0).u8(0).point(0, 0).u32(0);
        CHECK(server_err(302, brush.bytes()).what == "draw_fill: brush: unknown brush type 3");

        Builder pattern;
        pattern.base().u8(2).u32(0).point(0, 0).u16(0).u8(0).point(0, 0).u32(0);
        CHECK(server_err(302, pattern.bytes()).what == "draw_fill: brush.pattern pointer is NULL");

        Builder img;
        img.base();
        const size_t src = img.ptr();
        img.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        img.here(src);
        img.u64(1).u8(110).u8(0).u32(1).u32(1);
        auto u = server_err(304, img.bytes());
        CHECK(u.code == Errc::Unsupported);
        CHECK(u.what == "draw_copy: src_bitmap: unknown image type 110");

        Builder ja;
        ja.base();
        const size_t jsrc = ja.ptr();
        ja.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        ja.here(jsrc);
        ja.u64(1).u8(108).u8(0).u32(1).u32(1).u8(0).u32(9).u32(2).fill(2, 0);
        CHECK(server_err(304, ja.bytes()).code == Errc::BadValue);

        Builder plt;
        plt.base();
        const size_t psrc = plt.ptr();
        plt.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        plt.here(psrc);
        plt.u64(1).u8(100).u8(0).u32(1).u32(1).u8(0).u32(0).u32(0);
        CHECK_THAT(server_err(304, plt.bytes()).what,
                   Catch::Contains("src_bitmap (lz_plt).palette pointer is NULL"));

        Builder path;
        path.base().u32(0).u8(0).u8(0).u16(0).u16(0);
        CHECK(server_err(310, path.bytes()).what == "draw_stroke: path pointer is NULL");

        Builder str;
        str.base();
        const size_t s = str.ptr();
        str.rect(0, 0, 0, 0).u8(0).u8(0).u16(0).u16(0);
        str.here(s);
        str.u16(1).u8(8).point(0, 0).point(0, 0).u16(1).u16(1).u8(0);
        CHECK_THAT(server_err(311, str.bytes()).what,
                   Catch::Contains("select no raster glyph format"));
    }
    SECTION("capabilities the peer did not announce") {
        spicetap::wire::ChannelCaps caps = all_caps();
        caps.client_channel = {0};
        Builder b;
        b.u32(9).u32(1).u32(8).u32(8).rect(0, 0, 8, 8).u32(0);
        auto e = server_err(316, b.bytes(), caps);
        CHECK(e.code == Errc::BadValue);
        CHECK(e.what ==
              "stream_data_sized: the client did not announce display capability sized_stream");
        // Unknown caps (empty vectors) do not reject anything.
        CHECK(sd::parse_server(316, ByteView(b.bytes()), {}).has_value());

        Builder lz4;
        lz4.base();
        const size_t src = lz4.ptr();
        lz4.rect(0, 0, 1, 1).u16(8).u8(0).u8(0).point(0, 0).u32(0);
        lz4.here(src);
        lz4.u64(1).u8(109).u8(0).u32(1).u32(1).u32(0);
        CHECK_THAT(server_err(304, lz4.bytes(), caps).what,
                   Catch::Contains("did not announce display capability lz4_compression"));

        spicetap::wire::ChannelCaps no_server = all_caps();
        no_server.server_channel = {0};
        auto c = sd::parse_client(103, ByteView(std::vector<uint8_t>{2}), no_server);
        REQUIRE_FALSE(c.has_value());
        CHECK_THAT(c.error().what, Catch::Contains("server did not announce"));
    }
}

TEST_CASE("display: JSON shape of draw_copy", "[display]") {
    Builder b;
    b.u32(0).rect(1, 2, 3, 4).u8(0);
    const size_t src = b.ptr();
    b.rect(0, 0, 2, 2).u16(8).u8(0).u8(0).point(0, 0).u32(0);
    b.here(src);
    quic_image(b, 5, 3);
    auto m = server_ok(304, b.bytes());
    CHECK(json_of(m) ==
          R"({"base":{"surface_id":0,"box":{"top":1,"left":2,"bottom":3,"right":4},)"
          R"("clip":{"type":"none"}},"src_bitmap":{"offset":57,"id":5,"type":"quic",)"
          R"("flags":1,"width":64,"height":32,"data_size":3},)"
          R"("src_area":{"top":0,"left":0,"bottom":2,"right":2},"rop_descriptor":8,)"
          R"("scale_mode":"interpolate","mask":{"flags":0,"pos":{"x":0,"y":0},"bitmap":null}})");
}

// Bodies captured from QEMU 7.2 (-vga qxl) <-> spicy (spice-gtk 0.42); expected values read
// with `tshark -d tcp.port==PORT,spice -V` on the same frames (tshark labels the Rect fields
// left/top/right/bottom but reads them in wire order top/left/bottom/right).
TEST_CASE("display: real message bodies", "[display]") {
    // Decoded messages view their body, so every body stays alive for the whole test.
    std::map<std::string, std::vector<uint8_t>> bodies;
    auto vec = [&bodies](const char* name) -> const std::vector<uint8_t>& {
        auto& bytes = bodies[name];
        bytes = read_file(vectors() / name);
        REQUIRE_FALSE(bytes.empty());
        return bytes;
    };
    SECTION("surface_create (auto_glz.pcap)") {
        auto m = std::get<sd::SurfaceCreate>(server_ok(314, vec("s2c_314_surface_create.bin")));
        CHECK(m.surface_id == 0);
        CHECK(m.width == 720);
        CHECK(m.height == 400);
        CHECK(m.format == 32);
        CHECK(m.flags == 1);
    }
    SECTION("monitors_config (auto_glz.pcap)") {
        auto m = std::get<sd::MonitorsConfig>(server_ok(317, vec("s2c_317_monitors_config.bin")));
        CHECK(m.max_allowed == 1);
        REQUIRE(m.heads.size() == 1);
        CHECK(m.heads[0].surface_id == 0);
        CHECK(m.heads[0].width == 720);
        CHECK(m.heads[0].height == 400);
    }
    SECTION("display init (auto_glz.pcap)") {
        auto m = std::get<sd::Init>(client_ok(101, vec("c2s_101_init.bin")));
        CHECK(m.pixmap_cache_id == 1);
        CHECK(m.pixmap_cache_size == 20971520);
        CHECK(m.glz_dictionary_id == 1);
        CHECK(m.glz_dictionary_window_size == 6290432);
    }
    SECTION("streams (guest-stream.pcap)") {
        auto c = std::get<sd::StreamCreate>(server_ok(122, vec("s2c_122_stream_create.bin")));
        CHECK(c.surface_id == 0);
        CHECK(c.id == 49);
        CHECK(c.flags == 1);
        CHECK(c.codec_type == 1);
        CHECK(c.stream_width == 1024);
        CHECK(c.stream_height == 64);
        auto d = std::get<sd::StreamData>(server_ok(123, vec("s2c_123_stream_data.bin")));
        CHECK(d.id == 49);
        CHECK(d.data.size() == 1418);
        REQUIRE(d.data.size() > 2);
        CHECK(d.data[0] == 0xff);  // a JPEG SOI marker: one MJPEG frame per message
        CHECK(d.data[1] == 0xd8);
        auto clip = std::get<sd::StreamClip>(server_ok(124, vec("s2c_124_stream_clip.bin")));
        CHECK(clip.id == 49);
        CHECK(clip.clip.type == 1);
        CHECK(clip.clip.rects.empty());
        CHECK(std::get<sd::StreamDestroy>(server_ok(125, vec("s2c_125_stream_destroy.bin"))).id ==
              49);
        auto act = std::get<sd::StreamActivateReport>(
            server_ok(319, vec("s2c_319_stream_activate_report.bin")));
        CHECK(act.stream_id == 49);
        CHECK(act.max_window_size == 5);
        CHECK(act.timeout_ms == 1000);
        auto rep = std::get<sd::StreamReport>(client_ok(102, vec("c2s_102_stream_report.bin")));
        CHECK(rep.stream_id == 49);
        CHECK(rep.unique_id == act.unique_id);
        CHECK(rep.audio_delay == 0xffffffff);
    }
    SECTION("draw_copy with each image type the captures hold") {
        // tshark: spice.image_id, spice.image_type, first spice.rect (box), spice.clip_type.
        struct Expect {
            const char* file;
            sd::ImageType type;
            uint64_t id;
            sd::Rect box;
            uint8_t clip_type;
        };

        const Expect expects[] = {
            {"s2c_304_draw_copy_bitmap.bin",
             sd::ImageType::Bitmap,
             0x1b00000001,
             {45, 0, 47, 9},
             0},  // guest-off.pcap frame 140
            {"s2c_304_draw_copy_quic.bin",
             sd::ImageType::Quic,
             0x200000002,
             {0, 0, 64, 64},
             0},  // guest-quic.pcap frame 193
            {"s2c_304_draw_copy_lz_rgb.bin",
             sd::ImageType::LzRgb,
             0x1b00000001,
             {45, 0, 47, 9},
             0},  // guest-lz.pcap frame 63
            {"s2c_304_draw_copy_glz_rgb.bin",
             sd::ImageType::GlzRgb,
             0x5e00000001,
             {173, 0, 175, 9},
             0},  // auto_glz.pcap frame 55
            {"s2c_304_draw_copy_zlib_glz_rgb.bin",
             sd::ImageType::ZlibGlzRgb,
             0,
             {0, 0, 768, 1024},
             1},  // guest-jpeg.pcap frame 215
        };
        for (const Expect& e : expects) {
            INFO(e.file);
            auto m = std::get<sd::DrawCopy>(server_ok(304, vec(e.file)));
            REQUIRE(m.src_bitmap.has_value());
            CHECK(m.src_bitmap->type() == e.type);
            CHECK(m.src_bitmap->descriptor.id == e.id);
            CHECK(m.base.surface_id == 0);
            CHECK(m.base.box.top == e.box.top);
            CHECK(m.base.box.left == e.box.left);
            CHECK(m.base.box.bottom == e.box.bottom);
            CHECK(m.base.box.right == e.box.right);
            CHECK(m.base.clip.type == e.clip_type);
            CHECK_FALSE(m.src_bitmap->data().empty());
            // spice-server sends whole-source copies: src_area is the image's own extent.
            CHECK(m.src_area.right - m.src_area.left ==
                  static_cast<int32_t>(m.src_bitmap->descriptor.width));
            CHECK(m.src_area.bottom - m.src_area.top ==
                  static_cast<int32_t>(m.src_bitmap->descriptor.height));
        }
    }
}

// Every display message extracted from real captures by vectors/display/extract_display.py.
// Hidden: run with SPICETAP_DISPLAY_RECORDS=a.records:b.records test_decode "[.real]".
TEST_CASE("display: every message of real captures decodes", "[.real][display]") {
    const char* list = std::getenv("SPICETAP_DISPLAY_RECORDS");
    if (list == nullptr) {
        WARN("SPICETAP_DISPLAY_RECORDS is not set: nothing to check");
        return;
    }
    std::stringstream paths(list);
    std::string path;
    size_t decoded = 0;
    while (std::getline(paths, path, ':')) {
        const auto data = read_file(path);
        REQUIRE_FALSE(data.empty());
        spicetap::ByteReader r{ByteView(data)};
        spicetap::wire::ChannelCaps caps;
        while (r.remaining() > 0) {
            const uint8_t kind = r.u8();
            if (kind == 'C') {
                for (auto* v : {&caps.client_common, &caps.client_channel, &caps.server_common,
                                &caps.server_channel}) {
                    v->assign(r.u32(), 0);
                    for (auto& word : *v) {
                        word = r.u32();
                    }
                }
                continue;
            }
            REQUIRE(kind == 'M');
            const uint8_t dir = r.u8();
            const uint16_t type = r.u16();
            const ByteView body = r.bytes(r.u32());
            REQUIRE(r.ok());
            std::string err;
            if (dir == 1) {
                auto m = sd::parse_server(type, body, caps);
                if (!m) {
                    err = m.error().message();
                } else {
                    json_of(*m);
                }
            } else {
                auto m = sd::parse_client(type, body, caps);
                if (!m) {
                    err = m.error().message();
                } else {
                    json_of(*m);
                }
            }
            INFO(path << ": type " << type << " dir " << int(dir));
            CHECK(err.empty());
            ++decoded;
        }
    }
    WARN("decoded " << decoded << " display messages");
}
