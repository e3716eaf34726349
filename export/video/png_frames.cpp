#include "export/video/png_frames.h"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

namespace spicetap::video {

Result<void> write_png(const codec::PixelView& picture, const std::string& path) {
    if (picture.format != codec::PixelFormat::Xrgb32 &&
        picture.format != codec::PixelFormat::Argb32) {
        return make_error(Errc::Unsupported, 0, "PNG export takes 32-bit xRGB or ARGB pictures");
    }
    std::vector<uint8_t> rgb(size_t{picture.width} * picture.height * 3);
    for (uint32_t y = 0; y < picture.height; ++y) {
        const uint8_t* s = picture.row(y);
        uint8_t* d = rgb.data() + size_t{y} * picture.width * 3;
        for (uint32_t x = 0; x < picture.width; ++x, s += 4, d += 3) {
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    }
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = picture.width;
    image.height = picture.height;
    image.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&image, path.c_str(), 0, rgb.data(),
                                 static_cast<png_int_32>(picture.width * 3), nullptr)) {
        std::string why = image.message;
        png_image_free(&image);
        return make_error(Errc::Io, 0, "cannot write PNG " + path + ": " + why);
    }
    return {};
}

PngFrameWriter::PngFrameWriter(std::string dir, const PngFramesOptions& options)
    : dir_(std::move(dir)), opt_(options) {}

Result<std::unique_ptr<PngFrameWriter>> PngFrameWriter::open(const std::string& dir,
                                                             const PngFramesOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        return make_error(Errc::Io, 0, "cannot create directory " + dir + ": " + ec.message());
    }
    if (options.max_fps < 0 || options.max_fps > 1000) {
        return make_error(Errc::BadValue, 0, "PNG frame rate cap must be within 0..1000");
    }
    return std::unique_ptr<PngFrameWriter>(new PngFrameWriter(dir, options));
}

Result<void> PngFrameWriter::write_pending() {
    const int64_t interval =
        opt_.max_fps > 0 ? static_cast<int64_t>(std::llround(1e6 / opt_.max_fps)) : 0;
    const int64_t at = any_written_ ? std::max(pending_t_, last_written_ + interval) : pending_t_;
    const std::string path =
        (std::filesystem::path(dir_) /
         fmt::format("frame-{:06}-{:010}ms.png", stats_.frames_out + 1, at / 1000))
            .string();
    has_pending_ = false;
    if (auto r = write_png(pending_.view(), path); !r) {
        return r;
    }
    ++stats_.frames_out;
    std::error_code ec;
    stats_.bytes += std::filesystem::file_size(path, ec);
    any_written_ = true;
    last_written_ = at;
    return {};
}

Result<void> PngFrameWriter::push_frame(const codec::PixelView& frame, int64_t t_us) {
    if (finished_) {
        return make_error(Errc::BadValue, 0, "push_frame after finish (" + dir_ + ")");
    }
    if (frame.width == 0 || frame.height == 0 || frame.data == nullptr ||
        frame.stride < size_t{frame.width} * 4) {
        return make_error(Errc::BadValue, 0, "bad frame for PNG export");
    }
    if (!started_) {
        started_ = true;
        start_us_ = opt_.start_us.value_or(t_us);
    }
    const int64_t t = std::max<int64_t>(t_us - start_us_, last_t_);
    last_t_ = t;
    ++stats_.frames_in;
    if (has_pending_) {
        const int64_t interval =
            opt_.max_fps > 0 ? static_cast<int64_t>(std::llround(1e6 / opt_.max_fps)) : 0;
        // A state arriving exactly when the pending one is due replaces it (the last wins).
        if (!any_written_ || t > std::max(pending_t_, last_written_ + interval)) {
            if (auto r = write_pending(); !r) {
                return r;
            }
        } else {
            ++stats_.frames_merged;
        }
    }
    if (pending_.width != frame.width || pending_.height != frame.height) {
        pending_ =
            codec::DecodedImage::allocate(frame.width, frame.height, codec::PixelFormat::Xrgb32);
    }
    for (uint32_t y = 0; y < frame.height; ++y) {
        std::memcpy(pending_.pixels.data() + y * pending_.stride, frame.row(y),
                    size_t{frame.width} * 4);
    }
    pending_t_ = t;
    has_pending_ = true;
    stats_.duration_us = t;
    return {};
}

Result<void> PngFrameWriter::push_audio(std::span<const int16_t> interleaved, int channels,
                                        int /*sample_rate*/, int64_t /*t_us*/) {
    if (channels > 0) {
        stats_.audio_samples_in += interleaved.size() / size_t(channels);
    }
    return {};
}

Result<SinkStats> PngFrameWriter::finish(std::optional<int64_t> end_us) {
    if (!finished_) {
        finished_ = true;
        if (has_pending_) {
            if (auto r = write_pending(); !r) {
                return r.error();
            }
        }
        if (end_us && started_) {
            stats_.duration_us = std::max(stats_.duration_us, *end_us - start_us_);
        }
    }
    return stats_;
}

Result<std::unique_ptr<FrameSink>> write_png_frames(const std::string& dir,
                                                    const PngFramesOptions& options) {
    auto w = PngFrameWriter::open(dir, options);
    if (!w) {
        return w.error();
    }
    return std::unique_ptr<FrameSink>(std::move(*w));
}

}  // namespace spicetap::video
