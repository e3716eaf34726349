// The recording proxy: listens for SPICE clients (plain and/or TLS, like spice-server's port
// and tls-port), opens one upstream connection per client channel connection, relays both
// ways byte for byte on one epoll thread and records both directions into one session log per
// client session (ProxyRecorder, on its own thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/import/spice_sessions.h"
#include "decode/wire/result.h"

namespace spicetap::proxy {

// One client channel connection, when it is over.
struct ConnectionReport {
    uint64_t id = 0;
    std::string client;   // "host:port" of the client's socket
    std::string channel;  // "display#0"; "link" if it never sent a link message
    bool tls = false;     // either leg
    uint64_t relayed_c2s = 0, relayed_s2c = 0;  // bytes written to the other side
    // Bytes read from each side (= recorded); more than relayed only when the receiving side
    // went away with bytes still on their way to it.
    uint64_t read_c2s = 0, read_s2c = 0;
    std::string ended;  // "fin", "rst", "end_of_capture"
};

struct ProxyOptions {
    std::string listen;                       // "HOST:PORT" for plain clients; empty: none
    std::string tls_listen;                   // "HOST:PORT" for TLS clients; empty: none
    std::filesystem::path tls_cert, tls_key;  // PEM, for tls_listen
    std::string upstream;                     // "HOST:PORT" of the SPICE server
    // The server's TLS port: clients of tls_listen are relayed there over TLS (and clients of
    // listen to `upstream` in plain), as a SPICE client would do with port + tls-port.
    std::optional<uint16_t> upstream_tls_port;
    bool upstream_tls = false;         // `upstream` itself speaks TLS: every connection uses it
    std::filesystem::path ca;          // trust anchors for the upstream certificate
    bool insecure = false;             // do not verify the upstream certificate
    std::filesystem::path output_dir;  // session logs
    uint64_t max_sessions = 0;         // stop after this many client sessions ended; 0 = never
    bool handle_signals = true;        // SIGINT/SIGTERM stop the proxy cleanly
    std::string tool_version;
    size_t max_queued_bytes = 256u << 20;
    // Operator lines (connections failing, sessions ending, ...); any thread.
    std::function<void(const std::string&)> log;
    // The listeners are up: their real addresses (a port 0 was given a number).
    std::function<void(const std::string& plain, const std::string& tls)> on_listening;
    // A connection is over (relay thread).
    std::function<void(const ConnectionReport&)> on_connection;
    // A client session's log is complete (recorder thread).
    std::function<void(const capture::FinishedSession&)> on_session;
};

struct ProxySummary {
    uint64_t connections = 0;               // client channel connections accepted
    uint64_t sessions = 0;                  // session logs completed
    uint64_t failed_sessions = 0;           // recordings stopped by a write error
    uint64_t bytes_c2s = 0, bytes_s2c = 0;  // relayed
    uint64_t recorded_bytes = 0;
    uint64_t dropped_bytes = 0;  // relayed but not recorded (recorder queue full)
    std::string stopped_by;      // "SIGINT", "SIGTERM", "max-sessions"
};

// Parses "HOST:PORT" / "[V6]:PORT".
Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text);

// Runs until a signal or max_sessions. Errors: bad options, unreachable listen address,
// unreadable certificates (nothing was relayed then).
Result<ProxySummary> run_proxy(const ProxyOptions& options);

}  // namespace spicetap::proxy
