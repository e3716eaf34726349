// Image decode speed per codec on payloads from real SPICE sessions, beside a plain memcpy of the
// same output pixels measured in the same run.
//   bench_codecs [--seconds S] CAPTURE_OR_LOG...
// Every image of the given sessions is collected as the replay meets it (so GLZ and ZLIB_GLZ keep
// their real order and cross-image references), then each codec decodes its images again and
// again: GLZ sequences with a fresh window each pass. Three size classes are measured apart,
// since per-image cost weighs differently in each: tiny (<= 4096 pixels: the 9x2 images SeaBIOS
// and the guest cursor send), small (<= 65536: console tiles and strips, e.g. 32x10 cells of
// 8x16 glyphs = 256x160, QEMU's 1024x64 text console strips), large (whole screens, photos).
// QUIC is measured once decode/codec/quic_decoder.h exists.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "decode/channels/display_types.h"
#include "decode/codec/bitmap_decoder.h"
#include "decode/codec/glz_decoder.h"
#include "decode/codec/glz_window.h"
#include "decode/codec/image_cache.h"
#include "decode/codec/jpeg_decoder.h"
#include "decode/codec/lz4_decoder.h"
#include "decode/codec/lz_decoder.h"
#include "decode/codec/zlib_glz_decoder.h"
#include "replay/session_replay.h"
#if __has_include("decode/codec/quic_decoder.h")
#include "decode/codec/quic_decoder.h"
#define SPICETAP_BENCH_QUIC 1
#endif

using namespace spicetap;
using Clock = std::chrono::steady_clock;
namespace display = channels::display;

namespace {

// One image as it travelled, with everything its codec needs, owned.
struct Payload {
    uint8_t type = 0;
    uint32_t width = 0;  // of the decoded image
    uint32_t height = 0;
    codec::PixelFormat format = codec::PixelFormat::Xrgb32;
    std::vector<uint8_t> bytes;      // data(); ZLIB_GLZ: the wire structure with both sizes
    codec::BitmapDescriptor bitmap;  // BITMAP: fields (data points into bytes)
    codec::Palette palette;          // BITMAP indexed / LZ_PLT
    uint32_t jpeg_size = 0;          // JPEG_ALPHA
    std::vector<uint8_t> expected;   // the replay's pixels, to check our own decode (may be
    size_t expected_stride = 0;      // empty: QUIC before its decoder landed)
    size_t session = 0;              // GLZ ids and windows are per session
    uint64_t seq = 0;                // order the replay met the images in

    uint64_t pixels() const { return uint64_t(width) * height; }
};

struct Collection {
    std::map<uint8_t, std::vector<Payload>> by_type;
    uint64_t skipped_palette = 0;  // indexed images whose palette came from the palette cache
    uint64_t failed = 0;           // images the replay could not decode either
    size_t sessions = 0;
    uint64_t next_seq = 0;
};

void collect(const log::SessionLogReader& reader, Collection& out) {
    auto replay = replay::SessionReplay::open(reader);
    if (!replay) {
        fmt::print(stderr, "bench_codecs: {}\n", replay.error().what);
        std::exit(1);
    }
    std::map<uint64_t, std::vector<uint32_t>> palettes;  // by unique, as PAL_CACHE_ME filled it
    (*replay)->set_image_observer([&](const replay::MessageContext&, const replay::ImageEvent& ev) {
        const display::Image& img = ev.image;
        const uint8_t type = img.descriptor.type;
        if (ev.mask || type == uint8_t(display::ImageType::FromCache) ||
            type == uint8_t(display::ImageType::FromCacheLossless) ||
            type == uint8_t(display::ImageType::Surface)) {
            return;  // no codec work
        }
        Payload p;
        p.type = type;
        p.session = out.sessions;
        p.seq = out.next_seq++;
        if (ev.pixels) {
            p.width = ev.pixels->width;
            p.height = ev.pixels->height;
            p.format = ev.pixels->format;
            p.expected = ev.pixels->pixels;
            p.expected_stride = ev.pixels->stride;
        } else if (type == uint8_t(display::ImageType::Quic)) {
            // Kept for the QUIC decoder to come: the replay cannot decode these yet.
            p.width = img.descriptor.width;
            p.height = img.descriptor.height;
        } else {
            ++out.failed;
            return;
        }
        const ByteView data = img.data();
        p.bytes.assign(data.begin(), data.end());
        auto palette_of = [&](const display::PaletteRef& ref, uint8_t flags) -> bool {
            if (ref.palette) {
                p.palette.entries = ref.palette->ents;
                if (flags & codec::bitmap_flags::kPalCacheMe) {
                    palettes[ref.palette->unique] = ref.palette->ents;
                }
                return true;
            }
            if (ref.cache_id) {
                if (auto it = palettes.find(*ref.cache_id); it != palettes.end()) {
                    p.palette.entries = it->second;
                    return true;
                }
            }
            return false;
        };
        if (const auto* b = std::get_if<display::BitmapData>(&img.payload)) {
            p.bitmap.format = b->format;
            p.bitmap.flags = b->flags;
            p.bitmap.width = b->x;
            p.bitmap.height = b->y;
            p.bitmap.stride = b->stride;
            if (codec::bitmap_format_is_indexed(b->format) && !palette_of(b->palette, b->flags)) {
                ++out.skipped_palette;
                return;
            }
        } else if (const auto* l = std::get_if<display::LzPltData>(&img.payload)) {
            if (!palette_of(l->palette, l->flags)) {
                ++out.skipped_palette;
                return;
            }
        } else if (const auto* z = std::get_if<display::ZlibGlzData>(&img.payload)) {
            p.bytes.assign(codec::kZlibGlzHeaderSize, 0);
            const uint32_t sizes[2] = {z->glz_data_size, uint32_t(z->data.size())};
            for (int i = 0; i < 2; ++i) {
                for (int k = 0; k < 4; ++k) {
                    p.bytes[size_t(i * 4 + k)] = uint8_t(sizes[i] >> (8 * k));
                }
            }
            p.bytes.insert(p.bytes.end(), z->data.begin(), z->data.end());
        } else if (const auto* ja = std::get_if<display::JpegAlphaData>(&img.payload)) {
            p.jpeg_size = ja->jpeg_size;
        }
        out.by_type[type].push_back(std::move(p));
    });
    if (auto ok = (*replay)->run_to_end(); !ok) {
        fmt::print(stderr, "bench_codecs: {}\n", ok.error().what);
        std::exit(1);
    }
    ++out.sessions;
}

// Decodes one pass over `images` into `outs`; false when any image fails.
using PassFn =
    std::function<bool(const std::vector<const Payload*>&, std::vector<codec::DecodedImage>&)>;

PassFn pass_for(uint8_t type) {
    using IT = display::ImageType;
    switch (static_cast<IT>(type)) {
        case IT::Bitmap:
            return [](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    codec::BitmapDescriptor d = images[i]->bitmap;
                    d.data = ByteView(images[i]->bytes);
                    ok &= bool(codec::decode_bitmap(
                        d,
                        codec::bitmap_format_is_indexed(d.format) ? &images[i]->palette : nullptr,
                        outs[i].view()));
                }
                return ok;
            };
        case IT::LzRgb:
        case IT::LzPlt:
            return [dec = std::make_shared<codec::LzDecoder>()](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    ok &= bool(
                        dec->decode(images[i]->bytes, outs[i].view(), images[i]->palette.entries));
                }
                return ok;
            };
        case IT::Lz4:
            return [](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    ok &= bool(codec::decode_lz4(images[i]->bytes, outs[i].view()));
                }
                return ok;
            };
        case IT::Jpeg:
            return [](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    ok &= bool(codec::decode_jpeg(images[i]->bytes, outs[i].view()));
                }
                return ok;
            };
        case IT::JpegAlpha:
            return [dec = std::make_shared<codec::LzDecoder>()](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    const ByteView all(images[i]->bytes);
                    ok &= bool(codec::decode_jpeg(all.first(images[i]->jpeg_size), outs[i].view()));
                    ok &= bool(dec->decode(all.subspan(images[i]->jpeg_size), outs[i].view()));
                }
                return ok;
            };
#ifdef SPICETAP_BENCH_QUIC
        case IT::Quic:
            return [dec = std::make_shared<codec::QuicDecoder>()](const auto& images, auto& outs) {
                bool ok = true;
                for (size_t i = 0; i < images.size(); ++i) {
                    ok &= bool(dec->decode(images[i]->bytes, outs[i].view()));
                }
                return ok;
            };
#endif
        default:
            return nullptr;
    }
}

bool same_pixels(const Payload& p, const codec::DecodedImage& out) {
    if (p.expected.empty()) {
        return true;
    }
    const size_t row = codec::bytes_per_row(p.format, p.width);
    for (uint32_t y = 0; y < p.height; ++y) {
        const uint8_t* a = p.expected.data() + size_t{y} * p.expected_stride;
        const uint8_t* b = out.row(y);
        if (p.format == codec::PixelFormat::Xrgb32) {
            for (uint32_t x = 0; x < p.width; ++x) {  // the top byte is undefined
                if (std::memcmp(a + x * 4, b + x * 4, 3) != 0) {
                    return false;
                }
            }
        } else if (std::memcmp(a, b, row) != 0) {
            return false;
        }
    }
    return true;
}

struct Row {
    std::string codec;
    std::string size_class;
    size_t images = 0;
    double mpixel = 0;  // per pass
    double decode_mps = 0;
    double copy_mps = 0;
    std::string note;
};

// Decode and memcpy passes interleaved until `seconds` of decoding; best pass rate of each.
Row measure(const std::string& name, const std::string& size_class, uint8_t type,
            const std::vector<const Payload*>& images, double seconds) {
    Row r;
    r.codec = name;
    r.size_class = size_class;
    r.images = images.size();
    uint64_t pixels = 0;
    std::vector<codec::DecodedImage> outs;
    std::vector<std::vector<uint8_t>> sources;
    for (const Payload* p : images) {
        pixels += p->pixels();
        outs.push_back(codec::DecodedImage::allocate(p->width, p->height, p->format));
        sources.emplace_back(outs.back().pixels.size(), uint8_t(0x5a));
    }
    r.mpixel = double(pixels) / 1e6;
    PassFn pass = pass_for(type);
    if (!pass) {
        r.note = "no decoder in this build (QUIC: decode/codec/quic_decoder.h not merged yet)";
        return r;
    }
    if (!pass(images, outs)) {
        r.note = "DECODE FAILED";
        return r;
    }
    for (size_t i = 0; i < images.size(); ++i) {
        if (!same_pixels(*images[i], outs[i])) {
            r.note = "differs from the replay's decode";
        }
    }
    auto copy_pass = [&]() {
        for (size_t i = 0; i < outs.size(); ++i) {
            std::memcpy(outs[i].pixels.data(), sources[i].data(), sources[i].size());
            asm volatile("" : : "r"(outs[i].pixels.data()) : "memory");
        }
    };
    double best_decode = 1e30, best_copy = 1e30, spent = 0;
    // Enough passes per timing that tiny sets are not timer noise.
    const int reps = int(std::clamp<uint64_t>(2'000'000 / std::max<uint64_t>(pixels, 1), 1, 4096));
    int rounds = 0;
    while (spent < seconds || rounds < 3) {
        auto t0 = Clock::now();
        for (int k = 0; k < reps; ++k) {
            pass(images, outs);
        }
        auto t1 = Clock::now();
        for (int k = 0; k < reps; ++k) {
            copy_pass();
        }
        auto t2 = Clock::now();
        const double d = std::chrono::duration<double>(t1 - t0).count() / reps;
        const double c = std::chrono::duration<double>(t2 - t1).count() / reps;
        best_decode = std::min(best_decode, d);
        best_copy = std::min(best_copy, c);
        spent += d * reps;
        ++rounds;
    }
    r.decode_mps = r.mpixel / best_decode;
    r.copy_mps = r.mpixel / best_copy;
    return r;
}

// GLZ_RGB and ZLIB_GLZ_RGB share each session's window and refer to each other, so both decode
// in one ordered pass per session (a fresh window each time, not timed); each image is timed on
// its own and the time added to its codec's row.
std::vector<Row> measure_glz_family(const std::vector<const Payload*>& all, double seconds) {
    using IT = display::ImageType;
    const uint8_t types[2] = {uint8_t(IT::GlzRgb), uint8_t(IT::ZlibGlzRgb)};
    std::vector<Row> rows(2);
    std::vector<codec::DecodedImage> outs;
    std::vector<std::vector<uint8_t>> sources;
    uint64_t pixels[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
        rows[size_t(k)].codec = std::string(display::image_type_name(types[k]));
        rows[size_t(k)].size_class = "all";
    }
    for (const Payload* p : all) {
        const int k = p->type == types[1];
        ++rows[size_t(k)].images;
        pixels[k] += p->pixels();
        outs.push_back(codec::DecodedImage::allocate(p->width, p->height, p->format));
        sources.emplace_back(outs.back().pixels.size(), uint8_t(0x5a));
    }
    auto pass = [&](double elapsed[2]) {
        bool ok = true;
        size_t i = 0;
        while (i < all.size()) {
            codec::GlzWindow window;
            codec::GlzDecoder glz(window);
            codec::ZlibGlzDecoder zglz(window);
            const size_t session = all[i]->session;
            for (; i < all.size() && all[i]->session == session; ++i) {
                const bool zlib = all[i]->type == types[1];
                const auto t0 = Clock::now();
                ok &= zlib ? bool(zglz.decode(all[i]->bytes, outs[i].view()))
                           : bool(glz.decode(all[i]->bytes, outs[i].view()));
                elapsed[zlib] += std::chrono::duration<double>(Clock::now() - t0).count();
            }
        }
        return ok;
    };
    double first[2] = {0, 0};
    if (!pass(first)) {
        rows[0].note = rows[1].note = "DECODE FAILED";
        return rows;
    }
    for (size_t i = 0; i < all.size(); ++i) {
        if (!same_pixels(*all[i], outs[i])) {
            rows[all[i]->type == types[1]].note = "differs from the replay's decode";
        }
    }
    double best[2] = {1e30, 1e30}, best_copy[2] = {1e30, 1e30}, spent = 0;
    for (int round = 0; spent < seconds || round < 3; ++round) {
        double t[2] = {0, 0};
        pass(t);
        best[0] = std::min(best[0], t[0]);
        best[1] = std::min(best[1], t[1]);
        spent += t[0] + t[1];
        for (int k = 0; k < 2; ++k) {
            const auto c0 = Clock::now();
            for (size_t i = 0; i < all.size(); ++i) {
                if ((all[i]->type == types[1]) == (k == 1)) {
                    std::memcpy(outs[i].pixels.data(), sources[i].data(), sources[i].size());
                    asm volatile("" : : "r"(outs[i].pixels.data()) : "memory");
                }
            }
            best_copy[k] =
                std::min(best_copy[k], std::chrono::duration<double>(Clock::now() - c0).count());
        }
    }
    for (int k = 0; k < 2; ++k) {
        Row& r = rows[size_t(k)];
        r.mpixel = double(pixels[k]) / 1e6;
        if (r.images > 0 && best[k] > 0) {
            r.decode_mps = r.mpixel / best[k];
            r.copy_mps = r.mpixel / best_copy[k];
        } else if (r.images == 0) {
            r.note = "no real payloads in these sessions";
        }
    }
    return rows;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 1.0;
    std::vector<std::string> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
        } else {
            inputs.push_back(a);
        }
    }
    if (inputs.empty()) {
        fmt::print(stderr, "usage: bench_codecs [--seconds S] CAPTURE_OR_LOG...\n");
        return 2;
    }
    Collection all;
    for (const std::string& in : inputs) {
        auto source = capture::LogSource::open(in, "bench");
        if (!source) {
            fmt::print(stderr, "bench_codecs: {}: {}\n", in, source.error().what);
            return 1;
        }
        for (const auto& path : source->logs()) {
            auto reader = log::SessionLogReader::open(path);
            if (!reader) {
                fmt::print(stderr, "bench_codecs: {}: {}\n", path.string(), reader.error().what);
                return 1;
            }
            collect(**reader, all);
        }
    }
    fmt::print(
        "{} session file(s); {} images the replay could not decode, {} indexed images "
        "without a palette we saw, left out\n",
        inputs.size(), all.failed, all.skipped_palette);
    std::vector<Row> rows;
    // bitmap, lz_rgb, lz_plt, glz_rgb + zlib_glz_rgb, lz4, jpeg, jpeg_alpha, quic
    const uint8_t order[] = {0, 101, 100, 102, 109, 105, 108, 1};
    for (uint8_t type : order) {
        const std::string name(display::image_type_name(type));
        if (type == uint8_t(display::ImageType::GlzRgb)) {
            std::vector<const Payload*> family;
            for (uint8_t t : {uint8_t(102), uint8_t(107)}) {
                if (auto f = all.by_type.find(t); f != all.by_type.end()) {
                    for (const Payload& p : f->second) {
                        family.push_back(&p);
                    }
                }
            }
            // Back into session order: the observer met them interleaved.
            std::stable_sort(family.begin(), family.end(),
                             [](const Payload* a, const Payload* b) { return a->seq < b->seq; });
            for (Row& r : measure_glz_family(family, seconds)) {
                rows.push_back(std::move(r));
            }
            continue;
        }
        auto it = all.by_type.find(type);
        if (it == all.by_type.end()) {
            rows.push_back(Row{name, "-", 0, 0, 0, 0, "no real payloads in these sessions"});
            continue;
        }
        std::map<int, std::vector<const Payload*>> by_class;  // 0 tiny, 1 small, 2 large
        for (const Payload& p : it->second) {
            by_class[p.pixels() <= 4096 ? 0 : p.pixels() <= 65536 ? 1 : 2].push_back(&p);
        }
        static const char* const kClass[] = {"tiny", "small", "large"};
        for (const auto& [c, images] : by_class) {
            rows.push_back(measure(name, kClass[c], type, images, seconds));
        }
    }
    fmt::print("{:<14} {:<6} {:>7} {:>9} {:>11} {:>11} {:>8}\n", "codec", "size", "images",
               "MPixel", "MPixel/s", "copy MP/s", "ratio");
    for (const Row& r : rows) {
        if (r.images == 0 || r.decode_mps == 0) {
            fmt::print("{:<14} {:<6} {:>7} {:>9} {:>11} {:>11} {:>8}  {}\n", r.codec, r.size_class,
                       r.images, "-", "-", "-", "-", r.note);
            continue;
        }
        std::string line = fmt::format(
            "{:<14} {:<6} {:>7} {:>9.3f} {:>11.1f} {:>11.1f} {:>8.3f}  {}", r.codec, r.size_class,
            r.images, r.mpixel, r.decode_mps, r.copy_mps, r.decode_mps / r.copy_mps, r.note);
        line.erase(line.find_last_not_of(' ') + 1);
        fmt::print("{}\n", line);
    }
    return 0;
}
