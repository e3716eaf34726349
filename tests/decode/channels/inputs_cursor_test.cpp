#include <catch2/catch.hpp>

#include "decode/channels/cursor_channel.h"
#include "decode/channels/inputs_channel.h"
#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;

namespace {

const wire::ChannelCaps kCaps;

template <typename M>
std::string inputs_json(const M& m) {
    return test::object_json([&](JsonWriter& w) { inputs::write_json(m, w); });
}

std::string cursor_json(const cursor::ServerMessage& m) {
    return test::object_json([&](JsonWriter& w) { cursor::write_json(m, w); });
}

// A SpiceCursor with a header and `data` pixel bytes.
Bytes cursor_bytes(uint16_t flags, uint8_t type, uint16_t w, uint16_t h, size_t data) {
    Bytes b;
    b.u16(flags);
    if (!(flags & 1)) {
        b.u64(0x1122334455667788ull).u8(type).u16(w).u16(h).u16(3).u16(4);
    }
    b.fill(data, 0xcc);
    return b;
}

}  // namespace

TEST_CASE("inputs messages decode every field", "[channels][inputs]") {
    auto server = [](uint16_t type, const Bytes& b) {
        auto r = inputs::parse_server(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto client = [](uint16_t type, const Bytes& b) {
        auto r = inputs::parse_client(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto init = server(101, Bytes().u16(6));
    CHECK(std::get<inputs::Init>(init).keyboard_modifiers == 6);
    CHECK(inputs_json(init) ==
          R"({"keyboard_modifiers":6,"keyboard_modifier_names":["num_lock","caps_lock"]})");
    CHECK(std::get<inputs::KeyModifiers>(server(102, Bytes().u16(1))).modifiers == 1);
    CHECK(std::holds_alternative<inputs::MouseMotionAck>(server(111, Bytes())));

    // Extended key (E0 4B, left arrow) press and release.
    auto down = client(101, Bytes().u32(0x4be0));
    CHECK(std::get<inputs::KeyDown>(down).code == 0x4be0);
    CHECK(inputs_json(down) == R"({"code":19424,"scancode":"e04b"})");
    auto up = client(102, Bytes().u32(0xcbe0));
    CHECK(std::get<inputs::KeyUp>(up).code == 0xcbe0);
    CHECK(std::get<inputs::KeyModifiers>(client(103, Bytes().u16(4))).modifiers == 4);
    const Bytes sc = Bytes().u8(0x1e).u8(0x9e);
    auto scan = client(104, sc);
    CHECK(std::get<inputs::KeyScancode>(scan).codes.size() == 2);
    CHECK(inputs_json(scan) == R"({"scancode_size":2,"scancode":"1e9e"})");
    auto motion = client(111, Bytes().i32(-5).i32(7).u16(1));
    CHECK(std::get<inputs::MouseMotion>(motion).dx == -5);
    CHECK(std::get<inputs::MouseMotion>(motion).dy == 7);
    CHECK(inputs_json(motion) ==
          R"({"dx":-5,"dy":7,"buttons_state":1,"buttons_state_names":["left"]})");
    auto pos = client(112, Bytes().u32(640).u32(480).u16(4).u8(1));
    const auto& p = std::get<inputs::MousePosition>(pos);
    CHECK(p.x == 640);
    CHECK(p.y == 480);
    CHECK(p.buttons_state == 4);
    CHECK(p.display_id == 1);
    auto press = client(113, Bytes().u8(4).u16(8));
    CHECK(std::get<inputs::MousePress>(press).button == 4);
    CHECK(inputs_json(press) ==
          R"({"button":4,"button_name":"up","buttons_state":8,"buttons_state_names":["up"]})");
    auto release = client(114, Bytes().u8(3).u16(0));
    CHECK(std::get<inputs::MouseRelease>(release).button == 3);
}

TEST_CASE("inputs parsers reject unknown ids and truncations", "[channels][inputs]") {
    CHECK(inputs::parse_client(105, {}, kCaps).error().what == "unknown inputs message type 105");
    CHECK_FALSE(inputs::parse_server(112, {}, kCaps));
    auto client = [](uint16_t type) {
        return [type](ByteView v) { return inputs::parse_client(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u32(1).vec(), 4, client(101));
    test::sweep_truncations(Bytes().u32(1).vec(), 4, client(102));
    test::sweep_truncations(Bytes().u16(1).vec(), 2, client(103));
    test::sweep_truncations(Bytes().i32(1).i32(1).u16(1).vec(), 10, client(111));
    test::sweep_truncations(Bytes().u32(1).u32(1).u16(1).u8(0).vec(), 11, client(112));
    test::sweep_truncations(Bytes().u8(1).u16(1).vec(), 3, client(113));
    test::sweep_truncations(Bytes().u8(1).u16(1).vec(), 3, client(114));
    test::sweep_truncations(Bytes().u16(1).vec(), 2,
                            [](ByteView v) { return inputs::parse_server(101, v, kCaps); });
}

TEST_CASE("cursor messages decode every field", "[channels][cursor]") {
    auto server = [](uint16_t type, const Bytes& b) {
        auto r = cursor::parse_server(type, b.view(), kCaps);
        if (!r) {
            FAIL(r.error().message());
        }
        return *r;
    };
    SECTION("init with an alpha cursor cached") {
        Bytes b;
        b.i16(100).i16(-2).u16(0).u16(0).u8(1).append(
            cursor_bytes(2, 0, 32, 32, 32 * 32 * 4).vec());
        auto m = server(101, b);
        const auto& i = std::get<cursor::Init>(m);
        CHECK(i.position.x == 100);
        CHECK(i.position.y == -2);
        CHECK(i.visible == 1);
        CHECK(i.cursor.flags == 2);
        REQUIRE(i.cursor.header);
        CHECK(i.cursor.header->unique == 0x1122334455667788ull);
        CHECK(i.cursor.header->type == 0);
        CHECK(i.cursor.header->width == 32);
        CHECK(i.cursor.header->hot_spot_x == 3);
        CHECK(i.cursor.header->hot_spot_y == 4);
        CHECK(i.cursor.data.size() == 4096);
        CHECK(cursor_json(m) ==
              R"({"position":{"x":100,"y":-2},"trail_length":0,"trail_frequency":0,)"
              R"("visible":1,"cursor":{"flags":2,"flag_names":["cache_me"],)"
              R"("unique":1234605616436508552,"type":0,"type_name":"alpha","width":32,)"
              R"("height":32,"hot_spot_x":3,"hot_spot_y":4,"data_size":4096}})");
    }
    SECTION("set with every cursor type name") {
        const char* names[] = {"alpha",   "mono",    "color4", "color8",
                               "color16", "color24", "color32"};
        for (uint8_t t = 0; t < 7; ++t) {
            Bytes b;
            b.i16(1).i16(2).u8(1).append(cursor_bytes(0, t, 8, 8, 16).vec());
            auto m = server(103, b);
            const auto& s = std::get<cursor::Set>(m);
            REQUIRE(s.cursor.header);
            CHECK(s.cursor.header->type == t);
            CHECK(cursor::cursor_type_name(t) == names[t]);
            CHECK(s.cursor.data.size() == 16);
        }
        CHECK(cursor::cursor_type_name(7) == "unknown");
    }
    SECTION("set with NONE has no header; FROM_CACHE has a header and no data") {
        Bytes none;
        none.i16(0).i16(0).u8(0).u16(1);
        auto m = server(103, none);
        CHECK_FALSE(std::get<cursor::Set>(m).cursor.header);
        CHECK(cursor_json(m) == R"({"position":{"x":0,"y":0},"visible":0,)"
                                R"("cursor":{"flags":1,"flag_names":["none"],"data_size":0}})");
        Bytes cached;
        cached.i16(0).i16(0).u8(1).append(cursor_bytes(4, 0, 16, 16, 0).vec());
        const auto cached_msg = server(103, cached);
        const auto& c = std::get<cursor::Set>(cached_msg).cursor;
        REQUIRE(c.header);
        CHECK(c.flags == cursor::kCursorFlagFromCache);
        CHECK(c.data.empty());
    }
    SECTION("move, trail, inval_one and the empty messages") {
        CHECK(std::get<cursor::Move>(server(104, Bytes().i16(-1).i16(9))).position.y == 9);
        auto t = server(106, Bytes().u16(5).u16(60));
        CHECK(std::get<cursor::Trail>(t).length == 5);
        CHECK(std::get<cursor::Trail>(t).frequency == 60);
        CHECK(std::get<cursor::InvalOne>(server(107, Bytes().u64(77))).id == 77);
        CHECK(std::holds_alternative<cursor::Reset>(server(102, Bytes())));
        CHECK(std::holds_alternative<cursor::Hide>(server(105, Bytes())));
        CHECK(std::holds_alternative<cursor::InvalAll>(server(108, Bytes())));
    }
}

TEST_CASE("cursor parsers reject unknown ids and truncations", "[channels][cursor]") {
    CHECK(cursor::parse_server(109, {}, kCaps).error().code == Errc::Unsupported);
    CHECK(cursor::parse_client(101, {}, kCaps).error().what == "unknown cursor message type 101");
    auto server = [](uint16_t type) {
        return [type](ByteView v) { return cursor::parse_server(type, v, kCaps); };
    };
    Bytes init;
    init.i16(1).i16(2).u16(0).u16(0).u8(1).append(cursor_bytes(0, 0, 2, 2, 16).vec());
    test::sweep_truncations(init.vec(), 9 + 19, server(101));
    Bytes set;
    set.i16(1).i16(2).u8(1).append(cursor_bytes(0, 1, 2, 2, 4).vec());
    test::sweep_truncations(set.vec(), 5 + 19, server(103));
    test::sweep_truncations(Bytes().i16(1).i16(1).vec(), 4, server(104));
    test::sweep_truncations(Bytes().u16(1).u16(1).vec(), 4, server(106));
    test::sweep_truncations(Bytes().u64(1).vec(), 8, server(107));
    auto r = cursor::parse_server(103, Bytes().i16(1).i16(2).u8(1).u16(0).u64(1).view(), kCaps);
    REQUIRE_FALSE(r);
    CHECK(r.error().what == "cursor header");
}
