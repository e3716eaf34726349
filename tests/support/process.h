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

// "tshark -o tcp.reassemble_out_of_order:TRUE -r 'CAPTURE'", the start of every tshark command
// that compares its SPICE dissector with us. On a loaded machine tcpdump can take a loopback
// segment a few milliseconds late; tshark calls it a retransmission and, without out-of-order
// reassembly, hands none of its bytes to the dissector, which then misses a message we read.
std::string tshark_reading(const std::string& capture);

}  // namespace spicetap::test
