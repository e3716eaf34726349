#include "cli/commands.h"

#include <CLI/CLI.hpp>

namespace spicetap::cli {

const char* exit_code_help() {
    return "Exit codes:\n"
           "  0  success\n"
           "  1  bad or partly undecodable input (the job failed, or finished with errors)\n"
           "  2  usage error (bad options or arguments)\n"
           "  3  environment error (cannot open or write a file, missing device or library)";
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
    (void)app;
    (void)commands;
}

}  // namespace spicetap::cli
