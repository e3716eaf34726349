// Message bodies taken from a real QEMU <-> spicy capture (see vectors/qemu72_spicy042.txt).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "decode/channels/base_channel.h"
#include "decode/channels/cursor_channel.h"
#include "decode/channels/inputs_channel.h"
#include "decode/channels/main_channel.h"
#include "tests/decode/channels/test_bytes.h"
#include "tests/support/paths.h"

using namespace spicetap;
using namespace spicetap::channels;

namespace {

struct Vector {
    std::string channel;
    bool client = false;
    uint16_t type = 0;
    std::vector<uint8_t> body;
};

std::vector<Vector> load_vectors() {
    const auto path = test::source_dir() / "tests/decode/channels/vectors/qemu72_spicy042.txt";
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<Vector> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream f(line);
        Vector v;
        std::string dir, hex, extra;
        f >> v.channel >> dir >> v.type >> hex >> extra;
        v.client = dir == "c2s";
        if (hex.starts_with("+zeros:")) {
            extra = hex;
            hex.clear();
        }
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
            v.body.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
        }
        if (extra.starts_with("+zeros:")) {
            v.body.resize(v.body.size() + std::stoul(extra.substr(7)), 0);
        }
        out.push_back(std::move(v));
    }
    return out;
}

const Vector& find(const std::vector<Vector>& all, std::string_view channel, bool client,
                   uint16_t type, size_t nth = 0) {
    for (const auto& v : all) {
        if (v.channel == channel && v.client == client && v.type == type && nth-- == 0) {
            return v;
        }
    }
    FAIL("no vector " << channel << " " << type);
    return all.front();
}

const wire::ChannelCaps kCaps;

}  // namespace

TEST_CASE("every real vector decodes with its channel's parser", "[channels][real]") {
    const auto all = load_vectors();
    REQUIRE(all.size() == 17);
    for (const auto& v : all) {
        INFO(v.channel << (v.client ? " c2s " : " s2c ") << v.type);
        std::string out;
        JsonWriter w(out);
        w.begin_object();
        bool ok = false;
        if (v.type < base::kFirstChannelMessage) {
            if (v.client) {
                auto m = base::parse_client(v.type, v.body, kCaps);
                ok = m.has_value();
                if (ok) {
                    base::write_json(*m, w);
                }
            } else {
                auto m = base::parse_server(v.type, v.body, kCaps);
                ok = m.has_value();
                if (ok) {
                    base::write_json(*m, w);
                }
            }
        } else if (v.channel == "main") {
            ok = v.client ? main::parse_client(v.type, v.body, kCaps).has_value()
                          : main::parse_server(v.type, v.body, kCaps).has_value();
        } else if (v.channel == "inputs") {
            ok = v.client ? inputs::parse_client(v.type, v.body, kCaps).has_value()
                          : inputs::parse_server(v.type, v.body, kCaps).has_value();
        } else if (v.channel == "cursor") {
            ok = cursor::parse_server(v.type, v.body, kCaps).has_value();
        }
        w.end_object();
        CHECK(ok);
    }
}

TEST_CASE("real main channel bring-up", "[channels][real]") {
    const auto all = load_vectors();
    auto init = main::parse_server(103, find(all, "main", false, 103).body, kCaps);
    REQUIRE(init);
    const auto& i = std::get<main::Init>(*init);
    CHECK(i.session_id == 0x1709c55c);
    CHECK(i.display_channels_hint == 1);
    CHECK(i.supported_mouse_modes == 1);
    CHECK(i.current_mouse_mode == 1);
    CHECK(i.agent_connected == 0);
    CHECK(i.agent_tokens == 10);
    CHECK(i.multi_media_time == 0x31e6c1);
    CHECK(i.ram_hint == 0x02ffe000);

    auto name = main::parse_server(113, find(all, "main", false, 113).body, kCaps);
    REQUIRE(name);
    CHECK(std::get<main::Name>(*name).name == "QEMU 7.2.22");

    auto list = main::parse_server(104, find(all, "main", false, 104).body, kCaps);
    REQUIRE(list);
    const auto& ch = std::get<main::ChannelsList>(*list).channels;
    REQUIRE(ch.size() == 3);
    CHECK(ch[0].type == 2);
    CHECK(ch[1].type == 4);
    CHECK(ch[2].type == 3);

    auto notify = base::parse_server(7, find(all, "main", false, 7).body, kCaps);
    REQUIRE(notify);
    const auto& n = std::get<base::Notify>(*notify);
    CHECK(n.severity == 1);
    CHECK(n.visibility == 2);
    CHECK(n.message == "keyboard channel is insecure");

    // The bandwidth test: ping 1 without padding, ping 3 with 256 000 bytes; pongs echo them.
    auto ping = base::parse_server(4, find(all, "main", false, 4, 1).body, kCaps);
    REQUIRE(ping);
    CHECK(std::get<base::Ping>(*ping).id == 3);
    CHECK(std::get<base::Ping>(*ping).padding_size == 256000);
    auto pong = base::parse_client(3, find(all, "main", true, 3).body, kCaps);
    REQUIRE(pong);
    CHECK(std::get<base::Pong>(*pong).id == 1);
    CHECK(std::get<base::Pong>(*pong).timestamp == 0xc2f37cd0);
}

TEST_CASE("real inputs and cursor bring-up", "[channels][real]") {
    const auto all = load_vectors();
    auto ack = base::parse_server(3, find(all, "cursor", false, 3).body, kCaps);
    REQUIRE(ack);
    CHECK(std::get<base::SetAck>(*ack).generation == 1);
    CHECK(std::get<base::SetAck>(*ack).window == 20);
    auto sync = base::parse_client(1, find(all, "cursor", true, 1).body, kCaps);
    REQUIRE(sync);
    CHECK(std::get<base::AckSync>(*sync).generation == 1);

    auto init = cursor::parse_server(101, find(all, "cursor", false, 101).body, kCaps);
    REQUIRE(init);
    const auto& c = std::get<cursor::Init>(*init);
    CHECK(c.visible == 1);
    CHECK(c.cursor.flags == cursor::kCursorFlagNone);
    CHECK_FALSE(c.cursor.header);

    auto inputs_init = inputs::parse_server(101, find(all, "inputs", false, 101).body, kCaps);
    REQUIRE(inputs_init);
    CHECK(std::get<inputs::Init>(*inputs_init).keyboard_modifiers == 0);
    auto mods = inputs::parse_client(103, find(all, "inputs", true, 103).body, kCaps);
    REQUIRE(mods);
    CHECK(std::get<inputs::KeyModifiers>(*mods).modifiers == 0);
}
