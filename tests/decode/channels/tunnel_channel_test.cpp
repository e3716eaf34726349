#include "decode/channels/tunnel_channel.h"

#include <catch2/catch.hpp>

#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;

namespace {

const wire::ChannelCaps kCaps;

template <typename M>
std::string json(const M& m) {
    return test::object_json([&](JsonWriter& w) { tunnel::write_json(m, w); });
}

}  // namespace

TEST_CASE("tunnel server messages (obsolete layout)", "[channels][tunnel]") {
    auto server = [](uint16_t type, const Bytes& b) {
        auto r = tunnel::parse_server(type, b.view(), kCaps);
        if (!r) {
            FAIL(r.error().message());
        }
        return *r;
    };
    auto init = server(101, Bytes().u16(32).u32(4096));
    CHECK(std::get<tunnel::Init>(init).max_num_of_sockets == 32);
    CHECK(std::get<tunnel::Init>(init).max_socket_data_size == 4096);
    auto map = server(102, Bytes().u32(5).u16(1).u8(10).u8(0).u8(0).u8(9));
    CHECK(json(map) ==
          R"({"service_id":5,"virtual_ip":{"type":1,"type_name":"ipv4","ipv4":"10.0.0.9"}})");
    auto open = server(103, Bytes().u16(3).u32(5).u32(10));
    CHECK(std::get<tunnel::SocketOpen>(open).tokens == 10);
    CHECK(std::get<tunnel::SocketFin>(server(104, Bytes().u16(3))).connection_id == 3);
    CHECK(std::get<tunnel::SocketClose>(server(105, Bytes().u16(4))).connection_id == 4);
    auto data = server(106, Bytes().u16(3).str("payload"));
    CHECK(json(data) == R"({"connection_id":3,"data_size":7})");
    CHECK(std::get<tunnel::SocketClosedAck>(server(107, Bytes().u16(6))).connection_id == 6);
    CHECK(std::get<tunnel::SocketToken>(server(108, Bytes().u16(3).u32(8))).num_tokens == 8);
    CHECK(tunnel::message_name(wire::Direction::ServerToClient, 108) == "socket_token");
    CHECK(tunnel::message_name(wire::Direction::ClientToServer, 109) == "socket_token");
    CHECK(tunnel::message_name(wire::Direction::ClientToServer, 110).empty());
}

TEST_CASE("tunnel client messages (obsolete layout)", "[channels][tunnel]") {
    auto client = [](uint16_t type, const Bytes& b) {
        auto r = tunnel::parse_client(type, b.view(), kCaps);
        if (!r) {
            FAIL(r.error().message());
        }
        return *r;
    };
    // IPP service: fixed part 22 bytes + ip 6 bytes, then the two strings.
    Bytes add;
    add.u16(2).u32(1).u32(0).u32(631).u32(28).u32(36).u16(1).u8(192).u8(168).u8(1).u8(2);
    add.cstr("printer").cstr("Office printer");
    auto m = client(101, add);
    const auto& s = std::get<tunnel::ServiceAdd>(m);
    CHECK(s.port == 631);
    CHECK(s.name == "printer");
    CHECK(s.description == "Office printer");
    REQUIRE(s.ip);
    CHECK(json(m) == R"({"service_type":2,"service_type_name":"ipp","id":1,"group":0,"port":631,)"
                     R"("service_name":"printer","description":"Office printer",)"
                     R"("ip":{"type":1,"type_name":"ipv4","ipv4":"192.168.1.2"}})");
    CHECK(std::get<tunnel::ServiceRemove>(client(102, Bytes().u32(1))).id == 1);
    CHECK(std::get<tunnel::SocketOpenAck>(client(103, Bytes().u16(2).u32(9))).tokens == 9);
    CHECK(std::get<tunnel::SocketOpenNack>(client(104, Bytes().u16(2))).connection_id == 2);
    CHECK(std::holds_alternative<tunnel::SocketFin>(client(105, Bytes().u16(2))));
    CHECK(std::holds_alternative<tunnel::SocketClosed>(client(106, Bytes().u16(2))));
    CHECK(std::holds_alternative<tunnel::SocketClosedAck>(client(107, Bytes().u16(2))));
    CHECK(std::get<tunnel::SocketData>(client(108, Bytes().u16(2).u8(1))).data.size() == 1);
    CHECK(std::get<tunnel::SocketToken>(client(109, Bytes().u16(2).u32(3))).num_tokens == 3);

    test::sweep_truncations(add.vec(), 29,
                            [](ByteView v) { return tunnel::parse_client(101, v, kCaps); });
    Bytes bad = add;
    bad.put_u32(14, 500);
    CHECK(tunnel::parse_client(101, bad.view(), kCaps).error().offset == 500);
    CHECK(tunnel::parse_client(110, {}, kCaps).error().what == "unknown tunnel message type 110");
    CHECK_FALSE(tunnel::parse_server(109, {}, kCaps));
    test::sweep_truncations(Bytes().u16(3).u32(5).u32(10).vec(), 10,
                            [](ByteView v) { return tunnel::parse_server(103, v, kCaps); });
}
