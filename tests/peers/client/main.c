/* spicetap-test-client: a headless spice-client-glib client that connects every channel,
 * types, clicks, exchanges clipboard and files with the agent, plays and records audio, and
 * finally writes each display's primary surface as PNG plus a manifest of what it did. */
#include <gio/gio.h>
#include <math.h>
#include <spice-client.h>
#include <spice/vd_agent.h>
#include <stdio.h>
#include <string.h>

#include "../common/peer_util.h"

#define MAX_DISPLAYS 4

static struct {
    /* options */
    char *host, *password, *ca_file, *out_dir, *type_text, *clipboard_text, *send_file;
    char *preferred_compression, *video_codec, *snapshot_at;
    int port, tls_port, record_tone_hz;
    double duration;
    gboolean want_image; /* also request image types the guest offers */

    SpiceSession* session;
    SpiceMainChannel* main;
    SpiceInputsChannel* inputs;
    SpiceChannel* display[MAX_DISPLAYS];
    GMainLoop* loop;
    int exit_code;
    gboolean main_opened, finished;

    GString *channels_json, *keys_json, *mouse_json, *errors_json, *cursor_json;
    GString* typed;
    int cursor_sets, cursor_moves, cursor_hides;
    char* clipboard_received;
    gboolean clipboard_sent;
    guint image_type; /* the image received from the guest's clipboard, if any */
    guint image_size;
    char* image_sha256;
    char *file_status, *file_sha256;
    gint64 file_size;
    gboolean monitors_sent;

    int playback_rate, playback_channels;
    guint64 playback_bytes;
    GByteArray* playback_pcm;
    int record_rate, record_channels;
    guint64 record_frames_sent;
    guint record_timer;
    SpiceRecordChannel* record;

    GString* port_received;
    char* port_name;
    gboolean port_opened;
    GArray* snapshots; /* double seconds */
    GString* snapshots_json;
} C;

static const char* channel_type_name(int type) {
    static const char* names[] = {"",       "main",   "display",   "inputs",   "cursor", "playback",
                                  "record", "tunnel", "smartcard", "usbredir", "port",   "webdav"};
    return type > 0 && type < (int)G_N_ELEMENTS(names) ? names[type] : "unknown";
}

static void json_sep(GString* s, const char* sep) {
    if (s->len) {
        g_string_append(s, sep);
    }
}

/* ---- displays ---- */

static gboolean dump_display(int id, const char* name) {
    SpiceDisplayPrimary p;
    if (!C.display[id] || !spice_display_channel_get_primary(C.display[id], 0, &p)) {
        peer_log("display %d: no primary surface to dump", id);
        return FALSE;
    }
    if (p.format != SPICE_SURFACE_FMT_32_xRGB && p.format != SPICE_SURFACE_FMT_32_ARGB) {
        peer_log("display %d: unsupported surface format %d", id, p.format);
        return FALSE;
    }
    char* path = g_build_filename(C.out_dir, name, NULL);
    gboolean ok = peer_write_png_xrgb(path, p.data, p.width, p.height, p.stride);
    peer_log("display %d: %dx%d -> %s", id, p.width, p.height, path);
    g_free(path);
    return ok;
}

static gboolean take_snapshot(gpointer data) {
    double t = *(double*)data;
    for (int i = 0; i < MAX_DISPLAYS; i++) {
        if (!C.display[i]) {
            continue;
        }
        char* name = g_strdup_printf("display-%d-at-%.1f.png", i, t);
        if (dump_display(i, name)) {
            json_sep(C.snapshots_json, ", ");
            g_string_append_printf(C.snapshots_json, "{\"display\": %d, \"t\": %.1f, \"png\": ", i,
                                   t);
            peer_json_string(C.snapshots_json, name, -1);
            g_string_append(C.snapshots_json, "}");
        }
        g_free(name);
    }
    return G_SOURCE_REMOVE;
}

static void on_primary_create(SpiceChannel* ch, gint format, gint width, gint height, gint stride,
                              gint shmid, gpointer imgdata, gpointer user) {
    (void)format;
    (void)stride;
    (void)shmid;
    (void)imgdata;
    (void)user;
    int id;
    g_object_get(ch, "channel-id", &id, NULL);
    peer_log("display %d: primary %dx%d", id, width, height);
}

/* ---- cursor ---- */

static void on_cursor_set(SpiceChannel* ch, gint w, gint h, gint hx, gint hy, gpointer rgba,
                          gpointer user) {
    (void)ch;
    (void)user;
    C.cursor_sets++;
    guint32 sum = 0;
    for (int i = 0; rgba && i < w * h * 4; i++) {
        sum = sum * 31 + ((guint8*)rgba)[i];
    }
    json_sep(C.cursor_json, ", ");
    g_string_append_printf(C.cursor_json,
                           "{\"t\": %.3f, \"width\": %d, \"height\": %d, \"hot_x\": %d, "
                           "\"hot_y\": %d, \"rgba_hash\": %u}",
                           peer_now(), w, h, hx, hy, sum);
}

static void on_cursor_move(SpiceChannel* ch, gint x, gint y, gpointer user) {
    (void)ch;
    (void)x;
    (void)y;
    (void)user;
    C.cursor_moves++;
}

static void on_cursor_hide(SpiceChannel* ch, gpointer user) {
    (void)ch;
    (void)user;
    C.cursor_hides++;
}

/* ---- inputs ---- */

typedef struct {
    guint code;
    gboolean shift;
} Key;

/* Set-1 scancodes of a US keyboard. */
static gboolean char_to_key(char c, Key* k) {
    static const char* lower = "\0\0331234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./";
    static const char* upper = "\0\033!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?";
    if (c == ' ') {
        k->code = 0x39;
        k->shift = FALSE;
        return TRUE;
    }
    for (guint i = 2; i < 0x36; i++) {
        if (lower[i] == c) {
            k->code = i;
            k->shift = FALSE;
            return TRUE;
        }
        if (upper[i] == c) {
            k->code = i;
            k->shift = TRUE;
            return TRUE;
        }
    }
    return FALSE;
}

static guint type_pos;

static void log_key(guint code, gboolean down) {
    json_sep(C.keys_json, ",\n      ");
    g_string_append_printf(C.keys_json, "{\"t\": %.3f, \"scancode\": %u, \"down\": %s}", peer_now(),
                           code, down ? "true" : "false");
}

static gboolean type_next(gpointer data) {
    (void)data;
    if (!C.inputs || !C.type_text || type_pos >= strlen(C.type_text)) {
        return G_SOURCE_REMOVE;
    }
    Key k;
    char ch = C.type_text[type_pos++];
    if (!char_to_key(ch, &k)) {
        peer_log("cannot type '%c': no scancode for it", ch);
        return G_SOURCE_CONTINUE;
    }
    if (k.shift) {
        spice_inputs_channel_key_press(C.inputs, 0x2a);
        log_key(0x2a, TRUE);
    }
    spice_inputs_channel_key_press(C.inputs, k.code);
    log_key(k.code, TRUE);
    spice_inputs_channel_key_release(C.inputs, k.code);
    log_key(k.code, FALSE);
    if (k.shift) {
        spice_inputs_channel_key_release(C.inputs, 0x2a);
        log_key(0x2a, FALSE);
    }
    g_string_append_c(C.typed, ch);
    return G_SOURCE_CONTINUE;
}

static gboolean start_typing(gpointer data) {
    (void)data;
    g_timeout_add(30, type_next, NULL);
    return G_SOURCE_REMOVE;
}

static gboolean mouse_script(gpointer data) {
    (void)data;
    if (!C.inputs) {
        return G_SOURCE_REMOVE;
    }
    int mode = 0;
    g_object_get(C.main, "mouse-mode", &mode, NULL);
    static const int pts[][2] = {{100, 100}, {200, 150}, {320, 240}};
    for (guint i = 0; i < G_N_ELEMENTS(pts); i++) {
        if (mode == SPICE_MOUSE_MODE_CLIENT) {
            spice_inputs_channel_position(C.inputs, pts[i][0], pts[i][1], 0, 0);
        } else {
            spice_inputs_channel_motion(C.inputs, 10, 5, 0);
        }
        json_sep(C.mouse_json, ",\n      ");
        g_string_append_printf(C.mouse_json,
                               "{\"t\": %.3f, \"kind\": \"%s\", \"x\": %d, \"y\": %d}", peer_now(),
                               mode == SPICE_MOUSE_MODE_CLIENT ? "position" : "motion",
                               mode == SPICE_MOUSE_MODE_CLIENT ? pts[i][0] : 10,
                               mode == SPICE_MOUSE_MODE_CLIENT ? pts[i][1] : 5);
    }
    spice_inputs_channel_button_press(C.inputs, SPICE_MOUSE_BUTTON_LEFT, 0);
    spice_inputs_channel_button_release(C.inputs, SPICE_MOUSE_BUTTON_LEFT,
                                        SPICE_MOUSE_BUTTON_MASK_LEFT);
    spice_inputs_channel_button_press(C.inputs, SPICE_MOUSE_BUTTON_RIGHT, 0);
    spice_inputs_channel_button_release(C.inputs, SPICE_MOUSE_BUTTON_RIGHT,
                                        SPICE_MOUSE_BUTTON_MASK_RIGHT);
    json_sep(C.mouse_json, ",\n      ");
    g_string_append_printf(C.mouse_json,
                           "{\"t\": %.3f, \"kind\": \"click\", \"buttons\": "
                           "[\"left\", \"right\"], \"mode\": %d}",
                           peer_now(), mode);
    return G_SOURCE_REMOVE;
}

/* ---- agent: clipboard, files, monitors ---- */

static gboolean on_clipboard_request(SpiceMainChannel* main, guint selection, guint type,
                                     gpointer user) {
    (void)user;
    if (type != VD_AGENT_CLIPBOARD_UTF8_TEXT || !C.clipboard_text) {
        return FALSE;
    }
    spice_main_channel_clipboard_selection_notify(
        main, selection, type, (const guchar*)C.clipboard_text, strlen(C.clipboard_text));
    C.clipboard_sent = TRUE;
    peer_log("clipboard: sent \"%s\"", C.clipboard_text);
    return TRUE;
}

static gboolean on_clipboard_grab(SpiceMainChannel* main, guint selection, gpointer types,
                                  guint ntypes, gpointer user) {
    (void)user;
    const guint32* t = types;
    gboolean asked = FALSE;
    for (guint i = 0; i < ntypes; i++) {
        if (t[i] == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
            spice_main_channel_clipboard_selection_request(main, selection, t[i]);
            if (!C.want_image) {
                return TRUE;
            }
            asked = TRUE;
        } else if (C.want_image &&
                   (t[i] == VD_AGENT_CLIPBOARD_IMAGE_BMP || t[i] == VD_AGENT_CLIPBOARD_IMAGE_PNG)) {
            spice_main_channel_clipboard_selection_request(main, selection, t[i]);
            asked = TRUE;
        }
    }
    return asked;
}

static void on_clipboard_data(SpiceMainChannel* main, guint selection, guint type, gpointer data,
                              guint size, gpointer user) {
    (void)main;
    (void)selection;
    (void)user;
    if (type != VD_AGENT_CLIPBOARD_UTF8_TEXT && C.want_image) {
        C.image_type = type;
        C.image_size = size;
        g_free(C.image_sha256);
        C.image_sha256 = peer_sha256_hex(data, size);
        peer_log("clipboard: received image type %u, %u bytes", type, size);
        return;
    }
    g_free(C.clipboard_received);
    C.clipboard_received = g_strndup(data, size);
    peer_log("clipboard: received \"%s\"", C.clipboard_received);
}

static void file_copy_done(GObject* src, GAsyncResult* res, gpointer user) {
    (void)user;
    GError* err = NULL;
    gboolean ok = spice_main_channel_file_copy_finish(SPICE_MAIN_CHANNEL(src), res, &err);
    g_free(C.file_status);
    C.file_status = g_strdup(ok ? "success" : err ? err->message : "failed");
    peer_log("file transfer: %s", C.file_status);
    g_clear_error(&err);
}

static gboolean agent_actions(gpointer data) {
    (void)data;
    gboolean agent = FALSE;
    g_object_get(C.main, "agent-connected", &agent, NULL);
    if (!agent) {
        peer_log("agent: not connected, no clipboard or file transfer");
        return G_SOURCE_REMOVE;
    }
    if (C.clipboard_text) {
        guint32 types[] = {VD_AGENT_CLIPBOARD_UTF8_TEXT};
        spice_main_channel_clipboard_selection_grab(C.main, VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD,
                                                    types, 1);
    }
    if (C.send_file) {
        GFile* f = g_file_new_for_path(C.send_file);
        GFile* files[] = {f, NULL};
        gchar* contents = NULL;
        gsize len = 0;
        if (g_file_get_contents(C.send_file, &contents, &len, NULL)) {
            C.file_sha256 = peer_sha256_hex(contents, len);
            C.file_size = (gint64)len;
            g_free(contents);
        }
        C.file_status = g_strdup("started");
        spice_main_channel_file_copy_async(C.main, files, G_FILE_COPY_NONE, NULL, NULL, NULL,
                                           file_copy_done, NULL);
        g_object_unref(f);
    }
    for (int i = 0; i < MAX_DISPLAYS; i++) {
        SpiceDisplayPrimary p;
        if (C.display[i] && spice_display_channel_get_primary(C.display[i], 0, &p)) {
            spice_main_channel_update_display_enabled(C.main, i, TRUE, FALSE);
            spice_main_channel_update_display(C.main, i, i * p.width, 0, p.width, p.height, FALSE);
        }
    }
    C.monitors_sent = spice_main_channel_send_monitor_config(C.main);
    return G_SOURCE_REMOVE;
}

/* ---- audio ---- */

static void on_playback_start(SpicePlaybackChannel* ch, gint format, gint channels, gint rate,
                              gpointer user) {
    (void)ch;
    (void)format;
    (void)user;
    C.playback_rate = rate;
    C.playback_channels = channels;
    peer_log("playback: start %d Hz, %d channels", rate, channels);
}

static void on_playback_data(SpicePlaybackChannel* ch, gpointer data, gint size, gpointer user) {
    (void)ch;
    (void)user;
    C.playback_bytes += (guint64)size;
    if (C.playback_pcm->len < 48000 * 4 * 10) {
        g_byte_array_append(C.playback_pcm, data, (guint)size);
    }
}

static gboolean record_tick(gpointer data) {
    (void)data;
    if (!C.record || C.record_rate <= 0) {
        return G_SOURCE_REMOVE;
    }
    int frames = C.record_rate / 50; /* 20 ms */
    int16_t* buf = g_new(int16_t, (gsize)frames * (gsize)C.record_channels);
    for (int i = 0; i < frames; i++) {
        double t = (double)(C.record_frames_sent + (guint64)i) / C.record_rate;
        int16_t v = (int16_t)lrint(8000.0 * sin(2 * M_PI * C.record_tone_hz * t));
        for (int c = 0; c < C.record_channels; c++) {
            buf[i * C.record_channels + c] = v;
        }
    }
    spice_record_channel_send_data(C.record, buf, (gsize)frames * (gsize)C.record_channels * 2, 0);
    C.record_frames_sent += (guint64)frames;
    g_free(buf);
    return G_SOURCE_CONTINUE;
}

static void on_record_start(SpiceRecordChannel* ch, gint format, gint channels, gint rate,
                            gpointer user) {
    (void)format;
    (void)user;
    C.record = ch;
    C.record_rate = rate;
    C.record_channels = channels;
    peer_log("record: start %d Hz, %d channels", rate, channels);
    if (!C.record_timer) {
        C.record_timer = g_timeout_add(20, record_tick, NULL);
    }
}

static void on_record_stop(SpiceRecordChannel* ch, gpointer user) {
    (void)ch;
    (void)user;
    if (C.record_timer) {
        g_source_remove(C.record_timer);
        C.record_timer = 0;
    }
}

/* ---- port ---- */

static void on_port_data(SpicePortChannel* port, gpointer data, gint size, gpointer user) {
    (void)port;
    (void)user;
    g_string_append_len(C.port_received, data, size);
    peer_log("port: %d bytes", size);
}

static void port_written(GObject* src, GAsyncResult* res, gpointer user) {
    (void)user;
    GError* err = NULL;
    if (spice_port_channel_write_finish(SPICE_PORT_CHANNEL(src), res, &err) < 0) {
        peer_log("port: write failed: %s", err ? err->message : "?");
        g_clear_error(&err);
    }
}

static const char port_hello[] = "hello from spicetap-test-client";

/* The guest side opens the port; then the client may write. */
static void on_port_opened(GObject* obj, GParamSpec* pspec, gpointer user) {
    (void)pspec;
    (void)user;
    gboolean opened = FALSE;
    g_object_get(obj, "port-opened", &opened, NULL);
    g_free(C.port_name);
    g_object_get(obj, "port-name", &C.port_name, NULL);
    peer_log("port %s: opened %d", C.port_name ? C.port_name : "?", opened);
    if (opened && !C.port_opened) {
        C.port_opened = TRUE;
        spice_port_channel_write_async(SPICE_PORT_CHANNEL(obj), port_hello, sizeof(port_hello) - 1,
                                       NULL, port_written, NULL);
    }
}

/* ---- channels ---- */

static void finish(void);

static gboolean finish_cb(gpointer data) {
    (void)data;
    finish();
    return G_SOURCE_REMOVE;
}

static void on_channel_event(SpiceChannel* ch, SpiceChannelEvent ev, gpointer user) {
    (void)user;
    int type, id;
    g_object_get(ch, "channel-type", &type, "channel-id", &id, NULL);
    const GError* err = spice_channel_get_error(ch);
    peer_log("channel %s %d: event %d%s%s", channel_type_name(type), id, ev, err ? ": " : "",
             err ? err->message : "");
    if (ev == SPICE_CHANNEL_OPENED) {
        if (type == SPICE_CHANNEL_DISPLAY) {
            if (C.preferred_compression) {
                static const struct {
                    const char* name;
                    int value;
                } t[] = {{"off", SPICE_IMAGE_COMPRESSION_OFF},
                         {"auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ},
                         {"auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ},
                         {"quic", SPICE_IMAGE_COMPRESSION_QUIC},
                         {"glz", SPICE_IMAGE_COMPRESSION_GLZ},
                         {"lz", SPICE_IMAGE_COMPRESSION_LZ},
                         {"lz4", SPICE_IMAGE_COMPRESSION_LZ4}};

                for (gsize i = 0; i < G_N_ELEMENTS(t); i++) {
                    if (!strcmp(t[i].name, C.preferred_compression)) {
                        spice_display_channel_change_preferred_compression(ch, t[i].value);
                    }
                }
            }
            if (C.video_codec) {
                static const struct {
                    const char* name;
                    gint value;
                } v[] = {{"mjpeg", SPICE_VIDEO_CODEC_TYPE_MJPEG},
                         {"vp8", SPICE_VIDEO_CODEC_TYPE_VP8},
                         {"vp9", SPICE_VIDEO_CODEC_TYPE_VP9},
                         {"h264", SPICE_VIDEO_CODEC_TYPE_H264},
                         {"h265", SPICE_VIDEO_CODEC_TYPE_H265}};

                for (gsize i = 0; i < G_N_ELEMENTS(v); i++) {
                    if (!strcmp(v[i].name, C.video_codec)) {
                        GError* e = NULL;
                        if (!spice_display_channel_change_preferred_video_codec_types(
                                ch, &v[i].value, 1, &e)) {
                            peer_log("video codec %s: %s", C.video_codec, e ? e->message : "?");
                            g_clear_error(&e);
                        }
                    }
                }
            }
        }
        if (type == SPICE_CHANNEL_INPUTS) {
            /* keys sent before the link is up would be lost */
            g_timeout_add(300, start_typing, NULL);
        }
        if (type == SPICE_CHANNEL_MAIN && !C.main_opened) {
            C.main_opened = TRUE;
            g_timeout_add((guint)(C.duration * 1000), finish_cb, NULL);
            g_timeout_add(1500, agent_actions, NULL);
            g_timeout_add(1200, mouse_script, NULL);
            for (guint i = 0; i < C.snapshots->len; i++) {
                g_timeout_add((guint)(g_array_index(C.snapshots, double, i) * 1000), take_snapshot,
                              &g_array_index(C.snapshots, double, i));
            }
        }
    } else if (ev != SPICE_CHANNEL_CLOSED && ev != SPICE_CHANNEL_SWITCHING) {
        json_sep(C.errors_json, ", ");
        g_string_append_printf(C.errors_json,
                               "{\"channel\": \"%s\", \"id\": %d, \"event\": %d, "
                               "\"message\": ",
                               channel_type_name(type), id, ev);
        peer_json_string(C.errors_json, err ? err->message : "", -1);
        g_string_append(C.errors_json, "}");
        if (type == SPICE_CHANNEL_MAIN) {
            C.exit_code = 1;
            g_main_loop_quit(C.loop);
        }
    }
}

static void on_channel_new(SpiceSession* s, SpiceChannel* ch, gpointer user) {
    (void)s;
    (void)user;
    int type, id;
    g_object_get(ch, "channel-type", &type, "channel-id", &id, NULL);
    peer_log("new channel %s %d", channel_type_name(type), id);
    json_sep(C.channels_json, ", ");
    g_string_append_printf(C.channels_json, "{\"type\": %d, \"name\": \"%s\", \"id\": %d}", type,
                           channel_type_name(type), id);
    g_signal_connect(ch, "channel-event", G_CALLBACK(on_channel_event), NULL);
    switch (type) {
        case SPICE_CHANNEL_MAIN:
            C.main = SPICE_MAIN_CHANNEL(ch);
            g_signal_connect(ch, "main-clipboard-selection-request",
                             G_CALLBACK(on_clipboard_request), NULL);
            g_signal_connect(ch, "main-clipboard-selection-grab", G_CALLBACK(on_clipboard_grab),
                             NULL);
            g_signal_connect(ch, "main-clipboard-selection", G_CALLBACK(on_clipboard_data), NULL);
            return; /* spice_session_connect() connects it */
        case SPICE_CHANNEL_DISPLAY:
            if (id < MAX_DISPLAYS) {
                C.display[id] = ch;
            }
            g_signal_connect(ch, "display-primary-create", G_CALLBACK(on_primary_create), NULL);
            break;
        case SPICE_CHANNEL_INPUTS:
            C.inputs = SPICE_INPUTS_CHANNEL(ch);
            break;
        case SPICE_CHANNEL_CURSOR:
            g_signal_connect(ch, "cursor-set", G_CALLBACK(on_cursor_set), NULL);
            g_signal_connect(ch, "cursor-move", G_CALLBACK(on_cursor_move), NULL);
            g_signal_connect(ch, "cursor-hide", G_CALLBACK(on_cursor_hide), NULL);
            break;
        case SPICE_CHANNEL_PLAYBACK:
            g_signal_connect(ch, "playback-start", G_CALLBACK(on_playback_start), NULL);
            g_signal_connect(ch, "playback-data", G_CALLBACK(on_playback_data), NULL);
            break;
        case SPICE_CHANNEL_RECORD:
            g_signal_connect(ch, "record-start", G_CALLBACK(on_record_start), NULL);
            g_signal_connect(ch, "record-stop", G_CALLBACK(on_record_stop), NULL);
            break;
        case SPICE_CHANNEL_PORT:
            g_signal_connect(ch, "port-data", G_CALLBACK(on_port_data), NULL);
            g_signal_connect(ch, "notify::port-opened", G_CALLBACK(on_port_opened), NULL);
            break;
        default:
            break;
    }
    spice_channel_connect(ch);
}

/* ---- end ---- */

static void write_manifest(void) {
    GString* m = g_string_new("{\n  \"role\": \"client\",\n");
    g_string_append_printf(m, "  \"host\": \"%s\",\n  \"port\": %d,\n  \"tls_port\": %d,\n", C.host,
                           C.port, C.tls_port);
    g_string_append(m, "  \"preferred_compression\": ");
    C.preferred_compression ? peer_json_string(m, C.preferred_compression, -1)
                            : (void)g_string_append(m, "null");
    g_string_append(m, ",\n  \"preferred_video_codec\": ");
    C.video_codec ? peer_json_string(m, C.video_codec, -1) : (void)g_string_append(m, "null");
    g_string_append_printf(m, ",\n  \"channels\": [%s],\n", C.channels_json->str);
    g_string_append(m, "  \"displays\": [");
    gboolean first = TRUE;
    for (int i = 0; i < MAX_DISPLAYS; i++) {
        SpiceDisplayPrimary p;
        if (!C.display[i] || !spice_display_channel_get_primary(C.display[i], 0, &p)) {
            continue;
        }
        g_string_append_printf(m,
                               "%s\n    {\"id\": %d, \"width\": %d, \"height\": %d, \"png\": "
                               "\"display-%d.png\"}",
                               first ? "" : ",", i, p.width, p.height, i);
        first = FALSE;
    }
    g_string_append_printf(m, "\n  ],\n  \"snapshots\": [%s],\n", C.snapshots_json->str);
    g_string_append(m, "  \"keys\": {\"text\": ");
    peer_json_string(m, C.typed->str, (gssize)C.typed->len);
    g_string_append_printf(m, ", \"events\": [\n      %s\n  ]},\n", C.keys_json->str);
    g_string_append_printf(m, "  \"mouse\": [\n      %s\n  ],\n", C.mouse_json->str);
    g_string_append_printf(m,
                           "  \"cursor\": {\"sets\": %d, \"moves\": %d, \"hides\": %d, \"shapes\": "
                           "[%s]},\n",
                           C.cursor_sets, C.cursor_moves, C.cursor_hides, C.cursor_json->str);
    g_string_append(m, "  \"clipboard\": {\"sent\": ");
    C.clipboard_sent ? peer_json_string(m, C.clipboard_text, -1) : (void)g_string_append(m, "null");
    g_string_append(m, ", \"received\": ");
    C.clipboard_received ? peer_json_string(m, C.clipboard_received, -1)
                         : (void)g_string_append(m, "null");
    if (C.image_sha256) {
        g_string_append_printf(m,
                               ", \"image_received\": {\"type\": %u, \"size\": %u, "
                               "\"sha256\": \"%s\"}",
                               C.image_type, C.image_size, C.image_sha256);
    } else {
        g_string_append(m, ", \"image_received\": null");
    }
    g_string_append(m, "},\n  \"file\": ");
    if (C.send_file) {
        char* base = g_path_get_basename(C.send_file);
        g_string_append(m, "{\"name\": ");
        peer_json_string(m, base, -1);
        g_string_append_printf(m,
                               ", \"size\": %" G_GINT64_FORMAT
                               ", \"sha256\": \"%s\", "
                               "\"status\": ",
                               C.file_size, C.file_sha256 ? C.file_sha256 : "");
        peer_json_string(m, C.file_status ? C.file_status : "not started", -1);
        g_string_append(m, "}");
        g_free(base);
    } else {
        g_string_append(m, "null");
    }
    g_string_append_printf(m, ",\n  \"monitors_config_sent\": %s,\n",
                           C.monitors_sent ? "true" : "false");
    double hz = C.playback_channels > 0
                    ? peer_estimate_tone_hz((const int16_t*)(void*)C.playback_pcm->data,
                                            C.playback_pcm->len / 2 / (guint)C.playback_channels,
                                            C.playback_channels, C.playback_rate)
                    : 0.0;
    g_string_append_printf(
        m,
        "  \"playback\": {\"rate\": %d, \"channels\": %d, \"bytes\": %" G_GUINT64_FORMAT
        ", \"tone_hz_estimate\": %.1f},\n",
        C.playback_rate, C.playback_channels, C.playback_bytes, hz);
    g_string_append_printf(m,
                           "  \"record\": {\"rate\": %d, \"channels\": %d, \"tone_hz\": %d, "
                           "\"frames_sent\": %" G_GUINT64_FORMAT "},\n",
                           C.record_rate, C.record_channels, C.record_tone_hz,
                           C.record_frames_sent);
    g_string_append(m, "  \"port\": {\"name\": ");
    C.port_name ? peer_json_string(m, C.port_name, -1) : (void)g_string_append(m, "null");
    g_string_append(m, ", \"sent\": ");
    C.port_opened ? peer_json_string(m, port_hello, -1) : (void)g_string_append(m, "null");
    g_string_append(m, ", \"received\": ");
    peer_json_string(m, C.port_received->str, (gssize)C.port_received->len);
    g_string_append_printf(m, "},\n  \"errors\": [%s]\n}\n", C.errors_json->str);
    char* path = g_build_filename(C.out_dir, "client-manifest.json", NULL);
    peer_write_text(path, m);
    g_free(path);
    g_string_free(m, TRUE);
}

static void finish(void) {
    if (C.finished) {
        return;
    }
    C.finished = TRUE;
    for (int i = 0; i < MAX_DISPLAYS; i++) {
        if (C.display[i]) {
            char* name = g_strdup_printf("display-%d.png", i);
            if (!dump_display(i, name)) {
                C.exit_code = 1;
            }
            g_free(name);
        }
    }
    write_manifest();
    spice_session_disconnect(C.session);
    g_main_loop_quit(C.loop);
}

int main(int argc, char** argv) {
    g_set_prgname("spicetap-test-client");
    C.host = g_strdup("127.0.0.1");
    C.duration = 5.0;
    C.record_tone_hz = 1000;
    GOptionEntry entries[] = {
        {"host", 0, 0, G_OPTION_ARG_STRING, &C.host, "server address", "H"},
        {"port", 0, 0, G_OPTION_ARG_INT, &C.port, "plain port", "P"},
        {"tls-port", 0, 0, G_OPTION_ARG_INT, &C.tls_port, "TLS port", "P"},
        {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &C.ca_file, "CA certificate for TLS", "F"},
        {"password", 0, 0, G_OPTION_ARG_STRING, &C.password, "ticket", "PW"},
        {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &C.duration,
         "seconds after the main channel opens before dumping and leaving", "S"},
        {"out-dir", 0, 0, G_OPTION_ARG_FILENAME, &C.out_dir, "PNG and manifest dir", "DIR"},
        {"type", 0, 0, G_OPTION_ARG_STRING, &C.type_text, "text to type (US keyboard)", "TEXT"},
        {"clipboard", 0, 0, G_OPTION_ARG_STRING, &C.clipboard_text, "clipboard text to offer",
         "TEXT"},
        {"send-file", 0, 0, G_OPTION_ARG_FILENAME, &C.send_file, "file to send to the agent", "F"},
        {"want-image", 0, 0, G_OPTION_ARG_NONE, &C.want_image,
         "also request the image types the guest's clipboard offers", NULL},
        {"preferred-compression", 0, 0, G_OPTION_ARG_STRING, &C.preferred_compression,
         "ask the server for an image compression (e.g. lz4)", "C"},
        {"video-codec", 0, 0, G_OPTION_ARG_STRING, &C.video_codec,
         "preferred video codec: mjpeg|vp8|vp9|h264|h265", "C"},
        {"record-tone", 0, 0, G_OPTION_ARG_INT, &C.record_tone_hz, "tone sent on record", "HZ"},
        {"snapshot-at", 0, 0, G_OPTION_ARG_STRING, &C.snapshot_at,
         "comma-separated seconds after connect to also dump PNGs", "T,..."},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext* oc = g_option_context_new("- headless SPICE test client");
    g_option_context_add_main_entries(oc, entries, NULL);
    GError* err = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "spicetap-test-client: %s\n", err->message);
        return 2;
    }
    g_option_context_free(oc);
    if (C.port <= 0 && C.tls_port <= 0) {
        fprintf(stderr, "spicetap-test-client: give --port and/or --tls-port\n");
        return 2;
    }
    if (!C.out_dir) {
        C.out_dir = g_strdup(".");
    }
    g_mkdir_with_parents(C.out_dir, 0755);
    C.channels_json = g_string_new(NULL);
    C.keys_json = g_string_new(NULL);
    C.mouse_json = g_string_new(NULL);
    C.errors_json = g_string_new(NULL);
    C.cursor_json = g_string_new(NULL);
    C.snapshots_json = g_string_new(NULL);
    C.typed = g_string_new(NULL);
    C.port_received = g_string_new(NULL);
    C.playback_pcm = g_byte_array_new();
    C.snapshots = g_array_new(FALSE, FALSE, sizeof(double));
    if (C.snapshot_at) {
        char** parts = g_strsplit(C.snapshot_at, ",", -1);
        for (char** p = parts; *p; p++) {
            double t = g_ascii_strtod(*p, NULL);
            if (t > 0) {
                g_array_append_val(C.snapshots, t);
            }
        }
        g_strfreev(parts);
    }

    C.loop = g_main_loop_new(NULL, FALSE);
    C.session = spice_session_new();
    g_object_set(C.session, "host", C.host, "enable-audio", TRUE, NULL);
    if (C.port > 0) {
        char* p = g_strdup_printf("%d", C.port);
        g_object_set(C.session, "port", p, NULL);
        g_free(p);
    }
    if (C.tls_port > 0) {
        char* p = g_strdup_printf("%d", C.tls_port);
        g_object_set(C.session, "tls-port", p, NULL);
        g_free(p);
    }
    if (C.ca_file) {
        g_object_set(C.session, "ca-file", C.ca_file, NULL);
    }
    if (C.password) {
        g_object_set(C.session, "password", C.password, NULL);
    }
    g_signal_connect(C.session, "channel-new", G_CALLBACK(on_channel_new), NULL);
    if (!spice_session_connect(C.session)) {
        fprintf(stderr, "spicetap-test-client: cannot start connecting\n");
        return 1;
    }
    /* a hard stop in case the main channel never opens */
    g_timeout_add((guint)((C.duration + 15) * 1000), finish_cb, NULL);
    g_main_loop_run(C.loop);
    if (!C.finished) {
        write_manifest();
    }
    peer_log("done (exit %d)", C.exit_code);
    return C.exit_code;
}
