#include "cli/session_input.h"

#include <fmt/core.h>

#include "cli/commands.h"

namespace spicetap::cli {

int open_session(const std::string& input, OpenedSession& out) {
    auto source = capture::LogSource::open(input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    if (source->logs().size() != 1) {
        fmt::print(stderr, "spicetap: {} holds {} SPICE sessions; import it and pick one log\n",
                   input, source->logs().size());
        return kExitData;
    }
    auto reader = log::SessionLogReader::open(source->logs().front());
    if (!reader) {
        return report_error(reader.error());
    }
    out.source.emplace(std::move(*source));
    out.reader = std::move(*reader);
    return kExitOk;
}

}  // namespace spicetap::cli
