#include "decode/codec/zlib_glz_decoder.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "decode/codec/lz_decoder.h"
#include "tests/decode/codec/lz_test_vectors.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

std::vector<uint32_t> lz_pixels(const std::string& name) {
    LzDecoder dec;
    const auto stream = test::read_codec_vector(name);
    std::vector<uint32_t> px(1024 * 768);
    REQUIRE(dec.decode(stream, PixelView{reinterpret_cast<uint8_t*>(px.data()), 1024, 768, 4096,
                                         PixelFormat::Xrgb32}));
    return px;
}

void put_le32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(uint8_t(v >> (8 * i)));
    }
}

// SpiceZlibGlzRGBData around our own deflate of a GLZ stream.
std::vector<uint8_t> wrap(const std::vector<uint8_t>& glz, uint32_t claimed_size = 0) {
    uLongf n = compressBound(uLong(glz.size()));
    std::vector<uint8_t> z(n);
    REQUIRE(compress2(z.data(), &n, glz.data(), uLong(glz.size()), 6) == Z_OK);
    z.resize(n);
    std::vector<uint8_t> out;
    put_le32(out, claimed_size != 0 ? claimed_size : uint32_t(glz.size()));
    put_le32(out, uint32_t(z.size()));
    out.insert(out.end(), z.begin(), z.end());
    return out;
}

struct Screen {
    std::vector<uint32_t> px = std::vector<uint32_t>(1024 * 768);

    PixelView view() {
        return {reinterpret_cast<uint8_t*>(px.data()), 1024, 768, 4096, PixelFormat::Xrgb32};
    }
};

}  // namespace

TEST_CASE("ZLIB_GLZ decodes real payloads from a zlib-glz-wan session", "[codec][zlib_glz]") {
    GlzWindow window;
    ZlibGlzDecoder dec(window);
    const auto screen_a = lz_pixels("lz/screen_a_1024x768.lz");
    const auto screen_b = lz_pixels("lz/screen_b_1024x768.lz");

    const auto p25 = test::read_codec_vector("glz/zlib_id25_1024x768.zglz");
    auto zh = ZlibGlzDecoder::read_header(p25);
    REQUIRE(zh);
    CHECK(zh->data_size == p25.size() - kZlibGlzHeaderSize);
    CHECK(zh->glz_data_size == 3135);
    auto info = dec.probe(p25);
    REQUIRE(info);
    CHECK(info->width == 1024);
    CHECK(info->height == 768);
    CHECK(info->format == PixelFormat::Xrgb32);

    Screen s;
    auto r = dec.decode(p25, s.view());
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r);
    CHECK(dec.inflated().size() == 3135);
    CHECK(s.px == screen_a);  // same scene as the LZ capture
    for (int id = 26; id <= 28; ++id) {
        CAPTURE(id);
        const auto p =
            test::read_codec_vector("glz/zlib_id" + std::to_string(id) + "_1024x768.zglz");
        auto hdr = dec.decode(p);
        REQUIRE(hdr);
        CHECK(hdr->id == uint64_t(id));
        REQUIRE(GlzDecoder::copy_out(*window.find(hdr->id), s.view()));
        CHECK(s.px == screen_b);
        if (id >= 27) {
            CHECK(dec.stats().cross_image_refs > 0);  // real references into images 26, 27
            CHECK(dec.stats().oldest_referenced == uint64_t(id - 1));
        }
    }
    CHECK(window.image_count() == 4);
}

TEST_CASE("ZLIB_GLZ over our own deflate of a real GLZ stream shares the GLZ window",
          "[codec][zlib_glz]") {
    GlzWindow window;
    GlzDecoder glz(window);
    ZlibGlzDecoder zlib_glz(window);
    // GLZ_RGB and ZLIB_GLZ_RGB images share one id sequence and window: mix them.
    REQUIRE(glz.decode(test::read_codec_vector("glz/id23_1024x768.glz")));
    Screen s;
    REQUIRE(zlib_glz.decode(wrap(test::read_codec_vector("glz/id24_1024x768.glz")), s.view()));
    auto r = zlib_glz.decode(wrap(test::read_codec_vector("glz/id25_1024x768.glz")), s.view());
    REQUIRE(r);
    CHECK(zlib_glz.stats().oldest_referenced == uint64_t{24});
    CHECK(s.px == lz_pixels("lz/screen_b_1024x768.lz"));
    REQUIRE(glz.decode(test::read_codec_vector("glz/id26_1024x768.glz")));
    CHECK(window.image_count() == 4);
}

TEST_CASE("ZLIB_GLZ rejects inconsistent sizes and broken zlib data", "[codec][zlib_glz]") {
    GlzWindow window;
    ZlibGlzDecoder dec(window);
    const auto glz23 = test::read_codec_vector("glz/id23_1024x768.glz");
    const auto good = wrap(glz23);
    Screen s;
    REQUIRE(dec.decode(good, s.view()));

    const auto fails = [&](const std::vector<uint8_t>& p, Errc code, const char* text) {
        auto r = dec.decode(p, s.view());
        REQUIRE_FALSE(r);
        CAPTURE(r.error().message());
        CHECK(r.error().code == code);
        CHECK(r.error().what.rfind("ZLIB_GLZ: ", 0) == 0);
        CHECK(r.error().what.find(text) != std::string::npos);
    };
    fails(std::vector<uint8_t>(good.begin(), good.begin() + 7), Errc::Truncated, "header");
    fails(std::vector<uint8_t>(good.begin(), good.end() - 1), Errc::Truncated, "data_size");
    auto longer = good;
    longer.push_back(0);
    fails(longer, Errc::Corrupt, "left over after data_size");
    fails(wrap(glz23, 20), Errc::BadValue, "smaller than a GLZ header");
    fails(wrap(glz23, uint32_t(glz23.size() + 10)), Errc::Corrupt, "inflates to 3135 bytes");
    fails(wrap(glz23, uint32_t(glz23.size() - 10)), Errc::Corrupt, "more than glz_data_size");
    fails(wrap(glz23, 0xfffffff0u), Errc::LimitExceeded, "more than a 1024x768 image needs");

    auto bad = good;
    bad[kZlibGlzHeaderSize] ^= 0xff;  // zlib header
    fails(bad, Errc::Corrupt, "zlib: ");

    // Garbage after the end of the zlib stream, inside data_size.
    auto trailing = good;
    trailing.push_back(1);
    trailing[4] = uint8_t(trailing.size() - kZlibGlzHeaderSize);
    trailing[5] = uint8_t((trailing.size() - kZlibGlzHeaderSize) >> 8);
    fails(trailing, Errc::Corrupt, "left over after the zlib stream");

    // A cut-short zlib stream that still has a consistent data_size.
    auto cut = std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2);
    const uint32_t n = uint32_t(cut.size() - kZlibGlzHeaderSize);
    cut[4] = uint8_t(n), cut[5] = uint8_t(n >> 8), cut[6] = 0, cut[7] = 0;
    fails(cut, Errc::Truncated, "cut short");

    // Errors inside the GLZ stream keep GLZ's words and point into the inflated stream.
    auto inner = glz23;
    inner.push_back(0);
    auto r = dec.decode(wrap(inner), s.view());
    REQUIRE_FALSE(r);
    CHECK(r.error().what.find("in the inflated GLZ stream: GLZ image 23") != std::string::npos);
    CHECK(r.error().offset == glz23.size());
}

TEST_CASE("ZLIB_GLZ survives random corruption", "[codec][zlib_glz]") {
    GlzWindow window;
    ZlibGlzDecoder dec(window);
    const auto good = test::read_codec_vector("glz/zlib_id26_1024x768.zglz");
    std::mt19937 rng(5);
    Screen s;
    for (int iter = 0; iter < 300; ++iter) {
        auto b = good;
        b[kZlibGlzHeaderSize + rng() % (b.size() - kZlibGlzHeaderSize)] = uint8_t(rng());
        (void)dec.decode(b, s.view());
    }
}
