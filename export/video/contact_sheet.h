// A contact sheet: thumbnails of chosen screen states in a grid, each with its time below it,
// in one picture (or one PNG).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "decode/codec/image_cache.h"
#include "decode/codec/image_types.h"
#include "decode/wire/result.h"

namespace spicetap::video {

struct SheetFrame {
    codec::PixelView picture;  // Xrgb32 or Argb32
    int64_t t_us = 0;          // shown as the label (time from the session start)
};

struct ContactSheetOptions {
    uint32_t columns = 4;
    uint32_t thumb_width = 320;  // thumbnail height follows the first picture's aspect
    uint32_t gap = 8;            // between cells and around the sheet
    bool labels = true;
    uint32_t label_scale = 2;  // the 5x7 font, magnified
    uint32_t background = 0x202020;
    uint32_t label_colour = 0xffffff;
};

// "0:12.3" below an hour, "1:02:03" from an hour on.
std::string format_sheet_time(int64_t t_us);

// Pictures of other aspects than the first are letterboxed into their cell.
Result<codec::DecodedImage> build_contact_sheet(std::span<const SheetFrame> frames,
                                                const ContactSheetOptions& options = {});

Result<void> write_contact_sheet(const std::string& png_path, std::span<const SheetFrame> frames,
                                 const ContactSheetOptions& options = {});

}  // namespace spicetap::video
