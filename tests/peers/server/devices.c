/* The rest of the "guest": keyboard, tablet and mouse, playback and record, the VD agent
 * on its char device, and a named port channel. */
#include <errno.h>
#include <math.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>
#include <string.h>

#include "server.h"

/* ---- inputs ---- */

static GByteArray* scancodes;
static GString* mouse_json;

static void mouse_log(const char* fmt, ...) G_GNUC_PRINTF(1, 2);

static void mouse_log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char* s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (mouse_json->len) {
        g_string_append(mouse_json, ",\n      ");
    }
    g_string_append_printf(mouse_json, "{\"t\": %.3f, %s}", peer_now(), s);
    g_free(s);
}

static void kbd_push(SpiceKbdInstance* sin, uint8_t frag) {
    (void)sin;
    g_byte_array_append(scancodes, &frag, 1);
}

static uint8_t kbd_leds(SpiceKbdInstance* sin) {
    (void)sin;
    return 0;
}

static const SpiceKbdInterface kbd_sif = {
    .base = {.type = SPICE_INTERFACE_KEYBOARD,
             .description = "test keyboard",
             .major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
             .minor_version = SPICE_INTERFACE_KEYBOARD_MINOR},
    .push_scan_freg = kbd_push,
    .get_leds = kbd_leds,
};
static SpiceKbdInstance kbd = {.base = {.sif = &kbd_sif.base}};

static void mouse_motion(SpiceMouseInstance* sin, int dx, int dy, int dz, uint32_t buttons) {
    (void)sin;
    mouse_log("\"kind\": \"motion\", \"dx\": %d, \"dy\": %d, \"dz\": %d, \"buttons\": %u", dx, dy,
              dz, buttons);
}

static void mouse_buttons(SpiceMouseInstance* sin, uint32_t buttons) {
    (void)sin;
    mouse_log("\"kind\": \"buttons\", \"buttons\": %u", buttons);
}

static const SpiceMouseInterface mouse_sif = {
    .base = {.type = SPICE_INTERFACE_MOUSE,
             .description = "test mouse",
             .major_version = SPICE_INTERFACE_MOUSE_MAJOR,
             .minor_version = SPICE_INTERFACE_MOUSE_MINOR},
    .motion = mouse_motion,
    .buttons = mouse_buttons,
};
static SpiceMouseInstance mouse = {.base = {.sif = &mouse_sif.base}};

static void tablet_size(SpiceTabletInstance* sin, int w, int h) {
    (void)sin;
    mouse_log("\"kind\": \"logical_size\", \"width\": %d, \"height\": %d", w, h);
}

static void tablet_position(SpiceTabletInstance* sin, int x, int y, uint32_t buttons) {
    (void)sin;
    mouse_log("\"kind\": \"position\", \"x\": %d, \"y\": %d, \"buttons\": %u", x, y, buttons);
}

static void tablet_wheel(SpiceTabletInstance* sin, int motion, uint32_t buttons) {
    (void)sin;
    mouse_log("\"kind\": \"wheel\", \"motion\": %d, \"buttons\": %u", motion, buttons);
}

static void tablet_buttons(SpiceTabletInstance* sin, uint32_t buttons) {
    (void)sin;
    mouse_log("\"kind\": \"buttons\", \"buttons\": %u", buttons);
}

static const SpiceTabletInterface tablet_sif = {
    .base = {.type = SPICE_INTERFACE_TABLET,
             .description = "test tablet",
             .major_version = SPICE_INTERFACE_TABLET_MAJOR,
             .minor_version = SPICE_INTERFACE_TABLET_MINOR},
    .set_logical_size = tablet_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};
static SpiceTabletInstance tablet = {.base = {.sif = &tablet_sif.base}};

/* Set-1 make codes of a US keyboard, unshifted and shifted. */
static char scancode_char(uint8_t code, gboolean shift) {
    static const char* lower = "\0\0331234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./";
    static const char* upper = "\0\033!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?";
    if (code == 0x39) {
        return ' ';
    }
    if (code < 0x36) {
        return (shift ? upper : lower)[code];
    }
    return 0;
}

static void write_keys(GString* m) {
    GString* text = g_string_new(NULL);
    gboolean shift = FALSE, extended = FALSE;
    g_string_append(m, "  \"keys\": {\"scancodes\": [");
    for (guint i = 0; i < scancodes->len; i++) {
        uint8_t b = scancodes->data[i];
        g_string_append_printf(m, "%s%u", i ? ", " : "", b);
        if (b == 0xe0) {
            extended = TRUE;
            continue;
        }
        gboolean up = (b & 0x80) != 0;
        uint8_t code = b & 0x7f;
        if (!extended && (code == 0x2a || code == 0x36)) {
            shift = !up;
        } else if (!extended && !up) {
            char ch = scancode_char(code, shift);
            if (ch) {
                g_string_append_c(text, ch);
            }
        }
        extended = FALSE;
    }
    g_string_append(m, "], \"text\": ");
    peer_json_string(m, text->str, (gssize)text->len);
    g_string_append(m, "},\n");
    g_string_free(text, TRUE);
}

/* ---- audio ---- */

static SpicePlaybackInstance playback;
static SpiceRecordInstance record;
static SpiceTimer* audio_timer;
static uint32_t playback_rate, record_rate;
static uint64_t playback_frames_sent;
static gint64 playback_last_us;
static double playback_due;
static GArray* record_samples; /* int16 stereo */

static const SpicePlaybackInterface playback_sif = {
    .base = {.type = SPICE_INTERFACE_PLAYBACK,
             .description = "test playback",
             .major_version = SPICE_INTERFACE_PLAYBACK_MAJOR,
             .minor_version = SPICE_INTERFACE_PLAYBACK_MINOR},
};

static const SpiceRecordInterface record_sif = {
    .base = {.type = SPICE_INTERFACE_RECORD,
             .description = "test record",
             .major_version = SPICE_INTERFACE_RECORD_MAJOR,
             .minor_version = SPICE_INTERFACE_RECORD_MINOR},
};

static void audio_tick(void* opaque) {
    (void)opaque;
    gint64 now = g_get_monotonic_time();
    if (playback_last_us) {
        playback_due += (double)(now - playback_last_us) * playback_rate / 1e6;
    }
    playback_last_us = now;
    static uint32_t* frame;
    static uint32_t n;
    for (;;) {
        if (!frame) {
            spice_server_playback_get_buffer(&playback, &frame, &n);
        }
        if (!frame || n == 0) {
            frame = NULL;
            playback_due = 0; /* no client yet */
            break;
        }
        if (playback_due < n) {
            break; /* keep the buffer for the next tick */
        }
        for (uint32_t i = 0; i < n; i++) {
            double t = (double)(playback_frames_sent + i) / playback_rate;
            int16_t v = (int16_t)lrint(9830.0 * sin(2 * M_PI * S.tone_hz * t));
            uint16_t u = (uint16_t)v;
            frame[i] = (uint32_t)u << 16 | u;
        }
        spice_server_playback_put_samples(&playback, frame);
        frame = NULL;
        playback_frames_sent += n;
        playback_due -= n;
    }

    uint32_t buf[4096];
    uint32_t got;
    while ((got = spice_server_record_get_samples(&record, buf, G_N_ELEMENTS(buf))) > 0) {
        if (record_samples->len < record_rate * 2 * 10) {
            g_array_append_vals(record_samples, buf, got * 2);
        }
    }
    S.core->timer_start(audio_timer, 10);
}

/* ---- VD agent ---- */

static SpiceCharDeviceInstance agent_sin;
static GByteArray* agent_out; /* chunks waiting for spice-server to read */
static GByteArray* agent_in;  /* message stream from the client, chunk headers removed */
static uint32_t agent_chunk_left;
static GByteArray* agent_chunk_hdr;
static uint32_t client_caps;
static gboolean client_caps_seen;
static GString* agent_json;
static char *clipboard_from_client, *clipboard_sent;
static GByteArray* clipboard_bmp; /* --clipboard-image: a 24-bit bottom-up BMP file */
static char* clipboard_bmp_sha256;
static GString* files_json;
static GString* monitors_json;
static int agent_msgs_in[VD_AGENT_END_MESSAGE + 1], agent_msgs_out[VD_AGENT_END_MESSAGE + 1];

typedef struct {
    uint32_t id;
    char* name;
    uint64_t size, got;
    FILE* f;
    GChecksum* sum;
} Xfer;

static GHashTable* xfers;

static const uint32_t agent_caps =
    (1u << VD_AGENT_CAP_MONITORS_CONFIG) | (1u << VD_AGENT_CAP_REPLY) |
    (1u << VD_AGENT_CAP_CLIPBOARD_BY_DEMAND) | (1u << VD_AGENT_CAP_CLIPBOARD_SELECTION) |
    (1u << VD_AGENT_CAP_SPARSE_MONITORS_CONFIG) | (1u << VD_AGENT_CAP_GUEST_LINEEND_LF) |
    (1u << VD_AGENT_CAP_MAX_CLIPBOARD);

static gboolean selection_prefix(void) {
    return client_caps_seen && (client_caps & (1u << VD_AGENT_CAP_CLIPBOARD_SELECTION));
}

static void agent_send(uint32_t type, const void* data, uint32_t size) {
    VDAgentMessage msg = {.protocol = VD_AGENT_PROTOCOL, .type = type, .size = size};
    GByteArray* whole = g_byte_array_new();
    g_byte_array_append(whole, (const guint8*)&msg, sizeof(msg));
    if (size) {
        g_byte_array_append(whole, data, size);
    }
    for (guint off = 0; off < whole->len;) {
        uint32_t n = MIN(whole->len - off, VD_AGENT_MAX_DATA_SIZE);
        VDIChunkHeader ch = {.port = VDP_CLIENT_PORT, .size = n};
        g_byte_array_append(agent_out, (const guint8*)&ch, sizeof(ch));
        g_byte_array_append(agent_out, whole->data + off, n);
        off += n;
    }
    g_byte_array_free(whole, TRUE);
    if (type <= VD_AGENT_END_MESSAGE) {
        agent_msgs_out[type]++;
    }
    spice_server_char_device_wakeup(&agent_sin);
}

static void agent_announce(gboolean request) {
    uint32_t body[2] = {request, agent_caps};
    agent_send(VD_AGENT_ANNOUNCE_CAPABILITIES, body, sizeof(body));
}

/* Clipboard messages carry a 4-byte selection prefix when both sides have the cap. */
static void agent_send_clipboard(uint32_t type, const void* payload, uint32_t len) {
    GByteArray* b = g_byte_array_new();
    if (selection_prefix()) {
        uint8_t sel[4] = {VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD, 0, 0, 0};
        g_byte_array_append(b, sel, 4);
    }
    g_byte_array_append(b, payload, len);
    agent_send(type, b->data, b->len);
    g_byte_array_free(b, TRUE);
}

static void agent_log(const char* fmt, ...) G_GNUC_PRINTF(1, 2);

static void agent_log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char* s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (agent_json->len) {
        g_string_append(agent_json, ",\n      ");
    }
    g_string_append_printf(agent_json, "{\"t\": %.3f, \"what\": ", peer_now());
    peer_json_string(agent_json, s, -1);
    g_string_append(agent_json, "}");
    peer_log("agent: %s", s);
    g_free(s);
}

static void xfer_status(uint32_t id, uint32_t result) {
    uint32_t body[2] = {id, result};
    agent_send(VD_AGENT_FILE_XFER_STATUS, body, sizeof(body));
}

static void xfer_start(const uint8_t* d, uint32_t size) {
    if (size < 4) {
        return;
    }
    uint32_t id;
    memcpy(&id, d, 4);
    GKeyFile* kf = g_key_file_new();
    GError* err = NULL;
    if (!g_key_file_load_from_data(kf, (const char*)d + 4, size - 4, G_KEY_FILE_NONE, &err)) {
        agent_log("file transfer %u: bad start message: %s", id, err->message);
        g_error_free(err);
        g_key_file_free(kf);
        xfer_status(id, VD_AGENT_FILE_XFER_STATUS_ERROR);
        return;
    }
    Xfer* x = g_new0(Xfer, 1);
    x->id = id;
    x->name = g_key_file_get_string(kf, "vdagent-file-xfer", "name", NULL);
    x->size = g_key_file_get_uint64(kf, "vdagent-file-xfer", "size", NULL);
    g_key_file_free(kf);
    char* base = g_path_get_basename(x->name ? x->name : "unnamed");
    char* path = g_build_filename(S.file_dir, base, NULL);
    g_mkdir_with_parents(S.file_dir, 0755);
    x->f = fopen(path, "wb");
    x->sum = g_checksum_new(G_CHECKSUM_SHA256);
    agent_log("file transfer %u: start %s (%" G_GUINT64_FORMAT " bytes) -> %s", id, x->name,
              x->size, path);
    g_free(base);
    g_free(path);
    g_hash_table_insert(xfers, GUINT_TO_POINTER(id), x);
    xfer_status(id,
                x->f ? VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA : VD_AGENT_FILE_XFER_STATUS_ERROR);
}

static void xfer_finish(Xfer* x, const char* result) {
    if (files_json->len) {
        g_string_append(files_json, ", ");
    }
    g_string_append(files_json, "{\"name\": ");
    peer_json_string(files_json, x->name ? x->name : "", -1);
    g_string_append_printf(files_json,
                           ", \"size\": %" G_GUINT64_FORMAT ", \"received\": %" G_GUINT64_FORMAT
                           ", \"sha256\": \"%s\", \"result\": \"%s\"}",
                           x->size, x->got, g_checksum_get_string(x->sum), result);
    if (x->f) {
        fclose(x->f);
    }
    g_checksum_free(x->sum);
    g_free(x->name);
    g_hash_table_remove(xfers, GUINT_TO_POINTER(x->id));
    g_free(x);
}

static void xfer_data(const uint8_t* d, uint32_t size) {
    if (size < 12) {
        return;
    }
    uint32_t id;
    uint64_t n;
    memcpy(&id, d, 4);
    memcpy(&n, d + 4, 8);
    Xfer* x = g_hash_table_lookup(xfers, GUINT_TO_POINTER(id));
    if (!x || n > size - 12) {
        return;
    }
    if (x->f && fwrite(d + 12, 1, n, x->f) != n) {
        agent_log("file transfer %u: write failed: %s", id, strerror(errno));
    }
    g_checksum_update(x->sum, d + 12, (gssize)n);
    x->got += n;
    if (x->got >= x->size) {
        agent_log("file transfer %u: complete", id);
        xfer_status(id, VD_AGENT_FILE_XFER_STATUS_SUCCESS);
        xfer_finish(x, "success");
    }
}

/* --clipboard-image: a 45x30 picture (odd width, so BMP rows carry padding) as a 24-bit
 * bottom-up BMP, and the same picture as expected-clipboard.png for the tests. */
static void make_clipboard_bmp(void) {
    enum { W = 45, H = 30 };

    const uint32_t row = (W * 3 + 3) & ~3u, pixels = row * H, off = 14 + 40;
    guint32* xrgb = g_new0(guint32, W * H);
    clipboard_bmp = g_byte_array_sized_new(off + pixels);
    guint8 hdr[54] = {'B', 'M'};
    const uint32_t fields[] = {off + pixels, 0, off, 40, W, H};
    memcpy(hdr + 2, fields, sizeof(fields));
    hdr[26] = 1;  /* planes */
    hdr[28] = 24; /* bits per pixel; compression BI_RGB = 0 */
    memcpy(hdr + 34, &pixels, 4);
    g_byte_array_append(clipboard_bmp, hdr, sizeof(hdr));
    for (int y = H - 1; y >= 0; y--) {
        guint8 line[(W * 3 + 3) & ~3u] = {0};
        for (int x = 0; x < W; x++) {
            const guint8 r = (guint8)(x * 5), g = (guint8)(y * 8), b = (guint8)((x ^ y) * 9);
            line[x * 3] = b;
            line[x * 3 + 1] = g;
            line[x * 3 + 2] = r;
            xrgb[y * W + x] = 0xff000000u | (guint32)r << 16 | (guint32)g << 8 | b;
        }
        g_byte_array_append(clipboard_bmp, line, row);
    }
    clipboard_bmp_sha256 = peer_sha256_hex(clipboard_bmp->data, clipboard_bmp->len);
    char* path = g_build_filename(S.out_dir, "expected-clipboard.png", NULL);
    if (!peer_write_png_xrgb(path, (const uint8_t*)xrgb, W, H, W * 4)) {
        peer_log("cannot write %s", path);
    }
    g_free(path);
    g_free(xrgb);
}

static void agent_handle(uint32_t type, const uint8_t* d, uint32_t size) {
    if (type <= VD_AGENT_END_MESSAGE) {
        agent_msgs_in[type]++;
    }
    guint pre = selection_prefix() ? 4 : 0;
    switch (type) {
        case VD_AGENT_ANNOUNCE_CAPABILITIES:
            if (size >= 8) {
                uint32_t req;
                memcpy(&req, d, 4);
                memcpy(&client_caps, d + 4, 4);
                client_caps_seen = TRUE;
                agent_log("client caps 0x%x (request %u)", client_caps, req);
                if (req) {
                    agent_announce(FALSE);
                }
            }
            break;
        case VD_AGENT_MONITORS_CONFIG:
            if (size >= 8) {
                uint32_t n, flags;
                memcpy(&n, d, 4);
                memcpy(&flags, d + 4, 4);
                agent_log("monitors config: %u monitors", n);
                for (uint32_t i = 0; i < n && 8 + (i + 1) * sizeof(VDAgentMonConfig) <= size; i++) {
                    VDAgentMonConfig mc;
                    memcpy(&mc, d + 8 + i * sizeof(mc), sizeof(mc));
                    if (monitors_json->len) {
                        g_string_append(monitors_json, ", ");
                    }
                    g_string_append_printf(
                        monitors_json,
                        "{\"width\": %u, \"height\": %u, \"depth\": %u, \"x\": %d, "
                        "\"y\": %d}",
                        mc.width, mc.height, mc.depth, mc.x, mc.y);
                }
                VDAgentReply r = {.type = VD_AGENT_MONITORS_CONFIG, .error = VD_AGENT_SUCCESS};
                agent_send(VD_AGENT_REPLY, &r, sizeof(r));
            }
            break;
        case VD_AGENT_CLIPBOARD_GRAB:
            agent_log("client grabbed the clipboard (%u type bytes)", size - MIN(size, pre));
            if (size >= pre + 4) {
                uint32_t want = VD_AGENT_CLIPBOARD_UTF8_TEXT;
                agent_send_clipboard(VD_AGENT_CLIPBOARD_REQUEST, &want, 4);
            }
            break;
        case VD_AGENT_CLIPBOARD:
            if (size >= pre + 4) {
                g_free(clipboard_from_client);
                clipboard_from_client = g_strndup((const char*)d + pre + 4, size - pre - 4);
                agent_log("clipboard from client: %s", clipboard_from_client);
                /* now take the clipboard back with our own text, as a guest copy would */
                uint32_t types[2] = {VD_AGENT_CLIPBOARD_UTF8_TEXT, VD_AGENT_CLIPBOARD_IMAGE_BMP};
                agent_send_clipboard(VD_AGENT_CLIPBOARD_GRAB, types,
                                     clipboard_bmp ? sizeof(types) : sizeof(types[0]));
            }
            break;
        case VD_AGENT_CLIPBOARD_REQUEST:
            if (size >= pre + 4) {
                uint32_t t;
                memcpy(&t, d + pre, 4);
                if (t == VD_AGENT_CLIPBOARD_IMAGE_BMP && clipboard_bmp) {
                    GByteArray* img = g_byte_array_new();
                    g_byte_array_append(img, (const guint8*)&t, 4);
                    g_byte_array_append(img, clipboard_bmp->data, clipboard_bmp->len);
                    agent_send_clipboard(VD_AGENT_CLIPBOARD, img->data, img->len);
                    g_byte_array_free(img, TRUE);
                    agent_log("clipboard image sent to client: %u bytes", clipboard_bmp->len);
                    break;
                }
                GByteArray* b = g_byte_array_new();
                g_byte_array_append(b, (const guint8*)&t, 4);
                g_byte_array_append(b, (const guint8*)clipboard_sent,
                                    (guint)strlen(clipboard_sent));
                agent_send_clipboard(VD_AGENT_CLIPBOARD, b->data, b->len);
                g_byte_array_free(b, TRUE);
                agent_log("clipboard sent to client: %s", clipboard_sent);
            }
            break;
        case VD_AGENT_CLIPBOARD_RELEASE:
            agent_log("client released the clipboard");
            break;
        case VD_AGENT_FILE_XFER_START:
            xfer_start(d, size);
            break;
        case VD_AGENT_FILE_XFER_DATA:
            xfer_data(d, size);
            break;
        case VD_AGENT_FILE_XFER_STATUS:
            if (size >= 8) {
                uint32_t id, result;
                memcpy(&id, d, 4);
                memcpy(&result, d + 4, 4);
                agent_log("file transfer %u: client status %u", id, result);
                Xfer* x = g_hash_table_lookup(xfers, GUINT_TO_POINTER(id));
                if (x) {
                    xfer_finish(x, "cancelled");
                }
            }
            break;
        default:
            agent_log("message type %u (%u bytes)", type, size);
            break;
    }
}

static int agent_write(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len) {
    (void)sin;
    for (int i = 0; i < len;) {
        if (agent_chunk_left == 0) {
            guint need = sizeof(VDIChunkHeader) - agent_chunk_hdr->len;
            guint take = MIN(need, (guint)(len - i));
            g_byte_array_append(agent_chunk_hdr, buf + i, take);
            i += (int)take;
            if (agent_chunk_hdr->len == sizeof(VDIChunkHeader)) {
                VDIChunkHeader h;
                memcpy(&h, agent_chunk_hdr->data, sizeof(h));
                agent_chunk_left = h.size;
                g_byte_array_set_size(agent_chunk_hdr, 0);
            }
            continue;
        }
        guint take = MIN(agent_chunk_left, (guint)(len - i));
        g_byte_array_append(agent_in, buf + i, take);
        agent_chunk_left -= take;
        i += (int)take;
    }
    while (agent_in->len >= sizeof(VDAgentMessage)) {
        VDAgentMessage m;
        memcpy(&m, agent_in->data, sizeof(m));
        if (agent_in->len < sizeof(m) + m.size) {
            break;
        }
        agent_handle(m.type, agent_in->data + sizeof(m), m.size);
        g_byte_array_remove_range(agent_in, 0, (guint)(sizeof(m) + m.size));
    }
    return len;
}

static int agent_read(SpiceCharDeviceInstance* sin, uint8_t* buf, int len) {
    (void)sin;
    int n = MIN(len, (int)agent_out->len);
    if (n > 0) {
        memcpy(buf, agent_out->data, (size_t)n);
        g_byte_array_remove_range(agent_out, 0, (guint)n);
    }
    return n;
}

static void agent_state(SpiceCharDeviceInstance* sin, int connected) {
    (void)sin;
    agent_log("char device state %d", connected);
}

static SpiceCharDeviceInterface agent_sif = {
    .base = {.type = SPICE_INTERFACE_CHAR_DEVICE,
             .description = "test vdagent",
             .major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
             .minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR},
    .state = agent_state,
    .write = agent_write,
    .read = agent_read,
};

/* ---- port channel ---- */

static SpiceCharDeviceInstance port_sin;
static GByteArray *port_out, *port_in;
static GString* port_events;
static const char port_greeting[] = "hello from spicetap-test-server";

static int port_write(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len) {
    (void)sin;
    g_byte_array_append(port_in, buf, (guint)len);
    return len;
}

static int port_read(SpiceCharDeviceInstance* sin, uint8_t* buf, int len) {
    (void)sin;
    int n = MIN(len, (int)port_out->len);
    if (n > 0) {
        memcpy(buf, port_out->data, (size_t)n);
        g_byte_array_remove_range(port_out, 0, (guint)n);
    }
    return n;
}

/* spice-server reports a client on the port as the device state, like a guest port open */
static void port_state(SpiceCharDeviceInstance* sin, int connected) {
    g_string_append_printf(port_events, "%s\"state %d\"", port_events->len ? ", " : "", connected);
    peer_log("port: client %s", connected ? "attached" : "detached");
    if (connected) {
        spice_server_port_event(sin, SPICE_PORT_EVENT_OPENED);
        g_byte_array_append(port_out, (const guint8*)port_greeting, sizeof(port_greeting) - 1);
        spice_server_char_device_wakeup(sin);
    }
}

static void port_event(SpiceCharDeviceInstance* sin, uint8_t event) {
    (void)sin;
    g_string_append_printf(port_events, "%s\"event %u\"", port_events->len ? ", " : "", event);
    peer_log("port: client event %u", event);
}

static SpiceCharDeviceInterface port_sif = {
    .base = {.type = SPICE_INTERFACE_CHAR_DEVICE,
             .description = "test port",
             .major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
             .minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR},
    .state = port_state,
    .write = port_write,
    .read = port_read,
    .event = port_event,
};

/* ---- setup and manifest ---- */

void devices_init(void) {
    scancodes = g_byte_array_new();
    mouse_json = g_string_new(NULL);
    if (!S.no_inputs) {
        spice_server_add_interface(S.server, &kbd.base);
        spice_server_add_interface(S.server, &mouse.base);
        if (!S.no_tablet) {
            spice_server_add_interface(S.server, &tablet.base);
        }
    }

    record_samples = g_array_new(FALSE, FALSE, sizeof(int16_t));
    if (!S.no_audio) {
        spice_server_set_playback_compression(S.server, !S.pcm);
        playback.base.sif = &playback_sif.base;
        spice_server_add_interface(S.server, &playback.base);
        playback_rate = spice_server_get_best_playback_rate(&playback);
        spice_server_set_playback_rate(&playback, playback_rate);
        record.base.sif = &record_sif.base;
        spice_server_add_interface(S.server, &record.base);
        record_rate = spice_server_get_best_record_rate(&record);
        spice_server_set_record_rate(&record, record_rate);
        spice_server_playback_start(&playback);
        spice_server_record_start(&record);
        audio_timer = S.core->timer_add(audio_tick, NULL);
        S.core->timer_start(audio_timer, 10);
    }

    /* mouse goes to the tablet (client mode) rather than through the agent */
    spice_server_set_agent_mouse(S.server, 0);
    agent_out = g_byte_array_new();
    agent_in = g_byte_array_new();
    agent_chunk_hdr = g_byte_array_new();
    agent_json = g_string_new(NULL);
    files_json = g_string_new(NULL);
    monitors_json = g_string_new(NULL);
    xfers = g_hash_table_new(NULL, NULL);
    clipboard_sent = g_strdup("clipboard text from the spicetap guest \xc3\xa9\xe2\x82\xac");
    if (S.clipboard_image) {
        make_clipboard_bmp();
    }
    if (!S.no_agent) {
        agent_sin.base.sif = &agent_sif.base;
        agent_sin.subtype = "vdagent";
        spice_server_add_interface(S.server, &agent_sin.base);
    }

    port_out = g_byte_array_new();
    port_in = g_byte_array_new();
    port_events = g_string_new(NULL);
    if (S.port_name && *S.port_name) {
        port_sin.base.sif = &port_sif.base;
        port_sin.subtype = "port";
        port_sin.portname = S.port_name;
        spice_server_add_interface(S.server, &port_sin.base);
    }
}

void devices_client_connected(void) {
    if (!S.no_agent) {
        agent_announce(TRUE);
    }
}

static void write_counts(GString* m, const char* key, const int* counts) {
    static const char* names[] = {"",
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
                                  "graphics_device_info"};
    g_string_append_printf(m, "    \"%s\": {", key);
    gboolean first = TRUE;
    for (int i = 1; i < (int)G_N_ELEMENTS(names) && i <= VD_AGENT_END_MESSAGE; i++) {
        if (counts[i]) {
            g_string_append_printf(m, "%s\"%s\": %d", first ? "" : ", ", names[i], counts[i]);
            first = FALSE;
        }
    }
    g_string_append(m, "},\n");
}

void devices_write_manifest(GString* m) {
    write_keys(m);
    g_string_append_printf(m, "  \"mouse\": [\n      %s\n  ],\n", mouse_json->str);

    double rec_hz = peer_estimate_tone_hz((const int16_t*)(void*)record_samples->data,
                                          record_samples->len / 2, 2, (int)MAX(record_rate, 1));
    g_string_append_printf(
        m,
        "  \"playback\": {\"enabled\": %s, \"tone_hz\": %d, \"rate\": %u, "
        "\"channels\": 2, \"compression\": \"%s\", \"frames_sent\": %" G_GUINT64_FORMAT "},\n",
        S.no_audio ? "false" : "true", S.tone_hz, playback_rate,
        S.pcm ? "raw" : "opus-if-client-supports", playback_frames_sent);
    g_string_append_printf(m,
                           "  \"record\": {\"enabled\": %s, \"rate\": %u, \"frames_received\": %u, "
                           "\"tone_hz_estimate\": %.1f},\n",
                           S.no_audio ? "false" : "true", record_rate, record_samples->len / 2,
                           rec_hz);

    g_string_append_printf(m, "  \"agent\": {\n    \"enabled\": %s,\n    \"caps\": %u,\n",
                           S.no_agent ? "false" : "true", agent_caps);
    g_string_append_printf(m, "    \"client_caps\": %u,\n", client_caps);
    write_counts(m, "messages_from_client", agent_msgs_in);
    write_counts(m, "messages_to_client", agent_msgs_out);
    g_string_append(m, "    \"clipboard_from_client\": ");
    if (clipboard_from_client) {
        peer_json_string(m, clipboard_from_client, -1);
    } else {
        g_string_append(m, "null");
    }
    g_string_append(m, ",\n    \"clipboard_to_client\": ");
    peer_json_string(m, clipboard_sent, -1);
    if (clipboard_bmp) {
        g_string_append_printf(
            m,
            ",\n    \"clipboard_image\": {\"type\": \"image_bmp\", \"size\": %u, "
            "\"sha256\": \"%s\", \"png\": \"expected-clipboard.png\"}",
            clipboard_bmp->len, clipboard_bmp_sha256);
    } else {
        g_string_append(m, ",\n    \"clipboard_image\": null");
    }
    g_string_append_printf(m, ",\n    \"files\": [%s],\n    \"monitors_config\": [%s],\n",
                           files_json->str, monitors_json->str);
    g_string_append_printf(m, "    \"log\": [\n      %s\n    ]\n  },\n", agent_json->str);

    g_string_append(m, "  \"port\": {\"name\": ");
    if (S.port_name && *S.port_name) {
        peer_json_string(m, S.port_name, -1);
    } else {
        g_string_append(m, "null");
    }
    g_string_append(m, ", \"sent\": ");
    peer_json_string(m, port_greeting, -1);
    g_string_append(m, ", \"received\": ");
    peer_json_string(m, (const char*)port_in->data, port_in->len);
    g_string_append_printf(m, ", \"client_events\": [%s]},\n", port_events->str);
}
