// Small pictures of the screen at regular times, for the HTML timeline: the session is replayed
// headlessly (replay/SessionReplay) and each display's primary surface is scaled down and kept as
// PNG bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/log/session_log.h"

namespace spicetap::timeline {

struct Thumbnail {
    int64_t ts_us = 0;
    int display = 0;
    uint32_t width = 0;  // of the thumbnail
    uint32_t height = 0;
    uint32_t screen_width = 0;  // of the surface it shows
    uint32_t screen_height = 0;
    bool exact = true;  // no possibly-wrong pixels on the surface
    std::vector<uint8_t> png;
};

struct ThumbnailOptions {
    int count = 12;            // pictures per display, evenly spread over [from_us, to_us]
    uint32_t max_width = 320;  // scaled down to at most this width, aspect kept
    int64_t from_us = 0;
    int64_t to_us = 0;
};

// Replays the session once, front to back. Displays without a primary surface at a time give
// no picture for that time. An error only when the log cannot be read.
Result<std::vector<Thumbnail>> render_thumbnails(const log::SessionLogReader& reader,
                                                 const ThumbnailOptions& options);

// PNG bytes as base64 (for data: URLs).
std::string base64(const std::vector<uint8_t>& bytes);

}  // namespace spicetap::timeline
