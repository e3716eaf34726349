#include "export/timeline/timeline.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "decode/wire/json_writer.h"

namespace spicetap::timeline {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string channel_name(const log::ConnectionInfo& c) {
    return c.channel_type >= 0 ? std::string(wire::channel_type_name(uint8_t(c.channel_type)))
                               : std::string("unknown");
}

std::string csv_quote(std::string_view s) {
    if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
        return std::string(s);
    }
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"') {
            out += '"';
        }
        out += ch;
    }
    out += '"';
    return out;
}

}  // namespace

Result<Format> format_for_path(const std::string& path) {
    if (ends_with(path, ".jsonl")) {
        return Format::JsonLines;
    }
    if (ends_with(path, ".csv")) {
        return Format::Csv;
    }
    if (ends_with(path, ".json")) {
        return Format::TraceJson;
    }
    if (ends_with(path, ".html") || ends_with(path, ".htm")) {
        return Format::Html;
    }
    return make_error(Errc::BadValue, 0,
                      fmt::format("{}: the output's extension chooses the format: .jsonl, .csv, "
                                  ".json (Chrome trace events) or .html",
                                  path));
}

Result<Timeline> build_timeline(const log::SessionLogReader& reader, const TimelineOptions& options,
                                Format format) {
    Timeline t;
    const log::SessionInfo& si = reader.session();
    t.from_us = options.from_us.value_or(si.start_us);
    t.to_us = options.to_us.value_or(si.end_us);
    ScanOptions so;
    so.key_fields = options.key_fields;
    so.on_message = [&](MessageInfo&& m) {
        if (m.ts_us >= t.from_us && m.ts_us <= t.to_us) {
            t.messages.push_back(std::move(m));
        }
    };
    auto scan = scan_session(reader, so);
    if (!scan) {
        return scan.error();
    }
    t.scan = std::move(*scan);
    std::stable_sort(t.messages.begin(), t.messages.end(), message_order);
    for (const Event& e : t.scan.events) {
        if (e.end_us >= t.from_us && e.ts_us <= t.to_us) {
            t.events.push_back(e);
        }
    }
    if (format == Format::Html && options.thumbnails > 0) {
        ThumbnailOptions to;
        to.count = options.thumbnails;
        to.from_us = t.from_us;
        to.to_us = t.to_us;
        auto th = render_thumbnails(reader, to);
        if (th) {
            t.thumbnails = std::move(*th);
        } else {
            t.thumbnail_error = th.error().what;
        }
    }
    return t;
}

std::string write_jsonl(const Timeline& t) {
    std::string out;
    const int64_t start = t.scan.session.start_us;
    auto conn_of = [&](int64_t id) { return t.scan.connection(id); };
    // Messages and events merged by time; events first at equal times.
    size_t ei = 0;
    auto emit_event = [&](const Event& e) {
        JsonWriter w(out);
        w.begin_object();
        w.field("kind", "event").field("t", double(e.ts_us - start) / 1e6);
        w.field("end", double(e.end_us - start) / 1e6);
        w.field("event", e.kind).field("connection", e.connection);
        if (const ConnectionTotals* c = conn_of(e.connection)) {
            w.field("channel", c->channel);
        }
        w.field("text", e.text);
        w.end_object();
        out += '\n';
    };
    for (const MessageInfo& m : t.messages) {
        while (ei < t.events.size() && t.events[ei].ts_us <= m.ts_us) {
            emit_event(t.events[ei++]);
        }
        const ConnectionTotals* c = conn_of(m.connection);
        JsonWriter w(out);
        w.begin_object();
        w.field("kind", "message").field("t", double(m.ts_us - start) / 1e6);
        w.field("channel", c ? channel_name(c->info) : std::string("unknown"));
        w.field("channel_id", int64_t{c ? c->info.channel_id : -1});
        w.field("connection", m.connection);
        w.field("dir", wire::direction_name(m.dir));
        if (m.serial) {
            w.field("serial", *m.serial);
        } else {
            w.field_null("serial");
        }
        w.field("type", m.type).field("name", m.name).field("size", m.size);
        if (!m.fields.empty()) {
            w.key("fields").raw(m.fields);
        }
        if (!m.error.empty()) {
            w.field("error", m.error);
        }
        w.end_object();
        out += '\n';
    }
    while (ei < t.events.size()) {
        emit_event(t.events[ei++]);
    }
    return out;
}

std::string write_csv(const Timeline& t) {
    std::string out = "t,kind,channel,connection,dir,serial,type,name,size,end,detail\n";
    const int64_t start = t.scan.session.start_us;
    size_t ei = 0;
    auto emit_event = [&](const Event& e) {
        const ConnectionTotals* c = t.scan.connection(e.connection);
        out += fmt::format("{:.6f},event,{},{},,,,{},,{:.6f},{}\n", double(e.ts_us - start) / 1e6,
                           c ? c->channel : "", e.connection, e.kind,
                           double(e.end_us - start) / 1e6, csv_quote(e.text));
    };
    for (const MessageInfo& m : t.messages) {
        while (ei < t.events.size() && t.events[ei].ts_us <= m.ts_us) {
            emit_event(t.events[ei++]);
        }
        const ConnectionTotals* c = t.scan.connection(m.connection);
        out +=
            fmt::format("{:.6f},message,{},{},{},{},{},{},{},,{}\n", double(m.ts_us - start) / 1e6,
                        c ? c->channel : "", m.connection, wire::direction_name(m.dir),
                        m.serial ? fmt::format("{}", *m.serial) : "", m.type, m.name, m.size,
                        csv_quote(m.error.empty() ? m.fields : "error: " + m.error));
    }
    while (ei < t.events.size()) {
        emit_event(t.events[ei++]);
    }
    return out;
}

// Chrome trace-event format: one process (the session), two threads per connection (client to
// server, server to client) plus one for its notable events; messages are instant events,
// events with a duration complete ("X") events, bandwidth a counter per connection.
std::string write_trace_json(const Timeline& t) {
    const int64_t start = t.scan.session.start_us;
    constexpr int kPid = 1;
    auto tid = [](int64_t connection, int lane) {
        return connection * 3 + lane;
    };  // 0 c2s 1 s2c 2 events
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("traceEvents").begin_array();
    auto meta = [&](const char* name, int64_t thread, const std::string& value, int64_t sort) {
        w.begin_object();
        w.field("ph", "M").field("name", name).field("pid", int64_t{kPid}).field("tid", thread);
        w.field("ts", int64_t{0});
        w.key("args").begin_object();
        if (sort >= 0) {
            w.field("sort_index", sort);
        } else {
            w.field("name", value);
        }
        w.end_object().end_object();
    };
    meta("process_name", 0,
         fmt::format("SPICE session 0x{:08x} ({})", t.scan.session.session_id, t.source), -1);
    for (const ConnectionTotals& c : t.scan.connections) {
        const std::string lanes[3] = {c.channel + " client->server", c.channel + " server->client",
                                      c.channel + " events"};
        for (int lane = 0; lane < 3; ++lane) {
            meta("thread_name", tid(c.info.id, lane), lanes[lane], -1);
            meta("thread_sort_index", tid(c.info.id, lane), "", tid(c.info.id, lane));
        }
    }
    for (const MessageInfo& m : t.messages) {
        const int lane = m.dir == Direction::ClientToServer ? 0 : 1;
        w.begin_object();
        w.field("ph", "i").field("s", "t").field("name", m.name);
        w.field("cat", m.dir == Direction::ClientToServer ? "c2s" : "s2c");
        w.field("ts", double(m.ts_us - start)).field("pid", int64_t{kPid});
        w.field("tid", tid(m.connection, lane));
        w.key("args").begin_object();
        w.field("type", m.type).field("size", m.size).field("header", m.header_size);
        if (m.serial) {
            w.field("serial", *m.serial);
        }
        if (!m.fields.empty()) {
            w.key("fields").raw(m.fields);
        }
        if (!m.error.empty()) {
            w.field("error", m.error);
        }
        w.end_object().end_object();
    }
    for (const Event& e : t.events) {
        w.begin_object();
        const bool span = e.end_us > e.ts_us;
        w.field("ph", span ? "X" : "i");
        if (!span) {
            w.field("s", "t");
        }
        w.field("name", e.kind).field("cat", "event");
        w.field("ts", double(e.ts_us - start));
        if (span) {
            w.field("dur", double(e.end_us - e.ts_us));
        }
        w.field("pid", int64_t{kPid})
            .field("tid", e.connection == 0 ? int64_t{0} : tid(e.connection, 2));
        w.key("args").begin_object().field("text", e.text).end_object();
        w.end_object();
    }
    // Bandwidth: recorded payload bytes per second of each connection and direction.
    const int64_t first_s = (t.from_us - start) / 1'000'000;
    const int64_t last_s = (t.to_us - start) / 1'000'000;
    for (const ConnectionTotals& c : t.scan.connections) {
        const size_t n =
            std::max(c.dir[0].bytes_per_second.size(), c.dir[1].bytes_per_second.size());
        for (size_t s = 0; s < n; ++s) {
            if (int64_t(s) < first_s || int64_t(s) > last_s) {
                continue;
            }
            auto at = [&](int d) {
                const auto& v = c.dir[d].bytes_per_second;
                return s < v.size() ? v[s] : uint64_t{0};
            };
            w.begin_object();
            w.field("ph", "C").field("name", c.channel + " bytes/s");
            w.field("ts", double(int64_t(s) * 1'000'000)).field("pid", int64_t{kPid});
            w.field("tid", tid(c.info.id, 2));
            w.key("args").begin_object().field("c2s", at(0)).field("s2c", at(1)).end_object();
            w.end_object();
        }
    }
    w.end_array();
    w.field("displayTimeUnit", "ms");
    w.key("metadata").begin_object();
    w.field("source", t.source).field("tool", "spicetap timeline");
    w.field("session_start_utc_us", start);
    w.end_object();
    w.end_object();
    out += '\n';
    return out;
}

Result<void> write_text_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) {
        return make_error(Errc::Io, 0, fmt::format("cannot write {}", path));
    }
    f.write(text.data(), std::streamsize(text.size()));
    f.close();
    if (!f) {
        return make_error(Errc::Io, 0, fmt::format("cannot write {}", path));
    }
    return {};
}

std::string json_for_script(std::string json) {
    // "</script>" inside a string would end the element; JSON allows "\/" for "/".
    std::string out;
    out.reserve(json.size());
    for (size_t i = 0; i < json.size(); ++i) {
        if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') {
            out += "<\\/";
            ++i;
        } else if (json[i] == '<' && json.compare(i, 4, "<!--") == 0) {
            out += "\\u003c";
        } else {
            out += json[i];
        }
    }
    return out;
}

Result<TimelineStats> write_timeline(const log::SessionLogReader& reader,
                                     const TimelineOptions& options, const std::string& source,
                                     const std::string& path) {
    auto format = format_for_path(path);
    if (!format) {
        return format.error();
    }
    auto t = build_timeline(reader, options, *format);
    if (!t) {
        return t.error();
    }
    t->source = source;
    std::string text;
    switch (*format) {
        case Format::JsonLines:
            text = write_jsonl(*t);
            break;
        case Format::Csv:
            text = write_csv(*t);
            break;
        case Format::TraceJson:
            text = write_trace_json(*t);
            break;
        case Format::Html:
            text = write_html(*t);
            break;
    }
    if (auto ok = write_text_file(path, text); !ok) {
        return ok.error();
    }
    TimelineStats stats;
    stats.messages = t->messages.size();
    stats.events = t->events.size();
    stats.thumbnails = t->thumbnails.size();
    stats.format = *format;
    return stats;
}

}  // namespace spicetap::timeline
