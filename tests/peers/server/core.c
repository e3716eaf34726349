/* SpiceCoreInterface on the GLib main loop, as QEMU provides one: timers and fd watches. */
#include <glib-unix.h>

#include "server.h"

struct SpiceTimer {
    SpiceTimerFunc func;
    void* opaque;
    GSource* source;
};

typedef struct {
    GSource source;
    gpointer tag;
    int fd;
    SpiceWatchFunc func;
    void* opaque;
} WatchSource;

struct SpiceWatch {
    WatchSource* src;
};

static GMainContext* ctx(void) {
    return g_main_context_default();
}

static gboolean timer_fire(gpointer data) {
    SpiceTimer* t = data;
    g_source_unref(t->source);
    t->source = NULL;
    t->func(t->opaque);
    return G_SOURCE_REMOVE;
}

static SpiceTimer* timer_add(SpiceTimerFunc func, void* opaque) {
    SpiceTimer* t = g_new0(SpiceTimer, 1);
    t->func = func;
    t->opaque = opaque;
    return t;
}

static void timer_cancel(SpiceTimer* t) {
    if (t->source) {
        g_source_destroy(t->source);
        g_source_unref(t->source);
        t->source = NULL;
    }
}

static void timer_start(SpiceTimer* t, uint32_t ms) {
    timer_cancel(t);
    t->source = g_timeout_source_new(ms);
    g_source_set_callback(t->source, timer_fire, t, NULL);
    g_source_attach(t->source, ctx());
}

static void timer_remove(SpiceTimer* t) {
    timer_cancel(t);
    g_free(t);
}

static GIOCondition to_condition(int mask) {
    GIOCondition c = 0;
    if (mask & SPICE_WATCH_EVENT_READ) {
        c |= G_IO_IN;
    }
    if (mask & SPICE_WATCH_EVENT_WRITE) {
        c |= G_IO_OUT;
    }
    return c;
}

static gboolean watch_dispatch(GSource* source, GSourceFunc cb, gpointer data) {
    (void)cb;
    (void)data;
    WatchSource* w = (WatchSource*)source;
    GIOCondition rev = g_source_query_unix_fd(source, w->tag);
    int ev = 0;
    if (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        ev |= SPICE_WATCH_EVENT_READ;
    }
    if (rev & G_IO_OUT) {
        ev |= SPICE_WATCH_EVENT_WRITE;
    }
    if (ev) {
        w->func(w->fd, ev, w->opaque);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_funcs = {.dispatch = watch_dispatch};

static SpiceWatch* watch_add(int fd, int mask, SpiceWatchFunc func, void* opaque) {
    SpiceWatch* w = g_new0(SpiceWatch, 1);
    w->src = (WatchSource*)g_source_new(&watch_funcs, sizeof(WatchSource));
    w->src->fd = fd;
    w->src->func = func;
    w->src->opaque = opaque;
    w->src->tag = g_source_add_unix_fd(&w->src->source, fd, to_condition(mask));
    g_source_attach(&w->src->source, ctx());
    return w;
}

static void watch_update_mask(SpiceWatch* w, int mask) {
    g_source_modify_unix_fd(&w->src->source, w->src->tag, to_condition(mask));
}

static void watch_remove(SpiceWatch* w) {
    g_source_destroy(&w->src->source);
    g_source_unref(&w->src->source);
    g_free(w);
}

static const char* channel_name(int type) {
    static const char* names[] = {"",       "main",   "display",   "inputs",   "cursor", "playback",
                                  "record", "tunnel", "smartcard", "usbredir", "port",   "webdav"};
    return type > 0 && type < (int)G_N_ELEMENTS(names) ? names[type] : "unknown";
}

static gboolean quit_idle(gpointer data) {
    (void)data;
    peer_log("client disconnected from the main channel");
    g_main_loop_quit(S.loop);
    return G_SOURCE_REMOVE;
}

/* Called from the main thread and from spice-server's worker threads. */
static void channel_event(int event, SpiceChannelEventInfo* info) {
    const char* what = event == SPICE_CHANNEL_EVENT_CONNECTED      ? "connected"
                       : event == SPICE_CHANNEL_EVENT_INITIALIZED  ? "initialized"
                       : event == SPICE_CHANNEL_EVENT_DISCONNECTED ? "disconnected"
                                                                   : NULL;
    if (!what) {
        return;
    }
    g_mutex_lock(&S.lock);
    if (S.channels_json->len) {
        g_string_append(S.channels_json, ",\n    ");
    }
    g_string_append_printf(S.channels_json,
                           "{\"t\": %.3f, \"event\": \"%s\", \"type\": %d, \"name\": \"%s\", "
                           "\"id\": %d, \"connection_id\": %u, \"tls\": %s}",
                           peer_now(), what, info->type, channel_name(info->type), info->id,
                           info->connection_id,
                           (info->flags & SPICE_CHANNEL_EVENT_FLAG_TLS) ? "true" : "false");
    g_mutex_unlock(&S.lock);
    if (event == SPICE_CHANNEL_EVENT_INITIALIZED && info->type > 0 && info->type < 31) {
        g_atomic_int_or(&S.linked_channels, 1u << info->type);
    }
    if (event == SPICE_CHANNEL_EVENT_DISCONNECTED && info->type == SPICE_CHANNEL_MAIN &&
        S.exit_on_disconnect) {
        g_idle_add(quit_idle, NULL);
    }
}

SpiceCoreInterface* core_glib_new(void) {
    SpiceCoreInterface* core = g_new0(SpiceCoreInterface, 1);
    core->base.major_version = SPICE_INTERFACE_CORE_MAJOR;
    core->base.minor_version = SPICE_INTERFACE_CORE_MINOR;
    core->timer_add = timer_add;
    core->timer_start = timer_start;
    core->timer_cancel = timer_cancel;
    core->timer_remove = timer_remove;
    core->watch_add = watch_add;
    core->watch_update_mask = watch_update_mask;
    core->watch_remove = watch_remove;
    core->channel_event = channel_event;
    return core;
}
