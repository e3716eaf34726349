// The input most commands take: a session log, or a capture imported on the fly, that must hold
// exactly one SPICE session.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"

namespace spicetap::cli {

struct OpenedSession {
    std::optional<capture::LogSource> source;  // keeps an imported capture's log alive
    std::unique_ptr<log::SessionLogReader> reader;
};

// Opens the one session in `input`. Returns kExitOk, or prints why not and returns the exit code.
int open_session(const std::string& input, OpenedSession& out);

}  // namespace spicetap::cli
