// spicetap extract LOG|CAPTURE -o DIR [--json]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/compliance/extract.h"

namespace spicetap::cli {

namespace {

struct ExtractArgs {
    std::string input;
    std::string output;
    bool json = false;
};

int run_extract(const ExtractArgs& a) {
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    const auto& logs = source->logs();
    int rc = kExitOk;
    for (size_t i = 0; i < logs.size(); ++i) {
        auto reader = log::SessionLogReader::open(logs[i]);
        if (!reader) {
            return report_error(reader.error());
        }
        // A capture with several sessions gets one sub-directory per session.
        const std::filesystem::path dir =
            logs.size() == 1 ? std::filesystem::path(a.output)
                             : std::filesystem::path(a.output) / fmt::format("session-{}", i + 1);
        auto report = compliance::extract_agent_content(**reader, dir);
        if (!report) {
            return report_error(report.error());
        }
        const int64_t start = (*reader)->session().start_us;
        fmt::print("{}", a.json ? compliance::format_extract_manifest(*report, start)
                                : compliance::format_extract_text(*report, start));
        if (report->stats.undecodable || report->stats.stream_errors) {
            rc = kExitData;
        }
    }
    return finish_reading(source->input_error(), a.input, rc);
}

}  // namespace

void register_extract(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ExtractArgs>();
    CLI::App* sub = app.add_subcommand(
        "extract", "Save the clipboard contents and files exchanged through the agent");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("-o,--output", args->output,
                    "directory for the files and manifest.json (created if needed)")
        ->required();
    sub->add_flag("--json", args->json, "print the manifest instead of one line per item");
    commands.add(sub, [args] { return run_extract(*args); });
}

}  // namespace spicetap::cli
