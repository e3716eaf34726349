#include "decode/codec/jpeg_decoder.h"

// jpeglib.h needs size_t and FILE declared first.
#include <fmt/core.h>
#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "decode/codec/bitmap_decoder.h"

namespace spicetap::codec {

namespace {

// libjpeg reports fatal errors through error_exit, which must not return; we longjmp back into
// run_jpeg(). Nothing with a destructor lives between the setjmp and the libjpeg calls.
struct ErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_fatal(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
    // Warnings (level -1) are tolerated as spice-gtk does, except running out of data: the
    // memory source then pads with a fake EOI and would silently return a grey tail.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        on_fatal(cinfo);
    }
    if (level < 0) {
        cinfo->err->num_warnings++;
    }
}

struct JpegJob {
    ByteView data;
    const PixelView* out = nullptr;  // null: header only
    JpegOptions options;
    Limits limits;
    uint64_t base = 0;
    ImageInfo info;
};

Result<void> run_jpeg(JpegJob& job) {
    if (job.data.size() < 2) {
        return make_error(Errc::Truncated, job.base + job.data.size(),
                          fmt::format("jpeg: {} bytes is not a JPEG", job.data.size()));
    }
    jpeg_decompress_struct cinfo;
    ErrorManager err;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_fatal;
    err.pub.emit_message = on_message;
    err.message[0] = '\0';
    jpeg_create_decompress(&cinfo);

    if (setjmp(err.jump) != 0) {
        // Where libjpeg had got to; at end of data the memory source points at a fake EOI.
        const bool eof = err.pub.msg_code == JWRN_JPEG_EOF;
        const auto next = reinterpret_cast<uintptr_t>(
            cinfo.src != nullptr ? cinfo.src->next_input_byte : nullptr);
        const auto begin = reinterpret_cast<uintptr_t>(job.data.data());
        const bool inside = next >= begin && next - begin <= job.data.size();
        const uint64_t at = job.base + (eof || !inside ? job.data.size() : next - begin);
        jpeg_destroy_decompress(&cinfo);
        return make_error(eof ? Errc::Truncated : Errc::Corrupt, at,
                          fmt::format("jpeg: {}", err.message));
    }

    jpeg_mem_src(&cinfo, job.data.data(), static_cast<unsigned long>(job.data.size()));
    jpeg_read_header(&cinfo, TRUE);
    const uint32_t width = cinfo.image_width;
    const uint32_t height = cinfo.image_height;
    if (width > job.limits.max_width || height > job.limits.max_height ||
        uint64_t{width} * height > job.limits.max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return make_error(Errc::LimitExceeded, job.base,
                          fmt::format("jpeg: {}x{} exceeds the configured limits", width, height));
    }
    job.info = ImageInfo{width, height, PixelFormat::Xrgb32, true};
    if (job.out == nullptr) {
        jpeg_destroy_decompress(&cinfo);
        return {};
    }
    const PixelView& out = *job.out;
    if (out.width != width || out.height != height) {
        jpeg_destroy_decompress(&cinfo);
        return make_error(Errc::BadValue, job.base,
                          fmt::format("jpeg: the JPEG is {}x{} but the image is {}x{}", width,
                                      height, out.width, out.height));
    }
    cinfo.out_color_space = JCS_EXT_BGRX;
    if (job.options.fast) {
        cinfo.dct_method = JDCT_IFAST;
        cinfo.do_fancy_upsampling = FALSE;
        cinfo.do_block_smoothing = FALSE;
    }
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out.row(cinfo.output_scanline);
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            break;
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return {};
}

}  // namespace

Result<ImageInfo> probe_jpeg(ByteView jpeg, const Limits& limits, uint64_t base_offset) {
    JpegJob job;
    job.data = jpeg;
    job.limits = limits;
    job.base = base_offset;
    if (auto ok = run_jpeg(job); !ok) {
        return ok.error();
    }
    return job.info;
}

Result<void> decode_jpeg(ByteView jpeg, const PixelView& out, const JpegOptions& options,
                         const Limits& limits, uint64_t base_offset) {
    if (auto ok = check_output("jpeg", out, out.width, out.height, PixelFormat::Xrgb32); !ok) {
        return ok.error();
    }
    JpegJob job;
    job.data = jpeg;
    job.out = &out;
    job.options = options;
    job.limits = limits;
    job.base = base_offset;
    // libjpeg-turbo writes JCS_EXT_BGRX rows straight into the view with X = 0xff (the
    // extended colour spaces are libjpeg-turbo's own, so no other libjpeg builds this): no
    // conversion or fix-up pass after it.
    return run_jpeg(job);
}

Result<JpegAlphaData> parse_jpeg_alpha(ByteView payload, uint64_t base_offset) {
    ByteReader r(payload, base_offset);
    JpegAlphaData d;
    d.flags = r.u8();
    const uint32_t jpeg_size = r.u32();
    const uint32_t data_size = r.u32();
    if (!r.ok()) {
        return r.error("jpeg_alpha: header (flags, jpeg_size, data_size)");
    }
    if (jpeg_size > data_size) {
        return make_error(Errc::BadValue, base_offset + 1,
                          fmt::format("jpeg_alpha: jpeg_size {} is larger than data_size {}",
                                      jpeg_size, data_size));
    }
    d.jpeg_offset = base_offset + r.pos();
    d.jpeg = r.bytes(jpeg_size);
    d.alpha_offset = base_offset + r.pos();
    d.alpha = r.bytes(data_size - jpeg_size);
    if (!r.ok()) {
        return make_error(Errc::Truncated, base_offset + payload.size(),
                          fmt::format("jpeg_alpha: data_size {} but only {} bytes follow the "
                                      "header",
                                      data_size, payload.size() - 9));
    }
    return d;
}

Result<void> combine_alpha(const PixelView& argb, const PixelView& alpha) {
    if (argb.format != PixelFormat::Argb32 || alpha.format != PixelFormat::A8 ||
        argb.width != alpha.width || argb.height != alpha.height ||
        (argb.height > 0 && (argb.data == nullptr || alpha.data == nullptr))) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("jpeg_alpha: alpha plane {}x{} does not match the {}x{} "
                                      "colour image",
                                      alpha.width, alpha.height, argb.width, argb.height));
    }
    for (uint32_t y = 0; y < argb.height; ++y) {
        uint8_t* dst = argb.row(y);
        const uint8_t* src = alpha.row(y);
        for (uint32_t x = 0; x < argb.width; ++x) {
            dst[4 * x + 3] = src[x];
        }
    }
    return {};
}

}  // namespace spicetap::codec
