#include "tests/support/process.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace spicetap::test {

CommandResult run_command(const std::string& command, bool merge_stderr) {
    CommandResult r;
    const std::string full = merge_stderr ? command + " 2>&1" : command;
    FILE* p = ::popen(full.c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    std::array<char, 65536> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
        r.out.append(buf.data(), n);
    }
    const int status = ::pclose(p);
    if (status != -1 && WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    }
    return r;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out.push_back(c);
        }
    }
    out += "'";
    return out;
}

bool have_program(const std::string& name) {
    return run_command("command -v " + shell_quote(name) + " >/dev/null 2>&1").exit_code == 0;
}

std::string tshark_reading(const std::string& capture) {
    return "tshark -o tcp.reassemble_out_of_order:TRUE -r " + shell_quote(capture);
}

}  // namespace spicetap::test
