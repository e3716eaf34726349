/* Helpers shared by the SPICE test peers: PNG output, JSON text, checksums, logging. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Writes 32-bit xRGB pixels (0x00RRGGBB in host order, rows `stride` bytes apart) as an RGB
 * PNG. Returns FALSE and logs on failure. */
gboolean peer_write_png_xrgb(const char* path, const uint8_t* pixels, int width, int height,
                             int stride);

/* Appends `s` (up to len bytes, or NUL-terminated when len < 0) as a JSON string literal. */
void peer_json_string(GString* out, const char* s, gssize len);

/* Hex SHA-256 of a buffer; g_free the result. */
char* peer_sha256_hex(const void* data, gsize len);

/* Writes a GString to a file, logging on failure. */
gboolean peer_write_text(const char* path, const GString* text);

/* Seconds since the process started (monotonic). */
double peer_now(void);

/* Estimates the dominant frequency of interleaved S16 samples of channel 0 by counting
 * rising zero crossings. Returns 0 when there is too little signal. */
double peer_estimate_tone_hz(const int16_t* samples, gsize frames, int channels, int rate);

#define peer_log(...) peer_log_impl(__VA_ARGS__)
void peer_log_impl(const char* fmt, ...) G_GNUC_PRINTF(1, 2);
