/* fbdraw: draws deterministic test content into a Linux framebuffer, so QEMU's qxl device sends
 * real drawing traffic with content we know. Runs inside the tiny test guest (static binary).
 *
 *   fbdraw /dev/fb0 SCENE [SECONDS]
 *   scenes: bars (colour bars + gradient: QUIC/JPEG-friendly), text-like (small glyph-cell
 *   rectangles: LZ/GLZ-friendly), anim (a moving square for SECONDS: stream detection), final
 *   (a fixed picture, drawn last so the end state is known), cursor (a 64x64 ARGB mouse cursor
 *   with hot spot 3,5 set through the DRM cursor ioctl, its top-left moved 200,150 -> 260,190 ->
 *   320,230; a child process keeps the DRM file open so the cursor stays)
 */
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct fb {
    uint8_t *mem;
    uint32_t width, height, stride, bpp;
};

static void put(struct fb *f, uint32_t x, uint32_t y, uint32_t rgb) {
    if (x >= f->width || y >= f->height) return;
    uint8_t *p = f->mem + (size_t)y * f->stride + (size_t)x * (f->bpp / 8);
    if (f->bpp == 32) {
        *(uint32_t *)p = rgb;
    } else if (f->bpp == 16) {
        uint16_t v = (uint16_t)(((rgb >> 19) & 0x1f) << 11 | ((rgb >> 10) & 0x3f) << 5 | ((rgb >> 3) & 0x1f));
        *(uint16_t *)p = v;
    }
}

static void rect(struct fb *f, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t rgb) {
    for (uint32_t y = y0; y < y0 + h; ++y)
        for (uint32_t x = x0; x < x0 + w; ++x) put(f, x, y, rgb);
}

static void bars(struct fb *f) {
    static const uint32_t colours[] = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
                                       0xff00ff, 0xff0000, 0x0000ff, 0x000000};
    uint32_t bw = f->width / 8;
    for (int i = 0; i < 8; ++i) rect(f, (uint32_t)i * bw, 0, bw, f->height / 2, colours[i]);
    for (uint32_t y = f->height / 2; y < f->height; ++y)
        for (uint32_t x = 0; x < f->width; ++x) {
            uint32_t r = x * 255 / f->width, g = (y - f->height / 2) * 255 / (f->height / 2);
            uint32_t b = (x + y) & 0xff;
            put(f, x, y, r << 16 | g << 8 | b);
        }
}

static void text_like(struct fb *f, unsigned seed) {
    /* 8x16 "glyphs": a deterministic pattern per cell, like a text console. */
    for (uint32_t cy = 0; cy + 16 <= f->height; cy += 16)
        for (uint32_t cx = 0; cx + 8 <= f->width; cx += 8) {
            unsigned v = (cx * 7 + cy * 13 + seed) % 97;
            if (v < 30) continue;
            for (uint32_t y = 0; y < 16; ++y)
                for (uint32_t x = 0; x < 8; ++x)
                    if (((v >> (x % 5)) ^ y) & 1) put(f, cx + x, cy + y, 0xc0c0c0);
        }
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The few DRM uAPI structures and ioctls the cursor scene needs (linux/drm.h, drm_mode.h), so
 * the guest builds without libdrm headers. */
struct drm_card_res {
    uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
    uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
    uint32_t min_width, max_width, min_height, max_height;
};
struct drm_create_dumb {
    uint32_t height, width, bpp, flags, handle, pitch;
    uint64_t size;
};
struct drm_map_dumb {
    uint32_t handle, pad;
    uint64_t offset;
};
struct drm_cursor2 {
    uint32_t flags, crtc_id;
    int32_t x, y;
    uint32_t width, height, handle;
    int32_t hot_x, hot_y;
};
#define DRM_IOWR_(nr, type) _IOWR('d', nr, type)
#define DRM_GETRESOURCES DRM_IOWR_(0xA0, struct drm_card_res)
#define DRM_CREATE_DUMB DRM_IOWR_(0xB2, struct drm_create_dumb)
#define DRM_MAP_DUMB DRM_IOWR_(0xB3, struct drm_map_dumb)
#define DRM_CURSOR2 DRM_IOWR_(0xBB, struct drm_cursor2)
#define DRM_CURSOR_BO 1
#define DRM_CURSOR_MOVE 2

/* The cursor picture, straight ARGB: an opaque arrow, a half-transparent edge, clear elsewhere
 * (tests/replay/cursor_test.cpp knows it too). */
static uint32_t cursor_pixel(uint32_t x, uint32_t y) {
    if (x <= y && y < 40 && x < 24) return 0xff000000u | (x * 10) << 16 | (y * 6) << 8 | 0x40;
    if (x == y + 1 && y < 40) return 0x80402010u;
    return 0;
}

static int cursor_scene(void) {
    int fd = open("/dev/dri/card0", O_RDWR);
    if (fd < 0) { perror("/dev/dri/card0"); return 1; }
    uint32_t crtcs[8] = {0};
    struct drm_card_res res = {0};
    res.crtc_id_ptr = (uint64_t)(uintptr_t)crtcs;
    res.count_crtcs = 8;
    if (ioctl(fd, DRM_GETRESOURCES, &res) || res.count_crtcs == 0) { perror("GETRESOURCES"); return 1; }
    struct drm_create_dumb cd = {.height = 64, .width = 64, .bpp = 32};
    if (ioctl(fd, DRM_CREATE_DUMB, &cd)) { perror("CREATE_DUMB"); return 1; }
    struct drm_map_dumb md = {.handle = cd.handle};
    if (ioctl(fd, DRM_MAP_DUMB, &md)) { perror("MAP_DUMB"); return 1; }
    uint8_t *px = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
    if (px == MAP_FAILED) { perror("mmap cursor"); return 1; }
    for (uint32_t y = 0; y < 64; ++y)
        for (uint32_t x = 0; x < 64; ++x) *(uint32_t *)(px + y * cd.pitch + x * 4) = cursor_pixel(x, y);
    static const int32_t at[3][2] = {{200, 150}, {260, 190}, {320, 230}};
    struct drm_cursor2 c = {.flags = DRM_CURSOR_BO | DRM_CURSOR_MOVE, .crtc_id = crtcs[0],
                            .x = at[0][0], .y = at[0][1], .width = 64, .height = 64,
                            .handle = cd.handle, .hot_x = 3, .hot_y = 5};
    if (ioctl(fd, DRM_CURSOR2, &c)) { perror("CURSOR2"); return 1; }
    for (int i = 1; i < 3; ++i) {
        sleep_ms(300);
        c.flags = DRM_CURSOR_MOVE;
        c.x = at[i][0];
        c.y = at[i][1];
        if (ioctl(fd, DRM_CURSOR2, &c)) { perror("CURSOR2 move"); return 1; }
    }
    printf("fbdraw: cursor set on crtc %u\n", crtcs[0]);
    fflush(stdout);
    /* Closing the DRM file would remove the cursor's framebuffer and hide it: keep it open. */
    if (fork() == 0) {
        for (;;) pause();
    }
    return 0;
}


int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fbdraw /dev/fb0 bars|text-like|anim|final|cursor [seconds]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { perror(argv[1]); return 1; }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) || ioctl(fd, FBIOGET_FSCREENINFO, &fix)) {
        perror("ioctl");
        return 1;
    }
    struct fb f = {0};
    f.width = var.xres;
    f.height = var.yres;
    f.stride = fix.line_length;
    f.bpp = var.bits_per_pixel;
    f.mem = mmap(NULL, (size_t)f.stride * f.height, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (f.mem == MAP_FAILED) { perror("mmap"); return 1; }
    const char *scene = argv[2];
    if (!strcmp(scene, "cursor")) return cursor_scene();
    int seconds = argc > 3 ? atoi(argv[3]) : 2;
    if (!strcmp(scene, "bars")) {
        bars(&f);
    } else if (!strcmp(scene, "text-like")) {
        rect(&f, 0, 0, f.width, f.height, 0x000000);
        text_like(&f, 1);
    } else if (!strcmp(scene, "anim")) {
        for (int i = 0; i < seconds * 25; ++i) {
            uint32_t x = (uint32_t)(i * 8) % (f.width - 64);
            rect(&f, 0, 100, f.width, 64, 0x202020);
            for (uint32_t yy = 0; yy < 64; ++yy)
                for (uint32_t xx = 0; xx < 64; ++xx)
                    put(&f, x + xx, 100 + yy, (xx * 4) << 16 | (yy * 4) << 8 | (uint32_t)(i * 5 & 0xff));
            sleep_ms(40);
        }
    } else if (!strcmp(scene, "final")) {
        rect(&f, 0, 0, f.width, f.height, 0x103060);
        rect(&f, 40, 40, 200, 120, 0xffcc00);
        text_like(&f, 5);
    } else {
        fprintf(stderr, "fbdraw: unknown scene %s\n", scene);
        return 2;
    }
    msync(f.mem, (size_t)f.stride * f.height, MS_SYNC);
    return 0;
}
