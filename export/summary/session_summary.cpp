#include "export/summary/session_summary.h"

#include <fmt/core.h>

#include <ctime>

#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "export/summary/session_list.h"

namespace spicetap::summary {

using wire::Direction;

std::string display_message_name(int channel_type, Direction dir, uint16_t type) {
    if (channel_type >= 0) {
        std::string_view n = wire::message_name(static_cast<uint8_t>(channel_type), dir, type);
        if (!n.empty()) {
            return std::string(n);
        }
    }
    return fmt::format("unknown_{}", type);
}

std::string format_utc(int64_t ts_us) {
    const std::time_t t = static_cast<std::time_t>(ts_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return fmt::format("{}.{:06d} UTC", buf, static_cast<int>(ts_us % 1000000));
}

Result<SessionSummary> summarize(const log::SessionLogReader& reader, const std::string& path) {
    SessionSummary s;
    s.path = path;
    s.schema_version = reader.schema_version();
    s.session = reader.session();
    std::map<int64_t, size_t> index;
    for (const auto& c : reader.connections()) {
        index[c.id] = s.connections.size();
        ConnectionSummary cs;
        cs.info = c;
        cs.c2s.bytes = c.bytes_c2s;
        cs.s2c.bytes = c.bytes_s2c;
        s.connections.push_back(std::move(cs));
    }
    auto r = reader.for_each_message({}, [&](const log::MessageRecord& m) {
        auto it = index.find(m.connection);
        if (it == index.end()) {
            return true;
        }
        ConnectionSummary& cs = s.connections[it->second];
        DirectionCounts& d = m.dir == Direction::ClientToServer ? cs.c2s : cs.s2c;
        ++d.messages;
        ++d.by_name[display_message_name(cs.info.channel_type, m.dir, m.type)];
        ++s.messages;
        return true;
    });
    if (!r) {
        return r.error();
    }
    auto gaps = reader.gaps();
    if (!gaps) {
        return gaps.error();
    }
    s.gaps = std::move(*gaps);
    auto notes = reader.notes();
    if (!notes) {
        return notes.error();
    }
    s.notes = std::move(*notes);
    return s;
}

namespace {

std::string channel_label(const log::ConnectionInfo& c) {
    if (c.channel_type < 0) {
        return "(no link)";
    }
    return fmt::format("{}#{}", wire::channel_type_name(static_cast<uint8_t>(c.channel_type)),
                       c.channel_id);
}

double seconds_since(int64_t start_us, int64_t ts_us) {
    return static_cast<double>(ts_us - start_us) / 1e6;
}

const ConnectionSummary* find_connection(const SessionSummary& s, int64_t id) {
    for (const auto& c : s.connections) {
        if (c.info.id == id) {
            return &c;
        }
    }
    return nullptr;
}

std::vector<std::string> cap_names(int channel_type, const std::vector<uint32_t>& common,
                                   const std::vector<uint32_t>& channel) {
    std::vector<std::string> out;
    for (unsigned bit = 0; bit < common.size() * 32; ++bit) {
        if (wire::cap_bit(common, bit)) {
            std::string_view n = wire::common_cap_name(bit);
            out.push_back(n.empty() ? fmt::format("common_{}", bit) : std::string(n));
        }
    }
    for (unsigned bit = 0; bit < channel.size() * 32; ++bit) {
        if (wire::cap_bit(channel, bit)) {
            std::string_view n =
                channel_type >= 0 ? wire::channel_cap_name(static_cast<uint8_t>(channel_type), bit)
                                  : std::string_view();
            out.push_back(n.empty() ? fmt::format("channel_{}", bit) : std::string(n));
        }
    }
    return out;
}

}  // namespace

std::string format_summary_text(const SessionSummary& s) {
    const auto& si = s.session;
    std::string out;
    out += fmt::format("Session {:#010x}  server {}  client {}\n", si.session_id, si.server,
                       si.client);
    out += fmt::format("  start     {}\n", format_utc(si.start_us));
    out += fmt::format("  duration  {:.3f} s\n", seconds_since(si.start_us, si.end_us));
    out += fmt::format("  source    {} {}\n", si.source_kind, si.source);
    if (s.imported) {
        out += fmt::format("  log       none: {} was imported on the fly (schema {})\n", s.path,
                           s.schema_version);
    } else {
        const RecordingState state = recording_state(si);
        out += fmt::format("  log       {} (schema {}{})\n", s.path, s.schema_version,
                           state == RecordingState::Recording
                               ? ", still being recorded"
                           : state == RecordingState::CutShort
                               ? ", NOT closed cleanly: recording was cut short"
                               : "");
    }
    if (si.part > 1 || !si.next_part.empty()) {
        out += fmt::format("  part      {} (previous {}, next {})\n", si.part,
                           si.previous_part.empty() ? "none" : si.previous_part,
                           si.next_part.empty() ? "none" : si.next_part);
    }
    if (si.capture) {
        out += fmt::format("  capture   {} packets, {} dropped by the kernel, {} by the "
                           "interface (whole capture, while this log was open)\n",
                           si.capture->packets, si.capture->dropped, si.capture->if_dropped);
    }
    out += fmt::format("  messages  {}   gaps {}   notes {}\n\n", s.messages, s.gaps.size(),
                       s.notes.size());

    out += "Connections\n";
    out += fmt::format("  {:>3}  {:<12} {:<22} {:>9} {:>9}  {:>11} {:>7}  {:>11} {:>7}  {}\n",
                       "id", "channel", "client", "start s", "end s", "c2s bytes", "msgs",
                       "s2c bytes", "msgs", "ended");
    for (const auto& c : s.connections) {
        const auto& i = c.info;
        std::string ended = i.end_reason.empty() ? "open" : i.end_reason;
        if (i.link_error != 0) {
            std::string_view e = wire::link_error_name(i.link_error);
            ended += fmt::format(" (link error: {})", e.empty() ? "unknown" : e);
        }
        out += fmt::format("  {:>3}  {:<12} {:<22} {:>9.3f} {:>9.3f}  {:>11} {:>7}  {:>11} {:>7}  {}\n",
                           i.id, channel_label(i), fmt::format("{}:{}", i.client_addr, i.client_port),
                           seconds_since(si.start_us, i.start_us),
                           seconds_since(si.start_us, i.end_us), c.c2s.bytes, c.c2s.messages,
                           c.s2c.bytes, c.s2c.messages, ended);
    }

    out += "\nMessages by channel\n";
    for (const auto& c : s.connections) {
        if (c.c2s.messages + c.s2c.messages == 0) {
            continue;
        }
        out += fmt::format("  {}  ({} header)\n", channel_label(c.info),
                           c.info.mini_header ? "mini" : "full");
        for (const auto* d : {&c.s2c, &c.c2s}) {
            if (d->by_name.empty()) {
                continue;
            }
            std::string line;
            for (const auto& [name, n] : d->by_name) {
                line += fmt::format(" {}={}", name, n);
            }
            out += fmt::format("    {}:{}\n", d == &c.s2c ? "s2c" : "c2s", line);
        }
    }

    if (!s.gaps.empty()) {
        out += "\nGaps (bytes the capture lost)\n";
        for (const auto& g : s.gaps) {
            const ConnectionSummary* c = find_connection(s, g.connection);
            out += fmt::format("  {:>9.3f} s  {} {}  stream offset {}  {} bytes\n",
                               seconds_since(si.start_us, g.ts_us),
                               c ? channel_label(c->info) : "?", wire::direction_name(g.dir),
                               g.offset, g.length);
        }
    }
    if (!s.notes.empty()) {
        out += "\nNotes\n";
        for (const auto& n : s.notes) {
            const ConnectionSummary* c = find_connection(s, n.connection);
            out += fmt::format("  {:>9.3f} s  {}  {}: {}\n", seconds_since(si.start_us, n.ts_us),
                               c ? channel_label(c->info) : "session", n.kind, n.text);
        }
    }
    return out;
}

std::string format_summary_json(const SessionSummary& s) {
    const auto& si = s.session;
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("path", s.path).field("imported", s.imported).field("schema_version", static_cast<int64_t>(s.schema_version));
    w.field("session_id", si.session_id).field("server", si.server).field("client", si.client);
    w.field("start", format_utc(si.start_us)).field("start_us", si.start_us);
    w.field("end_us", si.end_us).field("duration_s", seconds_since(si.start_us, si.end_us));
    w.field("complete", si.complete).field("created", si.created);
    w.field("state", recording_state_name(recording_state(si)));
    w.field("tool_version", si.tool_version);
    w.key("source").begin_object().field("kind", si.source_kind).field("path", si.source).end_object();
    w.field("messages", s.messages);
    w.key("connections").begin_array();
    for (const auto& c : s.connections) {
        const auto& i = c.info;
        w.begin_object();
        w.field("id", i.id);
        if (i.channel_type >= 0) {
            w.field("channel", wire::channel_type_name(static_cast<uint8_t>(i.channel_type)));
            w.field("channel_type", static_cast<int64_t>(i.channel_type));
            w.field("channel_id", static_cast<int64_t>(i.channel_id));
        } else {
            w.field_null("channel").field_null("channel_type").field_null("channel_id");
        }
        w.field("connection_id", i.connection_id);
        w.field("client", fmt::format("{}:{}", i.client_addr, i.client_port));
        w.field("server", fmt::format("{}:{}", i.server_addr, i.server_port));
        w.field("start_s", seconds_since(si.start_us, i.start_us));
        w.field("end_s", seconds_since(si.start_us, i.end_us));
        w.field("end_reason", i.end_reason.empty() ? std::string("open") : i.end_reason);
        w.field("link_error", i.link_error);
        w.field("tls", i.tls).field("mini_header", i.mini_header);
        w.key("client_caps").begin_array();
        for (const auto& n : cap_names(i.channel_type, i.client_common_caps, i.client_channel_caps)) {
            w.value(n);
        }
        w.end_array();
        w.key("server_caps").begin_array();
        for (const auto& n : cap_names(i.channel_type, i.server_common_caps, i.server_channel_caps)) {
            w.value(n);
        }
        w.end_array();
        for (const auto* d : {&c.c2s, &c.s2c}) {
            w.key(d == &c.c2s ? "c2s" : "s2c").begin_object();
            w.field("bytes", d->bytes).field("messages", d->messages);
            w.key("by_name").begin_object();
            for (const auto& [name, n] : d->by_name) {
                w.field(name, n);
            }
            w.end_object().end_object();
        }
        w.end_object();
    }
    w.end_array();
    w.key("gaps").begin_array();
    for (const auto& g : s.gaps) {
        w.begin_object().field("connection", g.connection).field("dir", wire::direction_name(g.dir));
        w.field("t", seconds_since(si.start_us, g.ts_us)).field("offset", g.offset);
        w.field("length", g.length).end_object();
    }
    w.end_array();
    w.key("notes").begin_array();
    for (const auto& n : s.notes) {
        w.begin_object().field("connection", n.connection);
        w.field("t", seconds_since(si.start_us, n.ts_us)).field("kind", n.kind);
        w.field("text", n.text).end_object();
    }
    w.end_array();
    w.end_object();
    out.push_back('\n');
    return out;
}

}  // namespace spicetap::summary
