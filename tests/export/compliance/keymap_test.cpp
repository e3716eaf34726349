#include <catch2/catch.hpp>

#include "export/compliance/keymap.h"

using namespace spicetap::compliance;

namespace {

// What spice-gtk sends for a press and a release of set-1 key `sc` (0x100 | code = extended).
uint32_t down_code(uint16_t sc) { return sc < 0x100 ? sc : 0xe0u | ((sc - 0x100u) << 8); }
uint32_t up_code(uint16_t sc) { return sc < 0x100 ? 0x80u | sc : 0x80e0u | ((sc - 0x100u) << 8); }

std::string type(KeyTextBuilder& b, std::initializer_list<std::pair<uint16_t, bool>> keys) {
    std::string out;
    for (auto [sc, down] : keys) {
        auto e = key_event_from_code(down ? down_code(sc) : up_code(sc));
        REQUIRE(e.has_value());
        out += b.feed(*e);
    }
    return out;
}

}  // namespace

TEST_CASE("SPICE key codes decode to set-1 make codes", "[compliance]") {
    CHECK(key_event_from_code(0x1e)->scancode == 0x1e);
    CHECK(key_event_from_code(0x1e)->down);
    CHECK_FALSE(key_event_from_code(0x9e)->down);
    CHECK(key_event_from_code(0x48e0)->scancode == 0x148);  // Up
    CHECK_FALSE(key_event_from_code(0xc8e0)->down);
    CHECK_FALSE(key_event_from_code(0).has_value());
    CHECK_FALSE(key_event_from_code(0x12345678).has_value());
    const std::string raw("\x1e\x9e\xe0\x48\xe0\xc8", 6);
    auto events = key_events_from_bytes(raw);
    REQUIRE(events.size() == 4);
    CHECK(events[2].scancode == 0x148);
}

TEST_CASE("typing with shift, caps lock and chords on a US layout", "[compliance]") {
    KeyTextBuilder b(0);
    // "Hi!" = Shift+h, i, Shift+1
    CHECK(type(b, {{0x2a, true}, {0x23, true}, {0x23, false}, {0x2a, false}, {0x17, true},
                   {0x17, false}, {0x36, true}, {0x02, true}, {0x02, false}, {0x36, false}}) ==
          "Hi!");
    CHECK(type(b, {{0x3a, true}, {0x3a, false}, {0x1e, true}, {0x1e, false}, {0x02, true},
                   {0x02, false}, {0x3a, true}, {0x3a, false}}) == "A1");
    CHECK(type(b, {{0x1d, true}, {0x2e, true}, {0x2e, false}, {0x1d, false}}) == "<Ctrl+c>");
    CHECK(type(b, {{0x1c, true}, {0x1c, false}, {0x148, true}, {0x148, false}}) ==
          "<Enter><Up>");
    CHECK(type(b, {{0x39, true}, {0x39, false}, {0x47, true}}) == " 7");
}

TEST_CASE("German and French layouts", "[compliance]") {
    auto de = layout_index("de");
    REQUIRE(de.has_value());
    KeyTextBuilder b(*de);
    CHECK(type(b, {{0x15, true}, {0x2c, true}}) == "zy");
    CHECK(type(b, {{0x138, true}, {0x10, true}, {0x10, false}, {0x138, false}}) == "@");
    CHECK(type(b, {{0x1a, true}}) == "ü");
    auto fr = layout_index("fr");
    REQUIRE(fr.has_value());
    KeyTextBuilder f(*fr);
    CHECK(type(f, {{0x10, true}, {0x02, true}, {0x2a, true}, {0x02, true}}) == "a&1");
    CHECK_FALSE(layout_index("xx").has_value());
}

TEST_CASE("key names", "[compliance]") {
    CHECK(key_name(0x1c) == "Enter");
    CHECK(key_name(0x1e) == "a");
    CHECK(key_name(0x39) == "Space");
    CHECK(key_name(0x148) == "Up");
    CHECK(key_name(0x4b) == "KP_4");
    CHECK(key_name(0x7f) == "Key_0x7f");
}
