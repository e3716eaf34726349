// seek(t) through checkpoints must leave exactly the state a sequential replay has at t: the
// screens of every display (pixels and possibly-wrong region), the cursor, the statistics and
// the issues. Checked on real QEMU and test-peer sessions, including inter-coded video streams
// (whose decoders are rebuilt by refeeding their frames), with checkpoints every 100 ms and a
// memory budget small enough that most of them live in the temporary file.
#include <fmt/core.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "replay/cursor_state.h"
#include "replay/display_state.h"
#include "replay/session_replay.h"
#include "tests/replay/replay_session.h"

namespace spicetap {
namespace {

namespace fs = std::filesystem;

uint64_t fnv(uint64_t h, const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

uint64_t surface_hash(const canvas::Surface& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t y = 0; y < s.height(); ++y) {
        h = fnv(h, s.row(y), s.bytes_per_row());
    }
    return h;
}

// Everything a user of the replay can observe, in a comparable form.
std::vector<uint64_t> observe(const replay::SessionReplay& r) {
    std::vector<uint64_t> v;
    for (int id : r.displays()) {
        v.push_back(uint64_t(id));
        if (const canvas::Surface* p = r.primary(id)) {
            v.push_back(p->width());
            v.push_back(p->height());
            v.push_back(surface_hash(*p));
            const replay::PixelRegion u = r.primary_unsure(id);
            v.push_back(u.area());
            v.push_back(u.rects().size());
        } else {
            v.push_back(0);
        }
        if (auto c = r.cursor(id)) {
            v.push_back(c->visible);
            v.push_back(uint64_t(int64_t(c->position.x)));
            v.push_back(uint64_t(int64_t(c->position.y)));
            v.push_back(c->exact);
            v.push_back(surface_hash(*c->image));
        }
    }
    const replay::ReplayStats& s = r.stats();
    for (uint64_t x : {s.messages, s.applied, s.failed, s.draws, s.screen_updates, s.stream_frames,
                       s.marks, s.cursor_messages, s.cursor_failed, s.capture_gaps,
                       uint64_t(s.exact_us), uint64_t(s.walked_us)}) {
        v.push_back(x);
    }
    v.push_back(r.issues().size());
    uint64_t h = 0xcbf29ce484222325ull;
    for (const replay::ReplayIssue& i : r.issues()) {
        h = fnv(h, i.text.data(), i.text.size());
    }
    v.push_back(h);
    return v;
}

void check_seeks(const fs::path& pcap, int n_times) {
    replay::ReplayOptions with_cp;
    with_cp.checkpoint_interval_us = 100'000;
    with_cp.checkpoint_memory = 256 * 1024;
    replay::ReplayOptions without_cp;
    without_cp.checkpoints = false;
    auto seq = test::open_replay(pcap, without_cp);
    auto seek = test::open_replay(pcap, with_cp);

    const int64_t t0 = seq->replay->start_us();
    const int64_t t1 = seq->replay->end_us();
    std::mt19937_64 rng(0x5eed);
    std::vector<int64_t> times = {t0, t1};
    for (int i = 0; i < n_times; ++i) {
        times.push_back(t0 + int64_t(rng() % uint64_t(t1 - t0 + 1)));
    }
    std::sort(times.begin(), times.end());
    std::vector<std::vector<uint64_t>> truth;
    for (int64_t t : times) {
        REQUIRE(seq->replay->run_until(t));
        truth.push_back(observe(*seq->replay));
    }
    size_t changes = 0;
    for (size_t i = 1; i < truth.size(); ++i) {
        changes += truth[i] != truth[i - 1];
    }
    CHECK(changes >= 1);  // the times are not all the same screen

    // Two rounds in random order: the first builds checkpoints as it goes, the second finds them
    // all in place (going back and forth across them).
    for (int round = 0; round < 2; ++round) {
        std::vector<size_t> order(times.size());
        for (size_t i = 0; i < order.size(); ++i) {
            order[i] = i;
        }
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t k : order) {
            INFO("round " << round << ", seek to " << double(times[k] - t0) / 1e6 << " s");
            REQUIRE(seek->replay->seek(times[k]));
            CHECK(seek->replay->now_us() == times[k]);
            CHECK(observe(*seek->replay) == truth[k]);
        }
    }
    const replay::CheckpointStats cp = seek->replay->checkpoint_stats();
    INFO(cp.count << " checkpoints, " << cp.restores << " restores, " << cp.spilled_bytes
                  << " bytes spilled");
    // How many checkpoints a short peer session gets depends on how its traffic spreads over
    // time (one on an idle machine, more on a loaded one); seeks must have restored from them.
    CHECK(cp.count >= 1);
    CHECK(cp.restores >= 2);
    if (cp.memory_bytes + cp.spilled_bytes > with_cp.checkpoint_memory) {
        CHECK(cp.spilled_bytes > 0);
        CHECK(cp.memory_bytes <= with_cp.checkpoint_memory + cp.raw_bytes / cp.count);
    }
}

}  // namespace

TEST_CASE("seek: agrees with a sequential replay on QEMU sessions", "[replay][seek][qemu]") {
    for (const char* name :
         {"glz", "lz", "jpeg", "stream", "keys", "quic", "off", "zlib_glz", "auto_glz"}) {
        const fs::path pcap = test::fixture_dir() / (std::string("qemu-") + name) / "capture.pcap";
        if (!fs::exists(pcap)) {
            continue;
        }
        DYNAMIC_SECTION(name) {
            check_seeks(pcap, 14);
        }
    }
}

TEST_CASE("seek: agrees with a sequential replay on the test peers' sessions",
          "[replay][seek][peers]") {
    bool any = false;
    for (const char* name :
         {"cursor", "stream-h264", "stream-vp8", "stream-vp9", "stream-mjpeg", "lossless-glz",
          "lossless-zlib-glz", "lossy-jpeg", "everything", "multi-monitor", "resize"}) {
        const fs::path pcap = test::fixture_dir() / name / "capture.pcap";
        if (!fs::exists(pcap)) {
            continue;
        }
        any = true;
        DYNAMIC_SECTION(name) {
            check_seeks(pcap, 14);
        }
    }
    if (!any) {
        WARN("no test-peer recordings in " << test::fixture_dir() << ": skipped");
    }
}

TEST_CASE("seek: the middle of an inter-coded stream after a checkpoint", "[replay][seek][peers]") {
    // Every frame of the stream, one by one, from a checkpoint-restored replay: a decoder that
    // was not rebuilt exactly would show in the pixels of the following frames.
    for (const char* name : {"stream-h264", "stream-vp8", "stream-vp9"}) {
        const fs::path pcap = test::fixture_dir() / name / "capture.pcap";
        if (!fs::exists(pcap)) {
            continue;
        }
        DYNAMIC_SECTION(name) {
            replay::ReplayOptions opt;
            opt.checkpoint_interval_us = 50'000;
            auto a = test::open_replay(pcap, opt);
            REQUIRE(a->replay->run_to_end());
            replay::ReplayOptions none;
            none.checkpoints = false;
            auto b = test::open_replay(pcap, none);
            uint64_t frames_seen = 0;
            // Walk b event by event; at every stream frame, seek a (from a checkpoint) to the
            // same time and compare.
            while (true) {
                const uint64_t before = b->replay->stats().stream_frames;
                auto more = b->replay->step();
                REQUIRE(more);
                if (!*more) {
                    break;
                }
                if (b->replay->stats().stream_frames == before || ++frames_seen % 5 != 0) {
                    continue;
                }
                REQUIRE(b->replay->run_until(b->replay->now_us()));
                REQUIRE(a->replay->seek(b->replay->now_us()));
                INFO("frame " << frames_seen);
                CHECK(observe(*a->replay) == observe(*b->replay));
            }
            CHECK(frames_seen >= 20);
            CHECK(a->replay->checkpoint_stats().restores >= 4);
        }
    }
}

}  // namespace spicetap
