// spicetap timeline LOG -o OUT.{jsonl,csv,json,html} [--from T] [--to T] [--thumbnails N]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/time_arg.h"
#include "export/timeline/timeline.h"

namespace spicetap::cli {

namespace {

struct TimelineArgs {
    std::string input;
    std::string output;
    std::string from, to;
    int thumbnails = 12;
    bool no_fields = false;
    int session = 0;
    bool quiet = false;
};

int run_timeline(const TimelineArgs& a) {
    if (auto f = timeline::format_for_path(a.output); !f) {
        fmt::print(stderr, "spicetap: {}\n", f.error().what);
        return kExitUsage;
    }
    if (a.thumbnails < 0 || a.thumbnails > 500) {
        fmt::print(stderr, "spicetap: --thumbnails must be within 0..500\n");
        return kExitUsage;
    }
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    const auto& logs = source->logs();
    if (logs.size() > 1 && a.session == 0) {
        fmt::print(stderr,
                   "spicetap: {} holds {} SPICE sessions; choose one with --session 1..{}\n",
                   a.input, logs.size(), logs.size());
        return kExitUsage;
    }
    if (logs.empty() || a.session < 0 || static_cast<size_t>(a.session) > logs.size()) {
        fmt::print(stderr, "spicetap: --session {} is out of range 1..{}\n", a.session,
                   logs.size());
        return kExitUsage;
    }
    auto reader = log::SessionLogReader::open(logs[a.session == 0 ? 0 : size_t(a.session - 1)]);
    if (!reader) {
        return report_error(reader.error());
    }
    const log::SessionInfo& si = (*reader)->session();
    timeline::TimelineOptions options;
    options.thumbnails = a.thumbnails;
    options.key_fields = !a.no_fields;
    for (auto [text, slot, name] : {std::tuple{&a.from, &options.from_us, "--from"},
                                    std::tuple{&a.to, &options.to_us, "--to"}}) {
        if (text->empty()) {
            continue;
        }
        auto t = parse_time_arg(*text, si.start_us, si.end_us);
        if (!t) {
            fmt::print(stderr, "spicetap: {}: {}\n", name, t.error().what);
            return kExitUsage;
        }
        *slot = *t;
    }
    auto stats = timeline::write_timeline(**reader, options, a.input, a.output);
    if (!stats) {
        return report_error(stats.error());
    }
    if (!a.quiet) {
        fmt::print("{}: {} messages, {} events{}\n", a.output, stats->messages, stats->events,
                   stats->format == timeline::Format::Html
                       ? fmt::format(", {} screen thumbnails", stats->thumbnails)
                       : std::string());
    }
    return finish_reading(source->input_error(), a.input, kExitOk);
}

}  // namespace

void register_timeline(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<TimelineArgs>();
    CLI::App* sub = app.add_subcommand(
        "timeline", "Every message and notable event in time order: JSONL, CSV, Perfetto or HTML");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("-o,--output", args->output,
                    "output; its extension picks the format: .jsonl, .csv, .json (Chrome "
                    "trace events: Perfetto UI, chrome://tracing) or .html (one offline page)")
        ->required();
    sub->add_option("--from", args->from,
                    "start time: seconds from the session start, a UTC time of day, or ISO time");
    sub->add_option("--to", args->to, "end time (same forms as --from)");
    sub->add_option("--thumbnails", args->thumbnails,
                    "HTML: screen pictures per display at regular times (replayed), 0 for none")
        ->capture_default_str();
    sub->add_flag("--no-fields", args->no_fields, "do not decode messages' key fields");
    sub->add_option("--session", args->session,
                    "which session of a capture holding several (1 = first by start time)");
    sub->add_flag("-q,--quiet", args->quiet, "print nothing on success");
    commands.add(sub, [args] { return run_timeline(*args); });
}

}  // namespace spicetap::cli
