// SpiceSessionBuilder: the bridge from TCP streams to session logs. It recognises SPICE
// connections by content (the link magic, on any port), frames them with the wire framer,
// groups them into sessions by the SPICE connection id (MAIN_INIT's session id for the main
// channel, the link message's connection id for the others) and writes one session log per
// session. Used by `import` (pcap files) and `capture` (live).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::capture {

struct FinishedSession {
    std::filesystem::path path;  // final path of the log
    uint32_t session_id = 0;
    std::string server;
    int64_t start_us = 0;
    int64_t end_us = 0;
    size_t connections = 0;
    uint64_t messages = 0;
    uint64_t framing_errors = 0;
    uint64_t gap_bytes = 0;
    int part = 1;            // part number when the session was rotated
    bool continued = false;  // the session goes on in the next part
};

struct SessionSinkOptions {
    std::filesystem::path directory;  // where logs are written
    std::string tool_version;
    std::string source_kind;  // "pcap", "live"
    std::string source;       // file path or interface description
    // Logs written from a pcap go to a temporary name and can simply be redone after a crash;
    // live recordings need every second committed.
    bool crash_safe = true;
    // Crash-safe logs: WAL checkpoints on this thread rather than the builder's (live capture,
    // proxy). Must outlive the builder.
    log::WalCheckpointer* checkpointer = nullptr;
    // Live capture: each log gets its final name when it is created (so it can be opened while
    // it is recorded) and is stamped with the writer's identity. (In both modes a log is
    // finished as soon as the last connection of its session closes.)
    bool live = false;
    // Live: a log is closed and its session continued in a new part once the part holds this
    // many raw bytes, or spans this long (0 = never).
    uint64_t rotate_bytes = 0;
    int64_t rotate_us = 0;
    // Live: told when a log is created and when it is closed (a session ended, a part was
    // rotated, or finish()).
    std::function<void(const std::filesystem::path&, const log::SessionInfo&)> on_log_opened;
    std::function<void(const FinishedSession&)> on_log_closed;
};

struct BuilderStats {
    uint64_t spice_connections = 0;
    uint64_t other_connections = 0;  // TCP connections that are not SPICE (skipped)
    uint64_t other_bytes = 0;        // their payload bytes
    uint64_t messages = 0;
    uint64_t framing_errors = 0;
};

class SpiceSessionBuilder : public TcpCallbacks {
public:
    explicit SpiceSessionBuilder(SessionSinkOptions options);
    ~SpiceSessionBuilder() override;

    void on_open(ConnectionId id, const Endpoint& initiator, const Endpoint& responder,
                 int64_t ts_us, bool saw_syn) override;
    void on_data(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                 ByteView data) override;
    void on_gap(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                uint64_t length) override;
    void on_close(ConnectionId id, int64_t ts_us, CloseReason reason) override;

    // Live: commits every open log (so readers see data up to now), stamps libpcap's counters
    // into it, and rotates logs that grew past the rotation limits. Call about once a second.
    void tick(int64_t now_us);

    // Live: libpcap's counters so far; each log records how they moved while it was open.
    void set_capture_counters(const log::CaptureCounters& counters) { counters_ = counters; }

    // The connection's recorded bytes are the plaintext of a TLS connection (proxy).
    void mark_tls(ConnectionId id);

    // True while a session with this SPICE connection id is being written.
    bool has_session(uint32_t session_id) const;

    // Writes what is known so far of every open connection and session (end times, byte
    // counts; end reason "cut_short" until they close) and commits, so a recorder killed
    // after this leaves a log that tells how far it got (proxy).
    Result<void> checkpoint();

    // Closes every session still open (after the reassembler's finish()) and gives each its
    // final name: <start time>-<session id>.spicelog. Returns them in start-time order.
    Result<std::vector<FinishedSession>> finish();

    // A writer error (disk full, ...) stops the builder: every later call is ignored.
    const std::optional<DecodeError>& fatal_error() const { return fatal_; }

    const BuilderStats& stats() const { return stats_; }

    struct Connection;
    struct Session;

private:
    friend struct Connection;
    Connection* find_live(ConnectionId id);
    void decide_kind(Connection& c);
    void assign_session(Connection& c, uint32_t session_id);
    Session& session_for(const std::string& server_addr, uint32_t session_id);
    std::filesystem::path unused_log_name(const std::string& base) const;
    void stamp_capture_counters(Session& s) const;
    void finish_session(Session& s, bool continued);
    void finish_ended_sessions();
    void rotate(Session& s, int64_t now_us);
    void fail(DecodeError e);

    SessionSinkOptions opt_;
    std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::vector<FinishedSession> finished_;
    std::optional<log::CaptureCounters> counters_;
    BuilderStats stats_;
    std::optional<DecodeError> fatal_;
    uint64_t temp_counter_ = 0;
};

}  // namespace spicetap::capture
