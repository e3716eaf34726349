// spicetap: one CLI over the capture, decode, replay and export libraries. This file only
// builds the command tree; each subcommand lives in cmd_<name>.cpp.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/commands.h"

int main(int argc, char** argv) {
    CLI::App app{"spicetap " SPICETAP_VERSION
                 " - record, decode, replay and analyse SPICE remote-desktop sessions"};
    app.footer(spicetap::cli::exit_code_help());
    app.require_subcommand(1);
    app.set_version_flag("--version", SPICETAP_VERSION);

    spicetap::cli::CommandList commands;
    spicetap::cli::register_all(app, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : spicetap::cli::kExitUsage;
    }
    return commands.run_selected();
}
