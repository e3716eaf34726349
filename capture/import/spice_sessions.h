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
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::capture {

struct SessionSinkOptions {
    std::filesystem::path directory;  // where logs are written
    std::string tool_version;
    std::string source_kind;          // "pcap", "live"
    std::string source;               // file path or interface description
    // Logs written from a pcap go to a temporary name and can simply be redone after a crash;
    // live recordings need every second committed.
    bool crash_safe = true;
    // Each log gets its final name (<start time>-<session id>.spicelog) when it is created
    // instead of at finish(), so a recorder that is killed leaves it under that name (proxy).
    bool final_names_at_start = false;
};

struct FinishedSession {
    std::filesystem::path path;       // final path of the log
    uint32_t session_id = 0;
    std::string server;
    int64_t start_us = 0;
    int64_t end_us = 0;
    size_t connections = 0;
    uint64_t messages = 0;
    uint64_t framing_errors = 0;
    uint64_t gap_bytes = 0;
};

struct BuilderStats {
    uint64_t spice_connections = 0;
    uint64_t other_connections = 0;   // TCP connections that are not SPICE (skipped)
    uint64_t other_bytes = 0;         // their payload bytes
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

    // The connection's recorded bytes are the plaintext of a TLS connection (proxy).
    void mark_tls(ConnectionId id);

    // True while a session with this SPICE connection id is being written.
    bool has_session(uint32_t session_id) const;

    // Writes what is known so far of every open connection and session (end times, byte
    // counts; end reason "cut_short" until they close) and commits, so a recorder killed
    // after this leaves a log that tells how far it got.
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
    void fail(DecodeError e);
    std::filesystem::path final_name(int64_t start_us, uint32_t session_id) const;

    SessionSinkOptions opt_;
    std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
    std::vector<std::unique_ptr<Session>> sessions_;
    BuilderStats stats_;
    std::optional<DecodeError> fatal_;
    uint64_t temp_counter_ = 0;
};

}  // namespace spicetap::capture
