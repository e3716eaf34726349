#include "replay/replay_report.h"

#include <fmt/core.h>

#include "decode/wire/json_writer.h"

namespace spicetap::replay {

namespace {

double seconds(int64_t us) {
    return double(us) / 1e6;
}

double percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? 100.0 : 100.0 * double(part) / double(whole);
}

}  // namespace

std::string format_report_text(const ReplayReport& r, size_t max_issues) {
    const ReplayStats& s = r.stats;
    std::string out;
    auto line = [&](const std::string& text) {
        out += text;
        out += '\n';
    };
    line(fmt::format("replayed        {:.3f} s of {:.3f} s", seconds(r.replayed_to_us - r.start_us),
                     seconds(r.end_us - r.start_us)));
    line(fmt::format("messages        {} display ({} from the server, {} in lists), {} base",
                     s.messages, s.server_messages, s.sub_messages, s.base_messages));
    const uint64_t channel = s.applied + s.failed;
    line(fmt::format("exact           {} of {} display messages applied exactly ({:.2f}%)",
                     s.applied, channel, percent(s.applied, channel)));
    line(fmt::format("exact time      {:.3f} of {:.3f} s with every screen exact ({:.2f}%)",
                     seconds(s.exact_us), seconds(s.walked_us),
                     percent(uint64_t(s.exact_us), uint64_t(s.walked_us))));
    line(fmt::format("cursor          {} messages, {} not applied exactly", s.cursor_messages,
                     s.cursor_failed));
    line(fmt::format(
        "frames          {} screen updates, {} marks, {} draws, {} stream frames "
        "shown, {} dropped as the client drops them ({} streams)",
        s.screen_updates, s.marks, s.draws, s.stream_frames, s.stream_frames_dropped, s.streams));
    if (!s.draws_by_type.empty()) {
        line("draws by type");
        for (const auto& [name, n] : s.draws_by_type) {
            line(fmt::format("  {:<14}{}", name, n));
        }
    }
    if (!s.images_by_codec.empty()) {
        line("images by codec  (decoded, failed, Mpixel, KiB in, ms decoding)");
        for (const auto& [name, c] : s.images_by_codec) {
            line(fmt::format("  {:<20}{:>7} {:>6} {:>9.3f} {:>9.1f} {:>9.1f}", name, c.images,
                             c.failures, double(c.pixels) / 1e6, double(c.bytes) / 1024.0,
                             c.decode_ms));
        }
    }
    for (const SurfaceSummary& p : r.primaries) {
        const uint64_t total = uint64_t(p.width) * p.height;
        line(
            fmt::format("display {}       surface {} {}x{}: {:.2f}% exact ({} pixels possibly "
                        "wrong)",
                        p.channel_id, p.surface_id, p.width, p.height,
                        percent(total - p.unsure_pixels, total), p.unsure_pixels));
    }
    if (s.capture_gaps) {
        line(fmt::format("capture gaps    {}", s.capture_gaps));
    }
    if (!s.issues_by_kind.empty()) {
        line("not applied (by reason)");
        for (const auto& [kind, n] : s.issues_by_kind) {
            line(fmt::format("  {:<20}{}", kind, n));
        }
        size_t shown = 0;
        for (const ReplayIssue& i : r.issues) {
            if (shown++ == max_issues) {
                line(fmt::format("  ... {} more", r.issues.size() - max_issues));
                break;
            }
            line(fmt::format("  {:>10.6f} display {} msg {:<4} {}: {}",
                             seconds(i.ts_us - r.start_us), i.channel_id, i.msg_type, i.kind,
                             i.text));
        }
    }
    return out;
}

std::string format_report_json(const ReplayReport& r) {
    const ReplayStats& s = r.stats;
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("start_us", r.start_us).field("end_us", r.end_us);
    w.field("replayed_to_us", r.replayed_to_us);
    w.field("messages", s.messages).field("server_messages", s.server_messages);
    w.field("sub_messages", s.sub_messages).field("base_messages", s.base_messages);
    w.field("applied", s.applied).field("failed", s.failed);
    w.field("exact_percent", percent(s.applied, s.applied + s.failed));
    w.field("walked_us", s.walked_us).field("exact_us", s.exact_us);
    w.field("exact_time_percent", percent(uint64_t(s.exact_us), uint64_t(s.walked_us)));
    w.field("cursor_messages", s.cursor_messages).field("cursor_failed", s.cursor_failed);
    w.field("screen_updates", s.screen_updates).field("marks", s.marks);
    w.field("draws", s.draws).field("stream_frames", s.stream_frames);
    w.field("stream_frames_dropped", s.stream_frames_dropped);
    w.field("streams", s.streams).field("capture_gaps", s.capture_gaps);
    w.key("draws_by_type").begin_object();
    for (const auto& [name, n] : s.draws_by_type) {
        w.field(name, n);
    }
    w.end_object();
    w.key("images_by_codec").begin_object();
    for (const auto& [name, c] : s.images_by_codec) {
        w.key(name).begin_object();
        w.field("images", c.images).field("failures", c.failures).field("pixels", c.pixels);
        w.field("bytes", c.bytes).field("decode_ms", c.decode_ms);
        w.end_object();
    }
    w.end_object();
    w.key("issues_by_kind").begin_object();
    for (const auto& [kind, n] : s.issues_by_kind) {
        w.field(kind, n);
    }
    w.end_object();
    w.key("primaries").begin_array();
    for (const SurfaceSummary& p : r.primaries) {
        const uint64_t total = uint64_t(p.width) * p.height;
        w.begin_object();
        w.field("display", int64_t(p.channel_id)).field("surface", p.surface_id);
        w.field("width", p.width).field("height", p.height);
        w.field("unsure_pixels", p.unsure_pixels);
        w.field("exact_percent", percent(total - p.unsure_pixels, total));
        w.end_object();
    }
    w.end_array();
    w.key("issues").begin_array();
    for (const ReplayIssue& i : r.issues) {
        w.begin_object();
        w.field("ts_us", i.ts_us).field("connection", i.connection);
        w.field("display", int64_t(i.channel_id)).field("type", i.msg_type);
        w.field("kind", i.kind).field("text", i.text);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    out += '\n';
    return out;
}

}  // namespace spicetap::replay
