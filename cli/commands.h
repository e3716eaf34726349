// The subcommand registry: each cmd_<name>.cpp adds itself through one register function.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace spicetap::cli {

// Exit codes, documented in `spicetap --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitData = 1;         // bad or partly undecodable input; job (partly) failed
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitEnvironment = 3;  // file, permission, device, library trouble

const char* exit_code_help();

class CommandList {
public:
    void add(CLI::App* sub, std::function<int()> run) { entries_.push_back({sub, std::move(run)}); }
    int run_selected() const;

private:
    struct Entry {
        CLI::App* sub;
        std::function<int()> run;
    };
    std::vector<Entry> entries_;
};

void register_all(CLI::App& app, CommandList& commands);

// One per subcommand file.
void register_import(CLI::App& app, CommandList& commands);
void register_capture(CLI::App& app, CommandList& commands);
void register_sessions(CLI::App& app, CommandList& commands);
void register_info(CLI::App& app, CommandList& commands);
void register_dump(CLI::App& app, CommandList& commands);
void register_inputs(CLI::App& app, CommandList& commands);
void register_screenshot(CLI::App& app, CommandList& commands);
void register_replay(CLI::App& app, CommandList& commands);
void register_agent(CLI::App& app, CommandList& commands);
void register_extract(CLI::App& app, CommandList& commands);
void register_timeline(CLI::App& app, CommandList& commands);
void register_report(CLI::App& app, CommandList& commands);
void register_render(CLI::App& app, CommandList& commands);
void register_images(CLI::App& app, CommandList& commands);
void register_proxy(CLI::App& app, CommandList& commands);

}  // namespace spicetap::cli

#include <optional>
#include <string>

#include "decode/wire/result.h"

namespace spicetap::cli {

// Prints "spicetap: <message>" to stderr and returns the exit code for the error's kind.
int report_error(const DecodeError& error);

// The version string written into logs.
const char* tool_version();

// After a reading command: if its input was a capture that ended badly, say so and turn a
// success into kExitData (the packets before the damage were used).
int finish_reading(const std::optional<DecodeError>& input_error, const std::string& input,
                   int rc);

}  // namespace spicetap::cli
