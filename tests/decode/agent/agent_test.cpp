#include <spice/vd_agent.h>

#include <catch2/catch.hpp>

#include "decode/agent/agent_messages.h"
#include "decode/agent/agent_stream.h"
#include "tests/decode/channels/test_bytes.h"

using namespace spicetap;
using namespace spicetap::agent;
using spicetap::test::Bytes;
using wire::Direction;

namespace {

Bytes message(uint32_t type, const Bytes& payload, uint64_t opaque = 0) {
    Bytes b;
    b.u32(1).u32(type).u64(opaque).u32(static_cast<uint32_t>(payload.size()));
    b.append(payload.vec());
    return b;
}

// Feeds `bytes` as AGENT_DATA bodies of at most `chunk` bytes, collecting every message.
std::vector<AgentMessage> feed_chunked(AgentSession& s, Direction dir, const Bytes& bytes,
                                       size_t chunk = kMaxChunkData) {
    std::vector<AgentMessage> out;
    for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
        const size_t n = std::min(chunk, bytes.size() - pos);
        auto fed = s.feed(dir, bytes.view().subspan(pos, n));
        REQUIRE_FALSE(fed.error);
        for (auto& m : fed.messages) {
            out.push_back(std::move(m));
        }
    }
    return out;
}

Bytes announce(uint32_t caps_word, uint32_t request = 1) {
    return message(VD_AGENT_ANNOUNCE_CAPABILITIES, Bytes().u32(request).u32(caps_word));
}

std::string json(const AgentMessage& m) {
    return test::object_json([&](JsonWriter& w) { write_json(m, w); });
}

template <typename T>
const T& body_as(const AgentMessage& m) {
    if (!m.body) {
        FAIL(m.body.error().message());
    }
    return std::get<T>(*m.body);
}

constexpr uint32_t kSelectionCaps = (1u << VD_AGENT_CAP_CLIPBOARD_BY_DEMAND) |
                                    (1u << VD_AGENT_CAP_CLIPBOARD_SELECTION) |
                                    (1u << VD_AGENT_CAP_CLIPBOARD);

}  // namespace

TEST_CASE("a 10 KB clipboard text crosses several AGENT_DATA messages both ways",
          "[agent][stream]") {
    AgentSession s;
    // Capability exchange: both sides announce CLIPBOARD_SELECTION, so clipboard messages
    // carry the 4-byte selection prefix.
    auto c = feed_chunked(s, Direction::ClientToServer, announce(kSelectionCaps));
    REQUIRE(c.size() == 1);
    CHECK_FALSE(s.caps().both(VD_AGENT_CAP_CLIPBOARD_SELECTION));
    auto a = feed_chunked(s, Direction::ServerToClient, announce(kSelectionCaps, 0));
    REQUIRE(a.size() == 1);
    CHECK(s.caps().both(VD_AGENT_CAP_CLIPBOARD_SELECTION));
    CHECK(json(a[0]) == R"({"agent_type":6,"agent_type_name":"announce_capabilities",)"
                        R"("protocol":1,"opaque":0,"size":8,"stream_offset":0,"request":0,)"
                        R"("caps":[104],"cap_names":["clipboard","clipboard_by_demand",)"
                        R"("clipboard_selection"]})");

    std::string text;
    for (int i = 0; text.size() < 10 * 1024; ++i) {
        text += "line " + std::to_string(i) + " of the copied text\n";
    }
    for (Direction dir : {Direction::ClientToServer, Direction::ServerToClient}) {
        Bytes stream;
        stream.append(message(VD_AGENT_CLIPBOARD_GRAB,
                              Bytes().u8(1).fill(3).u32(VD_AGENT_CLIPBOARD_UTF8_TEXT))
                          .vec());
        stream.append(message(VD_AGENT_CLIPBOARD_REQUEST,
                              Bytes().u8(1).fill(3).u32(VD_AGENT_CLIPBOARD_UTF8_TEXT))
                          .vec());
        stream.append(message(VD_AGENT_CLIPBOARD,
                              Bytes().u8(1).fill(3).u32(VD_AGENT_CLIPBOARD_UTF8_TEXT).str(text))
                          .vec());
        stream.append(message(VD_AGENT_CLIPBOARD_RELEASE, Bytes().u8(1).fill(3)).vec());
        const uint64_t before = s.stream(dir).stream_offset();
        auto msgs = feed_chunked(s, dir, stream);
        REQUIRE(msgs.size() == 4);
        const auto& grab = body_as<ClipboardGrab>(msgs[0]);
        CHECK(grab.selection == 1);
        CHECK(grab.types == std::vector<uint32_t>{1});
        CHECK_FALSE(grab.serial);
        CHECK(body_as<ClipboardRequest>(msgs[1]).type == 1);
        const auto& clip = body_as<Clipboard>(msgs[2]);
        CHECK(clip.selection == 1);
        CHECK(clip.type == VD_AGENT_CLIPBOARD_UTF8_TEXT);
        CHECK(std::string(clip.data.begin(), clip.data.end()) == text);
        CHECK(msgs[2].stream_offset == before + 2 * 28);
        CHECK(body_as<ClipboardRelease>(msgs[3]).selection == 1);
        CHECK_FALSE(s.stream(dir).mid_message());
        const std::string j = json(msgs[2]);
        CHECK(j.find(R"("selection":1,"selection_name":"primary","type":1,)"
                     R"("type_name":"utf8_text","data_size":)") != std::string::npos);
        CHECK(j.find(R"("text":"line 0 of the copied text\nline 1)") != std::string::npos);
        CHECK(j.find(R"("text_truncated":false)") != std::string::npos);
    }
}

TEST_CASE("message headers split anywhere and several messages per chunk", "[agent][stream]") {
    Bytes stream;
    stream.append(message(VD_AGENT_MAX_CLIPBOARD, Bytes().i32(-1)).vec());
    stream.append(message(VD_AGENT_CLIENT_DISCONNECTED, Bytes()).vec());
    stream.append(message(VD_AGENT_REPLY, Bytes().u32(2).u32(1), 99).vec());
    for (size_t chunk : {1, 3, 7, 19, 20, 21, 64}) {
        INFO("chunk size " << chunk);
        AgentSession s;
        auto msgs = feed_chunked(s, Direction::ClientToServer, stream, chunk);
        REQUIRE(msgs.size() == 3);
        CHECK(body_as<MaxClipboard>(msgs[0]).max == -1);
        CHECK(std::holds_alternative<ClientDisconnected>(*msgs[1].body));
        CHECK(body_as<Reply>(msgs[2]).type == 2);
        CHECK(msgs[2].header.opaque == 99);
        CHECK(msgs[2].stream_offset == 24 + 20);
    }
}

TEST_CASE("file transfer start, status, data and completion", "[agent][stream]") {
    AgentSession s;
    const std::string keyfile = "[vdagent-file-xfer]\nname=report\\sQ3.pdf\nsize=5000\n";
    auto start = feed_chunked(s, Direction::ClientToServer,
                              message(VD_AGENT_FILE_XFER_START, Bytes().u32(7).cstr(keyfile)));
    REQUIRE(start.size() == 1);
    const auto& st = body_as<FileXferStart>(start[0]);
    CHECK(st.id == 7);
    CHECK(st.name == "report Q3.pdf");
    CHECK(st.size == 5000u);
    CHECK(json(start[0]).find(R"("id":7,"name":"report Q3.pdf","file_size":5000,)") !=
          std::string::npos);

    auto can_send =
        feed_chunked(s, Direction::ServerToClient,
                     message(VD_AGENT_FILE_XFER_STATUS,
                             Bytes().u32(7).u32(VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA)));
    REQUIRE(can_send.size() == 1);
    CHECK(body_as<FileXferStatus>(can_send[0]).result == 0);

    std::vector<uint8_t> file(5000);
    for (size_t i = 0; i < file.size(); ++i) {
        file[i] = static_cast<uint8_t>(i * 31);
    }
    Bytes data;
    data.append(
        message(VD_AGENT_FILE_XFER_DATA, Bytes().u32(7).u64(4096).append(std::vector<uint8_t>(
                                             file.begin(), file.begin() + 4096)))
            .vec());
    data.append(
        message(VD_AGENT_FILE_XFER_DATA, Bytes().u32(7).u64(904).append(
                                             std::vector<uint8_t>(file.begin() + 4096, file.end())))
            .vec());
    auto chunks = feed_chunked(s, Direction::ClientToServer, data);
    REQUIRE(chunks.size() == 2);
    std::vector<uint8_t> joined;
    for (const auto& m : chunks) {
        const auto& d = body_as<FileXferData>(m);
        CHECK(d.id == 7);
        joined.insert(joined.end(), d.data.begin(), d.data.end());
    }
    CHECK(joined == file);
    CHECK(json(chunks[1]).find(R"("id":7,"data_size":904)") != std::string::npos);

    auto done = feed_chunked(
        s, Direction::ServerToClient,
        message(VD_AGENT_FILE_XFER_STATUS, Bytes().u32(7).u32(VD_AGENT_FILE_XFER_STATUS_SUCCESS)));
    CHECK(body_as<FileXferStatus>(done[0]).result == VD_AGENT_FILE_XFER_STATUS_SUCCESS);
    CHECK(file_xfer_status_name(3) == "success");

    SECTION("detailed errors") {
        auto err =
            feed_chunked(s, Direction::ServerToClient,
                         message(VD_AGENT_FILE_XFER_STATUS, Bytes().u32(8).u32(2).u8(0).u32(12)));
        const auto& e = body_as<FileXferStatus>(err[0]);
        CHECK(e.error_type == 0);
        CHECK(e.error_code == 12u);
        CHECK(e.detail_size == 5);
        auto space =
            feed_chunked(s, Direction::ServerToClient,
                         message(VD_AGENT_FILE_XFER_STATUS, Bytes().u32(9).u32(4).u64(1ull << 33)));
        CHECK(body_as<FileXferStatus>(space[0]).disk_free_space == (1ull << 33));
        CHECK(json(space[0]).find(R"("result_name":"not_enough_space","disk_free_space":)") !=
              std::string::npos);
    }
}

TEST_CASE("every agent message type decodes its fields", "[agent][messages]") {
    const ParseCaps none;
    auto parse = [](uint32_t type, const Bytes& b, ParseCaps caps = {}) {
        auto r = parse_body(type, b.view(), caps);
        if (!r) {
            FAIL(r.error().message());
        }
        return *r;
    };
    auto ms = std::get<MouseState>(parse(1, Bytes().u32(10).u32(20).u32(2).u8(1)));
    CHECK(ms.x == 10);
    CHECK(ms.y == 20);
    CHECK(ms.buttons == 2);
    CHECK(ms.display_id == 1);

    auto mc = std::get<MonitorsConfig>(parse(2, Bytes()
                                                    .u32(2)
                                                    .u32(3)
                                                    .u32(768)
                                                    .u32(1024)
                                                    .u32(32)
                                                    .i32(0)
                                                    .i32(0)
                                                    .u32(600)
                                                    .u32(800)
                                                    .u32(32)
                                                    .i32(1024)
                                                    .i32(-10)
                                                    .u16(300)
                                                    .u16(400)
                                                    .u16(200)
                                                    .u16(250)));
    REQUIRE(mc.monitors.size() == 2);
    CHECK(mc.monitors[1].x == 1024);
    CHECK(mc.monitors[1].y == -10);
    REQUIRE(mc.physical_sizes.size() == 2);
    CHECK(mc.physical_sizes[1].width_mm == 250);

    auto rep = std::get<Reply>(parse(3, Bytes().u32(2).u32(1)));
    CHECK(rep.error == 1);

    auto clip = std::get<Clipboard>(parse(4, Bytes().u32(2).u8(0x89).str("PNG")));
    CHECK_FALSE(clip.selection);
    CHECK(clip.type == 2);
    CHECK(clip.data.size() == 4);

    auto dc = std::get<DisplayConfig>(parse(5, Bytes().u32(9).u32(24)));
    CHECK(dc.flags == 9);
    CHECK(dc.depth == 24);

    auto ann = std::get<AnnounceCapabilities>(parse(6, Bytes().u32(1).u32(0xff).u32(0x2)));
    CHECK(ann.caps == std::vector<uint32_t>{0xff, 0x2});

    ParseCaps serial;
    serial.clipboard_selection = true;
    serial.clipboard_grab_serial = true;
    auto grab =
        std::get<ClipboardGrab>(parse(7, Bytes().u8(0).fill(3).u32(42).u32(1).u32(2), serial));
    CHECK(grab.selection == 0);
    CHECK(grab.serial == 42u);
    CHECK(grab.types == std::vector<uint32_t>{1, 2});
    auto plain_grab = std::get<ClipboardGrab>(parse(7, Bytes().u32(1).u32(5), none));
    CHECK(plain_grab.types == std::vector<uint32_t>{1, 5});

    CHECK(std::get<ClipboardRequest>(parse(8, Bytes().u32(3))).type == 3);
    CHECK_FALSE(std::get<ClipboardRelease>(parse(9, Bytes())).selection);

    auto avs = std::get<AudioVolumeSync>(parse(15, Bytes().u8(1).u8(0).u8(2).u16(10).u16(20)));
    CHECK(avs.is_playback == 1);
    CHECK(avs.volume == std::vector<uint16_t>{10, 20});

    auto gdi = std::get<GraphicsDeviceInfo>(
        parse(16, Bytes().u32(1).u32(0).u32(1).u32(2).u32(19).cstr("pci/0000/02.0/qxl").fill(1)));
    REQUIRE(gdi.displays.size() == 1);
    CHECK(gdi.displays[0].monitor_id == 1);
    CHECK(gdi.displays[0].device_display_id == 2);
    CHECK(gdi.displays[0].device_address == "pci/0000/02.0/qxl");

    SECTION("file list clipboard in JSON") {
        Bytes list;
        list.u32(VD_AGENT_CLIPBOARD_FILE_LIST).cstr("copy").cstr("/a.txt").str("/b c");
        AgentMessage m;
        m.header = {1, 4, 0, static_cast<uint32_t>(list.size())};
        m.body = parse_body(4, list.view(), none);
        CHECK(json(m) == R"({"agent_type":4,"agent_type_name":"clipboard","protocol":1,)"
                         R"("opaque":0,"size":20,"stream_offset":0,"type":6,)"
                         R"("type_name":"file_list","data_size":16,"action":"copy",)"
                         R"("files":["/a.txt","/b c"]})");
    }
    SECTION("names") {
        CHECK(message_type_name(16) == "graphics_device_info");
        CHECK(message_type_name(17) == "unknown");
        CHECK(clipboard_type_name(5) == "image_jpg");
        CHECK(selection_name(2) == "secondary");
        CHECK(capability_name(17) == "clipboard_grab_serial");
        CHECK(capability_name(18).empty());
    }
}

TEST_CASE("malformed agent data gives errors, never crashes", "[agent][malformed]") {
    ParseCaps sel;
    sel.clipboard_selection = true;
    sel.clipboard_grab_serial = true;

    struct Case {
        uint32_t type;
        Bytes body;
        size_t min_len;
        ParseCaps caps;
    };

    const std::vector<Case> cases = {
        {1, Bytes().u32(1).u32(2).u32(3).u8(0), 13, {}},
        {2, Bytes().u32(1).u32(0).u32(1).u32(2).u32(3).i32(4).i32(5), 28, {}},
        {3, Bytes().u32(1).u32(2), 8, {}},
        {4, Bytes().u8(0).fill(3).u32(1).str("x"), 8, sel},
        {5, Bytes().u32(1).u32(2), 8, {}},
        {6, Bytes().u32(1).u32(3), 4, {}},
        {7, Bytes().u8(0).fill(3).u32(1).u32(1), 8, sel},
        {8, Bytes().u8(0).fill(3).u32(1), 8, sel},
        {9, Bytes().u8(0).fill(3), 4, sel},
        {10, Bytes().u32(1).cstr("[vdagent-file-xfer]\nname=a\nsize=1\n"), 4, {}},
        {11, Bytes().u32(1).u32(2).u8(0).u32(5), 8, {}},
        {12, Bytes().u32(1).u64(3).str("abc"), 15, {}},
        {14, Bytes().i32(5), 4, {}},
        {15, Bytes().u8(0).u8(0).u8(2).u16(1).u16(2), 7, {}},
        {16, Bytes().u32(1).u32(0).u32(0).u32(0).u32(2).cstr("x"), 22, {}},
    };
    for (const auto& c : cases) {
        INFO("agent type " << c.type);
        test::sweep_truncations(c.body.vec(), c.min_len,
                                [&](ByteView v) { return parse_body(c.type, v, c.caps); });
        CHECK(parse_body(c.type, c.body.view(), c.caps));
    }
    CHECK(parse_body(99, {}, {}).error().code == Errc::Unsupported);
    auto big = parse_body(12, Bytes().u32(1).u64(1000).str("abc").view(), {});
    REQUIRE_FALSE(big);
    CHECK(big.error().code == Errc::BadValue);
    CHECK(big.error().offset == 4);
    CHECK_FALSE(parse_body(2, Bytes().u32(0x40000000).u32(0).view(), {}));
    CHECK_FALSE(parse_body(16, Bytes().u32(1).u32(0).u32(0).u32(0).u32(100).view(), {}));

    SECTION("a bad protocol field is a framing error; the next body starts fresh") {
        AgentSession s;
        Bytes bad;
        bad.u32(2).u32(3).u64(0).u32(8).u32(0).u32(0);
        auto fed = s.feed(Direction::ServerToClient, bad.view());
        REQUIRE(fed.error);
        CHECK(fed.error->code == Errc::BadMagic);
        CHECK(fed.error->offset == 0);
        CHECK_FALSE(s.stream(Direction::ServerToClient).mid_message());
        const Bytes good = message(3, Bytes().u32(1).u32(1));
        auto next = s.feed(Direction::ServerToClient, good.view());
        CHECK_FALSE(next.error);
        REQUIRE(next.messages.size() == 1);
        CHECK(next.messages[0].stream_offset == 28);
    }
    SECTION("an oversized message is refused before buffering") {
        AgentStream st(Framing::Wire, 1024);
        const Bytes huge = Bytes().u32(1).u32(4).u64(0).u32(1u << 30);
        auto fed = st.feed(huge.view());
        REQUIRE(fed.error);
        CHECK(fed.error->code == Errc::LimitExceeded);
        CHECK(fed.error->offset == 16);
    }
    SECTION("a body that fails to decode keeps its header and the error") {
        AgentSession s;
        const Bytes m = message(3, Bytes().u32(1));
        auto fed = s.feed(Direction::ClientToServer, m.view());
        REQUIRE(fed.messages.size() == 1);
        CHECK_FALSE(fed.messages[0].body);
        CHECK(json(fed.messages[0]).find(R"("decode_error":"truncated at byte 4: agent reply")") !=
              std::string::npos);
    }
    SECTION("random garbage in small pieces") {
        AgentSession s;
        std::vector<uint8_t> junk(5000);
        uint32_t x = 12345;
        for (auto& b : junk) {
            x = x * 1103515245u + 12345u;
            b = static_cast<uint8_t>(x >> 16);
        }
        for (size_t pos = 0; pos < junk.size(); pos += 37) {
            const size_t n = std::min<size_t>(37, junk.size() - pos);
            (void)s.feed(Direction::ClientToServer, ByteView(junk).subspan(pos, n));
        }
        SUCCEED("no crash");
    }
}

TEST_CASE("virtio chunk framing strips VDIChunkHeaders", "[agent][stream]") {
    const Bytes msg =
        message(VD_AGENT_CLIPBOARD, Bytes().u32(VD_AGENT_CLIPBOARD_UTF8_TEXT).fill(3000, 'z'));
    Bytes chunked;
    for (size_t pos = 0; pos < msg.size(); pos += kMaxChunkData) {
        const size_t n = std::min(kMaxChunkData, msg.size() - pos);
        chunked.u32(VDP_CLIENT_PORT).u32(static_cast<uint32_t>(n));
        chunked.append(
            std::vector<uint8_t>(msg.vec().begin() + static_cast<std::ptrdiff_t>(pos),
                                 msg.vec().begin() + static_cast<std::ptrdiff_t>(pos + n)));
    }
    AgentSession s(Framing::VirtioChunks);
    auto msgs = feed_chunked(s, Direction::ClientToServer, chunked, 100);
    REQUIRE(msgs.size() == 1);
    CHECK(body_as<Clipboard>(msgs[0]).data.size() == 3000);

    AgentStream st(Framing::VirtioChunks);
    auto bad = st.feed(Bytes().u32(7).u32(4).view());
    REQUIRE(bad.error);
    CHECK(bad.error->code == Errc::BadValue);
    auto too_big = AgentStream(Framing::VirtioChunks).feed(Bytes().u32(1).u32(4096).view());
    REQUIRE(too_big.error);
}

TEST_CASE("feed_and_write_json lists the completed agent messages", "[agent][json]") {
    AgentSession s;
    const Bytes two = Bytes()
                          .append(message(VD_AGENT_MAX_CLIPBOARD, Bytes().i32(1024)).vec())
                          .append(message(VD_AGENT_CLIPBOARD_REQUEST, Bytes().u32(1)).vec());
    const std::string j = test::object_json([&](JsonWriter& w) {
        w.field("data_size", uint64_t{two.size()});
        feed_and_write_json(s, Direction::ClientToServer, two.view().subspan(0, 30), w);
    });
    CHECK(j == R"({"data_size":48,"agent":[{"agent_type":14,"agent_type_name":"max_clipboard",)"
               R"("protocol":1,"opaque":0,"size":4,"stream_offset":0,"max":1024}]})");
    const Bytes bad = Bytes().u32(9).u32(1).u64(0).u32(0);
    const std::string e = test::object_json(
        [&](JsonWriter& w) { feed_and_write_json(s, Direction::ServerToClient, bad.view(), w); });
    CHECK(e == R"({"agent":[],"agent_error":"bad magic at byte 0: agent message header: )"
               R"(protocol 9, expected 1"})");
}
