#include "decode/channels/main_channel.h"

#include <catch2/catch.hpp>

#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;

namespace {

const wire::ChannelCaps kCaps;

main::ServerMessage server_ok(uint16_t type, const Bytes& b) {
    auto r = main::parse_server(type, b.view(), kCaps);
    if (!r) {
        FAIL(r.error().message());
    }
    return *r;
}

main::ClientMessage client_ok(uint16_t type, const Bytes& b) {
    auto r = main::parse_client(type, b.view(), kCaps);
    if (!r) {
        FAIL(r.error().message());
    }
    return *r;
}

template <typename M>
std::string json(const M& m) {
    return test::object_json([&](JsonWriter& w) { main::write_json(m, w); });
}

// DstInfo (20 bytes) with host and cert subject placed after `extra` fixed bytes.
Bytes dst_info(std::string_view host, std::string_view cert, size_t extra) {
    const uint32_t host_at = static_cast<uint32_t>(20 + extra);
    const uint32_t cert_at = static_cast<uint32_t>(host_at + host.size() + 1);
    Bytes b;
    b.u16(5900).u16(5901).u32(static_cast<uint32_t>(host.size() + 1)).u32(host_at);
    b.u32(cert.empty() ? 0 : static_cast<uint32_t>(cert.size() + 1))
        .u32(cert.empty() ? 0 : cert_at);
    return b;
}

}  // namespace

TEST_CASE("main server messages decode every field", "[channels][main]") {
    SECTION("migrate_begin with host and cert subject") {
        Bytes b = dst_info("dst.example", "CN=dst", 0);
        b.cstr("dst.example").cstr("CN=dst");
        auto m = server_ok(101, b);
        const auto& d = std::get<main::MigrateBegin>(m).dst_info;
        CHECK(d.port == 5900);
        CHECK(d.sport == 5901);
        CHECK(d.host_size == 12);
        CHECK(d.host == "dst.example");
        CHECK(d.cert_subject == "CN=dst");
        CHECK(json(m) == R"({"dst_info":{"port":5900,"sport":5901,"host_size":12,)"
                         R"("host":"dst.example","cert_subject_size":7,"cert_subject":"CN=dst"}})");
    }
    SECTION("migrate_begin_seamless adds src_mig_version; NULL cert") {
        Bytes b = dst_info("h", "", 4);
        b.u32(2).cstr("h");
        auto m = server_ok(116, b);
        const auto& s = std::get<main::MigrateBeginSeamless>(m);
        CHECK(s.dst_info.host == "h");
        CHECK_FALSE(s.dst_info.cert_subject);
        CHECK(s.src_mig_version == 2);
    }
    SECTION("migrate_switch_host") {
        Bytes b = dst_info("sw", "", 0);
        b.cstr("sw");
        CHECK(std::get<main::MigrateSwitchHost>(server_ok(111, b)).dst_info.host == "sw");
    }
    SECTION("init") {
        auto m = server_ok(
            103,
            Bytes().u32(0x1234).u32(1).u32(3).u32(2).u32(0).u32(10).u32(987654).u32(0x4000000));
        const auto& i = std::get<main::Init>(m);
        CHECK(i.session_id == 0x1234);
        CHECK(i.display_channels_hint == 1);
        CHECK(i.supported_mouse_modes == 3);
        CHECK(i.current_mouse_mode == 2);
        CHECK(i.agent_connected == 0);
        CHECK(i.agent_tokens == 10);
        CHECK(i.multi_media_time == 987654);
        CHECK(i.ram_hint == 0x4000000);
        CHECK(json(m) ==
              R"({"session_id":4660,"display_channels_hint":1,"supported_mouse_modes":3,)"
              R"("supported_mouse_mode_names":["server","client"],"current_mouse_mode":2,)"
              R"("current_mouse_mode_names":["client"],"agent_connected":0,"agent_tokens":10,)"
              R"("multi_media_time":987654,"ram_hint":67108864})");
    }
    SECTION("channels_list") {
        auto m = server_ok(104, Bytes().u32(3).u8(1).u8(0).u8(2).u8(0).u8(9).u8(1));
        const auto& l = std::get<main::ChannelsList>(m).channels;
        REQUIRE(l.size() == 3);
        CHECK(l[2].type == 9);
        CHECK(l[2].id == 1);
        CHECK(json(m).find(R"({"type":9,"type_name":"usbredir","id":1})") != std::string::npos);
    }
    SECTION("mouse_mode, multi_media_time, tokens") {
        auto mm = server_ok(105, Bytes().u16(3).u16(1));
        CHECK(std::get<main::MouseMode>(mm).supported_modes == 3);
        CHECK(std::get<main::MouseMode>(mm).current_mode == 1);
        CHECK(std::get<main::MultiMediaTime>(server_ok(106, Bytes().u32(42))).time == 42);
        CHECK(std::get<main::AgentDisconnected>(server_ok(108, Bytes().u32(1))).error_code == 1);
        CHECK(std::get<main::AgentToken>(server_ok(110, Bytes().u32(5))).num_tokens == 5);
        CHECK(std::get<main::AgentConnectedTokens>(server_ok(115, Bytes().u32(10))).num_tokens ==
              10);
    }
    SECTION("empty messages") {
        CHECK(std::holds_alternative<main::MigrateCancel>(server_ok(102, Bytes())));
        CHECK(std::holds_alternative<main::AgentConnected>(server_ok(107, Bytes())));
        CHECK(std::holds_alternative<main::MigrateEnd>(server_ok(112, Bytes())));
        CHECK(std::holds_alternative<main::MigrateDstSeamlessAck>(server_ok(117, Bytes())));
        CHECK(std::holds_alternative<main::MigrateDstSeamlessNack>(server_ok(118, Bytes())));
    }
    SECTION("agent_data is the raw chunk") {
        auto m = server_ok(109, Bytes().u32(1).u32(2));
        CHECK(std::get<main::AgentData>(m).data.size() == 8);
        CHECK(json(m) == R"({"data_size":8})");
    }
    SECTION("name and uuid") {
        auto n = server_ok(113, Bytes().u32(7).cstr("guest1"));
        CHECK(std::get<main::Name>(n).name == "guest1");
        CHECK(json(n) == R"({"name_len":7,"vm_name":"guest1"})");
        Bytes u;
        for (uint8_t i = 0; i < 16; ++i) {
            u.u8(static_cast<uint8_t>(0x10 + i));
        }
        auto m = server_ok(114, u);
        CHECK(std::get<main::Uuid>(m).uuid[15] == 0x1f);
        CHECK(json(m) == R"({"uuid":"10111213-1415-1617-1819-1a1b1c1d1e1f"})");
    }
}

TEST_CASE("main client messages decode every field", "[channels][main]") {
    CHECK(std::get<main::ClientInfo>(client_ok(101, Bytes().u64(1 << 20))).cache_size == 1 << 20);
    CHECK(std::holds_alternative<main::MigrateConnected>(client_ok(102, Bytes())));
    CHECK(std::holds_alternative<main::MigrateConnectError>(client_ok(103, Bytes())));
    CHECK(std::holds_alternative<main::AttachChannels>(client_ok(104, Bytes())));
    auto req = client_ok(105, Bytes().u16(2));
    CHECK(std::get<main::MouseModeRequest>(req).mode == 2);
    CHECK(json(req) == R"({"mode":2,"mode_names":["client"]})");
    CHECK(std::get<main::AgentStart>(client_ok(106, Bytes().u32(0xffffffff))).num_tokens ==
          0xffffffff);
    CHECK(std::get<main::AgentData>(client_ok(107, Bytes().u8(1))).data.size() == 1);
    CHECK(std::get<main::AgentToken>(client_ok(108, Bytes().u32(3))).num_tokens == 3);
    CHECK(std::holds_alternative<main::MigrateEnd>(client_ok(109, Bytes())));
    CHECK(std::get<main::MigrateDstDoSeamless>(client_ok(110, Bytes().u32(4))).src_version == 4);
    CHECK(std::holds_alternative<main::MigrateConnectedSeamless>(client_ok(111, Bytes())));
    const Bytes qb = Bytes().str("quality=good");  // the message views these bytes
    auto q = client_ok(112, qb);
    CHECK(json(q) == R"({"data_size":12,"text":"quality=good"})");
}

TEST_CASE("main parsers reject unknown ids, truncations and bad pointers", "[channels][main]") {
    auto u = main::parse_server(119, {}, kCaps);
    REQUIRE_FALSE(u);
    CHECK(u.error().code == Errc::Unsupported);
    CHECK(u.error().what == "unknown main message type 119");
    CHECK_FALSE(main::parse_client(113, {}, kCaps));
    CHECK_FALSE(main::parse_server(3, {}, kCaps));  // base ids are not main's

    auto server = [](uint16_t type) {
        return [type](ByteView v) { return main::parse_server(type, v, kCaps); };
    };
    Bytes mb = dst_info("host", "CN", 0);
    mb.cstr("host").cstr("CN");
    test::sweep_truncations(mb.vec(), mb.size(), server(101));
    test::sweep_truncations(Bytes().fill(32, 1).vec(), 32, server(103));
    test::sweep_truncations(Bytes().u32(2).u8(1).u8(0).u8(2).u8(0).vec(), 8, server(104));
    test::sweep_truncations(Bytes().u16(3).u16(1).vec(), 4, server(105));
    test::sweep_truncations(Bytes().u32(7).cstr("guest1").vec(), 11, server(113));
    test::sweep_truncations(Bytes().fill(16, 1).vec(), 16, server(114));
    auto client = [](uint16_t type) {
        return [type](ByteView v) { return main::parse_client(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u64(1).vec(), 8, client(101));
    test::sweep_truncations(Bytes().u16(1).vec(), 2, client(105));
    test::sweep_truncations(Bytes().u32(1).vec(), 4, client(106));

    SECTION("host pointer outside the body") {
        Bytes b = dst_info("host", "", 0);
        b.put_u32(8, 400);
        b.cstr("host");
        auto r = main::parse_server(101, b.view(), kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
        CHECK(r.error().offset == 400);
    }
    SECTION("migrate_begin requires a host") {
        Bytes b = dst_info("", "", 0);
        b.put_u32(8, 0);
        CHECK_FALSE(main::parse_server(101, b.view(), kCaps));
    }
    SECTION("channel count beyond the body") {
        auto r = main::parse_server(104, Bytes().u32(1000).u8(1).u8(0).view(), kCaps);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::BadValue);
    }
    SECTION("name_len beyond the body") {
        CHECK_FALSE(main::parse_server(113, Bytes().u32(100).str("x").view(), kCaps));
    }
}
