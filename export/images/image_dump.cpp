#include "export/images/image_dump.h"

#include <fmt/core.h>
#include <png.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "decode/channels/display_types.h"
#include "decode/codec/image_cache.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "replay/session_replay.h"

namespace spicetap::images {

namespace display = channels::display;
namespace fs = std::filesystem;

namespace {

constexpr int kDisplayChannel = 2;

std::string type_name_of(uint8_t type) {
    const std::string_view n = display::image_type_name(type);
    return n.empty() ? fmt::format("type_{}", type) : std::string(n);
}

const char* pixel_format_name(codec::PixelFormat f) {
    switch (f) {
        case codec::PixelFormat::Xrgb32:
            return "xrgb32";
        case codec::PixelFormat::Argb32:
            return "argb32";
        case codec::PixelFormat::A8:
            return "a8";
        case codec::PixelFormat::A1:
            return "a1";
    }
    return "?";
}

std::vector<std::string> flag_names(uint8_t flags) {
    std::vector<std::string> out;
    if (flags & codec::image_flags::kCacheMe) {
        out.emplace_back("cache_me");
    }
    if (flags & codec::image_flags::kHighBitsSet) {
        out.emplace_back("high_bits_set");
    }
    if (flags & codec::image_flags::kCacheReplaceMe) {
        out.emplace_back("cache_replace_me");
    }
    for (int bit = 3; bit < 8; ++bit) {
        if (flags & (1u << bit)) {
            out.push_back(fmt::format("bit{}", bit));
        }
    }
    return out;
}

bool is_from_cache(uint8_t type) {
    return type == uint8_t(display::ImageType::FromCache) ||
           type == uint8_t(display::ImageType::FromCacheLossless);
}

// Collects the images the replay meets and writes them.
class Dumper {
public:
    Dumper(const ImageDumpOptions& opt, int64_t start_us, std::ofstream& index)
        : opt_(opt), start_us_(start_us), index_(index) {
        for (const std::string& t : opt.types) {
            wanted_.insert(t);
        }
        summary_.session_start_us = start_us;
    }

    void on_image(const replay::MessageContext& ctx, const replay::ImageEvent& ev) {
        const display::Image& img = ev.image;
        const bool in_time = (!opt_.from_us || ctx.ts_us >= *opt_.from_us) &&
                             (!opt_.to_us || ctx.ts_us <= *opt_.to_us);
        const std::string type = type_name_of(img.descriptor.type);
        const bool listed = in_time && (wanted_.empty() || wanted_.contains(type));

        ImageRecord r;
        r.n = summary_.images + 1;
        r.ts_us = ctx.ts_us;
        r.connection = ctx.connection;
        r.display = ctx.channel_id;
        r.serial = ctx.serial;
        r.message_type = ctx.msg_type;
        r.message = std::string(
            wire::message_name(kDisplayChannel, wire::Direction::ServerToClient, ctx.msg_type));
        r.mask = ev.mask;
        r.id = img.descriptor.id;
        r.type = img.descriptor.type;
        r.type_name = type;
        r.flags = img.descriptor.flags;
        r.width = img.descriptor.width;
        r.height = img.descriptor.height;
        r.compressed_bytes = img.data().size();
        if (const auto* s = std::get_if<display::SurfaceImage>(&img.payload)) {
            r.surface_id = s->surface_id;
        }
        if (is_from_cache(r.type)) {
            if (auto it = cached_files_.find(r.id); it != cached_files_.end()) {
                r.cached_from = it->second;
            }
        }

        std::string name;
        if (listed && ev.pixels) {
            r.format = ev.pixels->format;
            name = unique_name(image_file_name(r, start_us_));
            const codec::PixelView view{const_cast<uint8_t*>(ev.pixels->pixels.data()),
                                        ev.pixels->width, ev.pixels->height, ev.pixels->stride,
                                        ev.pixels->format};
            if (auto ok = write_image_png(view, (fs::path(opt_.out_dir) / name).string()); !ok) {
                write_error_ = ok.error();
                name.clear();
            } else {
                r.file = name;
            }
        } else if (ev.failure) {
            r.error_kind = ev.failure->kind;
            r.error = ev.failure->text;
        }
        if (listed && opt_.payloads && r.compressed_bytes > 0) {
            std::string bin = image_file_name(r, start_us_);
            bin = unique_name(bin.substr(0, bin.size() - 4) + ".bin");
            std::ofstream f(fs::path(opt_.out_dir) / bin, std::ios::binary | std::ios::trunc);
            const ByteView data = img.data();
            f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
            if (!f) {
                write_error_ = make_error(Errc::Io, 0, "cannot write " + bin);
            } else {
                r.payload_file = bin;
            }
        }
        // A cache slot filled now is what a later FROM_CACHE of this id shows.
        if (ev.pixels &&
            (r.flags & (codec::image_flags::kCacheMe | codec::image_flags::kCacheReplaceMe))) {
            cached_files_[r.id] = listed ? r.file : std::string();
        }
        if (!listed) {
            return;
        }
        tally(r);
        index_ << format_record_json(r, start_us_) << '\n';
    }

    const std::optional<DecodeError>& write_error() const { return write_error_; }

    ImageDumpSummary& summary() { return summary_; }

private:
    std::string unique_name(std::string name) {
        if (used_names_.insert(name).second) {
            return name;
        }
        const size_t dot = name.rfind('.');
        const std::string stem = name.substr(0, dot), ext = name.substr(dot);
        for (int k = 2;; ++k) {
            std::string alt = fmt::format("{}-{}{}", stem, k, ext);
            if (used_names_.insert(alt).second) {
                return alt;
            }
        }
    }

    void tally(const ImageRecord& r) {
        TypeTally& t = summary_.by_type[r.type_name];
        ++summary_.images;
        ++t.images;
        t.compressed_bytes += r.compressed_bytes;
        if (!r.file.empty()) {
            ++summary_.written;
            ++t.written;
            t.pixels += uint64_t(r.width) * r.height;
        } else if (r.surface_id && r.error.empty()) {
            ++summary_.references;
            ++t.references;
        } else {
            ++summary_.failed;
            ++t.failed;
            if (t.first_error.empty()) {
                t.first_error = r.error.empty() ? "not written" : r.error;
            }
        }
    }

    const ImageDumpOptions& opt_;
    int64_t start_us_;
    std::ofstream& index_;
    std::set<std::string> wanted_;
    std::set<std::string> used_names_;
    std::map<uint64_t, std::string> cached_files_;
    std::optional<DecodeError> write_error_;
    ImageDumpSummary summary_;
};

}  // namespace

std::vector<std::string> image_type_names() {
    std::vector<std::string> out;
    for (int t = 0; t <= 255; ++t) {
        if (!display::image_type_name(uint8_t(t)).empty()) {
            out.emplace_back(display::image_type_name(uint8_t(t)));
        }
    }
    return out;
}

std::string image_file_name(const ImageRecord& r, int64_t session_start_us) {
    const int64_t ms = std::max<int64_t>(r.ts_us - session_start_us, 0) / 1000;
    return fmt::format("{:06}-d{}-s{}-id0x{:x}-{}-{}x{}{}.png", ms, r.display, r.serial, r.id,
                       r.type_name, r.width, r.height, r.mask ? "-mask" : "");
}

std::string format_record_json(const ImageRecord& r, int64_t session_start_us) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("n", r.n);
    w.field("t", double(r.ts_us - session_start_us) / 1e6);
    w.field("connection", r.connection);
    w.field("display", int64_t{r.display});
    w.field("serial", r.serial);
    w.field("message", r.message);
    w.field("message_type", r.message_type);
    w.field("role", r.mask ? "mask" : "image");
    w.field("id", r.id);
    w.field("type", r.type_name);
    w.field("type_code", r.type);
    w.field("flags", r.flags);
    w.key("flag_names").begin_array();
    for (const std::string& f : flag_names(r.flags)) {
        w.value(f);
    }
    w.end_array();
    w.field("width", r.width);
    w.field("height", r.height);
    w.field("compressed_bytes", r.compressed_bytes);
    if (r.format) {
        w.field("format", pixel_format_name(*r.format));
    }
    if (r.surface_id) {
        w.field("surface_id", *r.surface_id);
    }
    if (!r.cached_from.empty()) {
        w.field("cached_from", r.cached_from);
    }
    if (r.file.empty()) {
        w.field_null("file");
    } else {
        w.field("file", r.file);
    }
    if (!r.payload_file.empty()) {
        w.field("payload_file", r.payload_file);
    }
    if (!r.error_kind.empty()) {
        w.key("error").begin_object();
        w.field("kind", r.error_kind);
        w.field("text", r.error);
        w.end_object();
    }
    w.end_object();
    return out;
}

Result<ImageDumpSummary> dump_images(const log::SessionLogReader& reader,
                                     const ImageDumpOptions& options) {
    for (const std::string& t : options.types) {
        const auto names = image_type_names();
        if (std::find(names.begin(), names.end(), t) == names.end()) {
            return make_error(Errc::BadValue, 0, "unknown image type " + t);
        }
    }
    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec || !fs::is_directory(options.out_dir)) {
        return make_error(Errc::Io, 0,
                          "cannot create directory " + options.out_dir + ": " + ec.message());
    }
    const std::string index_path = (fs::path(options.out_dir) / "index.jsonl").string();
    std::ofstream index(index_path, std::ios::trunc);
    if (!index) {
        return make_error(Errc::Io, 0, "cannot write " + index_path);
    }
    auto replay = replay::SessionReplay::open(reader);
    if (!replay) {
        return replay.error();
    }
    const int64_t start = reader.session().start_us;
    const int64_t end = reader.session().end_us;
    Dumper dumper(options, start, index);
    (*replay)->set_image_observer([&](const replay::MessageContext& ctx,
                                      const replay::ImageEvent& ev) { dumper.on_image(ctx, ev); });
    uint64_t steps = 0;
    while (true) {
        if (options.to_us && !(*replay)->at_end() && (*replay)->now_us() > *options.to_us) {
            break;
        }
        auto more = (*replay)->step();
        if (!more) {
            return more.error();
        }
        if (dumper.write_error()) {
            return *dumper.write_error();
        }
        if (!*more) {
            break;
        }
        if (options.progress && ++steps % 256 == 0 && end > start) {
            options.progress(
                std::clamp(double((*replay)->now_us() - start) / double(end - start), 0.0, 1.0));
        }
    }
    index.flush();
    if (!index) {
        return make_error(Errc::Io, 0, "cannot write " + index_path);
    }
    ImageDumpSummary s = std::move(dumper.summary());
    s.out_dir = options.out_dir;
    s.index_path = index_path;
    return s;
}

std::string format_summary_text(const ImageDumpSummary& s) {
    std::string out =
        fmt::format("{}: {} images, {} written, {} failed, {} surface references; index {}\n",
                    s.out_dir, s.images, s.written, s.failed, s.references, s.index_path);
    if (s.by_type.empty()) {
        return out;
    }
    out += fmt::format("  {:<20} {:>7} {:>8} {:>7} {:>12} {:>8}  {}\n", "type", "images", "written",
                       "failed", "compressed", "MPixel", "first error");
    for (const auto& [name, t] : s.by_type) {
        std::string line =
            fmt::format("  {:<20} {:>7} {:>8} {:>7} {:>12} {:>8.2f}  {}", name, t.images, t.written,
                        t.failed, t.compressed_bytes, double(t.pixels) / 1e6, t.first_error);
        line.erase(line.find_last_not_of(' ') + 1);
        out += line + '\n';
    }
    return out;
}

std::string format_summary_json(const ImageDumpSummary& s) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("out_dir", s.out_dir);
    w.field("index", s.index_path);
    w.field("images", s.images);
    w.field("written", s.written);
    w.field("failed", s.failed);
    w.field("surface_references", s.references);
    w.key("by_type").begin_object();
    for (const auto& [name, t] : s.by_type) {
        w.key(name).begin_object();
        w.field("images", t.images);
        w.field("written", t.written);
        w.field("failed", t.failed);
        w.field("surface_references", t.references);
        w.field("compressed_bytes", t.compressed_bytes);
        w.field("pixels", t.pixels);
        if (t.first_error.empty()) {
            w.field_null("first_error");
        } else {
            w.field("first_error", t.first_error);
        }
        w.end_object();
    }
    w.end_object();
    w.end_object();
    out += '\n';
    return out;
}

Result<void> write_image_png(const codec::PixelView& pixels, const std::string& path) {
    if (pixels.width == 0 || pixels.height == 0 || pixels.data == nullptr) {
        return make_error(Errc::BadValue, 0, "empty image for " + path);
    }
    const size_t w = pixels.width;
    uint32_t png_format = PNG_FORMAT_RGB;
    size_t channels = 3;
    switch (pixels.format) {
        case codec::PixelFormat::Xrgb32:
            break;
        case codec::PixelFormat::Argb32:
            png_format = PNG_FORMAT_RGBA;
            channels = 4;
            break;
        case codec::PixelFormat::A8:
        case codec::PixelFormat::A1:
            png_format = PNG_FORMAT_GRAY;
            channels = 1;
            break;
    }
    std::vector<uint8_t> out(w * pixels.height * channels);
    for (uint32_t y = 0; y < pixels.height; ++y) {
        const uint8_t* s = pixels.row(y);
        uint8_t* d = out.data() + size_t{y} * w * channels;
        switch (pixels.format) {
            case codec::PixelFormat::Xrgb32:
                for (size_t x = 0; x < w; ++x, s += 4, d += 3) {
                    d[0] = s[2];
                    d[1] = s[1];
                    d[2] = s[0];
                }
                break;
            case codec::PixelFormat::Argb32:
                for (size_t x = 0; x < w; ++x, s += 4, d += 4) {
                    const unsigned a = s[3];
                    auto straight = [a](unsigned c) {
                        return a == 0 ? uint8_t{0} : uint8_t(std::min(255u, (c * 255 + a / 2) / a));
                    };
                    d[0] = straight(s[2]);
                    d[1] = straight(s[1]);
                    d[2] = straight(s[0]);
                    d[3] = uint8_t(a);
                }
                break;
            case codec::PixelFormat::A8:
                std::memcpy(d, s, w);
                break;
            case codec::PixelFormat::A1:
                for (size_t x = 0; x < w; ++x) {
                    d[x] = (s[x / 8] >> (x % 8)) & 1 ? 255 : 0;
                }
                break;
        }
    }
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = pixels.width;
    image.height = pixels.height;
    image.format = png_format;
    if (!png_image_write_to_file(&image, path.c_str(), 0, out.data(),
                                 static_cast<png_int_32>(w * channels), nullptr)) {
        std::string why = image.message;
        png_image_free(&image);
        return make_error(Errc::Io, 0, "cannot write PNG " + path + ": " + why);
    }
    return {};
}

}  // namespace spicetap::images
