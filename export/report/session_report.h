// `spicetap report`: where a session's bandwidth went. Bytes and messages per channel, direction
// and message type, per-second series, image bytes by codec with compression ratios, video
// streams, audio, ping round trips, time the server spent waiting for client ACKs, the largest
// messages and a plain-language summary. Written as JSON, CSV or one offline HTML page with
// inline SVG charts; two sessions side by side with --compare. Formats: docs/timeline-report.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "export/timeline/session_scan.h"

namespace spicetap::report {

struct ChannelShare {
    std::string channel;  // channel type name ("display"), all its connections together
    uint64_t bytes = 0;   // recorded payload bytes, both directions
    uint64_t messages = 0;
    double share = 0;  // of all bytes, 0..1
};

struct RttStats {
    size_t count = 0;
    double min_ms = 0, median_ms = 0, mean_ms = 0, max_ms = 0;
};

struct StreamFigures {
    double duration_s = 0;
    double mbit_per_s = 0;
    double fps = 0;
};

struct Report {
    timeline::SessionScan scan;
    std::string source;
    double duration_s = 0;
    uint64_t total_bytes = 0;  // recorded payload bytes, every connection and direction
    uint64_t total_messages = 0;
    std::vector<ChannelShare> channels;  // largest first
    RttStats rtt;
    double ack_wait_ms = 0;  // stalls where the server waited (AckStall::server_waited)
    size_t ack_stalls = 0;
    std::vector<StreamFigures> stream_figures;  // parallel to scan.streams
    std::string summary;
};

Result<Report> build_report(const log::SessionLogReader& reader, const std::string& source);

StreamFigures stream_figures(const timeline::StreamTotals& s);
// Audio bitrate in kbit/s over the span of its packets (0 with fewer than two).
double audio_kbit_per_s(const timeline::AudioTotals& a);

std::string report_json(const Report& r);
std::string report_csv(const Report& r);
std::string report_html(const Report& r);
std::string compare_html(const Report& a, const Report& b);

enum class Format { Json, Csv, Html };
// From the extension of `path` (.json, .csv, .html); BadValue otherwise.
Result<Format> format_for_path(const std::string& path);

// Builds the report and writes it in the format the extension of `path` names.
Result<Report> write_report(const log::SessionLogReader& reader, const std::string& source,
                            const std::string& path);
// Two sessions side by side, as HTML.
Result<void> write_compare(const Report& a, const Report& b, const std::string& path);

}  // namespace spicetap::report
