#include "export/video/contact_sheet.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "decode/codec/ffmpeg_calls.h"  // last: routes the FFmpeg calls above
#include "export/video/letterbox.h"
#include "export/video/png_frames.h"
#include "export/video/tiny_font.h"

namespace spicetap::video {

std::string format_sheet_time(int64_t t_us) {
    const int64_t t = std::max<int64_t>(0, t_us);
    if (t >= int64_t{3600} * 1'000'000) {
        const int64_t s = t / 1'000'000;
        return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    const int64_t tenths = t / 100'000;
    return fmt::format("{}:{:02}.{}", tenths / 600, tenths / 10 % 60, tenths % 10);
}

Result<codec::DecodedImage> build_contact_sheet(std::span<const SheetFrame> frames,
                                                const ContactSheetOptions& opt) {
    if (frames.empty()) {
        return make_error(Errc::BadValue, 0, "a contact sheet needs at least one frame");
    }
    if (auto loaded = codec::ffmpeg_load(); !loaded) {
        return loaded.error();
    }
    for (const SheetFrame& f : frames) {
        if ((f.picture.format != codec::PixelFormat::Xrgb32 &&
             f.picture.format != codec::PixelFormat::Argb32) ||
            f.picture.width == 0 || f.picture.height == 0 || f.picture.data == nullptr) {
            return make_error(Errc::BadValue, 0, "contact sheet frames must be non-empty xRGB");
        }
    }
    if (opt.columns == 0 || opt.thumb_width < 8 || opt.thumb_width > 4096 || opt.gap > 256 ||
        opt.label_scale == 0 || opt.label_scale > 16) {
        return make_error(Errc::BadValue, 0, "bad contact sheet layout options");
    }
    const codec::PixelView& first = frames.front().picture;
    const uint32_t tw = opt.thumb_width & ~1u;
    const uint32_t th = std::max<uint32_t>(
        2, static_cast<uint32_t>(uint64_t{tw} * first.height / first.width) & ~1u);
    const uint32_t label_h = opt.labels ? text_height(opt.label_scale) + opt.gap : 0;
    const uint32_t cols = std::min<uint32_t>(opt.columns, static_cast<uint32_t>(frames.size()));
    const auto rows = static_cast<uint32_t>((frames.size() + cols - 1) / cols);
    const uint64_t sheet_w = uint64_t{cols} * (tw + opt.gap) + opt.gap;
    const uint64_t sheet_h = uint64_t{rows} * (th + label_h + opt.gap) + opt.gap;
    if (sheet_w > 16384 || sheet_h > 16384) {
        return make_error(
            Errc::LimitExceeded, 0,
            fmt::format("contact sheet would be {}x{} (limit 16384x16384)", sheet_w, sheet_h));
    }
    auto sheet = codec::DecodedImage::allocate(
        static_cast<uint32_t>(sheet_w), static_cast<uint32_t>(sheet_h), codec::PixelFormat::Xrgb32);
    const uint32_t bg = 0xff000000u | opt.background;
    for (uint32_t y = 0; y < sheet.height; ++y) {
        uint8_t* row = sheet.pixels.data() + size_t{y} * sheet.stride;
        for (uint32_t x = 0; x < sheet.width; ++x) {
            std::memcpy(row + size_t{x} * 4, &bg, 4);
        }
    }
    const codec::PixelView view = sheet.view();

    // One scaler, reused while consecutive pictures share a size.
    codec::FfmpegPtr<SwsContext> sws;
    for (size_t i = 0; i < frames.size(); ++i) {
        const codec::PixelView& p = frames[i].picture;
        const uint32_t cx = opt.gap + static_cast<uint32_t>(i % cols) * (tw + opt.gap);
        const uint32_t cy = opt.gap + static_cast<uint32_t>(i / cols) * (th + label_h + opt.gap);
        for (uint32_t y = 0; y < th; ++y) {  // the cell is black, the bars too
            std::memset(view.row(cy + y) + size_t{cx} * 4, 0, size_t{tw} * 4);
        }
        const Rect fit = fit_rect(p.width, p.height, tw, th);
        SwsContext* s = sws_getCachedContext(sws.release(), static_cast<int>(p.width),
                                             static_cast<int>(p.height), AV_PIX_FMT_BGR0,
                                             static_cast<int>(fit.w), static_cast<int>(fit.h),
                                             AV_PIX_FMT_BGR0, SWS_AREA, nullptr, nullptr, nullptr);
        if (s == nullptr) {
            return make_error(
                Errc::Unsupported, 0,
                fmt::format("sws_getCachedContext failed: cannot scale {}x{} to {}x{}", p.width,
                            p.height, fit.w, fit.h));
        }
        sws.reset(s);
        const uint8_t* src[4] = {p.data, nullptr, nullptr, nullptr};
        const int src_stride[4] = {static_cast<int>(p.stride), 0, 0, 0};
        uint8_t* dst[4] = {view.row(cy + fit.y) + size_t{cx + fit.x} * 4, nullptr, nullptr,
                           nullptr};
        const int dst_stride[4] = {static_cast<int>(view.stride), 0, 0, 0};
        sws_scale(s, src, src_stride, 0, static_cast<int>(p.height), dst, dst_stride);
        if (opt.labels) {
            const std::string label = format_sheet_time(frames[i].t_us);
            const uint32_t w = text_width(label, opt.label_scale);
            const int64_t lx = int64_t{cx} + (int64_t{tw} - int64_t{w}) / 2;
            draw_text(view, lx, cy + th + opt.gap / 2, label, opt.label_colour, opt.label_scale);
        }
    }
    // Scaling leaves the X byte as it found it in the source; make it defined.
    for (uint32_t y = 0; y < sheet.height; ++y) {
        uint8_t* row = sheet.pixels.data() + size_t{y} * sheet.stride;
        for (uint32_t x = 0; x < sheet.width; ++x) {
            row[size_t{x} * 4 + 3] = 0xff;
        }
    }
    return sheet;
}

Result<void> write_contact_sheet(const std::string& png_path, std::span<const SheetFrame> frames,
                                 const ContactSheetOptions& options) {
    auto sheet = build_contact_sheet(frames, options);
    if (!sheet) {
        return sheet.error();
    }
    return write_png(sheet->view(), png_path);
}

}  // namespace spicetap::video
