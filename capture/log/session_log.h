// The session log: one SQLite file per SPICE session (`.spicelog`), holding every raw byte of
// every connection with capture timestamps, explicit gaps, the connections' link-stage facts and
// a message index that can be rebuilt from the raw bytes. Schema: docs/session-log.md.
// Nothing outside capture/log/ touches SQLite.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap::log {

class WalCheckpointer;

inline constexpr int kSchemaVersion = 1;

using wire::Direction;

// libpcap's counters over the time a live-captured log was open (whole capture, not only this
// session's packets: libpcap cannot tell whose packets it dropped).
struct CaptureCounters {
    uint64_t packets = 0;     // packets libpcap delivered
    uint64_t dropped = 0;     // dropped by the kernel (buffer full)
    uint64_t if_dropped = 0;  // dropped by the interface or driver
};

struct SessionInfo {
    std::string created;       // ISO 8601 UTC, when the log was written
    std::string tool_version;  // spicetap version that wrote it
    std::string source_kind;   // "pcap", "live", "proxy"
    std::string source;        // file path, "iface=lo filter=...", "listen=... upstream=..."
    uint32_t session_id = 0;   // SPICE connection id (from MAIN_INIT); 0 if never seen
    std::string server;        // "host:port" of the server side
    std::string client;        // "host:port" of the (first) client connection
    int64_t start_us = 0;      // first byte of any connection
    int64_t end_us = 0;        // last byte of any connection
    bool complete = false;     // false until the writer closed the log cleanly
    // Live recordings: the process writing the log while it is open ("<boot id>:<pid>:<start
    // time>", see writer_identity.h), so a reader can tell "still recording" from "cut short".
    std::string writer;
    // A long live session split by --rotate-after: this file's part number (1 = the first) and
    // the file names (same directory) of the parts before and after it.
    int part = 1;
    std::string previous_part, next_part;
    std::optional<CaptureCounters> capture;  // live capture only
};

struct ConnectionInfo {
    int64_t id = 0;  // row id, assigned by the writer
    std::string client_addr;
    uint16_t client_port = 0;
    std::string server_addr;
    uint16_t server_port = 0;
    int64_t start_us = 0;
    int64_t end_us = 0;
    int channel_type = -1;  // -1 until the link message was seen
    int channel_id = -1;
    uint32_t connection_id = 0;  // from the client's link message
    std::vector<uint32_t> client_common_caps, client_channel_caps;
    std::vector<uint32_t> server_common_caps, server_channel_caps;
    bool mini_header = false;  // negotiated data header
    uint32_t link_error = 0;   // SpiceLinkErr from the link reply / link result
    bool tls = false;
    std::string end_reason;  // "fin", "rst", "end_of_capture", "idle", "cut_short", ...
    uint64_t bytes_c2s = 0;  // payload bytes recorded (gaps excluded)
    uint64_t bytes_s2c = 0;
};

struct DataChunk {
    int64_t connection = 0;
    Direction dir = Direction::ClientToServer;
    int64_t ts_us = 0;
    uint64_t offset = 0;  // stream offset of data[0] in this direction (gaps included)
    std::vector<uint8_t> data;
};

struct GapRecord {
    int64_t connection = 0;
    Direction dir = Direction::ClientToServer;
    int64_t ts_us = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
};

struct MessageRecord {
    int64_t connection = 0;
    Direction dir = Direction::ClientToServer;
    int64_t ts_us = 0;               // capture time of the segment that completed the message
    uint64_t offset = 0;             // stream offset of the message header
    std::optional<uint64_t> serial;  // null under the mini header
    uint16_t type = 0;
    uint32_t size = 0;         // body bytes
    uint16_t header_size = 0;  // 18 (full) or 6 (mini)
};

// Errors that fill a log from outside, e.g. framing errors, are kept as notes.
struct NoteRecord {
    int64_t connection = 0;  // 0 = the whole session
    int64_t ts_us = 0;
    std::string kind;  // "framing_error", "gap", "cut_short", ...
    std::string text;
};

class SessionLogWriter {
public:
    ~SessionLogWriter();

    struct Options {
        // WAL, commits at least once a second: a killed writer loses at most ~1 s (live capture,
        // proxy). Off: no journal and no syncs, for logs written to a temporary name from a
        // source that still exists (pcap import), where a crash just means running it again.
        bool crash_safe = true;
        // Crash-safe logs: checkpoint the WAL on this thread instead of the writer's (see
        // wal_checkpointer.h). Must outlive the writer.
        WalCheckpointer* checkpointer = nullptr;
    };

    // Creates a new log (fails if the file exists).
    static Result<std::unique_ptr<SessionLogWriter>> create(const std::filesystem::path& path,
                                                            const SessionInfo& info);
    static Result<std::unique_ptr<SessionLogWriter>> create(const std::filesystem::path& path,
                                                            const SessionInfo& info,
                                                            const Options& options);

    // Adds a connection and returns its id.
    Result<int64_t> add_connection(const ConnectionInfo& connection);
    // Rewrites a connection's row (link-stage facts learned later, end time, end reason).
    Result<void> update_connection(const ConnectionInfo& connection);
    Result<void> update_session(const SessionInfo& info);

    Result<void> append_data(int64_t connection, Direction dir, int64_t ts_us, uint64_t offset,
                             ByteView data);
    Result<void> append_gap(const GapRecord& gap);
    Result<void> append_message(const MessageRecord& message);
    Result<void> append_note(const NoteRecord& note);

    // Commits what is pending now.
    Result<void> flush();
    // Marks the session complete, commits, checkpoints the WAL and closes the file.
    Result<void> close();

    const std::filesystem::path& path() const;

private:
    struct Impl;
    explicit SessionLogWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

class SessionLogReader {
public:
    ~SessionLogReader();

    // Opens read-only. Errors: Io (missing/unreadable), BadMagic (not a session log),
    // Unsupported (written by a newer schema), Corrupt (damaged database).
    static Result<std::unique_ptr<SessionLogReader>> open(const std::filesystem::path& path);

    int schema_version() const;
    const SessionInfo& session() const;
    const std::vector<ConnectionInfo>& connections() const;

    // Raw bytes of one direction of one connection in stream order.
    Result<void> for_each_chunk(int64_t connection, Direction dir,
                                const std::function<bool(const DataChunk&)>& fn) const;
    // The same from the chunk holding stream offset `from` on (whole chunks).
    Result<void> for_each_chunk_from(int64_t connection, Direction dir, uint64_t from,
                                     const std::function<bool(const DataChunk&)>& fn) const;
    // Every chunk of the session, all connections and directions, in capture-time order
    // (ties: connection, direction, offset).
    Result<void> for_each_chunk(const std::function<bool(const DataChunk&)>& fn) const;

    // Exactly the bytes [offset, offset + length) of one direction; Truncated if a gap or the
    // end of the recording cuts them.
    Result<std::vector<uint8_t>> read_stream(int64_t connection, Direction dir, uint64_t offset,
                                             uint64_t length) const;

    Result<std::vector<GapRecord>> gaps() const;
    Result<std::vector<NoteRecord>> notes() const;

    // Indexed messages in capture-time order (ties: connection, direction, offset), optionally
    // limited to [from_us, to_us] and one connection.
    struct MessageFilter {
        std::optional<int64_t> from_us, to_us;
        std::optional<int64_t> connection;
    };

    Result<void> for_each_message(const MessageFilter& filter,
                                  const std::function<bool(const MessageRecord&)>& fn) const;
    Result<uint64_t> message_count() const;

private:
    struct Impl;
    explicit SessionLogReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::log
