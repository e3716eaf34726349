// Key fields of `dump --decode --json` against tshark's SPICE dissector, message by message, on
// every real capture: surface ids and boxes, image ids/types/sizes, surface creation, stream
// ids/codecs/sizes, monitors, cursor shapes and positions, key scancodes, mouse positions and
// buttons, main-channel init and channel lists, agent message types.
//
// tshark's per-frame field lists cannot say which message of a frame a value belongs to, so
// tests/support/tshark_messages.py walks its PDML tree and prints one object per message. The
// two lists are paired per connection and direction by (type, size) in order: where tshark
// loses step (client dissectors it lacks; see import_real_test.cpp) its invented messages find
// no partner and are only counted.
//
// Disagreements explained after reading packet-spice.c:
// - SpiceRect: spice.proto puts a rectangle on the wire as top, left, bottom, right (the order
//   spice-server's marshaller writes and spice-gtk reads). packet-spice.c's dissect_SpiceRect
//   reads the same four int32 in that order but labels them left, top, right, bottom, so its
//   "left" is our top, "top" our left, "right" our bottom and "bottom" our right. A 720x400
//   surface's full box shows as tshark "right: 400, bottom: 720". The rules below pair the
//   values by wire position.
// - main init's session_id: tshark reads it big-endian (the four bytes f4 d3 70 09 show as
//   4107497481 = 0xf4d37009), while it reads the same four bytes little-endian as the link
//   message's connection id of every other channel of that session (0x0970d3f4) -- and SPICE is
//   little-endian throughout; the session id is what those channels echo. Ours is compared
//   byte-swapped.
// - agent_data: tshark decodes a VDAgentMessage header at the start of every agent_data body,
//   also where the body continues a message begun in an earlier chunk. Only chunks that carry
//   one whole agent message (header + data) are compared.
// - inputs mouse_press/mouse_release: spice.proto has { uint8 button; uint16 buttons_state; };
//   packet-spice.c reads the three bytes as a uint16 "button state" and a uint8 "display id",
//   so its button_state is button | (low byte of buttons_state) << 8 and its display id the
//   high byte of buttons_state. Ours is compared in that packed form.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "tests/support/captures.h"
#include "tests/support/json_value.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::JsonValue;
using test::shell_quote;

namespace {

enum class Enum { none, image_type, surface_format, codec, cursor_type, bswap32 };

// An agent_data body holding exactly one whole agent message (VDAgentMessage header: 20 bytes).
bool one_whole_agent_message(const JsonValue& body) {
    const JsonValue* agent = body.find("agent");
    const JsonValue* size = body.find("data_size");
    return agent != nullptr && agent->items().size() == 1 && size != nullptr &&
           agent->items()[0].find("size") != nullptr &&
           agent->items()[0].find("size")->integer() + 20 == size->integer();
}

// One field of one message kind: tshark's `field` (its `index`-th occurrence within the message)
// against our value at `path`.
struct Rule {
    const char* channel;
    const char* dir;
    std::vector<int> types;
    const char* field;
    int index;
    const char* path;
    Enum kind = Enum::none;
    bool (*when)(const JsonValue&) = nullptr;  // compare only messages this accepts
    // Our value computed from the whole body instead of read at `path` (path names the inputs).
    int64_t (*derive)(const JsonValue&) = nullptr;
};

int64_t press_as_tshark_reads_it(const JsonValue& body) {
    return body.find("button")->integer() | ((body.find("buttons_state")->integer() & 0xff) << 8);
}

int64_t press_display_as_tshark_reads_it(const JsonValue& body) {
    return (body.find("buttons_state")->integer() >> 8) & 0xff;
}

const std::vector<int> kBaseDraws = {104, 302, 303, 304, 305, 306, 307,
                                     308, 309, 310, 311, 312, 313, 318};
const std::vector<int> kImageDraws = {303, 304, 305, 309, 312, 313};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> r = {
        // display: the DisplayBase of every draw (see the SpiceRect note above).
        {"display", "s2c", kBaseDraws, "spice.surface_id", 0, "base.surface_id"},
        {"display", "s2c", kBaseDraws, "spice.rect.left", 0, "base.box.top"},
        {"display", "s2c", kBaseDraws, "spice.rect.top", 0, "base.box.left"},
        {"display", "s2c", kBaseDraws, "spice.rect.right", 0, "base.box.bottom"},
        {"display", "s2c", kBaseDraws, "spice.rect.bottom", 0, "base.box.right"},
        // display: the source image descriptor.
        {"display", "s2c", kImageDraws, "spice.image_id", 0, "src_bitmap.id"},
        {"display", "s2c", kImageDraws, "spice.image_type", 0, "src_bitmap.type", Enum::image_type},
        {"display", "s2c", kImageDraws, "spice.image_width", 0, "src_bitmap.width"},
        {"display", "s2c", kImageDraws, "spice.image_height", 0, "src_bitmap.height"},
        // display: surfaces.
        {"display", "s2c", {314, 315}, "spice.surface_id", 0, "surface_id"},
        {"display", "s2c", {314}, "spice.surface_width", 0, "width"},
        {"display", "s2c", {314}, "spice.surface_height", 0, "height"},
        {"display", "s2c", {314}, "spice.surface_format", 0, "format", Enum::surface_format},
        {"display", "s2c", {314}, "spice.surface_flags", 0, "flags"},
        // display: streams.
        {"display", "s2c", {122, 123, 124, 125, 316}, "spice.display_stream_id", 0, "id"},
        {"display", "s2c", {122}, "spice.surface_id", 0, "surface_id"},
        {"display", "s2c", {122}, "spice.display_stream_codec_type", 0, "codec_type", Enum::codec},
        {"display", "s2c", {122}, "spice.display_stream_flags", 0, "flags"},
        {"display", "s2c", {122}, "spice.display_stream_stamp", 0, "stamp"},
        {"display", "s2c", {122}, "spice.stream_width", 0, "stream_width"},
        {"display", "s2c", {122}, "spice.stream_height", 0, "stream_height"},
        {"display", "s2c", {122}, "spice.stream_src_width", 0, "src_width"},
        {"display", "s2c", {122}, "spice.stream_src_height", 0, "src_height"},
        {"display", "s2c", {123, 316}, "spice.display_stream_data_size", 0, "data_size"},
        {"display", "s2c", {319}, "spice.display_stream_id", 0, "stream_id"},
        {"display", "s2c", {319}, "spice.display_stream_report_unique_id", 0, "unique_id"},
        // display: monitors.
        {"display", "s2c", {317}, "spice.monitor_config_count", 0, "count"},
        {"display", "s2c", {317}, "spice.monitor_config_max_allowed", 0, "max_allowed"},
        {"display", "s2c", {317}, "spice.display_head_width", 0, "heads.0.width"},
        {"display", "s2c", {317}, "spice.display_head_height", 0, "heads.0.height"},
        {"display", "s2c", {317}, "spice.display_head_surface_id", 0, "heads.0.surface_id"},
        // cursor.
        {"cursor", "s2c", {101, 103, 104}, "spice.point16.x", 0, "position.x"},
        {"cursor", "s2c", {101, 103, 104}, "spice.point16.y", 0, "position.y"},
        {"cursor", "s2c", {101, 103}, "spice.cursor_flags", 0, "cursor.flags"},
        {"cursor",
         "s2c",
         {101, 103},
         "spice.cursor_type",
         0,
         "cursor.type_name",
         Enum::cursor_type},
        {"cursor", "s2c", {101, 103}, "spice.cursor_width", 0, "cursor.width"},
        {"cursor", "s2c", {101, 103}, "spice.cursor_height", 0, "cursor.height"},
        {"cursor", "s2c", {101, 103}, "spice.cursor_hotspot_x", 0, "cursor.hot_spot_x"},
        {"cursor", "s2c", {101, 103}, "spice.cursor_hotspot_y", 0, "cursor.hot_spot_y"},
        // inputs.
        {"inputs", "c2s", {101, 102}, "spice.keyboard_key_code", 0, "code"},
        {"inputs", "c2s", {112}, "spice.point32.x", 0, "x"},
        {"inputs", "c2s", {112}, "spice.point32.y", 0, "y"},
        {"inputs", "c2s", {111, 112}, "spice.button_state", 0, "buttons_state"},
        {"inputs",
         "c2s",
         {113, 114},
         "spice.button_state",
         0,
         "button+buttons_state",
         Enum::none,
         nullptr,
         press_as_tshark_reads_it},
        {"inputs",
         "c2s",
         {113, 114},
         "spice.mouse_display_id",
         0,
         "buttons_state>>8",
         Enum::none,
         nullptr,
         press_display_as_tshark_reads_it},
        {"display", "c2s", {101}, "spice.display_init_cache_id", 0, "pixmap_cache_id"},
        {"display", "c2s", {101}, "spice.display_init_cache_size", 0, "pixmap_cache_size"},
        {"display", "c2s", {101}, "spice.display_init_glz_dict_id", 0, "glz_dictionary_id"},
        {"display",
         "c2s",
         {101},
         "spice.display_init_dict_window_size",
         0,
         "glz_dictionary_window_size"},
        {"inputs", "c2s", {112}, "spice.mouse_display_id", 0, "display_id"},
        {"inputs", "s2c", {101}, "spice.keyboard_modifiers", 0, "keyboard_modifiers"},
        {"inputs", "s2c", {102}, "spice.keyboard_modifiers", 0, "modifiers"},
        {"inputs", "c2s", {103}, "spice.keyboard_modifiers", 0, "modifiers"},
        // main.
        {"main", "s2c", {103}, "spice.main_session_id", 0, "session_id", Enum::bswap32},
        {"main", "s2c", {103}, "spice.display_channels_hint", 0, "display_channels_hint"},
        {"main", "s2c", {103}, "spice.agent_tokens", 0, "agent_tokens"},
        {"main", "s2c", {103}, "spice.multimedia_time", 0, "multi_media_time"},
        {"main", "s2c", {103}, "spice.ram_hint", 0, "ram_hint"},
        {"main", "s2c", {104}, "spice.channel_type", 0, "channels.0.type"},
        {"main", "s2c", {104}, "spice.channel_id", 0, "channels.0.id"},
        {"main", "s2c", {113}, "spice.main_name", 0, "vm_name"},
        {"main",
         "s2c",
         {109},
         "spice.agent_message_type",
         0,
         "agent.0.agent_type",
         Enum::none,
         one_whole_agent_message},
        {"main",
         "c2s",
         {107},
         "spice.agent_message_type",
         0,
         "agent.0.agent_type",
         Enum::none,
         one_whole_agent_message},
        // base messages on every channel.
        {"*", "s2c", {3}, "spice.red_set_ack_generation", 0, "generation"},
        {"*", "s2c", {3}, "spice.red_set_ack_window", 0, "window"},
        {"*", "s2c", {4}, "spice.ping_id", 0, "id"},
        {"*", "s2c", {4}, "spice.timestamp", 0, "timestamp"},
    };
    return r;
}

// tshark shows numbers in decimal or 0x-hex; enumerations as their numbers.
std::optional<int64_t> tshark_number(const std::string& s) {
    try {
        size_t used = 0;
        const bool hex = s.rfind("0x", 0) == 0;
        const auto v =
            static_cast<int64_t>(std::stoull(hex ? s.substr(2) : s, &used, hex ? 16 : 10));
        if (used != (hex ? s.size() - 2 : s.size())) {
            return std::nullopt;
        }
        return v;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<int64_t> enum_number(Enum kind, const std::string& name) {
    // spice-protocol's numbers (SpiceImageType, SpiceSurfaceFmt, SpiceVideoCodecType,
    // SpiceCursorType) for the names our JSON uses.
    static const std::map<std::string, int64_t> image = {
        {"bitmap", 0},         {"quic", 1},         {"lz_plt", 100},
        {"lz_rgb", 101},       {"glz_rgb", 102},    {"from_cache", 103},
        {"surface", 104},      {"jpeg", 105},       {"from_cache_lossless", 106},
        {"zlib_glz_rgb", 107}, {"jpeg_alpha", 108}, {"lz4", 109}};
    static const std::map<std::string, int64_t> format = {
        {"1_a", 1}, {"8_a", 8}, {"16_555", 16}, {"32_xrgb", 32}, {"16_565", 80}, {"32_argb", 96}};
    static const std::map<std::string, int64_t> codec = {
        {"mjpeg", 1}, {"vp8", 2}, {"h264", 3}, {"vp9", 4}, {"h265", 5}};
    static const std::map<std::string, int64_t> cursor = {
        {"alpha", 0},   {"mono", 1},    {"color4", 2}, {"color8", 3},
        {"color16", 4}, {"color24", 5}, {"color32", 6}};
    const std::map<std::string, int64_t>* table = nullptr;
    switch (kind) {
        case Enum::image_type:
            table = &image;
            break;
        case Enum::surface_format:
            table = &format;
            break;
        case Enum::codec:
            table = &codec;
            break;
        case Enum::cursor_type:
            table = &cursor;
            break;
        case Enum::none:
        case Enum::bswap32:
            return std::nullopt;
    }
    const auto it = table->find(name);
    return it == table->end() ? std::nullopt : std::optional<int64_t>(it->second);
}

const JsonValue* at(const JsonValue& v, const std::string& path) {
    // Like JsonValue::at_path, plus numeric components indexing arrays.
    const JsonValue* cur = &v;
    std::istringstream parts(path);
    std::string part;
    while (cur != nullptr && std::getline(parts, part, '.')) {
        if (cur->is_array()) {
            const auto i = std::stoul(part);
            cur = i < cur->items().size() ? &cur->items()[i] : nullptr;
        } else {
            cur = cur->find(part);
        }
    }
    return cur;
}

struct TsharkMessage {
    uint16_t client_port = 0;
    std::string dir;
    int type = 0;
    int64_t size = 0;
    JsonValue fields;
};

struct OurMessage {
    std::string channel;
    int type = 0;
    int64_t size = 0;
    JsonValue body;
};

}  // namespace

TEST_CASE("key fields agree with tshark's SPICE dissector message by message",
          "[cli][decode][real][tshark]") {
    REQUIRE(test::have_program("tshark"));
    REQUIRE(test::have_program("python3"));
    const auto script = test::source_dir() / "tests" / "support" / "tshark_messages.py";
    std::map<std::string, int> compared_by_rule;
    int total_pairs = 0;
    for (const auto& pcap : test::all_real_captures()) {
        // tshark's PDML of a session of raw bitmaps (QEMU image-compression=off, 25 MB) is
        // gigabytes of hex and takes minutes; every message kind it holds is also in the
        // smaller sessions.
        if (std::filesystem::file_size(pcap) > (3u << 20)) {
            continue;
        }
        INFO("capture " << pcap);
        test::TempDir dir;
        capture::ImportOptions opt;
        opt.output = dir.path();
        auto imported = capture::import_capture(pcap, opt);
        REQUIRE(imported.has_value());
        for (const auto& s : imported->sessions) {
            INFO("session " << s.path);
            auto reader = log::SessionLogReader::open(s.path);
            REQUIRE(reader.has_value());
            std::map<int64_t, uint16_t> port_of;
            uint16_t server_port = 0;
            for (const auto& c : (*reader)->connections()) {
                port_of[c.id] = c.client_port;
                server_port = c.server_port;
            }
            // Ours, per (client port, direction), in stream order.
            std::map<std::pair<uint16_t, std::string>, std::vector<OurMessage>> ours;
            const auto dump =
                test::run_command(shell_quote(test::spicetap_bin().string()) +
                                  " dump --decode --json " + shell_quote(s.path.string()));
            REQUIRE(dump.exit_code == 0);
            std::istringstream in(dump.out);
            std::string line;
            while (std::getline(in, line)) {
                std::string err;
                auto v = JsonValue::parse(line, &err);
                INFO(err << ": " << line.substr(0, 200));
                REQUIRE(v.has_value());
                const auto conn = v->find("connection")->integer();
                OurMessage m;
                m.channel = v->find("channel")->string();
                m.type = static_cast<int>(v->find("type")->integer());
                m.size = v->find("size")->integer();
                const std::string d = v->find("dir")->string();
                m.body = std::move(*v);
                ours[{port_of.at(conn), d}].push_back(std::move(m));
            }
            // tshark's, in capture order (which is stream order within one direction).
            std::map<std::pair<uint16_t, std::string>, std::vector<TsharkMessage>> theirs;
            const auto t =
                test::run_command(fmt::format("python3 {} {} {}", shell_quote(script.string()),
                                              shell_quote(pcap.string()), server_port));
            REQUIRE(t.exit_code == 0);
            std::istringstream tin(t.out);
            while (std::getline(tin, line)) {
                auto v = JsonValue::parse(line);
                REQUIRE(v.has_value());
                TsharkMessage m;
                m.client_port = static_cast<uint16_t>(v->find("client_port")->integer());
                m.dir = v->find("dir")->string();
                m.type = static_cast<int>(v->find("type")->integer());
                m.size = v->find("size")->integer();
                m.fields = *v->find("fields");
                if (port_of.empty() ||
                    std::none_of(port_of.begin(), port_of.end(),
                                 [&](const auto& p) { return p.second == m.client_port; })) {
                    continue;  // another session of the same capture
                }
                theirs[{m.client_port, m.dir}].push_back(std::move(m));
            }
            for (const auto& [flow, list] : theirs) {
                const auto& mine = ours[flow];
                INFO("client port " << flow.first << " " << flow.second);
                size_t j = 0;
                int paired = 0;
                for (const auto& tm : list) {
                    size_t k = j;
                    while (k < mine.size() &&
                           (mine[k].type != tm.type || mine[k].size != tm.size)) {
                        ++k;
                    }
                    if (k == mine.size()) {
                        continue;  // tshark out of step: nothing of ours looks like it
                    }
                    j = k + 1;
                    ++paired;
                    const auto& om = mine[k];
                    for (const auto& rule : rules()) {
                        if ((std::string(rule.channel) != "*" && om.channel != rule.channel) ||
                            flow.second != rule.dir ||
                            std::find(rule.types.begin(), rule.types.end(), tm.type) ==
                                rule.types.end() ||
                            (rule.when != nullptr && !rule.when(om.body))) {
                            continue;
                        }
                        const auto* values = tm.fields.find(rule.field);
                        if (values == nullptr ||
                            values->items().size() <= static_cast<size_t>(rule.index)) {
                            continue;  // tshark did not show it (e.g. a NULL image)
                        }
                        const std::string theirs_text = values->items()[rule.index].string();
                        INFO(om.channel << " " << tm.type << " size " << tm.size << ": "
                                        << rule.field << " vs " << rule.path);
                        if (rule.derive != nullptr) {
                            const auto their_number = tshark_number(theirs_text);
                            REQUIRE(their_number.has_value());
                            CHECK(rule.derive(om.body) == *their_number);
                            ++compared_by_rule[fmt::format("{} {} {}", om.channel, rule.field,
                                                           rule.path)];
                            continue;
                        }
                        const JsonValue* our_value = at(om.body, rule.path);
                        REQUIRE(our_value != nullptr);
                        if (our_value->is_string() && rule.kind == Enum::none) {
                            CHECK(our_value->string() == theirs_text);
                        } else {
                            const auto their_number = tshark_number(theirs_text);
                            std::optional<int64_t> our_number;
                            if (rule.kind == Enum::none) {
                                our_number = our_value->integer();
                            } else if (rule.kind == Enum::bswap32) {
                                our_number =
                                    __builtin_bswap32(static_cast<uint32_t>(our_value->integer()));
                            } else {
                                our_number = enum_number(rule.kind, our_value->text());
                            }
                            REQUIRE(their_number.has_value());
                            REQUIRE(our_number.has_value());
                            // tshark shows unsigned fields; ours keep the proto's signedness.
                            CHECK(static_cast<uint32_t>(*our_number) ==
                                  static_cast<uint32_t>(*their_number));
                            if (our_number != their_number) {
                                CHECK(*our_number == *their_number);
                            }
                        }
                        ++compared_by_rule[fmt::format("{} {} {}", om.channel, rule.field,
                                                       rule.path)];
                    }
                }
                total_pairs += paired;
                // Server-to-client dissection never loses step: every message pairs.
                if (flow.second == "s2c") {
                    CHECK(paired == static_cast<int>(list.size()));
                }
            }
        }
    }
    INFO("paired messages: " << total_pairs);
    CHECK(total_pairs > 1000);
    // The comparison must have exercised the key fields the issue names.
    for (const char* key :
         {"display spice.surface_id base.surface_id", "display spice.image_id src_bitmap.id",
          "display spice.image_type src_bitmap.type", "display spice.surface_width width",
          "display spice.display_stream_id id",
          "display spice.display_stream_codec_type codec_type",
          "cursor spice.cursor_type cursor.type_name", "cursor spice.point16.x position.x",
          "inputs spice.keyboard_key_code code", "inputs spice.point32.x x",
          "inputs spice.button_state buttons_state", "main spice.main_session_id session_id",
          "main spice.agent_message_type agent.0.agent_type"}) {
        INFO(key);
        CHECK(compared_by_rule[key] > 0);
    }
}
