// The report as one offline HTML page: tables and inline SVG charts, no script, nothing loaded
// from anywhere. compare_html puts two sessions side by side.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "export/html/html_escape.h"
#include "export/report/report_text.h"
#include "export/report/session_report.h"
#include "export/summary/session_summary.h"

namespace spicetap::report {

namespace {

constexpr std::string_view kStyle = R"CSS(
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{padding:12px 20px;background:#263238;color:#eee}
header h1{font-size:18px;margin:0 0 4px}
header .sub{color:#b0bec5;font-size:13px}
main{padding:8px 20px 24px;max-width:1300px}
h2{font-size:15px;margin:22px 0 6px;border-bottom:1px solid #ddd;padding-bottom:2px}
p.summary{font-size:15px;background:#fff;border-left:4px solid #1976d2;padding:8px 12px;margin:12px 0}
table{border-collapse:collapse;background:#fff;margin:4px 0}
td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}
th{background:#eceff1}
svg{background:#fff;border:1px solid #ddd;display:block;margin:4px 0}
svg text{font:11px system-ui,sans-serif;fill:#37474f}
.grid{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
)CSS";

const std::map<std::string, std::string>& channel_colors() {
    static const std::map<std::string, std::string> k = {
        {"main", "#8e24aa"},   {"display", "#1976d2"},   {"inputs", "#43a047"},
        {"cursor", "#fb8c00"}, {"playback", "#e53935"},  {"record", "#6d4c41"},
        {"tunnel", "#546e7a"}, {"smartcard", "#00897b"}, {"usbredir", "#5e35b1"},
        {"port", "#c0ca33"},   {"webdav", "#00acc1"}};
    return k;
}

std::string color_for(const std::string& channel) {
    const auto& k = channel_colors();
    const auto it = k.find(channel);
    return it == k.end() ? "#78909c" : it->second;
}

// A "nice" axis step for a range.
double nice_step(double range, int ticks) {
    if (range <= 0) {
        return 1;
    }
    const double raw = range / ticks;
    const double pow10 = std::pow(10.0, std::floor(std::log10(raw)));
    for (double f : {1.0, 2.0, 5.0, 10.0}) {
        if (f * pow10 >= raw) {
            return f * pow10;
        }
    }
    return 10 * pow10;
}

std::string num(double v) {
    if (v == 0) {
        return "0";
    }
    if (std::fabs(v) >= 100) {
        return fmt::format("{:.0f}", v);
    }
    if (std::fabs(v) >= 1) {
        return fmt::format("{:.3g}", v);
    }
    return fmt::format("{:.2g}", v);
}

struct Bar {
    std::string label;
    double value = 0;
    std::string text;  // shown after the bar
    std::string color;
};

std::string svg_bars(const std::vector<Bar>& bars, int width = 620) {
    const int row = 22, left = 150, right = 150;
    const int height = int(bars.size()) * row + 10;
    double peak = 0;
    for (const auto& b : bars) {
        peak = std::max(peak, b.value);
    }
    std::string s = fmt::format(
        "<svg class=\"chart\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
        width, height, width, height);
    for (size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const int y = 5 + int(i) * row;
        const double w = peak > 0 ? (width - left - right) * b.value / peak : 0;
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", left - 6, y + 15,
                         html::escape(b.label));
        s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>",
                         left, y + 3, std::max(w, 1.0), row - 6, b.color);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>", left + w + 6, y + 15,
                         html::escape(b.text));
    }
    return s + "</svg>";
}

struct Series {
    std::string label;
    std::string color;
    std::vector<std::pair<double, double>> points;  // x, y
};

// Line (or, when `stacked`, stacked area over shared integer x) chart with axes and a legend.
std::string svg_chart(const std::vector<Series>& series, bool stacked, const std::string& x_unit,
                      const std::string& y_unit, bool dots = false, int width = 900,
                      int height = 260) {
    const int left = 56, right = 12, top = 26, bottom = 40;
    const int pw = width - left - right, ph = height - top - bottom;
    double x_max = 1, y_max = 0, x_min = 0;
    std::vector<std::vector<double>> cumulative;
    if (stacked) {
        size_t n = 0;
        for (const auto& s : series) {
            n = std::max(n, s.points.size());
        }
        std::vector<double> acc(n, 0);
        for (const auto& s : series) {
            for (size_t i = 0; i < s.points.size(); ++i) {
                acc[i] += s.points[i].second;
            }
            cumulative.push_back(acc);
        }
        x_max = std::max<double>(1, double(n));
        for (double v : acc) {
            y_max = std::max(y_max, v);
        }
    } else {
        bool first = true;
        for (const auto& s : series) {
            for (const auto& [x, y] : s.points) {
                x_min = first ? x : std::min(x_min, x);
                x_max = first ? x : std::max(x_max, x);
                first = false;
                y_max = std::max(y_max, y);
            }
        }
        x_min = std::min(x_min, 0.0);
        if (x_max <= x_min) {
            x_max = x_min + 1;
        }
    }
    if (y_max <= 0) {
        y_max = 1;
    }
    const double y_step = nice_step(y_max, 5);
    y_max = std::ceil(y_max / y_step) * y_step;
    auto X = [&](double x) { return left + (x - x_min) / (x_max - x_min) * pw; };
    auto Y = [&](double y) { return top + ph - y / y_max * ph; };
    std::string s = fmt::format(
        "<svg class=\"chart\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
        width, height, width, height);
    for (double y = 0; y <= y_max + 1e-9; y += y_step) {
        s += fmt::format(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eceff1\"/>", left,
            left + pw, Y(y), Y(y));
        s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", left - 4,
                         Y(y) + 4, num(y));
    }
    const double x_step = nice_step(x_max - x_min, 10);
    for (double x = std::ceil(x_min / x_step) * x_step; x <= x_max + 1e-9; x += x_step) {
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", X(x),
                         top + ph + 14, num(x));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", left + pw / 2 - 20, top + ph + 28,
                     html::escape(x_unit));
    s += fmt::format("<text x=\"4\" y=\"15\">{}</text>", html::escape(y_unit));
    if (stacked) {
        for (size_t k = series.size(); k-- > 0;) {
            const auto& acc = cumulative[k];
            std::string pts;
            for (size_t i = 0; i < acc.size(); ++i) {
                pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", X(double(i)), Y(acc[i]),
                                   X(double(i + 1)), Y(acc[i]));
            }
            for (size_t i = acc.size(); i-- > 0;) {
                const double below = k > 0 ? cumulative[k - 1][i] : 0;
                pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", X(double(i + 1)), Y(below),
                                   X(double(i)), Y(below));
            }
            s += fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.85\"/>", pts,
                             series[k].color);
        }
    } else {
        for (const auto& sr : series) {
            std::string pts;
            for (const auto& [x, y] : sr.points) {
                pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
                if (dots) {
                    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>",
                                     X(x), Y(y), sr.color);
                }
            }
            if (!dots) {
                s += fmt::format(
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" "
                    "stroke-width=\"1.5\"/>",
                    pts, sr.color);
            }
        }
    }
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#90a4ae\"/>", left,
                     left + pw, top + ph, top + ph);
    // Legend along the top right.
    int lx = left + 8;
    for (const auto& sr : series) {
        s += fmt::format("<rect x=\"{}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/>", lx,
                         sr.color);
        s += fmt::format("<text x=\"{}\" y=\"15\">{}</text>", lx + 13, html::escape(sr.label));
        lx += 20 + int(sr.label.size()) * 7;
    }
    return s + "</svg>";
}

// Per-second bandwidth of each channel type, both directions, in Mbit/s.
std::vector<Series> per_second_by_channel(const Report& r) {
    std::map<std::string, std::vector<double>> by;
    size_t n = 0;
    for (const auto& c : r.scan.connections) {
        const std::string type = c.channel.substr(0, c.channel.find('#'));
        auto& v = by[type];
        for (const auto& d : c.dir) {
            if (v.size() < d.bytes_per_second.size()) {
                v.resize(d.bytes_per_second.size(), 0);
            }
            for (size_t i = 0; i < d.bytes_per_second.size(); ++i) {
                v[i] += double(d.bytes_per_second[i]) * 8 / 1e6;
            }
            n = std::max(n, v.size());
        }
    }
    std::vector<Series> out;
    for (const auto& share : r.channels) {  // largest first: it sits at the bottom
        Series s{share.channel, color_for(share.channel), {}};
        const auto& v = by[share.channel];
        for (size_t i = 0; i < n; ++i) {
            s.points.push_back({double(i), i < v.size() ? v[i] : 0.0});
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<double> per_second_total(const Report& r) {
    std::vector<double> v;
    for (const auto& c : r.scan.connections) {
        for (const auto& d : c.dir) {
            if (v.size() < d.bytes_per_second.size()) {
                v.resize(d.bytes_per_second.size(), 0);
            }
            for (size_t i = 0; i < d.bytes_per_second.size(); ++i) {
                v[i] += double(d.bytes_per_second[i]) * 8 / 1e6;
            }
        }
    }
    return v;
}

std::string header(const std::string& title, const std::string& sub) {
    std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    s += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:\">\n";
    s += fmt::format("<title>{}</title>\n<style>{}</style></head><body>\n", html::escape(title),
                     kStyle);
    s += fmt::format("<header><h1>{}</h1><div class=\"sub\">{}</div></header>\n<main>\n",
                     html::escape(title), html::escape(sub));
    return s;
}

std::string session_line(const Report& r) {
    return fmt::format("{} · session 0x{:08x} · {} · {:.3f} s · server {} · client {}", r.source,
                       r.scan.session.session_id, summary::format_utc(r.scan.session.start_us),
                       r.duration_s, r.scan.session.server, r.scan.session.client);
}

std::string connections_table(const Report& r) {
    std::string s =
        "<table><tr><th>channel</th><th>conn</th><th>c2s bytes</th><th>c2s msgs</th>"
        "<th>s2c bytes</th><th>s2c msgs</th><th>share</th><th>ended</th></tr>";
    for (const auto& c : r.scan.connections) {
        const uint64_t b = c.dir[0].tcp_bytes + c.dir[1].tcp_bytes;
        s += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f} "
            "%</td><td class=\"l\">{}</td></tr>",
            html::escape(c.channel), c.info.id, c.dir[0].tcp_bytes, c.dir[0].messages,
            c.dir[1].tcp_bytes, c.dir[1].messages,
            r.total_bytes ? 100.0 * double(b) / double(r.total_bytes) : 0.0,
            html::escape(c.info.end_reason));
    }
    return s + "</table>";
}

std::vector<Bar> channel_bars(const Report& r) {
    std::vector<Bar> bars;
    for (const auto& c : r.channels) {
        bars.push_back({c.channel, double(c.bytes),
                        fmt::format("{} ({:.1f} %)", format_bytes(c.bytes), c.share * 100),
                        color_for(c.channel)});
    }
    return bars;
}

std::string images_section(const Report& r) {
    if (r.scan.images.empty()) {
        return "<p>No images in display draws.</p>";
    }
    std::string s =
        "<table><tr><th>codec</th><th>images</th><th>bytes</th><th>raw pixel "
        "bytes</th><th>ratio</th></tr>";
    std::vector<Bar> bars;
    for (const auto& [codec, im] : r.scan.images) {
        const double ratio = im.bytes ? double(im.decoded_bytes) / double(im.bytes) : 0;
        s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                         html::escape(codec), im.images, im.bytes, im.decoded_bytes,
                         ratio > 0 ? fmt::format("{:.1f}:1", ratio) : std::string("–"));
        bars.push_back({codec, double(im.bytes), format_bytes(im.bytes), "#1976d2"});
    }
    s += "</table>";
    return s + svg_bars(bars);
}

std::string types_table(const Report& r) {
    struct Row {
        std::string channel, dir, name;
        uint64_t messages, bytes;
    };

    std::vector<Row> rows;
    for (const auto& c : r.scan.connections) {
        for (int d = 0; d < 2; ++d) {
            for (const auto& [type, tt] : c.dir[d].by_type) {
                rows.push_back({c.channel, d == 0 ? "c2s" : "s2c", tt.name, tt.messages, tt.bytes});
            }
        }
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return a.bytes > b.bytes; });
    std::string s =
        "<table><tr><th>channel</th><th>dir</th><th>message</th><th>count</th>"
        "<th>bytes</th><th>share</th></tr>";
    for (const auto& row : rows) {
        s += fmt::format(
            "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td>"
            "<td>{}</td><td>{:.1f} %</td></tr>",
            html::escape(row.channel), row.dir, html::escape(row.name), row.messages, row.bytes,
            r.total_bytes ? 100.0 * double(row.bytes) / double(r.total_bytes) : 0.0);
    }
    return s + "</table>";
}

std::string streams_and_audio(const Report& r) {
    std::string s;
    if (r.scan.streams.empty()) {
        s += "<p>No video streams.</p>";
    } else {
        s += "<table><tr><th>display</th><th>stream</th><th>codec</th><th>size</th><th>start "
             "s</th><th>end "
             "s</th><th>frames</th><th>bytes</th><th>frames/s</th><th>bitrate</th></tr>";
        for (size_t i = 0; i < r.scan.streams.size(); ++i) {
            const auto& st = r.scan.streams[i];
            const auto& f = r.stream_figures[i];
            s += fmt::format(
                "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}x{}</td><td>{:.3f}</td>"
                "<td>{:.3f}</td><td>{}</td><td>{}</td><td>{:.1f}</td><td>{}</td></tr>",
                st.channel_id, st.id, html::escape(st.codec), st.width, st.height,
                double(st.start_us - r.scan.session.start_us) / 1e6,
                double(st.end_us - r.scan.session.start_us) / 1e6, st.frames, st.bytes, f.fps,
                format_rate(f.mbit_per_s * 1e6));
        }
        s += "</table>";
    }
    s += "<h2>Audio</h2>";
    if (r.scan.audio.empty()) {
        s += "<p>No audio channels.</p>";
    } else {
        s += "<table><tr><th>channel</th><th>mode</th><th>channels</th><th>Hz</th><th>packets</th>"
             "<th>bytes</th><th>bitrate</th></tr>";
        for (const auto& a : r.scan.audio) {
            s += fmt::format(
                "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td></tr>",
                html::escape(a.channel), html::escape(a.mode), a.channels, a.frequency, a.packets,
                a.bytes, format_rate(audio_kbit_per_s(a) * 1e3));
        }
        s += "</table>";
    }
    return s;
}

std::string latency_section(const Report& r) {
    std::string s;
    if (r.rtt.count == 0) {
        s += "<p>No ping round trips.</p>";
    } else {
        s += fmt::format(
            "<p>{} round trips: min {:.3f} ms, median {:.3f} ms, mean {:.3f} ms, max "
            "{:.3f} ms (capture times of PING and its PONG).</p>",
            r.rtt.count, r.rtt.min_ms, r.rtt.median_ms, r.rtt.mean_ms, r.rtt.max_ms);
        std::map<std::string, Series> by;
        for (const auto& p : r.scan.pings) {
            const auto* c = r.scan.connection(p.connection);
            const std::string type = c ? c->channel.substr(0, c->channel.find('#')) : "unknown";
            auto& sr = by[type];
            sr.label = type;
            sr.color = color_for(type);
            sr.points.push_back({double(p.ping_us - r.scan.session.start_us) / 1e6,
                                 double(p.pong_us - p.ping_us) / 1000.0});
        }
        std::vector<Series> series;
        for (auto& [k, v] : by) {
            series.push_back(std::move(v));
        }
        s += svg_chart(series, false, "seconds from start", "RTT ms", true, 900, 200);
    }
    s += "<h2>Waiting on ACKs</h2>";
    size_t full = r.scan.stalls.size();
    s += fmt::format(
        "<p>The server sent more than twice its ACK window without enough client ACKs "
        "{} time(s); it waited for the releasing ACK {} time(s), {:.3f} ms in all.</p>",
        full, r.ack_stalls, r.ack_wait_ms);
    if (r.ack_stalls > 0) {
        s += "<table><tr><th>channel</th><th>from s</th><th>to "
             "s</th><th>ms</th><th>window</th></tr>";
        for (const auto& st : r.scan.stalls) {
            if (!st.server_waited) {
                continue;
            }
            const auto* c = r.scan.connection(st.connection);
            s += fmt::format(
                "<tr><td>{}</td><td>{:.6f}</td><td>{:.6f}</td><td>{:.3f}</td><td>{}</td></tr>",
                c ? html::escape(c->channel) : "",
                double(st.from_us - r.scan.session.start_us) / 1e6,
                double(st.to_us - r.scan.session.start_us) / 1e6,
                double(st.to_us - st.from_us) / 1000.0, st.window);
        }
        s += "</table>";
    }
    return s;
}

std::string largest_table(const Report& r) {
    std::string s =
        "<table><tr><th>time s</th><th>channel</th><th>dir</th><th>message</th>"
        "<th>bytes</th></tr>";
    for (const auto& m : r.scan.largest) {
        const auto* c = r.scan.connection(m.connection);
        s += fmt::format(
            "<tr><td>{:.6f}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td "
            "class=\"l\">{}</td><td>{}</td></tr>",
            double(m.ts_us - r.scan.session.start_us) / 1e6, c ? html::escape(c->channel) : "",
            wire::direction_name(m.dir), html::escape(m.name), m.bytes);
    }
    return s + "</table>";
}

}  // namespace

std::string report_html(const Report& r) {
    std::string s =
        header(fmt::format("SPICE session 0x{:08x} bandwidth report", r.scan.session.session_id),
               session_line(r));
    s += fmt::format("<p class=\"summary\" id=\"summary\">{}</p>\n", html::escape(r.summary));
    s += "<h2>Bandwidth per second by channel</h2>\n";
    s += svg_chart(per_second_by_channel(r), true, "seconds from start", "Mbit/s");
    s += "<h2>Bytes by channel</h2>\n<div class=\"grid\">" + svg_bars(channel_bars(r)) +
         connections_table(r) + "</div>\n";
    s += "<h2>Images by codec</h2>\n" + images_section(r);
    s += "\n<h2>Video streams</h2>\n" + streams_and_audio(r);
    s += "\n<h2>Ping round trips</h2>\n" + latency_section(r);
    s += "\n<h2>Largest messages</h2>\n" + largest_table(r);
    s += "\n<h2>Messages by type</h2>\n" + types_table(r);
    s += "\n</main></body></html>\n";
    return s;
}

std::string compare_html(const Report& a, const Report& b) {
    std::string s =
        header("SPICE bandwidth comparison", "A: " + session_line(a) + " — B: " + session_line(b));
    s += fmt::format("<p class=\"summary\" id=\"summary\"><b>A</b> ({}): {}</p>\n",
                     html::escape(a.source), html::escape(a.summary));
    s += fmt::format("<p class=\"summary\"><b>B</b> ({}): {}</p>\n", html::escape(b.source),
                     html::escape(b.summary));
    s += "<h2>Total bandwidth per second</h2>\n";
    std::vector<Series> totals;

    struct Side {
        const Report* report;
        const char* label;
        const char* color;
    };

    for (const Side& side : {Side{&a, "A", "#1976d2"}, Side{&b, "B", "#e53935"}}) {
        Series sr{std::string(side.label) + " " + side.report->source, side.color, {}};
        const auto v = per_second_total(*side.report);
        for (size_t i = 0; i < v.size(); ++i) {
            sr.points.push_back({double(i) + 0.5, v[i]});
        }
        totals.push_back(std::move(sr));
    }
    s += svg_chart(totals, false, "seconds from each session's start", "Mbit/s");
    // Figures side by side.
    auto row = [&](const std::string& what, const std::string& va, const std::string& vb, double na,
                   double nb) {
        std::string change = "–";
        if (na > 0) {
            change = fmt::format("{:+.1f} %", 100.0 * (nb - na) / na);
        }
        return fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                           html::escape(what), html::escape(va), html::escape(vb), change);
    };
    s += "<h2>Figures</h2>\n<table><tr><th>figure</th><th>A</th><th>B</th><th>B vs A</th></tr>";
    s += row("duration", fmt::format("{:.3f} s", a.duration_s),
             fmt::format("{:.3f} s", b.duration_s), a.duration_s, b.duration_s);
    s += row("bytes", format_bytes(a.total_bytes), format_bytes(b.total_bytes),
             double(a.total_bytes), double(b.total_bytes));
    s += row("messages", fmt::format("{}", a.total_messages), fmt::format("{}", b.total_messages),
             double(a.total_messages), double(b.total_messages));
    const double ra = a.duration_s > 0 ? double(a.total_bytes) * 8 / a.duration_s : 0;
    const double rb = b.duration_s > 0 ? double(b.total_bytes) * 8 / b.duration_s : 0;
    s += row("average rate", format_rate(ra), format_rate(rb), ra, rb);
    std::map<std::string, std::pair<uint64_t, uint64_t>> ch;
    for (const auto& c : a.channels) {
        ch[c.channel].first = c.bytes;
    }
    for (const auto& c : b.channels) {
        ch[c.channel].second = c.bytes;
    }
    for (const auto& [name, v] : ch) {
        s += row(name + " bytes", format_bytes(v.first), format_bytes(v.second), double(v.first),
                 double(v.second));
    }
    std::map<std::string, std::pair<uint64_t, uint64_t>> im;
    for (const auto& [codec, t] : a.scan.images) {
        im[codec].first = t.bytes;
    }
    for (const auto& [codec, t] : b.scan.images) {
        im[codec].second = t.bytes;
    }
    for (const auto& [codec, v] : im) {
        s += row(codec + " image bytes", format_bytes(v.first), format_bytes(v.second),
                 double(v.first), double(v.second));
    }
    s += row("video streams", fmt::format("{}", a.scan.streams.size()),
             fmt::format("{}", b.scan.streams.size()), double(a.scan.streams.size()),
             double(b.scan.streams.size()));
    s += row("median ping RTT", fmt::format("{:.3f} ms", a.rtt.median_ms),
             fmt::format("{:.3f} ms", b.rtt.median_ms), a.rtt.median_ms, b.rtt.median_ms);
    s += row("waiting on ACKs", fmt::format("{:.1f} ms", a.ack_wait_ms),
             fmt::format("{:.1f} ms", b.ack_wait_ms), a.ack_wait_ms, b.ack_wait_ms);
    s += "</table>\n";
    s += "<h2>Bytes by channel</h2>\n<div class=\"cols\"><div><b>A</b>" +
         svg_bars(channel_bars(a)) + "</div><div><b>B</b>" + svg_bars(channel_bars(b)) +
         "</div></div>\n";
    s += "<h2>Images by codec</h2>\n<div class=\"cols\"><div><b>A</b>" + images_section(a) +
         "</div><div><b>B</b>" + images_section(b) + "</div></div>\n";
    s += "\n</main></body></html>\n";
    return s;
}

}  // namespace spicetap::report
