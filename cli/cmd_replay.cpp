// spicetap replay LOG [--stats] [--json] [--to T]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

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
    size_t max_issues = 50;
};

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
        if (auto ok = (*replay)->run_until(*t); !ok) {
            return report_error(ok.error());
        }
        const replay::ReplayReport report = (*replay)->report();
        if (a.json) {
            fmt::print("{}", replay::format_report_json(report));
        } else if (a.stats) {
            fmt::print("{}", replay::format_report_text(report, a.max_issues));
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
    sub->footer("Exits 1 when anything could not be applied exactly.");
    commands.add(sub, [args] { return run_replay(*args); });
}

}  // namespace spicetap::cli
