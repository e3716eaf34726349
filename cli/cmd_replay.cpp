// spicetap replay LOG [--stats] [--json] [--to T] [--speed X]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/time_arg.h"
#include "replay/session_replay.h"

namespace spicetap::cli {

namespace {

struct ReplayArgs {
    std::string input;
    std::string to = "end";
    bool stats = false;
    bool json = false;
    double speed = 0;
    size_t max_issues = 50;
};

// Applies everything up to t_us; with speed > 0, no faster than `speed` times the session's own
// pace (a message captured s seconds after the start is applied s / speed seconds after ours).
Result<void> replay_paced(replay::SessionReplay& r, int64_t t_us, double speed) {
    if (speed <= 0) {
        return r.run_until(t_us);
    }
    using Clock = std::chrono::steady_clock;
    const Clock::time_point wall0 = Clock::now();
    const int64_t t0 = r.now_us();
    // Steps of at most 10 ms of session time keep the pacing smooth without a sleep per message.
    const int64_t slice = std::max<int64_t>(1000, int64_t(10000 * speed));
    for (int64_t t = t0; t < t_us;) {
        t = std::min(t_us, t + slice);
        if (auto ok = r.run_until(t); !ok) {
            return ok;
        }
        const auto due = wall0 + std::chrono::microseconds(int64_t(double(t - t0) / speed));
        std::this_thread::sleep_until(due);
        if (r.at_end() && t >= r.end_us()) {
            break;
        }
    }
    return r.run_until(t_us);
}

int run_replay(const ReplayArgs& a) {
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    int rc = kExitOk;
    for (const auto& path : source->logs()) {
        auto reader = log::SessionLogReader::open(path);
        if (!reader) {
            return report_error(reader.error());
        }
        const log::SessionInfo& si = (*reader)->session();
        auto t = parse_time_arg(a.to, si.start_us, si.end_us);
        if (!t) {
            fmt::print(stderr, "spicetap: --to {}: {}\n", a.to, t.error().what);
            return kExitUsage;
        }
        auto replay = replay::SessionReplay::open(**reader);
        if (!replay) {
            return report_error(replay.error());
        }
        const auto wall0 = std::chrono::steady_clock::now();
        if (auto ok = replay_paced(**replay, *t, a.speed); !ok) {
            return report_error(ok.error());
        }
        const double wall_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
        const replay::ReplayReport report = (*replay)->report();
        if (a.json) {
            fmt::print("{}", replay::format_report_json(report));
        } else if (a.stats) {
            fmt::print("{}", replay::format_report_text(report, a.max_issues));
            const double session_s = double(report.replayed_to_us - report.start_us) / 1e6;
            const replay::CheckpointStats cp = (*replay)->checkpoint_stats();
            fmt::print(
                "wall time       {:.3f} s ({:.0f}x real time), {} checkpoints ({:.1f} MiB "
                "compressed)\n",
                wall_s, wall_s > 0 ? session_s / wall_s : 0.0, cp.count,
                double(cp.memory_bytes + cp.spilled_bytes) / (1024.0 * 1024.0));
        } else {
            const uint64_t n = report.stats.applied + report.stats.failed;
            fmt::print("{}: {} display messages, {} applied exactly, {} issues\n",
                       source->imported() ? a.input : path.string(), n, report.stats.applied,
                       report.issues.size());
        }
        if (!report.issues.empty()) {
            rc = kExitData;
        }
    }
    return finish_reading(source->input_error(), a.input, rc);
}

}  // namespace

void register_replay(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ReplayArgs>();
    CLI::App* sub = app.add_subcommand(
        "replay", "Replay a session headlessly and report what rendered exactly and what did not");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_flag("--stats", args->stats,
                  "frames, draws by type, images by codec with decode time, issues");
    sub->add_flag("--json", args->json, "the full report as one JSON object per session");
    sub->add_option("--to", args->to, "stop at this time (as screenshot --at)")
        ->capture_default_str();
    sub->add_option("--max-issues", args->max_issues, "issues listed by --stats")
        ->capture_default_str();
    sub->add_option("--speed", args->speed,
                    "replay at this multiple of the session's own pace (0: as fast as possible)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    sub->footer("Exits 1 when anything could not be applied exactly.");
    commands.add(sub, [args] { return run_replay(*args); });
}

}  // namespace spicetap::cli
