// The `info` view of a session log: per connection bytes and message counts, per channel the
// counts by message name, gaps, and how each connection ended.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "capture/log/session_log.h"

namespace spicetap::summary {

struct DirectionCounts {
    uint64_t bytes = 0;
    uint64_t messages = 0;
    std::map<std::string, uint64_t> by_name;  // message name -> count
};

struct ConnectionSummary {
    log::ConnectionInfo info;
    DirectionCounts c2s, s2c;
};

struct SessionSummary {
    std::string path;
    bool imported = false;  // path is a capture that was imported on the fly
    int schema_version = 0;
    log::SessionInfo session;
    std::vector<ConnectionSummary> connections;
    std::vector<log::GapRecord> gaps;
    std::vector<log::NoteRecord> notes;
    uint64_t messages = 0;
};

Result<SessionSummary> summarize(const log::SessionLogReader& reader, const std::string& path);

// Name of a message type as shown to users: the spice-protocol name or "unknown_<type>".
std::string display_message_name(int channel_type, log::Direction dir, uint16_t type);

std::string format_summary_text(const SessionSummary& s);
std::string format_summary_json(const SessionSummary& s);

// "2026-11-24 01:11:57.123456 UTC"
std::string format_utc(int64_t ts_us);

}  // namespace spicetap::summary
