// Every message's JSON goes into an object the caller opened with the envelope keys; no
// message may write one of those keys again, and every output must be well-formed.
#include <catch2/catch.hpp>
#include <set>

#include "decode/channels/base_channel.h"
#include "decode/channels/cursor_channel.h"
#include "decode/channels/inputs_channel.h"
#include "decode/channels/main_channel.h"
#include "decode/channels/playback_channel.h"
#include "decode/channels/port_channel.h"
#include "decode/channels/record_channel.h"
#include "decode/channels/smartcard_channel.h"
#include "decode/channels/spicevmc_channel.h"
#include "decode/channels/tunnel_channel.h"
#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::channels;

namespace {

// Top-level keys of a JSON object (strings at depth 1 followed by ':'); empty on bad nesting.
std::vector<std::string> top_level_keys(const std::string& json, bool& balanced) {
    std::vector<std::string> keys;
    int depth = 0;
    for (size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') {
            size_t j = i + 1;
            std::string s;
            while (j < json.size() && json[j] != '"') {
                if (json[j] == '\\') {
                    ++j;
                }
                s.push_back(json[j]);
                ++j;
            }
            if (depth == 1 && j + 1 < json.size() && json[j + 1] == ':') {
                keys.push_back(s);
            }
            i = j;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    balanced = depth == 0;
    return keys;
}

template <typename Variant, typename Write, size_t... I>
void check_all(Write write, std::index_sequence<I...>) {
    const std::set<std::string> envelope = {"t",    "channel", "dir", "serial",
                                            "type", "name",    "size"};
    auto one = [&](Variant v) {
        const std::string json = test::object_json([&](JsonWriter& w) { write(v, w); });
        bool balanced = false;
        const auto keys = top_level_keys(json, balanced);
        INFO(json);
        CHECK(balanced);
        std::set<std::string> seen;
        for (const auto& k : keys) {
            CHECK(envelope.count(k) == 0);
            CHECK(seen.insert(k).second);  // no duplicate keys
        }
    };
    (one(Variant{std::in_place_index<I>}), ...);
}

template <typename Variant, typename Write>
void check_variant(Write write) {
    check_all<Variant>(write, std::make_index_sequence<std::variant_size_v<Variant>>{});
}

}  // namespace

TEST_CASE("message JSON never repeats envelope keys", "[channels][json]") {
    check_variant<base::ServerMessage>(
        [](const auto& m, JsonWriter& w) { base::write_json(m, w); });
    check_variant<base::ClientMessage>(
        [](const auto& m, JsonWriter& w) { base::write_json(m, w); });
    check_variant<main::ServerMessage>(
        [](const auto& m, JsonWriter& w) { main::write_json(m, w); });
    check_variant<main::ClientMessage>(
        [](const auto& m, JsonWriter& w) { main::write_json(m, w); });
    check_variant<inputs::ServerMessage>(
        [](const auto& m, JsonWriter& w) { inputs::write_json(m, w); });
    check_variant<inputs::ClientMessage>(
        [](const auto& m, JsonWriter& w) { inputs::write_json(m, w); });
    check_variant<cursor::ServerMessage>(
        [](const auto& m, JsonWriter& w) { cursor::write_json(m, w); });
    check_variant<playback::ServerMessage>(
        [](const auto& m, JsonWriter& w) { playback::write_json(m, w); });
    check_variant<record::ServerMessage>(
        [](const auto& m, JsonWriter& w) { record::write_json(m, w); });
    check_variant<record::ClientMessage>(
        [](const auto& m, JsonWriter& w) { record::write_json(m, w); });
    check_variant<smartcard::ServerMessage>(
        [](const auto& m, JsonWriter& w) { smartcard::write_json(m, w); });
    check_variant<spicevmc::ServerMessage>(
        [](const auto& m, JsonWriter& w) { spicevmc::write_json(m, w); });
    check_variant<port::ServerMessage>(
        [](const auto& m, JsonWriter& w) { port::write_json(m, w); });
    check_variant<port::ClientMessage>(
        [](const auto& m, JsonWriter& w) { port::write_json(m, w); });
    check_variant<tunnel::ServerMessage>(
        [](const auto& m, JsonWriter& w) { tunnel::write_json(m, w); });
    check_variant<tunnel::ClientMessage>(
        [](const auto& m, JsonWriter& w) { tunnel::write_json(m, w); });
}
