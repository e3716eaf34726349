#include "capture/pcap/packet_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "capture/pcap/tcp_reassembly.h"
#include "tests/capture/pcap_builder.h"
#include "tests/capture/stream_recorder.h"

namespace spicetap {
namespace {

using capture::PacketSource;
using capture::RawPacket;
using test::Bytes;
using test::Frame;
using test::TempDir;
using namespace test::tcp;

std::vector<Frame> sample_frames(const test::TcpFlow& f) {
    std::vector<Frame> frames;
    int64_t ts = 1'700'000'000'123'456;
    auto add = [&](Bytes data) {
        frames.push_back({ts, std::move(data), 0});
        ts += 250'001;
    };
    add(f.frame(true, 100, 0, kSyn));
    add(f.frame(false, 900, 101, kSyn | kAck));
    add(f.frame(true, 101, 901, kAck, "request"));
    add(f.frame(false, 901, 108, kAck, "response bytes"));
    add(f.frame(true, 108, 915, kAck | kFin));
    add(f.frame(false, 915, 109, kAck | kFin));
    return frames;
}

struct ReadAll {
    std::vector<RawPacket> packets;
    std::vector<Bytes> data;
    std::optional<DecodeError> error;
};

ReadAll read_all(PacketSource& src) {
    ReadAll out;
    RawPacket p;
    while (true) {
        auto r = src.next(p);
        if (!r) {
            out.error = r.error();
            break;
        }
        if (!*r) {
            break;
        }
        out.packets.push_back(p);
        out.data.emplace_back(p.data.begin(), p.data.end());
    }
    return out;
}

TEST_CASE("packet source: pcap and pcapng files read back exactly", "[pcap]") {
    bool ng = GENERATE(false, true);
    int linktype = GENERATE(test::dlt::kEthernet, test::dlt::kLinuxSll2, test::dlt::kNull);
    CAPTURE(ng, linktype);
    TempDir dir("src");
    test::TcpFlow f;
    f.linktype = linktype;
    auto frames = sample_frames(f);
    frames[3].orig_len = static_cast<uint32_t>(frames[3].data.size() + 1000);  // snapped frame
    auto path = dir / (ng ? "x.pcapng" : "x.pcap");
    test::write_file(path,
                     ng ? test::pcapng_file(linktype, frames) : test::pcap_file(linktype, frames));

    auto src = PacketSource::open_file(path);
    REQUIRE(src.has_value());
    CHECK((*src)->linktype() == linktype);
    auto all = read_all(**src);
    REQUIRE_FALSE(all.error.has_value());
    REQUIRE(all.packets.size() == frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        CAPTURE(i);
        CHECK(all.packets[i].number == i + 1);
        CHECK(all.packets[i].ts_us == frames[i].ts_us);
        CHECK(all.packets[i].linktype == linktype);
        CHECK(all.data[i] == frames[i].data);
        CHECK(all.packets[i].orig_len ==
              (frames[i].orig_len ? frames[i].orig_len : frames[i].data.size()));
    }
    CHECK((*src)->stats().packets == frames.size());
    // The end stays the end.
    RawPacket p;
    auto again = (*src)->next(p);
    REQUIRE(again.has_value());
    CHECK_FALSE(*again);

    // And through the reassembler.
    auto src2 = PacketSource::open_file(path);
    REQUIRE(src2.has_value());
    test::StreamRecorder rec;
    capture::TcpReassembler reassembler(rec);
    RawPacket packet;
    while (true) {
        auto r = (*src2)->next(packet);
        REQUIRE(r.has_value());
        if (!*r) {
            break;
        }
        reassembler.feed(packet);
    }
    reassembler.finish(packet.ts_us);
    REQUIRE(rec.connections.size() == 1);
    CHECK(rec.at(1).data[0] == "request");
    CHECK(rec.at(1).data[1] == "response bytes");
    CHECK(rec.at(1).reason == capture::CloseReason::Fin);
}

TEST_CASE("packet source: nanosecond timestamps come out in microseconds", "[pcap]") {
    bool ng = GENERATE(false, true);
    CAPTURE(ng);
    TempDir dir("nano");
    test::TcpFlow f;
    auto frames = sample_frames(f);
    auto path = dir / "nano.cap";
    test::write_file(path, ng ? test::pcapng_file(test::dlt::kEthernet, frames, 65535, true)
                              : test::pcap_file(test::dlt::kEthernet, frames, 65535, true));
    auto src = PacketSource::open_file(path);
    REQUIRE(src.has_value());
    auto all = read_all(**src);
    REQUIRE_FALSE(all.error.has_value());
    REQUIRE(all.packets.size() == frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        CHECK(all.packets[i].ts_us == frames[i].ts_us);
    }
}

TEST_CASE("packet source: a file cut mid-record delivers what came before, then says where",
          "[pcap]") {
    TempDir dir("cut");
    test::TcpFlow f;
    auto frames = sample_frames(f);
    Bytes whole = test::pcap_file(test::dlt::kEthernet, frames);
    // Offset of record 4 (frame 4): global header + three records.
    size_t record4 = 24;
    for (int i = 0; i < 3; ++i) {
        record4 += 16 + frames[static_cast<size_t>(i)].data.size();
    }

    struct Cut {
        size_t keep;
        const char* where;
    };

    auto cut =
        GENERATE_COPY(Cut{record4 + 16 + 10, "in the data"}, Cut{record4 + 7, "in the header"});
    CAPTURE(cut.where);
    auto path = dir / "cut.pcap";
    test::write_file(path, Bytes(whole.begin(), whole.begin() + static_cast<long>(cut.keep)));
    auto src = PacketSource::open_file(path);
    REQUIRE(src.has_value());
    auto all = read_all(**src);
    CHECK(all.packets.size() == 3);
    REQUIRE(all.error.has_value());
    CHECK(all.error->code == Errc::Truncated);
    CHECK(all.error->offset == record4);
    std::string msg = all.error->message();
    CAPTURE(msg);
    CHECK(msg.find("frame 4") != std::string::npos);
    CHECK(msg.find("file offset " + std::to_string(record4)) != std::string::npos);
    CHECK(msg.find("cut.pcap") != std::string::npos);
    // The error is sticky: the source does not pretend the file ended cleanly.
    RawPacket p;
    CHECK_FALSE(src->get()->next(p).has_value());
}

TEST_CASE("packet source: a pcapng file cut mid-block", "[pcap]") {
    TempDir dir("cutng");
    test::TcpFlow f;
    auto frames = sample_frames(f);
    Bytes whole = test::pcapng_file(test::dlt::kEthernet, frames);
    auto path = dir / "cut.pcapng";
    test::write_file(path, Bytes(whole.begin(), whole.end() - 30));
    auto src = PacketSource::open_file(path);
    REQUIRE(src.has_value());
    auto all = read_all(**src);
    CHECK(all.packets.size() == frames.size() - 1);
    REQUIRE(all.error.has_value());
    CHECK(all.error->code == Errc::Truncated);
    CHECK(all.error->message().find("frame 6") != std::string::npos);
}

TEST_CASE("packet source: corrupt record length", "[pcap]") {
    TempDir dir("corrupt");
    test::TcpFlow f;
    auto frames = sample_frames(f);
    Bytes whole = test::pcap_file(test::dlt::kEthernet, frames);
    // Frame 2's captured length becomes absurd.
    size_t record2 = 24 + 16 + frames[0].data.size();
    whole[record2 + 8] = 0xff;
    whole[record2 + 9] = 0xff;
    whole[record2 + 10] = 0xff;
    whole[record2 + 11] = 0x7f;
    auto path = dir / "bad.pcap";
    test::write_file(path, whole);
    auto src = PacketSource::open_file(path);
    REQUIRE(src.has_value());
    auto all = read_all(**src);
    CHECK(all.packets.size() == 1);
    REQUIRE(all.error.has_value());
    CHECK(all.error->message().find("frame 2") != std::string::npos);
}

TEST_CASE("packet source: not a capture, empty files, missing files", "[pcap]") {
    TempDir dir("bad");
    SECTION("text file") {
        auto path = dir / "notes.txt";
        test::write_file(path, test::to_bytes("hello, this is not a capture file\n"));
        auto src = PacketSource::open_file(path);
        REQUIRE_FALSE(src.has_value());
        CHECK(src.error().code == Errc::BadMagic);
        CHECK(src.error().what.find(path.string() + " is not a pcap or pcapng file") !=
              std::string::npos);
    }
    SECTION("zero bytes") {
        auto path = dir / "zero.pcap";
        test::write_file(path, Bytes{});
        auto src = PacketSource::open_file(path);
        REQUIRE_FALSE(src.has_value());
        CHECK(src.error().code == Errc::BadMagic);
        CHECK(src.error().what.find("is not a pcap or pcapng file: it is empty") !=
              std::string::npos);
    }
    SECTION("a pcap with no packets") {
        auto path = dir / "empty.pcap";
        test::write_file(path, test::pcap_file(test::dlt::kLinuxSll, {}));
        auto src = PacketSource::open_file(path);
        REQUIRE(src.has_value());
        CHECK((*src)->linktype() == test::dlt::kLinuxSll);
        RawPacket p;
        auto r = (*src)->next(p);
        REQUIRE(r.has_value());
        CHECK_FALSE(*r);
        CHECK((*src)->stats().packets == 0);
    }
    SECTION("a pcapng with no packets") {
        auto path = dir / "empty.pcapng";
        test::write_file(path, test::pcapng_file(test::dlt::kEthernet, {}));
        auto src = PacketSource::open_file(path);
        REQUIRE(src.has_value());
        RawPacket p;
        auto r = (*src)->next(p);
        REQUIRE(r.has_value());
        CHECK_FALSE(*r);
    }
    SECTION("a pcap header cut short") {
        auto path = dir / "short.pcap";
        Bytes header = test::pcap_file(test::dlt::kEthernet, {});
        test::write_file(path, Bytes(header.begin(), header.begin() + 10));
        auto src = PacketSource::open_file(path);
        REQUIRE_FALSE(src.has_value());
        CHECK(src.error().code == Errc::Truncated);
        CHECK(src.error().what.find("short.pcap") != std::string::npos);
    }
    SECTION("missing file") {
        auto path = dir / "nope.pcap";
        auto src = PacketSource::open_file(path);
        REQUIRE_FALSE(src.has_value());
        CHECK(src.error().code == Errc::Io);
        CHECK(src.error().what == "cannot open " + path.string() + ": No such file or directory");
    }
    SECTION("a directory") {
        auto src = PacketSource::open_file(dir.path());
        REQUIRE_FALSE(src.has_value());
        CHECK(src.error().code == Errc::Io);
        CHECK(src.error().what.find("cannot open ") == 0);
    }
}

TEST_CASE("packet source: live capture errors are clear", "[pcap][live]") {
    capture::LiveOptions bad_if;
    bad_if.interface = "spicetap-nonexistent0";
    auto r = PacketSource::open_live(bad_if);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().what.find("cannot open interface spicetap-nonexistent0") == 0);

    if (geteuid() != 0) {
        WARN("not root: skipping the bad-filter check on lo");
        SUCCEED();
        return;
    }
    capture::LiveOptions bad_filter;
    bad_filter.interface = "lo";
    bad_filter.filter = "tcp port banana";
    auto f = PacketSource::open_live(bad_filter);
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().code == Errc::BadValue);
    CHECK(f.error().what.find("bad capture filter 'tcp port banana'") == 0);
}

TEST_CASE("packet source: live capture on loopback, stopped by interrupt()", "[pcap][live]") {
    if (geteuid() != 0) {
        WARN("not root: live capture on lo is not possible, test skipped");
        SUCCEED();
        return;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(listen(listener, 1) == 0);
    uint16_t port = ntohs(addr.sin_port);

    capture::LiveOptions options;
    options.interface = "lo";
    options.filter = "tcp port " + std::to_string(port);
    options.buffer_mib = 4;
    auto opened = PacketSource::open_live(options);
    REQUIRE(opened.has_value());
    PacketSource& src = **opened;

    std::thread peer([&] {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            int a = accept(listener, nullptr, nullptr);
            (void)!write(s, "live bytes", 10);
            char buf[16];
            (void)!read(a, buf, sizeof buf);
            close(a);
        }
        close(s);
    });

    test::StreamRecorder rec;
    capture::TcpReassembler reassembler(rec);
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        // Stop once the data arrived, or after a generous deadline.
        for (int i = 0; i < 100 && !stopped; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        src.interrupt();
    });
    RawPacket p;
    auto start = std::chrono::steady_clock::now();
    while (true) {
        auto r = src.next(p);
        REQUIRE(r.has_value());
        if (!*r) {
            break;
        }
        CHECK(p.linktype == test::dlt::kEthernet);
        reassembler.feed(p);
        if (!rec.connections.empty() && rec.connections.begin()->second.data[0] == "live bytes") {
            stopped = true;
        }
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    stopper.join();
    peer.join();
    close(listener);
    CHECK(stopped);
    CHECK(elapsed < std::chrono::seconds(5));
    CHECK(src.stats().packets >= 4);
    CHECK(src.stats().dropped == 0);
    // After interrupt(), next() keeps returning false.
    auto after = src.next(p);
    REQUIRE(after.has_value());
    CHECK_FALSE(*after);
}

}  // namespace
}  // namespace spicetap
