// The timeline and the bandwidth report on real sessions (QEMU and the test peers), checked
// against what tshark sees in the same captures and against `dump`.
#include <fmt/core.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "capture/import/log_source.h"
#include "export/dump/message_dump.h"
#include "export/report/session_report.h"
#include "export/timeline/timeline.h"
#include "tests/support/captures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
namespace fs = std::filesystem;

namespace {

struct OpenLog {
    capture::LogSource source;
    std::unique_ptr<log::SessionLogReader> reader;
};

// The capture's only SPICE session, or null when it holds none or several.
std::unique_ptr<OpenLog> open_capture(const fs::path& pcap) {
    auto source = capture::LogSource::open(pcap, "test");
    if (!source || source->logs().size() != 1) {
        return nullptr;
    }
    auto reader = log::SessionLogReader::open(source->logs().front());
    if (!reader) {
        return nullptr;
    }
    auto out = std::make_unique<OpenLog>();
    out->source = std::move(*source);
    out->reader = std::move(*reader);
    return out;
}

int64_t epoch_us(const std::string& text) {
    const size_t dot = text.find('.');
    const int64_t secs = std::stoll(text.substr(0, dot));
    std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
    frac.resize(6, '0');
    return secs * 1'000'000 + std::stoll(frac);
}

struct Frame {
    uint16_t src = 0, dst = 0;
    uint64_t len = 0;
    uint64_t seq = 0;  // relative: the first payload byte after the SYN is 1
    int64_t ts_us = 0;
};

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    size_t at = 0;
    for (;;) {
        const size_t tab = line.find('\t', at);
        out.push_back(line.substr(at, tab == std::string::npos ? std::string::npos : tab - at));
        if (tab == std::string::npos) {
            return out;
        }
        at = tab + 1;
    }
}

// Every TCP segment with payload, as tshark reads the capture.
std::vector<Frame> tshark_frames(const fs::path& pcap) {
    const auto r = test::run_command(
        "tshark -r " + test::shell_quote(pcap.string()) +
        " -Y 'tcp.len > 0' -T fields -e tcp.srcport -e tcp.dstport -e tcp.len -e tcp.seq"
        " -e frame.time_epoch 2>/dev/null");
    std::vector<Frame> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        const auto f = split_tabs(line);
        if (f.size() < 5 || f[0].empty()) {
            continue;
        }
        Frame fr;
        fr.src = uint16_t(std::stoul(f[0]));
        fr.dst = uint16_t(std::stoul(f[1]));
        fr.len = std::stoull(f[2]);
        fr.seq = std::stoull(f[3]);
        fr.ts_us = epoch_us(f[4]);
        out.push_back(fr);
    }
    return out;
}

std::vector<fs::path> captures_with_one_session() {
    std::vector<fs::path> out;
    for (const auto& p : test::all_real_captures()) {
        out.push_back(p);
    }
    return out;
}

}  // namespace

TEST_CASE(
    "report: bytes per connection and direction equal the TCP payload tshark sees "
    "(retransmissions once)",
    "[report][real]") {
    REQUIRE(test::have_program("tshark"));
    const auto captures = captures_with_one_session();
    REQUIRE(!captures.empty());
    size_t checked = 0;
    for (const auto& pcap : captures) {
        auto log = open_capture(pcap);
        if (!log) {
            continue;
        }
        INFO(pcap.string());
        auto report = report::build_report(*log->reader, pcap.string());
        REQUIRE(report);
        // Per direction: the stream bytes the segments carry, each byte once however often it
        // was sent, and the stream's extent from the highest relative sequence number reached.
        // Not tshark's retransmission flags: it flags any segment that starts below the highest
        // sequence number seen, also one that carries new bytes after the resent ones (Linux
        // resends what a full loopback receiver dropped, and may send more with it).
        using Flow = std::pair<uint16_t, uint16_t>;
        std::map<Flow, std::vector<std::pair<uint64_t, uint64_t>>> ranges;
        std::map<Flow, uint64_t> payload, extent;
        for (const Frame& f : tshark_frames(pcap)) {
            ranges[{f.src, f.dst}].emplace_back(f.seq, f.seq + f.len);
            auto& e = extent[{f.src, f.dst}];
            e = std::max(e, f.seq + f.len - 1);
        }
        for (auto& [flow, list] : ranges) {
            std::sort(list.begin(), list.end());
            uint64_t covered_to = 0;
            for (const auto& [begin, end] : list) {
                const uint64_t from = std::max(begin, covered_to);
                if (end > from) {
                    payload[flow] += end - from;
                    covered_to = end;
                }
            }
        }
        uint64_t total = 0;
        for (const auto& c : report->scan.connections) {
            INFO(c.channel << " connection " << c.info.id);
            const std::pair<uint16_t, uint16_t> c2s{c.info.client_port, c.info.server_port};
            const std::pair<uint16_t, uint16_t> s2c{c.info.server_port, c.info.client_port};
            CHECK(c.c2s().tcp_bytes == payload[c2s]);
            CHECK(c.s2c().tcp_bytes == payload[s2c]);
            CHECK(c.c2s().tcp_bytes + c.c2s().gap_bytes == extent[c2s]);
            CHECK(c.s2c().tcp_bytes + c.s2c().gap_bytes == extent[s2c]);
            // The log's own count agrees, and messages plus the link stage make up the rest.
            CHECK(c.c2s().tcp_bytes == c.info.bytes_c2s);
            CHECK(c.s2c().tcp_bytes == c.info.bytes_s2c);
            CHECK(c.c2s().message_bytes <= c.c2s().tcp_bytes);
            CHECK(c.s2c().message_bytes <= c.s2c().tcp_bytes);
            uint64_t per_second = 0;
            for (uint64_t b : c.s2c().bytes_per_second) {
                per_second += b;
            }
            CHECK(per_second == c.s2c().tcp_bytes);
            total += c.c2s().tcp_bytes + c.s2c().tcp_bytes;
        }
        CHECK(total == report->total_bytes);
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("timeline: one entry per message, in the order and number dump gives",
          "[timeline][real]") {
    size_t checked = 0;
    for (const auto& pcap : captures_with_one_session()) {
        auto log = open_capture(pcap);
        if (!log) {
            continue;
        }
        INFO(pcap.string());
        auto t = timeline::build_timeline(*log->reader, {}, timeline::Format::JsonLines);
        REQUIRE(t);
        dump::DumpOptions options;
        std::vector<std::string> dumped;
        auto stats = dump::dump_messages(*log->reader, options,
                                         [&](std::string_view line) { dumped.emplace_back(line); });
        REQUIRE(stats);
        CHECK(t->messages.size() == stats->messages);
        REQUIRE(t->messages.size() == dumped.size());
        // Same order: the names in dump's lines, message by message.
        for (size_t i = 0; i < dumped.size(); ++i) {
            if (dumped[i].find(" " + t->messages[i].name + " (") == std::string::npos) {
                FAIL("message " << i << ": timeline has " << t->messages[i].name
                                << ", dump has: " << dumped[i]);
            }
        }
        // JSON Lines: one "message" line per message.
        const std::string jsonl = timeline::write_jsonl(*t);
        size_t lines = 0, message_lines = 0;
        std::istringstream in(jsonl);
        std::string line;
        while (std::getline(in, line)) {
            ++lines;
            message_lines += line.rfind("{\"kind\":\"message\"", 0) == 0;
        }
        CHECK(message_lines == t->messages.size());
        CHECK(lines == t->messages.size() + t->events.size());
        // Every connection's opening and closing is an event.
        size_t opens = 0, closes = 0;
        for (const auto& e : t->events) {
            opens += e.kind == "connection_open";
            closes += e.kind == "connection_close";
        }
        CHECK(opens == log->reader->connections().size());
        CHECK(closes == log->reader->connections().size());
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("timeline: ping round trips are the capture times of the PING and PONG segments",
          "[timeline][real]") {
    REQUIRE(test::have_program("tshark"));
    size_t pings = 0;
    for (const auto& pcap : captures_with_one_session()) {
        auto log = open_capture(pcap);
        if (!log) {
            continue;
        }
        INFO(pcap.string());
        auto scan = timeline::scan_session(*log->reader, {});
        REQUIRE(scan);
        if (scan->pings.empty()) {
            continue;
        }
        const auto frames = tshark_frames(pcap);
        for (const auto& p : scan->pings) {
            const auto* c = scan->connection(p.connection);
            REQUIRE(c);
            INFO(c->channel << " ping " << p.id);
            bool ping_seen = false, pong_seen = false;
            for (const Frame& f : frames) {
                ping_seen |= f.src == c->info.server_port && f.dst == c->info.client_port &&
                             f.ts_us == p.ping_us;
                pong_seen |= f.src == c->info.client_port && f.dst == c->info.server_port &&
                             f.ts_us == p.pong_us;
            }
            CHECK(ping_seen);
            CHECK(pong_seen);
            CHECK(p.pong_us >= p.ping_us);
            ++pings;
        }
        // The report's figures are these round trips.
        auto report = report::build_report(*log->reader, pcap.string());
        REQUIRE(report);
        CHECK(report->rtt.count == scan->pings.size());
        CHECK(report->rtt.min_ms <= report->rtt.median_ms);
        CHECK(report->rtt.median_ms <= report->rtt.max_ms);
    }
    CHECK(pings > 0);
}

TEST_CASE("timeline: the Perfetto JSON is valid trace-event format", "[timeline][real]") {
    REQUIRE(test::have_program("python3"));
    test::TempDir dir;
    size_t checked = 0;
    for (const auto& pcap : captures_with_one_session()) {
        auto log = open_capture(pcap);
        if (!log) {
            continue;
        }
        INFO(pcap.string());
        const fs::path out =
            dir / (pcap.parent_path().filename().string() + "-" + pcap.stem().string() + ".json");
        auto stats = timeline::write_timeline(*log->reader, {}, pcap.string(), out.string());
        REQUIRE(stats);
        // Every event carries ph/ts/pid/tid/name; X events a duration; counters numeric args;
        // one instant per message.
        const char* check = R"PY(
import json, sys
doc = json.load(open(sys.argv[1]))
events = doc["traceEvents"]
assert isinstance(events, list) and events
messages = 0
for e in events:
    for k in ("ph", "ts", "pid", "tid", "name"):
        assert k in e, (k, e)
    assert e["ph"] in ("M", "i", "X", "C"), e
    assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
    if e["ph"] == "X":
        assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
    if e["ph"] == "C":
        assert all(isinstance(v, (int, float)) for v in e["args"].values()), e
    if e["ph"] == "i" and e.get("cat") in ("c2s", "s2c"):
        messages += 1
print("ok", messages)
)PY";
        const auto r = test::run_command(
            "python3 -c " + test::shell_quote(check) + " " + test::shell_quote(out.string()), true);
        INFO(r.out);
        CHECK(r.exit_code == 0);
        CHECK(r.out == fmt::format("ok {}\n", stats->messages));
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("report: JSON and CSV carry the same totals as the report", "[report][real]") {
    REQUIRE(test::have_program("python3"));
    test::TempDir dir;
    const auto captures = captures_with_one_session();
    REQUIRE(!captures.empty());
    auto log = open_capture(captures.front());
    REQUIRE(log);
    const fs::path json = dir / "r.json", csv = dir / "r.csv";
    auto r = report::write_report(*log->reader, "x", json.string());
    REQUIRE(r);
    REQUIRE(report::write_report(*log->reader, "x", csv.string()));
    const char* check = R"PY(
import json, sys, csv
doc = json.load(open(sys.argv[1]))
total = sum(c[d]["bytes"] for c in doc["connections"] for d in ("c2s", "s2c"))
assert total == doc["bytes"], (total, doc["bytes"])
assert abs(sum(c["share"] for c in doc["channels"]) - 1) < 1e-9
rows = list(csv.DictReader(open(sys.argv[2])))
conn = sum(int(r["bytes"]) for r in rows if r["section"] == "connection")
assert conn == total, (conn, total)
assert len([r for r in rows if r["section"] == "largest"]) == len(doc["largest"])
print("ok", total)
)PY";
    const auto out = test::run_command("python3 -c " + test::shell_quote(check) + " " +
                                           test::shell_quote(json.string()) + " " +
                                           test::shell_quote(csv.string()),
                                       true);
    INFO(out.out);
    CHECK(out.out == fmt::format("ok {}\n", r->total_bytes));
    CHECK(!r->summary.empty());
    CHECK(r->scan.largest.size() <= 20);
    for (size_t i = 1; i < r->scan.largest.size(); ++i) {
        CHECK(r->scan.largest[i - 1].bytes >= r->scan.largest[i].bytes);
    }
}

TEST_CASE("report: images by codec on the peers' lossless sessions name the codec used",
          "[report][real]") {
    // Scenario -> the image type the server was set to use (tests/peers/README.md).
    const std::map<std::string, std::string> expect = {
        {"lossless-lz", "lz_rgb"},  {"lossless-glz", "glz_rgb"},
        {"lossless-quic", "quic"},  {"lossless-lz4", "lz4"},
        {"lossless-off", "bitmap"}, {"lossless-zlib-glz", "zlib_glz_rgb"},
        {"qemu-glz", "glz_rgb"},    {"qemu-lz", "lz_rgb"},
        {"qemu-quic", "quic"}};
    size_t checked = 0;
    for (const auto& pcap : test::recorded_captures()) {
        const auto it = expect.find(pcap.parent_path().filename().string());
        if (it == expect.end()) {
            continue;
        }
        auto log = open_capture(pcap);
        REQUIRE(log);
        INFO(pcap.string());
        auto scan = timeline::scan_session(*log->reader, {});
        REQUIRE(scan);
        const auto im = scan->images.find(it->second);
        REQUIRE(im != scan->images.end());
        CHECK(im->second.images > 0);
        CHECK(im->second.bytes > 0);
        CHECK(im->second.decoded_bytes > 0);
        if (it->second != "bitmap") {
            CHECK(im->second.decoded_bytes > im->second.bytes);  // it compressed
        }
        ++checked;
    }
    if (checked == 0) {
        WARN("no recordings in the fixture directory; run the spice_recordings fixture");
    }
}

TEST_CASE("timeline: streams, surfaces, audio and agent events on the peers' sessions",
          "[timeline][real]") {
    struct Expect {
        const char* scenario;
        const char* kind;
        const char* text;
    };

    const std::vector<Expect> expects = {{"stream-mjpeg", "stream_start", "mjpeg"},
                                         {"stream-mjpeg", "stream_stop", "mjpeg"},
                                         {"stream-vp8", "stream_start", "vp8"},
                                         {"resize", "resolution", "640x480 -> 800x600"},
                                         {"resize", "surface_destroy", "surface 0"},
                                         {"audio-opus", "audio_start", "playback"},
                                         {"agent", "agent", "clipboard_grab"},
                                         {"agent", "agent", "file_xfer_start"},
                                         {"multi-monitor", "monitors_config", "head"},
                                         {"qemu-glz", "surface_create", "(primary)"},
                                         {"qemu-keys", "connection_close", "inputs"}};
    size_t checked = 0;
    for (const auto& e : expects) {
        const fs::path pcap = test::fixture_dir() / e.scenario / "capture.pcap";
        if (!fs::exists(pcap)) {
            continue;
        }
        auto log = open_capture(pcap);
        REQUIRE(log);
        auto scan = timeline::scan_session(*log->reader, {});
        REQUIRE(scan);
        bool found = false;
        for (const auto& ev : scan->events) {
            found |= ev.kind == e.kind && ev.text.find(e.text) != std::string::npos;
        }
        INFO(e.scenario << ": " << e.kind << " with \"" << e.text << "\"");
        CHECK(found);
        if (std::string(e.scenario) == "stream-mjpeg") {
            REQUIRE(!scan->streams.empty());
            const auto& s = scan->streams.front();
            CHECK(s.codec == "mjpeg");
            CHECK(s.frames > 10);
            const auto f = report::stream_figures(s);
            CHECK(f.fps > 1);
            CHECK(f.mbit_per_s > 0);
        }
        if (std::string(e.scenario) == "audio-opus") {
            REQUIRE(!scan->audio.empty());
            bool opus = false;
            for (const auto& a : scan->audio) {
                opus |= a.channel == "playback" && a.mode == "opus" && a.packets > 0;
            }
            CHECK(opus);
        }
        ++checked;
    }
    if (checked == 0) {
        WARN("no peer recordings in the fixture directory; run the spice_recordings fixture");
    }
}

TEST_CASE("ACK windows: the model never sees more unacknowledged messages than spice-server allows",
          "[timeline][real]") {
    // spice-server sends while its count is at most 2 x window, so the count peaks at
    // 2 x window + 1; a model that miscounted (or a wrong reading of SET_ACK/ACK_SYNC/ACK)
    // would drift past it over a session.
    size_t windows = 0;
    for (const auto& pcap : captures_with_one_session()) {
        auto log = open_capture(pcap);
        if (!log) {
            continue;
        }
        INFO(pcap.string());
        auto scan = timeline::scan_session(*log->reader, {});
        REQUIRE(scan);
        for (const auto& w : scan->ack_windows) {
            const auto* c = scan->connection(w.connection);
            INFO((c ? c->channel : std::string("?"))
                 << " window " << w.window << " peak " << w.peak_unacked << " acks " << w.acks);
            CHECK(w.window > 0);
            CHECK(w.peak_unacked >= 1);
            CHECK(w.peak_unacked <= 2 * int64_t{w.window} + 1);
            ++windows;
        }
    }
    CHECK(windows > 0);
}
