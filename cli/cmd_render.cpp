// spicetap render LOG -o OUT.mp4|OUT.webm|OUT.mkv [options]
#include <fmt/core.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>

#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "cli/session_input.h"
#include "export/time_arg.h"
#include "export/video/session_render.h"

namespace spicetap::cli {

namespace {

// Exit code after Ctrl-C (128 + SIGINT, as shells report it); the files are still finished.
constexpr int kExitInterrupted = 130;

// Set by SIGINT; read by the render loop. A signal handler can reach nothing else.
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
    g_interrupted.store(true);
}

struct RenderArgs {
    std::string input;
    std::string output;
    double fps = 30;
    std::string from = "start";
    std::string to = "end";
    double speed = 1;
    std::string size;
    std::string display = "all";
    bool no_cursor = false;
    bool no_audio = false;
    int crf = -1;
    std::string preset = "medium";
    std::string codec = "auto";
    std::string chroma = "420";
    bool cfr = false;
    double max_idle = 0;
    bool fragmented = false;
    bool split_on_resize = false;
    std::string frames;
    std::string contact_sheet;
    std::string grid = "4x3";
    bool json = false;
    bool quiet = false;
};

bool parse_grid(const std::string& text, uint32_t& cols, uint32_t& rows) {
    unsigned c = 0, r = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%ux%u%c", &c, &r, &tail) != 2 || c == 0 || r == 0 || c > 100 ||
        r > 100) {
        return false;
    }
    cols = c;
    rows = r;
    return true;
}

std::string clock_text(double s) {
    const auto t = static_cast<long>(s + 0.5);
    return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                     : fmt::format("{}:{:02}", t / 60, t % 60);
}

// A bar on the terminal, or JSON lines for a program; at most a few times a second.
class ProgressPrinter {
public:
    ProgressPrinter(bool tty, bool json) : tty_(tty), json_(json) {}

    void operator()(const video::RenderProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        const bool last = p.done_us >= p.total_us;
        if (!last && now - last_print_ < std::chrono::milliseconds(json_ ? 500 : 200)) {
            return;
        }
        last_print_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double frac = p.total_us > 0 ? double(p.done_us) / double(p.total_us) : 1.0;
        const double eta = frac > 0.001 ? elapsed * (1 - frac) / frac : -1;
        if (json_) {
            fmt::print(
                "{{\"progress\":{:.4f},\"t_s\":{:.3f},\"states\":{},\"elapsed_s\":{:.2f},"
                "\"eta_s\":{}}}\n",
                frac, double(p.done_us) / 1e6, p.states, elapsed,
                eta < 0 ? "null" : fmt::format("{:.2f}", eta));
            std::fflush(stdout);
        } else if (tty_) {
            constexpr int kWidth = 30;
            const int filled = static_cast<int>(frac * kWidth + 0.5);
            fmt::print(stderr, "\r[{}{}] {:5.1f}%  {} of {}  {} states  ETA {}\033[K",
                       std::string(size_t(filled), '#'), std::string(size_t(kWidth - filled), '.'),
                       frac * 100, clock_text(double(p.done_us) / 1e6),
                       clock_text(double(p.total_us) / 1e6), p.states,
                       eta < 0 ? "--:--" : clock_text(eta));
            drawn_ = true;
        }
    }

    void clear() {
        if (drawn_) {
            fmt::print(stderr, "\r\033[K");
        }
    }

    double elapsed_s() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    bool tty_;
    bool json_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_print_{};
};

int usage(const std::string& text) {
    fmt::print(stderr, "spicetap: {}\n", text);
    return kExitUsage;
}

int run_render(const RenderArgs& a) {
    if (a.output.empty() && a.frames.empty() && a.contact_sheet.empty()) {
        return usage("render: give -o OUT.mp4|.webm|.mkv, --frames DIR or --contact-sheet OUT.png");
    }
    video::RenderOptions opt;
    opt.output = a.output;
    opt.video.fps = a.fps;
    opt.video.crf = a.crf;
    opt.video.preset = a.preset;
    opt.video.cfr = a.cfr;
    opt.video.fragmented = a.fragmented;
    opt.video.max_idle_s = a.max_idle;
    opt.speed = a.speed;
    opt.audio = !a.no_audio;
    opt.cursor = !a.no_cursor;
    opt.split_on_resize = a.split_on_resize;
    opt.frames_dir = a.frames;
    opt.contact_sheet = a.contact_sheet;
    auto codec = video::parse_video_codec(a.codec);
    if (!codec) {
        return usage("--codec " + a.codec + ": " + codec.error().what);
    }
    opt.video.codec = *codec;
    auto chroma = video::parse_chroma(a.chroma);
    if (!chroma) {
        return usage("--chroma " + a.chroma + ": " + chroma.error().what);
    }
    opt.video.chroma = *chroma;
    if (!a.size.empty()) {
        auto size = video::parse_size(a.size);
        if (!size) {
            return usage("--size: " + size.error().what);
        }
        opt.video.size = *size;
    }
    if (a.display != "all") {
        try {
            size_t used = 0;
            opt.display = std::stoi(a.display, &used);
            if (used != a.display.size() || *opt.display < 0) {
                throw std::invalid_argument(a.display);
            }
        } catch (const std::exception&) {
            return usage("--display " + a.display + ": give a display channel id or \"all\"");
        }
    }
    if (!parse_grid(a.grid, opt.sheet_columns, opt.sheet_rows)) {
        return usage("--grid " + a.grid + ": give COLUMNSxROWS, e.g. 4x3");
    }
    if (auto ok = video::check_render_options(opt); !ok) {
        return usage(ok.error().what);
    }
    OpenedSession opened;
    if (int rc = open_session(a.input, opened); rc != kExitOk) {
        return rc;
    }
    const auto& source = opened.source;
    const log::SessionInfo& si = opened.reader->session();
    auto from = parse_time_arg(a.from, si.start_us, si.end_us);
    if (!from) {
        return usage("--from " + a.from + ": " + from.error().what);
    }
    auto to = parse_time_arg(a.to, si.start_us, si.end_us);
    if (!to) {
        return usage("--to " + a.to + ": " + to.error().what);
    }
    if (*to <= *from) {
        return usage(fmt::format("--from {} .. --to {} is empty", a.from, a.to));
    }
    opt.from_us = *from;
    opt.to_us = *to;

    const bool tty = ::isatty(STDERR_FILENO) != 0 && !a.quiet;
    ProgressPrinter progress(tty, a.json);
    if (tty || a.json) {
        opt.progress = [&progress](const video::RenderProgress& p) { progress(p); };
    }
    g_interrupted.store(false);
    opt.cancel = &g_interrupted;

    struct sigaction sa {};

    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
    sigemptyset(&sa.sa_mask);

    struct sigaction old {};

    ::sigaction(SIGINT, &sa, &old);
    auto result = video::render_session(*opened.reader, opt);
    ::sigaction(SIGINT, &old, nullptr);
    progress.clear();
    if (!result) {
        fmt::print(stderr, "spicetap: render: {}\n", result.error().what);
        return result.error().code == Errc::Io ? kExitEnvironment : kExitData;
    }
    const video::RenderResult& r = *result;
    const double elapsed = progress.elapsed_s();
    const double rendered_s = double(r.to_us - r.from_us) / 1e6;
    if (a.json) {
        std::string json = video::render_result_json(r);
        json.pop_back();  // the closing brace: add the timing
        fmt::print("{},\"elapsed_s\":{:.3f},\"x_realtime\":{:.2f}}}\n", json, elapsed,
                   elapsed > 0 ? rendered_s / elapsed : 0.0);
    } else if (!a.quiet) {
        for (const video::RenderedVideo& v : r.videos) {
            fmt::print("{}: {} {}x{}, {:.3f} s, {} frames, {}{} bytes\n", v.path,
                       video::video_codec_name(r.codec), v.width, v.height,
                       double(v.stats.duration_us) / 1e6, v.stats.frames_out,
                       r.audio ? "audio, " : "no audio, ", v.stats.bytes);
        }
        if (r.frames) {
            fmt::print("{}: {} PNG frames\n", a.frames, r.frames->frames_out);
        }
        if (!r.contact_sheet.empty()) {
            fmt::print("{}: contact sheet of {} states\n", r.contact_sheet, r.sheet_frames);
        }
        fmt::print(stderr,
                   "rendered {:.3f} s of session ({} screen states) in {:.2f} s, {:.1f}x real "
                   "time{}\n",
                   rendered_s, r.states, elapsed, elapsed > 0 ? rendered_s / elapsed : 0.0,
                   r.interrupted ? "; interrupted, the files hold what was done" : "");
    }
    for (const std::string& w : r.warnings) {
        fmt::print(stderr, "spicetap: warning: {}\n", w);
    }
    int rc = kExitOk;
    if (r.replay_issues > 0) {
        fmt::print(stderr,
                   "spicetap: {} of {} screen states have possibly wrong pixels ({} replay issues, "
                   "see `spicetap replay --stats`)\n",
                   r.states_unsure, r.states, r.replay_issues);
        rc = kExitData;
    }
    rc = finish_reading(source->input_error(), a.input, rc);
    return r.interrupted ? kExitInterrupted : rc;
}

}  // namespace

void register_render(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<RenderArgs>();
    CLI::App* sub = app.add_subcommand(
        "render", "Replay a session headlessly into a video (MP4/WebM/MKV) with its sound");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("-o,--output", args->output,
                    "video file: .mp4 (H.264 + AAC), .webm (VP9 + Opus), .mkv (H.264 + Opus)");
    sub->add_option("--fps", args->fps,
                    "frame-rate cap (variable frame rate: only changes are encoded), or the grid "
                    "with --cfr")
        ->capture_default_str();
    sub->add_option("--from", args->from, "start (as screenshot --at)")->capture_default_str();
    sub->add_option("--to", args->to, "end (as screenshot --at)")->capture_default_str();
    sub->add_option("--speed", args->speed,
                    "playback speed: 2 halves the duration (the sound follows, pitch and all)")
        ->capture_default_str();
    sub->add_option("--size", args->size,
                    "output WIDTHxHEIGHT (even); other sizes are letterboxed into it (default: "
                    "the screen at --from)");
    sub->add_option("--display", args->display,
                    "display channel id, or all: every display side by side")
        ->capture_default_str();
    sub->add_flag("--no-cursor", args->no_cursor, "do not draw the mouse cursor");
    sub->add_flag("--no-audio", args->no_audio, "leave the playback channel's sound out");
    sub->add_option("--crf", args->crf,
                    "quality (lower is better): default 23 for H.264/H.265, 32 VP9, 10 VP8");
    sub->add_option("--preset", args->preset,
                    "x264 preset name (ultrafast .. veryslow), mapped onto libvpx speeds")
        ->capture_default_str();
    sub->add_option("--codec", args->codec, "h264, h265, vp9, vp8 or auto (by container)")
        ->capture_default_str();
    sub->add_option("--chroma", args->chroma,
                    "colour sampling: 420 plays everywhere; 444 keeps single-pixel colour "
                    "detail (H.264 High 4:4:4, VP9 profile 1; browsers may not play the H.264)")
        ->capture_default_str();
    sub->add_flag("--cfr", args->cfr, "constant frame rate: repeat states to fill the --fps grid");
    sub->add_option("--max-idle", args->max_idle,
                    "shorten stretches with nothing happening to this many seconds");
    sub->add_flag("--fragmented", args->fragmented,
                  "fragmented MP4: playable up to the last keyframe even if cut short");
    sub->add_flag("--split-on-resize", args->split_on_resize,
                  "a new file (OUT-2.mp4, ...) whenever the screen size changes, instead of "
                  "letterboxing");
    sub->add_option("--frames", args->frames, "also write each state as PNG into this directory");
    sub->add_option("--contact-sheet", args->contact_sheet,
                    "also write a PNG grid of states evenly spaced over the range");
    sub->add_option("--grid", args->grid, "contact sheet COLUMNSxROWS")->capture_default_str();
    sub->add_flag("--json", args->json,
                  "progress as JSON lines, then the result as one JSON object, on stdout");
    sub->add_flag("-q,--quiet", args->quiet, "print nothing on success");
    sub->footer(
        "Ctrl-C stops early and finishes the files with what was rendered (exit 130).\n"
        "Exits 1 (after writing) when part of the session could not be replayed exactly.");
    commands.add(sub, [args] { return run_render(*args); });
}

}  // namespace spicetap::cli
