/* spicetap-test-server entry point: options, server setup, run, manifest. */
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

Server S;

static gboolean parse_compression(const char* name, SpiceImageCompression* out) {
    static const struct {
        const char* name;
        SpiceImageCompression value;
    } table[] = {
        {"off", SPICE_IMAGE_COMPRESSION_OFF},
        {"quic", SPICE_IMAGE_COMPRESSION_QUIC},
        {"lz", SPICE_IMAGE_COMPRESSION_LZ},
        {"glz", SPICE_IMAGE_COMPRESSION_GLZ},
        {"auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ},
        {"auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
        if (!strcmp(name, table[i].name)) {
            *out = table[i].value;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean parse_wan(const char* name, spice_wan_compression_t* out) {
    if (!strcmp(name, "auto")) {
        *out = SPICE_WAN_COMPRESSION_AUTO;
    } else if (!strcmp(name, "never")) {
        *out = SPICE_WAN_COMPRESSION_NEVER;
    } else if (!strcmp(name, "always")) {
        *out = SPICE_WAN_COMPRESSION_ALWAYS;
    } else {
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_streaming(const char* name, int* out) {
    if (!strcmp(name, "off")) {
        *out = SPICE_STREAM_VIDEO_OFF;
    } else if (!strcmp(name, "all")) {
        *out = SPICE_STREAM_VIDEO_ALL;
    } else if (!strcmp(name, "filter")) {
        *out = SPICE_STREAM_VIDEO_FILTER;
    } else {
        return FALSE;
    }
    return TRUE;
}

static gboolean on_timeout(gpointer data) {
    (void)data;
    peer_log("duration reached");
    g_main_loop_quit(S.loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data) {
    (void)data;
    peer_log("signal: stopping");
    g_main_loop_quit(S.loop);
    return G_SOURCE_REMOVE;
}

static void append_op_counts(GString* m) {
    GList* keys = g_list_sort(g_hash_table_get_keys(S.op_counts), (GCompareFunc)strcmp);
    g_string_append(m, "  \"draw_ops\": {");
    for (GList* k = keys; k; k = k->next) {
        g_string_append_printf(m, "%s\"%s\": %d", k == keys ? "" : ", ", (const char*)k->data,
                               GPOINTER_TO_INT(g_hash_table_lookup(S.op_counts, k->data)));
    }
    g_string_append(m, "},\n");
    g_list_free(keys);
}

static void json_opt(GString* m, const char* key, const char* value) {
    g_string_append_printf(m, "  \"%s\": ", key);
    if (value) {
        peer_json_string(m, value, -1);
    } else {
        g_string_append(m, "null");
    }
    g_string_append(m, ",\n");
}

static void write_manifest(void) {
    GString* m = g_string_new("{\n  \"role\": \"server\",\n");
    json_opt(m, "scenario", S.scenario);
    g_string_append_printf(m, "  \"port\": %d,\n  \"tls_port\": %d,\n", S.port, S.tls_port);
    json_opt(m, "ticket", S.ticket);
    json_opt(m, "image_compression", S.compression);
    json_opt(m, "jpeg_wan_compression", S.jpeg);
    json_opt(m, "zlib_glz_wan_compression", S.zlib_glz);
    json_opt(m, "streaming_video", S.streaming);
    json_opt(m, "video_codecs", S.video_codecs);
    g_string_append_printf(m, "  \"stream_frames\": %d,\n", S.stream_frames_sent);
    g_string_append_printf(m, "  \"surfaces_created\": %d,\n  \"surfaces_destroyed\": %d,\n",
                           S.surfaces_created, S.surfaces_destroyed);
    g_mutex_lock(&S.lock);
    append_op_counts(m);
    g_string_append_printf(m, "  \"cursor\": [\n    %s\n  ],\n", S.cursor_json->str);
    g_mutex_unlock(&S.lock);
    display_write_expected(m);
    devices_write_manifest(m);
    g_mutex_lock(&S.lock);
    g_string_append_printf(m, "  \"channels\": [\n    %s\n  ],\n", S.channels_json->str);
    g_string_append_printf(m, "  \"events\": [\n    %s\n  ]\n}\n", S.events_json->str);
    g_mutex_unlock(&S.lock);
    char* path = g_build_filename(S.out_dir, "server-manifest.json", NULL);
    peer_write_text(path, m);
    g_free(path);
    g_string_free(m, TRUE);
}

int main(int argc, char** argv) {
    g_set_prgname("spicetap-test-server");
    S.displays = 1;
    S.duration_s = 20;
    S.tone_hz = 440;
    S.stream_frames = 90;
    S.port_name = NULL;
    S.exit_on_disconnect = TRUE;
    gboolean keep_running = FALSE;
    char* secure_channels = NULL;
    GOptionEntry entries[] = {
        {"port", 0, 0, G_OPTION_ARG_INT, &S.port, "plain TCP port (0: none)", "P"},
        {"tls-port", 0, 0, G_OPTION_ARG_INT, &S.tls_port, "TLS port (0: none)", "P"},
        {"x509-dir", 0, 0, G_OPTION_ARG_FILENAME, &S.x509_dir,
         "dir with ca-cert.pem, server-cert.pem, server-key.pem", "DIR"},
        {"ticket", 0, 0, G_OPTION_ARG_STRING, &S.ticket, "password (default: no auth)", "PW"},
        {"secure-channels", 0, 0, G_OPTION_ARG_STRING, &secure_channels,
         "with --port and --tls-port: these channels (comma list, e.g. main,inputs) only over TLS",
         "LIST"},
        {"image-compression", 0, 0, G_OPTION_ARG_STRING, &S.compression,
         "off|quic|lz|glz|auto_lz|auto_glz", "C"},
        {"jpeg", 0, 0, G_OPTION_ARG_STRING, &S.jpeg, "jpeg WAN compression auto|never|always", "W"},
        {"zlib-glz", 0, 0, G_OPTION_ARG_STRING, &S.zlib_glz, "zlib-glz WAN compression", "W"},
        {"streaming-video", 0, 0, G_OPTION_ARG_STRING, &S.streaming, "off|all|filter", "S"},
        {"video-codecs", 0, 0, G_OPTION_ARG_STRING, &S.video_codecs,
         "e.g. spice:mjpeg;gstreamer:vp8", "LIST"},
        {"stream-frames", 0, 0, G_OPTION_ARG_INT, &S.stream_frames, "frames in stream scenarios",
         "N"},
        {"scenario", 0, 0, G_OPTION_ARG_STRING, &S.scenario,
         "known|draw-ops|resize|stream*|cursor (anything else draws the known picture)", "NAME"},
        {"palette-bitmaps", 0, 0, G_OPTION_ARG_NONE, &S.palette_bitmaps,
         "also draw 8-, 4- and 1-bit palette bitmaps", NULL},
        {"rgba-photo", 0, 0, G_OPTION_ARG_NONE, &S.rgba_photo,
         "also draw a photo-like RGBA bitmap with a varying alpha", NULL},
        {"displays", 0, 0, G_OPTION_ARG_INT, &S.displays, "number of QXL devices (monitors)", "N"},
        {"out-dir", 0, 0, G_OPTION_ARG_FILENAME, &S.out_dir,
         "where the manifest and expected PNGs go", "DIR"},
        {"file-dir", 0, 0, G_OPTION_ARG_FILENAME, &S.file_dir, "where received files go", "DIR"},
        {"spiceport", 0, 0, G_OPTION_ARG_STRING, &S.port_name, "port channel name", "NAME"},
        {"tone", 0, 0, G_OPTION_ARG_INT, &S.tone_hz, "playback tone in Hz", "HZ"},
        {"pcm", 0, 0, G_OPTION_ARG_NONE, &S.pcm, "disable playback compression (raw PCM)", NULL},
        {"no-audio", 0, 0, G_OPTION_ARG_NONE, &S.no_audio, "no playback/record devices", NULL},
        {"no-agent", 0, 0, G_OPTION_ARG_NONE, &S.no_agent, "no VD agent", NULL},
        {"clipboard-image", 0, 0, G_OPTION_ARG_NONE, &S.clipboard_image,
         "the guest's clipboard also offers a BMP image (expected-clipboard.png)", NULL},
        {"no-inputs", 0, 0, G_OPTION_ARG_NONE, &S.no_inputs, "no keyboard/mouse/tablet", NULL},
        {"no-tablet", 0, 0, G_OPTION_ARG_NONE, &S.no_tablet,
         "no tablet: server mouse mode, so cursor moves are forwarded", NULL},
        {"duration", 0, 0, G_OPTION_ARG_INT, &S.duration_s, "exit after this many seconds", "S"},
        {"keep-running", 0, 0, G_OPTION_ARG_NONE, &keep_running,
         "do not exit when the client disconnects", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext* oc = g_option_context_new("- scriptable SPICE test server");
    g_option_context_add_main_entries(oc, entries, NULL);
    GError* err = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "spicetap-test-server: %s\n", err->message);
        return 2;
    }
    g_option_context_free(oc);
    S.exit_on_disconnect = !keep_running;
    if (!S.scenario) {
        S.scenario = g_strdup("known");
    }
    if (!S.out_dir) {
        S.out_dir = g_strdup(".");
    }
    if (!S.file_dir) {
        S.file_dir = g_build_filename(S.out_dir, "received-files", NULL);
    }
    if (S.displays < 1 || S.displays > MAX_DISPLAYS) {
        fprintf(stderr, "spicetap-test-server: --displays must be 1..%d\n", MAX_DISPLAYS);
        return 2;
    }
    if (S.port <= 0 && S.tls_port <= 0) {
        fprintf(stderr, "spicetap-test-server: give --port and/or --tls-port\n");
        return 2;
    }
    g_mkdir_with_parents(S.out_dir, 0755);

    g_mutex_init(&S.lock);
    S.channels_json = g_string_new(NULL);
    S.cursor_json = g_string_new(NULL);
    S.events_json = g_string_new(NULL);
    S.op_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    S.loop = g_main_loop_new(NULL, FALSE);
    S.core = core_glib_new();
    S.server = spice_server_new();
    spice_server_set_addr(S.server, "127.0.0.1", SPICE_ADDR_FLAG_IPV4_ONLY);
    if (S.port > 0) {
        spice_server_set_port(S.server, S.port);
    }
    if (S.tls_port > 0) {
        if (!S.x509_dir) {
            fprintf(stderr, "spicetap-test-server: --tls-port needs --x509-dir\n");
            return 2;
        }
        char* ca = g_build_filename(S.x509_dir, "ca-cert.pem", NULL);
        char* cert = g_build_filename(S.x509_dir, "server-cert.pem", NULL);
        char* key = g_build_filename(S.x509_dir, "server-key.pem", NULL);
        if (spice_server_set_tls(S.server, S.tls_port, ca, cert, key, NULL, NULL, NULL) != 0) {
            fprintf(stderr, "spicetap-test-server: TLS setup failed\n");
            return 1;
        }
        if (S.port <= 0) {
            spice_server_set_channel_security(S.server, NULL, SPICE_CHANNEL_SECURITY_SSL);
        } else if (secure_channels) {
            /* a client told of both ports links these on the plain port first, is answered
             * NEED_SECURED and comes back on the TLS port */
            char** names = g_strsplit(secure_channels, ",", -1);
            for (char** n = names; *n; n++) {
                if (spice_server_set_channel_security(S.server, *n, SPICE_CHANNEL_SECURITY_SSL) != 0) {
                    fprintf(stderr, "spicetap-test-server: unknown channel '%s'\n", *n);
                    g_strfreev(names);
                    return 2;
                }
            }
            g_strfreev(names);
        }
    }
    if (S.ticket) {
        spice_server_set_ticket(S.server, S.ticket, 3600, 0, 0);
    } else {
        spice_server_set_noauth(S.server);
    }
    if (S.compression) {
        SpiceImageCompression c;
        if (!parse_compression(S.compression, &c)) {
            fprintf(stderr, "spicetap-test-server: unknown image compression '%s'\n",
                    S.compression);
            return 2;
        }
        spice_server_set_image_compression(S.server, c);
    }
    spice_wan_compression_t wan;
    if (S.jpeg) {
        if (!parse_wan(S.jpeg, &wan)) {
            fprintf(stderr, "spicetap-test-server: bad --jpeg '%s'\n", S.jpeg);
            return 2;
        }
        spice_server_set_jpeg_compression(S.server, wan);
    }
    if (S.zlib_glz) {
        if (!parse_wan(S.zlib_glz, &wan)) {
            fprintf(stderr, "spicetap-test-server: bad --zlib-glz '%s'\n", S.zlib_glz);
            return 2;
        }
        spice_server_set_zlib_glz_compression(S.server, wan);
    }
    if (S.streaming) {
        int v;
        if (!parse_streaming(S.streaming, &v)) {
            fprintf(stderr, "spicetap-test-server: bad --streaming-video '%s'\n", S.streaming);
            return 2;
        }
        spice_server_set_streaming_video(S.server, v);
    }
    if (S.video_codecs && spice_server_set_video_codecs(S.server, S.video_codecs) != 0) {
        fprintf(stderr, "spicetap-test-server: video codecs '%s' not (all) available\n",
                S.video_codecs);
        return 3;
    }
    spice_server_set_name(S.server, "spicetap-test-server");
    static const uint8_t uuid[16] = {0x5b, 0x1c, 0xe7, 0xa9, 0, 1, 0x40, 2,
                                     0x80, 3,    4,    5,    6, 7, 8,    9};
    spice_server_set_uuid(S.server, uuid);
    if (spice_server_init(S.server, S.core) != 0) {
        fprintf(stderr, "spicetap-test-server: spice_server_init failed (port in use?)\n");
        return 1;
    }
    for (int i = 0; i < S.displays; i++) {
        display_init(&S.display[i], i);
    }
    devices_init();
    spice_server_vm_start(S.server);
    peer_log("listening on 127.0.0.1 port %d tls-port %d, scenario %s", S.port, S.tls_port,
             S.scenario);
    printf("READY\n");
    fflush(stdout);

    g_timeout_add_seconds((guint)S.duration_s, on_timeout, NULL);
    g_unix_signal_add(SIGTERM, on_signal, NULL);
    g_unix_signal_add(SIGINT, on_signal, NULL);
    g_main_loop_run(S.loop);

    write_manifest();
    peer_log("manifest written");
    /* spice_server_destroy joins worker threads that may be blocked on a dead client; the
     * manifest is out, so leave without tearing everything down. */
    fflush(NULL);
    _exit(0);
}
