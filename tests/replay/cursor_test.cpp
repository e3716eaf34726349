// The cursor channel in replay, on real sessions: the test server's cursor scenario (ALPHA, MONO
// and COLOR32 shapes, moves, hide, a re-set from the cache) must give, after each cursor message,
// the shape, position and visibility the server issued (its manifest), and a frame with the
// cursor composited must show the server's known shape at the known position. The same for the
// cursor a QEMU guest sets through the qxl DRM driver (tests/qemu/fbdraw.c cursor scene).
#include "replay/canvas/cursor.h"

#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "replay/cursor_state.h"
#include "replay/session_replay.h"
#include "tests/peers/json_lite.h"
#include "tests/replay/replay_session.h"
#include "tests/support/process.h"

namespace spicetap {
namespace {

namespace fs = std::filesystem;

constexpr uint16_t kCursorInit = 101;
constexpr uint16_t kCursorSet = 103;
constexpr uint16_t kCursorMove = 104;
constexpr uint16_t kCursorHide = 105;

// The server's triangle arrow (tests/peers/server/display.c cursor_set) as straight ARGB.
uint32_t known_shape(const std::string& type, int px, int py, int w) {
    const bool inside = px <= py;
    if (type == "alpha") {
        const uint32_t a = inside ? 0xff : (px - py < 4 ? 0x80 : 0);
        return a << 24 | (a * uint32_t(py * 8 % 256) / 255) << 16 | (a / 2);
    }
    if (type == "mono") {
        if (!inside) {
            return 0;  // AND 1, XOR 0: transparent
        }
        return (px > 1 && px < py - 1) ? 0xffffffffu : 0xff000000u;
    }
    (void)w;
    return inside ? 0xffff0000u | uint32_t(px * 8) : 0;  // color32, masked outside
}

struct Step {
    uint16_t type = 0;
    int64_t ts_us = 0;
};

// The server -> client cursor messages of the log, in order.
std::vector<Step> cursor_messages(const log::SessionLogReader& reader) {
    std::vector<Step> out;
    for (const log::ConnectionInfo& c : reader.connections()) {
        if (c.channel_type != 4) {
            continue;
        }
        log::SessionLogReader::MessageFilter f;
        f.connection = c.id;
        REQUIRE(reader.for_each_message(f, [&](const log::MessageRecord& m) {
            if (m.dir == wire::Direction::ServerToClient && m.type >= 100) {
                out.push_back(Step{m.type, m.ts_us});
            }
            return true;
        }));
    }
    return out;
}

test::Json read_json(const fs::path& p) {
    std::ifstream in(p);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    return test::Json::parse(text);
}

// Checks every pixel of the cursor box: transparent pixels leave the frame as it was, opaque ones
// show the shape's colour, half-transparent ones blend (within rounding).
void check_composited(const canvas::Surface& plain, const canvas::Surface& with,
                      const std::string& type, int x, int y, int hot_x, int hot_y, int size) {
    uint64_t opaque = 0, clear = 0, blended = 0;
    for (int py = 0; py < size; ++py) {
        for (int px = 0; px < size; ++px) {
            const int fx = x - hot_x + px;
            const int fy = y - hot_y + py;
            if (fx < 0 || fy < 0 || fx >= int(plain.width()) || fy >= int(plain.height())) {
                continue;
            }
            const uint32_t s = known_shape(type, px, py, size);
            const uint32_t a = s >> 24;
            const uint32_t under = plain.pixel(uint32_t(fx), uint32_t(fy)) & 0xffffff;
            const uint32_t got = with.pixel(uint32_t(fx), uint32_t(fy)) & 0xffffff;
            INFO(type << " pixel " << px << "," << py << " at " << fx << "," << fy);
            if (a == 0) {
                CHECK(got == under);
                ++clear;
            } else if (a == 0xff) {
                CHECK(got == (s & 0xffffff));
                ++opaque;
            } else {
                for (int k = 0; k < 3; ++k) {
                    const double sc = double((s >> (8 * k)) & 0xff);
                    const double dc = double((under >> (8 * k)) & 0xff);
                    const double want = sc * a / 255.0 + dc * (255 - a) / 255.0;
                    CHECK(std::abs(double((got >> (8 * k)) & 0xff) - want) <= 1.5);
                }
                ++blended;
            }
        }
    }
    CHECK(opaque > 100);
    CHECK(clear > 100);
    if (type == "alpha") {
        CHECK(blended > 20);
    }
}

}  // namespace

TEST_CASE("cursor: the peers' cursor scenario, message by message", "[replay][cursor][peers]") {
    const fs::path pcap = test::peer_capture("cursor");
    if (pcap.empty()) {
        return;
    }
    const test::Json manifest = read_json(pcap.parent_path() / "manifest.json");
    auto s = test::open_replay(pcap);
    const std::vector<Step> steps = cursor_messages(*s->reader);
    REQUIRE(!steps.empty());
    CHECK(steps.front().type == kCursorInit);

    // What the server issued, in order (set / move / hide).
    const test::Json::Array& issued = manifest["cursor"].arr();
    REQUIRE(issued.size() >= 3 * 6 + 2);
    size_t next_op = 0;
    std::string shape_type;
    int sets = 0, moves = 0, hides = 0;
    // Step by step: several cursor messages often share one TCP segment (one capture time).
    uint64_t seen = 0;
    while (true) {
        auto more = s->replay->step();
        REQUIRE(more);
        if (!*more) {
            break;
        }
        if (s->replay->stats().cursor_messages == seen) {
            continue;
        }
        REQUIRE(s->replay->stats().cursor_messages == seen + 1);
        REQUIRE(seen < steps.size());
        const Step& st = steps[seen++];
        if (st.type != kCursorSet && st.type != kCursorMove && st.type != kCursorHide) {
            continue;
        }
        REQUIRE(next_op < issued.size());
        const test::Json& op = issued[next_op++];
        const std::string what = op["op"].str();
        INFO("cursor op " << next_op << ": " << what);
        const auto view = s->replay->cursor(0);
        const replay::CursorState* state = s->replay->cursor_state(0);
        REQUIRE(state != nullptr);
        if (what == "set") {
            REQUIRE(st.type == kCursorSet);
            ++sets;
            REQUIRE(view);
            CHECK(view->visible);
            CHECK(view->exact);
            CHECK(view->position.x == op["x"].integer());
            CHECK(view->position.y == op["y"].integer());
            CHECK(view->hot_spot.x == op["hot_x"].integer());
            CHECK(view->hot_spot.y == op["hot_y"].integer());
            CHECK(int64_t(view->image->width()) == op["width"].integer());
            CHECK(int64_t(view->image->height()) == op["height"].integer());
            shape_type = op["type"].str();
            CHECK(channels::cursor::cursor_type_name(state->shape()->type) == shape_type);
            CHECK(state->shape()->unique == uint64_t(op["unique"].integer()));

            // The frame with the cursor shows the known shape at the known place.
            const auto plain = s->replay->frame(0, false);
            const auto with = s->replay->frame(0, true);
            REQUIRE(plain);
            REQUIRE(with);
            check_composited(*plain, *with, shape_type, int(op["x"].integer()),
                             int(op["y"].integer()), int(op["hot_x"].integer()),
                             int(op["hot_y"].integer()), int(op["width"].integer()));
        } else if (what == "move") {
            REQUIRE(st.type == kCursorMove);
            ++moves;
            REQUIRE(view);
            CHECK(view->visible);
            CHECK(view->position.x == op["x"].integer());
            CHECK(view->position.y == op["y"].integer());
            // Compositing follows the pointer.
            const auto plain = s->replay->frame(0, false);
            const auto with = s->replay->frame(0, true);
            REQUIRE(plain);
            REQUIRE(with);
            check_composited(*plain, *with, shape_type, int(op["x"].integer()),
                             int(op["y"].integer()), 1, 2, 32);
        } else {
            REQUIRE(st.type == kCursorHide);
            ++hides;
            REQUIRE(view);
            CHECK_FALSE(view->visible);
            const auto plain = s->replay->frame(0, false);
            const auto with = s->replay->frame(0, true);
            std::vector<uint32_t> a, b;
            plain->read_argb32(a);
            with->read_argb32(b);
            CHECK(a == b);  // hidden: nothing drawn
        }
    }
    CHECK(next_op == issued.size());
    CHECK(sets == 4);
    CHECK(moves == 15);
    CHECK(hides == 1);
    CHECK(seen == steps.size());
    CHECK(s->replay->stats().cursor_failed == 0);
    for (const replay::ReplayIssue& i : s->replay->issues()) {
        // The display may have its own (a QUIC image until that decoder lands); none is the
        // cursor's.
        CHECK(i.kind != "missing_cursor");
        CHECK(i.kind != "cursor_error");
    }

    // The last shape is the alpha arrow again (unique 1, set after a hide): from the cache
    // when the server chose to send it that way, and the same picture either way.
    const replay::CursorState* state = s->replay->cursor_state(0);
    CHECK(state->shape()->type == uint8_t(channels::cursor::CursorType::Alpha));
    CHECK(state->cached_shapes() >= 1);

    // The CLI draws it too: screenshot --cursor at the end.
    test::TempDir tmp;
    const fs::path with = tmp / "with.png";
    const fs::path without = tmp / "without.png";
    const std::string bin = test::shell_quote(test::spicetap_bin().string());
    auto r1 = test::run_command(bin + " screenshot " + test::shell_quote(pcap.string()) +
                                    " --at end --cursor -o " + test::shell_quote(with.string()),
                                true);
    INFO(r1.out);
    CHECK(r1.exit_code <= 1);  // 1: a display pixel is possibly wrong (QUIC), not the cursor
    CHECK(r1.out.find("cursor at 300,300") != std::string::npos);
    auto r2 = test::run_command(bin + " screenshot " + test::shell_quote(pcap.string()) +
                                    " --at end -o " + test::shell_quote(without.string()),
                                true);
    CHECK(r2.exit_code <= 1);
    CHECK(fs::file_size(with) != 0);
    CHECK(fs::file_size(without) != 0);
}

TEST_CASE("cursor: every shape type decodes as spice-gtk shows it", "[replay][cursor]") {
    namespace cur = channels::cursor;
    auto decode = [](uint8_t type, uint16_t w, uint16_t h, const std::vector<uint8_t>& data) {
        cur::CursorHeader hdr;
        hdr.type = type;
        hdr.width = w;
        hdr.height = h;
        hdr.hot_spot_x = 40;  // outside: capped to the width
        hdr.hot_spot_y = 1;
        return replay::decode_cursor_shape(hdr, data);
    };
    auto argb = [](const replay::CursorShape& s, uint32_t x, uint32_t y) {
        return s.image->pixel(x, y);
    };
    // 8x2 pixels; the AND mask is 1 byte per row, MSB = leftmost pixel.
    const uint8_t mask_row0 = 0x80;  // pixel 0 masked
    const uint8_t mask_row1 = 0x00;
    SECTION("COLOR4: 16-entry palette, a masked white pixel becomes spice-gtk's checker") {
        std::vector<uint8_t> d(4 * 2, 0);
        d[0] = 0x12;  // pixels 0, 1: indices 1, 2
        for (int i = 0; i < 16; ++i) {
            const uint32_t rgb = i == 1 ? 0xffffff : 0x010203u * uint32_t(i);
            for (int k = 0; k < 4; ++k) {
                d.push_back(uint8_t(rgb >> (8 * k)));
            }
        }
        d.push_back(mask_row0);
        d.push_back(mask_row1);
        auto s = decode(uint8_t(cur::CursorType::Color4), 8, 2, d);
        REQUIRE(s);
        CHECK(s->hot_x == 8);
        // Pixel 0: white under the mask -> 0x30505050 straight, premultiplied.
        CHECK(argb(*s, 0, 0) == 0x300f0f0fu);
        CHECK(argb(*s, 1, 0) == (0xff000000u | 0x020406u));
        CHECK_FALSE(s->reference_shows_default);
    }
    SECTION("COLOR16: 5-5-5 widened by shifting, mask 1 without white is transparent") {
        std::vector<uint8_t> d;
        for (int i = 0; i < 16; ++i) {
            const uint16_t p = i == 0 ? 0x1234 : 0x7c00;  // pixel 0 masked, others red
            d.push_back(uint8_t(p));
            d.push_back(uint8_t(p >> 8));
        }
        d.push_back(mask_row0);
        d.push_back(mask_row1);
        auto s = decode(uint8_t(cur::CursorType::Color16), 8, 2, d);
        REQUIRE(s);
        CHECK(argb(*s, 0, 0) == 0);
        CHECK(argb(*s, 1, 0) == 0xfff80000u);
    }
    SECTION("COLOR8 and COLOR24: decoded, flagged as shown by spice-gtk as its default arrow") {
        std::vector<uint8_t> d8(16, 3);
        for (int i = 0; i < 256; ++i) {
            const uint32_t rgb = i == 3 ? 0x00ff00 : 0;
            for (int k = 0; k < 4; ++k) {
                d8.push_back(uint8_t(rgb >> (8 * k)));
            }
        }
        d8.push_back(mask_row0);
        d8.push_back(mask_row1);
        auto s8 = decode(uint8_t(cur::CursorType::Color8), 8, 2, d8);
        REQUIRE(s8);
        CHECK(s8->reference_shows_default);
        CHECK(argb(*s8, 0, 0) == 0);
        CHECK(argb(*s8, 5, 1) == 0xff00ff00u);
        std::vector<uint8_t> d24;
        for (int i = 0; i < 16; ++i) {
            d24.insert(d24.end(), {0x10, 0x20, 0x30});  // B, G, R
        }
        d24.push_back(mask_row0);
        d24.push_back(mask_row1);
        auto s24 = decode(uint8_t(cur::CursorType::Color24), 8, 2, d24);
        REQUIRE(s24);
        CHECK(argb(*s24, 7, 1) == 0xff302010u);
    }
    SECTION("MONO with an all-ones AND mask: inverted pixels white with a black edge") {
        // 8x3, XOR set only at (3, 1).
        std::vector<uint8_t> d = {0xff, 0xff, 0xff, 0x00, 0x10, 0x00};
        auto s = decode(uint8_t(cur::CursorType::Mono), 8, 3, d);
        REQUIRE(s);
        CHECK(argb(*s, 3, 1) == 0xffffffffu);
        CHECK(argb(*s, 2, 1) == 0xff000000u);  // edge
        CHECK(argb(*s, 4, 1) == 0xff000000u);
        CHECK(argb(*s, 3, 0) == 0);  // border row: never an edge
        CHECK(argb(*s, 6, 1) == 0);  // AND 1, XOR 0: transparent
    }
    SECTION("short data is an error naming the sizes, not a read past the end") {
        auto s = decode(uint8_t(cur::CursorType::Alpha), 8, 2, std::vector<uint8_t>(63));
        REQUIRE_FALSE(s);
        CHECK(s.error().what.find("needs 64 bytes") != std::string::npos);
        auto bad = decode(9, 8, 2, std::vector<uint8_t>(64));
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == Errc::Unsupported);
    }
}

namespace {

// tests/qemu/fbdraw.c cursor_pixel(): the guest's 64x64 cursor, straight ARGB.
uint32_t guest_cursor_pixel(uint32_t x, uint32_t y) {
    if (x <= y && y < 40 && x < 24) {
        return 0xff000000u | (x * 10) << 16 | (y * 6) << 8 | 0x40;
    }
    if (x == y + 1 && y < 40) {
        return 0x80402010u;
    }
    return 0;
}

}  // namespace

TEST_CASE("cursor: a QEMU guest's cursor through the qxl driver", "[replay][cursor][qemu]") {
    // off and zlib_glz run fbdraw's cursor scene: top-left 200,150 -> 260,190 -> 320,230,
    // hot spot 3,5. The other recordings have no guest cursor: frames stay as they are.
    bool any = false;
    for (const char* name : {"off", "zlib_glz", "glz", "keys"}) {
        const fs::path pcap = test::fixture_dir() / (std::string("qemu-") + name) / "capture.pcap";
        if (!fs::exists(pcap)) {
            continue;
        }
        any = true;
        const bool has_cursor = std::string(name) == "off" || std::string(name) == "zlib_glz";
        DYNAMIC_SECTION(name) {
            auto s = test::open_replay(pcap);
            std::vector<std::pair<int, int>> boxes;
            uint64_t seen = 0;
            while (true) {
                auto more = s->replay->step();
                REQUIRE(more);
                if (!*more) {
                    break;
                }
                if (s->replay->stats().cursor_messages == seen) {
                    continue;
                }
                seen = s->replay->stats().cursor_messages;
                if (auto v = s->replay->cursor(0); v && v->visible) {
                    const canvas::Rect b = v->box();
                    if (boxes.empty() || boxes.back() != std::pair{b.left, b.top}) {
                        boxes.emplace_back(b.left, b.top);
                    }
                }
            }
            REQUIRE(s->replay->cursor_state(0) != nullptr);  // the cursor channel is walked
            CHECK(seen > 0);
            CHECK(s->replay->stats().cursor_failed == 0);
            const auto view = s->replay->cursor(0);
            const auto plain = s->replay->frame(0, false);
            const auto with = s->replay->frame(0, true);
            REQUIRE(plain);
            REQUIRE(with);
            if (!has_cursor) {
                CHECK((!view || !view->visible));
                std::vector<uint32_t> a, b;
                plain->read_argb32(a);
                with->read_argb32(b);
                CHECK(a == b);
                continue;
            }
            const std::vector<std::pair<int, int>> want = {{200, 150}, {260, 190}, {320, 230}};
            CHECK(boxes == want);
            REQUIRE(view);
            CHECK(view->visible);
            CHECK(view->exact);
            CHECK(view->hot_spot.x == 3);
            CHECK(view->hot_spot.y == 5);
            CHECK(view->image->width() == 64);
            CHECK(view->image->height() == 64);
            CHECK(s->replay->cursor_state(0)->shape()->type ==
                  uint8_t(channels::cursor::CursorType::Alpha));
            uint64_t opaque = 0, clear = 0;
            for (uint32_t y = 0; y < 64; ++y) {
                for (uint32_t x = 0; x < 64; ++x) {
                    const uint32_t want_px = guest_cursor_pixel(x, y);
                    const uint32_t under = plain->pixel(320 + x, 230 + y) & 0xffffff;
                    const uint32_t got = with->pixel(320 + x, 230 + y) & 0xffffff;
                    INFO("cursor pixel " << x << "," << y);
                    if (want_px >> 24 == 0xff) {
                        CHECK(got == (want_px & 0xffffff));
                        ++opaque;
                    } else if (want_px == 0) {
                        CHECK(got == under);
                        ++clear;
                    }
                }
            }
            CHECK(opaque > 400);
            CHECK(clear > 3000);
        }
    }
    if (!any) {
        WARN("no QEMU recordings in " << test::fixture_dir() << ": skipped");
    }
}

}  // namespace spicetap
