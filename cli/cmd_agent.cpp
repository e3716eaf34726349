// spicetap agent LOG|CAPTURE [--json] [--mouse]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/compliance/agent_log.h"

namespace spicetap::cli {

namespace {

struct AgentArgs {
    std::string input;
    bool json = false;
    compliance::AgentLogOptions options;
};

int run_agent(const AgentArgs& a) {
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
        auto report = compliance::collect_agent_log(**reader, a.options);
        if (!report) {
            return report_error(report.error());
        }
        const int64_t start = (*reader)->session().start_us;
        fmt::print("{}", a.json ? compliance::format_agent_json(*report, start)
                                : compliance::format_agent_text(*report, start));
        if (report->stats.undecodable || report->stats.stream_errors) {
            rc = kExitData;
        }
    }
    return finish_reading(source->input_error(), a.input, rc);
}

}  // namespace

void register_agent(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<AgentArgs>();
    CLI::App* sub = app.add_subcommand(
        "agent",
        "The guest-agent conversation: capabilities, clipboard, file transfers, monitors config");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_flag("--json", args->json,
                  "one JSON object per event, then a summary object (docs/agent-extract.md)");
    sub->add_flag("--mouse", args->options.include_mouse,
                  "also list mouse_state messages (client mouse mode sends one per move)");
    commands.add(sub, [args] { return run_agent(*args); });
}

}  // namespace spicetap::cli
