// spicetap sessions DIR [--json]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "export/summary/session_list.h"

namespace spicetap::cli {

namespace {

struct SessionsArgs {
    std::string directory;
    bool json = false;
};

int run_sessions(const SessionsArgs& a) {
    auto sessions = summary::list_sessions(a.directory);
    if (!sessions) {
        return report_error(sessions.error());
    }
    fmt::print("{}", a.json ? summary::format_session_list_json(*sessions)
                            : summary::format_session_list_text(*sessions));
    for (const auto& s : *sessions) {
        if (s.state == summary::RecordingState::Unreadable) {
            return kExitData;
        }
    }
    return kExitOk;
}

}  // namespace

void register_sessions(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<SessionsArgs>();
    CLI::App* sub = app.add_subcommand(
        "sessions", "List the session logs in a directory: finished, being recorded, cut short");
    sub->add_option("directory", args->directory, "directory holding .spicelog files")->required();
    sub->add_flag("--json", args->json, "a JSON array, one object per log");
    commands.add(sub, [args] { return run_sessions(*args); });
}

}  // namespace spicetap::cli
