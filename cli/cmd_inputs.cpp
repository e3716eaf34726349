// spicetap inputs LOG|CAPTURE [--json] [--layout L] [--redact] [--releases]
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/compliance/inputs_log.h"

namespace spicetap::cli {

namespace {

struct InputsArgs {
    std::string input;
    bool json = false;
    compliance::InputsOptions options;
};

int run_inputs(const InputsArgs& a) {
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    for (const auto& path : source->logs()) {
        auto reader = log::SessionLogReader::open(path);
        if (!reader) {
            return report_error(reader.error());
        }
        auto report = compliance::collect_inputs(**reader, a.options);
        if (!report) {
            if (report.error().code == Errc::Unsupported) {
                fmt::print(stderr, "spicetap: {}\n", report.error().what);
                return kExitUsage;
            }
            return report_error(report.error());
        }
        const int64_t start = (*reader)->session().start_us;
        fmt::print("{}", a.json ? compliance::format_inputs_json(*report, start)
                                : compliance::format_inputs_text(*report, start));
    }
    return finish_reading(source->input_error(), a.input, kExitOk);
}

}  // namespace

void register_inputs(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<InputsArgs>();
    CLI::App* sub = app.add_subcommand(
        "inputs", "Keystrokes (as typed text, with times) and mouse clicks of a session");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_flag("--json", args->json, "one JSON object per event, then a summary object");
    sub->add_option("--layout", args->options.layout,
                    "keyboard layout to read scancodes with: us (default), uk, de, fr");
    sub->add_flag("--redact", args->options.redact_text,
                  "hide what was typed (every typed character becomes *), keep timing and special keys");
    sub->add_flag("--releases", args->options.include_releases, "also list key/button releases");
    commands.add(sub, [args] { return run_inputs(*args); });
}

}  // namespace spicetap::cli
