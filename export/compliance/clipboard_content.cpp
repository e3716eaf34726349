#include "export/compliance/clipboard_content.h"

#include <fmt/core.h>
#include <spice/vd_agent.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "decode/codec/bmp_decoder.h"
#include "export/video/png_frames.h"

namespace spicetap::compliance {

namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool is_png(ByteView d) {
    return d.size() >= 24 &&
           std::equal(std::begin(kPngSignature), std::end(kPngSignature), d.begin()) &&
           d[12] == 'I' && d[13] == 'H' && d[14] == 'D' && d[15] == 'R';
}

uint32_t be32(ByteView d, size_t at) {
    return uint32_t{d[at]} << 24 | uint32_t{d[at + 1]} << 16 | uint32_t{d[at + 2]} << 8 | d[at + 3];
}

Result<void> write_file(const std::filesystem::path& path, ByteView bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        return make_error(Errc::Io, 0, "cannot write " + path.string());
    }
    return {};
}

// "copy\0/path/a\0/path/b" -> "copy\n/path/a\n/path/b\n".
std::string file_list_lines(ByteView d) {
    std::string out;
    for (uint8_t c : d) {
        out.push_back(c == 0 ? '\n' : static_cast<char>(c));
    }
    if (!out.empty() && out.back() != '\n') {
        out.push_back('\n');
    }
    return out;
}

}  // namespace

ByteView clipboard_text(ByteView data) {
    size_t n = data.size();
    while (n > 0 && data[n - 1] == 0) {
        --n;
    }
    return data.first(n);
}

ClipboardContent describe_clipboard(uint32_t type, ByteView data) {
    ClipboardContent c;
    switch (type) {
        case VD_AGENT_CLIPBOARD_UTF8_TEXT:
            c.extension = "txt";
            break;
        case VD_AGENT_CLIPBOARD_IMAGE_PNG:
            c.extension = "png";
            if (is_png(data)) {
                c.width = be32(data, 16);
                c.height = be32(data, 20);
            }
            break;
        case VD_AGENT_CLIPBOARD_IMAGE_BMP: {
            c.extension = "png";
            if (auto info = codec::probe_bmp(data)) {
                c.width = info->image.width;
                c.height = info->image.height;
            } else {
                c.extension = "bmp";
            }
            break;
        }
        case VD_AGENT_CLIPBOARD_IMAGE_TIFF:
            c.extension = "tiff";
            break;
        case VD_AGENT_CLIPBOARD_IMAGE_JPG:
            c.extension = "jpg";
            break;
        case VD_AGENT_CLIPBOARD_FILE_LIST:
            c.extension = "txt";
            break;
        default:
            c.extension = "bin";
    }
    return c;
}

std::string text_preview(ByteView text, size_t max_chars) {
    const ByteView t = clipboard_text(text);
    std::string out = "\"";
    size_t chars = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        const uint8_t c = t[i];
        const bool continuation = (c & 0xc0) == 0x80;
        if (!continuation && chars++ == max_chars) {
            out += "...";
            break;
        }
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += fmt::format("\\x{:02x}", c);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out += "\"";
    return out;
}

Result<SavedClipboard> save_clipboard(uint32_t type, ByteView data,
                                      const std::filesystem::path& stem) {
    SavedClipboard saved;
    const ClipboardContent c = describe_clipboard(type, data);
    auto named = [&](const std::string& ext) {
        std::filesystem::path p = stem;
        p += "." + ext;
        return p;
    };
    if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
        saved.path = named("txt");
        if (auto r = write_file(saved.path, clipboard_text(data)); !r) {
            return r.error();
        }
        if (clipboard_text(data).size() != data.size()) {
            saved.note = "trailing NUL dropped";
        }
        return saved;
    }
    if (type == VD_AGENT_CLIPBOARD_FILE_LIST) {
        saved.path = named("txt");
        const std::string lines = file_list_lines(data);
        if (auto r = write_file(
                saved.path, ByteView(reinterpret_cast<const uint8_t*>(lines.data()), lines.size()));
            !r) {
            return r.error();
        }
        saved.note = "file list: the action, then one path per line";
        return saved;
    }
    if (type == VD_AGENT_CLIPBOARD_IMAGE_BMP) {
        auto info = codec::probe_bmp(data);
        if (info) {
            std::vector<uint8_t> pixels(size_t{info->image.width} * info->image.height * 4);
            const codec::PixelView view{pixels.data(), info->image.width, info->image.height,
                                        size_t{info->image.width} * 4, info->image.format};
            auto decoded = codec::decode_bmp(data, view);
            if (decoded) {
                saved.path = named("png");
                if (auto r = video::write_png(view, saved.path.string()); !r) {
                    return r.error();
                }
                saved.note =
                    fmt::format("converted from BMP ({}x{}, {} bits per pixel)", info->image.width,
                                info->image.height, info->bits_per_pixel);
                return saved;
            }
            info = decoded.error();
        }
        saved.note = "BMP kept as sent: " + info.error().message();
        saved.path = named("bmp");
        if (auto r = write_file(saved.path, data); !r) {
            return r.error();
        }
        return saved;
    }
    saved.path = named(c.extension);
    if (type == VD_AGENT_CLIPBOARD_IMAGE_PNG && !is_png(data)) {
        saved.note = "not a PNG signature; kept as sent";
    }
    if (auto r = write_file(saved.path, data); !r) {
        return r.error();
    }
    return saved;
}

}  // namespace spicetap::compliance
