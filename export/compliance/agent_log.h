// `spicetap agent`: the conversation between the client and the guest agent, for an auditor:
// capabilities, clipboard grabs, requests, data (with a text preview) and releases, file
// transfers from start to their end, monitors and display config, and the rest, in time order,
// followed by a summary of clipboard exchanges and file transfers. Output shapes:
// docs/agent-extract.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "export/compliance/agent_walk.h"
#include "export/compliance/file_transfers.h"

namespace spicetap::compliance {

struct AgentLogOptions {
    bool include_mouse = false;  // list MOUSE_STATE messages (client mouse mode sends many)
    size_t preview_chars = 60;   // clipboard text shown in the text output
};

struct AgentLogEvent {
    int64_t ts_us = 0;
    int64_t connection = 0;
    log::Direction dir = log::Direction::ClientToServer;
    bool has_dir = true;  // false for connection-level events
    std::string event;    // agent message type name, or agent_connected, stream_error, ...
    std::string summary;  // human words
    std::string fields;   // JSON fields (no braces) for --json
};

struct ClipboardCount {
    uint64_t items = 0;
    uint64_t bytes = 0;
};

struct AgentLogReport {
    std::vector<AgentLogEvent> events;
    std::vector<FileTransfer> transfers;
    std::map<std::string, ClipboardCount> clipboard;  // by agent_direction_key
    uint64_t mouse_states = 0;
    AgentWalkStats stats;
};

Result<AgentLogReport> collect_agent_log(const log::SessionLogReader& reader,
                                         const AgentLogOptions& options);

std::string format_agent_text(const AgentLogReport& r, int64_t start_us);
// JSON Lines: one object per event, then one {"summary": ...} object.
std::string format_agent_json(const AgentLogReport& r, int64_t start_us);

}  // namespace spicetap::compliance
