#include <lz4.h>

#include <catch2/catch.hpp>

#include "decode/channels/port_channel.h"
#include "decode/channels/smartcard_channel.h"
#include "decode/channels/spicevmc_channel.h"
#include "decode/channels/usbredir_packets.h"
#include "decode/channels/webdav_mux.h"
#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;
using wire::Direction;

namespace {

const wire::ChannelCaps kCaps;

template <typename Fn>
std::string json(Fn fn) {
    return test::object_json(fn);
}

}  // namespace

TEST_CASE("smartcard data carries one VSC message", "[channels][smartcard]") {
    const Bytes add = Bytes().u32(3).u32(0).u32(12).cstr("Test Reader");
    auto r = smartcard::parse_client(101, add.view(), kCaps);
    REQUIRE(r);
    const auto& d = std::get<smartcard::Data>(*r);
    CHECK(d.header.type == 3);
    CHECK(d.header.reader_id == 0);
    CHECK(d.header.length == 12);
    CHECK(d.reader_name == "Test Reader");
    CHECK(json([&](JsonWriter& w) { smartcard::write_json(d, w); }) ==
          R"({"vsc_type":3,"vsc_type_name":"reader_add","reader_id":0,"length":12,)"
          R"("reader_name":"Test Reader"})");

    const Bytes apdu = Bytes().u32(7).u32(1).u32(5).u8(0x00).u8(0xa4).u8(4).u8(0).u8(0);
    auto s = smartcard::parse_server(101, apdu.view(), kCaps);
    REQUIRE(s);
    CHECK(std::get<smartcard::Data>(*s).payload.size() == 5);
    CHECK(smartcard::vsc_type_name(7) == "apdu");

    const Bytes err = Bytes().u32(2).u32(1).u32(4).u32(6);
    auto e = smartcard::parse_server(101, err.view(), kCaps);
    REQUIRE(e);
    CHECK(std::get<smartcard::Data>(*e).error_code == 6u);

    const char* names[] = {"unknown", "init",        "error", "reader_add", "reader_remove",
                           "atr",     "card_remove", "apdu",  "flush",      "flush_complete"};
    for (uint32_t t = 0; t < 10; ++t) {
        CHECK(smartcard::vsc_type_name(t) == names[t]);
    }
    CHECK(smartcard::vsc_type_name(10) == "unknown");

    test::sweep_truncations(add.vec(), add.size(),
                            [](ByteView v) { return smartcard::parse_server(101, v, kCaps); });
    auto bad = smartcard::parse_server(101, Bytes().u32(7).u32(0).u32(99).u8(1).view(), kCaps);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::BadValue);
    CHECK(bad.error().offset == 8);
    CHECK_FALSE(smartcard::parse_server(102, {}, kCaps));
    CHECK_FALSE(smartcard::parse_client(102, {}, kCaps));
}

TEST_CASE("spicevmc data and compressed data", "[channels][spicevmc]") {
    const Bytes raw = Bytes().str("hello usb");
    auto d = spicevmc::parse_server(101, raw.view(), kCaps);
    REQUIRE(d);
    CHECK(std::get<spicevmc::Data>(*d).data.size() == 9);

    std::string plain(3000, 'x');
    for (size_t i = 0; i < plain.size(); i += 7) {
        plain[i] = static_cast<char>('a' + i % 26);
    }
    std::vector<char> block(LZ4_compressBound(static_cast<int>(plain.size())));
    const int n = LZ4_compress_default(plain.data(), block.data(), static_cast<int>(plain.size()),
                                       static_cast<int>(block.size()));
    REQUIRE(n > 0);
    Bytes comp;
    comp.u8(1)
        .u32(static_cast<uint32_t>(plain.size()))
        .str(std::string_view(block.data(), static_cast<size_t>(n)));
    auto c = spicevmc::parse_client(102, comp.view(), kCaps);
    REQUIRE(c);
    const auto& cd = std::get<spicevmc::CompressedData>(*c);
    CHECK(cd.type == 1);
    CHECK(cd.uncompressed_size == 3000u);
    CHECK(cd.data.size() == static_cast<size_t>(n));
    auto out = spicevmc::decompress(cd);
    REQUIRE(out);
    CHECK(std::string(out->begin(), out->end()) == plain);
    CHECK(json([&](JsonWriter& w) { spicevmc::write_json(*c, w); }) ==
          R"({"compression":1,"compression_name":"lz4","uncompressed_size":3000,"data_size":)" +
              std::to_string(n) + "}");

    SECTION("NONE has no size field") {
        const Bytes none = Bytes().u8(0).str("abc");
        auto r = spicevmc::parse_server(102, none.view(), kCaps);
        REQUIRE(r);
        const auto& m = std::get<spicevmc::CompressedData>(*r);
        CHECK_FALSE(m.uncompressed_size);
        CHECK(spicevmc::decompress(m)->size() == 3);
    }
    SECTION("bad blocks and sizes are errors") {
        Bytes wrong = comp;
        wrong.put_u32(1, 2999);
        auto r = spicevmc::parse_server(102, wrong.view(), kCaps);
        REQUIRE(r);
        CHECK_FALSE(spicevmc::decompress(std::get<spicevmc::CompressedData>(*r)));
        const Bytes huge = Bytes().u8(1).u32(0xffffffff).u8(0);
        auto h = spicevmc::parse_server(102, huge.view(), kCaps);
        REQUIRE(h);
        CHECK(spicevmc::decompress(std::get<spicevmc::CompressedData>(*h)).error().code ==
              Errc::LimitExceeded);
        const Bytes junk = Bytes().u8(1).u32(100).u8(0xff).u8(0xff);
        auto j = spicevmc::parse_server(102, junk.view(), kCaps);
        REQUIRE(j);
        CHECK(spicevmc::decompress(std::get<spicevmc::CompressedData>(*j)).error().code ==
              Errc::Corrupt);
        const Bytes other = Bytes().u8(2).u32(1);
        CHECK(spicevmc::decompress(std::get<spicevmc::CompressedData>(
                                       *spicevmc::parse_server(102, other.view(), kCaps)))
                  .error()
                  .code == Errc::Unsupported);
        test::sweep_truncations(Bytes().u8(1).u32(5).vec(), 5,
                                [](ByteView v) { return spicevmc::parse_server(102, v, kCaps); });
    }
    CHECK_FALSE(spicevmc::parse_server(103, {}, kCaps));
}

TEST_CASE("port init, event and data", "[channels][port]") {
    Bytes init;
    init.u32(25).u32(9).u8(1).cstr("org.spice-space.webdav.0");
    auto r = port::parse_server(201, init.view(), kCaps);
    REQUIRE(r);
    const auto& i = std::get<port::Init>(*r);
    CHECK(i.name_size == 25);
    CHECK(i.name == "org.spice-space.webdav.0");
    CHECK(i.opened == 1);
    CHECK(json([&](JsonWriter& w) { port::write_json(*r, w); }) ==
          R"({"name_size":25,"port_name":"org.spice-space.webdav.0","opened":1})");
    auto ev = port::parse_server(202, Bytes().u8(2).view(), kCaps);
    REQUIRE(ev);
    CHECK(json([&](JsonWriter& w) { port::write_json(*ev, w); }) ==
          R"({"event":2,"event_name":"break"})");
    auto cev = port::parse_client(201, Bytes().u8(0).view(), kCaps);
    REQUIRE(cev);
    CHECK(std::get<port::Event>(*cev).event == 0);
    const Bytes data = Bytes().str("{\"execute\":\"qmp_capabilities\"}");
    auto d = port::parse_client(101, data.view(), kCaps);
    REQUIRE(d);
    CHECK(std::get<port::Data>(*d).data.size() == data.size());
    CHECK(std::holds_alternative<port::CompressedData>(
        *port::parse_server(102, Bytes().u8(0).view(), kCaps)));

    test::sweep_truncations(init.vec(), init.size(),
                            [](ByteView v) { return port::parse_server(201, v, kCaps); });
    Bytes bad = init;
    bad.put_u32(4, 1000);
    CHECK(port::parse_server(201, bad.view(), kCaps).error().offset == 1000);
    bad.put_u32(4, 0);
    CHECK_FALSE(port::parse_server(201, bad.view(), kCaps));
    CHECK(port::parse_server(203, {}, kCaps).error().what == "unknown port message type 203");
    CHECK_FALSE(port::parse_client(202, {}, kCaps));
    CHECK_FALSE(port::parse_client(201, {}, kCaps));
}

TEST_CASE("webdav mux frames span DATA messages", "[channels][webdav]") {
    Bytes stream;
    const std::string req = "PROPFIND / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    stream.i64(7).u16(static_cast<uint16_t>(req.size())).str(req);
    stream.i64(-3).u16(4).str("abcd");
    stream.i64(7).u16(0);
    webdav::WebdavDemux demux;
    std::vector<webdav::Frame> frames;
    for (size_t pos = 0; pos < stream.size(); pos += 5) {
        const size_t n = std::min<size_t>(5, stream.size() - pos);
        auto got = demux.feed(stream.view().subspan(pos, n));
        frames.insert(frames.end(), got.begin(), got.end());
    }
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].client_id == 7);
    CHECK(std::string(frames[0].data.begin(), frames[0].data.end()) == req);
    CHECK(frames[1].client_id == -3);
    CHECK(frames[1].stream_offset == 10 + req.size());
    CHECK(frames[2].closed());
    CHECK(demux.buffered() == 0);
    CHECK(json([&](JsonWriter& w) { webdav::write_json(frames[0], w); }) ==
          R"({"client_id":7,"stream_offset":0,"data_size":)" + std::to_string(req.size()) +
              R"(,"closed":false,"http_line":"PROPFIND / HTTP/1.1"})");
    // The webdav channel's SPICE messages are the port's.
    auto init = webdav::parse_server(202, Bytes().u8(1).view(), kCaps);
    REQUIRE(init);
    CHECK(std::get<port::Event>(*init).event == 1);
}

TEST_CASE("usbredir packets over the spicevmc stream", "[channels][usbredir]") {
    usbredir::UsbredirSession session;
    // Hellos with 32-bit ids, both announcing 64bits_ids (5) and connect_device_version (1).
    auto hello = [](std::string_view version) {
        Bytes b;
        b.u32(0).u32(68).u32(0).str(version).fill(64 - version.size()).u32((1u << 5) | (1u << 1));
        return b;
    };
    const Bytes host_hello = hello("spice-gtk 0.42");
    const Bytes guest_hello = hello("qemu usb-redir guest 7.2");
    auto h1 = session.feed(Direction::ClientToServer, host_hello.view());
    REQUIRE(h1);
    REQUIRE(h1->size() == 1);
    CHECK((*h1)[0].hello->version == "spice-gtk 0.42");
    CHECK((*h1)[0].id_bits == 32);
    CHECK_FALSE(session.uses_64bit_ids());
    // The guest's hello arrives split across two DATA messages.
    auto g1 = session.feed(Direction::ServerToClient, guest_hello.view().subspan(0, 10));
    REQUIRE(g1);
    CHECK(g1->empty());
    auto g2 = session.feed(Direction::ServerToClient, guest_hello.view().subspan(10));
    REQUIRE(g2);
    REQUIRE(g2->size() == 1);
    CHECK((*g2)[0].hello->caps == std::vector<uint32_t>{0x22});
    CHECK(session.uses_64bit_ids());

    // device_connect + a control packet in one DATA message, now with 64-bit ids.
    Bytes more;
    more.u32(1).u32(10).u64(1).u8(2).u8(0).u8(0).u8(0).u16(0x1234).u16(0x5678).u16(0x0200);
    more.u32(100).u32(10 + 18).u64(0x100000001ull);
    more.u8(0x80).u8(6).u8(0x80).u8(0).u16(0x0100).u16(0).u16(18).fill(18, 0x12);
    auto p = session.feed(Direction::ClientToServer, more.view());
    REQUIRE(p);
    REQUIRE(p->size() == 2);
    const auto& dc = (*p)[0];
    CHECK(usbredir::packet_type_name(dc.type) == "device_connect");
    REQUIRE(dc.device_connect);
    CHECK(dc.device_connect->vendor_id == 0x1234);
    CHECK(dc.device_connect->product_id == 0x5678);
    CHECK(dc.device_connect->device_version_bcd == 0x0200);
    const auto& ctl = (*p)[1];
    CHECK(ctl.id == 0x100000001ull);
    CHECK(ctl.id_bits == 64);
    REQUIRE(ctl.data);
    CHECK(ctl.data->endpoint == 0x80);
    CHECK(ctl.data->request == 6);
    CHECK(ctl.data->data_length == 18);
    CHECK(ctl.data->data_size == 18);
    CHECK(json([&](JsonWriter& w) { usbredir::write_json(ctl, w); }) ==
          R"({"packet_type":100,"packet_type_name":"control_packet","length":28,)"
          R"("id":4294967297,"id_bits":64,"stream_offset":106,"endpoint":128,"status":0,)"
          R"("status_name":"success","data_length":18,"request":6,"request_type":128,)"
          R"("value":256,"index":0,"data_size":18})");

    CHECK(usbredir::packet_type_name(0) == "hello");
    CHECK(usbredir::packet_type_name(27) == "bulk_receiving_status");
    CHECK(usbredir::packet_type_name(28) == "unknown");
    CHECK(usbredir::packet_type_name(104) == "buffered_bulk_packet");
    CHECK(usbredir::packet_type_name(105) == "unknown");

    SECTION("an oversized length is an error and the direction restarts") {
        usbredir::UsbredirSession small(1000);
        auto bad = small.feed(Direction::ServerToClient, Bytes().u32(101).u32(5000).u32(1).view());
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == Errc::LimitExceeded);
        CHECK(bad.error().offset == 4);
        const Bytes ok = Bytes().u32(3).u32(0).u32(9);
        auto next = small.feed(Direction::ServerToClient, ok.view());
        REQUIRE(next);
        REQUIRE(next->size() == 1);
        CHECK(usbredir::packet_type_name((*next)[0].type) == "reset");
        CHECK((*next)[0].stream_offset == 12);
    }
}
