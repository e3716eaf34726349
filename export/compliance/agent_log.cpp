#include "export/compliance/agent_log.h"

#include <fmt/core.h>
#include <spice/vd_agent.h>

#include <variant>

#include "decode/wire/json_writer.h"
#include "export/compliance/clipboard_content.h"

namespace spicetap::compliance {

namespace {

std::string selection_words(const std::optional<uint8_t>& s) {
    return s ? std::string(agent::selection_name(*s)) : std::string("clipboard");
}

std::string cap_names(const std::vector<uint32_t>& words) {
    std::string out;
    for (size_t w = 0; w < words.size(); ++w) {
        for (unsigned bit = 0; bit < 32; ++bit) {
            if ((words[w] >> bit) & 1u) {
                const unsigned n = static_cast<unsigned>(w * 32 + bit);
                const auto name = agent::capability_name(n);
                out += out.empty() ? "" : " ";
                out += name.empty() ? fmt::format("bit{}", n) : std::string(name);
            }
        }
    }
    return out.empty() ? "none" : out;
}

std::string type_list(const std::vector<uint32_t>& types) {
    std::string out;
    for (uint32_t t : types) {
        out += out.empty() ? "" : ", ";
        out += agent::clipboard_type_name(t);
    }
    return out.empty() ? "no types" : out;
}

const char* reply_result_name(uint32_t e) {
    return e == VD_AGENT_SUCCESS ? "success" : e == VD_AGENT_ERROR ? "error" : "unknown";
}

// Human words for one decoded message; file transfer messages also use the tracker's state.
struct Summarise {
    const AgentLogOptions& options;
    const FileTransfer* transfer;
    JsonWriter& w;  // the event's open object, after the dump-style fields

    std::string operator()(const agent::MouseState& m) {
        return fmt::format("{},{} buttons 0x{:x} display {}", m.x, m.y, m.buttons, m.display_id);
    }

    std::string operator()(const agent::MonitorsConfig& m) {
        // Sparse configs (spice-gtk) send every slot; disabled ones are 0x0.
        std::string sizes;
        size_t enabled = 0;
        for (const auto& c : m.monitors) {
            if (c.width != 0 && c.height != 0) {
                ++enabled;
                sizes += fmt::format(" {}x{}{:+}{:+}", c.width, c.height, c.x, c.y);
            }
        }
        return fmt::format("{} monitor{} enabled of {}:{}", enabled, enabled == 1 ? "" : "s",
                           m.monitors.size(), sizes);
    }

    std::string operator()(const agent::Reply& m) {
        return fmt::format("to {}: {}", agent::message_type_name(m.type),
                           reply_result_name(m.error));
    }

    std::string operator()(const agent::Clipboard& m) {
        const ClipboardContent c = describe_clipboard(m.type, m.data);
        std::string out = fmt::format("{} {} {} bytes", selection_words(m.selection),
                                      agent::clipboard_type_name(m.type), m.data.size());
        if (m.type == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
            // (Appended in two steps: GCC 12 at -O3 mistakes `" " + string&&` for an
            // overlapping memcpy, -Wrestrict.)
            out += ' ';
            out += text_preview(m.data, options.preview_chars);
        } else if (c.width) {
            out += fmt::format(" ({}x{})", c.width, c.height);
            w.field("width", c.width).field("height", c.height);
        }
        return out;
    }

    std::string operator()(const agent::DisplayConfig& m) {
        return fmt::format("flags 0x{:x} depth {}", m.flags, m.depth);
    }

    std::string operator()(const agent::AnnounceCapabilities& m) {
        return fmt::format("{}caps: {}", m.request ? "(asks for the other side's) " : "",
                           cap_names(m.caps));
    }

    std::string operator()(const agent::ClipboardGrab& m) {
        return fmt::format("{}: {}", selection_words(m.selection), type_list(m.types));
    }

    std::string operator()(const agent::ClipboardRequest& m) {
        return fmt::format("{}: {}", selection_words(m.selection),
                           agent::clipboard_type_name(m.type));
    }

    std::string operator()(const agent::ClipboardRelease& m) {
        return selection_words(m.selection);
    }

    std::string operator()(const agent::FileXferStart& m) {
        return fmt::format("#{} \"{}\" {}", m.id, m.name ? *m.name : std::string("(no name)"),
                           m.size ? fmt::format("{} bytes", *m.size) : "(no size)");
    }

    std::string operator()(const agent::FileXferStatus& m) {
        std::string out = fmt::format("#{} {}", m.id, agent::file_xfer_status_name(m.result));
        if (m.error_code) {
            out += fmt::format(" (error code {})", *m.error_code);
        }
        if (transfer && transfer->state != TransferState::InProgress) {
            out += fmt::format(": transfer {}", transfer_state_name(transfer->state));
            w.field("transfer_state", transfer_state_name(transfer->state));
        }
        return out;
    }

    std::string operator()(const agent::FileXferData& m) {
        if (!transfer) {
            return fmt::format("#{} {} bytes", m.id, m.size);
        }
        w.field("received", transfer->received);
        if (transfer->declared_size) {
            w.field("total", *transfer->declared_size);
            const double pct = *transfer->declared_size
                                   ? 100.0 * static_cast<double>(transfer->received) /
                                         static_cast<double>(*transfer->declared_size)
                                   : 100.0;
            return fmt::format("#{} {} bytes, {}/{} ({:.0f}%)", m.id, m.size, transfer->received,
                               *transfer->declared_size, pct);
        }
        w.field_null("total");
        return fmt::format("#{} {} bytes, {} so far", m.id, m.size, transfer->received);
    }

    std::string operator()(const agent::ClientDisconnected&) { return "the client went away"; }

    std::string operator()(const agent::MaxClipboard& m) {
        return m.max < 0 ? std::string("no limit") : fmt::format("{} bytes", m.max);
    }

    std::string operator()(const agent::AudioVolumeSync& m) {
        std::string out = fmt::format("{}{}, volume", m.is_playback ? "playback" : "record",
                                      m.mute ? " muted" : "");
        for (uint16_t v : m.volume) {
            out += fmt::format(" {}", v);
        }
        return out;
    }

    std::string operator()(const agent::GraphicsDeviceInfo& m) {
        std::string out =
            fmt::format("{} display{}", m.displays.size(), m.displays.size() == 1 ? "" : "s");
        for (const auto& d : m.displays) {
            out += fmt::format("; channel {} monitor {} -> {} #{}", d.channel_id, d.monitor_id,
                               d.device_address, d.device_display_id);
        }
        return out;
    }
};

// `"key":value,...` written by fill into an object, without its braces.
template <typename Fill>
std::string json_fields(Fill&& fill) {
    std::string obj;
    JsonWriter w(obj);
    w.begin_object();
    fill(w);
    w.end_object();
    return obj.substr(1, obj.size() - 2);
}

std::string time_of(int64_t ts_us, int64_t start_us) {
    return fmt::format("{:.6f}", static_cast<double>(ts_us - start_us) / 1e6);
}

}  // namespace

Result<AgentLogReport> collect_agent_log(const log::SessionLogReader& reader,
                                         const AgentLogOptions& options) {
    AgentLogReport report;
    FileTransferTracker transfers;
    auto walked = walk_agent(reader, [&](const AgentRecord& rec) {
        const int ti = transfers.on_record(rec);
        AgentLogEvent ev;
        ev.ts_us = rec.ts_us;
        ev.connection = rec.connection;
        ev.dir = rec.dir;
        switch (rec.kind) {
            case AgentRecord::Kind::AgentConnected:
                ev.has_dir = false;
                ev.event = "agent_connected";
                ev.summary = "the guest agent is connected";
                break;
            case AgentRecord::Kind::AgentDisconnected: {
                ev.has_dir = false;
                ev.event = "agent_disconnected";
                ev.summary = "the guest agent went away (" + rec.text + ")";
                break;
            }
            case AgentRecord::Kind::StreamError: {
                ev.event = "stream_error";
                ev.summary = rec.text;
                ev.fields = json_fields([&](JsonWriter& w) { w.field("error", rec.text); });
                break;
            }
            case AgentRecord::Kind::ConnectionEnd: {
                ev.has_dir = false;
                ev.event = "main_connection_end";
                ev.summary = "main connection ended (" + rec.text + ")";
                ev.fields = json_fields([&](JsonWriter& w) {
                    w.field("reason", rec.text);
                    w.field("partial_client_to_guest", rec.partial_c2s);
                    w.field("partial_guest_to_client", rec.partial_s2c);
                });
                if (rec.partial_c2s || rec.partial_s2c) {
                    ev.summary += "; a message from the ";
                    ev.summary += rec.partial_c2s ? "client" : "guest";
                    ev.summary += " was only partly recorded";
                }
                break;
            }
            case AgentRecord::Kind::Message: {
                const agent::AgentMessage& m = *rec.message;
                ev.event = std::string(agent::message_type_name(m.header.type));
                if (!m.body) {
                    ev.summary = "undecodable: " + m.body.error().message();
                    ev.fields = json_fields([&](JsonWriter& w) {
                        w.field("agent_type", m.header.type).field("size", m.header.size);
                        w.field("decode_error", m.body.error().message());
                    });
                    break;
                }
                if (std::holds_alternative<agent::MouseState>(*m.body)) {
                    ++report.mouse_states;
                    if (!options.include_mouse) {
                        return;
                    }
                }
                if (const auto* c = std::get_if<agent::Clipboard>(&*m.body)) {
                    auto& count = report.clipboard[agent_direction_key(rec.dir)];
                    ++count.items;
                    count.bytes += c->data.size();
                }
                const FileTransfer* t =
                    ti >= 0 ? &transfers.transfers()[static_cast<size_t>(ti)] : nullptr;
                ev.fields = json_fields([&](JsonWriter& w) {
                    agent::write_body_json(*m.body, w);
                    ev.summary = std::visit(Summarise{options, t, w}, *m.body);
                });
                break;
            }
        }
        report.events.push_back(std::move(ev));
    });
    if (!walked) {
        return walked.error();
    }
    report.stats = *walked;
    report.transfers = transfers.transfers();
    return report;
}

std::string format_agent_text(const AgentLogReport& r, int64_t start_us) {
    std::string out;
    for (const auto& e : r.events) {
        out += fmt::format("{:>12}  {:<13}  {:<21}  {}\n", time_of(e.ts_us, start_us),
                           e.has_dir ? agent_direction_arrow(e.dir) : "", e.event, e.summary);
    }
    out += fmt::format("\nFile transfers: {}\n", r.transfers.size());
    for (const auto& t : r.transfers) {
        out += fmt::format("  #{} {} \"{}\" {} bytes: {}{}  ({} .. {} s)\n", t.id,
                           agent_direction_arrow(t.dir), t.name ? *t.name : "(unknown)", t.received,
                           transfer_state_name(t.state), t.note.empty() ? "" : " - " + t.note,
                           time_of(t.start_us, start_us), time_of(t.end_us, start_us));
    }
    out += "Clipboard data:";
    if (r.clipboard.empty()) {
        out += " none";
    }
    for (const auto& [dir, c] : r.clipboard) {
        out += fmt::format(" {} {} item{} ({} bytes);", dir, c.items, c.items == 1 ? "" : "s",
                           c.bytes);
    }
    if (!r.clipboard.empty()) {
        out.pop_back();
    }
    out += fmt::format("\n{} agent messages", r.stats.messages);
    if (r.mouse_states && r.events.size() < r.stats.messages) {
        out += fmt::format(" ({} mouse_state not listed; --mouse lists them)", r.mouse_states);
    }
    if (r.stats.undecodable || r.stats.stream_errors) {
        out += fmt::format(", {} undecodable, {} stream errors", r.stats.undecodable,
                           r.stats.stream_errors);
    }
    out += "\n";
    return out;
}

std::string format_agent_json(const AgentLogReport& r, int64_t start_us) {
    std::string out;
    for (const auto& e : r.events) {
        JsonWriter w(out);
        w.begin_object();
        w.field("t", static_cast<double>(e.ts_us - start_us) / 1e6);
        w.field("connection", e.connection);
        if (e.has_dir) {
            w.field("dir", agent_direction_key(e.dir));
        } else {
            w.field_null("dir");
        }
        w.field("event", e.event);
        if (!e.fields.empty()) {
            w.raw_fields(e.fields);
        }
        w.end_object();
        out.push_back('\n');
    }
    JsonWriter w(out);
    w.begin_object().key("summary").begin_object();
    w.field("messages", r.stats.messages).field("mouse_states", r.mouse_states);
    w.field("undecodable", r.stats.undecodable).field("stream_errors", r.stats.stream_errors);
    w.key("clipboard").begin_object();
    for (const auto& [dir, c] : r.clipboard) {
        w.key(dir).begin_object().field("items", c.items).field("bytes", c.bytes).end_object();
    }
    w.end_object().key("file_transfers").begin_array();
    for (const auto& t : r.transfers) {
        w.begin_object().field("connection", t.connection).field("id", t.id);
        w.field("dir", agent_direction_key(t.dir));
        if (t.name) {
            w.field("name", *t.name);
        } else {
            w.field_null("name");
        }
        if (t.declared_size) {
            w.field("size", *t.declared_size);
        } else {
            w.field_null("size");
        }
        w.field("received", t.received).field("data_messages", t.data_messages);
        w.field("state", transfer_state_name(t.state));
        if (t.result) {
            w.field("result", agent::file_xfer_status_name(*t.result));
        } else {
            w.field_null("result");
        }
        w.field("note", t.note);
        w.field("start", static_cast<double>(t.start_us - start_us) / 1e6);
        w.field("end", static_cast<double>(t.end_us - start_us) / 1e6);
        w.end_object();
    }
    w.end_array().end_object().end_object();
    out.push_back('\n');
    return out;
}

}  // namespace spicetap::compliance
