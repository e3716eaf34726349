// Headless replay at session scale (scripts/bench replay).
//   bench_replay build OUT.spicelog MINUTES SOURCE.pcap...
//       An hour-scale session from real recordings: the sources' SPICE sessions (real traffic
//       between the test peers) laid end to end, again and again, until MINUTES of session time
//       are filled. Every byte, gap and message is copied as recorded; only capture times move.
//   bench_replay seek LOG SEEKS
//       Replays LOG once (checkpoints are taken on the way), then seeks to SEEKS random times
//       and writes each screen as PNG: prints the replay speed and the seek latencies.
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "replay/canvas/surface.h"
#include "replay/session_replay.h"

using namespace spicetap;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int fail(const std::string& what) {
    fmt::print(stderr, "bench_replay: {}\n", what);
    return 1;
}

// Appends every connection of `src` to `out`, times shifted by `shift_us`.
Result<void> append_session(const log::SessionLogReader& src, log::SessionLogWriter& out,
                            int64_t shift_us) {
    for (const log::ConnectionInfo& c : src.connections()) {
        log::ConnectionInfo copy = c;
        copy.start_us += shift_us;
        copy.end_us += shift_us;
        auto id = out.add_connection(copy);
        if (!id) {
            return id.error();
        }
        for (auto dir : {wire::Direction::ClientToServer, wire::Direction::ServerToClient}) {
            Result<void> inner;
            auto ok = src.for_each_chunk(c.id, dir, [&](const log::DataChunk& ch) {
                inner = out.append_data(*id, dir, ch.ts_us + shift_us, ch.offset, ch.data);
                return bool(inner);
            });
            if (!ok) {
                return ok;
            }
            if (!inner) {
                return inner;
            }
        }
        log::SessionLogReader::MessageFilter f;
        f.connection = c.id;
        Result<void> inner;
        auto ok = src.for_each_message(f, [&](const log::MessageRecord& m) {
            log::MessageRecord copy_m = m;
            copy_m.connection = *id;
            copy_m.ts_us += shift_us;
            inner = out.append_message(copy_m);
            return bool(inner);
        });
        if (!ok) {
            return ok;
        }
        if (!inner) {
            return inner;
        }
        auto gaps = src.gaps();
        if (!gaps) {
            return gaps.error();
        }
        for (log::GapRecord g : *gaps) {
            if (g.connection == c.id) {
                g.connection = *id;
                g.ts_us += shift_us;
                if (auto a = out.append_gap(g); !a) {
                    return a;
                }
            }
        }
    }
    return {};
}

int build(const fs::path& out_path, double minutes, const std::vector<fs::path>& sources) {
    const fs::path tmp = out_path.parent_path() / (out_path.stem().string() + "-sources");
    fs::create_directories(tmp);
    std::vector<std::unique_ptr<log::SessionLogReader>> readers;
    for (size_t i = 0; i < sources.size(); ++i) {
        const fs::path log_path = tmp / fmt::format("src-{}.spicelog", i);
        if (!fs::exists(log_path)) {
            capture::ImportOptions opt;
            opt.output = log_path;
            opt.tool_version = "bench";
            auto imported = capture::import_capture(sources[i], opt);
            if (!imported) {
                return fail(fmt::format("{}: {}", sources[i].string(), imported.error().message()));
            }
        }
        auto r = log::SessionLogReader::open(log_path);
        if (!r) {
            return fail(r.error().message());
        }
        readers.push_back(std::move(*r));
    }
    fs::remove(out_path);
    log::SessionInfo info = readers.front()->session();
    info.source_kind = "pcap";
    info.source = "bench_replay: real test-peer sessions laid end to end";
    log::SessionLogWriter::Options wopt;
    wopt.crash_safe = false;
    auto writer = log::SessionLogWriter::create(out_path, info, wopt);
    if (!writer) {
        return fail(writer.error().message());
    }
    const int64_t start = info.start_us;
    const int64_t want = int64_t(minutes * 60e6);
    int64_t at = start;
    size_t copies = 0;
    for (size_t k = 0; at - start < want; ++k) {
        const log::SessionLogReader& src = *readers[k % readers.size()];
        const int64_t shift = at - src.session().start_us;
        if (auto ok = append_session(src, **writer, shift); !ok) {
            return fail(ok.error().message());
        }
        at += src.session().end_us - src.session().start_us + 200'000;  // 0.2 s between runs
        ++copies;
    }
    info.start_us = start;
    info.end_us = at - 200'000;
    if (auto ok = (*writer)->update_session(info); !ok) {
        return fail(ok.error().message());
    }
    if (auto ok = (*writer)->close(); !ok) {
        return fail(ok.error().message());
    }
    fmt::print("{}: {:.1f} min of session time from {} copies of {} recorded sessions, {} MiB\n",
               out_path.string(), double(info.end_us - info.start_us) / 60e6, copies,
               readers.size(), fs::file_size(out_path) >> 20);
    return 0;
}

int seek(const fs::path& log_path, int n) {
    auto reader = log::SessionLogReader::open(log_path);
    if (!reader) {
        return fail(reader.error().message());
    }
    auto t0 = Clock::now();
    auto r = replay::SessionReplay::open(**reader);
    if (!r) {
        return fail(r.error().message());
    }
    replay::SessionReplay& rp = **r;
    const double open_s = seconds_since(t0);
    t0 = Clock::now();
    if (auto ok = rp.run_to_end(); !ok) {
        return fail(ok.error().message());
    }
    const double run_s = seconds_since(t0);
    const double session_s = double(rp.end_us() - rp.start_us()) / 1e6;
    const replay::CheckpointStats cp = rp.checkpoint_stats();
    fmt::print(
        "replay of {:.1f} min: open {:.2f} s, replay {:.2f} s = {:.0f}x real time; "
        "{} issues; {} checkpoints ({:.1f} MiB compressed from {:.1f} MiB, {:.1f} MiB in "
        "memory, {:.0f} ms to take)\n",
        session_s / 60, open_s, run_s, session_s / (open_s + run_s), rp.issues().size(), cp.count,
        double(cp.memory_bytes + cp.spilled_bytes) / 1048576.0, double(cp.raw_bytes) / 1048576.0,
        double(cp.memory_bytes) / 1048576.0, cp.save_ms);
    std::mt19937_64 rng(42);
    std::vector<double> lat;
    const fs::path png = log_path.parent_path() / "bench-seek.png";
    for (int i = 0; i < n; ++i) {
        const int64_t t = rp.start_us() + int64_t(rng() % uint64_t(rp.end_us() - rp.start_us()));
        t0 = Clock::now();
        if (auto ok = rp.seek(t); !ok) {
            return fail(ok.error().message());
        }
        auto frame = rp.frame(0, true);
        if (frame) {
            if (auto ok = canvas::write_png(*frame, png.string()); !ok) {
                return fail(ok.error().message());
            }
        }
        lat.push_back(seconds_since(t0));
    }
    std::sort(lat.begin(), lat.end());
    if (!lat.empty()) {
        fmt::print(
            "screenshot at {} random times (seek + cursor + PNG): median {:.3f} s, max "
            "{:.3f} s (target < 1 s)\n",
            n, lat[lat.size() / 2], lat.back());
    }
    fmt::print("peak RSS {} MiB\n", peak_rss_kib() / 1024);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() >= 4 && args[0] == "build") {
        std::vector<fs::path> sources(args.begin() + 3, args.end());
        return build(args[1], std::atof(args[2].c_str()), sources);
    }
    if (args.size() == 3 && args[0] == "seek") {
        return seek(args[1], std::atoi(args[2].c_str()));
    }
    fmt::print(stderr,
               "usage: bench_replay build OUT.spicelog MINUTES SOURCE.pcap...\n"
               "       bench_replay seek LOG SEEKS\n");
    return 2;
}
