// `spicetap extract`: what went through the agent, as files: every clipboard payload (text as
// .txt, PNG as is, BMP converted to PNG, other types as sent) and every transferred file (name
// made safe for the file system, ".partial" added when it did not complete), with SHA-256 and
// a manifest.json. Layout and fields: docs/agent-extract.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "export/compliance/agent_walk.h"

namespace spicetap::compliance {

struct ExtractedItem {
    int64_t ts_us = 0;  // clipboard: when the data arrived; file: when the transfer started
    int64_t end_us = 0;
    log::Direction dir = log::Direction::ClientToServer;  // the sender
    std::string kind;                                     // "clipboard" or "file"
    std::string name;   // file: the name the sender gave; clipboard: the selection
    std::string type;   // clipboard: the type name ("utf8_text", "image_bmp"); file: empty
    uint64_t size = 0;  // bytes exchanged (clipboard payload, file data received)
    std::optional<uint64_t> declared_size;  // file: the size announced at the start
    std::string sha256;                     // of the bytes exchanged
    std::string status;                     // clipboard: "complete"; file: see transfer_state_name
    std::string file;                       // saved file, relative to the output directory
    std::string note;
};

struct ExtractReport {
    std::filesystem::path out_dir;
    std::vector<ExtractedItem> items;
    AgentWalkStats stats;
};

// Makes a sender-chosen name safe to create inside a directory: the last path component only,
// no control or reserved characters, no leading dot, at most 180 bytes; "unnamed" if nothing
// is left.
std::string safe_file_name(std::string_view name);

// Writes the items and out_dir/manifest.json (out_dir is created if needed). Io errors end
// the job; undecodable agent messages are counted in stats.
Result<ExtractReport> extract_agent_content(const log::SessionLogReader& reader,
                                            const std::filesystem::path& out_dir);

std::string format_extract_text(const ExtractReport& r, int64_t start_us);
// The manifest: {"session_start", "items": [...], "agent_messages", ...}.
std::string format_extract_manifest(const ExtractReport& r, int64_t start_us);

}  // namespace spicetap::compliance
