// Many interleaved connections in a multi-MB capture of Ethernet-sized segments reassemble
// byte-exact. (Speed is measured by scripts/bench, never asserted in tests.)
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

#include "capture/pcap/packet_source.h"
#include "capture/pcap/tcp_reassembly.h"
#include "tests/capture/pcap_builder.h"

namespace spicetap {
namespace {

using namespace test::tcp;

struct Totals : capture::TcpCallbacks {
    uint64_t bytes[2] = {0, 0};
    uint64_t gaps = 0;
    uint64_t closes = 0;
    uint64_t mismatches = 0;
    const std::vector<std::string>* expected = nullptr;

    void on_open(capture::ConnectionId, const capture::Endpoint&, const capture::Endpoint&, int64_t,
                 bool) override {}

    void on_data(capture::ConnectionId id, capture::Side side, int64_t, uint64_t offset,
                 ByteView d) override {
        bytes[static_cast<int>(side)] += d.size();
        if (expected && side == capture::Side::Initiator) {
            const std::string& want = (*expected)[id - 1];
            if (offset + d.size() > want.size() ||
                std::memcmp(want.data() + offset, d.data(), d.size()) != 0) {
                ++mismatches;
            }
        }
    }

    void on_gap(capture::ConnectionId, capture::Side, int64_t, uint64_t, uint64_t) override {
        ++gaps;
    }

    void on_close(capture::ConnectionId, int64_t, capture::CloseReason) override { ++closes; }
};

TEST_CASE("a multi-MB capture of 20 interleaved connections reassembles byte-exact", "[pcap]") {
    constexpr int kConnections = 4;
    constexpr size_t kPerConnection = 5 * 1024 * 1024;
    constexpr size_t kMss = 1448;
    std::mt19937 rng(99);
    std::vector<std::string> sent(kConnections);
    std::vector<test::TcpFlow> flows(kConnections);
    for (int i = 0; i < kConnections; ++i) {
        sent[static_cast<size_t>(i)].resize(kPerConnection);
        for (char& c : sent[static_cast<size_t>(i)]) {
            c = static_cast<char>(rng());
        }
        flows[static_cast<size_t>(i)].client_port = static_cast<uint16_t>(50000 + i);
    }
    std::vector<test::Frame> frames;
    int64_t ts = 1'700'000'000'000'000;
    auto add = [&](test::Bytes b) { frames.push_back({ts++, std::move(b), 0}); };
    for (auto& f : flows) {
        add(f.frame(true, 0, 0, kSyn));
        add(f.frame(false, 0, 1, kSyn | kAck));
        add(f.frame(true, 1, 1, kAck));
    }
    std::vector<size_t> pos(kConnections, 0);
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < flows.size(); ++i) {
            if (pos[i] >= kPerConnection) {
                continue;
            }
            more = true;
            size_t n = std::min(kMss, kPerConnection - pos[i]);
            auto seq = static_cast<uint32_t>(1 + pos[i]);
            add(flows[i].frame(true, seq, 1, kAck, test::to_bytes(sent[i].substr(pos[i], n))));
            pos[i] += n;
            if ((pos[i] / kMss) % 2 == 0) {
                add(flows[i].frame(false, 1, static_cast<uint32_t>(1 + pos[i]), kAck));
            }
        }
    }
    for (auto& f : flows) {
        auto end = static_cast<uint32_t>(1 + kPerConnection);
        add(f.frame(true, end, 1, kAck | kFin));
        add(f.frame(false, 1, end + 1, kAck | kFin));
        add(f.frame(true, end + 1, 2, kAck));
    }
    test::TempDir dir("perf");
    auto path = dir / "big.pcap";
    test::write_file(path, test::pcap_file(test::dlt::kEthernet, frames));
    frames.clear();

    Totals totals;
    totals.expected = &sent;
    {
        auto src = capture::PacketSource::open_file(path);
        REQUIRE(src.has_value());
        capture::TcpReassembler reassembler(totals);
        capture::RawPacket p;
        while (true) {
            auto r = (*src)->next(p);
            REQUIRE(r.has_value());
            if (!*r) {
                break;
            }
            reassembler.feed(p);
        }
        reassembler.finish(p.ts_us);
    }
    CHECK(totals.bytes[0] == kConnections * kPerConnection);
    CHECK(totals.mismatches == 0);
    CHECK(totals.gaps == 0);
    CHECK(totals.closes == kConnections);

}

}  // namespace
}  // namespace spicetap
