#include "export/report/session_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "decode/wire/json_writer.h"
#include "export/report/report_text.h"
#include "export/timeline/timeline.h"

namespace spicetap::report {

namespace {

using timeline::Direction;

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string channel_type_of(const timeline::ConnectionTotals& c) {
    return c.info.channel_type >= 0
               ? std::string(wire::channel_type_name(uint8_t(c.info.channel_type)))
               : std::string("unknown");
}

}  // namespace

StreamFigures stream_figures(const timeline::StreamTotals& s) {
    StreamFigures f;
    f.duration_s = double(s.last_frame_us - s.first_frame_us) / 1e6;
    if (s.frames >= 2 && f.duration_s > 0) {
        // n frames span n-1 intervals; the bytes of the first frame belong to the first interval.
        f.fps = double(s.frames - 1) / f.duration_s;
        f.mbit_per_s =
            double(s.bytes) * 8.0 / 1e6 * double(s.frames - 1) / double(s.frames) / f.duration_s;
    }
    return f;
}

double audio_kbit_per_s(const timeline::AudioTotals& a) {
    const double span = double(a.last_us - a.first_us) / 1e6;
    if (a.packets < 2 || span <= 0) {
        return 0;
    }
    return double(a.bytes) * 8.0 / 1e3 * double(a.packets - 1) / double(a.packets) / span;
}

Result<Report> build_report(const log::SessionLogReader& reader, const std::string& source) {
    timeline::ScanOptions options;
    auto scan = timeline::scan_session(reader, options);
    if (!scan) {
        return scan.error();
    }
    Report r;
    r.scan = std::move(*scan);
    r.source = source;
    r.duration_s = double(r.scan.session.end_us - r.scan.session.start_us) / 1e6;
    std::map<std::string, ChannelShare> by_type;
    for (const auto& c : r.scan.connections) {
        ChannelShare& s = by_type[channel_type_of(c)];
        s.channel = channel_type_of(c);
        for (const auto& d : c.dir) {
            s.bytes += d.tcp_bytes;
            s.messages += d.messages;
            r.total_bytes += d.tcp_bytes;
            r.total_messages += d.messages;
        }
    }
    for (auto& [name, s] : by_type) {
        s.share = r.total_bytes ? double(s.bytes) / double(r.total_bytes) : 0;
        r.channels.push_back(s);
    }
    std::sort(r.channels.begin(), r.channels.end(),
              [](const ChannelShare& a, const ChannelShare& b) { return a.bytes > b.bytes; });
    std::vector<double> rtts;
    for (const auto& p : r.scan.pings) {
        rtts.push_back(double(p.pong_us - p.ping_us) / 1000.0);
    }
    if (!rtts.empty()) {
        std::sort(rtts.begin(), rtts.end());
        r.rtt.count = rtts.size();
        r.rtt.min_ms = rtts.front();
        r.rtt.max_ms = rtts.back();
        r.rtt.median_ms = rtts.size() % 2 ? rtts[rtts.size() / 2]
                                          : (rtts[rtts.size() / 2 - 1] + rtts[rtts.size() / 2]) / 2;
        double sum = 0;
        for (double v : rtts) {
            sum += v;
        }
        r.rtt.mean_ms = sum / double(rtts.size());
    }
    for (const auto& s : r.scan.stalls) {
        if (s.server_waited) {
            ++r.ack_stalls;
            r.ack_wait_ms += double(s.to_us - s.from_us) / 1000.0;
        }
    }
    for (const auto& s : r.scan.streams) {
        r.stream_figures.push_back(stream_figures(s));
    }
    r.summary = summary_paragraph(r);
    return r;
}

Result<Format> format_for_path(const std::string& path) {
    if (ends_with(path, ".json")) {
        return Format::Json;
    }
    if (ends_with(path, ".csv")) {
        return Format::Csv;
    }
    if (ends_with(path, ".html") || ends_with(path, ".htm")) {
        return Format::Html;
    }
    return make_error(Errc::BadValue, 0,
                      fmt::format("{}: the output's extension chooses the format: .json, .csv or "
                                  ".html",
                                  path));
}

std::string report_json(const Report& r) {
    const int64_t start = r.scan.session.start_us;
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("source", r.source).field("session_id", r.scan.session.session_id);
    w.field("start_us", start).field("duration_s", r.duration_s);
    w.field("bytes", r.total_bytes).field("messages", r.total_messages);
    w.field("summary", r.summary);
    w.key("channels").begin_array();
    for (const auto& c : r.channels) {
        w.begin_object().field("channel", c.channel).field("bytes", c.bytes);
        w.field("messages", c.messages).field("share", c.share).end_object();
    }
    w.end_array();
    w.key("connections").begin_array();
    for (const auto& c : r.scan.connections) {
        w.begin_object();
        w.field("connection", c.info.id).field("channel", c.channel);
        w.field("client", fmt::format("{}:{}", c.info.client_addr, c.info.client_port));
        w.field("server", fmt::format("{}:{}", c.info.server_addr, c.info.server_port));
        w.field("start_s", double(c.info.start_us - start) / 1e6);
        w.field("end_s", double(c.info.end_us - start) / 1e6);
        w.field("ended", c.info.end_reason);
        for (int d = 0; d < 2; ++d) {
            const auto& t = c.dir[d];
            w.key(d == 0 ? "c2s" : "s2c").begin_object();
            w.field("bytes", t.tcp_bytes).field("message_bytes", t.message_bytes);
            w.field("link_bytes", t.tcp_bytes - std::min(t.tcp_bytes, t.message_bytes));
            w.field("messages", t.messages).field("gap_bytes", t.gap_bytes);
            w.key("by_type").begin_array();
            for (const auto& [type, tt] : t.by_type) {
                w.begin_object().field("type", type).field("name", tt.name);
                w.field("messages", tt.messages).field("bytes", tt.bytes).end_object();
            }
            w.end_array();
            w.key("bytes_per_second").begin_array();
            for (uint64_t b : t.bytes_per_second) {
                w.value(b);
            }
            w.end_array();
            w.end_object();
        }
        w.end_object();
    }
    w.end_array();
    w.key("images").begin_array();
    for (const auto& [codec, im] : r.scan.images) {
        w.begin_object().field("codec", codec).field("images", im.images);
        w.field("bytes", im.bytes).field("decoded_bytes", im.decoded_bytes);
        if (im.bytes > 0 && im.decoded_bytes > 0) {
            w.field("ratio", double(im.decoded_bytes) / double(im.bytes));
        } else {
            w.field_null("ratio");
        }
        w.end_object();
    }
    w.end_array();
    w.key("streams").begin_array();
    for (size_t i = 0; i < r.scan.streams.size(); ++i) {
        const auto& s = r.scan.streams[i];
        const auto& f = r.stream_figures[i];
        w.begin_object()
            .field("connection", s.connection)
            .field("channel_id", int64_t{s.channel_id});
        w.field("id", s.id)
            .field("codec", s.codec)
            .field("width", s.width)
            .field("height", s.height);
        w.field("start_s", double(s.start_us - start) / 1e6)
            .field("end_s", double(s.end_us - start) / 1e6);
        w.field("frames", s.frames).field("bytes", s.bytes).field("fps", f.fps);
        w.field("mbit_per_s", f.mbit_per_s).end_object();
    }
    w.end_array();
    w.key("audio").begin_array();
    for (const auto& a : r.scan.audio) {
        w.begin_object().field("connection", a.connection).field("channel", a.channel);
        w.field("mode", a.mode).field("channels", a.channels).field("frequency", a.frequency);
        w.field("packets", a.packets).field("bytes", a.bytes);
        w.field("kbit_per_s", audio_kbit_per_s(a)).end_object();
    }
    w.end_array();
    w.key("rtt").begin_object();
    w.field("count", uint64_t{r.rtt.count}).field("min_ms", r.rtt.min_ms);
    w.field("median_ms", r.rtt.median_ms)
        .field("mean_ms", r.rtt.mean_ms)
        .field("max_ms", r.rtt.max_ms);
    w.key("pings").begin_array();
    for (const auto& p : r.scan.pings) {
        w.begin_object().field("connection", p.connection).field("id", p.id);
        w.field("ping_s", double(p.ping_us - start) / 1e6)
            .field("pong_s", double(p.pong_us - start) / 1e6);
        w.field("rtt_ms", double(p.pong_us - p.ping_us) / 1000.0).end_object();
    }
    w.end_array().end_object();
    w.key("ack_wait").begin_object();
    w.field("total_ms", r.ack_wait_ms).field("stalls", uint64_t{r.ack_stalls});
    w.key("windows").begin_array();
    for (const auto& aw : r.scan.ack_windows) {
        w.begin_object().field("connection", aw.connection).field("window", aw.window);
        w.field("peak_unacked", aw.peak_unacked).field("acks", aw.acks).end_object();
    }
    w.end_array();
    w.key("windows_full").begin_array();
    for (const auto& s : r.scan.stalls) {
        w.begin_object().field("connection", s.connection).field("window", s.window);
        w.field("from_s", double(s.from_us - start) / 1e6)
            .field("to_s", double(s.to_us - start) / 1e6);
        w.field("server_waited", s.server_waited).end_object();
    }
    w.end_array().end_object();
    w.key("largest").begin_array();
    for (const auto& m : r.scan.largest) {
        const auto* c = r.scan.connection(m.connection);
        w.begin_object().field("t", double(m.ts_us - start) / 1e6);
        w.field("channel", c ? c->channel : std::string())
            .field("dir", wire::direction_name(m.dir));
        w.field("name", m.name).field("bytes", m.bytes).end_object();
    }
    w.end_array();
    w.end_object();
    out += '\n';
    return out;
}

std::string report_csv(const Report& r) {
    const int64_t start = r.scan.session.start_us;
    std::string out = "section,subject,dir,name,count,bytes,value,unit\n";
    auto row = [&](std::string_view section, std::string_view subject, std::string_view dir,
                   std::string_view name, uint64_t count, uint64_t bytes, double value,
                   std::string_view unit) {
        out += fmt::format("{},{},{},{},{},{},{},{}\n", section, subject, dir, name, count, bytes,
                           value, unit);
    };
    row("total", "session", "", "", r.total_messages, r.total_bytes, r.duration_s, "s");
    for (const auto& c : r.channels) {
        row("channel", c.channel, "", "", c.messages, c.bytes, c.share * 100, "%");
    }
    for (const auto& c : r.scan.connections) {
        for (int d = 0; d < 2; ++d) {
            const char* dir = d == 0 ? "c2s" : "s2c";
            const auto& t = c.dir[d];
            row("connection", c.channel, dir, fmt::format("connection {}", c.info.id), t.messages,
                t.tcp_bytes, double(t.message_bytes), "message_bytes");
            for (const auto& [type, tt] : t.by_type) {
                row("message_type", c.channel, dir, tt.name, tt.messages, tt.bytes, type, "type");
            }
            for (size_t s = 0; s < t.bytes_per_second.size(); ++s) {
                row("per_second", c.channel, dir, fmt::format("{}", s), 0, t.bytes_per_second[s],
                    double(s), "s");
            }
        }
    }
    for (const auto& [codec, im] : r.scan.images) {
        row("image_codec", codec, "s2c", "", im.images, im.bytes,
            im.bytes ? double(im.decoded_bytes) / double(im.bytes) : 0, "ratio");
    }
    for (size_t i = 0; i < r.scan.streams.size(); ++i) {
        const auto& s = r.scan.streams[i];
        const auto& f = r.stream_figures[i];
        const std::string subject =
            fmt::format("stream {} {} {}x{}", s.id, s.codec, s.width, s.height);
        row("stream", subject, "s2c", "bitrate", s.frames, s.bytes, f.mbit_per_s, "Mbit/s");
        row("stream", subject, "s2c", "frame_rate", s.frames, s.bytes, f.fps, "fps");
    }
    for (const auto& a : r.scan.audio) {
        row("audio", a.channel, a.channel == "record" ? "c2s" : "s2c", a.mode, a.packets, a.bytes,
            audio_kbit_per_s(a), "kbit/s");
    }
    for (const auto& p : r.scan.pings) {
        const auto* c = r.scan.connection(p.connection);
        row("rtt", c ? c->channel : "", "", fmt::format("{:.6f}", double(p.ping_us - start) / 1e6),
            1, 0, double(p.pong_us - p.ping_us) / 1000.0, "ms");
    }
    row("ack_wait", "session", "s2c", "", r.ack_stalls, 0, r.ack_wait_ms, "ms");
    for (const auto& m : r.scan.largest) {
        const auto* c = r.scan.connection(m.connection);
        row("largest", c ? c->channel : "", wire::direction_name(m.dir), m.name, 1, m.bytes,
            double(m.ts_us - start) / 1e6, "s");
    }
    return out;
}

Result<Report> write_report(const log::SessionLogReader& reader, const std::string& source,
                            const std::string& path) {
    auto format = format_for_path(path);
    if (!format) {
        return format.error();
    }
    auto r = build_report(reader, source);
    if (!r) {
        return r.error();
    }
    const std::string text = *format == Format::Json  ? report_json(*r)
                             : *format == Format::Csv ? report_csv(*r)
                                                      : report_html(*r);
    if (auto ok = timeline::write_text_file(path, text); !ok) {
        return ok.error();
    }
    return r;
}

Result<void> write_compare(const Report& a, const Report& b, const std::string& path) {
    auto format = format_for_path(path);
    if (!format) {
        return format.error();
    }
    if (*format != Format::Html) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("{}: --compare writes HTML (.html)", path));
    }
    return timeline::write_text_file(path, compare_html(a, b));
}

}  // namespace spicetap::report
