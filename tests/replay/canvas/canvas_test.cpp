// Draw operations on tiny surfaces with hand-computed pixels. Expected values come from the
// rules of spice-common (canvas_base.c, pixman_utils.c, rop3.c, lines.c, sw_canvas.c), worked
// out by hand in the comments, never from the code under test.
#include "replay/canvas/canvas.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

using namespace spicetap;
using namespace spicetap::canvas;

namespace {

Surface make(uint32_t w, uint32_t h, SurfaceFormat f = SurfaceFormat::Rgb32, uint32_t fill = 0) {
    auto s = Surface::create(1, w, h, f);
    REQUIRE(s);
    for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x)
            s->set_pixel(x, y, fill);
    return std::move(*s);
}

struct Img {
    std::vector<uint32_t> px;
    uint32_t w, h;
    codec::PixelFormat fmt = codec::PixelFormat::Xrgb32;

    ImageRef ref() const {
        return ImageRef{reinterpret_cast<const uint8_t*>(px.data()), w, h, size_t{w} * 4, fmt};
    }
};

struct Bits {  // an A1 image, LSB-first rows
    std::vector<uint8_t> bytes;
    uint32_t w, h;

    ImageRef ref() const {
        return ImageRef{bytes.data(), w, h, (w + 7) / 8, codec::PixelFormat::A1};
    }
};

DrawArea box(int l, int t, int r, int b) {
    return DrawArea{Rect{l, t, r, b}, std::nullopt};
}

Brush solid(uint32_t c) {
    return Brush{Brush::Type::Solid, c, {}, {}};
}

int count(const Surface& s, uint32_t v) {
    int n = 0;
    for (uint32_t y = 0; y < s.height(); ++y)
        for (uint32_t x = 0; x < s.width(); ++x)
            n += s.pixel(x, y) == v;
    return n;
}

}  // namespace

TEST_CASE("surface: formats, limits and pixel access", "[canvas]") {
    for (auto f : {SurfaceFormat::A1, SurfaceFormat::A8, SurfaceFormat::Rgb16_555,
                   SurfaceFormat::Rgb16_565, SurfaceFormat::Rgb32, SurfaceFormat::Argb32}) {
        auto s = Surface::create(3, 5, 4, f);
        REQUIRE(s);
        CHECK(s->id() == 3);
        CHECK(s->width() == 5);
        CHECK(s->pixel(4, 3) == 0);  // zero-filled like spice-gtk's g_malloc0
    }
    CHECK(Surface::create(1, 0, 4, SurfaceFormat::Rgb32).error().code == Errc::BadValue);
    CHECK(Surface::create(1, 100000, 4, SurfaceFormat::Rgb32).error().code == Errc::LimitExceeded);
    CHECK(Surface::create(1, 16384, 16384, SurfaceFormat::Rgb32).error().code ==
          Errc::LimitExceeded);
    CHECK(Surface::create(1, 4, 4, SurfaceFormat(7)).error().code == Errc::Unsupported);

    auto s = make(2, 1, SurfaceFormat::Rgb16_565);
    s.set_pixel(0, 0, 0xf800);  // pure red in 5-6-5
    std::vector<uint32_t> argb;
    s.read_argb32(argb);
    CHECK(argb[0] == 0xffff0000u);
}

TEST_CASE("rop descriptor: every canvas_base.c case", "[canvas][rop]") {
    using namespace ropd;

    // (op, inv_src, inv_dest, inv_res) -> expected, transcribed from ropd_descriptor_to_rop
    struct Row {
        uint16_t op;
        bool s, d, r;
        Rop want;
    };

    const Row rows[] = {
        {kOpOr, 1, 1, 1, Rop::And},           {kOpOr, 1, 0, 1, Rop::AndReverse},
        {kOpOr, 0, 1, 1, Rop::AndInverted},   {kOpOr, 0, 0, 1, Rop::Nor},
        {kOpOr, 1, 1, 0, Rop::Nand},          {kOpOr, 1, 0, 0, Rop::OrInverted},
        {kOpOr, 0, 1, 0, Rop::OrReverse},     {kOpOr, 0, 0, 0, Rop::Or},
        {kOpAnd, 1, 1, 1, Rop::Or},           {kOpAnd, 1, 0, 1, Rop::OrReverse},
        {kOpAnd, 0, 1, 1, Rop::OrInverted},   {kOpAnd, 0, 0, 1, Rop::Nand},
        {kOpAnd, 1, 1, 0, Rop::Nor},          {kOpAnd, 1, 0, 0, Rop::AndInverted},
        {kOpAnd, 0, 1, 0, Rop::AndReverse},   {kOpAnd, 0, 0, 0, Rop::And},
        {kOpXor, 1, 1, 1, Rop::Equiv},        {kOpXor, 1, 0, 1, Rop::Xor},
        {kOpXor, 0, 1, 1, Rop::Xor},          {kOpXor, 0, 0, 1, Rop::Equiv},
        {kOpXor, 1, 1, 0, Rop::Xor},          {kOpXor, 1, 0, 0, Rop::Equiv},
        {kOpXor, 0, 1, 0, Rop::Equiv},        {kOpXor, 0, 0, 0, Rop::Xor},
        {kOpPut, 1, 0, 1, Rop::Copy},         {kOpPut, 1, 0, 0, Rop::CopyInverted},
        {kOpPut, 0, 1, 1, Rop::CopyInverted}, {kOpPut, 0, 0, 0, Rop::Copy},
    };
    for (const Row& row : rows) {
        uint16_t d = row.op | (row.s ? kInversSrc : 0) | (row.d ? kInversDest : 0) |
                     (row.r ? kInversRes : 0);
        INFO("descriptor " << d);
        CHECK(rop_from_descriptor(d, RopInput::Src, RopInput::Dest) == row.want);
    }
    CHECK(rop_from_descriptor(kOpBlackness, RopInput::Src, RopInput::Dest) == Rop::Clear);
    CHECK(rop_from_descriptor(kOpWhiteness, RopInput::Src, RopInput::Dest) == Rop::Set);
    CHECK(rop_from_descriptor(kOpInvers, RopInput::Src, RopInput::Dest) == Rop::Invert);
    CHECK(rop_from_descriptor(0, RopInput::Src, RopInput::Dest) == Rop::Copy);
    // Operand re-aiming: for a fill the brush is the source; INVERS_SRC means nothing there.
    CHECK(rop_from_descriptor(kOpPut | kInversBrush, RopInput::Brush, RopInput::Dest) ==
          Rop::CopyInverted);
    CHECK(rop_from_descriptor(kOpPut | kInversSrc, RopInput::Brush, RopInput::Dest) == Rop::Copy);
    // DRAW_OPAQUE: brush against the already copied source, whose INVERS_SRC is the "dest".
    CHECK(rop_from_descriptor(kOpAnd | kInversSrc, RopInput::Brush, RopInput::Src) ==
          Rop::AndReverse);
}

TEST_CASE("fill: solid brush through every descriptor op on raw pixels", "[canvas][fill]") {
    const uint32_t dst = 0x00f0f0f0, brush = 0x00ff00cc;

    struct Case {
        uint16_t desc;
        uint32_t want;
    };

    const Case cases[] = {
        {ropd::kOpPut, brush},
        {ropd::kOpPut | ropd::kInversBrush, ~brush},
        {ropd::kOpOr, brush | dst},
        {ropd::kOpAnd, brush & dst},
        {ropd::kOpXor, brush ^ dst},
        {ropd::kOpXor | ropd::kInversDest, ~(brush ^ dst)},
        {ropd::kOpAnd | ropd::kInversRes, ~(brush & dst)},
        {ropd::kOpOr | ropd::kInversBrush, ~brush | dst},
        {ropd::kOpBlackness, 0},
        {ropd::kOpWhiteness, 0xffffffffu},
        {ropd::kOpInvers, ~dst},
    };
    for (const Case& c : cases) {
        Surface s = make(4, 4, SurfaceFormat::Rgb32, dst);
        auto d = draw_fill(s, box(1, 1, 3, 3), Fill{solid(brush), c.desc, {}});
        REQUIRE(d);
        INFO("descriptor " << c.desc);
        CHECK(s.pixel(1, 1) == c.want);
        CHECK(s.pixel(2, 2) == c.want);
        CHECK(s.pixel(0, 0) == dst);
        CHECK(s.pixel(3, 3) == dst);
        CHECK(d->extents() == Rect{1, 1, 3, 3});
    }
    // A NOOP descriptor (OR with inverted result of !dest... here: AND of brush with all-ones
    // is not noop); OP_AND with INVERS_BRUSH|INVERS_RES|... cannot give NOOP, so nothing else.
}

TEST_CASE("fill: clip rects, surface edges and masks", "[canvas][fill][mask]") {
    Surface s = make(8, 8);
    DrawArea a{Rect{-5, -5, 100, 100}, std::vector<Rect>{{0, 0, 2, 2}, {6, 6, 50, 50}}};
    auto d = draw_fill(s, a, Fill{solid(0x123456), ropd::kOpPut, {}});
    REQUIRE(d);
    CHECK(count(s, 0x123456) == 4 + 4);
    CHECK(s.pixel(7, 7) == 0x123456);
    CHECK(s.pixel(2, 2) == 0);

    // box entirely outside: nothing, no error
    auto none = draw_fill(s, box(100, 100, 200, 200), Fill{solid(1), ropd::kOpPut, {}});
    REQUIRE(none);
    CHECK(none->empty());
    auto inverted = draw_fill(s, box(5, 5, 2, 2), Fill{solid(1), ropd::kOpPut, {}});
    REQUIRE(inverted);
    CHECK(inverted->empty());

    // Mask: 4x2, row 0 = 1010, row 1 = 0110 (bit 0 = leftmost), placed from mask pixel (1, 0).
    Bits m{{0x05, 0x06}, 4, 2};
    for (bool invert : {false, true}) {
        Surface t = make(8, 8);
        Fill f{solid(0xff), ropd::kOpPut, Mask{Source{m.ref()}, Point{1, 0}, invert}};
        REQUIRE(draw_fill(t, box(2, 2, 6, 6), f));
        // dest (2 + i, 2 + j) <- mask (1 + i, j): row 0 mask x 1..3 = 0,1,0 ; row 1 = 1,1,0
        const uint32_t on = invert ? 0 : 0xff, off = invert ? 0xff : 0;
        CHECK(t.pixel(2, 2) == off);
        CHECK(t.pixel(3, 2) == on);
        CHECK(t.pixel(4, 2) == off);
        CHECK(t.pixel(2, 3) == on);
        CHECK(t.pixel(3, 3) == on);
        CHECK(t.pixel(4, 3) == off);
        // beyond the 4x2 mask nothing is drawn, inverted or not
        CHECK(t.pixel(5, 2) == 0);
        CHECK(t.pixel(2, 4) == 0);
        CHECK(count(t, 0xff) == 3);
    }
}

TEST_CASE("fill: pattern brush tiles from its origin, NONE brush still applies the ROP",
          "[canvas][fill]") {
    Surface s = make(6, 2);
    Img tile{{1, 2, 3, 4}, 2, 2};
    Brush b{Brush::Type::Pattern, 0, Source{tile.ref()}, Point{1, 0}};
    REQUIRE(draw_fill(s, box(0, 0, 6, 2), Fill{b, ropd::kOpPut, {}}));
    // tile x = (x - 1) mod 2
    CHECK(s.pixel(0, 0) == 2);
    CHECK(s.pixel(1, 0) == 1);
    CHECK(s.pixel(2, 0) == 2);
    CHECK(s.pixel(1, 1) == 3);
    CHECK(s.pixel(4, 1) == 4);

    Surface t = make(2, 2, SurfaceFormat::Rgb32, 0x0f);
    REQUIRE(draw_fill(t, box(0, 0, 1, 1), Fill{Brush{}, ropd::kOpInvers, {}}));
    CHECK(t.pixel(0, 0) == 0xfffffff0u);
    CHECK(t.pixel(1, 0) == 0x0f);
}

TEST_CASE("copy: blit, ROP, source clipping and nearest scaling", "[canvas][copy]") {
    Img src{{0x10, 0x20, 0x30, 0x40, 0x50, 0x60}, 3, 2};
    Surface s = make(8, 8, SurfaceFormat::Rgb32, 0x0f);
    Copy c;
    c.src = src.ref();
    c.src_area = Rect{1, 0, 3, 2};
    REQUIRE(draw_copy(s, box(4, 4, 6, 6), c));
    CHECK(s.pixel(4, 4) == 0x20);
    CHECK(s.pixel(5, 4) == 0x30);
    CHECK(s.pixel(4, 5) == 0x50);
    CHECK(s.pixel(5, 5) == 0x60);
    CHECK(s.pixel(6, 4) == 0x0f);

    c.rop_descriptor = ropd::kOpXor;
    REQUIRE(draw_copy(s, box(4, 4, 6, 6), c));
    CHECK(s.pixel(4, 4) == 0);  // x ^ x

    // a src_area reaching past the image: those destination pixels are left alone
    Surface t = make(4, 4, SurfaceFormat::Rgb32, 7);
    Copy far;
    far.src = src.ref();
    far.src_area = Rect{2, 0, 5, 2};
    REQUIRE(draw_copy(t, box(0, 0, 3, 2), far));
    CHECK(t.pixel(0, 0) == 0x30);
    CHECK(t.pixel(1, 0) == 7);
    CHECK(t.pixel(0, 1) == 0x60);

    // 2x2 -> 4x4 nearest: every source pixel becomes a 2x2 block
    Img q{{0xa, 0xb, 0xc, 0xd}, 2, 2};
    Surface u = make(4, 4);
    Copy sc;
    sc.src = q.ref();
    sc.src_area = Rect{0, 0, 2, 2};
    sc.scale_mode = ScaleMode::Nearest;
    REQUIRE(draw_copy(u, box(0, 0, 4, 4), sc));
    const uint32_t want[4][4] = {
        {0xa, 0xa, 0xb, 0xb}, {0xa, 0xa, 0xb, 0xb}, {0xc, 0xc, 0xd, 0xd}, {0xc, 0xc, 0xd, 0xd}};
    for (uint32_t y = 0; y < 4; ++y)
        for (uint32_t x = 0; x < 4; ++x)
            CHECK((u.pixel(x, y) & 0xffffff) == want[y][x]);

    // the same scaled with a ROP goes through the temporary image: OR into 0x100
    Surface v = make(4, 4, SurfaceFormat::Rgb32, 0x100);
    sc.rop_descriptor = ropd::kOpOr;
    REQUIRE(draw_copy(v, DrawArea{Rect{0, 0, 4, 4}, std::vector<Rect>{{2, 2, 4, 4}}}, sc));
    CHECK((v.pixel(3, 3) & 0xffffff) == 0x10d);
    CHECK(v.pixel(0, 0) == 0x100);

    // blend is copy
    Surface w = make(2, 1);
    Copy bl;
    bl.src = src.ref();
    bl.src_area = Rect{0, 0, 2, 1};
    REQUIRE(draw_blend(w, box(0, 0, 2, 1), bl));
    CHECK(w.pixel(1, 0) == 0x20);

    // a surface as the source
    Surface x = make(2, 1);
    Copy fs;
    fs.src = &w;
    fs.src_area = Rect{1, 0, 2, 1};
    REQUIRE(draw_copy(x, box(0, 0, 1, 1), fs));
    CHECK(x.pixel(0, 0) == 0x20);
}

TEST_CASE("opaque: source copied, then the brush over it", "[canvas][opaque]") {
    Img src{{0x0f0, 0x0f0}, 2, 1};
    Surface s = make(3, 1, SurfaceFormat::Rgb32, 0x999);
    Opaque o;
    o.src = src.ref();
    o.src_area = Rect{0, 0, 2, 1};
    o.brush = solid(0x00f);
    o.rop_descriptor = ropd::kOpOr;
    REQUIRE(draw_opaque(s, box(0, 0, 2, 1), o));
    CHECK(s.pixel(0, 0) == 0x0ff);
    CHECK(s.pixel(2, 0) == 0x999);
    // INVERS_SRC inverts the copied source (the "dest" operand here): brush & ~src
    o.rop_descriptor = ropd::kOpAnd | ropd::kInversSrc;
    o.brush = solid(0x0ff);
    REQUIRE(draw_opaque(s, box(0, 0, 2, 1), o));
    CHECK(s.pixel(1, 0) == (0x0ffu & ~0x0f0u));
}

TEST_CASE("blackness, whiteness, invers on 32, 16 and 8 bit surfaces", "[canvas]") {
    for (auto f : {SurfaceFormat::Rgb32, SurfaceFormat::Rgb16_555, SurfaceFormat::A8}) {
        const uint32_t full = f == SurfaceFormat::Rgb32 ? 0xffffffffu
                              : f == SurfaceFormat::A8  ? 0xffu
                                                        : 0xffffu;
        Surface s = make(4, 1, f, 0x35);
        REQUIRE(draw_blackness(s, box(0, 0, 1, 1), {}));
        REQUIRE(draw_whiteness(s, box(1, 0, 2, 1), {}));
        REQUIRE(draw_invers(s, box(2, 0, 3, 1), {}));
        CHECK(s.pixel(0, 0) == 0);
        CHECK(s.pixel(1, 0) == full);
        CHECK(s.pixel(2, 0) == (~0x35u & full));
        CHECK(s.pixel(3, 0) == 0x35);
    }
    // invers with an inverted mask: only the unset mask pixels flip
    Surface s = make(2, 1);
    Bits m{{0x01}, 2, 1};
    REQUIRE(draw_invers(s, box(0, 0, 2, 1), Mask{Source{m.ref()}, {}, true}));
    CHECK(s.pixel(0, 0) == 0);
    CHECK(s.pixel(1, 0) == 0xffffffffu);
}

TEST_CASE("rop3: truth tables and spice-gtk's missing codes", "[canvas][rop3]") {
    const uint32_t P = 0xf0, S = 0xcc, D = 0xaa;
    for (int code = 0; code < 256; ++code) {
        CHECK((apply_rop3(uint8_t(code), P, S, D) & 0xff) == uint32_t(code));
    }
    int missing = 0;
    for (int code = 0; code < 256; ++code)
        missing += rop3_missing_in_reference(uint8_t(code));
    CHECK(missing == 38);  // rop3.c registers 218 handlers
    for (uint8_t c : {0x00, 0xff, 0xcc, 0x66, 0xf0, 0x5a, 0x33, 0xaa})
        CHECK(rop3_missing_in_reference(c));
    for (uint8_t c : {0xb8, 0xe2, 0x01, 0xca})
        CHECK_FALSE(rop3_missing_in_reference(c));

    Img src{{0x00cc00cc, 0x00cc00cc, 0x00cc00cc, 0x00cc00cc}, 2, 2};
    auto run = [&](uint8_t code, bool reference) {
        Surface s = make(3, 3, SurfaceFormat::Rgb32, 0x00aa00aa);
        Rop3 r;
        r.src = src.ref();
        r.src_area = Rect{0, 0, 2, 2};
        r.brush = solid(0x00f000f0);
        r.rop3 = code;
        CanvasOptions opt;
        opt.reference_rop3_gaps = reference;
        REQUIRE(draw_rop3(s, box(0, 0, 2, 2), r, opt));
        CHECK(s.pixel(2, 2) == 0x00aa00aa);
        return s.pixel(1, 1);
    };
    // 0xb8 PSDPxax: ((D ^ P) & S) ^ P, 0xe2 DSPDxax: ((P ^ D) & S) ^ D
    CHECK(run(0xb8, true) == 0x00b800b8);
    CHECK(run(0xe2, true) == 0x00e200e2);
    for (uint8_t c : {0x00, 0xff, 0xcc, 0x66, 0xf0, 0x5a}) {
        INFO("code " << int(c));
        CHECK(run(c, true) == 0x00aa00aa);  // spice-gtk leaves the destination
        // bytes 0 and 2 hold the test patterns; bytes 1 and 3 are f(0, 0, 0) = bit 0 of c
        const uint32_t zeros = (c & 1) ? 0xff00ff00u : 0;
        CHECK(run(c, false) == (uint32_t(c) | uint32_t(c) << 16 | zeros));
    }

    // pattern brush: tile (x - pos.x) mod w; 0xf0 PATCOPY in non-reference mode
    Img pat{{1, 2}, 2, 1};
    Surface s = make(4, 1);
    Img wide{{0, 0, 0, 0}, 4, 1};
    Rop3 r;
    r.src = wide.ref();
    r.src_area = Rect{0, 0, 4, 1};
    r.brush = Brush{Brush::Type::Pattern, 0, Source{pat.ref()}, Point{1, 0}};
    r.rop3 = 0xf0;
    CanvasOptions opt;
    opt.reference_rop3_gaps = false;
    REQUIRE(draw_rop3(s, box(0, 0, 4, 1), r, opt));
    CHECK(s.pixel(0, 0) == 2);
    CHECK(s.pixel(1, 0) == 1);
    // a source smaller than the box is refused
    Rop3 small = r;
    small.src_area = Rect{2, 0, 6, 1};
    CHECK_FALSE(draw_rop3(s, box(0, 0, 4, 1), small, opt));
    // 16-bit: results truncated to 16 bits
    Surface h = make(1, 1, SurfaceFormat::Rgb16_565, 0xaaaa);
    Rop3 r16;
    r16.src = src.ref();
    r16.src_area = Rect{0, 0, 1, 1};
    r16.brush = solid(0xf0f0);
    r16.rop3 = 0xb8;
    REQUIRE(draw_rop3(h, box(0, 0, 1, 1), r16));
    // src 0x00cc00cc converted to 5-6-5: r=0xcc>>3 g=0 b=0xcc>>3 -> 0xc819
    const uint32_t s16 = 0xc819;
    CHECK(h.pixel(0, 0) == ((((0xaaaau ^ 0xf0f0u) & s16) ^ 0xf0f0u) & 0xffff));
}

TEST_CASE("transparent: colour key on 24 bits, scaled nearest", "[canvas][transparent]") {
    Img src{{0xff00ff00, 0x00123456, 0x0000ff00, 0x00000001}, 2, 2};
    Surface s = make(2, 2, SurfaceFormat::Rgb32, 0x77);
    Transparent t;
    t.src = src.ref();
    t.src_area = Rect{0, 0, 2, 2};
    t.true_color = 0x0000ff00;
    REQUIRE(draw_transparent(s, box(0, 0, 2, 2), t));
    CHECK(s.pixel(0, 0) == 0x77);  // alpha byte ignored in the comparison
    CHECK(s.pixel(1, 0) == 0x00123456);
    CHECK(s.pixel(0, 1) == 0x77);
    CHECK(s.pixel(1, 1) == 1);

    Surface u = make(4, 2, SurfaceFormat::Rgb32, 0x77);
    t.src_area = Rect{0, 0, 2, 1};
    REQUIRE(draw_transparent(u, box(0, 0, 4, 2), t));
    CHECK(u.pixel(0, 0) == 0x77);
    CHECK(u.pixel(1, 1) == 0x77);
    CHECK((u.pixel(2, 0) & 0xffffff) == 0x123456);
    CHECK((u.pixel(3, 1) & 0xffffff) == 0x123456);
}

TEST_CASE("alpha blend: OVER with constant alpha, with and without dest alpha", "[canvas][alpha]") {
    // premultiplied ARGB 0x80400000 over opaque blue: r = 0x40, b = 0xff * 0x7f / 0xff = 0x7f,
    // a = 0x80 + 0x7f = 0xff
    Img src{{0x80400000u}, 1, 1, codec::PixelFormat::Argb32};
    AlphaBlend ab;
    ab.src = src.ref();
    ab.src_area = Rect{0, 0, 1, 1};
    {
        Surface s = make(2, 1, SurfaceFormat::Rgb32, 0xff0000ffu);
        REQUIRE(draw_alpha_blend(s, box(0, 0, 1, 1), ab));
        CHECK(s.pixel(0, 0) == 0x0040007fu);  // clear_dest_alpha: first pixel had 0xff
        CHECK(s.pixel(1, 0) == 0xff0000ffu);
    }
    {
        Surface s = make(1, 1, SurfaceFormat::Rgb32, 0xff0000ffu);
        ab.alpha_flags = alpha_flags::kDestHasAlpha;
        REQUIRE(draw_alpha_blend(s, box(0, 0, 1, 1), ab));
        CHECK(s.pixel(0, 0) == 0xff40007fu);
    }
    {
        // xRGB source red at alpha 0x80 over blue: r = MUL(0xff, 0x80) = 0x80,
        // b = 0xff * 0x7f / 0xff = 0x7f. pixman's x8r8g8b8 path leaves alpha 0x80 + 0 in the
        // unused byte, and clear_dest_alpha only clears when the first pixel has 0xff.
        Img red{{0x00ff0000u}, 1, 1};
        AlphaBlend half;
        half.src = red.ref();
        half.src_area = Rect{0, 0, 1, 1};
        half.alpha = 0x80;
        Surface s = make(1, 1, SurfaceFormat::Rgb32, 0x000000ffu);
        REQUIRE(draw_alpha_blend(s, box(0, 0, 1, 1), half));
        CHECK(s.pixel(0, 0) == 0x8080007fu);
        half.alpha = 0;
        Surface t = make(1, 1, SurfaceFormat::Rgb32, 5);
        auto d = draw_alpha_blend(t, box(0, 0, 1, 1), half);
        REQUIRE(d);
        CHECK(d->empty());
        CHECK(t.pixel(0, 0) == 5);
    }
    {
        // scaled 1x1 -> 2x2
        Surface s = make(2, 2, SurfaceFormat::Argb32, 0);
        Img white{{0xffffffffu}, 1, 1, codec::PixelFormat::Argb32};
        AlphaBlend sc;
        sc.src = white.ref();
        sc.src_area = Rect{0, 0, 1, 1};
        REQUIRE(draw_alpha_blend(s, box(0, 0, 2, 2), sc));
        CHECK(count(s, 0xffffffffu) == 4);
    }
}

namespace {

// miZeroLine's loop written out literally (no clipping), for cross-checking.
std::vector<Point> literal_zero_line(Point a, Point b) {
    std::vector<Point> out;
    int adx = b.x - a.x, ady = b.y - a.y, sx = 1, sy = 1, octant = 0;
    if (adx < 0)
        adx = -adx, sx = -1, octant |= 4;
    if (ady < 0)
        ady = -ady, sy = -1, octant |= 2;
    const unsigned bias = (1u << 3) | (1u << 7) | (1u << 6) | (1u << 4);
    int x = a.x, y = a.y;
    if (adx > ady) {
        int e1 = ady << 1, e2 = e1 - (adx << 1), e = e1 - adx;
        e -= (bias >> octant) & 1;
        int e3 = e2 - e1;
        e -= e1;
        for (int n = adx; n--;) {
            out.push_back({x, y});
            e += e1;
            if (e >= 0)
                y += sy, e += e3;
            x += sx;
        }
    } else {
        int e1 = adx << 1, e2 = e1 - (ady << 1), e = e1 - ady;
        octant |= 1;
        e -= (bias >> octant) & 1;
        int e3 = e2 - e1;
        e -= e1;
        for (int n = ady; n--;) {
            out.push_back({x, y});
            e += e1;
            if (e >= 0)
                x += sx, e += e3;
            y += sy;
        }
    }
    return out;
}

Stroke line(std::vector<Point> pts, uint32_t color, uint16_t mode = ropd::kOpPut) {
    Stroke s;
    PathSegment seg;
    seg.flags = path_flags::kBegin | path_flags::kEnd;
    for (Point p : pts)
        seg.points.push_back(PointFix{p.x * 16, p.y * 16});
    s.path.push_back(seg);
    s.brush = solid(color);
    s.fore_mode = mode;
    return s;
}

}  // namespace

TEST_CASE("stroke: X11 zero-width lines with CapNotLast", "[canvas][stroke]") {
    // horizontal: the end point is not drawn
    Surface h = make(8, 8);
    REQUIRE(draw_stroke(h, box(0, 0, 8, 8), line({{1, 2}, {5, 2}}, 9)));
    CHECK(count(h, 9) == 4);
    CHECK(h.pixel(1, 2) == 9);
    CHECK(h.pixel(4, 2) == 9);
    CHECK(h.pixel(5, 2) == 0);
    // vertical, drawn upwards
    Surface v = make(8, 8);
    REQUIRE(draw_stroke(v, box(0, 0, 8, 8), line({{3, 6}, {3, 1}}, 9)));
    CHECK(count(v, 9) == 5);
    CHECK(v.pixel(3, 6) == 9);
    CHECK(v.pixel(3, 1) == 0);
    // diagonal
    Surface d = make(8, 8);
    REQUIRE(draw_stroke(d, box(0, 0, 8, 8), line({{0, 0}, {4, 4}}, 9)));
    CHECK(count(d, 9) == 4);
    for (uint32_t i = 0; i < 4; ++i)
        CHECK(d.pixel(i, i) == 9);
    // (0,0)->(4,2), octant 8 (no bias): e steps give (0,0) (1,1) (2,1) (3,2)
    CHECK(zero_line_pixels({{0, 0}, {4, 2}}, 8, 8) ==
          std::vector<Point>{{0, 0}, {1, 1}, {2, 1}, {3, 2}});
    // reversed, octant 4 (biased): the same middle pixels, other end excluded
    CHECK(zero_line_pixels({{4, 2}, {0, 0}}, 8, 8) ==
          std::vector<Point>{{4, 2}, {3, 2}, {2, 1}, {1, 1}});
    // the closed form matches the literal Bresenham loop on random segments
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> coord(-20, 40);
    for (int k = 0; k < 2000; ++k) {
        Point a{coord(rng), coord(rng)}, b{coord(rng), coord(rng)};
        std::vector<Point> want;
        for (Point p : literal_zero_line(a, b))
            if (p.x >= 0 && p.x < 24 && p.y >= 0 && p.y < 16)
                want.push_back(p);
        REQUIRE(zero_line_pixels({a, b}, 24, 16) == want);
    }
}

TEST_CASE("stroke: clip, XOR polyline, close and rejected dashes", "[canvas][stroke]") {
    Surface s = make(8, 8);
    DrawArea a{Rect{0, 0, 8, 8}, std::vector<Rect>{{0, 0, 3, 8}}};
    REQUIRE(draw_stroke(s, a, line({{-3, 1}, {20, 1}}, 5)));
    CHECK(count(s, 5) == 3);

    // closed triangle with XOR: every vertex drawn once (CapNotLast on the closing segment)
    Surface t = make(8, 8);
    Stroke tri = line({{1, 1}, {5, 1}, {5, 5}}, 0xff, ropd::kOpXor);
    tri.path[0].flags |= path_flags::kClose;
    REQUIRE(draw_stroke(t, box(0, 0, 8, 8), tri));
    CHECK(t.pixel(1, 1) == 0xff);
    CHECK(t.pixel(5, 1) == 0xff);
    CHECK(t.pixel(5, 5) == 0xff);
    CHECK(t.pixel(3, 3) == 0xff);  // on the closing diagonal

    Stroke dashed = line({{0, 0}, {4, 0}}, 1);
    dashed.attr.flags = line_flags::kStyled;
    dashed.attr.style = {32, 32};
    auto r = draw_stroke(t, box(0, 0, 8, 8), dashed);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::Unsupported);

    // fix_to_int: 28.4 rounds to nearest with halves down: 2.5 -> 2, 2.5625 -> 3
    Surface u = make(8, 8);
    Stroke fx;
    PathSegment seg;
    seg.flags = path_flags::kBegin | path_flags::kEnd;
    seg.points = {PointFix{40, 0}, PointFix{41, 64}};
    fx.path = {seg};
    fx.brush = solid(3);
    REQUIRE(draw_stroke(u, box(0, 0, 8, 8), fx));
    CHECK(u.pixel(2, 0) == 3);  // from (2,0) to (3,4)
    CHECK(count(u, 3) == 4);
}

TEST_CASE("text: 1bpp glyph, bottom-up rows, back area", "[canvas][text]") {
    // glyph 3x2: stored bottom row first: bottom = 101, top = 110 (MSB = leftmost)
    const uint8_t bits[] = {0xa0, 0xc0};
    Glyph g{Point{2, 3}, Point{0, -1}, 3, 2, bits, sizeof bits};
    Text t;
    t.str.flags = string_flags::kRasterA1;
    t.str.glyphs = {g};
    t.fore_brush = solid(0x00ff0000);
    t.back_area = Rect{0, 0, 8, 1};
    t.back_brush = solid(0x000000ff);
    Surface s = make(8, 8);
    REQUIRE(draw_text(s, box(0, 0, 8, 8), t));
    // glyph box: left 2, top 2; top row (y 2) = 110, bottom row (y 3) = 101
    CHECK(s.pixel(2, 2) == 0x00ff0000);  // top-left lit -> alpha bytes cleared
    CHECK(s.pixel(3, 2) == 0x00ff0000);
    CHECK(s.pixel(4, 2) == 0);
    CHECK(s.pixel(2, 3) == 0x00ff0000);
    CHECK(s.pixel(3, 3) == 0);
    CHECK(s.pixel(4, 3) == 0x00ff0000);
    CHECK(count(s, 0x00ff0000) == 4);
    CHECK(count(s, 0x000000ff) == 8);
    // back area with a non-PUT fore mode: spice-gtk draws nothing at all
    Surface u = make(8, 8);
    t.fore_mode = ropd::kOpXor;
    REQUIRE(draw_text(u, box(0, 0, 8, 8), t));
    CHECK(count(u, 0) == 64);
    // glyph data shorter than the raster is refused
    Text bad = t;
    bad.str.glyphs[0].size = 1;
    CHECK_FALSE(draw_text(u, box(0, 0, 8, 8), bad));
}

TEST_CASE("composite: OVER with an identity transform", "[canvas][composite]") {
    Img src{{0x80400000u, 0xff00ff00u}, 2, 1, codec::PixelFormat::Argb32};
    Surface s = make(3, 1, SurfaceFormat::Argb32, 0xff0000ffu);
    Composite c;
    c.flags = 3 /* PIXMAN_OP_OVER */ | composite_flags::kHasSrcTransform;
    c.src = src.ref();
    REQUIRE(draw_composite(s, box(1, 0, 3, 1), c));
    CHECK(s.pixel(0, 0) == 0xff0000ffu);
    CHECK(s.pixel(1, 0) == 0xff40007fu);
    CHECK(s.pixel(2, 0) == 0xff00ff00u);
    c.flags = 0x0e;  // not a pixman op
    CHECK_FALSE(draw_composite(s, box(0, 0, 1, 1), c));
}

TEST_CASE("copy_bits: overlapping moves behave like memmove", "[canvas][copy_bits]") {
    for (Point dir :
         {Point{1, 1}, Point{-1, -1}, Point{2, 0}, Point{-2, 0}, Point{0, 3}, Point{1, -2}}) {
        Surface s = make(8, 8);
        for (uint32_t y = 0; y < 8; ++y)
            for (uint32_t x = 0; x < 8; ++x)
                s.set_pixel(x, y, y * 8 + x);
        // move the 5x5 block at (2, 2) by dir; the clip splits it into bands
        DrawArea a{Rect{2 + dir.x, 2 + dir.y, 7 + dir.x, 7 + dir.y},
                   std::vector<Rect>{{0, 0, 8, 4}, {0, 4, 5, 8}, {6, 4, 8, 8}}};
        REQUIRE(copy_bits(s, a, Point{2, 2}));
        for (int32_t y = 0; y < 8; ++y) {
            for (int32_t x = 0; x < 8; ++x) {
                const bool in_box =
                    x >= a.box.left && x < a.box.right && y >= a.box.top && y < a.box.bottom;
                const bool in_clip = y < 4 || x < 5 || x >= 6;
                const uint32_t want = (in_box && in_clip) ? uint32_t((y - dir.y) * 8 + x - dir.x)
                                                          : uint32_t(y * 8 + x);
                INFO("dir " << dir.x << "," << dir.y << " at " << x << "," << y);
                CHECK(s.pixel(x, y) == want);
            }
        }
    }
    // a source off the surface is clipped away
    Surface t = make(4, 4, SurfaceFormat::Rgb32, 1);
    auto d = copy_bits(t, box(0, 0, 4, 4), Point{-2, 0});
    REQUIRE(d);
    CHECK(d->extents() == Rect{2, 0, 4, 4});
}

TEST_CASE("16-bit and A8 surfaces", "[canvas]") {
    Surface s = make(2, 1, SurfaceFormat::Rgb16_555);
    Img src{{0x00ff8040u}, 1, 1};
    Copy c;
    c.src = src.ref();
    c.src_area = Rect{0, 0, 1, 1};
    REQUIRE(draw_copy(s, box(0, 0, 1, 1), c));
    CHECK(s.pixel(0, 0) == ((31u << 10) | (16u << 5) | 8u));
    REQUIRE(draw_fill(s, box(1, 0, 2, 1), Fill{solid(0x12345), ropd::kOpPut, {}}));
    CHECK(s.pixel(1, 0) == 0x2345);  // raw value truncated to 16 bits

    Transparent t;
    t.src = src.ref();
    t.src_area = Rect{0, 0, 1, 1};
    t.true_color = 0x00ff8040;  // converted to 5-5-5, so the pixel is keyed out
    Surface k = make(1, 1, SurfaceFormat::Rgb16_555, 7);
    REQUIRE(draw_transparent(k, box(0, 0, 1, 1), t));
    CHECK(k.pixel(0, 0) == 7);

    Surface a = make(3, 1, SurfaceFormat::A8, 0x10);
    REQUIRE(draw_fill(a, box(0, 0, 2, 1), Fill{solid(0x1ff), ropd::kOpOr, {}}));
    CHECK(a.pixel(0, 0) == 0xff);
    CHECK(a.pixel(2, 0) == 0x10);

    Surface one = make(8, 1, SurfaceFormat::A1);
    auto r = draw_fill(one, box(0, 0, 8, 1), Fill{solid(1), ropd::kOpPut, {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::Unsupported);
}

TEST_CASE("bad input never writes outside the surface", "[canvas][robust]") {
    Surface s = make(4, 4, SurfaceFormat::Rgb32, 0);
    Img src{{1, 2, 3, 4}, 2, 2};
    Copy c;
    c.src = src.ref();
    c.src_area = Rect{-100, -100, 2, 2};  // 102x102 scaled into a huge box
    CHECK(draw_copy(s, box(-1000000, -1000000, 1000000, 1000000), c));
    CHECK(draw_copy(s, box(INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX), c).error().code ==
          Errc::BadValue);          // wider than pixman's 32-bit coordinates can scale
    c.src_area = Rect{5, 5, 5, 5};  // empty area scaled: refused
    CHECK_FALSE(draw_copy(s, box(0, 0, 4, 4), c));
    c.src_area = Rect{-1, -1, 1, 1};  // same size, mostly off the image
    CHECK(draw_copy(s, box(0, 0, 2, 2), c));
    CHECK(s.pixel(1, 1) == 1);

    Bits m{{0xff}, 8, 1};
    Fill f{solid(5), ropd::kOpPut, Mask{Source{m.ref()}, Point{-1000, 5000}, false}};
    auto d = draw_fill(s, box(0, 0, 4, 4), f);
    REQUIRE(d);
    CHECK(d->empty());
    Img not_a1{{0}, 1, 1};
    f.mask.image = Source{not_a1.ref()};
    CHECK_FALSE(draw_fill(s, box(0, 0, 4, 4), f));

    Stroke huge = line({{-(1 << 26), -(1 << 26)}, {1 << 26, 1 << 26}}, 7);
    REQUIRE(draw_stroke(s, box(INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX), huge));
    CHECK(count(s, 7) == 4);  // the diagonal through the 4x4 surface
    Stroke degenerate;
    PathSegment seg;
    seg.flags = path_flags::kBegin | path_flags::kBezier | path_flags::kEnd;
    seg.points = {PointFix{16, 16}, PointFix{16, 16}, PointFix{16, 16}, PointFix{16, 16}};
    degenerate.path = {seg};
    degenerate.brush = solid(1);
    CHECK(draw_stroke(s, box(0, 0, 4, 4), degenerate));  // spice-gtk recurses forever here

    Text t;
    t.str.flags = string_flags::kRasterA8;
    static const uint8_t px[1] = {0xff};
    t.str.glyphs = {Glyph{Point{0, 0}, Point{0, 0}, 1, 1, px, 1},
                    Glyph{Point{1 << 30, 1 << 30}, Point{0, 0}, 1, 1, px, 1}};
    t.fore_brush = solid(1);
    auto r = draw_text(s, box(0, 0, 4, 4), t);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::LimitExceeded);
}

TEST_CASE("png: a surface written as PNG", "[canvas][png]") {
    Surface s = make(3, 2, SurfaceFormat::Rgb32, 0x00ff0000);
    const auto path = std::filesystem::temp_directory_path() / "spicetap_canvas_test.png";
    REQUIRE(write_png(s, path.string()));
    std::ifstream in(path, std::ios::binary);
    char sig[8] = {};
    in.read(sig, 8);
    CHECK(std::string(sig + 1, 3) == "PNG");
    std::filesystem::remove(path);
    CHECK_FALSE(write_png(s, "/nonexistent-dir/x.png"));
}
