// Every message spice-protocol defines, on every channel and in both directions, is covered by
// a decoding test: either real traffic from the peers and QEMU carries it (and `dump --decode`
// decodes it without error), or it is listed below with the reason no peer of ours can produce
// it and the unit test that decodes a message built from the spice.proto layout instead.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "decode/channels/message_fields.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "tests/support/captures.h"
#include "tests/support/json_value.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

using namespace spicetap;
using test::JsonValue;
using test::shell_quote;

namespace {

using Key = std::tuple<std::string, std::string, int>;  // channel, dir, type

// A message no peer of ours sends, with a body laid out by hand from spice.proto, which the
// decoder must accept. `channel` "*" is a base message (below 100): one decoder serves every
// channel, so it is decoded as every channel's.
struct BuiltOnly {
    const char* channel;
    const char* dir;
    int type;
    const char* body_hex;
    const char* why;
};

constexpr const char* kMigration =
    "migration between two servers: no peer of ours migrates (QEMU needs a second VM and a "
    "migration stream)";

constexpr const char* kSometimes = "sometimes in real traffic, not in every recording";

const std::vector<BuiltOnly>& built_only() {
    static const std::vector<BuiltOnly> list = {
        // Base messages.
        {"*", "s2c", 1, "01000000", kMigration},
        {"*", "s2c", 2, "0102030405", kMigration},
        {"*", "s2c", 5,
         "02"
         "0200"
         "0500000000000000"
         "0400"
         "0600000000000000",
         "spice-server sends wait_for_channels only around migration and ack-window resets"},
        {"*", "s2c", 6,
         "1122334455667788"
         "07000000",
         "spice-server closes channels without announcing it"},
        {"*", "s2c", 8,
         "0100"
         "06000000"
         "0400"
         "0c000000"
         "01000000"
         "0200000000000000",
         "spice-server never groups messages into a list"},
        {"*", "c2s", 4, "", kMigration},
        {"*", "c2s", 5, "0a0b0c", kMigration},
        {"*", "c2s", 6,
         "1122334455667788"
         "00000000",
         "spice-gtk closes channels without announcing it"},
        // main.
        {"main", "s2c", 101,
         "0c170d17"
         "02000000"
         "14000000"
         "00000000"
         "00000000"
         "6800",
         kMigration},
        {"main", "s2c", 102, "", kMigration},
        {"main", "s2c", 107, "",
         "the agent is up before the client connects in every scenario (init says so instead)"},
        {"main", "s2c", 108, "00000000", "no scenario stops the agent during a session"},
        {"main", "s2c", 111,
         "0c170d17"
         "02000000"
         "14000000"
         "00000000"
         "00000000"
         "6800",
         kMigration},
        {"main", "s2c", 112, "", kMigration},
        // Real traffic carries this one only some of the time (spice-server sends it when the
        // multimedia clock is adjusted for a stream or audio), so it is also built.
        {"main", "s2c", 106, "10270000", kSometimes},
        {"main", "s2c", 115, "0a000000",
         "sent only when the agent connects after the client, with its tokens"},
        {"main", "s2c", 116,
         "0c170d17"
         "02000000"
         "18000000"
         "00000000"
         "00000000"
         "01000000"
         "6800",
         kMigration},
        {"main", "s2c", 117, "", kMigration},
        {"main", "s2c", 118, "", kMigration},
        {"main", "c2s", 101, "0000010000000000",
         "client_info is obsolete: spice-gtk no longer sends it"},
        {"main", "c2s", 102, "", kMigration},
        {"main", "c2s", 103, "", kMigration},
        {"main", "c2s", 108, "0a000000",
         "spice-gtk returns agent tokens only after many server agent messages"},
        {"main", "c2s", 109, "", kMigration},
        {"main", "c2s", 110, "01000000", kMigration},
        {"main", "c2s", 111, "", kMigration},
        {"main", "c2s", 112, "6f6b00",
         "quality indicators come from newer clients than Debian 12's spice-gtk"},
        // display.
        {"display", "s2c", 101,
         "00040000"
         "00030000"
         "20000000",
         "mode is the pre-surface protocol: spice-server sends surface_create instead"},
        {"display", "s2c", 103, "", "spice-server sends reset only on migration"},
        {"display", "s2c", 105,
         "0100"
         "01"
         "0500000000000000",
         "the client's pixmap cache (20 MB) never fills in our short sessions"},
        {"display", "s2c", 106,
         "01"
         "0200"
         "0700000000000000",
         kMigration},
        {"display", "s2c", 107, "0900000000000000",
         "palettes are only cached for LZ_PLT/bitmap palettes, none of which is evicted"},
        {"display", "s2c", 316,
         "01000000"
         "10000000"
         "40000000"
         "30000000"
         "00000000"
         "00000000"
         "30000000"
         "40000000"
         "02000000"
         "abcd",
         "spice-server sends stream_data_sized only when a stream's frames change size"},
        {"display", "s2c", 318,
         "00000000"
         "00000000000000001000000010000000"
         "00"
         "03000000"
         "25000000"
         "00000000"
         "00000000"
         "0100000000000000"
         "68"
         "00"
         "10000000"
         "10000000"
         "01000000",
         "QXL composite commands come from the X qxl driver's RENDER path, not from our guest"},
        {"display", "s2c", 320,
         "00040000"
         "00030000"
         "00100000"
         "34325258"
         "01000000",
         "GL scanout needs virgl and a local unix-socket client"},
        {"display", "s2c", 321,
         "00000000"
         "00000000"
         "00040000"
         "00030000",
         "GL scanout needs virgl and a local unix-socket client"},
        {"display", "s2c", 322, "6f6b00",
         "quality indicators come from newer servers than Debian 12's spice-server"},
        {"display", "c2s", 104, "", "GL scanout needs virgl and a local unix-socket client"},
        // cursor.
        {"cursor", "s2c", 106,
         "0400"
         "0200",
         "the QXL cursor-trail command is not issued by qxl drivers"},
        {"cursor", "s2c", 107, "0300000000000000",
         "the client's cursor cache never fills in our sessions"},
        // audio.
        {"playback", "s2c", 104, "", "the test server plays without stopping mid-session"},
        {"playback", "s2c", 105,
         "02"
         "0080"
         "0080",
         "no scenario changes the playback volume"},
        {"playback", "s2c", 106, "01", "no scenario mutes playback"},
        {"record", "s2c", 102, "", "the test server records until the session ends"},
        {"record", "s2c", 103,
         "02"
         "0080"
         "0080",
         "no scenario changes the record volume"},
        {"record", "s2c", 104, "01", "no scenario mutes recording"},
        // spicevmc channels.
        {"port", "s2c", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "spice-server compresses spicevmc data for usbredir only"},
        {"port", "c2s", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "spice-gtk compresses spicevmc data for usbredir only"},
        {"port", "c2s", 201, "01", "the test client never opens or closes a port by event"},
        {"smartcard", "s2c", 101,
         "03000000"
         "00000000"
         "08000000"
         "0000000000000000",
         "no smartcard emulation (libcacard) in the peers"},
        {"smartcard", "c2s", 101,
         "03000000"
         "00000000"
         "08000000"
         "0000000000000000",
         "no smartcard emulation (libcacard) in the peers"},
        {"usbredir", "s2c", 101, "", "no USB device to redirect on a CI machine"},
        {"usbredir", "s2c", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "no USB device to redirect on a CI machine"},
        {"usbredir", "c2s", 101, "", "no USB device to redirect on a CI machine"},
        {"usbredir", "c2s", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "no USB device to redirect on a CI machine"},
        {"webdav", "s2c", 101, "", "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "s2c", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "s2c", 201,
         "05000000"
         "09000000"
         "01"
         "6162636400",
         "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "s2c", 202, "00", "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "c2s", 101, "", "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "c2s", 102,
         "01"
         "10000000"
         "f001"
         "61616161616161616161616161616161",
         "folder sharing needs a guest WebDAV daemon and phodav"},
        {"webdav", "c2s", 201, "01", "folder sharing needs a guest WebDAV daemon and phodav"},
    };
    return list;
}

std::vector<uint8_t> from_hex(std::string_view hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

// Decodes a built body as `channel_type` would; the fields' JSON or the error.
Result<std::string> decode_built(uint8_t channel_type, wire::Direction dir, int type,
                                 const std::vector<uint8_t>& body) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    auto r =
        channels::write_message_fields(channel_type, dir, static_cast<uint16_t>(type),
                                       ByteView(body.data(), body.size()), wire::ChannelCaps{}, w);
    if (!r) {
        return r.error();
    }
    w.end_object();
    return out;
}

}  // namespace

TEST_CASE("every SPICE message of every channel is covered by real traffic or a built message",
          "[cli][decode][real][coverage]") {
    std::set<Key> seen;
    for (const auto& pcap : test::all_real_captures()) {
        const auto r = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                         " dump --decode --json " + shell_quote(pcap.string()));
        INFO("capture " << pcap);
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        std::istringstream in(r.out);
        std::string line;
        while (std::getline(in, line)) {
            auto v = JsonValue::parse(line);
            REQUIRE(v.has_value());
            if (v->find("error") != nullptr) {
                continue;  // the decode tests fail on these; they cover nothing here
            }
            seen.insert({v->find("channel")->string(), v->find("dir")->string(),
                         static_cast<int>(v->find("type")->integer())});
        }
    }
    std::set<std::pair<std::string, int>> seen_base;
    for (const auto& [channel, d, type] : seen) {
        if (type < 100) {
            seen_base.insert({d, type});
        }
    }
    // Every built body decodes (as each channel, for base messages); those it covers are listed.
    std::map<Key, const BuiltOnly*> listed;
    for (const auto& b : built_only()) {
        for (int ch = 1; ch <= 11; ++ch) {
            const std::string channel(wire::channel_type_name(static_cast<uint8_t>(ch)));
            if (std::string(b.channel) != "*" && channel != b.channel) {
                continue;
            }
            const auto dir = std::string(b.dir) == "s2c" ? wire::Direction::ServerToClient
                                                         : wire::Direction::ClientToServer;
            const auto body = from_hex(b.body_hex);
            auto json = decode_built(static_cast<uint8_t>(ch), dir, b.type, body);
            INFO(channel << " " << b.dir << " " << b.type << " built from " << b.body_hex);
            REQUIRE(json.has_value());
            if (!body.empty()) {
                CHECK(*json != "{}");  // a non-empty body shows its fields
            }
            // The decoder checks lengths: the body cut short by one byte must fail, except
            // where the layout ends in raw bytes of any length.
            if (!body.empty()) {
                auto shorter = body;
                shorter.pop_back();
                const bool raw_tail =
                    b.type == 2 || (b.type == 5 && std::string(b.dir) == "c2s") ||
                    (b.type == 101 && (channel == "usbredir" || channel == "webdav")) ||
                    b.type == 102 || b.type == 316 || b.type == 322 ||
                    (channel == "main" && b.type == 112) ||
                    (channel == "smartcard" && b.type == 101);
                if (!raw_tail) {
                    CHECK_FALSE(
                        decode_built(static_cast<uint8_t>(ch), dir, b.type, shorter).has_value());
                }
            }
            listed[{channel, b.dir, b.type}] = &b;
        }
    }
    int defined = 0, real = 0, built = 0;
    std::vector<std::string> uncovered;
    for (int ch = 1; ch <= 11; ++ch) {
        const std::string channel(wire::channel_type_name(static_cast<uint8_t>(ch)));
        for (auto dir : {wire::Direction::ServerToClient, wire::Direction::ClientToServer}) {
            const std::string d = wire::direction_name(dir);
            for (int type = 1; type < 512; ++type) {
                const auto name =
                    wire::message_name(static_cast<uint8_t>(ch), dir, static_cast<uint16_t>(type));
                if (name.empty()) {
                    continue;
                }
                ++defined;
                const Key key{channel, d, type};
                // Base messages (below 100) have one decoder for every channel: real traffic on
                // any channel covers them.
                if (seen.count(key) || (type < 100 && seen_base.count({d, type}))) {
                    ++real;
                } else if (listed.count(key)) {
                    ++built;
                } else {
                    uncovered.push_back(fmt::format("{} {} {} {}", channel, d, type, name));
                }
            }
        }
    }
    std::string missing;
    for (const auto& u : uncovered) {
        missing += u + "\n";
    }
    INFO("defined " << defined << ", on real traffic " << real << ", built only " << built);
    INFO("not covered:\n" << missing);
    CHECK(uncovered.empty());
    // The list must not claim "no peer produces it" for a message real traffic carries.
    for (const auto& b : built_only()) {
        INFO(b.channel << " " << b.dir << " " << b.type << " is listed as built-only");
        if (b.why == kSometimes) {
            continue;
        }
        if (std::string(b.channel) == "*") {
            CHECK(seen_base.count({b.dir, b.type}) == 0);
        } else {
            CHECK(seen.count({b.channel, b.dir, b.type}) == 0);
        }
    }
    CHECK(real > 60);
}
