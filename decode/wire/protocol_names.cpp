#include "decode/wire/protocol_names.h"

#include <spice/enums.h>
#include <spice/protocol.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace spicetap::wire {

namespace {

// Each entry pairs a spice-protocol constant with its own identifier, so the numbers come from
// the header and the names are the header's; the prefix is stripped when looked up.
struct Named {
    int value;
    std::string_view ident;
};

#define SPICETAP_NAMED(x) Named{x, #x}

constexpr Named kChannels[] = {
    SPICETAP_NAMED(SPICE_CHANNEL_MAIN),      SPICETAP_NAMED(SPICE_CHANNEL_DISPLAY),
    SPICETAP_NAMED(SPICE_CHANNEL_INPUTS),    SPICETAP_NAMED(SPICE_CHANNEL_CURSOR),
    SPICETAP_NAMED(SPICE_CHANNEL_PLAYBACK),  SPICETAP_NAMED(SPICE_CHANNEL_RECORD),
    SPICETAP_NAMED(SPICE_CHANNEL_TUNNEL),    SPICETAP_NAMED(SPICE_CHANNEL_SMARTCARD),
    SPICETAP_NAMED(SPICE_CHANNEL_USBREDIR),  SPICETAP_NAMED(SPICE_CHANNEL_PORT),
    SPICETAP_NAMED(SPICE_CHANNEL_WEBDAV),
};

constexpr Named kBaseS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_MIGRATE),           SPICETAP_NAMED(SPICE_MSG_MIGRATE_DATA),
    SPICETAP_NAMED(SPICE_MSG_SET_ACK),           SPICETAP_NAMED(SPICE_MSG_PING),
    SPICETAP_NAMED(SPICE_MSG_WAIT_FOR_CHANNELS), SPICETAP_NAMED(SPICE_MSG_DISCONNECTING),
    SPICETAP_NAMED(SPICE_MSG_NOTIFY),            SPICETAP_NAMED(SPICE_MSG_LIST),
};

constexpr Named kBaseC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_ACK_SYNC),           SPICETAP_NAMED(SPICE_MSGC_ACK),
    SPICETAP_NAMED(SPICE_MSGC_PONG),               SPICETAP_NAMED(SPICE_MSGC_MIGRATE_FLUSH_MARK),
    SPICETAP_NAMED(SPICE_MSGC_MIGRATE_DATA),       SPICETAP_NAMED(SPICE_MSGC_DISCONNECTING),
};

constexpr Named kMainS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_BEGIN),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_CANCEL),
    SPICETAP_NAMED(SPICE_MSG_MAIN_INIT),
    SPICETAP_NAMED(SPICE_MSG_MAIN_CHANNELS_LIST),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MOUSE_MODE),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MULTI_MEDIA_TIME),
    SPICETAP_NAMED(SPICE_MSG_MAIN_AGENT_CONNECTED),
    SPICETAP_NAMED(SPICE_MSG_MAIN_AGENT_DISCONNECTED),
    SPICETAP_NAMED(SPICE_MSG_MAIN_AGENT_DATA),
    SPICETAP_NAMED(SPICE_MSG_MAIN_AGENT_TOKEN),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_END),
    SPICETAP_NAMED(SPICE_MSG_MAIN_NAME),
    SPICETAP_NAMED(SPICE_MSG_MAIN_UUID),
    SPICETAP_NAMED(SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK),
    SPICETAP_NAMED(SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK),
};

constexpr Named kMainC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_MAIN_CLIENT_INFO),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MIGRATE_CONNECTED),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_ATTACH_CHANNELS),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_AGENT_START),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_AGENT_DATA),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_AGENT_TOKEN),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MIGRATE_END),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS),
    SPICETAP_NAMED(SPICE_MSGC_MAIN_QUALITY_INDICATOR),
};

constexpr Named kDisplayS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_MODE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_MARK),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_RESET),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_COPY_BITS),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_INVAL_LIST),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_INVAL_PALETTE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_CREATE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_DATA),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_CLIP),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_DESTROY),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_FILL),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_OPAQUE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_COPY),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_BLEND),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_BLACKNESS),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_WHITENESS),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_INVERS),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_ROP3),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_STROKE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_TEXT),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_TRANSPARENT),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_SURFACE_CREATE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_SURFACE_DESTROY),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_DATA_SIZED),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_MONITORS_CONFIG),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_DRAW_COMPOSITE),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_GL_SCANOUT_UNIX),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_GL_DRAW),
    SPICETAP_NAMED(SPICE_MSG_DISPLAY_QUALITY_INDICATOR),
};

constexpr Named kDisplayC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_DISPLAY_INIT),
    SPICETAP_NAMED(SPICE_MSGC_DISPLAY_STREAM_REPORT),
    SPICETAP_NAMED(SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION),
    SPICETAP_NAMED(SPICE_MSGC_DISPLAY_GL_DRAW_DONE),
    SPICETAP_NAMED(SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE),
};

constexpr Named kInputsS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_INPUTS_INIT),
    SPICETAP_NAMED(SPICE_MSG_INPUTS_KEY_MODIFIERS),
    SPICETAP_NAMED(SPICE_MSG_INPUTS_MOUSE_MOTION_ACK),
};

constexpr Named kInputsC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_INPUTS_KEY_DOWN),       SPICETAP_NAMED(SPICE_MSGC_INPUTS_KEY_UP),
    SPICETAP_NAMED(SPICE_MSGC_INPUTS_KEY_MODIFIERS),  SPICETAP_NAMED(SPICE_MSGC_INPUTS_KEY_SCANCODE),
    SPICETAP_NAMED(SPICE_MSGC_INPUTS_MOUSE_MOTION),   SPICETAP_NAMED(SPICE_MSGC_INPUTS_MOUSE_POSITION),
    SPICETAP_NAMED(SPICE_MSGC_INPUTS_MOUSE_PRESS),    SPICETAP_NAMED(SPICE_MSGC_INPUTS_MOUSE_RELEASE),
};

constexpr Named kCursorS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_CURSOR_INIT),      SPICETAP_NAMED(SPICE_MSG_CURSOR_RESET),
    SPICETAP_NAMED(SPICE_MSG_CURSOR_SET),       SPICETAP_NAMED(SPICE_MSG_CURSOR_MOVE),
    SPICETAP_NAMED(SPICE_MSG_CURSOR_HIDE),      SPICETAP_NAMED(SPICE_MSG_CURSOR_TRAIL),
    SPICETAP_NAMED(SPICE_MSG_CURSOR_INVAL_ONE), SPICETAP_NAMED(SPICE_MSG_CURSOR_INVAL_ALL),
};

constexpr Named kPlaybackS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_PLAYBACK_DATA),   SPICETAP_NAMED(SPICE_MSG_PLAYBACK_MODE),
    SPICETAP_NAMED(SPICE_MSG_PLAYBACK_START),  SPICETAP_NAMED(SPICE_MSG_PLAYBACK_STOP),
    SPICETAP_NAMED(SPICE_MSG_PLAYBACK_VOLUME), SPICETAP_NAMED(SPICE_MSG_PLAYBACK_MUTE),
    SPICETAP_NAMED(SPICE_MSG_PLAYBACK_LATENCY),
};

constexpr Named kRecordS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_RECORD_START),  SPICETAP_NAMED(SPICE_MSG_RECORD_STOP),
    SPICETAP_NAMED(SPICE_MSG_RECORD_VOLUME), SPICETAP_NAMED(SPICE_MSG_RECORD_MUTE),
};

constexpr Named kRecordC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_RECORD_DATA),
    SPICETAP_NAMED(SPICE_MSGC_RECORD_MODE),
    SPICETAP_NAMED(SPICE_MSGC_RECORD_START_MARK),
};

constexpr Named kSmartcardS2C[] = {SPICETAP_NAMED(SPICE_MSG_SMARTCARD_DATA)};
constexpr Named kSmartcardC2S[] = {SPICETAP_NAMED(SPICE_MSGC_SMARTCARD_DATA)};

constexpr Named kSpicevmcS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_SPICEVMC_DATA),
    SPICETAP_NAMED(SPICE_MSG_SPICEVMC_COMPRESSED_DATA),
};

constexpr Named kSpicevmcC2S[] = {
    SPICETAP_NAMED(SPICE_MSGC_SPICEVMC_DATA),
    SPICETAP_NAMED(SPICE_MSGC_SPICEVMC_COMPRESSED_DATA),
};

constexpr Named kPortS2C[] = {
    SPICETAP_NAMED(SPICE_MSG_PORT_INIT),
    SPICETAP_NAMED(SPICE_MSG_PORT_EVENT),
};

constexpr Named kPortC2S[] = {SPICETAP_NAMED(SPICE_MSGC_PORT_EVENT)};

constexpr Named kCommonCaps[] = {
    SPICETAP_NAMED(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION),
    SPICETAP_NAMED(SPICE_COMMON_CAP_AUTH_SPICE),
    SPICETAP_NAMED(SPICE_COMMON_CAP_AUTH_SASL),
    SPICETAP_NAMED(SPICE_COMMON_CAP_MINI_HEADER),
};

constexpr Named kMainCaps[] = {
    SPICETAP_NAMED(SPICE_MAIN_CAP_SEMI_SEAMLESS_MIGRATE),
    SPICETAP_NAMED(SPICE_MAIN_CAP_NAME_AND_UUID),
    SPICETAP_NAMED(SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS),
    SPICETAP_NAMED(SPICE_MAIN_CAP_SEAMLESS_MIGRATE),
};

constexpr Named kDisplayCaps[] = {
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_SIZED_STREAM),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_MONITORS_CONFIG),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_COMPOSITE),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_A8_SURFACE),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_STREAM_REPORT),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_LZ4_COMPRESSION),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_PREF_COMPRESSION),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_GL_SCANOUT),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_MULTI_CODEC),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_CODEC_MJPEG),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_CODEC_VP8),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_CODEC_H264),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_CODEC_VP9),
    SPICETAP_NAMED(SPICE_DISPLAY_CAP_CODEC_H265),
};

constexpr Named kInputsCaps[] = {SPICETAP_NAMED(SPICE_INPUTS_CAP_KEY_SCANCODE)};

constexpr Named kPlaybackCaps[] = {
    SPICETAP_NAMED(SPICE_PLAYBACK_CAP_CELT_0_5_1),
    SPICETAP_NAMED(SPICE_PLAYBACK_CAP_VOLUME),
    SPICETAP_NAMED(SPICE_PLAYBACK_CAP_LATENCY),
    SPICETAP_NAMED(SPICE_PLAYBACK_CAP_OPUS),
};

constexpr Named kRecordCaps[] = {
    SPICETAP_NAMED(SPICE_RECORD_CAP_CELT_0_5_1),
    SPICETAP_NAMED(SPICE_RECORD_CAP_VOLUME),
    SPICETAP_NAMED(SPICE_RECORD_CAP_OPUS),
};

constexpr Named kSpicevmcCaps[] = {SPICETAP_NAMED(SPICE_SPICEVMC_CAP_DATA_COMPRESS_LZ4)};

constexpr Named kLinkErrors[] = {
    SPICETAP_NAMED(SPICE_LINK_ERR_OK),
    SPICETAP_NAMED(SPICE_LINK_ERR_ERROR),
    SPICETAP_NAMED(SPICE_LINK_ERR_INVALID_MAGIC),
    SPICETAP_NAMED(SPICE_LINK_ERR_INVALID_DATA),
    SPICETAP_NAMED(SPICE_LINK_ERR_VERSION_MISMATCH),
    SPICETAP_NAMED(SPICE_LINK_ERR_NEED_SECURED),
    SPICETAP_NAMED(SPICE_LINK_ERR_NEED_UNSECURED),
    SPICETAP_NAMED(SPICE_LINK_ERR_PERMISSION_DENIED),
    SPICETAP_NAMED(SPICE_LINK_ERR_BAD_CONNECTION_ID),
    SPICETAP_NAMED(SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE),
};

#undef SPICETAP_NAMED

// Identifiers are upper case; names are served lower case from a table built once.
template <size_t N>
struct LowerTable {
    std::array<std::string, N> names;
    std::array<int, N> values;

    LowerTable(const Named (&src)[N], std::string_view prefix) {
        for (size_t i = 0; i < N; ++i) {
            std::string_view id = src[i].ident;
            if (id.starts_with(prefix)) {
                id.remove_prefix(prefix.size());
            }
            std::string lower(id);
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            names[i] = std::move(lower);
            values[i] = src[i].value;
        }
    }

    std::string_view find(int value) const {
        for (size_t i = 0; i < N; ++i) {
            if (values[i] == value) {
                return names[i];
            }
        }
        return {};
    }
};

// Each table gets its own function so the function-local static is per table.
#define SPICETAP_TABLE_FN(fn, arr, prefix) \
    std::string_view fn(int v) {           \
        static const LowerTable t(arr, prefix); \
        return t.find(v);                  \
    }

SPICETAP_TABLE_FN(channel_lookup, kChannels, "SPICE_CHANNEL_")
SPICETAP_TABLE_FN(base_s2c, kBaseS2C, "SPICE_MSG_")
SPICETAP_TABLE_FN(base_c2s, kBaseC2S, "SPICE_MSGC_")
SPICETAP_TABLE_FN(main_s2c, kMainS2C, "SPICE_MSG_MAIN_")
SPICETAP_TABLE_FN(main_c2s, kMainC2S, "SPICE_MSGC_MAIN_")
SPICETAP_TABLE_FN(display_s2c, kDisplayS2C, "SPICE_MSG_DISPLAY_")
SPICETAP_TABLE_FN(display_c2s, kDisplayC2S, "SPICE_MSGC_DISPLAY_")
SPICETAP_TABLE_FN(inputs_s2c, kInputsS2C, "SPICE_MSG_INPUTS_")
SPICETAP_TABLE_FN(inputs_c2s, kInputsC2S, "SPICE_MSGC_INPUTS_")
SPICETAP_TABLE_FN(cursor_s2c, kCursorS2C, "SPICE_MSG_CURSOR_")
SPICETAP_TABLE_FN(playback_s2c, kPlaybackS2C, "SPICE_MSG_PLAYBACK_")
SPICETAP_TABLE_FN(record_s2c, kRecordS2C, "SPICE_MSG_RECORD_")
SPICETAP_TABLE_FN(record_c2s, kRecordC2S, "SPICE_MSGC_RECORD_")
SPICETAP_TABLE_FN(smartcard_s2c, kSmartcardS2C, "SPICE_MSG_SMARTCARD_")
SPICETAP_TABLE_FN(smartcard_c2s, kSmartcardC2S, "SPICE_MSGC_SMARTCARD_")
SPICETAP_TABLE_FN(spicevmc_s2c, kSpicevmcS2C, "SPICE_MSG_SPICEVMC_")
SPICETAP_TABLE_FN(spicevmc_c2s, kSpicevmcC2S, "SPICE_MSGC_SPICEVMC_")
SPICETAP_TABLE_FN(port_s2c, kPortS2C, "SPICE_MSG_PORT_")
SPICETAP_TABLE_FN(port_c2s, kPortC2S, "SPICE_MSGC_PORT_")
SPICETAP_TABLE_FN(common_caps, kCommonCaps, "SPICE_COMMON_CAP_")
SPICETAP_TABLE_FN(main_caps, kMainCaps, "SPICE_MAIN_CAP_")
SPICETAP_TABLE_FN(display_caps, kDisplayCaps, "SPICE_DISPLAY_CAP_")
SPICETAP_TABLE_FN(inputs_caps, kInputsCaps, "SPICE_INPUTS_CAP_")
SPICETAP_TABLE_FN(playback_caps, kPlaybackCaps, "SPICE_PLAYBACK_CAP_")
SPICETAP_TABLE_FN(record_caps, kRecordCaps, "SPICE_RECORD_CAP_")
SPICETAP_TABLE_FN(spicevmc_caps, kSpicevmcCaps, "SPICE_SPICEVMC_CAP_")
SPICETAP_TABLE_FN(link_errors, kLinkErrors, "SPICE_LINK_ERR_")

#undef SPICETAP_TABLE_FN

}  // namespace

std::string_view channel_type_name(uint8_t channel_type) {
    std::string_view n = channel_lookup(channel_type);
    return n.empty() ? std::string_view("unknown") : n;
}

std::optional<uint8_t> channel_type_from_name(std::string_view name) {
    for (int t = 1; t < SPICE_END_CHANNEL; ++t) {
        std::string_view n = channel_lookup(t);
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            return static_cast<uint8_t>(t);
        }
    }
    return std::nullopt;
}

std::string_view message_name(uint8_t channel_type, Direction dir, uint16_t type) {
    const bool s2c = dir == Direction::ServerToClient;
    if (type < SPICE_MSG_BASE_LAST) {
        return s2c ? base_s2c(type) : base_c2s(type);
    }
    switch (channel_type) {
        case SPICE_CHANNEL_MAIN: return s2c ? main_s2c(type) : main_c2s(type);
        case SPICE_CHANNEL_DISPLAY: return s2c ? display_s2c(type) : display_c2s(type);
        case SPICE_CHANNEL_INPUTS: return s2c ? inputs_s2c(type) : inputs_c2s(type);
        case SPICE_CHANNEL_CURSOR: return s2c ? cursor_s2c(type) : std::string_view();
        case SPICE_CHANNEL_PLAYBACK: return s2c ? playback_s2c(type) : std::string_view();
        case SPICE_CHANNEL_RECORD: return s2c ? record_s2c(type) : record_c2s(type);
        case SPICE_CHANNEL_SMARTCARD: return s2c ? smartcard_s2c(type) : smartcard_c2s(type);
        case SPICE_CHANNEL_USBREDIR: return s2c ? spicevmc_s2c(type) : spicevmc_c2s(type);
        case SPICE_CHANNEL_PORT:
        case SPICE_CHANNEL_WEBDAV: {
            // Port and webdav channels are spicevmc channels plus the port messages.
            std::string_view n = s2c ? spicevmc_s2c(type) : spicevmc_c2s(type);
            if (n.empty()) {
                n = s2c ? port_s2c(type) : port_c2s(type);
            }
            return n;
        }
        default: return {};
    }
}

std::string_view channel_cap_name(uint8_t channel_type, unsigned bit) {
    const int b = static_cast<int>(bit);
    switch (channel_type) {
        case SPICE_CHANNEL_MAIN: return main_caps(b);
        case SPICE_CHANNEL_DISPLAY: return display_caps(b);
        case SPICE_CHANNEL_INPUTS: return inputs_caps(b);
        case SPICE_CHANNEL_PLAYBACK: return playback_caps(b);
        case SPICE_CHANNEL_RECORD: return record_caps(b);
        case SPICE_CHANNEL_USBREDIR:
        case SPICE_CHANNEL_PORT:
        case SPICE_CHANNEL_WEBDAV: return spicevmc_caps(b);
        default: return {};
    }
}

std::string_view common_cap_name(unsigned bit) { return common_caps(static_cast<int>(bit)); }

std::string_view link_error_name(uint32_t error) {
    return error > 0xffff ? std::string_view() : link_errors(static_cast<int>(error));
}

}  // namespace spicetap::wire
