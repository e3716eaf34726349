// Every image the server sent on a session's display channels, decoded as the replay decodes it
// (shared GLZ window, image and palette caches, FROM_CACHE resolved) and written as PNG, with an
// index (index.jsonl) saying for each image where it came from and what became of it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "decode/codec/image_types.h"
#include "decode/wire/result.h"

namespace spicetap::images {

struct ImageDumpOptions {
    std::string out_dir;
    // Image type names as `dump --decode` prints them (glz_rgb, lz_rgb, from_cache, ...); empty
    // takes every type. Images of other types are still decoded (they feed the caches and the
    // GLZ window), only not written nor listed.
    std::vector<std::string> types;
    std::optional<int64_t> from_us;  // capture times; images outside are decoded, not listed
    std::optional<int64_t> to_us;
    // Also write each listed image's payload, the bytes after its descriptor as they travelled
    // (BITMAP: the pixel rows; ZLIB_GLZ: the zlib stream), as <name>.bin: real codec vectors,
    // also for images we cannot decode.
    bool payloads = false;
    // Called now and then with the share of the session replayed so far (0..1).
    std::function<void(double)> progress;
};

// One line of the index.
struct ImageRecord {
    uint64_t n = 0;     // 1-based, in the order the replay met the images
    int64_t ts_us = 0;  // capture time of the message
    int64_t connection = 0;
    int display = 0;      // display channel id
    uint64_t serial = 0;  // message serial (mini header: the server message's position)
    uint16_t message_type = 0;
    std::string message;  // message name, e.g. draw_copy
    bool mask = false;    // a QMask bitmap rather than a source or brush image
    uint64_t id = 0;
    uint8_t type = 0;
    std::string type_name;
    uint8_t flags = 0;
    uint32_t width = 0;  // descriptor size
    uint32_t height = 0;
    uint64_t compressed_bytes = 0;             // the payload bytes the image carried
    std::optional<codec::PixelFormat> format;  // of the decoded pixels
    std::optional<uint32_t> surface_id;        // SURFACE images: no pixels travel
    std::string cached_from;   // FROM_CACHE: the file of the image that filled the cache slot
    std::string file;          // empty when nothing was written
    std::string payload_file;  // with ImageDumpOptions::payloads
    std::string error_kind;    // empty on success (replay issue kinds: unsupported_image, ...)
    std::string error;
};

struct TypeTally {
    uint64_t images = 0;
    uint64_t written = 0;
    uint64_t failed = 0;
    uint64_t references = 0;  // SURFACE images
    uint64_t compressed_bytes = 0;
    uint64_t pixels = 0;  // of the images written
    std::string first_error;
};

struct ImageDumpSummary {
    std::string out_dir;
    std::string index_path;
    int64_t session_start_us = 0;
    uint64_t images = 0;
    uint64_t written = 0;
    uint64_t failed = 0;
    uint64_t references = 0;
    std::map<std::string, TypeTally> by_type;
};

// The image type names --codec accepts, in protocol order.
std::vector<std::string> image_type_names();

// Replays the session (from its start, whatever from_us says: GLZ and the caches need the
// history) and writes <out_dir>/<name>.png for each image plus <out_dir>/index.jsonl. An image
// that cannot be decoded is listed with its error; only trouble with the log or the output
// directory fails the whole job.
Result<ImageDumpSummary> dump_images(const log::SessionLogReader& reader,
                                     const ImageDumpOptions& options);

// `000123-d0-s4567-id0x1a2b-glz_rgb-1024x768.png`: milliseconds from the session start,
// display, message serial, image id, type, size ("-mask" for mask bitmaps).
std::string image_file_name(const ImageRecord& r, int64_t session_start_us);

std::string format_record_json(const ImageRecord& r, int64_t session_start_us);
std::string format_summary_text(const ImageDumpSummary& s);
std::string format_summary_json(const ImageDumpSummary& s);

// Writes decoded pixels as PNG: xRGB as RGB, ARGB as RGBA (alpha un-premultiplied, as PNG
// wants), A8 as grey, A1 as black/white grey.
Result<void> write_image_png(const codec::PixelView& pixels, const std::string& path);

}  // namespace spicetap::images
