// Running external programs from tests (tshark, tcpdump, the spicetap CLI).
#pragma once

#include <string>

namespace spicetap::test {

struct CommandResult {
    int exit_code = -1;  // -1 if it could not be run or was killed by a signal
    std::string out;     // stdout (stderr too when merge_stderr)
};

// Runs `command` through /bin/sh.
CommandResult run_command(const std::string& command, bool merge_stderr = false);

// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& s);

bool have_program(const std::string& name);

}  // namespace spicetap::test
