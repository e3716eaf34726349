#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace spicetap::cli {

const char* exit_code_help() {
    return "Exit codes:\n"
           "  0  success\n"
           "  1  bad or partly undecodable input (the job failed, or finished with errors)\n"
           "  2  usage error (bad options or arguments)\n"
           "  3  environment error (cannot open or write a file, missing device or library)";
}

int report_error(const DecodeError& error) {
    fmt::print(stderr, "spicetap: {}\n", error.what);
    return error.code == Errc::Io ? kExitEnvironment : kExitData;
}

const char* tool_version() { return SPICETAP_VERSION; }

int finish_reading(const std::optional<DecodeError>& input_error, const std::string& input,
                   int rc) {
    if (input_error) {
        fmt::print(stderr, "spicetap: {}: {} (the packets before it were used)\n", input,
                   input_error->what);
        return rc == kExitOk ? kExitData : rc;
    }
    return rc;
}

int CommandList::run_selected() const {
    for (const Entry& e : entries_) {
        if (e.sub->parsed()) {
            return e.run();
        }
    }
    return kExitUsage;
}

void register_all(CLI::App& app, CommandList& commands) {
    register_import(app, commands);
    register_capture(app, commands);
    register_sessions(app, commands);
    register_info(app, commands);
    register_dump(app, commands);
    register_inputs(app, commands);
    register_agent(app, commands);
    register_extract(app, commands);
    register_screenshot(app, commands);
    register_replay(app, commands);
    register_timeline(app, commands);
    register_report(app, commands);
    register_render(app, commands);
    register_images(app, commands);
    register_proxy(app, commands);
}

}  // namespace spicetap::cli
