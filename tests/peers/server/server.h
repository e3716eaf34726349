/* spicetap-test-server: a scriptable SPICE server on libspice-server that drives the QXL,
 * cursor, input, audio, agent and port interfaces the way QEMU does, and records what it
 * did (and the picture it expects the client to show) for the test suite. */
#pragma once

#include <glib.h>
#include <spice.h>
#include <spice/qxl_dev.h>
#include <stdint.h>

#include "../common/peer_util.h"

#define MAX_DISPLAYS 4
#define MAX_SURFACES 8

/* The server's own picture of one surface: what the client must end up showing. */
typedef struct {
    int width, height;
    uint32_t* px; /* xRGB, stride = width */
} Model;

typedef struct Display {
    QXLInstance qxl; /* first: the callbacks get a QXLInstance* */
    int id;
    gboolean attached;
    int width, height;
    uint8_t* primary_mem;
    uint8_t* surface_mem[MAX_SURFACES];
    Model model[MAX_SURFACES]; /* [0] is the primary */
    gboolean model_exact;      /* FALSE once an op the model does not follow was drawn */
    GAsyncQueue* commands;
    GAsyncQueue* cursor_commands;
    QXLMonitorsConfig* monitors;
} Display;

typedef struct {
    /* options */
    int port, tls_port;
    char *x509_dir, *ticket, *compression, *jpeg, *zlib_glz, *streaming, *video_codecs;
    char *scenario, *out_dir, *file_dir, *port_name;
    int displays, duration_s, tone_hz, stream_frames;
    gboolean pcm, no_audio, no_agent, no_inputs, no_tablet, exit_on_disconnect;
    gboolean clipboard_image; /* the guest's clipboard also offers a BMP image */
    gboolean palette_bitmaps; /* also draw 8-, 4- and 1-bit palette bitmaps (LZ_PLT under lz) */
    gboolean rgba_photo;      /* also draw a photo-like RGBA bitmap (JPEG_ALPHA under jpeg) */

    SpiceCoreInterface* core;
    SpiceServer* server;
    GMainLoop* loop;
    Display display[MAX_DISPLAYS];
    gboolean scenario_started;
    gint linked_channels; /* bit per channel type that finished linking (atomic) */

    GMutex lock;            /* guards manifest pieces written from spice worker threads */
    GString* channels_json; /* channel events */
    GHashTable* op_counts;  /* draw op name -> count */
    GString* cursor_json;
    GString* events_json; /* scenario steps with times */
    int surfaces_created, surfaces_destroyed, stream_frames_sent;
} Server;

extern Server S;

/* core.c */
SpiceCoreInterface* core_glib_new(void);

/* display.c */
void display_init(Display* d, int id);
void display_start_scenario(void);
void display_write_expected(GString* manifest);
void count_op(const char* name);
void manifest_event(const char* fmt, ...) G_GNUC_PRINTF(1, 2);

/* cursor (display.c) */
void cursor_run_scenario(Display* d);

/* devices.c: inputs, audio, agent, port */
void devices_init(void);
void devices_client_connected(void);
void devices_write_manifest(GString* manifest);
