#include "export/dump/message_dump.h"

#include <fmt/core.h>

#include <spice/enums.h>

#include <map>

#include "decode/agent/agent_stream.h"
#include "decode/channels/message_fields.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "export/summary/session_summary.h"

namespace spicetap::dump {

namespace {

struct ChannelFilter {
    std::optional<uint8_t> type;
    std::optional<int> id;
};

Result<ChannelFilter> parse_channel_filter(const std::string& text) {
    ChannelFilter f;
    if (text.empty()) {
        return f;
    }
    std::string name = text;
    const size_t sep = text.find_first_of(":#");
    if (sep != std::string::npos) {
        name = text.substr(0, sep);
        const std::string id = text.substr(sep + 1);
        char* end = nullptr;
        const long v = std::strtol(id.c_str(), &end, 10);
        if (id.empty() || *end != '\0' || v < 0 || v > 255) {
            return make_error(Errc::BadValue, 0,
                              fmt::format("bad channel id in \"{}\" (expected NAME:ID)", text));
        }
        f.id = static_cast<int>(v);
    }
    f.type = wire::channel_type_from_name(name);
    if (!f.type) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("unknown channel \"{}\" (main, display, inputs, cursor, "
                                      "playback, record, tunnel, smartcard, usbredir, port, "
                                      "webdav)",
                                      name));
    }
    return f;
}

}  // namespace

Result<DumpStats> dump_messages(const log::SessionLogReader& reader, const DumpOptions& options,
                                const std::function<void(std::string_view)>& out) {
    auto filter = parse_channel_filter(options.channel);
    if (!filter) {
        return filter.error();
    }
    std::map<int64_t, const log::ConnectionInfo*> conns;
    std::map<int64_t, wire::ChannelCaps> caps;
    for (const auto& c : reader.connections()) {
        conns[c.id] = &c;
        caps[c.id] = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps,
                                       c.server_common_caps, c.server_channel_caps};
    }
    const int64_t start = reader.session().start_us;
    // Agent messages span several AGENT_DATA messages: one reassembler per main channel.
    std::map<int64_t, agent::AgentSession> agents;
    log::SessionLogReader::MessageFilter mf;
    mf.from_us = options.from_us;
    mf.to_us = options.to_us;
    DumpStats stats;
    std::string line;
    auto r = reader.for_each_message(mf, [&](const log::MessageRecord& m) {
        auto it = conns.find(m.connection);
        if (it == conns.end()) {
            return true;
        }
        const log::ConnectionInfo& c = *it->second;
        if (filter->type && c.channel_type != *filter->type) {
            return true;
        }
        if (filter->id && c.channel_id != *filter->id) {
            return true;
        }
        const double t = static_cast<double>(m.ts_us - start) / 1e6;
        const std::string_view channel =
            c.channel_type >= 0 ? wire::channel_type_name(static_cast<uint8_t>(c.channel_type))
                                : std::string_view("unknown");
        const std::string name = summary::display_message_name(c.channel_type, m.dir, m.type);
        // Decoded fields go into their own object text first, spliced into the line below.
        std::string fields;
        std::string error;
        if (options.decode && c.channel_type >= 0 &&
            channels::has_decoder(static_cast<uint8_t>(c.channel_type), m.type)) {
            auto body = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
            if (!body) {
                error = body.error().what;
            } else {
                JsonWriter fw(fields);
                fw.begin_object();
                auto written = channels::write_message_fields(static_cast<uint8_t>(c.channel_type),
                                                        m.dir, m.type, *body, caps[m.connection],
                                                        fw);
                const bool agent_data =
                    c.channel_type == SPICE_CHANNEL_MAIN &&
                    ((m.dir == log::Direction::ServerToClient &&
                      m.type == SPICE_MSG_MAIN_AGENT_DATA) ||
                     (m.dir == log::Direction::ClientToServer &&
                      m.type == SPICE_MSGC_MAIN_AGENT_DATA));
                if (written && agent_data) {
                    agent::feed_and_write_json(agents[m.connection], m.dir, *body, fw);
                }
                fw.end_object();
                if (!written) {
                    error = written.error().message();
                    fields.clear();
                } else {
                    ++stats.decoded;
                }
            }
            if (!error.empty()) {
                ++stats.errors;
            }
        }
        line.clear();
        if (options.json) {
            JsonWriter w(line);
            w.begin_object();
            w.field("t", t).field("channel", channel);
            w.field("channel_id", static_cast<int64_t>(c.channel_id));
            w.field("dir", wire::direction_name(m.dir));
            if (m.serial) {
                w.field("serial", *m.serial);
            } else {
                w.field_null("serial");
            }
            w.field("type", m.type).field("name", name).field("size", m.size);
            w.field("connection", m.connection).field("offset", m.offset);
            if (fields.size() > 2) {
                w.raw_fields(std::string_view(fields).substr(1, fields.size() - 2));
            }
            if (!error.empty()) {
                w.field("error", error);
            }
            w.end_object();
        } else {
            const std::string serial = m.serial ? fmt::format("{}", *m.serial) : "-";
            line = fmt::format("{:>12.6f}  {:<12} {}  {:>7}  {:<28} {:>9}", t,
                               fmt::format("{}#{}", channel, c.channel_id),
                               wire::direction_name(m.dir), serial,
                               fmt::format("{} ({})", name, m.type), m.size);
            if (fields.size() > 2) {
                line += "  " + fields;
            }
            if (!error.empty()) {
                line += "  ERROR: " + error;
            }
        }
        out(line);
        ++stats.messages;
        return true;
    });
    if (!r) {
        return r.error();
    }
    return stats;
}

}  // namespace spicetap::dump
