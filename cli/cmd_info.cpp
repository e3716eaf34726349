// spicetap info LOG|CAPTURE [--json]
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/summary/session_summary.h"

namespace spicetap::cli {

namespace {

struct InfoArgs {
    std::string input;
    bool json = false;
};

int run_info(const InfoArgs& a) {
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    for (const auto& path : source->logs()) {
        auto reader = log::SessionLogReader::open(path);
        if (!reader) {
            return report_error(reader.error());
        }
        const std::string shown = source->imported() ? a.input : path.string();
        auto summary = summary::summarize(**reader, shown);
        if (summary) {
            summary->imported = source->imported();
        }
        if (!summary) {
            return report_error(summary.error());
        }
        fmt::print("{}", a.json ? summary::format_summary_json(*summary)
                                : summary::format_summary_text(*summary));
        if (!a.json && &path != &source->logs().back()) {
            fmt::print("\n");
        }
    }
    return finish_reading(source->input_error(), a.input, kExitOk);
}

}  // namespace

void register_info(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<InfoArgs>();
    CLI::App* sub = app.add_subcommand("info", "Summarise a session log (or a capture)");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_flag("--json", args->json, "one JSON object per session");
    commands.add(sub, [args] { return run_info(*args); });
}

}  // namespace spicetap::cli
