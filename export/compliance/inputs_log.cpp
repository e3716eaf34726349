#include "export/compliance/inputs_log.h"

#include <fmt/core.h>
#include <spice/enums.h>

#include <map>
#include <variant>

#include "decode/channels/inputs_channel.h"
#include "decode/wire/json_writer.h"
#include "export/compliance/keymap.h"

namespace spicetap::compliance {

namespace {

const char* button_name(uint8_t b) {
    switch (b) {
        case SPICE_MOUSE_BUTTON_LEFT: return "left";
        case SPICE_MOUSE_BUTTON_MIDDLE: return "middle";
        case SPICE_MOUSE_BUTTON_RIGHT: return "right";
        case SPICE_MOUSE_BUTTON_UP: return "wheel_up";
        case SPICE_MOUSE_BUTTON_DOWN: return "wheel_down";
        default: return "other";
    }
}

// Redaction keeps timing and special keys (<Enter>, <Ctrl+c>): every typed character becomes '*'.
std::string redact(const std::string& text) {
    if (!text.empty() && text[0] != '<') {
        return "*";
    }
    return text;
}

}  // namespace

Result<InputsReport> collect_inputs(const log::SessionLogReader& reader,
                                    const InputsOptions& options) {
    auto layout = layout_index(options.layout);
    if (!layout) {
        return layout.error();
    }
    std::map<int64_t, const log::ConnectionInfo*> inputs;
    for (const auto& c : reader.connections()) {
        if (c.channel_type == SPICE_CHANNEL_INPUTS) {
            inputs[c.id] = &c;
        }
    }
    InputsReport report;
    KeyTextBuilder keys(*layout);
    int64_t last_x = -1, last_y = -1;
    int last_display = 0;
    auto on_key = [&](int64_t ts, const KeyEvent& e) {
        const std::string text = keys.feed(e);
        if (!e.down && !options.include_releases) {
            return;
        }
        InputEvent ev;
        ev.ts_us = ts;
        ev.kind = InputEvent::Kind::Key;
        ev.key = key_name(e.scancode);
        ev.down = e.down;
        ev.text = options.redact_text ? redact(text) : text;
        if (e.down) {
            ++report.key_presses;
            report.typed_text += ev.text;
        }
        report.events.push_back(std::move(ev));
    };
    auto r = reader.for_each_message({}, [&](const log::MessageRecord& m) {
        auto it = inputs.find(m.connection);
        if (it == inputs.end() || m.dir != log::Direction::ClientToServer || m.type < 101) {
            return true;
        }
        auto body = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
        if (!body) {
            ++report.undecodable;
            return true;
        }
        const wire::ChannelCaps caps{it->second->client_common_caps,
                                     it->second->client_channel_caps,
                                     it->second->server_common_caps,
                                     it->second->server_channel_caps};
        auto msg = channels::inputs::parse_client(m.type, *body, caps);
        if (!msg) {
            ++report.undecodable;
            return true;
        }
        using namespace channels::inputs;
        if (const auto* d = std::get_if<KeyDown>(&*msg)) {
            if (auto e = key_event_from_code(d->code)) {
                on_key(m.ts_us, *e);
            }
        } else if (const auto* u = std::get_if<KeyUp>(&*msg)) {
            if (auto e = key_event_from_code(u->code)) {
                on_key(m.ts_us, *e);
            }
        } else if (const auto* s = std::get_if<KeyScancode>(&*msg)) {
            const std::string_view bytes(reinterpret_cast<const char*>(s->codes.data()),
                                         s->codes.size());
            for (const KeyEvent& e : key_events_from_bytes(bytes)) {
                on_key(m.ts_us, e);
            }
        } else if (const auto* p = std::get_if<MousePosition>(&*msg)) {
            last_x = p->x;
            last_y = p->y;
            last_display = p->display_id;
        } else if (const auto* mv = std::get_if<MouseMotion>(&*msg)) {
            if (last_x >= 0) {
                last_x += mv->dx;
                last_y += mv->dy;
            }
        } else if (const auto* pr = std::get_if<MousePress>(&*msg)) {
            InputEvent ev;
            ev.ts_us = m.ts_us;
            ev.kind = InputEvent::Kind::Click;
            ev.key = button_name(pr->button);
            ev.x = last_x;
            ev.y = last_y;
            ev.display = last_display;
            ++report.clicks;
            report.events.push_back(std::move(ev));
        } else if (const auto* rl = std::get_if<MouseRelease>(&*msg)) {
            if (options.include_releases) {
                InputEvent ev;
                ev.ts_us = m.ts_us;
                ev.kind = InputEvent::Kind::Click;
                ev.key = button_name(rl->button);
                ev.down = false;
                ev.x = last_x;
                ev.y = last_y;
                ev.display = last_display;
                report.events.push_back(std::move(ev));
            }
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    return report;
}

std::string format_inputs_text(const InputsReport& r, int64_t start_us) {
    std::string out;
    for (const auto& e : r.events) {
        const double t = static_cast<double>(e.ts_us - start_us) / 1e6;
        if (e.kind == InputEvent::Kind::Key) {
            out += fmt::format("{:>12.6f}  key   {:<5} {:<12} {}\n", t, e.down ? "press" : "release",
                               e.key, e.text);
        } else {
            out += fmt::format("{:>12.6f}  mouse {:<5} {:<12} at {},{} on display {}\n", t,
                               e.down ? "press" : "release", e.key, e.x, e.y, e.display);
        }
    }
    out += fmt::format("\nTyped text ({} key presses, {} clicks):\n{}\n", r.key_presses, r.clicks,
                       r.typed_text);
    if (r.undecodable) {
        out += fmt::format("({} inputs messages could not be decoded)\n", r.undecodable);
    }
    return out;
}

std::string format_inputs_json(const InputsReport& r, int64_t start_us) {
    std::string out;
    for (const auto& e : r.events) {
        JsonWriter w(out);
        w.begin_object();
        w.field("t", static_cast<double>(e.ts_us - start_us) / 1e6);
        w.field("kind", e.kind == InputEvent::Kind::Key ? "key" : "mouse");
        w.field("action", e.down ? "press" : "release");
        if (e.kind == InputEvent::Kind::Key) {
            w.field("key", e.key).field("text", e.text);
        } else {
            w.field("button", e.key).field("x", e.x).field("y", e.y);
            w.field("display", static_cast<int64_t>(e.display));
        }
        w.end_object();
        out.push_back('\n');
    }
    JsonWriter w(out);
    w.begin_object().field("typed_text", r.typed_text).field("key_presses", r.key_presses);
    w.field("clicks", r.clicks).field("undecodable", r.undecodable).end_object();
    out.push_back('\n');
    return out;
}

}  // namespace spicetap::compliance
