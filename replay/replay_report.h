// What a replay found: statistics and the messages it could not apply. Filled while the replay
// walks the session; printed by `spicetap replay` as text or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace spicetap::replay {

// One thing the replay could not do as the real client would have. The replay goes on; the
// pixels it affected are marked possibly wrong on their surface.
struct ReplayIssue {
    int64_t ts_us = 0;       // capture time of the message (or gap)
    int64_t connection = 0;  // session-log connection id
    int channel_id = -1;     // display channel id
    uint16_t msg_type = 0;   // 0 for capture gaps
    std::string kind;        // stable name, see docs/architecture.md (replay)
    std::string text;        // what exactly
};

struct CodecStats {
    uint64_t images = 0;    // decoded successfully
    uint64_t failures = 0;  // could not be decoded
    uint64_t pixels = 0;
    uint64_t bytes = 0;    // compressed bytes in
    double decode_ms = 0;  // wall time spent decoding
};

struct ReplayStats {
    uint64_t messages = 0;         // display-channel messages walked (both directions)
    uint64_t server_messages = 0;  // server -> client
    uint64_t applied = 0;          // channel messages applied exactly as the client would
    uint64_t failed = 0;           // channel messages that hit an issue or read unsure pixels
    uint64_t base_messages = 0;    // ids < 100 (ack, ping, notify, ...): nothing to draw
    uint64_t sub_messages = 0;     // delivered inside SPICE_MSG_LIST or a sub-message list
    uint64_t marks = 0;            // DISPLAY_MARK
    uint64_t screen_updates = 0;   // distinct capture times at which a primary surface changed
    uint64_t draws = 0;            // drawing commands (DRAW_*, COPY_BITS)
    uint64_t stream_frames = 0;    // video frames drawn
    uint64_t stream_frames_dropped = 0;  // never shown: late, or pending at STREAM_DESTROY
    uint64_t streams = 0;                // STREAM_CREATE
    uint64_t capture_gaps = 0;           // gaps in display and cursor connections' recorded bytes
    uint64_t cursor_messages = 0;        // cursor-channel messages applied (ids >= 100)
    uint64_t cursor_failed = 0;          // of which could not be applied exactly
    int64_t walked_us = 0;               // session time from the start to the last event applied
    int64_t exact_us = 0;                // of which every primary surface was exact
    std::map<std::string, uint64_t> draws_by_type;
    std::map<std::string, CodecStats> images_by_codec;
    std::map<std::string, uint64_t> issues_by_kind;
};

// The state of one primary surface at the end of what was replayed.
struct SurfaceSummary {
    int channel_id = 0;
    uint32_t surface_id = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    uint64_t unsure_pixels = 0;  // possibly wrong
};

struct ReplayReport {
    int64_t start_us = 0;
    int64_t end_us = 0;
    int64_t replayed_to_us = 0;
    ReplayStats stats;
    std::vector<ReplayIssue> issues;
    std::vector<SurfaceSummary> primaries;
};

std::string format_report_text(const ReplayReport& report, size_t max_issues = 50);
std::string format_report_json(const ReplayReport& report);

}  // namespace spicetap::replay
