// Live capture: packets from an interface (libpcap, immediate mode) through the same TCP
// reassembly and SPICE session building as `import`, one crash-safe session log per SPICE
// session written while it runs and closed when the session ends. Used by `spicetap capture`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/import/spice_sessions.h"
#include "capture/pcap/packet_source.h"
#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::capture {

struct LiveCaptureOptions {
    LiveOptions source;               // interface, BPF filter, snap length, kernel buffer
    std::filesystem::path directory;  // one log per session; created if missing
    std::string tool_version;
    // Drop root to this user once the interface is open, before any packet is parsed.
    std::string user;
    // Close a session's log and continue in a new part past this size / duration (0 = never).
    uint64_t rotate_bytes = 0;
    int64_t rotate_us = 0;
    // A connection without packets for this long is closed (reason "idle").
    int64_t idle_timeout_us = 3600'000'000;
    // How often on_stats is called (wall clock).
    int64_t stats_interval_us = 10'000'000;
    // SIGINT and SIGTERM stop the capture cleanly (every log finalised).
    bool stop_on_signals = true;

    // Called once the interface is open (and privileges dropped).
    std::function<void()> on_listening;
    std::function<void(const std::filesystem::path&, const log::SessionInfo&)> on_log_opened;
    std::function<void(const FinishedSession&)> on_log_closed;
    std::function<void(const SourceStats&)> on_stats;
};

struct LiveCaptureResult {
    std::vector<FinishedSession> logs;  // every log written, in start-time order
    SourceStats source;                 // packets, libpcap drops
    ReassemblyStats tcp;
    BuilderStats spice;
    int stop_signal = 0;  // the signal that stopped the capture, 0 if none
};

// Runs until a stop signal (or a capture error). Errors: the interface cannot be opened or the
// filter is bad, the user does not exist, the directory is not writable, a log cannot be
// written (what was recorded before is kept and finalised).
Result<LiveCaptureResult> run_live_capture(const LiveCaptureOptions& options);

// "--rotate-after" values: a size ("500M", "2G", "64K", "1000000" bytes; K/M/G are powers of
// 1024, optionally followed by "iB" or "B") or a duration ("90s", "30min", "12h").
struct RotateLimit {
    uint64_t bytes = 0;
    int64_t us = 0;
};

Result<RotateLimit> parse_rotate_after(const std::string& text);

}  // namespace spicetap::capture
