#include <catch2/catch.hpp>

#include <array>

#include "decode/wire/byte_reader.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"

using namespace spicetap;

TEST_CASE("ByteReader reads little-endian fields and fails stickily", "[wire]") {
    const std::array<uint8_t, 7> bytes{0x52, 0x45, 0x44, 0x51, 0x02, 0x00, 0x7f};
    ByteReader r(bytes, 100);
    CHECK(r.u32() == 0x51444552u);
    CHECK(r.u16() == 2);
    CHECK(r.ok());
    CHECK(r.u32() == 0);  // only one byte left
    CHECK_FALSE(r.ok());
    CHECK(r.error_offset() == 106);
    CHECK(r.u8() == 0);  // sticky: later reads return zero
    CHECK(r.error("link header").message() == "truncated at byte 106: link header");
}

TEST_CASE("ByteReader seek stays inside the span", "[wire]") {
    const std::array<uint8_t, 4> bytes{1, 2, 3, 4};
    ByteReader r(bytes);
    CHECK(r.seek(4));
    CHECK(r.remaining() == 0);
    CHECK_FALSE(r.seek(5));
    CHECK_FALSE(r.ok());
}

TEST_CASE("protocol names come from spice-protocol identifiers", "[wire]") {
    using wire::Direction;
    CHECK(wire::channel_type_name(2) == "display");
    CHECK(wire::channel_type_name(200) == "unknown");
    CHECK(wire::channel_type_from_name("USBREDIR") == 9);
    CHECK(wire::message_name(2, Direction::ServerToClient, 304) == "draw_copy");
    CHECK(wire::message_name(1, Direction::ServerToClient, 103) == "init");
    CHECK(wire::message_name(1, Direction::ClientToServer, 3) == "pong");
    CHECK(wire::message_name(5, Direction::ClientToServer, 101).empty());
    CHECK(wire::message_name(10, Direction::ServerToClient, 201) == "init");
    CHECK(wire::message_name(11, Direction::ClientToServer, 101) == "data");
    CHECK(wire::common_cap_name(3) == "mini_header");
    CHECK(wire::channel_cap_name(2, 5) == "lz4_compression");
    CHECK(wire::link_error_name(7) == "permission_denied");
}

TEST_CASE("JsonWriter escapes and separates", "[wire]") {
    std::string out;
    JsonWriter w(out);
    w.begin_object().field("a", uint32_t{1}).field("s", "x\"\n").key("l").begin_array();
    w.value(true).null().end_array();
    const std::array<uint8_t, 2> b{0xab, 0x01};
    w.key("h").hex(b).end_object();
    CHECK(out == R"({"a":1,"s":"x\"\n","l":[true,null],"h":"ab01"})");
}
