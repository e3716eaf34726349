// import: a pcap/pcapng file in, one session log per SPICE session out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/import/spice_sessions.h"
#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::capture {

struct ImportOptions {
    // A directory (one log per session, created if missing) or a FILE.spicelog (allowed when
    // the capture holds exactly one session).
    std::filesystem::path output;
    std::string tool_version;
    // Called now and then with the number of packets read so far.
    std::function<void(uint64_t packets)> progress;
};

struct ImportResult {
    std::vector<FinishedSession> sessions;
    ReassemblyStats tcp;
    BuilderStats spice;
    uint64_t packets = 0;
    // The input ended badly (truncated or corrupt capture): what was read before is imported.
    std::optional<DecodeError> input_error;
};

// Errors: the input cannot be opened or is not a capture; the output cannot be written; FILE
// output asked for a capture with several (or no) sessions.
Result<ImportResult> import_capture(const std::filesystem::path& input,
                                    const ImportOptions& options);

// True if the path looks like a session log rather than a capture (by its first bytes).
bool is_session_log_file(const std::filesystem::path& path);

}  // namespace spicetap::capture
