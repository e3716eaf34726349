#include "decode/codec/lz_decoder.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/decode/codec/lz_test_encoder.h"
#include "tests/decode/codec/lz_test_vectors.h"

using namespace spicetap;
using namespace spicetap::codec;
using spicetap::test::LzSource;

namespace {

std::vector<uint8_t> read_vector(const std::string& name) {
    return test::read_codec_vector(name);
}

struct Image32 {
    uint32_t width = 0, height = 0;
    std::vector<uint32_t> px;

    PixelView view(PixelFormat f = PixelFormat::Xrgb32) {
        return PixelView{reinterpret_cast<uint8_t*>(px.data()), width, height, size_t{width} * 4,
                         f};
    }
};

Image32 decode32(LzDecoder& dec, const std::vector<uint8_t>& stream,
                 std::span<const uint32_t> palette = {}) {
    auto info = dec.probe(stream);
    REQUIRE(info);
    Image32 img{info->width, info->height,
                std::vector<uint32_t>(size_t{info->width} * info->height)};
    auto r = dec.decode(stream, img.view(info->format), palette);
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r);
    return img;
}

uint32_t expand5(uint32_t c) {
    return (c << 3) | (c >> 2);
}

uint32_t rgb16_to_xrgb(uint32_t v) {
    return 0xff000000u | (expand5((v >> 10) & 31) << 16) | (expand5((v >> 5) & 31) << 8) |
           expand5(v & 31);
}

// Pixels with enough repetition for matches of every kind and some noise for literals.
std::vector<uint32_t> make_pixels(uint32_t w, uint32_t h, uint32_t seed, uint32_t mask) {
    std::mt19937 rng(seed);
    std::vector<uint32_t> px(size_t{w} * h);
    for (size_t i = 0; i < px.size(); ++i) {
        const uint32_t x = uint32_t(i % w), y = uint32_t(i / w);
        switch (rng() % 4) {
            case 0:
                px[i] = rng();
                break;
            case 1:
                px[i] = i > 0 ? px[i - 1] : 0x123456;
                break;
            case 2:
                px[i] = y > 0 ? px[i - w] : 0xabcdef;
                break;
            default:
                px[i] = ((x / 3) * 0x10101u) ^ ((y / 2) * 0x3f00u);
                break;
        }
        px[i] &= mask;
    }
    return px;
}

// Rows in stream order -> expected view rows (top first).
template <typename T>
std::vector<T> to_view_order(const std::vector<T>& stream, uint32_t w, uint32_t h, bool top_down) {
    if (top_down) {
        return stream;
    }
    std::vector<T> out(stream.size());
    for (uint32_t r = 0; r < h; ++r) {
        std::copy_n(stream.begin() + size_t{r} * w, w, out.begin() + size_t{h - 1 - r} * w);
    }
    return out;
}

const std::vector<std::pair<uint32_t, uint32_t>> kSizes = {{1, 1},  {2, 1},   {1, 3},   {7, 3},
                                                           {13, 5}, {33, 17}, {64, 40}, {255, 9}};

}  // namespace

TEST_CASE("LZ decodes real LZ_RGB payloads from a QEMU session", "[codec][lz]") {
    LzDecoder dec;
    SECTION("SeaBIOS text console 720x400: black and VGA grey only") {
        const auto stream = read_vector("lz/seabios_text_720x400.lz");
        auto h = dec.read_header(stream);
        REQUIRE(h);
        CHECK(h->type == LzImageType::Rgb32);
        CHECK(h->width == 720);
        CHECK(h->height == 400);
        CHECK(h->stride == 720 * 4);
        CHECK(h->top_down);
        const Image32 img = decode32(dec, stream);
        std::map<uint32_t, size_t> colours;
        for (uint32_t p : img.px) {
            ++colours[p];
        }
        REQUIRE(colours.size() == 2);
        CHECK(colours.count(0xff000000u) == 1);
        CHECK(colours.count(0xffa8a8a8u) == 1);  // VGA DAC 42/63 light grey: the text
        CHECK(colours[0xffa8a8a8u] == 1463);
        CHECK(img.px[0] == 0xff000000u);
    }
    SECTION("small images and a full screen") {
        CHECK(decode32(dec, read_vector("lz/small_9x2.lz")).px.size() == 18);
        const Image32 cursor = decode32(dec, read_vector("lz/cursor_64x64.lz"));
        CHECK(std::set<uint32_t>(cursor.px.begin(), cursor.px.end()) ==
              std::set<uint32_t>{0xff000000u});
        const Image32 a = decode32(dec, read_vector("lz/screen_a_1024x768.lz"));
        const Image32 b = decode32(dec, read_vector("lz/screen_b_1024x768.lz"));
        CHECK(a.width == 1024);
        CHECK(a.height == 768);
        CHECK(a.px != b.px);
    }
    SECTION("every byte is needed: any truncation fails, an extra byte fails") {
        auto stream = read_vector("lz/seabios_text_720x400.lz");
        std::vector<uint32_t> px(720 * 400);
        PixelView v{reinterpret_cast<uint8_t*>(px.data()), 720, 400, 720 * 4, PixelFormat::Xrgb32};
        for (size_t cut = 0; cut < stream.size(); cut += 7) {
            auto r = dec.decode(ByteView(stream.data(), cut), v);
            REQUIRE_FALSE(r);
        }
        auto r = dec.decode(ByteView(stream.data(), stream.size() - 1), v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Truncated);
        CHECK(r.error().offset == stream.size() - 1);
        CHECK(r.error().message().find("LZ: ") != std::string::npos);
        stream.push_back(0);
        r = dec.decode(stream, v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Corrupt);
        CHECK(r.error().offset == stream.size() - 1);
        CHECK(r.error().what.find("1 bytes left over") != std::string::npos);
    }
}

TEST_CASE("LZ round-trips every RGB and alpha type", "[codec][lz]") {
    LzDecoder dec;
    const std::vector<LzImageType> types = {LzImageType::Rgb16, LzImageType::Rgb24,
                                            LzImageType::Rgb32, LzImageType::Rgba, LzImageType::A8};
    uint32_t seed = 1;
    for (LzImageType type : types) {
        for (auto [w, h] : kSizes) {
            for (bool top_down : {true, false}) {
                CAPTURE(lz_image_type_name(type), w, h, top_down);
                LzSource s;
                s.type = type;
                s.width = w;
                s.height = h;
                s.top_down = top_down;
                s.stride = w * lz::bytes_per_pixel(type);
                const uint32_t mask = type == LzImageType::Rgb16  ? 0x7fff
                                      : type == LzImageType::A8   ? 0xff
                                      : type == LzImageType::Rgba ? 0xffffffff
                                                                  : 0xffffff;
                s.px = make_pixels(w, h, seed++, mask);
                const auto stream = test::lz_encode(s);
                auto info = dec.probe(stream);
                REQUIRE(info);
                CHECK(info->top_down == top_down);
                CHECK(info->format == lz::output_format(type));
                std::vector<uint32_t> expect_stream;
                for (uint32_t p : s.px) {
                    switch (type) {
                        case LzImageType::Rgb16:
                            expect_stream.push_back(rgb16_to_xrgb(p));
                            break;
                        case LzImageType::Rgba:
                            expect_stream.push_back(p);
                            break;
                        case LzImageType::A8:
                            expect_stream.push_back(p);
                            break;
                        default:
                            expect_stream.push_back(0xff000000u | p);
                            break;
                    }
                }
                const auto expect = to_view_order(expect_stream, w, h, top_down);
                if (type == LzImageType::A8) {
                    // Padded rows: decode goes through the scratch buffer.
                    const size_t stride = w + 3;
                    std::vector<uint8_t> out(stride * h, 0xee);
                    PixelView v{out.data(), w, h, stride, PixelFormat::A8};
                    auto r = dec.decode(stream, v);
                    INFO((r ? std::string() : r.error().message()));
                    REQUIRE(r);
                    for (uint32_t y = 0; y < h; ++y) {
                        for (uint32_t x = 0; x < w; ++x) {
                            REQUIRE(out[y * stride + x] == expect[size_t{y} * w + x]);
                        }
                        CHECK(out[y * stride + w] == 0xee);
                    }
                    continue;
                }
                const Image32 img = decode32(dec, stream);
                REQUIRE(img.px == expect);
            }
        }
    }
}

TEST_CASE("LZ round-trips palette types through the palette", "[codec][lz]") {
    LzDecoder dec;
    const std::vector<uint32_t> palette16 = {
        0x000000, 0x800000, 0x008000, 0x808000, 0x000080, 0x800080, 0x008080, 0xc0c0c0,
        0x808080, 0xff0000, 0x00ff00, 0xffff00, 0x0000ff, 0xff00ff, 0x00ffff, 0xffffff};
    const std::vector<LzImageType> types = {LzImageType::Plt1Le, LzImageType::Plt1Be,
                                            LzImageType::Plt4Le, LzImageType::Plt4Be,
                                            LzImageType::Plt8};
    std::mt19937 rng(7);
    for (LzImageType type : types) {
        const uint32_t ppb = lz::pixels_per_byte(type);
        const uint32_t bits = 8 / ppb;
        for (auto [w, h] : kSizes) {
            for (bool top_down : {true, false}) {
                for (uint32_t palette_size : {16u, 5u}) {
                    CAPTURE(lz_image_type_name(type), w, h, top_down, palette_size);
                    const std::vector<uint32_t> palette(palette16.begin(),
                                                        palette16.begin() + palette_size);
                    LzSource s;
                    s.type = type;
                    s.width = w;
                    s.height = h;
                    s.top_down = top_down;
                    s.stride = (w + ppb - 1) / ppb;
                    s.bytes.assign(size_t{s.stride} * h, 0);
                    std::vector<uint32_t> expect_stream;
                    for (uint32_t y = 0; y < h; ++y) {
                        for (uint32_t x = 0; x < w; ++x) {
                            const uint32_t idx =
                                (x % 5 == 0 || y % 3 == 0) ? (rng() & ((1u << bits) - 1)) : 1;
                            const uint32_t k = x % ppb;
                            const uint32_t shift =
                                (type == LzImageType::Plt1Be || type == LzImageType::Plt4Be)
                                    ? 8 - bits * (k + 1)
                                    : bits * k;
                            s.bytes[size_t{y} * s.stride + x / ppb] |= uint8_t(idx << shift);
                            expect_stream.push_back(0xff000000u | palette[idx % palette_size]);
                        }
                    }
                    const auto stream = test::lz_encode(s);
                    const auto expect = to_view_order(expect_stream, w, h, top_down);
                    REQUIRE(decode32(dec, stream, palette).px == expect);
                }
            }
        }
    }
    SECTION("a palette image without a palette is an error") {
        LzSource s;
        s.type = LzImageType::Plt8;
        s.width = s.height = s.stride = 2;
        s.bytes = {1, 2, 3, 4};
        const auto stream = test::lz_encode(s);
        std::vector<uint32_t> px(4);
        auto r = dec.decode(
            stream, PixelView{reinterpret_cast<uint8_t*>(px.data()), 2, 2, 8, PixelFormat::Xrgb32});
        REQUIRE_FALSE(r);
        CHECK(r.error().what.find("needs a palette") != std::string::npos);
    }
    SECTION("a stride one byte wider than needed is accepted when width is not a multiple") {
        LzSource s;
        s.type = LzImageType::Plt4Be;
        s.width = 3;  // needs 2 bytes; spice allows width/ppb + 1
        s.height = 2;
        s.stride = 2;
        s.bytes = {0x12, 0x30, 0x45, 0x60};
        const std::vector<uint32_t> pal = {0, 1, 2, 3, 4, 5, 6, 7};
        const Image32 img = decode32(dec, test::lz_encode(s), pal);
        CHECK(img.px == std::vector<uint32_t>{0xff000001, 0xff000002, 0xff000003, 0xff000004,
                                              0xff000005, 0xff000006});
    }
}

TEST_CASE("LZ XXXA fills only the alpha of an Argb32 view, or an A8 view", "[codec][lz]") {
    LzDecoder dec;
    for (bool top_down : {true, false}) {
        LzSource s;
        s.type = LzImageType::Xxxa;
        s.width = 11;
        s.height = 6;
        s.stride = 44;
        s.top_down = top_down;
        s.px = make_pixels(11, 6, 99, 0xffffffff);
        const auto stream = test::lz_encode(s);
        std::vector<uint32_t> argb(66, 0x00123456);
        auto r = dec.decode(stream, PixelView{reinterpret_cast<uint8_t*>(argb.data()), 11, 6, 44,
                                              PixelFormat::Argb32});
        REQUIRE(r);
        std::vector<uint8_t> a8(66);
        REQUIRE(dec.decode(stream, PixelView{a8.data(), 11, 6, 11, PixelFormat::A8}));
        std::vector<uint32_t> alpha_stream;
        for (uint32_t p : s.px) {
            alpha_stream.push_back(p >> 24);
        }
        const auto expect = to_view_order(alpha_stream, 11, 6, top_down);
        for (size_t i = 0; i < 66; ++i) {
            REQUIRE(argb[i] == ((expect[i] << 24) | 0x123456u));
            REQUIRE(a8[i] == expect[i]);
        }
    }
}

TEST_CASE("LZ writes into padded and Argb32 views, and uses far distances", "[codec][lz]") {
    LzDecoder dec;
    LzSource s;
    s.type = LzImageType::Rgb32;
    s.width = 100;
    s.height = 200;
    s.stride = 400;
    s.px = make_pixels(100, 100, 5, 0xffffff);
    s.px.insert(s.px.end(), s.px.begin(), s.px.end());  // rows 100.. repeat 10000 pixels back
    const auto stream = test::lz_encode(s);
    CHECK(stream.size() < 100 * 100 * 3 + 28 + 100 * 100 / 16);  // the copy half is cheap
    const Image32 tight = decode32(dec, stream);
    for (size_t i = 0; i < s.px.size(); ++i) {
        REQUIRE(tight.px[i] == (0xff000000u | s.px[i]));
    }
    const size_t stride = 100 * 4 + 12;
    std::vector<uint8_t> padded(stride * 200, 0x5a);
    REQUIRE(dec.decode(stream, PixelView{padded.data(), 100, 200, stride, PixelFormat::Argb32}));
    for (uint32_t y = 0; y < 200; ++y) {
        REQUIRE(std::memcmp(padded.data() + y * stride, tight.px.data() + y * 100, 400) == 0);
        REQUIRE(padded[y * stride + 400] == 0x5a);
    }
}

TEST_CASE("LZ rejects malformed headers and streams with the offset", "[codec][lz]") {
    LzDecoder dec;
    LzSource s;
    s.type = LzImageType::Rgb32;
    s.width = 4;
    s.height = 2;
    s.stride = 16;
    s.px = {1, 2, 3, 4, 5, 6, 7, 8};
    const auto good = test::lz_encode(s);
    const auto with = [&](size_t at, uint32_t v) {
        auto b = good;
        b[at] = uint8_t(v >> 24), b[at + 1] = uint8_t(v >> 16), b[at + 2] = uint8_t(v >> 8);
        b[at + 3] = uint8_t(v);
        return b;
    };
    const auto fails = [&](const std::vector<uint8_t>& b, Errc code, uint64_t offset) {
        auto r = dec.probe(b);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == code);
        CHECK(r.error().offset == offset);
        CHECK(r.error().what.rfind("LZ: ", 0) == 0);
    };
    fails(std::vector<uint8_t>(good.begin(), good.begin() + 27), Errc::Truncated, 27);
    fails(with(0, 0x4c5a2020), Errc::BadMagic, 0);
    fails(with(4, 0x00010002), Errc::Unsupported, 4);
    fails(with(8, 0), Errc::BadValue, 8);
    fails(with(8, 12), Errc::BadValue, 8);
    fails(with(12, 0), Errc::BadValue, 12);
    fails(with(20, 15), Errc::BadValue, 20);  // RGB stride must be width * 4
    fails(with(12, 20000), Errc::LimitExceeded, 12);

    SECTION("view must match the image") {
        std::vector<uint32_t> px(8);
        auto r = dec.decode(
            good, PixelView{reinterpret_cast<uint8_t*>(px.data()), 4, 1, 16, PixelFormat::Xrgb32});
        REQUIRE_FALSE(r);
        r = dec.decode(good,
                       PixelView{reinterpret_cast<uint8_t*>(px.data()), 4, 2, 16, PixelFormat::A8});
        REQUIRE_FALSE(r);
    }
    SECTION("a match before the image start and an overlong literal are corrupt") {
        auto b = std::vector<uint8_t>(good.begin(), good.begin() + 28);
        b.push_back(0x20);  // match, len 0 + bias, distance 1, at pixel 0
        b.push_back(0x00);
        std::vector<uint32_t> px(8);
        const PixelView v{reinterpret_cast<uint8_t*>(px.data()), 4, 2, 16, PixelFormat::Xrgb32};
        auto r = dec.decode(b, v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Corrupt);
        CHECK(r.error().offset == 28);
        CHECK(r.error().what.find("before the start") != std::string::npos);
        b.resize(28);
        b.push_back(8);  // literal of 9 pixels in an 8-pixel image
        b.resize(28 + 1 + 27);
        r = dec.decode(b, v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Corrupt);
        CHECK(r.error().what.find("overruns") != std::string::npos);
    }
}

TEST_CASE("LZ survives random corruption of real and synthetic streams", "[codec][lz]") {
    LzDecoder dec;
    std::mt19937 rng(1234);
    std::vector<std::vector<uint8_t>> seeds = {read_vector("lz/seabios_text_720x400.lz"),
                                               read_vector("lz/small_9x2.lz")};
    LzSource s;
    s.type = LzImageType::Rgba;
    s.width = 17;
    s.height = 9;
    s.stride = 68;
    s.px = make_pixels(17, 9, 3, 0xffffffff);
    seeds.push_back(test::lz_encode(s));
    std::vector<uint32_t> out(720 * 400);
    const std::vector<uint32_t> palette = {1, 2, 3};
    for (const auto& seed : seeds) {
        for (int iter = 0; iter < 300; ++iter) {
            auto b = seed;
            const int flips = 1 + int(rng() % 4);
            for (int k = 0; k < flips; ++k) {
                b[28 + rng() % (b.size() - 28)] = uint8_t(rng());
            }
            auto info = dec.probe(b);
            REQUIRE(info);
            PixelView v{reinterpret_cast<uint8_t*>(out.data()), info->width, info->height,
                        size_t{info->width} * 4, info->format};
            (void)dec.decode(b, v, palette);  // must not crash; result may be either
        }
    }
}
