#include "decode/channels/base_channel.h"

#include <catch2/catch.hpp>

#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;

namespace {

const wire::ChannelCaps kCaps;

base::ServerMessage server_ok(uint16_t type, const Bytes& b) {
    auto r = base::parse_server(type, b.view(), kCaps);
    if (!r) {
        FAIL(r.error().message());
    }
    return *r;
}

std::string server_json(const base::ServerMessage& m) {
    return test::object_json([&](JsonWriter& w) { base::write_json(m, w); });
}

std::string client_json(const base::ClientMessage& m) {
    return test::object_json([&](JsonWriter& w) { base::write_json(m, w); });
}

}  // namespace

TEST_CASE("base server messages decode every field", "[channels][base]") {
    SECTION("migrate") {
        auto m = server_ok(1, Bytes().u32(3));
        CHECK(std::get<base::Migrate>(m).flags == 3);
        CHECK(server_json(m) == R"({"flags":3,"flag_names":["need_flush","need_data_transfer"]})");
    }
    SECTION("migrate_data keeps the blob") {
        auto m = server_ok(2, Bytes().u32(0xdeadbeef).u8(1));
        CHECK(std::get<base::MigrateData>(m).data.size() == 5);
        CHECK(server_json(m) == R"({"data_size":5})");
    }
    SECTION("set_ack") {
        auto m = server_ok(3, Bytes().u32(7).u32(20));
        const auto& s = std::get<base::SetAck>(m);
        CHECK(s.generation == 7);
        CHECK(s.window == 20);
        CHECK(server_json(m) == R"({"generation":7,"window":20})");
    }
    SECTION("ping with padding gives only its size") {
        auto m = server_ok(4, Bytes().u32(2).u64(0x0102030405060708ull).fill(256000, 0xaa));
        const auto& p = std::get<base::Ping>(m);
        CHECK(p.id == 2);
        CHECK(p.timestamp == 0x0102030405060708ull);
        CHECK(p.padding_size == 256000);
        CHECK(server_json(m) == R"({"id":2,"timestamp":72623859790382856,"padding_size":256000})");
    }
    SECTION("wait_for_channels") {
        auto m = server_ok(5, Bytes().u8(2).u8(2).u8(0).u64(99).u8(4).u8(1).u64(7));
        const auto& w = std::get<base::WaitForChannels>(m);
        REQUIRE(w.waits.size() == 2);
        CHECK(w.waits[0].channel_type == 2);
        CHECK(w.waits[0].message_serial == 99);
        CHECK(w.waits[1].channel_id == 1);
        CHECK(server_json(m) ==
              R"({"waits":[{"channel_type":2,"channel_type_name":"display","channel_id":0,)"
              R"("message_serial":99},{"channel_type":4,"channel_type_name":"cursor",)"
              R"("channel_id":1,"message_serial":7}]})");
    }
    SECTION("disconnecting") {
        auto m = server_ok(6, Bytes().u64(123456).u32(7));
        CHECK(std::get<base::Disconnecting>(m).reason == 7);
        CHECK(server_json(m) ==
              R"({"time_stamp":123456,"reason":7,"reason_name":"permission_denied"})");
    }
    SECTION("notify carries its text") {
        auto m = server_ok(7, Bytes().u64(5).u32(1).u32(2).u32(0).u32(6).cstr("hello"));
        const auto& n = std::get<base::Notify>(m);
        CHECK(n.severity == 1);
        CHECK(n.visibility == 2);
        CHECK(n.message == "hello");
        CHECK(server_json(m) ==
              R"({"time_stamp":5,"severity":1,"severity_name":"warn","visibility":2,)"
              R"("visibility_name":"high","what":0,"message_len":6,"message":"hello"})");
    }
    SECTION("list returns sub-messages as type + body") {
        // count 2, offsets 10 and 22; sub 1: wait_for_channels(count 0), sub 2: type 105.
        Bytes b;
        b.u16(2).u32(10).u32(17);
        b.u16(5).u32(1).u8(0);                // at 10: type 5, size 1, body {0}
        b.u16(105).u32(3).u8(1).u8(2).u8(3);  // at 17
        auto m = server_ok(8, b);
        const auto& l = std::get<base::List>(m);
        REQUIRE(l.messages.size() == 2);
        CHECK(l.messages[0].type == 5);
        CHECK(l.messages[0].offset == 10);
        CHECK(l.messages[0].body.size() == 1);
        CHECK(l.messages[1].type == 105);
        CHECK(l.messages[1].body[2] == 3);
        auto sub = base::parse_server(l.messages[0].type, l.messages[0].body, kCaps);
        REQUIRE(sub);
        CHECK(std::get<base::WaitForChannels>(*sub).waits.empty());
        CHECK(server_json(m) == R"({"messages":[{"type":5,"offset":10,"size":1},)"
                                R"({"type":105,"offset":17,"size":3}]})");
    }
}

TEST_CASE("base client messages decode every field", "[channels][base]") {
    auto parse = [](uint16_t type, const Bytes& b) {
        auto r = base::parse_client(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto ack_sync = parse(1, Bytes().u32(9));
    CHECK(std::get<base::AckSync>(ack_sync).generation == 9);
    CHECK(client_json(ack_sync) == R"({"generation":9})");
    CHECK(std::holds_alternative<base::Ack>(parse(2, Bytes())));
    auto pong = parse(3, Bytes().u32(4).u64(77));
    CHECK(std::get<base::Pong>(pong).id == 4);
    CHECK(std::get<base::Pong>(pong).timestamp == 77);
    CHECK(client_json(pong) == R"({"id":4,"timestamp":77})");
    CHECK(std::holds_alternative<base::MigrateFlushMark>(parse(4, Bytes())));
    CHECK(std::get<base::MigrateData>(parse(5, Bytes().u64(1))).data.size() == 8);
    auto disc = parse(6, Bytes().u64(1).u32(1));
    CHECK(std::get<base::Disconnecting>(disc).reason == 1);
    CHECK(client_json(disc) == R"({"time_stamp":1,"reason":1,"reason_name":"error"})");
}

TEST_CASE("base parsers reject unknown ids, truncations and bad lengths", "[channels][base]") {
    auto unknown = base::parse_server(9, {}, kCaps);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == Errc::Unsupported);
    CHECK(unknown.error().what == "unknown base message type 9");
    CHECK_FALSE(base::parse_client(101, {}, kCaps));

    auto server = [](uint16_t type) {
        return [type](ByteView v) { return base::parse_server(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u32(1).vec(), 4, server(1));
    test::sweep_truncations(Bytes().u32(1).u32(2).vec(), 8, server(3));
    test::sweep_truncations(Bytes().u32(1).u64(2).fill(3).vec(), 12, server(4));
    test::sweep_truncations(Bytes().u8(1).u8(2).u8(0).u64(99).vec(), 11, server(5));
    test::sweep_truncations(Bytes().u64(1).u32(2).vec(), 12, server(6));
    test::sweep_truncations(Bytes().u64(5).u32(1).u32(2).u32(0).u32(3).str("ab").u8(0).vec(), 27,
                            server(7));
    auto client = [](uint16_t type) {
        return [type](ByteView v) { return base::parse_client(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u32(1).vec(), 4, client(1));
    test::sweep_truncations(Bytes().u32(1).u64(2).vec(), 12, client(3));
    test::sweep_truncations(Bytes().u64(1).u32(2).vec(), 12, client(6));

    SECTION("notify message_len beyond the body") {
        auto r = base::parse_server(7, Bytes().u64(5).u32(1).u32(2).u32(0).u32(50).str("ab").view(),
                                    kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
        CHECK(r.error().offset == 20);
    }
    SECTION("list offset outside the body") {
        auto r = base::parse_server(8, Bytes().u16(1).u32(40).view(), kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
        CHECK(r.error().offset == 2);
    }
    SECTION("list sub-message size beyond the body") {
        auto r = base::parse_server(8, Bytes().u16(1).u32(6).u16(3).u32(100).u8(0).view(), kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().offset == 8);
    }
    SECTION("list count larger than its offsets") {
        // Offset 0 points at the list itself (a valid empty sub-message); the second offset
        // is missing.
        auto r = base::parse_server(8, Bytes().u16(2).u32(0).view(), kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Truncated);
        CHECK(r.error().offset == 6);
    }
    SECTION("sub_list of a full header at a non-zero offset") {
        Bytes b;
        b.u32(0xabcdef).u16(1).u32(10).u16(3).u32(2).u32(0);  // list at 4, sub at 10
        auto subs = base::parse_sub_message_list(b.view(), 4);
        REQUIRE(subs);
        REQUIRE(subs->size() == 1);
        CHECK((*subs)[0].type == 3);
        CHECK((*subs)[0].body.size() == 2);
        CHECK_FALSE(base::parse_sub_message_list(b.view(), 100));
    }
}
