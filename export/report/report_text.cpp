#include "export/report/report_text.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <vector>

#include "export/report/session_report.h"

namespace spicetap::report {

std::string format_bytes(uint64_t bytes) {
    if (bytes >= 1'000'000'000) {
        return fmt::format("{:.2f} GB", double(bytes) / 1e9);
    }
    if (bytes >= 1'000'000) {
        return fmt::format("{:.2f} MB", double(bytes) / 1e6);
    }
    if (bytes >= 1'000) {
        return fmt::format("{:.1f} kB", double(bytes) / 1e3);
    }
    return fmt::format("{} B", bytes);
}

std::string format_rate(double bps) {
    if (bps >= 1e6) {
        return fmt::format("{:.1f} Mbit/s", bps / 1e6);
    }
    if (bps >= 1e3) {
        return fmt::format("{:.0f} kbit/s", bps / 1e3);
    }
    return fmt::format("{:.0f} bit/s", bps);
}

namespace {

const char* count_word(size_t n) {
    static const char* kWords[] = {"no",   "one", "two",   "three", "four",
                                   "five", "six", "seven", "eight", "nine"};
    return n < 10 ? kWords[n] : nullptr;
}

std::string counted(size_t n, std::string_view what) {
    const char* word = count_word(n);
    return fmt::format("{} {}{}", word ? std::string(word) : fmt::format("{}", n), what,
                       n == 1 ? "" : "s");
}

// What most of a channel type's bytes were: images of a codec, or a message type.
std::string mostly(const Report& r, const std::string& channel) {
    std::map<std::string, uint64_t> by_name;
    for (const auto& c : r.scan.connections) {
        if (c.channel.rfind(channel + "#", 0) != 0) {
            continue;
        }
        for (const auto& d : c.dir) {
            for (const auto& [type, tt] : d.by_type) {
                by_name[tt.name] += tt.bytes;
            }
        }
    }
    if (by_name.empty()) {
        return {};
    }
    const auto top =
        std::max_element(by_name.begin(), by_name.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    uint64_t total = 0;
    for (const auto& [n, b] : by_name) {
        total += b;
    }
    if (channel == "display" && !r.scan.images.empty()) {
        const auto img = std::max_element(
            r.scan.images.begin(), r.scan.images.end(),
            [](const auto& a, const auto& b) { return a.second.bytes < b.second.bytes; });
        uint64_t image_bytes = 0;
        for (const auto& [codec, im] : r.scan.images) {
            image_bytes += im.bytes;
        }
        if (image_bytes * 2 > total && img->second.bytes > 0) {
            std::string s =
                fmt::format("mostly {} images ({}", img->first, format_bytes(img->second.bytes));
            if (img->second.decoded_bytes > 0) {
                s += fmt::format(", {:.1f}:1 against raw pixels",
                                 double(img->second.decoded_bytes) / double(img->second.bytes));
            }
            return s + ")";
        }
    }
    return fmt::format("mostly {} ({:.0f} %)", top->first,
                       total ? 100.0 * double(top->second) / double(total) : 0.0);
}

}  // namespace

std::string summary_paragraph(const Report& r) {
    std::vector<std::string> parts;
    const double secs = std::max(r.duration_s, 1e-6);
    parts.push_back(fmt::format("In {:.1f} s the session moved {} in {} messages ({} on average)",
                                r.duration_s, format_bytes(r.total_bytes), r.total_messages,
                                format_rate(double(r.total_bytes) * 8 / secs)));
    if (!r.channels.empty()) {
        const ChannelShare& top = r.channels.front();
        std::string s = fmt::format("{} used {:.0f} % of the bytes", top.channel, top.share * 100);
        const std::string m = mostly(r, top.channel);
        if (!m.empty()) {
            s += ", " + m;
        }
        if (r.channels.size() > 1) {
            s += fmt::format(", then {} ({:.0f} %)", r.channels[1].channel,
                             r.channels[1].share * 100);
        }
        parts.push_back(s);
    }
    if (!r.scan.streams.empty()) {
        std::map<std::string, size_t> codecs;
        for (const auto& s : r.scan.streams) {
            ++codecs[s.codec];
        }
        if (r.scan.streams.size() == 1) {
            const auto& s = r.scan.streams.front();
            const auto& f = r.stream_figures.front();
            parts.push_back(fmt::format("one {} stream at {}, {:.1f} frames/s, {}x{}", s.codec,
                                        format_rate(f.mbit_per_s * 1e6), f.fps, s.width, s.height));
        } else {
            // The busiest stream speaks for the rest.
            size_t best = 0;
            for (size_t i = 1; i < r.scan.streams.size(); ++i) {
                if (r.scan.streams[i].bytes > r.scan.streams[best].bytes) {
                    best = i;
                }
            }
            std::string names;
            for (const auto& [c, n] : codecs) {
                names += fmt::format("{}{} {}", names.empty() ? "" : ", ", n, c);
            }
            const auto& s = r.scan.streams[best];
            parts.push_back(fmt::format(
                "{} ({}); the busiest, {} {}x{}, at {}, {:.1f} frames/s",
                counted(r.scan.streams.size(), "video stream"), names, s.codec, s.width, s.height,
                format_rate(r.stream_figures[best].mbit_per_s * 1e6), r.stream_figures[best].fps));
        }
    } else {
        parts.push_back("no video streams");
    }
    for (const auto& a : r.scan.audio) {
        if (a.packets == 0) {
            continue;
        }
        parts.push_back(fmt::format("audio {} ({}{}) at {}", a.channel,
                                    a.mode.empty() ? "?" : a.mode,
                                    a.frequency ? fmt::format(", {} Hz", a.frequency) : "",
                                    format_rate(audio_kbit_per_s(a) * 1e3)));
    }
    if (r.rtt.count > 0) {
        parts.push_back(
            fmt::format("ping round trips {:.2f} ms median ({} pings, {:.2f}..{:.2f} ms)",
                        r.rtt.median_ms, r.rtt.count, r.rtt.min_ms, r.rtt.max_ms));
    }
    if (r.ack_stalls > 0) {
        parts.push_back(fmt::format("the server waited {:.1f} ms for client ACKs in {}",
                                    r.ack_wait_ms, counted(r.ack_stalls, "stall")));
    } else {
        parts.push_back("the server never waited for client ACKs");
    }
    uint64_t gap_bytes = 0;
    size_t gaps = 0;
    for (const auto& e : r.scan.events) {
        gaps += e.kind == "capture_gap";
    }
    for (const auto& c : r.scan.connections) {
        gap_bytes += c.dir[0].gap_bytes + c.dir[1].gap_bytes;
    }
    if (gaps > 0) {
        parts.push_back(
            fmt::format("{} ({} missing)", counted(gaps, "capture gap"), format_bytes(gap_bytes)));
    }
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        out += i == 0 ? "" : i == 1 ? ": " : "; ";
        out += parts[i];
    }
    return out + ".";
}

}  // namespace spicetap::report
