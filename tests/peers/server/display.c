/* The QXL device: a command queue fed from the main thread, memslot with plain pointers,
 * known-content drawing with a software model of every surface, streams, cursor. */
#include <math.h>
#include <string.h>

#include "server.h"

#define MEMSLOT_GROUP 0

/* One command and everything it points to; freed when spice-server releases it. */
typedef struct Cmd {
    QXLCommandExt ext;

    union {
        QXLDrawable drawable;
        QXLSurfaceCmd surface;
        QXLCursorCmd cursor;
    } u;

    GPtrArray* owned;
} Cmd;

static Cmd* cmd_new(uint32_t type) {
    Cmd* c = g_new0(Cmd, 1);
    c->owned = g_ptr_array_new_with_free_func(g_free);
    c->ext.cmd.type = type;
    c->ext.cmd.data = (QXLPHYSICAL)(uintptr_t)&c->u;
    c->ext.group_id = MEMSLOT_GROUP;
    /* release_info is the first member of each command struct */
    c->u.drawable.release_info.id = (uint64_t)(uintptr_t)c;
    return c;
}

static void* cmd_own(Cmd* c, void* p) {
    g_ptr_array_add(c->owned, p);
    return p;
}

static void cmd_free(Cmd* c) {
    g_ptr_array_free(c->owned, TRUE);
    g_free(c);
}

static void push(Display* d, Cmd* c) {
    g_async_queue_push(d->commands, c);
    spice_qxl_wakeup(&d->qxl);
}

static void push_cursor(Display* d, Cmd* c) {
    g_async_queue_push(d->cursor_commands, c);
    spice_qxl_wakeup(&d->qxl);
}

void count_op(const char* name) {
    g_mutex_lock(&S.lock);
    gpointer v = g_hash_table_lookup(S.op_counts, name);
    g_hash_table_insert(S.op_counts, g_strdup(name), GINT_TO_POINTER(GPOINTER_TO_INT(v) + 1));
    g_mutex_unlock(&S.lock);
}

void manifest_event(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char* msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&S.lock);
    if (S.events_json->len) {
        g_string_append(S.events_json, ",\n    ");
    }
    g_string_append_printf(S.events_json, "{\"t\": %.3f, \"what\": ", peer_now());
    peer_json_string(S.events_json, msg, -1);
    g_string_append(S.events_json, "}");
    g_mutex_unlock(&S.lock);
    peer_log("%s", msg);
    g_free(msg);
}

/* ---- software model ---- */

static void model_reset(Model* m, int w, int h) {
    g_free(m->px);
    m->width = w;
    m->height = h;
    m->px = w > 0 ? g_new0(uint32_t, (gsize)w * (gsize)h) : NULL;
}

static void model_fill(Model* m, QXLRect r, uint32_t color) {
    for (int y = r.top; y < r.bottom; y++) {
        for (int x = r.left; x < r.right; x++) {
            m->px[y * m->width + x] = color & 0xffffff;
        }
    }
}

static void model_blit(Model* dst, QXLRect r, const uint32_t* src, int src_stride_px, int sx,
                       int sy) {
    int w = r.right - r.left;
    uint32_t* tmp = g_new(uint32_t, (gsize)w);
    /* rows are copied in the order that keeps an overlapping copy-bits correct */
    int h = r.bottom - r.top;
    gboolean up = src == dst->px && sy < r.top;
    for (int i = 0; i < h; i++) {
        int row = up ? h - 1 - i : i;
        const uint32_t* s = src + (sy + row) * src_stride_px + sx;
        for (int x = 0; x < w; x++) {
            tmp[x] = s[x] & 0xffffff;
        }
        memcpy(dst->px + (r.top + row) * dst->width + r.left, tmp, (gsize)w * 4);
    }
    g_free(tmp);
}

/* ---- QXL interface ---- */

static Display* from_qxl(QXLInstance* qin) {
    return (Display*)qin;
}

static QXLDevMemSlot memslot = {
    .slot_group_id = MEMSLOT_GROUP,
    .slot_id = 0,
    .generation = 0,
    .virt_start = 0,
    .virt_end = ~(uint64_t)0,
    .addr_delta = 0,
    .qxl_ram_size = ~(uint32_t)0,
};

static void create_primary(Display* d, int w, int h) {
    g_free(d->primary_mem);
    d->primary_mem = g_malloc0((gsize)w * (gsize)h * 4);
    d->width = w;
    d->height = h;
    model_reset(&d->model[0], w, h);
    QXLDevSurfaceCreate s = {0};
    s.format = SPICE_SURFACE_FMT_32_xRGB;
    s.width = (uint32_t)w;
    s.height = (uint32_t)h;
    s.stride = w * 4;
    s.mouse_mode = TRUE;
    s.mem = (uint64_t)(uintptr_t)d->primary_mem;
    s.group_id = MEMSLOT_GROUP;
    spice_qxl_create_primary_surface(&d->qxl, 0, &s);

    /* Tell the client where the monitor is, as the QXL KMS driver does. */
    g_free(d->monitors);
    d->monitors = g_malloc0(sizeof(QXLMonitorsConfig) + sizeof(QXLHead));
    d->monitors->count = 1;
    d->monitors->max_allowed = 1;
    d->monitors->heads[0].id = 0;
    d->monitors->heads[0].width = (uint32_t)w;
    d->monitors->heads[0].height = (uint32_t)h;
    spice_qxl_monitors_config_async(&d->qxl, (QXLPHYSICAL)(uintptr_t)d->monitors, MEMSLOT_GROUP,
                                    (uint64_t)d->id + 1);
    manifest_event("display %d: primary surface %dx%d", d->id, w, h);
}

static void attached_worker(QXLInstance* qin) {
    Display* d = from_qxl(qin);
    spice_qxl_add_memslot(qin, &memslot);
    d->attached = TRUE;
    create_primary(d, 640, 480);
}

static void set_compression_level(QXLInstance* qin, int level) {
    (void)qin;
    (void)level;
}

static void get_init_info(QXLInstance* qin, QXLDevInitInfo* info) {
    (void)qin;
    memset(info, 0, sizeof(*info));
    info->num_memslots = 1;
    info->num_memslots_groups = 1;
    info->memslot_id_bits = 1;
    info->memslot_gen_bits = 1;
    info->n_surfaces = MAX_SURFACES;
}

static int get_command(QXLInstance* qin, QXLCommandExt* ext) {
    Cmd* c = g_async_queue_try_pop(from_qxl(qin)->commands);
    if (!c) {
        return FALSE;
    }
    *ext = c->ext;
    return TRUE;
}

static int req_cmd_notification(QXLInstance* qin) {
    /* FALSE means "there is more, poll again"; pushes always call spice_qxl_wakeup. */
    return g_async_queue_length(from_qxl(qin)->commands) <= 0;
}

static void release_resource(QXLInstance* qin, QXLReleaseInfoExt info) {
    (void)qin;
    cmd_free((Cmd*)(uintptr_t)info.info->id);
}

static int get_cursor_command(QXLInstance* qin, QXLCommandExt* ext) {
    Cmd* c = g_async_queue_try_pop(from_qxl(qin)->cursor_commands);
    if (!c) {
        return FALSE;
    }
    *ext = c->ext;
    return TRUE;
}

static int req_cursor_notification(QXLInstance* qin) {
    return g_async_queue_length(from_qxl(qin)->cursor_commands) <= 0;
}

static void notify_update(QXLInstance* qin, uint32_t update_id) {
    (void)qin;
    (void)update_id;
}

static int flush_resources(QXLInstance* qin) {
    (void)qin;
    return 0;
}

static void async_complete(QXLInstance* qin, uint64_t cookie) {
    (void)qin;
    (void)cookie;
}

static void update_area_complete(QXLInstance* qin, uint32_t surface_id, QXLRect* updated_rects,
                                 uint32_t num_updated_rects) {
    (void)qin;
    (void)surface_id;
    (void)updated_rects;
    (void)num_updated_rects;
}

/* Draw once the cursor and inputs channels are linked too (or waiting got long), so
 * nothing the scenario does happens before the client can see it. */
static gboolean start_when_linked(gpointer data) {
    (void)data;
    static int waited_ms;
    guint want = 1u << SPICE_CHANNEL_DISPLAY | 1u << SPICE_CHANNEL_CURSOR;
    if (!S.no_inputs) {
        want |= 1u << SPICE_CHANNEL_INPUTS;
    }
    guint have = (guint)g_atomic_int_get(&S.linked_channels);
    if ((have & want) != want && waited_ms < 5000) {
        waited_ms += 100;
        return G_SOURCE_CONTINUE;
    }
    if ((have & want) != want) {
        peer_log("channels linked 0x%x, wanted 0x%x: starting anyway", have, want);
    }
    display_start_scenario();
    return G_SOURCE_REMOVE;
}

static gboolean start_idle(gpointer data) {
    g_timeout_add(100, start_when_linked, data);
    return G_SOURCE_REMOVE;
}

/* Called from the display worker thread when a client's display channel comes and goes. */
static void set_client_capabilities(QXLInstance* qin, uint8_t client_present, uint8_t caps[58]) {
    (void)caps;
    Display* d = from_qxl(qin);
    peer_log("display %d: client %s", d->id, client_present ? "present" : "gone");
    if (client_present && d->id == 0) {
        g_idle_add(start_idle, NULL);
    }
}

static int client_monitors_config(QXLInstance* qin, VDAgentMonitorsConfig* mc) {
    Display* d = from_qxl(qin);
    if (mc) {
        manifest_event("display %d: client monitors config with %u monitors", d->id,
                       mc->num_of_monitors);
    }
    /* let the agent answer it */
    return 0;
}

static QXLInterface qxl_interface = {
    .base =
        {
            .type = SPICE_INTERFACE_QXL,
            .description = "spicetap test qxl",
            .major_version = SPICE_INTERFACE_QXL_MAJOR,
            .minor_version = SPICE_INTERFACE_QXL_MINOR,
        },
    {.attached_worker = attached_worker},
    .set_compression_level = set_compression_level,
    .get_init_info = get_init_info,
    .get_command = get_command,
    .req_cmd_notification = req_cmd_notification,
    .release_resource = release_resource,
    .get_cursor_command = get_cursor_command,
    .req_cursor_notification = req_cursor_notification,
    .notify_update = notify_update,
    .flush_resources = flush_resources,
    .async_complete = async_complete,
    .update_area_complete = update_area_complete,
    .set_client_capabilities = set_client_capabilities,
    .client_monitors_config = client_monitors_config,
};

void display_init(Display* d, int id) {
    d->id = id;
    d->qxl.base.sif = &qxl_interface.base;
    d->qxl.id = (unsigned)id;
    d->commands = g_async_queue_new();
    d->cursor_commands = g_async_queue_new();
    d->model_exact = TRUE;
    spice_server_add_interface(S.server, &d->qxl.base);
    spice_qxl_set_device_info(&d->qxl, "pci/0000/02.0", (uint32_t)id, 1);
}

/* ---- drawing ---- */

/* Image ids are unique across all devices: the client's image cache is shared by every
 * display channel of the session. */
static uint32_t next_image_unique = 1;

static QXLRect rect_xywh(int x, int y, int w, int h) {
    QXLRect r = {.top = y, .left = x, .bottom = y + h, .right = x + w};
    return r;
}

static Cmd* drawable_new(uint32_t surface_id, uint8_t type, QXLRect bbox) {
    Cmd* c = cmd_new(QXL_CMD_DRAW);
    QXLDrawable* dr = &c->u.drawable;
    dr->surface_id = surface_id;
    dr->type = type;
    dr->effect = QXL_EFFECT_OPAQUE;
    dr->bbox = bbox;
    dr->clip.type = SPICE_CLIP_TYPE_NONE;
    dr->surfaces_dest[0] = dr->surfaces_dest[1] = dr->surfaces_dest[2] = -1;
    return c;
}

/* A BITMAP image owned by `c`: a copy of `bits`, h top-down rows of `stride` bytes. */
static QXLImage* bitmap_new(Cmd* c, const void* bits, int w, int h, int stride, uint8_t format,
                            uint8_t image_flags, uint32_t unique) {
    QXLImage* img = cmd_own(c, g_new0(QXLImage, 1));
    QXL_SET_IMAGE_ID(img, QXL_IMAGE_GROUP_DEVICE, unique);
    img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    img->descriptor.flags = image_flags;
    img->descriptor.width = (uint32_t)w;
    img->descriptor.height = (uint32_t)h;
    img->bitmap.format = format;
    img->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
    img->bitmap.x = (uint32_t)w;
    img->bitmap.y = (uint32_t)h;
    img->bitmap.stride = (uint32_t)stride;
    img->bitmap.data =
        (QXLPHYSICAL)(uintptr_t)cmd_own(c, g_memdup2(bits, (gsize)stride * (gsize)h));
    return img;
}

static QXLImage* bitmap_image(Cmd* c, const uint32_t* px, int w, int h, uint8_t format,
                              gboolean cacheable, uint32_t reuse_id) {
    uint32_t unique = reuse_id ? reuse_id : next_image_unique++;
    return bitmap_new(c, px, w, h, w * 4, format, cacheable ? QXL_IMAGE_CACHE : 0, unique);
}

static void draw_fill(Display* d, uint32_t sid, QXLRect r, uint32_t color) {
    Cmd* c = drawable_new(sid, QXL_DRAW_FILL, r);
    c->u.drawable.u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.drawable.u.fill.brush.u.color = color;
    c->u.drawable.u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    model_fill(&d->model[sid], r, color);
    count_op("fill");
    push(d, c);
}

/* DRAW_COPY of a 32-bit bitmap, 1:1. reuse_id > 0 re-sends an image the client may cache. */
static uint32_t draw_bitmap(Display* d, uint32_t sid, int x, int y, const uint32_t* px, int w,
                            int h, gboolean cacheable, uint32_t reuse_id) {
    QXLRect r = rect_xywh(x, y, w, h);
    Cmd* c = drawable_new(sid, QXL_DRAW_COPY, r);
    QXLImage* img = bitmap_image(c, px, w, h, SPICE_BITMAP_FMT_32BIT, cacheable, reuse_id);
    c->u.drawable.u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)img;
    c->u.drawable.u.copy.src_area = rect_xywh(0, 0, w, h);
    c->u.drawable.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    model_blit(&d->model[sid], r, px, w, 0, 0);
    count_op(reuse_id ? "copy_cached" : "copy");
    push(d, c);
    return (uint32_t)(img->descriptor.id >> 32);
}

static void draw_copy_bits(Display* d, int sx, int sy, QXLRect dst) {
    Cmd* c = drawable_new(0, QXL_COPY_BITS, dst);
    c->u.drawable.u.copy_bits.src_pos.x = sx;
    c->u.drawable.u.copy_bits.src_pos.y = sy;
    model_blit(&d->model[0], dst, d->model[0].px, d->model[0].width, sx, sy);
    count_op("copy_bits");
    push(d, c);
}

static void surface_create(Display* d, uint32_t sid, int w, int h) {
    Cmd* c = cmd_new(QXL_CMD_SURFACE);
    g_free(d->surface_mem[sid]);
    d->surface_mem[sid] = g_malloc0((gsize)w * (gsize)h * 4);
    c->u.surface.surface_id = sid;
    c->u.surface.type = QXL_SURFACE_CMD_CREATE;
    c->u.surface.u.surface_create.format = SPICE_SURFACE_FMT_32_xRGB;
    c->u.surface.u.surface_create.width = (uint32_t)w;
    c->u.surface.u.surface_create.height = (uint32_t)h;
    c->u.surface.u.surface_create.stride = w * 4;
    c->u.surface.u.surface_create.data = (QXLPHYSICAL)(uintptr_t)d->surface_mem[sid];
    model_reset(&d->model[sid], w, h);
    S.surfaces_created++;
    manifest_event("display %d: create surface %u %dx%d", d->id, sid, w, h);
    push(d, c);
}

static void surface_destroy(Display* d, uint32_t sid) {
    Cmd* c = cmd_new(QXL_CMD_SURFACE);
    c->u.surface.surface_id = sid;
    c->u.surface.type = QXL_SURFACE_CMD_DESTROY;
    S.surfaces_destroyed++;
    manifest_event("display %d: destroy surface %u", d->id, sid);
    push(d, c);
}

/* DRAW_COPY whose source is another surface (image type SURFACE). */
static void draw_from_surface(Display* d, uint32_t dst_sid, int x, int y, uint32_t src_sid,
                              QXLRect src) {
    int w = src.right - src.left, h = src.bottom - src.top;
    QXLRect r = rect_xywh(x, y, w, h);
    Cmd* c = drawable_new(dst_sid, QXL_DRAW_COPY, r);
    QXLImage* img = cmd_own(c, g_new0(QXLImage, 1));
    QXL_SET_IMAGE_ID(img, QXL_IMAGE_GROUP_DEVICE, next_image_unique++);
    img->descriptor.type = SPICE_IMAGE_TYPE_SURFACE;
    img->descriptor.width = (uint32_t)d->model[src_sid].width;
    img->descriptor.height = (uint32_t)d->model[src_sid].height;
    img->surface_image.surface_id = src_sid;
    c->u.drawable.surfaces_dest[0] = (int32_t)src_sid;
    c->u.drawable.surfaces_rects[0] = src;
    c->u.drawable.u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)img;
    c->u.drawable.u.copy.src_area = src;
    c->u.drawable.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    model_blit(&d->model[dst_sid], r, d->model[src_sid].px, d->model[src_sid].width, src.left,
               src.top);
    count_op("copy_surface");
    push(d, c);
}

/* ---- known pictures ---- */

/* Smooth, photo-like: high "graduality", so auto modes pick QUIC (or JPEG when allowed). */
static uint32_t* pattern_photo(int w, int h, int seed) {
    uint32_t* p = g_new(uint32_t, (gsize)w * (gsize)h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int r = (x * 255) / (w - 1);
            int g = (y * 255) / (h - 1);
            int b = (int)(127.5 + 100.0 * sin((x + seed) / 13.0) * cos((y - seed) / 17.0));
            p[y * w + x] = (uint32_t)(r << 16 | g << 8 | b);
        }
    }
    return p;
}

/* Flat colours and hard edges, like text and widgets: LZ/GLZ territory. */
static uint32_t* pattern_flat(int w, int h, int seed) {
    static const uint32_t palette[] = {0xffffff, 0x000000, 0x3465a4, 0xcc0000,
                                       0x4e9a06, 0xedd400, 0x75507b, 0xbabdb6};
    uint32_t* p = g_new(uint32_t, (gsize)w * (gsize)h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int cell = ((x / 8) ^ (y / 6)) + seed;
            uint32_t c = palette[cell & 7];
            if ((y % 12) == 11 || (x % 24) == 23) {
                c = 0x101010;
            }
            p[y * w + x] = c;
        }
    }
    return p;
}

/* Pseudo-random bytes: nothing compresses them well. */
static uint32_t* pattern_noise(int w, int h, uint32_t seed) {
    uint32_t* p = g_new(uint32_t, (gsize)w * (gsize)h);
    uint32_t s = seed * 2654435761u + 1;
    for (int i = 0; i < w * h; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        p[i] = s & 0xffffff;
    }
    return p;
}

/* The standard known picture; `v` shifts things so a second pass differs. Exact on lossless
 * codecs: fills, 1:1 bitmap copies (fresh and from the image cache), copy-bits, an off-screen
 * surface drawn into and copied onto the primary, surface-to-surface copies. */
static void draw_known(Display* d, int v) {
    int W = d->width, H = d->height;
    draw_fill(d, 0, rect_xywh(0, 0, W, H),
              0x203040 + (uint32_t)v * 0x101010 + (uint32_t)d->id * 0x300000);
    draw_fill(d, 0, rect_xywh(20 + v * 10, 20, 200, 100), 0xff8000);
    draw_fill(d, 0, rect_xywh(240, 20 + v * 10, 60, 180), 0x00c0ff);

    uint32_t* photo = pattern_photo(256, 160, v + d->id);
    draw_bitmap(d, 0, 40, 150, photo, 256, 160, FALSE, 0);
    uint32_t* flat = pattern_flat(200, 100, v + d->id);
    uint32_t id = draw_bitmap(d, 0, 330, 40, flat, 200, 100, TRUE, 0);
    draw_bitmap(d, 0, 330, 160 + v * 4, flat, 200, 100, TRUE, id);
    uint32_t* odd = pattern_noise(97, 33, 7 + (uint32_t)v);
    draw_bitmap(d, 0, 20 + v, H - 50, odd, 97, 33, FALSE, 0);
    uint32_t* tiny = pattern_flat(16, 16, 3);
    for (int i = 0; i < 4; i++) {
        draw_bitmap(d, 0, 140 + i * 20, H - 40, tiny, 16, 16, FALSE, 0);
    }
    draw_copy_bits(d, 40, 150, rect_xywh(W - 190, H - 170, 100, 60));

    /* off-screen surfaces: 1 drawn into, 2 filled from 1, both copied to the primary */
    surface_create(d, 1, 128, 96);
    draw_fill(d, 1, rect_xywh(0, 0, 128, 96), 0x802020);
    uint32_t* small = pattern_flat(64, 48, 5 + v);
    draw_bitmap(d, 1, 10, 10, small, 64, 48, FALSE, 0);
    surface_create(d, 2, 100, 80);
    draw_fill(d, 2, rect_xywh(0, 0, 100, 80), 0x208020);
    draw_from_surface(d, 2, 20, 20, 1, rect_xywh(0, 0, 60, 40));
    draw_from_surface(d, 0, W - 140, 10, 1, rect_xywh(0, 0, 128, 96));
    draw_from_surface(d, 0, W - 120, 120, 2, rect_xywh(0, 0, 100, 80));
    surface_destroy(d, 2);
    surface_destroy(d, 1);
    model_reset(&d->model[1], 0, 0);
    model_reset(&d->model[2], 0, 0);

    g_free(photo);
    g_free(flat);
    g_free(odd);
    g_free(tiny);
    g_free(small);
}

/* ---- palette and alpha bitmaps (optional, --palette-bitmaps / --rgba-photo) ---- */

/* DRAW_COPY of a palette bitmap: `bits` holds h rows of `stride` bytes (no padding, so the
 * server may LZ-compress it: LZ_PLT), `pal` its n xRGB entries; `px` the same picture expanded,
 * for the model. */
static void draw_palette_bitmap(Display* d, int x, int y, int w, int h, uint8_t format, int stride,
                                const uint8_t* bits, const uint32_t* pal, int n,
                                const uint32_t* px) {
    QXLRect r = rect_xywh(x, y, w, h);
    Cmd* c = drawable_new(0, QXL_DRAW_COPY, r);
    QXLImage* img = bitmap_new(c, bits, w, h, stride, format, 0, next_image_unique++);
    QXLPalette* palette = cmd_own(c, g_malloc0(sizeof(QXLPalette) + (gsize)n * 4));
    palette->unique = 0; /* not cached: every image carries its palette */
    palette->num_ents = (uint16_t)n;
    memcpy(palette->ents, pal, (gsize)n * 4);
    img->bitmap.palette = (QXLPHYSICAL)(uintptr_t)palette;
    c->u.drawable.u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)img;
    c->u.drawable.u.copy.src_area = rect_xywh(0, 0, w, h);
    c->u.drawable.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    model_blit(&d->model[0], r, px, w, 0, 0);
    count_op("copy_palette");
    push(d, c);
}

/* The three palette pictures; tests/decode/codec/peer_vectors_test.cpp rebuilds them.
 *   8BIT 64x48:    index (x/4)*16 + y/3, entry i = (7i mod 256, 13i mod 256, 255-i)
 *   4BIT_BE 32x20: index (x/4 + 3*(y/5)) mod 16, entry i = (17i, 255-17i, 0x40); high nibble first
 *   1BIT_BE 40x16: index (x/5 + y/4) mod 2, entries 0x102030, 0xf0e0d0; top bit first */
static void draw_palette_pictures(Display* d) {
    uint32_t pal8[256], pal4[16], pal1[2] = {0x102030, 0xf0e0d0};
    for (uint32_t i = 0; i < 256; i++) {
        pal8[i] = (i * 7 & 0xff) << 16 | (i * 13 & 0xff) << 8 | (255 - i);
    }
    for (uint32_t i = 0; i < 16; i++) {
        pal4[i] = (i * 17) << 16 | (255 - i * 17) << 8 | 0x40;
    }
    uint8_t bits8[64 * 48], bits4[16 * 20] = {0}, bits1[5 * 16] = {0};
    uint32_t px8[64 * 48], px4[32 * 20], px1[40 * 16];
    for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 64; x++) {
            uint8_t i = (uint8_t)((x / 4) * 16 + y / 3);
            bits8[y * 64 + x] = i;
            px8[y * 64 + x] = pal8[i];
        }
    }
    for (int y = 0; y < 20; y++) {
        for (int x = 0; x < 32; x++) {
            uint8_t i = (uint8_t)((x / 4 + 3 * (y / 5)) & 15);
            bits4[y * 16 + x / 2] |= (uint8_t)(x % 2 ? i : i << 4);
            px4[y * 32 + x] = pal4[i];
        }
    }
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 40; x++) {
            uint8_t i = (uint8_t)((x / 5 + y / 4) & 1);
            bits1[y * 5 + x / 8] |= (uint8_t)(i << (7 - x % 8));
            px1[y * 40 + x] = pal1[i];
        }
    }
    draw_palette_bitmap(d, 420, 300, 64, 48, SPICE_BITMAP_FMT_8BIT, 64, bits8, pal8, 256, px8);
    draw_palette_bitmap(d, 500, 300, 32, 20, SPICE_BITMAP_FMT_4BIT_BE, 16, bits4, pal4, 16, px4);
    draw_palette_bitmap(d, 500, 330, 40, 16, SPICE_BITMAP_FMT_1BIT_BE, 5, bits1, pal1, 2, px1);
}

/* A 96x64 RGBA DRAW_COPY: colour pattern_photo(96, 64, 3), alpha (2x + 3y) mod 256 (not
 * premultiplied; a copy ignores it). Photo-like, so with JPEG allowed the server sends
 * JPEG_ALPHA: the colour as JPEG, the alpha plane as LZ. */
static void draw_rgba_photo(Display* d) {
    uint32_t* photo = pattern_photo(96, 64, 3);
    uint32_t* argb = g_new(uint32_t, 96 * 64);
    for (int y = 0; y < 64; y++) {
        for (int x = 0; x < 96; x++) {
            argb[y * 96 + x] = (uint32_t)((2 * x + 3 * y) & 0xff) << 24 | photo[y * 96 + x];
        }
    }
    QXLRect r = rect_xywh(300, 380, 96, 64);
    Cmd* c = drawable_new(0, QXL_DRAW_COPY, r);
    QXLImage* img = bitmap_image(c, argb, 96, 64, SPICE_BITMAP_FMT_RGBA, FALSE, 0);
    c->u.drawable.u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)img;
    c->u.drawable.u.copy.src_area = rect_xywh(0, 0, 96, 64);
    c->u.drawable.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    model_blit(&d->model[0], r, photo, 96, 0, 0);
    count_op("copy_rgba");
    push(d, c);
    g_free(photo);
    g_free(argb);
}

/* ---- ops the model does not follow: sent so their wire forms exist, not pixel-checked ---- */

static void draw_other_ops(Display* d) {
    uint32_t* flat = pattern_flat(64, 64, 2);
    uint32_t* photo = pattern_photo(64, 64, 9);
    QXLRect r;
    Cmd* c;

    r = rect_xywh(10, 300, 64, 64);
    c = drawable_new(0, QXL_DRAW_BLEND, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    c->u.drawable.u.blend.src_bitmap =
        (QXLPHYSICAL)(uintptr_t)bitmap_image(c, flat, 64, 64, SPICE_BITMAP_FMT_32BIT, FALSE, 0);
    c->u.drawable.u.blend.src_area = rect_xywh(0, 0, 64, 64);
    c->u.drawable.u.blend.rop_descriptor = SPICE_ROPD_OP_XOR;
    count_op("blend");
    push(d, c);

    r = rect_xywh(80, 300, 64, 64);
    c = drawable_new(0, QXL_DRAW_OPAQUE, r);
    c->u.drawable.u.opaque.src_bitmap =
        (QXLPHYSICAL)(uintptr_t)bitmap_image(c, photo, 64, 64, SPICE_BITMAP_FMT_32BIT, FALSE, 0);
    c->u.drawable.u.opaque.src_area = rect_xywh(0, 0, 64, 64);
    c->u.drawable.u.opaque.brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.drawable.u.opaque.brush.u.color = 0x00ff00;
    c->u.drawable.u.opaque.rop_descriptor = SPICE_ROPD_OP_PUT;
    count_op("opaque");
    push(d, c);

    r = rect_xywh(150, 300, 64, 64);
    c = drawable_new(0, QXL_DRAW_TRANSPARENT, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    c->u.drawable.u.transparent.src_bitmap =
        (QXLPHYSICAL)(uintptr_t)bitmap_image(c, flat, 64, 64, SPICE_BITMAP_FMT_32BIT, FALSE, 0);
    c->u.drawable.u.transparent.src_area = rect_xywh(0, 0, 64, 64);
    c->u.drawable.u.transparent.src_color = 0xffffff;
    c->u.drawable.u.transparent.true_color = 0xffffff;
    count_op("transparent");
    push(d, c);

    uint32_t* argb = g_new(uint32_t, 64 * 64);
    for (int i = 0; i < 64 * 64; i++) {
        uint32_t a = (uint32_t)(i % 64) * 4;
        argb[i] = a << 24 | (a * 200 / 255) << 16 | (a / 2) << 8; /* premultiplied */
    }
    r = rect_xywh(220, 300, 64, 64);
    c = drawable_new(0, QXL_DRAW_ALPHA_BLEND, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    c->u.drawable.u.alpha_blend.alpha_flags = SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA;
    c->u.drawable.u.alpha_blend.alpha = 200;
    c->u.drawable.u.alpha_blend.src_bitmap =
        (QXLPHYSICAL)(uintptr_t)bitmap_image(c, argb, 64, 64, SPICE_BITMAP_FMT_RGBA, FALSE, 0);
    c->u.drawable.u.alpha_blend.src_area = rect_xywh(0, 0, 64, 64);
    count_op("alpha_blend");
    push(d, c);

    r = rect_xywh(290, 300, 64, 64);
    c = drawable_new(0, QXL_DRAW_ROP3, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    c->u.drawable.u.rop3.src_bitmap =
        (QXLPHYSICAL)(uintptr_t)bitmap_image(c, photo, 64, 64, SPICE_BITMAP_FMT_32BIT, FALSE, 0);
    c->u.drawable.u.rop3.src_area = rect_xywh(0, 0, 64, 64);
    c->u.drawable.u.rop3.brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.drawable.u.rop3.brush.u.color = 0x0000ff;
    c->u.drawable.u.rop3.rop3 = 0xca; /* P ? S : D, the pattern picks source or destination */
    count_op("rop3");
    push(d, c);

    static const uint8_t kinds[] = {QXL_DRAW_WHITENESS, QXL_DRAW_BLACKNESS, QXL_DRAW_INVERS};
    static const char* kind_names[] = {"whiteness", "blackness", "invers"};
    for (int i = 0; i < 3; i++) {
        c = drawable_new(0, kinds[i], rect_xywh(360 + i * 30, 300, 25, 25));
        c->u.drawable.effect = i == 2 ? QXL_EFFECT_REVERT_ON_DUP : QXL_EFFECT_OPAQUE;
        count_op(kind_names[i]);
        push(d, c);
    }

    /* a closed triangle, 3 pixels wide */
    r = rect_xywh(460, 290, 100, 100);
    c = drawable_new(0, QXL_DRAW_STROKE, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    gsize seg_bytes = sizeof(QXLPathSeg) + 4 * sizeof(QXLPointFix);
    QXLPath* path = cmd_own(c, g_malloc0(sizeof(QXLPath) + seg_bytes));
    path->data_size = (uint32_t)seg_bytes;
    path->chunk.data_size = (uint32_t)seg_bytes;
    QXLPathSeg* seg = (QXLPathSeg*)(void*)path->chunk.data;
    seg->flags = QXL_PATH_BEGIN | QXL_PATH_END | QXL_PATH_CLOSE;
    seg->count = 4;
    static const int pts[4][2] = {{470, 380}, {550, 380}, {510, 300}, {470, 380}};
    for (int i = 0; i < 4; i++) {
        seg->points[i].x = pts[i][0] << 4; /* 28.4 fixed point */
        seg->points[i].y = pts[i][1] << 4;
    }
    c->u.drawable.u.stroke.path = (QXLPHYSICAL)(uintptr_t)path;
    c->u.drawable.u.stroke.attr.width = 3 << 4;
    c->u.drawable.u.stroke.brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.drawable.u.stroke.brush.u.color = 0xffff00;
    c->u.drawable.u.stroke.fore_mode = SPICE_ROPD_OP_PUT;
    c->u.drawable.u.stroke.back_mode = SPICE_ROPD_OP_PUT;
    count_op("stroke");
    push(d, c);

    /* two 1-bpp raster glyphs, an "I" and a box */
    r = rect_xywh(570, 300, 40, 20);
    c = drawable_new(0, QXL_DRAW_TEXT, r);
    c->u.drawable.effect = QXL_EFFECT_BLEND;
    gsize glyph_bytes = sizeof(QXLRasterGlyph) + 16 * 1;
    QXLString* str = cmd_own(c, g_malloc0(sizeof(QXLString) + 2 * glyph_bytes));
    str->length = 2;
    str->flags = SPICE_STRING_FLAGS_RASTER_A1;
    str->data_size = (uint32_t)(2 * glyph_bytes);
    str->chunk.data_size = str->data_size;
    for (int g = 0; g < 2; g++) {
        QXLRasterGlyph* gl = (QXLRasterGlyph*)(void*)(str->chunk.data + g * glyph_bytes);
        gl->render_pos.x = 575 + g * 12;
        gl->render_pos.y = 316;
        gl->glyph_origin.x = 0;
        gl->glyph_origin.y = -16;
        gl->width = 8;
        gl->height = 16;
        for (int y = 0; y < 16; y++) {
            gl->data[y] = g == 0 ? 0x18 : (y == 0 || y == 15) ? 0xff : 0x81;
        }
    }
    c->u.drawable.u.text.str = (QXLPHYSICAL)(uintptr_t)str;
    c->u.drawable.u.text.fore_brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.drawable.u.text.fore_brush.u.color = 0xffffff;
    c->u.drawable.u.text.back_brush.type = SPICE_BRUSH_TYPE_NONE;
    c->u.drawable.u.text.fore_mode = SPICE_ROPD_OP_PUT;
    c->u.drawable.u.text.back_mode = SPICE_ROPD_OP_PUT;
    count_op("text");
    push(d, c);

    d->model_exact = FALSE;
    g_free(flat);
    g_free(photo);
    g_free(argb);
}

/* ---- video stream ---- */

#define STREAM_W 320
#define STREAM_H 240

static int stream_frame;

static uint32_t* stream_picture(int t) {
    uint32_t* p = g_new(uint32_t, STREAM_W * STREAM_H);
    for (int y = 0; y < STREAM_H; y++) {
        for (int x = 0; x < STREAM_W; x++) {
            int r = (x + t * 4) & 0xff;
            int g = (y + t * 2) & 0xff;
            int b = (int)(128 + 100 * sin((x + y + t * 6) / 20.0));
            p[y * STREAM_W + x] = (uint32_t)(r << 16 | g << 8 | b);
        }
    }
    return p;
}

static gboolean stream_final(gpointer data) {
    Display* d = data;
    /* after the stream timed out: one lossless picture over the whole stream area */
    uint32_t* p = stream_picture(1000);
    draw_bitmap(d, 0, 160, 120, p, STREAM_W, STREAM_H, FALSE, 0);
    g_free(p);
    manifest_event("stream: final lossless frame drawn");
    return G_SOURCE_REMOVE;
}

static gboolean stream_tick(gpointer data) {
    Display* d = data;
    if (stream_frame >= S.stream_frames) {
        manifest_event("stream: %d frames sent", stream_frame);
        g_timeout_add(1600, stream_final, d);
        return G_SOURCE_REMOVE;
    }
    uint32_t* p = stream_picture(stream_frame++);
    draw_bitmap(d, 0, 160, 120, p, STREAM_W, STREAM_H, FALSE, 0);
    g_free(p);
    S.stream_frames_sent++;
    return G_SOURCE_CONTINUE;
}

/* ---- cursor ---- */

typedef struct {
    const char* name;
    uint16_t type;
} CursorKind;

static Cmd* cursor_set(Display* d, uint16_t type, int w, int h, int hx, int hy, int x, int y,
                       uint64_t unique) {
    Cmd* c = cmd_new(QXL_CMD_CURSOR);
    gsize mask_stride = (gsize)(w + 7) / 8;
    gsize size = 0;
    switch (type) {
        case SPICE_CURSOR_TYPE_ALPHA:
            size = (gsize)w * (gsize)h * 4;
            break;
        case SPICE_CURSOR_TYPE_MONO:
            size = 2 * mask_stride * (gsize)h;
            break;
        case SPICE_CURSOR_TYPE_COLOR32:
            size = (gsize)w * (gsize)h * 4 + mask_stride * (gsize)h;
            break;
    }
    QXLCursor* cur = cmd_own(c, g_malloc0(sizeof(QXLCursor) + size));
    cur->header.unique = unique;
    cur->header.type = type;
    cur->header.width = (uint16_t)w;
    cur->header.height = (uint16_t)h;
    cur->header.hot_spot_x = (uint16_t)hx;
    cur->header.hot_spot_y = (uint16_t)hy;
    cur->data_size = (uint32_t)size;
    cur->chunk.data_size = (uint32_t)size;
    uint8_t* data = cur->chunk.data;
    for (int py = 0; py < h; py++) {
        for (int px = 0; px < w; px++) {
            gboolean inside = px <= py; /* a triangle arrow */
            if (type == SPICE_CURSOR_TYPE_ALPHA) {
                uint32_t a = inside ? 0xff : (px - py < 4 ? 0x80 : 0);
                uint32_t v = a << 24 | (a * (uint32_t)(py * 8 % 256) / 255) << 16 | (a / 2);
                memcpy(data + ((gsize)py * (gsize)w + (gsize)px) * 4, &v, 4);
            } else if (type == SPICE_CURSOR_TYPE_MONO) {
                /* AND mask clear where the shape is, XOR set for white in the middle */
                uint8_t bit = (uint8_t)(0x80 >> (px % 8));
                if (!inside) {
                    data[(gsize)py * mask_stride + (gsize)px / 8] |= bit;
                } else if (px > 1 && px < py - 1) {
                    data[mask_stride * (gsize)h + (gsize)py * mask_stride + (gsize)px / 8] |= bit;
                }
            } else {
                uint32_t v = inside ? 0x00ff0000u | (uint32_t)(px * 8) : 0;
                memcpy(data + ((gsize)py * (gsize)w + (gsize)px) * 4, &v, 4);
                if (!inside) {
                    data[(gsize)w * (gsize)h * 4 + (gsize)py * mask_stride + (gsize)px / 8] |=
                        (uint8_t)(0x80 >> (px % 8));
                }
            }
        }
    }
    c->u.cursor.type = QXL_CURSOR_SET;
    c->u.cursor.u.set.position.x = (int16_t)x;
    c->u.cursor.u.set.position.y = (int16_t)y;
    c->u.cursor.u.set.visible = 1;
    c->u.cursor.u.set.shape = (QXLPHYSICAL)(uintptr_t)cur;
    push_cursor(d, c);
    return c;
}

static void cursor_log(const char* fmt, ...) G_GNUC_PRINTF(1, 2);

static void cursor_log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char* s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&S.lock);
    if (S.cursor_json->len) {
        g_string_append(S.cursor_json, ",\n    ");
    }
    g_string_append(S.cursor_json, s);
    g_mutex_unlock(&S.lock);
    g_free(s);
}

static void cursor_move(Display* d, int x, int y) {
    Cmd* c = cmd_new(QXL_CMD_CURSOR);
    c->u.cursor.type = QXL_CURSOR_MOVE;
    c->u.cursor.u.position.x = (int16_t)x;
    c->u.cursor.u.position.y = (int16_t)y;
    cursor_log("{\"op\": \"move\", \"x\": %d, \"y\": %d}", x, y);
    push_cursor(d, c);
}

static void cursor_hide(Display* d) {
    Cmd* c = cmd_new(QXL_CMD_CURSOR);
    c->u.cursor.type = QXL_CURSOR_HIDE;
    cursor_log("{\"op\": \"hide\"}");
    push_cursor(d, c);
}

void cursor_run_scenario(Display* d) {
    static const CursorKind kinds[] = {{"alpha", SPICE_CURSOR_TYPE_ALPHA},
                                       {"mono", SPICE_CURSOR_TYPE_MONO},
                                       {"color32", SPICE_CURSOR_TYPE_COLOR32}};
    for (int k = 0; k < 3; k++) {
        int size = 32;
        cursor_set(d, kinds[k].type, size, size, 1, 2, 100 + k * 50, 100, (uint64_t)(k + 1));
        cursor_log(
            "{\"op\": \"set\", \"type\": \"%s\", \"width\": %d, \"height\": %d, "
            "\"hot_x\": 1, \"hot_y\": 2, \"x\": %d, \"y\": 100, \"unique\": %d}",
            kinds[k].name, size, size, 100 + k * 50, k + 1);
        for (int i = 1; i <= 5; i++) {
            cursor_move(d, 100 + k * 50 + i * 10, 100 + i * 7);
        }
    }
    cursor_hide(d);
    /* the alpha shape again with the same unique: the server may send it from its cache */
    cursor_set(d, SPICE_CURSOR_TYPE_ALPHA, 32, 32, 1, 2, 300, 300, 1);
    cursor_log(
        "{\"op\": \"set\", \"type\": \"alpha\", \"width\": 32, \"height\": 32, "
        "\"hot_x\": 1, \"hot_y\": 2, \"x\": 300, \"y\": 300, \"unique\": 1}");
}

/* ---- scenarios ---- */

static gboolean resize_step(gpointer data) {
    Display* d = data;
    spice_qxl_destroy_primary_surface(&d->qxl, 0);
    manifest_event("display %d: primary destroyed", d->id);
    create_primary(d, 800, 600);
    draw_known(d, 1);
    return G_SOURCE_REMOVE;
}

void display_start_scenario(void) {
    if (S.scenario_started) {
        return;
    }
    S.scenario_started = TRUE;
    manifest_event("scenario %s starts", S.scenario);
    devices_client_connected();
    for (int i = 0; i < S.displays; i++) {
        draw_known(&S.display[i], 0);
    }
    if (S.palette_bitmaps) {
        draw_palette_pictures(&S.display[0]);
    }
    if (S.rgba_photo) {
        draw_rgba_photo(&S.display[0]);
    }
    Display* d0 = &S.display[0];
    if (!strcmp(S.scenario, "draw-ops")) {
        draw_other_ops(d0);
    } else if (!strcmp(S.scenario, "resize")) {
        g_timeout_add(800, resize_step, d0);
    } else if (!strncmp(S.scenario, "stream", 6)) {
        g_timeout_add(33, stream_tick, d0);
    } else if (!strcmp(S.scenario, "cursor")) {
        cursor_run_scenario(d0);
    }
    if (strcmp(S.scenario, "cursor") != 0) {
        /* every session shows some cursor, as a guest would */
        cursor_set(d0, SPICE_CURSOR_TYPE_ALPHA, 16, 16, 0, 0, 10, 10, 0);
        cursor_log(
            "{\"op\": \"set\", \"type\": \"alpha\", \"width\": 16, \"height\": 16, "
            "\"hot_x\": 0, \"hot_y\": 0, \"x\": 10, \"y\": 10, \"unique\": 0}");
    }
}

void display_write_expected(GString* m) {
    g_string_append(m, "  \"displays\": [");
    for (int i = 0; i < S.displays; i++) {
        Display* d = &S.display[i];
        char* name = g_strdup_printf("expected-display-%d.png", i);
        char* path = g_build_filename(S.out_dir, name, NULL);
        gboolean ok = d->model_exact && d->model[0].px &&
                      peer_write_png_xrgb(path, (const uint8_t*)d->model[0].px, d->model[0].width,
                                          d->model[0].height, d->model[0].width * 4);
        g_string_append_printf(m,
                               "%s\n    {\"id\": %d, \"width\": %d, \"height\": %d, "
                               "\"expected_png\": ",
                               i ? "," : "", i, d->width, d->height);
        if (ok) {
            peer_json_string(m, name, -1);
        } else {
            g_string_append(m, "null");
        }
        g_string_append(m, "}");
        g_free(name);
        g_free(path);
    }
    g_string_append(m, "\n  ],\n");
}
