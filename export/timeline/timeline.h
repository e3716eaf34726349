// `spicetap timeline`: every message and notable event of a session in time order, written as
// JSON Lines, CSV, Chrome trace-event JSON (Perfetto UI, chrome://tracing) or one self-contained
// HTML page with a lane per channel connection and direction. Formats: docs/timeline-report.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "export/timeline/session_scan.h"
#include "export/timeline/thumbnails.h"

namespace spicetap::timeline {

enum class Format { JsonLines, Csv, TraceJson, Html };

// From the output file's extension (.jsonl, .csv, .json, .html); BadValue otherwise.
Result<Format> format_for_path(const std::string& path);

struct TimelineOptions {
    std::optional<int64_t> from_us, to_us;  // absolute capture times
    bool key_fields = true;
    int thumbnails = 12;  // per display, HTML only; 0 for none
};

struct Timeline {
    SessionScan scan;
    std::vector<MessageInfo> messages;  // in [from, to], message_order
    std::vector<Event> events;          // overlapping [from, to]
    std::vector<Thumbnail> thumbnails;
    int64_t from_us = 0;
    int64_t to_us = 0;
    std::string source;           // what the page title names
    std::string thumbnail_error;  // why there are no thumbnails, when replay failed
};

Result<Timeline> build_timeline(const log::SessionLogReader& reader, const TimelineOptions& options,
                                Format format);

std::string write_jsonl(const Timeline& t);
std::string write_csv(const Timeline& t);
std::string write_trace_json(const Timeline& t);
std::string write_html(const Timeline& t);

// Builds the timeline and writes it to `path` in the format its extension names.
struct TimelineStats {
    uint64_t messages = 0;
    uint64_t events = 0;
    uint64_t thumbnails = 0;
    Format format = Format::JsonLines;
};

Result<TimelineStats> write_timeline(const log::SessionLogReader& reader,
                                     const TimelineOptions& options, const std::string& source,
                                     const std::string& path);

// Writes `text` to `path` (Io error naming the path).
Result<void> write_text_file(const std::string& path, const std::string& text);

// JSON text made safe to sit inside an HTML <script> element.
std::string json_for_script(std::string json);

}  // namespace spicetap::timeline
