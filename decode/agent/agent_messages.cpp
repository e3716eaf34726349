#include "decode/agent/agent_messages.h"

#include <spice/vd_agent.h>

#include <charconv>

namespace spicetap::agent {

namespace {

// Indexed by VD_AGENT_* (which starts at 1).
constexpr std::string_view kTypes[] = {
    "unknown",
    "mouse_state",
    "monitors_config",
    "reply",
    "clipboard",
    "display_config",
    "announce_capabilities",
    "clipboard_grab",
    "clipboard_request",
    "clipboard_release",
    "file_xfer_start",
    "file_xfer_status",
    "file_xfer_data",
    "client_disconnected",
    "max_clipboard",
    "audio_volume_sync",
    "graphics_device_info",
};
constexpr std::string_view kClipboardTypes[] = {"none",       "utf8_text", "image_png", "image_bmp",
                                                "image_tiff", "image_jpg", "file_list"};
constexpr std::string_view kSelections[] = {"clipboard", "primary", "secondary"};
constexpr std::string_view kXferStatus[] = {
    "can_send_data",         "cancelled", "error", "success", "not_enough_space", "session_locked",
    "vdagent_not_connected", "disabled",
};
constexpr std::string_view kCaps[] = {
    "mouse_state",
    "monitors_config",
    "reply",
    "clipboard",
    "display_config",
    "clipboard_by_demand",
    "clipboard_selection",
    "sparse_monitors_config",
    "guest_lineend_lf",
    "guest_lineend_crlf",
    "max_clipboard",
    "audio_volume_sync",
    "monitors_config_position",
    "file_xfer_disabled",
    "file_xfer_detailed_errors",
    "graphics_device_info",
    "clipboard_no_release_on_regrab",
    "clipboard_grab_serial",
};
constexpr std::string_view kReplyErrors[] = {"unknown", "success", "error"};
constexpr std::string_view kMonitorFlags[] = {"use_pos", "physical_size"};
constexpr std::string_view kDisplayFlags[] = {"disable_wallpaper", "disable_font_smooth",
                                              "disable_animation", "set_color_depth"};

constexpr size_t kMaxTextInJson = 64 * 1024;

template <size_t N>
std::string_view name_in(const std::string_view (&names)[N], uint64_t v) {
    return v < N ? names[v] : std::string_view("unknown");
}

template <typename T>
Result<Body> done(const ByteReader& r, T value, std::string_view what) {
    if (!r.ok()) {
        return r.error(std::string(what));
    }
    return Body{std::move(value)};
}

DecodeError count_error(size_t at, std::string_view what, uint64_t count, size_t each,
                        size_t left) {
    return make_error(Errc::BadValue, at,
                      std::string(what) + " count " + std::to_string(count) + " needs " +
                          std::to_string(count * each) + " bytes, " + std::to_string(left) +
                          " left");
}

std::optional<uint8_t> read_selection(ByteReader& r, const ParseCaps& caps) {
    if (!caps.clipboard_selection) {
        return std::nullopt;
    }
    const uint8_t s = r.u8();
    r.skip(3);  // reserved
    return s;
}

// GLib key-file value escapes: \s \n \t \r \\.
std::string unescape_keyfile(std::string_view v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '\\' || i + 1 == v.size()) {
            out.push_back(v[i]);
            continue;
        }
        const char c = v[++i];
        switch (c) {
            case 's':
                out.push_back(' ');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case '\\':
                out.push_back('\\');
                break;
            default:
                out.push_back('\\');
                out.push_back(c);
        }
    }
    return out;
}

void parse_keyfile(FileXferStart& m) {
    std::string_view text = m.text;
    bool in_group = false;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.starts_with('[')) {
            in_group = line == "[vdagent-file-xfer]";
            continue;
        }
        const size_t eq = line.find('=');
        if (!in_group || eq == std::string_view::npos) {
            continue;
        }
        std::string_view key = line.substr(0, eq);
        while (!key.empty() && key.back() == ' ') {
            key.remove_suffix(1);
        }
        std::string_view value = line.substr(eq + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        if (key == "name") {
            m.name = unescape_keyfile(value);
        } else if (key == "size") {
            uint64_t size = 0;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
            if (ec == std::errc() && p == value.data() + value.size()) {
                m.size = size;
            }
        }
    }
}

Result<Body> parse_monitors_config(ByteView payload) {
    ByteReader r(payload);
    MonitorsConfig m;
    const uint32_t n = r.u32();
    m.flags = r.u32();
    if (!r.ok()) {
        return r.error("agent monitors_config header");
    }
    const bool physical = (m.flags & VD_AGENT_CONFIG_MONITORS_FLAG_PHYSICAL_SIZE) != 0;
    const size_t each = 20 + (physical ? 4 : 0);
    if (n > r.remaining() / each) {
        return count_error(0, "agent monitors_config num_of_monitors", n, each, r.remaining());
    }
    for (uint32_t i = 0; i < n; ++i) {
        MonitorConfig c;
        c.height = r.u32();
        c.width = r.u32();
        c.depth = r.u32();
        c.x = r.i32();
        c.y = r.i32();
        m.monitors.push_back(c);
    }
    if (physical) {
        for (uint32_t i = 0; i < n; ++i) {
            MonitorPhysicalSize s;
            s.height_mm = r.u16();
            s.width_mm = r.u16();
            m.physical_sizes.push_back(s);
        }
    }
    return done(r, std::move(m), "agent monitors_config");
}

Result<Body> parse_graphics_device_info(ByteView payload) {
    ByteReader r(payload);
    GraphicsDeviceInfo m;
    const uint32_t n = r.u32();
    if (!r.ok()) {
        return r.error("agent graphics_device_info count");
    }
    // Each entry is at least 16 bytes, which bounds the count before reading.
    if (n > r.remaining() / 16) {
        return count_error(0, "agent graphics_device_info", n, 16, r.remaining());
    }
    for (uint32_t i = 0; i < n; ++i) {
        DeviceDisplayInfo d;
        d.channel_id = r.u32();
        d.monitor_id = r.u32();
        d.device_display_id = r.u32();
        d.device_address_len = r.u32();
        if (!r.ok()) {
            return r.error("agent graphics_device_info entry " + std::to_string(i));
        }
        if (d.device_address_len > r.remaining()) {
            return make_error(Errc::BadValue, r.pos() - 4,
                              "agent graphics_device_info entry " + std::to_string(i) +
                                  " device_address_len " + std::to_string(d.device_address_len) +
                                  " exceeds the " + std::to_string(r.remaining()) + " bytes left");
        }
        const ByteView a = r.bytes(d.device_address_len);
        size_t len = 0;
        while (len < a.size() && a[len] != 0) {
            ++len;
        }
        d.device_address.assign(reinterpret_cast<const char*>(a.data()), len);
        m.displays.push_back(std::move(d));
    }
    return Body{std::move(m)};
}

Result<Body> parse_file_xfer_status(ByteView payload) {
    ByteReader r(payload);
    FileXferStatus m;
    m.id = r.u32();
    m.result = r.u32();
    if (!r.ok()) {
        return r.error("agent file_xfer_status");
    }
    m.detail_size = static_cast<uint32_t>(r.remaining());
    if (m.result == VD_AGENT_FILE_XFER_STATUS_ERROR && r.remaining() >= 5) {
        m.error_type = r.u8();
        m.error_code = r.u32();
    } else if (m.result == VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE && r.remaining() >= 8) {
        m.disk_free_space = r.u64();
    }
    return Body{std::move(m)};
}

Result<Body> parse_file_xfer_data(ByteView payload) {
    ByteReader r(payload);
    FileXferData m;
    m.id = r.u32();
    m.size = r.u64();
    if (!r.ok()) {
        return r.error("agent file_xfer_data header");
    }
    if (m.size > r.remaining()) {
        return make_error(Errc::BadValue, 4,
                          "agent file_xfer_data size " + std::to_string(m.size) + " exceeds the " +
                              std::to_string(r.remaining()) + " bytes left");
    }
    const ByteView d = r.bytes(static_cast<size_t>(m.size));
    m.data.assign(d.begin(), d.end());
    return Body{std::move(m)};
}

}  // namespace

std::string_view message_type_name(uint32_t type) {
    return name_in(kTypes, type);
}

std::string_view clipboard_type_name(uint32_t type) {
    return name_in(kClipboardTypes, type);
}

std::string_view selection_name(uint8_t selection) {
    return name_in(kSelections, selection);
}

std::string_view file_xfer_status_name(uint32_t status) {
    return name_in(kXferStatus, status);
}

std::string_view capability_name(unsigned bit) {
    return bit < std::size(kCaps) ? kCaps[bit] : std::string_view();
}

Result<Body> parse_body(uint32_t type, ByteView payload, const ParseCaps& caps) {
    ByteReader r(payload);
    switch (type) {
        case VD_AGENT_MOUSE_STATE: {
            MouseState m;
            m.x = r.u32();
            m.y = r.u32();
            m.buttons = r.u32();
            m.display_id = r.u8();
            return done(r, m, "agent mouse_state");
        }
        case VD_AGENT_MONITORS_CONFIG:
            return parse_monitors_config(payload);
        case VD_AGENT_REPLY: {
            Reply m;
            m.type = r.u32();
            m.error = r.u32();
            return done(r, m, "agent reply");
        }
        case VD_AGENT_CLIPBOARD: {
            Clipboard m;
            m.selection = read_selection(r, caps);
            m.type = r.u32();
            const ByteView d = r.rest();
            m.data.assign(d.begin(), d.end());
            return done(r, std::move(m), "agent clipboard");
        }
        case VD_AGENT_DISPLAY_CONFIG: {
            DisplayConfig m;
            m.flags = r.u32();
            m.depth = r.u32();
            return done(r, m, "agent display_config");
        }
        case VD_AGENT_ANNOUNCE_CAPABILITIES: {
            AnnounceCapabilities m;
            m.request = r.u32();
            while (r.ok() && r.remaining() >= 4) {
                m.caps.push_back(r.u32());
            }
            return done(r, std::move(m), "agent announce_capabilities");
        }
        case VD_AGENT_CLIPBOARD_GRAB: {
            ClipboardGrab m;
            m.selection = read_selection(r, caps);
            if (caps.clipboard_grab_serial) {
                m.serial = r.u32();
            }
            while (r.ok() && r.remaining() >= 4) {
                m.types.push_back(r.u32());
            }
            return done(r, std::move(m), "agent clipboard_grab");
        }
        case VD_AGENT_CLIPBOARD_REQUEST: {
            ClipboardRequest m;
            m.selection = read_selection(r, caps);
            m.type = r.u32();
            return done(r, m, "agent clipboard_request");
        }
        case VD_AGENT_CLIPBOARD_RELEASE: {
            ClipboardRelease m;
            m.selection = read_selection(r, caps);
            return done(r, m, "agent clipboard_release");
        }
        case VD_AGENT_FILE_XFER_START: {
            FileXferStart m;
            m.id = r.u32();
            if (!r.ok()) {
                return r.error("agent file_xfer_start");
            }
            const ByteView t = r.rest();
            size_t len = 0;
            while (len < t.size() && t[len] != 0) {
                ++len;
            }
            m.text.assign(reinterpret_cast<const char*>(t.data()), len);
            parse_keyfile(m);
            return Body{std::move(m)};
        }
        case VD_AGENT_FILE_XFER_STATUS:
            return parse_file_xfer_status(payload);
        case VD_AGENT_FILE_XFER_DATA:
            return parse_file_xfer_data(payload);
        case VD_AGENT_CLIENT_DISCONNECTED:
            return Body{ClientDisconnected{}};
        case VD_AGENT_MAX_CLIPBOARD: {
            MaxClipboard m;
            m.max = r.i32();
            return done(r, m, "agent max_clipboard");
        }
        case VD_AGENT_AUDIO_VOLUME_SYNC: {
            AudioVolumeSync m;
            m.is_playback = r.u8();
            m.mute = r.u8();
            const uint8_t n = r.u8();
            if (!r.ok()) {
                return r.error("agent audio_volume_sync");
            }
            if (size_t{n} * 2 > r.remaining()) {
                return count_error(2, "agent audio_volume_sync nchannels", n, 2, r.remaining());
            }
            for (uint8_t i = 0; i < n; ++i) {
                m.volume.push_back(r.u16());
            }
            return Body{std::move(m)};
        }
        case VD_AGENT_GRAPHICS_DEVICE_INFO:
            return parse_graphics_device_info(payload);
        default:
            return make_error(Errc::Unsupported, 0,
                              "unknown agent message type " + std::to_string(type));
    }
}

namespace {

void write_selection(const std::optional<uint8_t>& s, JsonWriter& w) {
    if (s) {
        w.field("selection", *s).field("selection_name", selection_name(*s));
    }
}

template <size_t N>
void write_flags(JsonWriter& w, std::string_view key, const std::string_view (&names)[N],
                 uint32_t flags) {
    w.key(key).begin_array();
    for (size_t i = 0; i < N; ++i) {
        if ((flags >> i) & 1u) {
            w.value(names[i]);
        }
    }
    w.end_array();
}

void write_clipboard_data(uint32_t type, const std::vector<uint8_t>& data, JsonWriter& w) {
    w.field("data_size", uint64_t{data.size()});
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
        const bool cut = text.size() > kMaxTextInJson;
        std::string_view shown = text.substr(0, kMaxTextInJson);
        // Senders may or may not include a trailing NUL.
        while (!shown.empty() && shown.back() == '\0') {
            shown.remove_suffix(1);
        }
        w.field("text", shown).field("text_truncated", cut);
    } else if (type == VD_AGENT_CLIPBOARD_FILE_LIST) {
        // NUL-separated: "copy" or "cut", then absolute paths.
        std::vector<std::string_view> items;
        size_t start = 0;
        while (start < text.size()) {
            size_t end = text.find('\0', start);
            if (end == std::string_view::npos) {
                end = text.size();
            }
            items.push_back(text.substr(start, end - start));
            start = end + 1;
        }
        if (!items.empty()) {
            w.field("action", items.front());
        }
        w.key("files").begin_array();
        for (size_t i = 1; i < items.size(); ++i) {
            w.value(items[i]);
        }
        w.end_array();
    }
}

struct Writer {
    JsonWriter& w;

    void operator()(const MouseState& m) {
        w.field("x", m.x).field("y", m.y).field("buttons", m.buttons);
        w.field("display_id", m.display_id);
    }

    void operator()(const MonitorsConfig& m) {
        w.field("flags", m.flags);
        write_flags(w, "flag_names", kMonitorFlags, m.flags);
        w.key("monitors").begin_array();
        for (size_t i = 0; i < m.monitors.size(); ++i) {
            const auto& c = m.monitors[i];
            w.begin_object()
                .field("height", c.height)
                .field("width", c.width)
                .field("depth", c.depth)
                .field("x", c.x)
                .field("y", c.y);
            if (i < m.physical_sizes.size()) {
                w.field("height_mm", m.physical_sizes[i].height_mm)
                    .field("width_mm", m.physical_sizes[i].width_mm);
            }
            w.end_object();
        }
        w.end_array();
    }

    void operator()(const Reply& m) {
        w.field("type", m.type)
            .field("type_name", message_type_name(m.type))
            .field("result", m.error)
            .field("result_name", name_in(kReplyErrors, m.error));
    }

    void operator()(const Clipboard& m) {
        write_selection(m.selection, w);
        w.field("type", m.type).field("type_name", clipboard_type_name(m.type));
        write_clipboard_data(m.type, m.data, w);
    }

    void operator()(const DisplayConfig& m) {
        w.field("flags", m.flags);
        write_flags(w, "flag_names", kDisplayFlags, m.flags);
        w.field("depth", m.depth);
    }

    void operator()(const AnnounceCapabilities& m) {
        w.field("request", m.request).key("caps").begin_array();
        for (uint32_t c : m.caps) {
            w.value(c);
        }
        w.end_array().key("cap_names").begin_array();
        for (size_t word = 0; word < m.caps.size(); ++word) {
            for (unsigned bit = 0; bit < 32; ++bit) {
                if ((m.caps[word] >> bit) & 1u) {
                    const auto name = capability_name(static_cast<unsigned>(word * 32 + bit));
                    w.value(name.empty() ? std::string_view("unknown") : name);
                }
            }
        }
        w.end_array();
    }

    void operator()(const ClipboardGrab& m) {
        write_selection(m.selection, w);
        if (m.serial) {
            w.field("serial", *m.serial);
        }
        w.key("types").begin_array();
        for (uint32_t t : m.types) {
            w.value(t);
        }
        w.end_array().key("type_names").begin_array();
        for (uint32_t t : m.types) {
            w.value(clipboard_type_name(t));
        }
        w.end_array();
    }

    void operator()(const ClipboardRequest& m) {
        write_selection(m.selection, w);
        w.field("type", m.type).field("type_name", clipboard_type_name(m.type));
    }

    void operator()(const ClipboardRelease& m) { write_selection(m.selection, w); }

    void operator()(const FileXferStart& m) {
        w.field("id", m.id);
        if (m.name) {
            w.field("name", *m.name);
        } else {
            w.field_null("name");
        }
        if (m.size) {
            w.field("file_size", *m.size);
        } else {
            w.field_null("file_size");
        }
        w.field("text", m.text);
    }

    void operator()(const FileXferStatus& m) {
        w.field("id", m.id)
            .field("result", m.result)
            .field("result_name", file_xfer_status_name(m.result));
        if (m.error_type) {
            w.field("error_type", *m.error_type).field("error_code", *m.error_code);
        }
        if (m.disk_free_space) {
            w.field("disk_free_space", *m.disk_free_space);
        }
        w.field("detail_size", m.detail_size);
    }

    void operator()(const FileXferData& m) { w.field("id", m.id).field("data_size", m.size); }

    void operator()(const ClientDisconnected&) {}

    void operator()(const MaxClipboard& m) { w.field("max", m.max); }

    void operator()(const AudioVolumeSync& m) {
        w.field("is_playback", m.is_playback).field("mute", m.mute);
        w.field("nchannels", uint64_t{m.volume.size()}).key("volume").begin_array();
        for (uint16_t v : m.volume) {
            w.value(v);
        }
        w.end_array();
    }

    void operator()(const GraphicsDeviceInfo& m) {
        w.key("displays").begin_array();
        for (const auto& d : m.displays) {
            w.begin_object()
                .field("channel_id", d.channel_id)
                .field("monitor_id", d.monitor_id)
                .field("device_display_id", d.device_display_id)
                .field("device_address_len", d.device_address_len)
                .field("device_address", d.device_address)
                .end_object();
        }
        w.end_array();
    }
};

}  // namespace

void write_body_json(const Body& body, JsonWriter& w) {
    std::visit(Writer{w}, body);
}

void write_json(const AgentMessage& msg, JsonWriter& w) {
    w.field("agent_type", msg.header.type)
        .field("agent_type_name", message_type_name(msg.header.type))
        .field("protocol", msg.header.protocol)
        .field("opaque", msg.header.opaque)
        .field("size", msg.header.size)
        .field("stream_offset", msg.stream_offset);
    if (msg.body) {
        write_body_json(*msg.body, w);
    } else {
        w.field("decode_error", msg.body.error().message());
    }
}

}  // namespace spicetap::agent
