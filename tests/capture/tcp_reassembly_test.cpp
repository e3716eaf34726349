#include "capture/pcap/tcp_reassembly.h"

#include <catch2/catch.hpp>
#include <random>

#include "capture/pcap/packet_source.h"
#include "tests/capture/pcap_builder.h"
#include "tests/capture/stream_recorder.h"

namespace spicetap {
namespace {

using capture::CloseReason;
using capture::RawPacket;
using capture::ReassemblyOptions;
using capture::Side;
using capture::TcpReassembler;
using test::Bytes;
using test::RecordedEvent;
using test::StreamRecorder;
using test::TcpFlow;
using namespace test::tcp;

constexpr int kInit = 0;
constexpr int kResp = 1;

// Feeds frames with a clock that advances 1 ms per packet.
struct Harness {
    StreamRecorder rec;
    TcpReassembler reassembler;
    int64_t ts = 1'000'000;
    uint64_t number = 0;

    explicit Harness(ReassemblyOptions options = {}) : reassembler(rec, options) {}

    void feed(int linktype, const Bytes& frame, uint32_t orig_len = 0) {
        RawPacket p;
        p.number = ++number;
        p.ts_us = ts;
        p.linktype = linktype;
        p.orig_len = orig_len ? orig_len : static_cast<uint32_t>(frame.size());
        p.data = ByteView(frame);
        reassembler.feed(p);
        ts += 1000;
    }

    void feed(const TcpFlow& f, bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
              std::string_view payload = {}) {
        feed(f.linktype, f.frame(from_client, seq, ack, flags, payload));
    }

    void finish() { reassembler.finish(ts); }

    const capture::ReassemblyStats& stats() const { return reassembler.stats(); }
};

constexpr uint32_t kClientIsn = 1000;
constexpr uint32_t kServerIsn = 5000;

void handshake(Harness& h, const TcpFlow& f, uint32_t cisn = kClientIsn,
               uint32_t sisn = kServerIsn) {
    h.feed(f, true, cisn, 0, kSyn);
    h.feed(f, false, sisn, cisn + 1, kSyn | kAck);
    h.feed(f, true, cisn + 1, sisn + 1, kAck);
}

TEST_CASE("reassembly: handshake, data both ways, FIN close", "[tcp]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck | kPsh, "hello ");
    h.feed(f, true, c + 6, s, kAck | kPsh, "server");
    h.feed(f, false, s, c + 12, kAck | kPsh, "hi client");
    h.feed(f, true, c + 12, s + 9, kAck | kFin);
    h.feed(f, false, s + 9, c + 13, kAck | kFin);
    h.feed(f, true, c + 13, s + 10, kAck);  // the last ACK: no phantom connection

    REQUIRE(h.rec.connections.size() == 1);
    const auto& conn = h.rec.at(1);
    CHECK(conn.saw_syn);
    CHECK(conn.initiator.to_string() == "10.0.0.1:40000");
    CHECK(conn.responder.to_string() == "10.0.0.2:5900");
    CHECK(conn.data[kInit] == "hello server");
    CHECK(conn.data[kResp] == "hi client");
    CHECK(conn.closed);
    CHECK(conn.reason == CloseReason::Fin);
    CHECK(h.stats().connections == 1);
    CHECK(h.stats().tcp_packets == 9);
    CHECK(h.stats().gap_bytes == 0);
    CHECK(h.stats().retransmitted_bytes == 0);
    CHECK(h.stats().ignored_packets == 1);
    // In-order data is delivered at once, with the timestamp of its own packet.
    REQUIRE(h.rec.events[1].kind == RecordedEvent::Data);
    CHECK(h.rec.events[1].ts_us == 1'000'000 + 3 * 1000);
    CHECK(h.rec.events[1].offset == 0);
    CHECK(h.rec.events[2].offset == 6);
}

TEST_CASE("reassembly: every supported link type, IPv4 and IPv6", "[tcp][link]") {
    struct Case {
        int linktype;
        std::vector<uint16_t> vlans;
        bool ipv6;
    };

    auto c = GENERATE(Case{test::dlt::kEthernet, {}, false}, Case{test::dlt::kEthernet, {}, true},
                      Case{test::dlt::kEthernet, {0x8100}, false},
                      Case{test::dlt::kEthernet, {0x88a8, 0x8100}, true},
                      Case{test::dlt::kEthernet, {0x88a8, 0x8100, 0x8100}, false},
                      Case{test::dlt::kLinuxSll, {}, false}, Case{test::dlt::kLinuxSll, {}, true},
                      Case{test::dlt::kLinuxSll2, {}, false}, Case{test::dlt::kLinuxSll2, {}, true},
                      Case{test::dlt::kNull, {}, false}, Case{test::dlt::kNull, {}, true},
                      Case{test::dlt::kLoop, {}, false}, Case{test::dlt::kLoop, {}, true},
                      Case{test::dlt::kRaw, {}, false}, Case{test::dlt::kRaw, {}, true},
                      Case{test::dlt::kLinktypeRaw, {}, true}, Case{test::dlt::kIpv4, {}, false},
                      Case{test::dlt::kIpv6, {}, true});
    CAPTURE(c.linktype, c.vlans.size(), c.ipv6);
    CHECK(TcpReassembler::supports_linktype(c.linktype));
    TcpFlow f;
    f.linktype = c.linktype;
    f.vlans = c.vlans;
    if (c.ipv6) {
        f.client = "2001:db8::1";
        f.server = "2001:db8::2";
    }
    Harness h;
    handshake(h, f);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck, "ping");
    h.feed(f, false, kServerIsn + 1, kClientIsn + 5, kAck, "pong!");
    h.finish();
    REQUIRE(h.rec.connections.size() == 1);
    const auto& conn = h.rec.at(1);
    CHECK(conn.data[kInit] == "ping");
    CHECK(conn.data[kResp] == "pong!");  // Ethernet padding after short frames is not data
    CHECK(conn.reason == CloseReason::EndOfCapture);
    CHECK(conn.initiator.to_string() == (c.ipv6 ? "[2001:db8::1]:40000" : "10.0.0.1:40000"));
    CHECK(h.stats().malformed_packets == 0);
    CHECK(h.stats().non_tcp_packets == 0);
}

TEST_CASE("reassembly: unsupported link type counts as non-TCP", "[tcp][link]") {
    CHECK_FALSE(TcpReassembler::supports_linktype(147));  // DLT_USER0
    Harness h;
    TcpFlow f;
    h.feed(147, f.ip(true, 1, 0, kSyn));
    CHECK(h.stats().non_tcp_packets == 1);
    CHECK(h.stats().tcp_packets == 0);
}

TEST_CASE("reassembly: loopback family in both byte orders and every BSD AF_INET6", "[tcp][link]") {
    for (uint32_t family : {10u, 24u, 28u, 30u}) {
        for (bool big_endian : {false, true}) {
            CAPTURE(family, big_endian);
            Harness h;
            Bytes l4 = test::tcp_segment(1, 2, 100, 0, kAck, test::to_bytes("abc"));
            Bytes frame =
                test::loopback_frame(test::ipv6_packet("::1", "::1", l4), big_endian, family);
            h.feed(test::dlt::kNull, frame);
            h.finish();
            REQUIRE(h.rec.connections.size() == 1);
            CHECK(h.rec.at(1).data[kInit] == "abc");
        }
    }
}

TEST_CASE("reassembly: IPv6 extension headers are walked", "[tcp][ipv6]") {
    Harness h;
    Bytes l4 = test::tcp_segment(40000, 5900, 7, 0, kAck | kPsh, test::to_bytes("after ext"));
    std::vector<test::Ipv6Extension> ext = {
        {0, Bytes(6, 0)},                            // hop-by-hop: 8 bytes
        {60, Bytes(14, 0)},                          // destination options: 16 bytes
        {44, {0x00, 0x00, 0x00, 0x00, 0x12, 0x34}},  // atomic fragment: offset 0, M=0
        {51, Bytes(10, 0)},                          // AH: 12 bytes
    };
    h.feed(test::dlt::kRaw, test::ipv6_packet("2001:db8::1", "2001:db8::2", l4, ext));
    // A non-first fragment carries no TCP header: skipped and counted.
    std::vector<test::Ipv6Extension> later = {{44, {0x00, 0x08, 0x00, 0x00, 0x12, 0x34}}};
    h.feed(test::dlt::kRaw, test::ipv6_packet("2001:db8::1", "2001:db8::2", Bytes(32, 1), later));
    // No next header / UDP: not TCP.
    h.feed(test::dlt::kRaw, test::ipv6_packet("2001:db8::1", "2001:db8::2", Bytes(8, 0), {}, 17));
    h.finish();
    REQUIRE(h.rec.connections.size() == 1);
    CHECK(h.rec.at(1).data[kInit] == "after ext");
    CHECK(h.stats().ip_fragments == 1);
    CHECK(h.stats().non_tcp_packets == 2);
}

TEST_CASE("reassembly: IPv4 options and fragments", "[tcp][ipv4]") {
    Harness h;
    TcpFlow f;
    f.linktype = test::dlt::kRaw;
    test::Ipv4Options with_options;
    with_options.options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
    Bytes l4 = test::tcp_segment(40000, 5900, 100, 0, kAck, test::to_bytes("0123456789"));
    h.feed(test::dlt::kRaw, test::ipv4_packet(f.client, f.server, l4, with_options));

    // A TCP segment of 20 payload bytes split in two fragments: the first carries the TCP
    // header and 4 bytes; the second (offset 3 * 8) is skipped, so its 16 bytes become a gap.
    Bytes whole =
        test::tcp_segment(40000, 5900, 110, 0, kAck, test::to_bytes("ABCDEFGHIJKLMNOPQRST"));
    test::Ipv4Options first;
    first.more_fragments = true;
    h.feed(test::dlt::kRaw,
           test::ipv4_packet(f.client, f.server, Bytes(whole.begin(), whole.begin() + 24), first));
    test::Ipv4Options second;
    second.fragment_offset = 3;
    h.feed(test::dlt::kRaw,
           test::ipv4_packet(f.client, f.server, Bytes(whole.begin() + 24, whole.end()), second));
    l4 = test::tcp_segment(40000, 5900, 130, 0, kAck, test::to_bytes("tail"));
    h.feed(test::dlt::kRaw, test::ipv4_packet(f.client, f.server, l4));
    // The receiver acknowledges everything: the fragment's bytes were sent but not captured.
    h.feed(f, false, 9000, 134, kAck);
    CHECK(h.rec.at(1).text[kInit] == "0123456789ABCD????????????????tail");
    CHECK(h.stats().ip_fragments == 2);
    CHECK(h.stats().non_tcp_packets == 1);
    CHECK(h.stats().gap_bytes == 16);
}

TEST_CASE("reassembly: TSO packets with IPv4 total length 0", "[tcp][ipv4]") {
    Harness h;
    test::Ipv4Options tso;
    tso.zero_total_length = true;
    Bytes l4 = test::tcp_segment(1, 2, 100, 0, kAck, Bytes(3000, 'z'));
    h.feed(test::dlt::kRaw, test::ipv4_packet("10.0.0.1", "10.0.0.2", l4, tso));
    h.finish();
    CHECK(h.rec.at(1).data[kInit] == std::string(3000, 'z'));
}

TEST_CASE("reassembly: malformed and non-TCP packets are counted and skipped", "[tcp]") {
    Harness h;
    TcpFlow f;
    Bytes good = f.frame(true, 1, 0, kAck, "x");
    h.feed(test::dlt::kEthernet, Bytes(good.begin(), good.begin() + 10));  // cut link header
    h.feed(test::dlt::kEthernet, Bytes(good.begin(), good.begin() + 14 + 20 + 10));  // cut TCP
    Bytes bad_ihl = f.ip(true, 1, 0, kAck);
    bad_ihl[0] = 0x43;  // IHL 12 bytes
    h.feed(test::dlt::kRaw, bad_ihl);
    Bytes bad_offset = f.ip(true, 1, 0, kAck);
    bad_offset[20 + 12] = 0x30;  // TCP data offset 12
    h.feed(test::dlt::kRaw, bad_offset);
    Bytes arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 0x08, 0x06};
    arp.resize(60, 0);
    h.feed(test::dlt::kEthernet, arp);
    test::Ipv4Options udp;
    udp.protocol = 17;
    h.feed(test::dlt::kRaw, test::ipv4_packet("1.1.1.1", "2.2.2.2", Bytes(12, 0), udp));
    h.feed(test::dlt::kRaw, Bytes{});
    // A VLAN tag stack that never ends.
    Bytes vlans(14, 0);
    vlans[12] = 0x81;
    for (int i = 0; i < 12; ++i) {
        vlans.insert(vlans.end(), {0x00, 0x01, 0x81, 0x00});
    }
    h.feed(test::dlt::kEthernet, vlans);
    CHECK(h.stats().packets == 8);
    CHECK(h.stats().malformed_packets == 6);
    CHECK(h.stats().non_tcp_packets == 2);
    CHECK(h.stats().tcp_packets == 0);
    CHECK(h.rec.connections.empty());
}

TEST_CASE("reassembly: reordered segments are delivered in order", "[tcp]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    h.feed(f, true, c + 8, kServerIsn + 1, kAck, "CCCC");  // t0 + 3 ms
    h.feed(f, true, c + 4, kServerIsn + 1, kAck, "BBBB");  // t0 + 4 ms
    CHECK(h.rec.count(RecordedEvent::Data) == 0);          // a hole at offset 0 holds them back
    h.feed(f, true, c, kServerIsn + 1, kAck, "AAAA");      // t0 + 5 ms
    h.feed(f, true, c + 12, kServerIsn + 1, kAck, "DDDD");
    h.finish();
    const auto& conn = h.rec.at(1);
    CHECK(conn.data[kInit] == "AAAABBBBCCCCDDDD");
    CHECK(h.stats().gap_bytes == 0);
    // Bytes held back carry the time of the packet that made them deliverable.
    std::vector<int64_t> stamps;
    for (const auto& e : h.rec.events) {
        if (e.kind == RecordedEvent::Data) {
            stamps.push_back(e.ts_us);
        }
    }
    REQUIRE(stamps.size() == 4);
    CHECK(stamps[0] == 1'005'000);
    CHECK(stamps[1] == 1'005'000);
    CHECK(stamps[2] == 1'005'000);
    CHECK(stamps[3] == 1'006'000);
}

TEST_CASE("reassembly: retransmissions are dropped and counted", "[tcp]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    h.feed(f, true, c, kServerIsn + 1, kAck, "0123456789");
    h.feed(f, true, c, kServerIsn + 1, kAck, "0123456789");    // full retransmission
    h.feed(f, true, c + 5, kServerIsn + 1, kAck, "56789abc");  // partial: 5 old, 3 new
    h.feed(f, true, c + 20, kServerIsn + 1, kAck, "kl");       // out of order
    h.feed(f, true, c + 20, kServerIsn + 1, kAck, "kl");       // retransmitted while buffered
    h.feed(f, true, c + 13, kServerIsn + 1, kAck, "defghij");
    h.finish();
    CHECK(h.rec.at(1).data[kInit] == "0123456789abcdefghijkl");
    CHECK(h.stats().retransmitted_bytes == 10 + 5 + 2);
    CHECK(h.stats().gap_bytes == 0);
}

TEST_CASE("reassembly: overlapping segments, the first copy wins", "[tcp]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    h.feed(f, true, c + 4, kServerIsn + 1, kAck, "XXXX");        // buffered [4, 8)
    h.feed(f, true, c + 6, kServerIsn + 1, kAck, "yyyyyy");      // [6, 12): only [8, 12) is new
    h.feed(f, true, c, kServerIsn + 1, kAck, "abcdefghijklmn");  // [0, 14): [4, 12) covered
    h.finish();
    CHECK(h.rec.at(1).data[kInit] == "abcdXXXXyyyymn");
    CHECK(h.stats().retransmitted_bytes == 2 + 8);
}

TEST_CASE("reassembly: a missing segment proven by the peer's ACK is a gap at once", "[tcp][gap]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck, "first-");
    // [6, 12) "LOST!!" never captured.
    h.feed(f, true, c + 12, s, kAck, "third");
    CHECK(h.rec.count(RecordedEvent::Gap) == 0);
    h.feed(f, false, s, c + 17, kAck);  // the server has everything up to 17
    REQUIRE(h.rec.count(RecordedEvent::Gap) == 1);
    const auto& conn = h.rec.at(1);
    CHECK(conn.text[kInit] == "first-??????third");
    REQUIRE(conn.gaps[kInit].size() == 1);
    CHECK(conn.gaps[kInit][0] == std::pair<uint64_t, uint64_t>(6, 6));
    CHECK_FALSE(conn.closed);
    // Delivery goes on after the gap.
    h.feed(f, true, c + 17, s, kAck, "-fourth");
    CHECK(h.rec.at(1).text[kInit] == "first-??????third-fourth");
    CHECK(h.stats().gap_bytes == 6);
    // The lost bytes turning up late are old news.
    h.feed(f, true, c + 6, s, kAck, "LOST!!");
    CHECK(h.rec.at(1).text[kInit] == "first-??????third-fourth");
    CHECK(h.stats().retransmitted_bytes == 6);
}

TEST_CASE("reassembly: an ACK seen before the data that follows the hole", "[tcp][gap]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck, "aa");
    h.feed(f, false, s, c + 6, kAck);             // acknowledges [2, 6), which we never saw
    CHECK(h.rec.count(RecordedEvent::Gap) == 0);  // nothing known beyond: wait
    h.feed(f, true, c + 6, s, kAck, "gg");
    CHECK(h.rec.at(1).text[kInit] == "aa????gg");
}

TEST_CASE("reassembly: a hole still open at finish() is reported as a gap", "[tcp][gap]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    h.feed(f, true, c, kServerIsn + 1, kAck, "abc");
    h.feed(f, true, c + 5, kServerIsn + 1, kAck, "fgh");
    h.feed(f, true, c + 10, kServerIsn + 1, kAck, "k");
    CHECK(h.rec.at(1).text[kInit] == "abc");
    h.finish();
    const auto& conn = h.rec.at(1);
    CHECK(conn.text[kInit] == "abc??fgh??k");
    CHECK(conn.gaps[kInit].size() == 2);
    CHECK(conn.reason == CloseReason::EndOfCapture);
    CHECK(h.stats().gap_bytes == 4);
}

TEST_CASE("reassembly: the out-of-order limit turns the hole into a gap", "[tcp][gap]") {
    ReassemblyOptions options;
    options.max_out_of_order_bytes = 100;
    Harness h(options);
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    h.feed(f, true, c + 10, kServerIsn + 1, kAck, std::string(60, 'a'));
    CHECK(h.rec.count(RecordedEvent::Gap) == 0);
    h.feed(f, true, c + 70, kServerIsn + 1, kAck, std::string(60, 'b'));
    REQUIRE(h.rec.count(RecordedEvent::Gap) == 1);
    const auto& conn = h.rec.at(1);
    CHECK(conn.text[kInit] == std::string(10, '?') + std::string(60, 'a') + std::string(60, 'b'));
}

TEST_CASE("reassembly: FIN with a hole before it reports the gap at close", "[tcp][gap]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck, "abc");
    h.feed(f, true, c + 6, s, kAck | kFin, "");  // [3, 6) lost, then FIN
    h.feed(f, false, s, c + 7, kAck | kFin);
    const auto& conn = h.rec.at(1);
    CHECK(conn.text[kInit] == "abc???");
    CHECK(conn.closed);
    CHECK(conn.reason == CloseReason::Fin);
}

TEST_CASE("reassembly: a stream first seen mid-way", "[tcp][midway]") {
    Harness h;
    TcpFlow f;
    // The capture starts while the server is sending; a pure ACK before opens nothing.
    h.feed(f, true, 777, 123456, kAck);
    h.feed(f, false, 123456, 777, kAck | kPsh, "server talks first");
    h.feed(f, true, 777, 123456 + 18, kAck | kPsh, "reply");
    h.feed(f, false, 123456 + 18, 782, kAck | kPsh, "!");
    h.finish();
    REQUIRE(h.rec.connections.size() == 1);
    const auto& conn = h.rec.at(1);
    CHECK_FALSE(conn.saw_syn);
    // The initiator is whoever sent the first packet that opened the connection.
    CHECK(conn.initiator.to_string() == "10.0.0.2:5900");
    CHECK(conn.data[kInit] == "server talks first!");
    CHECK(conn.data[kResp] == "reply");
    CHECK(h.stats().ignored_packets == 1);
}

TEST_CASE("reassembly: a SYN-ACK seen first still names the client as initiator", "[tcp][midway]") {
    Harness h;
    TcpFlow f;
    h.feed(f, false, kServerIsn, kClientIsn + 1, kSyn | kAck);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck, "req");
    h.feed(f, false, kServerIsn + 1, kClientIsn + 4, kAck, "resp");
    h.finish();
    const auto& conn = h.rec.at(1);
    CHECK(conn.initiator.to_string() == "10.0.0.1:40000");
    CHECK_FALSE(conn.saw_syn);
    CHECK(conn.data[kInit] == "req");
    CHECK(conn.data[kResp] == "resp");
}

TEST_CASE("reassembly: a SYN captured after its SYN-ACK is the same connection", "[tcp][midway]") {
    Harness h;
    TcpFlow f;
    h.feed(f, false, kServerIsn, kClientIsn + 1, kSyn | kAck);
    h.feed(f, true, kClientIsn, 0, kSyn);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck, "one");
    h.finish();
    REQUIRE(h.rec.connections.size() == 1);
    CHECK(h.rec.at(1).data[kInit] == "one");
}

TEST_CASE("reassembly: data captured after both FINs is not lost", "[tcp][close]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c + 4, s, kAck | kFin, "tail");  // the last segment overtook the one before
    h.feed(f, false, s, c, kAck | kFin);             // simultaneous close
    CHECK_FALSE(h.rec.at(1).closed);                 // [0, 4) is still expected
    h.feed(f, true, c, s, kAck, "head");
    const auto& conn = h.rec.at(1);
    CHECK(conn.data[kInit] == "headtail");
    CHECK(conn.closed);
    CHECK(conn.reason == CloseReason::Fin);
    CHECK(h.stats().gap_bytes == 0);
}

TEST_CASE("reassembly: RST closes, late packets ignored, a new SYN opens anew", "[tcp][close]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck, "data");
    h.feed(f, true, c + 10, s, kAck, "later");  // buffered behind a hole
    h.feed(f, false, s, c + 4, kRst | kAck);
    const auto& first = h.rec.at(1);
    CHECK(first.closed);
    CHECK(first.reason == CloseReason::Rst);
    CHECK(first.text[kInit] == "data??????later");  // RST flushes with the hole as a gap

    h.feed(f, true, c + 15, s, kAck, "zombie");  // a late retransmission
    CHECK(h.rec.connections.size() == 1);
    CHECK(h.stats().ignored_packets == 1);

    handshake(h, f, 90000, 70000);
    h.feed(f, true, 90001, 70001, kAck, "second life");
    h.feed(f, true, 90012, 70001, kAck | kFin);
    h.feed(f, false, 70001, 90013, kAck | kFin);
    REQUIRE(h.rec.connections.size() == 2);
    const auto& second = h.rec.at(2);
    CHECK(second.saw_syn);
    CHECK(second.data[kInit] == "second life");
    CHECK(second.reason == CloseReason::Fin);
    CHECK(h.stats().connections == 2);
}

TEST_CASE("reassembly: a SYN with a new ISN on an open 4-tuple starts a new connection",
          "[tcp][close]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck, "old");
    h.feed(f, true, kClientIsn, 0, kSyn);  // retransmitted SYN of this connection: nothing new
    CHECK(h.rec.connections.size() == 1);
    handshake(h, f, 424242, 10);
    h.feed(f, true, 424243, 11, kAck, "new");
    h.finish();
    REQUIRE(h.rec.connections.size() == 2);
    CHECK(h.rec.at(1).reason == CloseReason::Idle);
    CHECK(h.rec.at(1).data[kInit] == "old");
    CHECK(h.rec.at(2).data[kInit] == "new");
}

TEST_CASE("reassembly: one FIN then the end of the capture closes as Fin", "[tcp][close]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck | kFin, "bye");
    h.feed(f, true, kClientIsn + 5, kServerIsn + 1, kAck, "ignored");  // after the FIN
    h.finish();
    const auto& conn = h.rec.at(1);
    CHECK(conn.data[kInit] == "bye");
    CHECK(conn.reason == CloseReason::Fin);
}

TEST_CASE("reassembly: sequence numbers wrap around 2^32", "[tcp][wrap]") {
    Harness h;
    TcpFlow f;
    const uint32_t isn = 0xffffff00u;
    handshake(h, f, isn, 0xfffffff0u);
    std::string expected;
    std::mt19937 rng(7);
    for (int i = 0; i < 1000; ++i) {
        expected.push_back(static_cast<char>('a' + rng() % 26));
    }
    // 10 segments of 100 bytes crossing the wrap, sent in a shuffled order.
    std::vector<int> order = {0, 1, 3, 2, 5, 4, 6, 9, 8, 7};
    for (int i : order) {
        uint32_t seq = isn + 1 + static_cast<uint32_t>(i * 100);
        h.feed(f, true, seq, 0xfffffff1u, kAck, expected.substr(static_cast<size_t>(i) * 100, 100));
    }
    // The server's direction wraps too.
    h.feed(f, false, 0xfffffff1u, isn + 1001, kAck, std::string(40, 'S'));
    h.feed(f, true, isn + 1001, 0xfffffff1u + 40, kAck | kFin);
    h.feed(f, false, 0xfffffff1u + 40, isn + 1002, kAck | kFin);
    const auto& conn = h.rec.at(1);
    CHECK(conn.data[kInit] == expected);
    CHECK(conn.data[kResp] == std::string(40, 'S'));
    CHECK(conn.reason == CloseReason::Fin);
    CHECK(h.stats().gap_bytes == 0);
    CHECK(h.stats().retransmitted_bytes == 0);
}

TEST_CASE("reassembly: keep-alives are ignored, zero-window probes do no harm", "[tcp]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    uint32_t s = kServerIsn + 1;
    h.feed(f, true, c, s, kAck, "abcd");
    h.feed(f, true, c + 3, s, kAck, "d");     // keep-alive: 1 byte at seq - 1
    h.feed(f, true, c + 3, s, kAck);          // zero-length keep-alive
    h.feed(f, true, c + 4, s, kAck, "e");     // zero-window probe: the next byte
    h.feed(f, false, s, c + 4, kAck);         // the window is still closed: not accepted
    h.feed(f, true, c + 4, s, kAck, "efgh");  // the real segment later
    h.finish();
    CHECK(h.rec.at(1).data[kInit] == "abcdefgh");
    CHECK(h.stats().retransmitted_bytes == 1);  // the probe byte, sent again
    CHECK(h.stats().gap_bytes == 0);
}

TEST_CASE("reassembly: bytes cut off by the snap length are a gap", "[tcp][gap]") {
    Harness h;
    TcpFlow f;
    handshake(h, f);
    uint32_t c = kClientIsn + 1;
    Bytes frame = f.frame(true, c, kServerIsn + 1, kAck, std::string(100, 'p'));
    size_t snap = frame.size() - 60;
    h.feed(f.linktype, Bytes(frame.begin(), frame.begin() + static_cast<long>(snap)),
           static_cast<uint32_t>(frame.size()));
    h.feed(f, true, c + 100, kServerIsn + 1, kAck, "next");
    const auto& conn = h.rec.at(1);
    CHECK(conn.text[kInit] == std::string(40, 'p') + std::string(60, '?') + "next");
    CHECK(h.stats().gap_bytes == 60);
}

TEST_CASE("reassembly: idle connections close on tick()", "[tcp][close]") {
    ReassemblyOptions options;
    options.idle_timeout_us = 5'000'000;
    Harness h(options);
    TcpFlow f;
    handshake(h, f);
    h.feed(f, true, kClientIsn + 1, kServerIsn + 1, kAck, "x");
    h.reassembler.tick(h.ts + 1'000'000);
    CHECK_FALSE(h.rec.at(1).closed);
    h.reassembler.tick(h.ts + 10'000'000);
    CHECK(h.rec.at(1).closed);
    CHECK(h.rec.at(1).reason == CloseReason::Idle);
    // The 4-tuple speaking again is a connection seen mid-way, not a late packet.
    h.ts += 20'000'000;
    h.feed(f, true, kClientIsn + 2, kServerIsn + 1, kAck, "y");
    h.finish();
    REQUIRE(h.rec.connections.size() == 2);
    CHECK(h.rec.at(2).data[kInit] == "y");
}

TEST_CASE("reassembly: many connections interleaved stay apart", "[tcp]") {
    Harness h;
    std::vector<TcpFlow> flows(20);
    for (size_t i = 0; i < flows.size(); ++i) {
        flows[i].client_port = static_cast<uint16_t>(41000 + i);
        handshake(h, flows[i], static_cast<uint32_t>(i * 1000), static_cast<uint32_t>(i * 7777));
    }
    for (uint32_t round = 0; round < 5; ++round) {
        for (size_t i = 0; i < flows.size(); ++i) {
            auto isn = static_cast<uint32_t>(i * 1000);
            h.feed(flows[i], true, isn + 1 + round * 2, 0, kAck, std::to_string(i % 10) + "-");
        }
    }
    h.finish();
    REQUIRE(h.rec.connections.size() == 20);
    for (capture::ConnectionId id = 1; id <= 20; ++id) {
        std::string digit = std::to_string((id - 1) % 10);
        CHECK(h.rec.at(id).data[kInit] ==
              digit + "-" + digit + "-" + digit + "-" + digit + "-" + digit + "-");
        CHECK(h.rec.at(id).initiator.port == 41000 + id - 1);
    }
}

TEST_CASE("reassembly: random loss, duplication and reordering never corrupt data", "[tcp][fuzz]") {
    // The invariant: every delivered byte equals the sent byte at that offset, and data plus
    // gaps cover each stream exactly once.
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        std::string sent(20000, '\0');
        for (char& ch : sent) {
            ch = static_cast<char>(rng());
        }

        struct Seg {
            uint32_t off;
            uint32_t len;
        };

        std::vector<Seg> segs;
        for (uint32_t off = 0; off < sent.size();) {
            uint32_t len =
                std::min<uint32_t>(1 + rng() % 1500, static_cast<uint32_t>(sent.size()) - off);
            segs.push_back({off, len});
            off += len;
        }
        std::vector<Seg> wire;
        for (const Seg& sg : segs) {
            if (rng() % 10 == 0) {
                continue;  // lost
            }
            wire.push_back(sg);
            if (rng() % 8 == 0) {
                wire.push_back(sg);  // duplicated
            }
            if (rng() % 8 == 0) {  // an overlapping resend of a neighbourhood
                uint32_t o = sg.off > 300 ? sg.off - 300 : 0;
                wire.push_back(
                    {o, std::min<uint32_t>(sg.len + 600, static_cast<uint32_t>(sent.size()) - o)});
            }
        }
        for (size_t i = 0; i + 1 < wire.size(); ++i) {
            if (rng() % 4 == 0) {
                std::swap(wire[i], wire[i + 1 + rng() % std::min<size_t>(5, wire.size() - i - 1)]);
            }
        }
        ReassemblyOptions options;
        options.max_out_of_order_bytes = 1 + rng() % 8000;
        Harness h(options);
        TcpFlow f;
        const uint32_t isn = static_cast<uint32_t>(rng());
        h.feed(f, true, isn, 0, kSyn);
        for (const Seg& sg : wire) {
            h.feed(f, true, isn + 1 + sg.off, 0, kAck, sent.substr(sg.off, sg.len));
        }
        h.finish();
        const auto& conn = h.rec.at(1);
        uint64_t covered = conn.data[kInit].size();
        for (const auto& g : conn.gaps[kInit]) {
            covered += g.second;
        }
        uint64_t last_end = 0;
        for (const auto& e : h.rec.events) {
            if (e.kind == RecordedEvent::Data) {
                REQUIRE(e.offset + e.length <= sent.size());
                REQUIRE(e.bytes == sent.substr(e.offset, e.length));
                last_end = e.offset + e.length;
            } else if (e.kind == RecordedEvent::Gap) {
                last_end = e.offset + e.length;
            }
        }
        CHECK(last_end == covered);
        CHECK(covered <= sent.size());
        CHECK(h.stats().gap_bytes == covered - conn.data[kInit].size());
    }
}

}  // namespace
}  // namespace spicetap

namespace spicetap {
namespace {

TEST_CASE("reassembly: mutated and truncated frames never break the accounting", "[tcp][robust]") {
    std::mt19937 rng(4242);
    const int linktypes[] = {test::dlt::kEthernet, test::dlt::kLinuxSll, test::dlt::kLinuxSll2,
                             test::dlt::kNull,     test::dlt::kLoop,     test::dlt::kRaw,
                             test::dlt::kIpv4,     test::dlt::kIpv6};
    test::StreamRecorder rec;
    rec.check_contract = true;
    rec.keep_bytes = false;
    TcpReassembler reassembler(rec);
    uint64_t fed = 0;
    for (int round = 0; round < 20000; ++round) {
        int linktype = linktypes[rng() % std::size(linktypes)];
        TcpFlow f;
        f.linktype = linktype;
        if (linktype == test::dlt::kIpv6 || (linktype != test::dlt::kIpv4 && rng() % 2)) {
            f.client = "2001:db8::" + std::to_string(rng() % 4 + 1);
            f.server = "2001:db8::99";
        } else {
            f.client = "10.0.0." + std::to_string(rng() % 4 + 1);
        }
        if (linktype == test::dlt::kEthernet && rng() % 3 == 0) {
            f.vlans = {0x8100};
        }
        f.client_port = static_cast<uint16_t>(40000 + rng() % 3);
        auto flags = static_cast<uint8_t>(rng() % 32);
        std::string payload(rng() % 64, 'x');
        Bytes frame = f.frame(rng() % 2 == 0, rng() % 4096, rng() % 4096, flags, payload);
        switch (rng() % 4) {
            case 0:  // a few random bytes overwritten
                for (int k = 0; k < 3; ++k) {
                    frame[rng() % frame.size()] = static_cast<uint8_t>(rng());
                }
                break;
            case 1:  // cut anywhere
                frame.resize(rng() % (frame.size() + 1));
                break;
            case 2:  // garbage
                for (auto& b : frame) {
                    b = static_cast<uint8_t>(rng());
                }
                break;
            default:
                break;  // intact
        }
        RawPacket p;
        p.number = ++fed;
        p.ts_us = 1'000'000 + round;
        p.linktype = linktype;
        p.orig_len = static_cast<uint32_t>(frame.size());
        p.data = ByteView(frame);
        reassembler.feed(p);
        if (round % 5000 == 0) {
            reassembler.tick(p.ts_us);
        }
    }
    reassembler.finish(2'000'000);
    const auto& st = reassembler.stats();
    CHECK(st.packets == fed);
    CHECK(st.tcp_packets + st.non_tcp_packets + st.malformed_packets == fed);
    CHECK(st.tcp_packets > 1000);
    CHECK(st.malformed_packets > 100);
    CHECK(st.connections == rec.connections.size());
    for (const auto& [id, conn] : rec.connections) {
        CHECK(conn.closed);
    }
}

}  // namespace
}  // namespace spicetap
