#include "decode/codec/zlib_glz_decoder.h"

#include <fmt/core.h>
#include <zlib.h>

#include <algorithm>

namespace spicetap::codec {

namespace {

DecodeError zlib_glz_error(Errc code, uint64_t offset, std::string_view what) {
    return make_error(code, offset, fmt::format("ZLIB_GLZ: {}", what));
}

DecodeError inner_error(const DecodeError& e) {
    return make_error(e.code, e.offset,
                      fmt::format("ZLIB_GLZ: in the inflated GLZ stream: {}", e.what));
}

uint32_t read_le32(const uint8_t* p) {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

// One z_stream for the decoder's life; each image only resets it.
struct ZlibGlzDecoder::Inflater {
    z_stream s{};
    bool ready = false;
};

ZlibGlzDecoder::ZlibGlzDecoder(GlzWindow& window, Limits limits)
    : z_(std::make_unique<Inflater>()), glz_(window, limits), limits_(limits) {
    z_->ready = inflateInit(&z_->s) == Z_OK;
}

ZlibGlzDecoder::~ZlibGlzDecoder() {
    if (z_->ready) {
        inflateEnd(&z_->s);
    }
}

Result<ZlibGlzHeader> ZlibGlzDecoder::read_header(ByteView payload) {
    if (payload.size() < kZlibGlzHeaderSize) {
        return zlib_glz_error(
            Errc::Truncated, payload.size(),
            fmt::format("header needs {} bytes, have {}", kZlibGlzHeaderSize, payload.size()));
    }
    ZlibGlzHeader h{read_le32(payload.data()), read_le32(payload.data() + 4)};
    const size_t have = payload.size() - kZlibGlzHeaderSize;
    if (h.data_size > have) {
        return zlib_glz_error(
            Errc::Truncated, payload.size(),
            fmt::format("data_size {} but only {} bytes follow", h.data_size, have));
    }
    if (h.data_size < have) {
        return zlib_glz_error(
            Errc::Corrupt, kZlibGlzHeaderSize + h.data_size,
            fmt::format("{} bytes left over after data_size {}", have - h.data_size, h.data_size));
    }
    if (h.glz_data_size < kGlzHeaderSize) {
        return zlib_glz_error(
            Errc::BadValue, 0,
            fmt::format("glz_data_size {} is smaller than a GLZ header", h.glz_data_size));
    }
    return h;
}

Result<void> ZlibGlzDecoder::inflate(ByteView payload, bool header_only) {
    inflated_size_ = 0;
    auto parsed = read_header(payload);
    if (!parsed) {
        return parsed.error();
    }
    const ZlibGlzHeader h = *parsed;
    if (!z_->ready) {
        return zlib_glz_error(Errc::Io, 0, "zlib could not be initialised");
    }
    z_stream& s = z_->s;
    inflateReset(&s);
    s.next_in = const_cast<Bytef*>(payload.data() + kZlibGlzHeaderSize);
    s.avail_in = h.data_size;
    const auto in_offset = [&]() { return kZlibGlzHeaderSize + (h.data_size - s.avail_in); };
    const auto zlib_failure = [&](int ret) {
        return zlib_glz_error(Errc::Corrupt, in_offset(),
                              fmt::format("zlib: {}", s.msg != nullptr ? s.msg : zError(ret)));
    };

    // The GLZ header first: it bounds how large glz_data_size may honestly be.
    if (buffer_.size() < kGlzHeaderSize) {
        buffer_.resize(kGlzHeaderSize);
    }
    s.next_out = buffer_.data();
    s.avail_out = kGlzHeaderSize;
    int ret = ::inflate(&s, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
        return zlib_failure(ret);
    }
    if (s.avail_out != 0) {
        const size_t produced = kGlzHeaderSize - s.avail_out;
        if (ret == Z_STREAM_END) {
            return zlib_glz_error(Errc::Corrupt, in_offset(),
                                  fmt::format("inflates to {} bytes, glz_data_size says {}",
                                              produced, h.glz_data_size));
        }
        return zlib_glz_error(
            Errc::Truncated, in_offset(),
            fmt::format("zlib stream is cut short after {} inflated bytes", produced));
    }
    inflated_size_ = kGlzHeaderSize;
    if (header_only) {
        return {};
    }
    auto glz_header = glz_.read_header(inflated());
    if (!glz_header) {
        return inner_error(glz_header.error());
    }
    // A GLZ stream costs at most a little over 4 bytes per pixel (3 colour + 1 alpha, plus one
    // control byte per 32 literals).
    const uint64_t most = kGlzHeaderSize + glz_header->gross_pixels() * 5 + 64;
    if (h.glz_data_size > most) {
        return zlib_glz_error(Errc::LimitExceeded, 0,
                              fmt::format("glz_data_size {} is more than a {}x{} image needs",
                                          h.glz_data_size, glz_header->width, glz_header->height));
    }
    if (buffer_.size() < h.glz_data_size) {
        buffer_.resize(h.glz_data_size);
    }
    size_t produced = kGlzHeaderSize;
    if (ret != Z_STREAM_END) {
        const uInt want = h.glz_data_size - kGlzHeaderSize;
        s.next_out = buffer_.data() + kGlzHeaderSize;
        s.avail_out = want;
        ret = ::inflate(&s, Z_FINISH);
        produced += want - s.avail_out;
    }
    if (ret == Z_STREAM_END) {
        if (produced != h.glz_data_size) {
            return zlib_glz_error(Errc::Corrupt, in_offset(),
                                  fmt::format("inflates to {} bytes, glz_data_size says {}",
                                              produced, h.glz_data_size));
        }
        if (s.avail_in != 0) {
            return zlib_glz_error(
                Errc::Corrupt, in_offset(),
                fmt::format("{} bytes left over after the zlib stream", s.avail_in));
        }
    } else if (ret == Z_BUF_ERROR || ret == Z_OK) {
        if (s.avail_out == 0) {
            return zlib_glz_error(
                Errc::Corrupt, in_offset(),
                fmt::format("inflates to more than glz_data_size {}", h.glz_data_size));
        }
        return zlib_glz_error(Errc::Truncated, in_offset(), "zlib stream is cut short");
    } else {
        return zlib_failure(ret);
    }
    inflated_size_ = h.glz_data_size;
    return {};
}

Result<ImageInfo> ZlibGlzDecoder::probe(ByteView payload) {
    if (auto r = inflate(payload, true); !r) {
        return r.error();
    }
    auto info = glz_.probe(inflated());
    if (!info) {
        return inner_error(info.error());
    }
    return info;
}

Result<void> ZlibGlzDecoder::decode(ByteView payload, const PixelView& out) {
    if (auto r = inflate(payload, false); !r) {
        return r;
    }
    if (auto r = glz_.decode(inflated(), out); !r) {
        return inner_error(r.error());
    }
    return {};
}

Result<GlzHeader> ZlibGlzDecoder::decode(ByteView payload) {
    if (auto r = inflate(payload, false); !r) {
        return r.error();
    }
    auto h = glz_.decode(inflated());
    if (!h) {
        return inner_error(h.error());
    }
    return h;
}

}  // namespace spicetap::codec
