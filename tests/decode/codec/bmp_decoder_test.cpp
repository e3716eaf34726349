// BMP decoding: every supported header and depth, row order, masks, and the errors. The bitmaps
// are built here byte by byte following the Windows BITMAPINFOHEADER layout; real agent
// traffic with an image clipboard is covered by tests/cli/agent_extract_test.cpp.
#include "decode/codec/bmp_decoder.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using namespace spicetap;
using namespace spicetap::codec;

namespace {

struct Bytes {
    std::vector<uint8_t> v;

    Bytes& u8(uint8_t x) {
        v.push_back(x);
        return *this;
    }

    Bytes& u16(uint16_t x) { return u8(x & 0xff).u8(x >> 8); }

    Bytes& u32(uint32_t x) { return u16(x & 0xffff).u16(x >> 16); }
};

// A "BM" file: file header, 40-byte info header (+ masks / palette), pixel rows.
std::vector<uint8_t> bmp(int32_t w, int32_t h, uint16_t bpp, uint32_t comp,
                         const std::vector<uint32_t>& masks, const std::vector<uint32_t>& palette,
                         const std::vector<uint8_t>& rows) {
    const uint32_t extra = static_cast<uint32_t>(masks.size() * 4 + palette.size() * 4);
    const uint32_t off = 14 + 40 + extra;
    Bytes b;
    b.u8('B').u8('M').u32(off + static_cast<uint32_t>(rows.size())).u32(0).u32(off);
    b.u32(40).u32(static_cast<uint32_t>(w)).u32(static_cast<uint32_t>(h)).u16(1).u16(bpp).u32(comp);
    b.u32(static_cast<uint32_t>(rows.size()))
        .u32(2835)
        .u32(2835)
        .u32(static_cast<uint32_t>(palette.size()))
        .u32(0);
    for (uint32_t m : masks) {
        b.u32(m);
    }
    for (uint32_t p : palette) {
        b.u32(p);
    }
    b.v.insert(b.v.end(), rows.begin(), rows.end());
    return b.v;
}

std::vector<uint32_t> decode(const std::vector<uint8_t>& file, PixelFormat format) {
    auto info = probe_bmp(file);
    REQUIRE(info);
    CHECK(info->image.format == format);
    std::vector<uint32_t> px(size_t{info->image.width} * info->image.height);
    const PixelView view{reinterpret_cast<uint8_t*>(px.data()), info->image.width,
                         info->image.height, size_t{info->image.width} * 4, info->image.format};
    auto r = decode_bmp(file, view);
    REQUIRE(r);
    return px;
}

}  // namespace

TEST_CASE("24-bit bottom-up BMP: rows flipped, BGR order, rows padded to 4 bytes", "[codec][bmp]") {
    // 2x2: stored bottom row first; each row 6 bytes + 2 padding.
    const std::vector<uint8_t> rows = {
        0x00, 0x00, 0xff, 0x00, 0xff, 0x00, 0, 0,  // bottom: red, green
        0xff, 0x00, 0x00, 0x10, 0x20, 0x30, 0, 0,  // top: blue, (r30 g20 b10)
    };
    const auto px = decode(bmp(2, 2, 24, 0, {}, {}, rows), PixelFormat::Xrgb32);
    CHECK(px == std::vector<uint32_t>{0xff0000ff, 0xff302010, 0xffff0000, 0xff00ff00});
}

TEST_CASE("top-down 32-bit BITFIELDS BMP with an alpha mask decodes to ARGB", "[codec][bmp]") {
    const std::vector<uint8_t> rows = {0x11, 0x22, 0x33, 0x80, 0xff, 0xff, 0xff, 0x00};
    const auto file = bmp(2, -1, 32, 6, {0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000}, {}, rows);
    const auto px = decode(file, PixelFormat::Argb32);
    CHECK(px == std::vector<uint32_t>{0x80332211, 0x00ffffff});
}

TEST_CASE("16-bit BMP defaults to 5-5-5 and scales channels to 8 bits", "[codec][bmp]") {
    const std::vector<uint8_t> rows = {0x00, 0x7c, 0x1f, 0x00};  // red, blue
    const auto px = decode(bmp(2, 1, 16, 0, {}, {}, rows), PixelFormat::Xrgb32);
    CHECK(px == std::vector<uint32_t>{0xffff0000, 0xff0000ff});
}

TEST_CASE("palette BMPs: 1, 4 and 8 bits per pixel", "[codec][bmp]") {
    const std::vector<uint32_t> pal = {0x000000, 0xffffff, 0x00ff00, 0x0000ff};
    CHECK(decode(bmp(3, 1, 1, 0, {}, {0x000000, 0xffffff}, {0xa0, 0, 0, 0}), PixelFormat::Xrgb32) ==
          std::vector<uint32_t>{0xffffffff, 0xff000000, 0xffffffff});
    CHECK(decode(bmp(3, 1, 4, 0, {}, pal, {0x23, 0x10, 0, 0}), PixelFormat::Xrgb32) ==
          std::vector<uint32_t>{0xff00ff00, 0xff0000ff, 0xffffffff});
    CHECK(decode(bmp(2, 1, 8, 0, {}, pal, {3, 0, 0, 0}), PixelFormat::Xrgb32) ==
          std::vector<uint32_t>{0xff0000ff, 0xff000000});
}

TEST_CASE("a DIB without the file header decodes the same", "[codec][bmp]") {
    auto file = bmp(1, 1, 24, 0, {}, {}, {1, 2, 3, 0});
    const std::vector<uint8_t> dib(file.begin() + 14, file.end());
    CHECK(decode(dib, PixelFormat::Xrgb32) == std::vector<uint32_t>{0xff030201});
    auto info = probe_bmp(dib);
    REQUIRE(info);
    CHECK_FALSE(info->file_header);
}

TEST_CASE("BMP errors name what and where", "[codec][bmp]") {
    SECTION("RLE is unsupported") {
        auto r = probe_bmp(bmp(1, 1, 8, 1, {}, {0}, {0, 0, 0, 0}));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Unsupported);
        CHECK(r.error().what.find("RLE8") != std::string::npos);
    }
    SECTION("pixels cut short") {
        auto file = bmp(4, 4, 24, 0, {}, {}, std::vector<uint8_t>(20));
        auto r = probe_bmp(file);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Truncated);
        CHECK(r.error().offset == 54);
    }
    SECTION("unknown header size") {
        Bytes b;
        b.u8('B').u8('M').u32(0).u32(0).u32(0).u32(77);
        auto r = probe_bmp(b.v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadMagic);
    }
    SECTION("oversized") {
        auto r = probe_bmp(bmp(100000, 1, 24, 0, {}, {}, {}));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::LimitExceeded);
    }
    SECTION("palette index out of range") {
        auto file = bmp(1, 1, 8, 0, {}, {0x123456}, {5, 0, 0, 0});
        auto info = probe_bmp(file);
        REQUIRE(info);
        uint32_t px = 0;
        auto r = decode_bmp(
            file, PixelView{reinterpret_cast<uint8_t*>(&px), 1, 1, 4, PixelFormat::Xrgb32});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
    }
    SECTION("empty input") {
        CHECK_FALSE(probe_bmp({}));
    }
}
