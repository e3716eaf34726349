#include "peer_util.h"

#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static gint64 start_us;

double peer_now(void) {
    if (start_us == 0) {
        start_us = g_get_monotonic_time();
    }
    return (double)(g_get_monotonic_time() - start_us) / 1e6;
}

void peer_log_impl(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char* msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%8.3f] %s: %s\n", peer_now(), g_get_prgname(), msg);
    fflush(stderr);
    g_free(msg);
}

gboolean peer_write_png_xrgb(const char* path, const uint8_t* pixels, int width, int height,
                             int stride) {
    FILE* f = fopen(path, "wb");
    if (!f) {
        peer_log("cannot write %s: %s", path, strerror(errno));
        return FALSE;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t* row = g_malloc((gsize)width * 3);
    gboolean ok = FALSE;
    if (!png || !info) {
        peer_log("libpng could not start for %s", path);
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        peer_log("libpng failed writing %s", path);
        goto out;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        const uint32_t* src = (const uint32_t*)(const void*)(pixels + (gsize)y * (gsize)stride);
        for (int x = 0; x < width; x++) {
            row[x * 3 + 0] = (uint8_t)(src[x] >> 16);
            row[x * 3 + 1] = (uint8_t)(src[x] >> 8);
            row[x * 3 + 2] = (uint8_t)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    ok = TRUE;
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    g_free(row);
    if (fclose(f) != 0) {
        ok = FALSE;
    }
    return ok;
}

void peer_json_string(GString* out, const char* s, gssize len) {
    gsize n = len < 0 ? strlen(s) : (gsize)len;
    g_string_append_c(out, '"');
    for (gsize i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '"':
                g_string_append(out, "\\\"");
                break;
            case '\\':
                g_string_append(out, "\\\\");
                break;
            case '\n':
                g_string_append(out, "\\n");
                break;
            case '\r':
                g_string_append(out, "\\r");
                break;
            case '\t':
                g_string_append(out, "\\t");
                break;
            default:
                if (c < 0x20) {
                    g_string_append_printf(out, "\\u%04x", c);
                } else {
                    g_string_append_c(out, (char)c);
                }
        }
    }
    g_string_append_c(out, '"');
}

char* peer_sha256_hex(const void* data, gsize len) {
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

gboolean peer_write_text(const char* path, const GString* text) {
    GError* err = NULL;
    if (!g_file_set_contents(path, text->str, (gssize)text->len, &err)) {
        peer_log("cannot write %s: %s", path, err->message);
        g_error_free(err);
        return FALSE;
    }
    return TRUE;
}

double peer_estimate_tone_hz(const int16_t* samples, gsize frames, int channels, int rate) {
    if (frames < (gsize)rate / 10 || channels <= 0) {
        return 0.0;
    }
    gsize crossings = 0, first = 0, last = 0;
    for (gsize i = 1; i < frames; i++) {
        int16_t a = samples[(i - 1) * (gsize)channels];
        int16_t b = samples[i * (gsize)channels];
        if (a < 0 && b >= 0) {
            if (crossings == 0) {
                first = i;
            }
            last = i;
            crossings++;
        }
    }
    if (crossings < 3 || last <= first) {
        return 0.0;
    }
    return (double)(crossings - 1) * rate / (double)(last - first);
}
