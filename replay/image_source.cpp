#include "replay/image_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "decode/codec/bitmap_decoder.h"
#include "decode/codec/jpeg_decoder.h"
#include "decode/codec/lz4_decoder.h"

namespace spicetap::replay {

namespace display = channels::display;

canvas::Source ResolvedImage::source() const {
    if (surface) {
        return canvas::Source{surface};
    }
    return canvas::Source{canvas::ImageRef{image->pixels.data(), image->width, image->height,
                                           image->stride, image->format}};
}

namespace {

std::string type_key(uint8_t type) {
    const std::string_view n = display::image_type_name(type);
    return n.empty() ? fmt::format("type_{}", type) : std::string(n);
}

codec::BitmapDescriptor bitmap_descriptor(const display::BitmapData& b) {
    codec::BitmapDescriptor d;
    d.format = b.format;
    d.flags = b.flags;
    d.width = b.x;
    d.height = b.y;
    d.stride = b.stride;
    d.palette_id = b.palette.cache_id.value_or(0);
    if (b.palette.palette) {
        d.palette = codec::Palette{b.palette.palette->unique, b.palette.palette->ents};
    }
    d.data = b.data;
    return d;
}

std::optional<codec::Palette> inline_palette(const display::PaletteRef& ref) {
    if (!ref.palette) {
        return std::nullopt;
    }
    return codec::Palette{ref.palette->unique, ref.palette->ents};
}

}  // namespace

ImageSource::ImageSource() : glz_(window_), zlib_glz_(window_) {}

void ImageSource::configure(uint64_t cache_pixels, uint32_t glz_window_pixels) {
    if (cache_pixels > 0) {
        cache_.set_capacity(cache_pixels);
    }
    window_.set_window_size(glz_window_pixels);
}

void ImageSource::restart() {
    cache_.clear();
    window_.clear();
    lost_.clear();
}

Result<codec::ImageHandle> ImageSource::decode(const display::Image& img,
                                               codec::PaletteCache& palettes,
                                               ImageFailure& failure) {
    const uint8_t type = img.descriptor.type;
    auto fail = [&](std::string kind, const DecodeError& e) -> DecodeError {
        failure.kind = std::move(kind);
        failure.text = fmt::format("{} image id {} ({}x{}): {}", type_key(type), img.descriptor.id,
                                   img.descriptor.width, img.descriptor.height, e.message());
        return e;
    };
    auto allocate = [](const codec::ImageInfo& info) {
        return std::make_shared<codec::DecodedImage>(
            codec::DecodedImage::allocate(info.width, info.height, info.format));
    };
    const ByteView data = img.data();

    std::shared_ptr<codec::DecodedImage> out;
    Result<void> ok;
    switch (static_cast<display::ImageType>(type)) {
        case display::ImageType::FromCache:
        case display::ImageType::FromCacheLossless: {
            auto hit = cache_.lookup(type, img.descriptor.id);
            if (!hit) {
                DecodeError e = hit.error();
                if (auto it = lost_.find(img.descriptor.id); it != lost_.end()) {
                    e.what += " (its CACHE_ME image was not decoded: " + it->second + ")";
                }
                return fail("missing_cache_image", e);
            }
            return *hit;
        }
        case display::ImageType::Bitmap: {
            const auto& b = std::get<display::BitmapData>(img.payload);
            const codec::BitmapDescriptor desc = bitmap_descriptor(b);
            codec::PaletteHandle pal;
            if (codec::bitmap_format_is_indexed(b.format)) {
                auto p = palettes.resolve(b.flags, desc.palette, desc.palette_id);
                if (!p) {
                    return fail("missing_palette", p.error());
                }
                pal = *p;
            }
            auto info = codec::probe_bitmap(desc);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = codec::decode_bitmap(desc, pal.get(), out->view());
            break;
        }
        case display::ImageType::LzPlt: {
            const auto& p = std::get<display::LzPltData>(img.payload);
            auto pal = palettes.resolve(p.flags, inline_palette(p.palette),
                                        p.palette.cache_id.value_or(0));
            if (!pal) {
                return fail("missing_palette", pal.error());
            }
            if (!*pal) {
                return fail("undecodable_image",
                            make_error(Errc::BadValue, 0, "LZ_PLT image without a palette"));
            }
            auto info = lz_.probe(p.data);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = lz_.decode(p.data, out->view(), (*pal)->entries);
            break;
        }
        case display::ImageType::LzRgb: {
            auto info = lz_.probe(data);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = lz_.decode(data, out->view());
            break;
        }
        case display::ImageType::GlzRgb: {
            auto info = glz_.probe(data);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = glz_.decode(data, out->view());
            if (!ok && glz_.missing_image()) {
                return fail("missing_glz_image", ok.error());
            }
            break;
        }
        case display::ImageType::ZlibGlzRgb: {
            const auto& z = std::get<display::ZlibGlzData>(img.payload);
            // The decoder takes the structure as on the wire: both sizes, then the zlib data.
            scratch_.resize(codec::kZlibGlzHeaderSize + z.data.size());
            const uint32_t sizes[2] = {z.glz_data_size, uint32_t(z.data.size())};
            for (int i = 0; i < 2; ++i) {
                for (int k = 0; k < 4; ++k) {
                    scratch_[size_t(i * 4 + k)] = uint8_t(sizes[i] >> (8 * k));
                }
            }
            if (!z.data.empty()) {
                std::memcpy(scratch_.data() + codec::kZlibGlzHeaderSize, z.data.data(),
                            z.data.size());
            }
            const ByteView payload(scratch_.data(), scratch_.size());
            auto info = zlib_glz_.probe(payload);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = zlib_glz_.decode(payload, out->view());
            if (!ok && zlib_glz_.missing_image()) {
                return fail("missing_glz_image", ok.error());
            }
            break;
        }
        case display::ImageType::Jpeg: {
            auto info = codec::probe_jpeg(data);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = codec::decode_jpeg(data, out->view());
            break;
        }
        case display::ImageType::JpegAlpha: {
            const auto& ja = std::get<display::JpegAlphaData>(img.payload);
            if (ja.jpeg_size > ja.data.size()) {
                return fail("undecodable_image",
                            make_error(Errc::Truncated, 0, "JPEG_ALPHA jpeg_size past its data"));
            }
            auto info = codec::probe_jpeg(ja.jpeg());
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            codec::ImageInfo argb = *info;
            argb.format = codec::PixelFormat::Argb32;
            out = allocate(argb);
            ok = codec::decode_jpeg(ja.jpeg(), out->view());
            if (ok) {
                // XXXA into an Argb32 view writes only the alpha bytes.
                ok = lz_.decode(ja.alpha(), out->view());
            }
            break;
        }
        case display::ImageType::Lz4: {
            auto info = codec::probe_lz4(data, img.descriptor.width, img.descriptor.height);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            out = allocate(*info);
            ok = codec::decode_lz4(data, out->view());
            break;
        }
        case display::ImageType::Quic: {
            auto info = quic_.probe(data);
            if (!info) {
                return fail("undecodable_image", info.error());
            }
            if (info->format == codec::PixelFormat::A8) {
                // spice-gtk's canvas refuses GRAY streams; spice-server never sends them.
                return fail("unsupported_image",
                            make_error(Errc::Unsupported, 8,
                                       "QUIC GRAY image (the reference client does not draw "
                                       "them either)"));
            }
            if (info->width != img.descriptor.width || info->height != img.descriptor.height) {
                return fail("undecodable_image",
                            make_error(Errc::BadValue, 12,
                                       fmt::format("QUIC: stream is {}x{}, the image descriptor "
                                                   "says {}x{}",
                                                   info->width, info->height, img.descriptor.width,
                                                   img.descriptor.height)));
            }
            out = allocate(*info);
            ok = quic_.decode(data, out->view());
            break;
        }
        case display::ImageType::Surface:
        case display::ImageType::Reserved:
        default:
            return fail("unsupported_image",
                        make_error(Errc::Unsupported, 0, "image type not drawable here"));
    }
    if (!ok) {
        return fail("undecodable_image", ok.error());
    }
    if ((img.descriptor.flags & codec::image_flags::kHighBitsSet) &&
        out->format == codec::PixelFormat::Xrgb32) {
        codec::apply_high_bits(out->view());
    }
    codec::ImageHandle handle = out;
    if (img.descriptor.flags &
        (codec::image_flags::kCacheMe | codec::image_flags::kCacheReplaceMe)) {
        if (auto stored =
                cache_.store_decoded(img.descriptor.id, type, img.descriptor.flags, handle);
            !stored) {
            return fail("cache_error", stored.error());
        }
    }
    return handle;
}

std::optional<ImageSource::GlzNeed> ImageSource::glz_need(
    const channels::display::Image& img, const std::vector<uint64_t>& arriving) const {
    if (img.type() != display::ImageType::GlzRgb) {
        return std::nullopt;
    }
    auto h = glz_.read_header(img.data());
    if (!h) {
        return std::nullopt;  // the decode reports what is wrong with it
    }
    GlzNeed need{h->id, std::nullopt};
    if (h->id == 0) {
        return need;
    }
    const uint64_t reach = h->id - std::min<uint64_t>(h->win_head_dist, h->id);
    // Ids below the oldest image kept are released (or came before the capture): nothing to
    // wait for there. A hole above it is an image still on its way. With the window empty
    // every id in reach may be on its way (a capture that starts mid-session waits in vain,
    // up to the caller's bound).
    const auto oldest = window_.oldest_id();
    const uint64_t low = oldest && *oldest < h->id ? std::max(reach, *oldest) : reach;
    for (uint64_t id = h->id - 1; id >= low && h->id - id <= 65536; --id) {
        if (!window_.find(id) && window_.why_missing(id) == codec::GlzAbsence::NotSeen &&
            std::find(arriving.begin(), arriving.end(), id) == arriving.end()) {
            need.missing = id;
            break;
        }
        if (id == low) {
            break;
        }
    }
    return need;
}

void ImageSource::notify(const display::Image& img, bool mask,
                         const std::optional<ResolvedImage>& r, const ImageFailure& failure) const {
    if (!observer_) {
        return;
    }
    ImageEvent ev{img, mask};
    if (r) {
        ev.pixels = r->image.get();
        ev.surface = r->surface;
    } else {
        ev.failure = &failure;
    }
    observer_(ev);
}

std::optional<ResolvedImage> ImageSource::resolve(const display::Image& img,
                                                  codec::PaletteCache& palettes,
                                                  const SurfaceLookup& surfaces,
                                                  ImageFailure& failure) {
    auto r = resolve_operand(img, palettes, surfaces, failure);
    notify(img, false, r, failure);
    return r;
}

std::optional<ResolvedImage> ImageSource::resolve_mask(const display::Image& img,
                                                       const SurfaceLookup& surfaces,
                                                       ImageFailure& failure) {
    auto r = resolve_mask_operand(img, surfaces, failure);
    notify(img, true, r, failure);
    return r;
}

std::optional<ResolvedImage> ImageSource::resolve_operand(const display::Image& img,
                                                          codec::PaletteCache& palettes,
                                                          const SurfaceLookup& surfaces,
                                                          ImageFailure& failure) {
    if (img.type() == display::ImageType::Surface) {
        const uint32_t id = std::get<display::SurfaceImage>(img.payload).surface_id;
        const canvas::Surface* s = surfaces(id);
        if (!s) {
            failure.kind = "unknown_surface";
            failure.text =
                fmt::format("SURFACE image refers to surface {}, which does not exist", id);
            return std::nullopt;
        }
        return ResolvedImage{nullptr, s, id};
    }
    const std::string key = type_key(img.descriptor.type);
    CodecStats& st = stats_[key];
    const auto t0 = std::chrono::steady_clock::now();
    auto handle = decode(img, palettes, failure);
    if (!handle && (img.descriptor.flags & codec::image_flags::kCacheMe)) {
        if (lost_.size() >= 4096) {
            lost_.erase(lost_.begin());  // only a hint for reports; keep it small
        }
        lost_[img.descriptor.id] = handle.error().what;
    } else if (handle) {
        lost_.erase(img.descriptor.id);
    }
    const auto t1 = std::chrono::steady_clock::now();
    st.decode_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    st.bytes += img.data().size();
    if (!handle) {
        ++st.failures;
        return std::nullopt;
    }
    ++st.images;
    st.pixels += uint64_t((*handle)->width) * (*handle)->height;
    return ResolvedImage{*handle, nullptr, 0};
}

std::optional<ResolvedImage> ImageSource::resolve_mask_operand(const display::Image& img,
                                                               const SurfaceLookup& surfaces,
                                                               ImageFailure& failure) {
    const uint8_t type = img.descriptor.type;
    CodecStats& st = stats_["mask_" + type_key(type)];
    switch (img.type()) {
        case display::ImageType::Bitmap: {
            const auto& b = std::get<display::BitmapData>(img.payload);
            const codec::BitmapDescriptor desc = bitmap_descriptor(b);
            auto mask = std::make_shared<codec::DecodedImage>(
                codec::DecodedImage::allocate(b.x, b.y, codec::PixelFormat::A1));
            // The canvas applies the mask's INVERS flag itself.
            if (auto ok = codec::decode_bitmap_mask(desc, false, mask->view()); !ok) {
                ++st.failures;
                failure.kind = "undecodable_image";
                failure.text = fmt::format("mask bitmap: {}", ok.error().message());
                return std::nullopt;
            }
            ++st.images;
            st.pixels += uint64_t(b.x) * b.y;
            codec::ImageHandle handle = mask;
            if (img.descriptor.flags & codec::image_flags::kCacheMe) {
                (void)cache_.put(img.descriptor.id, handle, false);
            }
            return ResolvedImage{handle, nullptr, 0};
        }
        case display::ImageType::FromCache:
        case display::ImageType::FromCacheLossless: {
            auto hit = cache_.lookup(type, img.descriptor.id);
            if (!hit || (*hit)->format != codec::PixelFormat::A1) {
                ++st.failures;
                failure.kind = "missing_cache_image";
                failure.text = hit ? fmt::format("mask image id {} is cached, but not as 1 bit",
                                                 img.descriptor.id)
                                   : fmt::format("mask: {}", hit.error().message());
                return std::nullopt;
            }
            ++st.images;
            return ResolvedImage{*hit, nullptr, 0};
        }
        case display::ImageType::Surface: {
            const uint32_t id = std::get<display::SurfaceImage>(img.payload).surface_id;
            const canvas::Surface* s = surfaces(id);
            if (!s || s->format() != canvas::SurfaceFormat::A1) {
                ++st.failures;
                failure.kind = "unknown_surface";
                failure.text = fmt::format(
                    "mask refers to surface {}, which is not a 1-bit "
                    "surface",
                    id);
                return std::nullopt;
            }
            ++st.images;
            return ResolvedImage{nullptr, s, id};
        }
        default:
            ++st.failures;
            failure.kind = "unsupported_image";
            failure.text = fmt::format("mask of image type {}", type_key(type));
            return std::nullopt;
    }
}

// ---- checkpoints ---------------------------------------------------------------------

void ImageSource::save(StateWriter& w) const {
    const codec::ImageCache::Saved cache = cache_.save();
    w.u64(cache.capacity);
    for (uint64_t v :
         {cache.stats.puts, cache.stats.hits, cache.stats.misses, cache.stats.evictions}) {
        w.u64(v);
    }
    w.u64(cache.items.size());
    for (const codec::ImageCache::Saved::Item& item : cache.items) {
        const codec::DecodedImage& img = *item.image;
        w.u64(item.id);
        w.u8(item.lossy ? 1 : 0);
        w.u32(item.refs);
        w.u32(img.width);
        w.u32(img.height);
        w.u8(uint8_t(img.format));
        w.u64(img.stride);
        w.blob(img.pixels);
    }
    const codec::GlzWindow::Saved glz = window_.save();
    w.u32(glz.window_size);
    w.u8(glz.tail ? 1 : 0);
    w.u64(glz.tail.value_or(0));
    w.u64(glz.released_below);
    w.u64(glz.capped_below);
    w.u64(glz.images.size());
    for (const codec::GlzImage* img : glz.images) {
        w.u64(img->id);
        w.u32(img->win_head_dist);
        w.u8(uint8_t(img->type));
        w.u32(img->width);
        w.u32(img->height);
        w.u8(img->top_down ? 1 : 0);
        w.blob(
            ByteView(reinterpret_cast<const uint8_t*>(img->pixels.data()), img->pixels.size() * 4));
    }
    w.u64(lost_.size());
    for (const auto& [id, why] : lost_) {
        w.u64(id);
        w.str(why);
    }
    w.u64(stats_.size());
    for (const auto& [k, c] : stats_) {
        w.str(k);
        w.u64(c.images);
        w.u64(c.failures);
        w.u64(c.pixels);
        w.u64(c.bytes);
        w.f64(c.decode_ms);
    }
}

Result<void> ImageSource::load(ByteReader& r) {
    codec::ImageCache::Saved cache;
    cache.capacity = r.u64();
    for (uint64_t* v :
         {&cache.stats.puts, &cache.stats.hits, &cache.stats.misses, &cache.stats.evictions}) {
        *v = r.u64();
    }
    const uint64_t n_items = r.u64();
    for (uint64_t i = 0; i < n_items && r.ok(); ++i) {
        codec::ImageCache::Saved::Item item;
        item.id = r.u64();
        item.lossy = r.u8() != 0;
        item.refs = r.u32();
        auto img = std::make_shared<codec::DecodedImage>();
        img->width = r.u32();
        img->height = r.u32();
        img->format = static_cast<codec::PixelFormat>(r.u8());
        img->stride = size_t(r.u64());
        const ByteView px = read_blob(r);
        if (!r.ok() || px.size() != img->stride * img->height) {
            return make_error(Errc::Corrupt, 0, "checkpoint: cached image");
        }
        img->pixels.assign(px.begin(), px.end());
        item.image = std::move(img);
        cache.items.push_back(std::move(item));
    }
    const uint32_t window_size = r.u32();
    const bool has_tail = r.u8() != 0;
    const uint64_t tail = r.u64();
    const uint64_t released = r.u64();
    const uint64_t capped = r.u64();
    const uint64_t n_glz = r.u64();
    std::vector<std::unique_ptr<codec::GlzImage>> glz;
    for (uint64_t i = 0; i < n_glz && r.ok(); ++i) {
        auto img = std::make_unique<codec::GlzImage>();
        img->id = r.u64();
        img->win_head_dist = r.u32();
        img->type = static_cast<codec::LzImageType>(r.u8());
        img->width = r.u32();
        img->height = r.u32();
        img->top_down = r.u8() != 0;
        const ByteView px = read_blob(r);
        if (!r.ok() || px.size() % 4 != 0) {
            return make_error(Errc::Corrupt, 0, "checkpoint: GLZ image");
        }
        img->pixels.resize(px.size() / 4);
        std::memcpy(img->pixels.data(), px.data(), px.size());
        glz.push_back(std::move(img));
    }
    lost_.clear();
    const uint64_t n_lost = r.u64();
    for (uint64_t i = 0; i < n_lost && r.ok(); ++i) {
        const uint64_t id = r.u64();
        lost_[id] = read_str(r);
    }
    stats_.clear();
    const uint64_t n_stats = r.u64();
    for (uint64_t i = 0; i < n_stats && r.ok(); ++i) {
        CodecStats& c = stats_[read_str(r)];
        c.images = r.u64();
        c.failures = r.u64();
        c.pixels = r.u64();
        c.bytes = r.u64();
        c.decode_ms = read_f64(r);
    }
    if (!r.ok()) {
        return r.error("checkpoint: image source");
    }
    cache_.restore(cache);
    window_.restore(window_size, std::move(glz),
                    has_tail ? std::optional<uint64_t>(tail) : std::nullopt, released, capped);
    return {};
}

}  // namespace spicetap::replay
