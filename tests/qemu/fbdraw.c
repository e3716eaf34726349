/* fbdraw: draws deterministic test content into a Linux framebuffer, so QEMU's qxl device sends
 * real drawing traffic with content we know. Runs inside the tiny test guest (static binary).
 *
 *   fbdraw /dev/fb0 SCENE [SECONDS]
 *   scenes: bars (colour bars + gradient: QUIC/JPEG-friendly), text-like (small glyph-cell
 *   rectangles: LZ/GLZ-friendly), anim (a moving square for SECONDS: stream detection), final
 *   (a fixed picture, drawn last so the end state is known)
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fbdraw /dev/fb0 bars|text-like|anim|final [seconds]\n");
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
