// One pass over a session log that the timeline and the bandwidth report share: every message
// with its name (and optionally its key fields), the notable events of the session (connections
// opening and closing, migrations, resets, surfaces, streams, gaps, ping round trips, ack-window
// stalls, agent messages) and the totals behind the report (bytes per connection, direction,
// message type and second; image bytes by codec; streams; audio).
//
// The log is read one connection at a time with both directions of its raw bytes in memory, so
// the state that matters (ack windows, pings, streams, the agent stream) lives per connection and
// memory stays at one connection's bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"

namespace spicetap::timeline {

using log::Direction;

// One indexed message.
struct MessageInfo {
    int64_t ts_us = 0;
    int64_t connection = 0;
    Direction dir = Direction::ClientToServer;
    std::optional<uint64_t> serial;
    uint16_t type = 0;
    uint32_t size = 0;         // body bytes
    uint16_t header_size = 0;  // 6 or 18
    uint64_t offset = 0;       // of the header in its direction's stream
    std::string name;          // "draw_copy", "unknown_<type>"
    std::string fields;        // JSON object of decoded fields (ScanOptions::key_fields), or ""
    std::string error;         // why the body could not be decoded, or ""
};

// Something worth a mark on a timeline. Instants have end_us == ts_us.
struct Event {
    int64_t ts_us = 0;
    int64_t end_us = 0;
    int64_t connection = 0;  // 0: the whole session
    std::string kind;        // stable names, docs/timeline-report.md
    std::string text;        // one line for people
};

struct PingRoundTrip {
    int64_t connection = 0;
    uint32_t id = 0;
    uint64_t timestamp = 0;  // the server's own clock value echoed back
    int64_t ping_us = 0;     // capture time of the server's PING
    int64_t pong_us = 0;     // capture time of the client's PONG
    uint32_t padding = 0;    // bandwidth-test padding bytes in the PING
};

// The server had sent more than 2 x window messages without enough ACKs (spice-server's
// waiting_for_ack) from from_us until the ACK at to_us released it.
struct AckStall {
    int64_t connection = 0;
    int64_t from_us = 0;
    int64_t to_us = 0;
    uint32_t window = 0;
    bool server_waited = false;  // the next server message followed the releasing ACK closely
};

// The ACK window of a connection whose server sent SET_ACK, and the most messages the model saw
// unacknowledged at once. spice-server stops sending above 2 x window, so on a real session the
// peak stays at or under 2 x window + 1.
struct AckWindow {
    int64_t connection = 0;
    uint32_t window = 0;
    int64_t peak_unacked = 0;
    uint64_t acks = 0;
};

struct TypeTotals {
    std::string name;
    uint64_t messages = 0;
    uint64_t bytes = 0;  // header + body
};

struct DirectionTotals {
    uint64_t tcp_bytes = 0;      // every payload byte recorded (link stage included)
    uint64_t message_bytes = 0;  // headers + bodies of indexed messages
    uint64_t messages = 0;
    uint64_t gap_bytes = 0;
    std::map<uint16_t, TypeTotals> by_type;
    std::vector<uint64_t> bytes_per_second;  // recorded payload bytes, by second from the start
};

struct ConnectionTotals {
    log::ConnectionInfo info;
    std::string channel;     // "display#0"
    DirectionTotals dir[2];  // indexed by Direction

    const DirectionTotals& c2s() const { return dir[0]; }

    const DirectionTotals& s2c() const { return dir[1]; }
};

struct ImageTotals {
    uint64_t images = 0;
    uint64_t bytes = 0;          // compressed bytes on the wire
    uint64_t decoded_bytes = 0;  // width * height * 4
};

struct StreamTotals {
    int64_t connection = 0;
    int channel_id = 0;
    uint32_t id = 0;
    std::string codec;   // "mjpeg", "vp8", ...
    uint32_t width = 0;  // stream size (the last one for sized frames)
    uint32_t height = 0;
    int64_t start_us = 0;
    int64_t end_us = 0;  // destroy, or the last frame when never destroyed
    bool destroyed = false;
    uint64_t frames = 0;
    uint64_t bytes = 0;  // encoded frame bytes
    int64_t first_frame_us = 0;
    int64_t last_frame_us = 0;
};

struct AudioTotals {
    int64_t connection = 0;
    std::string channel;  // "playback" or "record"
    std::string mode;     // "raw", "opus", ... (from MODE), "" when never said
    uint32_t channels = 0;
    uint32_t frequency = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;  // encoded audio bytes
    int64_t first_us = 0;
    int64_t last_us = 0;
};

struct LargeMessage {
    int64_t ts_us = 0;
    int64_t connection = 0;
    Direction dir = Direction::ClientToServer;
    std::string name;
    uint32_t bytes = 0;  // header + body
};

struct SessionScan {
    log::SessionInfo session;
    std::vector<ConnectionTotals> connections;
    std::vector<Event> events;  // in time order
    std::vector<PingRoundTrip> pings;
    std::vector<AckStall> stalls;
    std::vector<AckWindow> ack_windows;
    std::map<std::string, ImageTotals> images;  // by codec name ("glz_rgb", "jpeg", ...)
    std::vector<StreamTotals> streams;
    std::vector<AudioTotals> audio;
    std::vector<LargeMessage> largest;  // the 20 largest, largest first
    uint64_t messages = 0;
    uint64_t decode_errors = 0;  // bodies the scan needed but could not parse

    const ConnectionTotals* connection(int64_t id) const;
};

struct ScanOptions {
    // Decode every message with a demarshaller into MessageInfo::fields.
    bool key_fields = false;
    // Fields longer than this are replaced by {"fields_omitted": length}.
    size_t max_fields_chars = 2048;
    // Called for every message, connection by connection (each in capture-time order).
    std::function<void(MessageInfo&&)> on_message;
};

Result<SessionScan> scan_session(const log::SessionLogReader& reader, const ScanOptions& options);

// "display#0", "unknown#-1".
std::string channel_label(const log::ConnectionInfo& c);

// Stable order of the timeline: capture time, then connection, direction, stream offset (the
// order SessionLogReader::for_each_message and `dump` use).
bool message_order(const MessageInfo& a, const MessageInfo& b);

}  // namespace spicetap::timeline
