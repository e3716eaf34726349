#include <catch2/catch.hpp>

#include <spice/enums.h>
#include <spice/protocol.h>

#include <string>
#include <vector>

#include "decode/wire/framer.h"

using namespace spicetap;
using namespace spicetap::wire;

namespace {

struct Bytes {
    std::vector<uint8_t> v;
    Bytes& u8(uint8_t x) {
        v.push_back(x);
        return *this;
    }
    Bytes& u16(uint16_t x) { return u8(x & 0xff).u8(static_cast<uint8_t>(x >> 8)); }
    Bytes& u32(uint32_t x) { return u16(x & 0xffff).u16(static_cast<uint16_t>(x >> 16)); }
    Bytes& u64(uint64_t x) { return u32(x & 0xffffffff).u32(static_cast<uint32_t>(x >> 32)); }
    Bytes& zeros(size_t n) {
        v.insert(v.end(), n, 0);
        return *this;
    }
    Bytes& append(const Bytes& o) {
        v.insert(v.end(), o.v.begin(), o.v.end());
        return *this;
    }
};

Bytes link_mess(uint8_t channel, uint32_t common_caps, uint32_t connection_id = 0) {
    Bytes b;
    b.u32(kLinkMagic).u32(2).u32(2).u32(18 + 4);
    b.u32(connection_id).u8(channel).u8(0).u32(1).u32(0).u32(18).u32(common_caps);
    return b;
}

Bytes link_reply(uint32_t common_caps, uint32_t error = 0) {
    Bytes b;
    b.u32(kLinkMagic).u32(2).u32(2).u32(178 + 4);
    b.u32(error).zeros(kPubKeySize).u32(1).u32(0).u32(178).u32(common_caps);
    return b;
}

Bytes full_msg(uint64_t serial, uint16_t type, const std::vector<uint8_t>& body) {
    Bytes b;
    b.u64(serial).u16(type).u32(static_cast<uint32_t>(body.size())).u32(0);
    b.v.insert(b.v.end(), body.begin(), body.end());
    return b;
}

Bytes mini_msg(uint16_t type, const std::vector<uint8_t>& body) {
    Bytes b;
    b.u16(type).u32(static_cast<uint32_t>(body.size()));
    b.v.insert(b.v.end(), body.begin(), body.end());
    return b;
}

struct Recorder : FramerCallbacks {
    std::vector<FramedMessage> messages;
    std::vector<std::vector<uint8_t>> bodies;
    std::vector<std::string> errors;
    std::vector<std::pair<uint64_t, uint64_t>> resyncs;
    std::vector<uint32_t> results;

    void on_message(const FramedMessage& m) override {
        messages.push_back(m);
        bodies.emplace_back(m.body.begin(), m.body.end());
    }
    void on_error(Direction, const DecodeError& e) override { errors.push_back(e.message()); }
    void on_resync(Direction, uint64_t from, uint64_t to) override {
        resyncs.emplace_back(from, to);
    }
    void on_link_result(uint32_t e, uint64_t) override { results.push_back(e); }
};

constexpr uint32_t kAuthSel = 1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION;
constexpr uint32_t kAuthSpice = 1u << SPICE_COMMON_CAP_AUTH_SPICE;
constexpr uint32_t kMini = 1u << SPICE_COMMON_CAP_MINI_HEADER;

// Feeds `bytes` in pieces of `step` bytes.
void feed_in_steps(ConnectionFramer& f, Direction d, uint64_t start, const Bytes& bytes,
                   size_t step) {
    for (size_t i = 0; i < bytes.v.size(); i += step) {
        const size_t n = std::min(step, bytes.v.size() - i);
        f.feed(d, start + i, ByteView(bytes.v).subspan(i, n));
    }
}

}  // namespace

TEST_CASE("framer walks the link stage with auth selection and the mini header", "[wire]") {
    Recorder rec;
    ConnectionFramer f(rec);
    Bytes c2s = link_mess(SPICE_CHANNEL_MAIN, kAuthSel | kAuthSpice | kMini);
    c2s.u32(1).zeros(kEncryptedTicketSize);
    const size_t c2s_link = c2s.v.size();
    c2s.append(mini_msg(SPICE_MSGC_MAIN_ATTACH_CHANNELS, {}));
    Bytes s2c = link_reply(kAuthSel | kAuthSpice | kMini);
    s2c.u32(0);
    s2c.append(mini_msg(SPICE_MSG_MAIN_INIT, std::vector<uint8_t>(32, 7)));
    s2c.append(mini_msg(SPICE_MSG_PING, std::vector<uint8_t>(1000, 1)));

    // The client's bytes arrive before the server's reply: the framer must wait for it.
    feed_in_steps(f, Direction::ClientToServer, 0, c2s, 5);
    CHECK(rec.messages.empty());
    feed_in_steps(f, Direction::ServerToClient, 0, s2c, 7);
    f.finish();

    REQUIRE(rec.errors.empty());
    REQUIRE(rec.messages.size() == 3);
    CHECK(f.mini_header());
    CHECK(rec.results == std::vector<uint32_t>{0});
    const auto& attach = rec.messages[0];
    CHECK(attach.dir == Direction::ClientToServer);
    CHECK(attach.offset == c2s_link);
    CHECK(attach.type == SPICE_MSGC_MAIN_ATTACH_CHANNELS);
    CHECK_FALSE(attach.serial.has_value());
    CHECK(attach.sequence == 1);
    CHECK(rec.messages[2].type == SPICE_MSG_PING);
    CHECK(rec.messages[2].size == 1000);
    CHECK(rec.bodies[2] == std::vector<uint8_t>(1000, 1));
    CHECK(rec.messages[2].sequence == 2);
}

TEST_CASE("framer uses the full header when either side lacks mini header", "[wire]") {
    Recorder rec;
    ConnectionFramer f(rec);
    Bytes c2s = link_mess(SPICE_CHANNEL_DISPLAY, kAuthSpice | kMini, 0x1234);
    c2s.zeros(kEncryptedTicketSize);  // no auth selection: the ticket follows directly
    c2s.append(full_msg(1, SPICE_MSGC_DISPLAY_INIT, std::vector<uint8_t>(14, 0)));
    Bytes s2c = link_reply(kAuthSpice);
    s2c.u32(0);
    s2c.append(full_msg(1, SPICE_MSG_DISPLAY_MARK, {}));
    s2c.append(full_msg(2, SPICE_MSG_DISPLAY_DRAW_FILL, std::vector<uint8_t>(50, 3)));
    f.feed(Direction::ClientToServer, 0, c2s.v);
    f.feed(Direction::ServerToClient, 0, s2c.v);
    f.finish();
    REQUIRE(rec.errors.empty());
    REQUIRE(rec.messages.size() == 3);
    CHECK_FALSE(f.mini_header());
    CHECK(f.link_mess()->connection_id == 0x1234);
    // The client's message waited for the server's reply, so the server's come first.
    CHECK(rec.messages[0].type == SPICE_MSG_DISPLAY_MARK);
    CHECK(rec.messages[0].serial == uint64_t{1});
    CHECK(rec.messages[1].serial == uint64_t{2});
    CHECK(rec.messages[1].header_size == kFullHeaderSize);
    CHECK(rec.messages[2].type == SPICE_MSGC_DISPLAY_INIT);
    CHECK(rec.messages[2].dir == Direction::ClientToServer);
}

TEST_CASE("framer resumes after a gap at the next chain of plausible headers", "[wire]") {
    Recorder rec;
    ConnectionFramer f(rec);
    Bytes c2s = link_mess(SPICE_CHANNEL_DISPLAY, kMini, 5);
    c2s.zeros(kEncryptedTicketSize);
    Bytes s2c = link_reply(kMini);
    s2c.u32(0);
    const size_t link_end = s2c.v.size();
    std::vector<size_t> starts;
    for (int i = 0; i < 20; ++i) {
        starts.push_back(s2c.v.size());
        s2c.append(mini_msg(SPICE_MSG_DISPLAY_DRAW_FILL, std::vector<uint8_t>(40 + i, 9)));
    }
    f.feed(Direction::ClientToServer, 0, c2s.v);
    // Lose bytes from the middle of message 5 to the middle of message 8.
    const size_t cut_from = starts[5] + 10;
    const size_t cut_to = starts[8] + 3;
    const ByteView all(s2c.v);
    f.feed(Direction::ServerToClient, 0, all.first(cut_from));
    f.gap(Direction::ServerToClient, cut_from, cut_to - cut_from);
    f.feed(Direction::ServerToClient, cut_to, all.subspan(cut_to));
    f.finish();

    // Messages 0-4 before the gap, 9-19 after it.
    REQUIRE(rec.messages.size() == 5 + 11);
    CHECK(rec.messages[4].offset == starts[4]);
    CHECK(rec.messages[5].offset == starts[9]);
    CHECK_FALSE(rec.messages[5].sequence.has_value());
    REQUIRE(rec.errors.size() == 1);
    CHECK(rec.errors[0].find("cut by a capture gap") != std::string::npos);
    REQUIRE(rec.resyncs.size() == 1);
    CHECK(rec.resyncs[0] == std::pair<uint64_t, uint64_t>{cut_to, starts[9]});
    CHECK(link_end < starts[0] + 1);
}

TEST_CASE("framer reports a bad magic and a refused link", "[wire]") {
    {
        Recorder rec;
        ConnectionFramer f(rec);
        Bytes junk;
        junk.u32(0x20544547).zeros(40);  // "GET " ...
        f.feed(Direction::ClientToServer, 0, junk.v);
        f.finish();
        REQUIRE(rec.errors.size() == 1);
        CHECK(rec.errors[0].find("bad magic at byte 0") != std::string::npos);
        CHECK(f.unframed_bytes(Direction::ClientToServer) == junk.v.size());
    }
    {
        Recorder rec;
        ConnectionFramer f(rec);
        f.feed(Direction::ClientToServer, 0, link_mess(SPICE_CHANNEL_MAIN, 0).v);
        f.feed(Direction::ServerToClient, 0,
               link_reply(0, SPICE_LINK_ERR_PERMISSION_DENIED).v);
        f.finish();
        REQUIRE_FALSE(rec.errors.empty());
        CHECK(rec.errors[0].find("permission_denied") != std::string::npos);
    }
}

TEST_CASE("framer survives every truncation of a valid stream", "[wire]") {
    Bytes s2c = link_reply(kMini);
    s2c.u32(0);
    for (int i = 0; i < 4; ++i) {
        s2c.append(mini_msg(SPICE_MSG_PING, std::vector<uint8_t>(20, 1)));
    }
    for (size_t cut = 0; cut <= s2c.v.size(); ++cut) {
        Recorder rec;
        ConnectionFramer f(rec);
        Bytes c2s = link_mess(SPICE_CHANNEL_MAIN, kMini);
        c2s.zeros(kEncryptedTicketSize);
        f.feed(Direction::ClientToServer, 0, c2s.v);
        f.feed(Direction::ServerToClient, 0, ByteView(s2c.v).first(cut));
        f.finish();
        CHECK(rec.messages.size() <= 4);
    }
}

TEST_CASE("framer counts large bodies through without buffering them", "[wire]") {
    Recorder rec;
    FramerOptions opt;
    opt.max_buffered_body = 100;
    ConnectionFramer f(rec, opt);
    Bytes c2s = link_mess(SPICE_CHANNEL_DISPLAY, kMini, 5);
    c2s.zeros(kEncryptedTicketSize);
    Bytes s2c = link_reply(kMini);
    s2c.u32(0);
    const size_t big_at = s2c.v.size();
    s2c.append(mini_msg(SPICE_MSG_DISPLAY_DRAW_COPY, std::vector<uint8_t>(5000, 4)));
    s2c.append(mini_msg(SPICE_MSG_DISPLAY_MARK, {}));
    s2c.append(mini_msg(SPICE_MSG_DISPLAY_DRAW_COPY, std::vector<uint8_t>(50, 5)));
    f.feed(Direction::ClientToServer, 0, c2s.v);
    feed_in_steps(f, Direction::ServerToClient, 0, s2c, 333);
    f.finish();
    REQUIRE(rec.errors.empty());
    REQUIRE(rec.messages.size() == 3);
    CHECK(rec.messages[0].offset == big_at);
    CHECK(rec.messages[0].size == 5000);
    CHECK(rec.messages[0].body_elided);
    CHECK(rec.bodies[0].empty());
    CHECK(rec.messages[1].type == SPICE_MSG_DISPLAY_MARK);
    CHECK_FALSE(rec.messages[2].body_elided);
    CHECK(rec.bodies[2] == std::vector<uint8_t>(50, 5));
    CHECK(rec.messages[2].sequence == 3);
}
