#include <catch2/catch.hpp>

#include "decode/channels/playback_channel.h"
#include "decode/channels/record_channel.h"
#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;
using spicetap::test::Bytes;

namespace {

const wire::ChannelCaps kCaps;

template <typename M>
std::string playback_json(const M& m) {
    return test::object_json([&](JsonWriter& w) { playback::write_json(m, w); });
}

template <typename M>
std::string record_json(const M& m) {
    return test::object_json([&](JsonWriter& w) { record::write_json(m, w); });
}

}  // namespace

TEST_CASE("playback messages decode every field", "[channels][playback]") {
    auto server = [](uint16_t type, const Bytes& b) {
        auto r = playback::parse_server(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto data = server(101, Bytes().u32(1000).fill(960));
    CHECK(std::get<playback::Data>(data).time == 1000);
    CHECK(std::get<playback::Data>(data).data.size() == 960);
    CHECK(playback_json(data) == R"({"time":1000,"data_size":960})");
    auto mode = server(102, Bytes().u32(5).u16(3));
    CHECK(std::get<playback::Mode>(mode).mode == 3);
    CHECK(playback_json(mode) == R"({"time":5,"mode":3,"mode_name":"opus","data_size":0})");
    auto start = server(103, Bytes().u32(2).u16(1).u32(48000).u32(77));
    const auto& s = std::get<playback::Start>(start);
    CHECK(s.channels == 2);
    CHECK(s.format == 1);
    CHECK(s.frequency == 48000);
    CHECK(s.time == 77);
    CHECK(playback_json(start) ==
          R"({"channels":2,"format":1,"format_name":"s16","frequency":48000,"time":77})");
    CHECK(std::holds_alternative<playback::Stop>(server(104, Bytes())));
    auto vol = server(105, Bytes().u8(2).u16(0x8000).u16(0xffff));
    CHECK(std::get<playback::Volume>(vol).volume == std::vector<uint16_t>{0x8000, 0xffff});
    CHECK(playback_json(vol) == R"({"nchannels":2,"volume":[32768,65535]})");
    CHECK(std::get<playback::Mute>(server(106, Bytes().u8(1))).mute == 1);
    CHECK(std::get<playback::Latency>(server(107, Bytes().u32(120))).latency_ms == 120);
}

TEST_CASE("record messages decode every field", "[channels][record]") {
    auto server = [](uint16_t type, const Bytes& b) {
        auto r = record::parse_server(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto client = [](uint16_t type, const Bytes& b) {
        auto r = record::parse_client(type, b.view(), kCaps);
        REQUIRE(r);
        return *r;
    };
    auto start = server(101, Bytes().u32(2).u16(1).u32(44100));
    CHECK(std::get<record::Start>(start).frequency == 44100);
    CHECK(record_json(start) ==
          R"({"channels":2,"format":1,"format_name":"s16","frequency":44100})");
    CHECK(std::holds_alternative<record::Stop>(server(102, Bytes())));
    CHECK(std::get<record::Volume>(server(103, Bytes().u8(1).u16(9))).volume.size() == 1);
    CHECK(std::get<record::Mute>(server(104, Bytes().u8(0))).mute == 0);
    auto data = client(101, Bytes().u32(33).fill(100));
    CHECK(std::get<record::Data>(data).time == 33);
    CHECK(record_json(data) == R"({"time":33,"data_size":100})");
    auto mode = client(102, Bytes().u32(1).u16(1));
    CHECK(record_json(mode) == R"({"time":1,"mode":1,"mode_name":"raw","data_size":0})");
    CHECK(std::get<record::StartMark>(client(103, Bytes().u32(12))).time == 12);
}

TEST_CASE("audio parsers reject unknown ids, truncations and bad counts", "[channels][audio]") {
    CHECK(playback::parse_server(108, {}, kCaps).error().what ==
          "unknown playback message type 108");
    CHECK_FALSE(playback::parse_client(101, {}, kCaps));
    CHECK_FALSE(record::parse_server(105, {}, kCaps));
    CHECK_FALSE(record::parse_client(104, {}, kCaps));
    auto pb = [](uint16_t type) {
        return [type](ByteView v) { return playback::parse_server(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u32(1).fill(4).vec(), 4, pb(101));
    test::sweep_truncations(Bytes().u32(1).u16(1).vec(), 6, pb(102));
    test::sweep_truncations(Bytes().u32(2).u16(1).u32(3).u32(4).vec(), 14, pb(103));
    test::sweep_truncations(Bytes().u8(2).u16(1).u16(2).vec(), 5, pb(105));
    test::sweep_truncations(Bytes().u8(1).vec(), 1, pb(106));
    test::sweep_truncations(Bytes().u32(1).vec(), 4, pb(107));
    auto rc = [](uint16_t type) {
        return [type](ByteView v) { return record::parse_client(type, v, kCaps); };
    };
    test::sweep_truncations(Bytes().u32(1).fill(2).vec(), 4, rc(101));
    test::sweep_truncations(Bytes().u32(1).u16(1).vec(), 6, rc(102));
    test::sweep_truncations(Bytes().u32(1).vec(), 4, rc(103));
    test::sweep_truncations(Bytes().u32(2).u16(1).u32(3).vec(), 10,
                            [](ByteView v) { return record::parse_server(101, v, kCaps); });
    auto r = playback::parse_server(105, Bytes().u8(200).u16(1).view(), kCaps);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::BadValue);
}
