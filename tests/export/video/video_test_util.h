// Helpers for the video export tests: synthetic pictures and tones, ffprobe's JSON, decoding
// frames and audio back with the ffmpeg tool, PSNR and tone detection.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "decode/codec/image_cache.h"
#include "tests/support/process.h"

namespace spicetap::test {

// A smooth picture with a moving component (phase `k`): smooth content keeps lossy codecs far
// above 35 dB, so a wrong picture at a time (off by a few states) shows as a large PSNR drop.
inline codec::DecodedImage gradient_picture(uint32_t w, uint32_t h, int k) {
    auto img = codec::DecodedImage::allocate(w, h, codec::PixelFormat::Xrgb32);
    for (uint32_t y = 0; y < h; ++y) {
        uint8_t* p = img.pixels.data() + size_t{y} * img.stride;
        for (uint32_t x = 0; x < w; ++x, p += 4) {
            const double fx = static_cast<double>(x) / w;
            const double fy = static_cast<double>(y) / h;
            p[0] = static_cast<uint8_t>(40 + 170 * fx);
            p[1] = static_cast<uint8_t>(40 + 170 * fy);
            p[2] = static_cast<uint8_t>(128 + 90 * std::sin(6.0 * (fx + fy) + 0.3 * k));
            p[3] = 0xff;
        }
    }
    return img;
}

// `frames` frames of a sine at `freq`, interleaved S16, starting at sample `offset` (so
// consecutive packets join without a phase jump).
inline std::vector<int16_t> tone(double freq, int rate, int channels, size_t frames,
                                 size_t offset) {
    std::vector<int16_t> out(frames * size_t(channels));
    for (size_t i = 0; i < frames; ++i) {
        const double v = 12000 * std::sin(2 * M_PI * freq * double(i + offset) / rate);
        for (int c = 0; c < channels; ++c) {
            out[i * size_t(channels) + size_t(c)] = static_cast<int16_t>(std::lround(v));
        }
    }
    return out;
}

// Just enough JSON for ffprobe's output.
struct Json {
    enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
    double number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    const Json& operator[](const std::string& key) const {
        static const Json null;
        auto it = fields.find(key);
        return it == fields.end() ? null : it->second;
    }

    bool has(const std::string& key) const { return fields.count(key) != 0; }

    // ffprobe writes most numbers as strings.
    double num() const { return type == Type::String ? std::atof(text.c_str()) : number; }

    std::string str() const { return text; }

    static Json parse(const std::string& s) {
        size_t pos = 0;
        return parse_value(s, pos);
    }

private:
    static void skip(const std::string& s, size_t& p) {
        while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) {
            ++p;
        }
    }

    static std::string parse_string(const std::string& s, size_t& p) {
        std::string out;
        ++p;  // opening quote
        while (p < s.size() && s[p] != '"') {
            if (s[p] == '\\' && p + 1 < s.size()) {
                ++p;
                const char e = s[p];
                out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                if (e == 'u') {
                    p += 4;
                }
            } else {
                out.push_back(s[p]);
            }
            ++p;
        }
        ++p;
        return out;
    }

    static Json parse_value(const std::string& s, size_t& p) {
        skip(s, p);
        Json v;
        if (p >= s.size()) {
            return v;
        }
        if (s[p] == '{') {
            v.type = Type::Object;
            ++p;
            for (;;) {
                skip(s, p);
                if (p >= s.size() || s[p] == '}') {
                    ++p;
                    break;
                }
                if (s[p] == ',') {
                    ++p;
                    continue;
                }
                std::string key = parse_string(s, p);
                skip(s, p);
                ++p;  // ':'
                v.fields[key] = parse_value(s, p);
            }
        } else if (s[p] == '[') {
            v.type = Type::Array;
            ++p;
            for (;;) {
                skip(s, p);
                if (p >= s.size() || s[p] == ']') {
                    ++p;
                    break;
                }
                if (s[p] == ',') {
                    ++p;
                    continue;
                }
                v.items.push_back(parse_value(s, p));
            }
        } else if (s[p] == '"') {
            v.type = Type::String;
            v.text = parse_string(s, p);
        } else if (s.compare(p, 4, "true") == 0 || s.compare(p, 5, "false") == 0) {
            v.type = Type::Bool;
            v.number = s[p] == 't' ? 1 : 0;
            p += s[p] == 't' ? 4 : 5;
        } else if (s.compare(p, 4, "null") == 0) {
            p += 4;
        } else {
            v.type = Type::Number;
            char* end = nullptr;
            v.number = std::strtod(s.c_str() + p, &end);
            p = static_cast<size_t>(end - s.c_str());
        }
        return v;
    }
};

inline Json ffprobe(const std::string& path, const std::string& extra = "") {
    const auto r = run_command("ffprobe -v error " + extra +
                               " -show_streams -show_format -of json " + shell_quote(path));
    return Json::parse(r.out);
}

// The streams of one kind ("video", "audio").
inline std::vector<Json> streams_of(const Json& probe, const std::string& kind) {
    std::vector<Json> out;
    for (const Json& s : probe["streams"].items) {
        if (s["codec_type"].str() == kind) {
            out.push_back(s);
        }
    }
    return out;
}

// The picture on screen at `t` seconds (the last frame starting at or before t), as BGRA bytes
// of the stream's size (empty on failure). `-ss` before `-i` would give the first frame starting
// at or after t instead, which is wrong for variable frame rate; so decode from the start onto a
// 100 fps grid (the last frame cloned past the end, for times inside its duration) and pick t.
// YUV goes back to RGB with the matrix VideoWriter encodes with and tags (BT.709, limited range)
// named explicitly, not left to the tags, so a file tagged wrongly cannot pass by accident
// (VP8 files: "bt601", the matrix its bitstream defines).
inline std::vector<uint8_t> decode_frame(const std::string& path, double t, uint32_t w, uint32_t h,
                                         const char* matrix = "bt709") {
    char ts[32];
    std::snprintf(ts, sizeof ts, "%.3f", t);
    auto r = run_command("ffmpeg -v error -i " + shell_quote(path) +
                         " -vf tpad=stop_mode=clone:stop_duration=2,fps=100,"
                         "scale=in_color_matrix=" +
                         matrix + ":in_range=tv,format=bgra -ss " + ts +
                         " -frames:v 1 -f rawvideo -pix_fmt bgra -");
    if (r.exit_code != 0 || r.out.size() != size_t{w} * h * 4) {
        return {};
    }
    return {r.out.begin(), r.out.end()};
}

// The whole audio track as mono 48 kHz samples.
inline std::vector<int16_t> decode_audio(const std::string& path) {
    auto r =
        run_command("ffmpeg -v error -i " + shell_quote(path) + " -vn -ac 1 -ar 48000 -f s16le -");
    std::vector<int16_t> out(r.out.size() / 2);
    std::memcpy(out.data(), r.out.data(), out.size() * 2);
    return out;
}

// PSNR of the RGB channels of `decoded` (BGRA, `stride_px` pixels a row) in the rectangle
// (x, y, w, h) against `ref` (same size as the rectangle).
inline double psnr(const std::vector<uint8_t>& decoded, uint32_t stride_px, uint32_t x0,
                   uint32_t y0, const codec::DecodedImage& ref) {
    if (decoded.empty()) {
        return 0;
    }
    double sq = 0;
    for (uint32_t y = 0; y < ref.height; ++y) {
        for (uint32_t x = 0; x < ref.width; ++x) {
            const uint8_t* a = &decoded[(size_t{y0 + y} * stride_px + x0 + x) * 4];
            const uint8_t* b = ref.row(y) + size_t{x} * 4;
            for (int c = 0; c < 3; ++c) {
                const double d = double(a[c]) - double(b[c]);
                sq += d * d;
            }
        }
    }
    const double mse = sq / (3.0 * ref.width * ref.height);
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

inline double psnr(const std::vector<uint8_t>& decoded, const codec::DecodedImage& ref) {
    return psnr(decoded, ref.width, 0, 0, ref);
}

// Power of `freq` in samples [from, from + n) (Goertzel), normalised so a full-scale sine is ~1.
inline double tone_power(const std::vector<int16_t>& s, size_t from, size_t n, double freq,
                         int rate) {
    const double w = 2 * M_PI * freq / rate;
    const double coeff = 2 * std::cos(w);
    double s1 = 0, s2 = 0;
    for (size_t i = from; i < from + n && i < s.size(); ++i) {
        const double v = s[i] / 32768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = v;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 4 * power / (double(n) * double(n));
}

// Frequency by counting rising zero crossings in [from, from + n).
inline double zero_crossing_freq(const std::vector<int16_t>& s, size_t from, size_t n, int rate) {
    int crossings = 0;
    for (size_t i = from + 1; i < from + n && i < s.size(); ++i) {
        if (s[i - 1] < 0 && s[i] >= 0) {
            ++crossings;
        }
    }
    return crossings * double(rate) / double(n);
}

}  // namespace spicetap::test
