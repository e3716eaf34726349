// QUIC decoder on real streams: cut out of QEMU and test-peer sessions, and made by
// spice-common's own encoder for the types and sizes real peers do not send
// (vectors/quic/README.md says which is which and how they were made).
#include "decode/codec/quic_decoder.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "decode/codec/image_cache.h"
#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

std::string vector_path(const std::string& name) {
    return std::string(SPICETAP_SOURCE_PATH) + "/tests/decode/codec/vectors/quic/" + name;
}

std::vector<uint8_t> read_vector(const std::string& name) {
    std::ifstream f(vector_path(name), std::ios::binary);
    REQUIRE(f.good());
    return {std::istreambuf_iterator<char>(f), {}};
}

Result<DecodedImage> decode_quic(QuicDecoder& dec, ByteView stream) {
    auto info = dec.probe(stream);
    if (!info) {
        return info.error();
    }
    DecodedImage img = DecodedImage::allocate(info->width, info->height, info->format);
    if (auto ok = dec.decode(stream, img.view()); !ok) {
        return ok.error();
    }
    return img;
}

DecodedImage decode_ok(const std::string& name) {
    QuicDecoder dec;
    const auto stream = read_vector(name);
    auto img = decode_quic(dec, stream);
    INFO(name << ": " << (img ? "" : img.error().message()));
    REQUIRE(img);
    return std::move(*img);
}

uint64_t fnv1a(const DecodedImage& img) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t y = 0; y < img.height; ++y) {
        const uint8_t* row = img.row(y);
        for (size_t i = 0; i < bytes_per_row(img.format, img.width); ++i) {
            h = (h ^ row[i]) * 0x100000001b3ull;
        }
    }
    return h;
}

// The picture the spice-common-encoded vectors were made from (vectors/quic/README.md):
// flat 4x3 blocks in a diagonal pattern, busy values elsewhere, channel c offset by 53 * c.
unsigned source_value(uint32_t x, uint32_t y, unsigned c, unsigned mask) {
    const unsigned base = ((x / 4) + (y / 3)) % 3 == 0 ? 40 : (x * 37 + y * 91 + (x * y) % 7 * 20);
    return (base + c * 53) & mask;
}

uint32_t expected_pixel(QuicImageType type, uint32_t x, uint32_t y) {
    switch (type) {
        case QuicImageType::Gray:
            return source_value(x, y, 0, 0xff);
        case QuicImageType::Rgb16: {
            const auto widen = [](unsigned v) { return (v << 3) | (v >> 2); };
            return 0xff000000u | widen(source_value(x, y, 0, 0x1f)) << 16 |
                   widen(source_value(x, y, 1, 0x1f)) << 8 | widen(source_value(x, y, 2, 0x1f));
        }
        case QuicImageType::Rgba:
            return source_value(x, y, 3, 0xff) << 24 | source_value(x, y, 0, 0xff) << 16 |
                   source_value(x, y, 1, 0xff) << 8 | source_value(x, y, 2, 0xff);
        default:
            return 0xff000000u | source_value(x, y, 0, 0xff) << 16 |
                   source_value(x, y, 1, 0xff) << 8 | source_value(x, y, 2, 0xff);
    }
}

uint32_t pixel_at(const DecodedImage& img, uint32_t x, uint32_t y) {
    return img.format == PixelFormat::A8 ? img.row(y)[x] : test::pixel32(img, x, y);
}

// tests/peers/server/display.c's known pictures (the test server draws them as 32-bit
// bitmaps; with --image-compression quic every one goes out as a QUIC RGB32 stream).
uint32_t peer_flat(int seed, int x, int y) {
    static const uint32_t palette[] = {0xffffff, 0x000000, 0x3465a4, 0xcc0000,
                                       0x4e9a06, 0xedd400, 0x75507b, 0xbabdb6};
    uint32_t c = palette[(((x / 8) ^ (y / 6)) + seed) & 7];
    if ((y % 12) == 11 || (x % 24) == 23) {
        c = 0x101010;
    }
    return c;
}

std::vector<uint32_t> peer_noise(int w, int h, uint32_t seed) {
    std::vector<uint32_t> p(size_t(w) * h);
    uint32_t s = seed * 2654435761u + 1;
    for (auto& v : p) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        v = s & 0xffffff;
    }
    return p;
}

}  // namespace

TEST_CASE("QUIC: header fields and probe", "[quic]") {
    QuicDecoder dec;
    const auto stream = read_vector("rgb32_3x2.quic");
    auto h = dec.read_header(stream);
    REQUIRE(h);
    CHECK(h->type == QuicImageType::Rgb32);
    CHECK(h->width == 3);
    CHECK(h->height == 2);
    auto info = dec.probe(stream);
    REQUIRE(info);
    CHECK(info->format == PixelFormat::Xrgb32);
    CHECK(info->top_down);
    CHECK(quic_output_format(QuicImageType::Rgba) == PixelFormat::Argb32);
    CHECK(quic_output_format(QuicImageType::Gray) == PixelFormat::A8);
    CHECK(std::string(quic_image_type_name(QuicImageType::Rgb16)) == "RGB16");
}

TEST_CASE("QUIC: real SeaBIOS text console from a QEMU session", "[quic]") {
    // tests/data/qemu-bios-quic.pcap: the only QUIC image of that session, 720x400 RGB32.
    const DecodedImage img = decode_ok("seabios_720x400_rgb32.quic");
    REQUIRE(img.width == 720);
    REQUIRE(img.height == 400);
    uint64_t grey = 0, black = 0;
    for (uint32_t y = 0; y < img.height; ++y) {
        for (uint32_t x = 0; x < img.width; ++x) {
            const uint32_t p = test::pixel32(img, x, y);
            grey += p == 0xffa8a8a8u;
            black += p == 0xff000000u;
        }
    }
    // VGA text: black background, 0xa8a8a8 glyphs, nothing else.
    CHECK(grey == 6446);
    CHECK(grey + black == uint64_t{720} * 400);
    CHECK(test::pixel32(img, 0, 0) == 0xff000000u);
    // The whole picture as spice-common's decoder produces it (top byte set to 0xff).
    CHECK(fnv1a(img) == 0x938fffc306d48ce5ull);
}

TEST_CASE("QUIC: real text console glyph cells from a QEMU session", "[quic]") {
    // tests/qemu guest scene `console` with image-compression=quic: fbcon on the qxl
    // framebuffer sends every typed key as an 8x16 glyph cell. Here "uname" as typed, and a
    // space. The same scene recorded with image-compression=lz sends the same cells as raw
    // BITMAPs: the rows below are those raw pixels (the VGA 8x16 font, 0xaaaaaa on black), so
    // the decode is checked against the guest's own pixels. One decoder for all, as a replay.
    struct Glyph {
        const char* file;
        std::array<uint8_t, 16> rows;  // bit 7 = leftmost pixel
    };

    const Glyph glyphs[] = {
        {"qemu_console_u_8x16.quic", {0, 0, 0, 0, 0, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0x76}},
        {"qemu_console_n_8x16.quic", {0, 0, 0, 0, 0, 0xdc, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66}},
        {"qemu_console_a_8x16.quic", {0, 0, 0, 0, 0, 0x78, 0x0c, 0x7c, 0xcc, 0xcc, 0xcc, 0x76}},
        {"qemu_console_m_8x16.quic", {0, 0, 0, 0, 0, 0xec, 0xfe, 0xd6, 0xd6, 0xd6, 0xd6, 0xc6}},
        {"qemu_console_e_8x16.quic", {0, 0, 0, 0, 0, 0x7c, 0xc6, 0xfe, 0xc0, 0xc0, 0xc6, 0x7c}},
        {"qemu_console_space_8x16.quic", {}},
    };
    QuicDecoder dec;
    for (const Glyph& g : glyphs) {
        INFO(g.file);
        const auto stream = read_vector(g.file);
        auto img = decode_quic(dec, stream);
        REQUIRE(img);
        REQUIRE(img->width == 8);
        REQUIRE(img->height == 16);
        for (uint32_t y = 0; y < 16; ++y) {
            for (uint32_t x = 0; x < 8; ++x) {
                const bool ink = (g.rows[y] >> (7 - x)) & 1;
                INFO("pixel " << x << "," << y);
                REQUIRE(test::pixel32(*img, x, y) == (ink ? 0xffaaaaaau : 0xff000000u));
            }
        }
    }
    // A 32x16 update across two text rows: the tail of a glyph above, "#" below.
    const auto stream = read_vector("qemu_console_prompt_32x16.quic");
    auto img = decode_quic(dec, stream);
    REQUIRE(img);
    uint64_t ink = 0;
    for (uint32_t y = 0; y < 16; ++y) {
        for (uint32_t x = 0; x < 32; ++x) {
            const uint32_t p = test::pixel32(*img, x, y);
            REQUIRE((p == 0xffaaaaaau || p == 0xff000000u));
            ink += p == 0xffaaaaaau;
        }
    }
    CHECK(ink == 5 + 5 + 42);  // ".###.##.", "##.###..", then '#' (2 rows of 7, 7 of 4)
}

TEST_CASE("QUIC: real 64x64 image of a QEMU guest session (display vector)", "[quic]") {
    std::ifstream f(std::string(SPICETAP_SOURCE_PATH) +
                        "/tests/decode/channels/vectors/display/s2c_304_draw_copy_quic.bin",
                    std::ios::binary);
    REQUIRE(f.good());
    const std::vector<uint8_t> msg{std::istreambuf_iterator<char>(f), {}};
    // The DRAW_COPY body ends with the image: data_size u32 (at 75) then the QUIC stream.
    REQUIRE(msg.size() == 79 + 180);
    const ByteView stream(msg.data() + 79, 180);
    QuicDecoder dec;
    auto img = decode_quic(dec, stream);
    REQUIRE(img);
    CHECK(img->width == 64);
    CHECK(img->height == 64);
    for (uint32_t y = 0; y < 64; ++y) {
        for (uint32_t x = 0; x < 64; ++x) {
            REQUIRE(test::pixel32(*img, x, y) == 0xff000000u);
        }
    }
    CHECK(fnv1a(*img) == 0x6927fac75e74a325ull);
}

TEST_CASE("QUIC: real QEMU guest images (qxl DRM guest, image-compression=quic)", "[quic]") {
    SECTION("final scene: background and the yellow rectangle") {
        const DecodedImage img = decode_ok("qemu_final_1024x728.quic");
        REQUIRE(img.width == 1024);
        REQUIRE(img.height == 728);
        // tests/qemu/fbdraw.c "final": 0x103060 with a 0xffcc00 rectangle; this update holds
        // the part of the rectangle not yet drawn, 170x120 px.
        uint32_t x0 = 1024, y0 = 728, x1 = 0, y1 = 0;
        uint64_t yellow = 0, other = 0;
        for (uint32_t y = 0; y < img.height; ++y) {
            for (uint32_t x = 0; x < img.width; ++x) {
                const uint32_t p = test::pixel32(img, x, y);
                if (p == 0xffffcc00u) {
                    ++yellow;
                    x0 = std::min(x0, x);
                    y0 = std::min(y0, y);
                    x1 = std::max(x1, x);
                    y1 = std::max(y1, y);
                } else if (p != 0xff103060u) {
                    ++other;
                }
            }
        }
        CHECK(other == 0);
        CHECK(yellow == 170 * 120);
        CHECK(uint64_t(x1 - x0 + 1) * (y1 - y0 + 1) == yellow);  // one solid rectangle
        CHECK(fnv1a(img) == 0x17cb0d101c978645ull);
    }
    SECTION("colour bars scene: a gradient line over grey") {
        const DecodedImage img = decode_ok("qemu_bars_1024x64.quic");
        uint64_t grey = 0;
        for (uint32_t y = 0; y < img.height; ++y) {
            for (uint32_t x = 0; x < img.width; ++x) {
                grey += test::pixel32(img, x, y) == 0xff202020u;
            }
        }
        CHECK(grey == 61440);
        CHECK(fnv1a(img) == 0x077c02a78cb90325ull);
    }
    SECTION("flat strip") {
        const DecodedImage img = decode_ok("qemu_flat_1024x16.quic");
        for (uint32_t y = 0; y < img.height; ++y) {
            for (uint32_t x = 0; x < img.width; ++x) {
                REQUIRE(test::pixel32(img, x, y) == 0xff202020u);
            }
        }
        CHECK(fnv1a(img) == 0x66951c7a3e6c2325ull);
    }
}

TEST_CASE("QUIC: the test peers' known pictures, pixel-exact", "[quic]") {
    // lossless-quic scenario: spice-server (libspice-server) encoded the test server's 32-bit
    // bitmaps; the source pixels are tests/peers/server/display.c's patterns.
    QuicDecoder dec;
    SECTION("noise 97x33 (odd width, nothing to predict)") {
        const auto stream = read_vector("peer_noise_97x33.quic");
        auto img = decode_quic(dec, stream);
        REQUIRE(img);
        const auto noise = peer_noise(97, 33, 7);
        uint64_t wrong = 0;
        for (uint32_t y = 0; y < 33; ++y) {
            for (uint32_t x = 0; x < 97; ++x) {
                wrong += test::pixel32(*img, x, y) != (0xff000000u | noise[y * 97 + x]);
            }
        }
        CHECK(wrong == 0);
    }
    for (const auto& [file, w, h, seed] :
         {std::tuple{"peer_flat_16x16.quic", 16u, 16u, 3}, {"peer_flat_64x48.quic", 64u, 48u, 5}}) {
        DYNAMIC_SECTION(file) {
            const auto stream = read_vector(file);
            auto img = decode_quic(dec, stream);
            REQUIRE(img);
            REQUIRE(img->width == w);
            REQUIRE(img->height == h);
            uint64_t wrong = 0;
            for (uint32_t y = 0; y < h; ++y) {
                for (uint32_t x = 0; x < w; ++x) {
                    wrong += test::pixel32(*img, x, y) !=
                             (0xff000000u | peer_flat(seed, int(x), int(y)));
                }
            }
            CHECK(wrong == 0);
        }
    }
}

TEST_CASE("QUIC: every image type, by spice-common's encoder, pixel-exact", "[quic]") {
    struct Case {
        const char* file;
        QuicImageType type;
        uint32_t w, h;
    };

    // 1x1 (no row after the first, no context), odd widths, runs (the flat blocks), and a row
    // wider than 2048 symbols (the wait mask index steps inside a row).
    const Case cases[] = {
        {"gray_1x1.quic", QuicImageType::Gray, 1, 1},
        {"gray_33x7.quic", QuicImageType::Gray, 33, 7},
        {"rgb16_1x1.quic", QuicImageType::Rgb16, 1, 1},
        {"rgb16_31x9.quic", QuicImageType::Rgb16, 31, 9},
        {"rgb24_1x1.quic", QuicImageType::Rgb24, 1, 1},
        {"rgb24_17x5.quic", QuicImageType::Rgb24, 17, 5},
        {"rgb32_1x1.quic", QuicImageType::Rgb32, 1, 1},
        {"rgb32_3x2.quic", QuicImageType::Rgb32, 3, 2},
        {"rgb32_2100x2.quic", QuicImageType::Rgb32, 2100, 2},
        {"rgba_1x1.quic", QuicImageType::Rgba, 1, 1},
        {"rgba_29x11.quic", QuicImageType::Rgba, 29, 11},
    };
    QuicDecoder dec;  // one decoder for all: nothing may leak from one image to the next
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.file) {
            const auto stream = read_vector(c.file);
            auto img = decode_quic(dec, stream);
            INFO((img ? "" : img.error().message()));
            REQUIRE(img);
            REQUIRE(img->width == c.w);
            REQUIRE(img->height == c.h);
            CHECK(img->format == quic_output_format(c.type));
            uint64_t wrong = 0;
            for (uint32_t y = 0; y < c.h; ++y) {
                for (uint32_t x = 0; x < c.w; ++x) {
                    wrong += pixel_at(*img, x, y) != expected_pixel(c.type, x, y);
                }
            }
            CHECK(wrong == 0);
        }
    }
}

TEST_CASE("QUIC: an RGB image into an Argb32 view and into a padded view", "[quic]") {
    const auto stream = read_vector("rgb24_17x5.quic");
    QuicDecoder dec;
    std::vector<uint8_t> buf(5 * 100);
    const PixelView view{buf.data(), 17, 5, 100, PixelFormat::Argb32};
    REQUIRE(dec.decode(stream, view));
    for (uint32_t y = 0; y < 5; ++y) {
        for (uint32_t x = 0; x < 17; ++x) {
            const uint8_t* p = view.row(y) + 4 * x;
            const uint32_t v =
                uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
            REQUIRE(v == expected_pixel(QuicImageType::Rgb24, x, y));
        }
        CHECK(buf[y * 100 + 68] == 0);  // padding untouched
    }
}

TEST_CASE("QUIC: views that do not fit are refused", "[quic]") {
    QuicDecoder dec;
    const auto rgba = read_vector("rgba_29x11.quic");
    std::vector<uint8_t> buf(29 * 11 * 4);
    auto r = dec.decode(rgba, PixelView{buf.data(), 29, 11, 29 * 4, PixelFormat::Xrgb32});
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("QUIC") && Catch::Contains("RGBA"));
    r = dec.decode(rgba, PixelView{buf.data(), 28, 11, 29 * 4, PixelFormat::Argb32});
    REQUIRE_FALSE(r);
    r = dec.decode(rgba, PixelView{buf.data(), 29, 11, 28 * 4, PixelFormat::Argb32});
    REQUIRE_FALSE(r);
    const auto gray = read_vector("gray_33x7.quic");
    r = dec.decode(gray, PixelView{buf.data(), 33, 7, 33 * 4, PixelFormat::Xrgb32});
    REQUIRE_FALSE(r);
}

TEST_CASE("QUIC: bad headers name the field and its offset", "[quic]") {
    QuicDecoder dec;
    auto stream = read_vector("rgb32_3x2.quic");
    SECTION("short") {
        auto r = dec.probe(ByteView(stream.data(), 19));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Truncated);
        CHECK(r.error().offset == 19);
        CHECK_THAT(r.error().message(), Catch::StartsWith("truncated at byte 19: QUIC"));
    }
    SECTION("magic") {
        stream[0] = 'X';
        auto r = dec.probe(stream);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadMagic);
        CHECK(r.error().offset == 0);
    }
    SECTION("version") {
        stream[6] = 1;
        auto r = dec.probe(stream);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Unsupported);
        CHECK(r.error().offset == 4);
    }
    SECTION("type") {
        for (uint8_t t : {0, 6, 255}) {
            stream[8] = t;
            auto r = dec.probe(stream);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::BadValue);
            CHECK(r.error().offset == 8);
        }
    }
    SECTION("empty or negative size") {
        stream[12] = 0;
        auto r = dec.probe(stream);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
        stream[12] = 3;
        stream[19] = 0x80;  // height 2^31 + 2: negative as the reference decoder's int
        r = dec.probe(stream);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
    }
    SECTION("limits") {
        QuicDecoder small(Limits{2, 2, 4});
        auto r = small.probe(stream);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::LimitExceeded);
    }
}

TEST_CASE("QUIC: every truncation of real streams fails cleanly", "[quic]") {
    QuicDecoder dec;
    for (const char* name :
         {"rgba_29x11.quic", "rgb16_31x9.quic", "gray_33x7.quic", "seabios_720x400_rgb32.quic"}) {
        const auto stream = read_vector(name);
        // The encoder ends with one zero word the decoder may look at but never consume; a
        // stream cut by more than that word cannot decode.
        const size_t step = stream.size() > 4096 ? 97 : 1;
        for (size_t n = 0; n + 4 < stream.size(); n += step) {
            auto img = decode_quic(dec, ByteView(stream.data(), n));
            INFO(name << " cut to " << n << " bytes");
            REQUIRE_FALSE(img);
            CHECK_THAT(img.error().what, Catch::StartsWith("QUIC: "));
            CHECK(img.error().offset <= n);
        }
        CHECK(decode_quic(dec, stream));  // and the decoder is still fine afterwards
    }
}

TEST_CASE("QUIC: corrupted real streams never crash and errors carry an offset", "[quic]") {
    QuicDecoder dec;
    auto pristine = read_vector("rgba_29x11.quic");
    uint32_t seed = 99;
    uint64_t failed = 0, decoded = 0;
    for (int round = 0; round < 2000; ++round) {
        auto stream = pristine;
        for (int k = 0; k < 1 + round % 4; ++k) {
            seed = seed * 1103515245u + 12345u;
            const size_t at = kQuicHeaderSize + (seed >> 8) % (stream.size() - kQuicHeaderSize);
            stream[at] ^= static_cast<uint8_t>(1u << ((seed >> 4) % 8));
        }
        auto img = decode_quic(dec, stream);
        if (img) {
            ++decoded;
        } else {
            ++failed;
            REQUIRE(img.error().offset <= stream.size());
            REQUIRE_THAT(img.error().what, Catch::StartsWith("QUIC: "));
        }
    }
    CHECK(failed > 0);
    CHECK(failed + decoded == 2000);
    CHECK(decode_quic(dec, pristine));  // the reused decoder still decodes the original
}
