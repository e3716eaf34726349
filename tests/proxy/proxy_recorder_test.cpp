// The proxy's recorder on its own, fed a real QEMU session (the committed capture, imported) the
// way the relay hands bytes over, but all at once: a burst. The recorder lets a burst pass
// before recording it, must still commit at least every second while one goes on, and turns
// what its full queue could not take into gaps.
#include "capture/proxy/proxy_recorder.h"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "capture/log/session_log.h"
#include "tests/proxy/proxy_support.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace spicetap;
using namespace spicetap::proxy_test;
using wire::Direction;

namespace {

// A real session as the relay would have read it: connections and chunks in read order.
struct Traffic {
    fs::path log;
    std::vector<log::ConnectionInfo> connections;
    std::vector<log::DataChunk> chunks;
    uint64_t bytes = 0;
};

Traffic real_session(const fs::path& dir) {
    Traffic t;
    t.log = imported_glz_session(dir / "imported");
    auto reader = log::SessionLogReader::open(t.log);
    REQUIRE(reader);
    t.connections = (*reader)->connections();
    REQUIRE((*reader)->for_each_chunk([&](const log::DataChunk& c) {
        t.bytes += c.data.size();
        t.chunks.push_back(c);
        return true;
    }));
    REQUIRE(t.bytes > 100000);
    return t;
}

// The same traffic in reads of at most `size` bytes (a relay's reads come in any size).
Traffic in_pieces(const Traffic& t, size_t size) {
    Traffic out = t;
    out.chunks.clear();
    for (const auto& c : t.chunks) {
        for (size_t at = 0; at < c.data.size(); at += size) {
            log::DataChunk piece = c;
            const size_t n = std::min(size, c.data.size() - at);
            piece.offset = c.offset + at;
            piece.data.assign(c.data.begin() + static_cast<ptrdiff_t>(at),
                              c.data.begin() + static_cast<ptrdiff_t>(at + n));
            out.chunks.push_back(std::move(piece));
        }
    }
    return out;
}

struct Fed {
    uint64_t refused = 0;  // bytes data() did not take (queue full)
    std::map<std::pair<int64_t, int>, uint64_t> refused_per_stream;
};

// Hands `t` to the recorder as the relay does; `between(i)` runs before chunk i.
Fed feed(proxy::ProxyRecorder& rec, const Traffic& t,
         const std::function<void(size_t)>& between = {}) {
    Fed fed;
    std::map<int64_t, const log::ConnectionInfo*> by_id;
    for (const auto& c : t.connections) {
        by_id[c.id] = &c;
    }
    std::map<int64_t, std::array<uint64_t, 2>> ends;
    for (size_t i = 0; i < t.chunks.size(); ++i) {
        if (between) {
            between(i);
        }
        const log::DataChunk& ch = t.chunks[i];
        const log::ConnectionInfo& c = *by_id.at(ch.connection);
        const auto id = static_cast<capture::ConnectionId>(c.id);
        if (!ends.count(c.id)) {
            ends[c.id] = {0, 0};
            rec.open(id, {c.client_addr, c.client_port}, {c.server_addr, c.server_port}, c.start_us,
                     false);
        }
        if (!rec.data(id, ch.dir, ch.ts_us, ch.offset, ch.data.data(), ch.data.size())) {
            fed.refused += ch.data.size();
            fed.refused_per_stream[{c.id, static_cast<int>(ch.dir)}] += ch.data.size();
        }
        ends[c.id][static_cast<size_t>(ch.dir)] = ch.offset + ch.data.size();
    }
    for (const auto& [id, end] : ends) {
        rec.close(static_cast<capture::ConnectionId>(id), by_id.at(id)->end_us,
                  capture::CloseReason::Fin, end.data());
    }
    return fed;
}

proxy::RecorderOptions options_for(const fs::path& out, std::vector<fs::path>* finished) {
    fs::create_directories(out);
    proxy::RecorderOptions o;
    o.directory = out;
    o.tool_version = "test";
    o.source = "test";
    o.on_session = [finished](const capture::FinishedSession& s) { finished->push_back(s.path); };
    return o;
}

}  // namespace

TEST_CASE("proxy recorder: a burst of a real session is recorded whole, as import records it",
          "[proxy]") {
    test::TempDir tmp;
    const Traffic t = real_session(tmp.path());
    std::vector<fs::path> finished;
    proxy::ProxyRecorder rec(options_for(tmp.path() / "proxy", &finished));
    // The whole session in well under a millisecond: far above the burst rate.
    const Fed fed = feed(rec, t);
    rec.stop();
    CHECK(fed.refused == 0);
    const proxy::RecorderStats stats = rec.stats();
    CHECK(stats.dropped_bytes == 0);
    CHECK(stats.recorded_bytes == t.bytes);
    CHECK(stats.queued_bytes == 0);
    REQUIRE(finished.size() == 1);
    require_same_content(read_log(finished[0]), read_log(t.log), false);
}

TEST_CASE("proxy recorder: what a full queue cannot take becomes gaps, and decoding goes on",
          "[proxy]") {
    test::TempDir tmp;
    const Traffic t = real_session(tmp.path());
    std::vector<fs::path> finished;
    auto o = options_for(tmp.path() / "proxy", &finished);
    o.max_queued_bytes = 64u << 10;
    proxy::ProxyRecorder rec(o);
    const Fed fed = feed(rec, t);
    rec.stop();
    // The session is several times the queue and came at once: most of it could not be queued.
    REQUIRE(fed.refused > 0);
    REQUIRE(fed.refused < t.bytes);
    const proxy::RecorderStats stats = rec.stats();
    CHECK(stats.dropped_bytes == fed.refused);
    CHECK(stats.recorded_bytes == t.bytes - fed.refused);
    REQUIRE(finished.size() == 1);

    auto reader = log::SessionLogReader::open(finished[0]);
    REQUIRE(reader);
    auto gaps = (*reader)->gaps();
    REQUIRE(gaps);
    // Per stream: recorded chunks and gaps tile [0, end) with no overlap, and the gaps add up to
    // exactly what was refused.
    std::map<std::pair<int64_t, int>, uint64_t> gap_bytes;
    for (const auto& c : (*reader)->connections()) {
        for (auto d : {Direction::ClientToServer, Direction::ServerToClient}) {
            std::map<uint64_t, uint64_t> pieces;  // offset -> length
            REQUIRE((*reader)->for_each_chunk(c.id, d, [&](const log::DataChunk& ch) {
                pieces[ch.offset] = ch.data.size();
                return true;
            }));
            for (const auto& g : *gaps) {
                if (g.connection == c.id && g.dir == d) {
                    pieces[g.offset] += g.length;
                    gap_bytes[{c.client_port, static_cast<int>(d)}] += g.length;
                }
            }
            uint64_t at = 0;
            for (const auto& [offset, length] : pieces) {
                INFO("connection " << c.id << " dir " << static_cast<int>(d));
                CHECK(offset == at);
                at = offset + length;
            }
            CHECK(at == (d == Direction::ClientToServer ? c.bytes_c2s : c.bytes_s2c) +
                            gap_bytes[{c.client_port, static_cast<int>(d)}]);
        }
    }
    std::map<std::pair<int64_t, int>, uint64_t> refused_by_port;
    for (const auto& c : t.connections) {
        for (int d : {0, 1}) {
            auto it = fed.refused_per_stream.find({c.id, d});
            if (it != fed.refused_per_stream.end()) {
                refused_by_port[{c.client_port, d}] = it->second;
            }
        }
    }
    std::erase_if(gap_bytes, [](const auto& kv) { return kv.second == 0; });
    CHECK(gap_bytes == refused_by_port);
    // After each gap the framer found its way back to message boundaries.
    auto messages = (*reader)->message_count();
    REQUIRE(messages);
    CHECK(*messages > 0);
}

TEST_CASE("proxy recorder: a burst that goes on is committed at least every second", "[proxy]") {
    test::TempDir tmp;
    const Traffic whole = real_session(tmp.path());
    // Reads of ~70 bytes every 2 ms, ~35 KB/s: a burst at the rate below, which the recorder
    // would let pass to its end if commits did not stop the wait.
    const Traffic t = in_pieces(whole, whole.bytes / 4000 + 1);
    std::vector<fs::path> finished;
    auto o = options_for(tmp.path() / "proxy", &finished);
    o.burst_bytes_per_second = 4096;
    proxy::ProxyRecorder rec(o);
    const auto spread = std::chrono::milliseconds(8000);
    const auto start = std::chrono::steady_clock::now();
    // Looked for on a thread of its own: the reads keep coming every 2 ms meanwhile.
    std::atomic<bool> fed{false};
    std::optional<double> committed_after;
    std::thread watcher([&] {
        while (!fed && !committed_after) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(tmp.path() / "proxy", ec)) {
                if (e.path().extension() != ".spicelog") {
                    continue;
                }
                auto reader = log::SessionLogReader::open(e.path());
                uint64_t chunks = 0;
                if (reader) {
                    (void)(*reader)->for_each_chunk([&](const log::DataChunk&) {
                        ++chunks;
                        return false;
                    });
                }
                if (chunks > 0 && !fed) {
                    committed_after =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                            .count();
                }
            }
        }
    });
    feed(rec, t,
         [&](size_t i) { std::this_thread::sleep_until(start + spread * i / t.chunks.size()); });
    fed = true;
    watcher.join();
    rec.stop();
    INFO("session fed over 8 s; first chunk visible in the log after "
         << (committed_after ? *committed_after : -1) << " s");
    REQUIRE(committed_after);
    // A commit every second, plus the time a loaded test machine takes to record what came.
    CHECK(*committed_after < 4.0);
    REQUIRE(finished.size() == 1);
    require_same_content(read_log(finished[0]), read_log(whole.log), false);
}
