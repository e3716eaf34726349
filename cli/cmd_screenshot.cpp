// spicetap screenshot LOG --at T -o OUT.png [--display N] [--cursor]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "cli/session_input.h"
#include "export/time_arg.h"
#include "replay/session_replay.h"

namespace spicetap::cli {

namespace {

struct ScreenshotArgs {
    std::string input;
    std::string at = "end";
    std::string output;
    int display = 0;
    bool cursor = false;
    bool quiet = false;
};

int run_screenshot(const ScreenshotArgs& a) {
    OpenedSession opened;
    if (int rc = open_session(a.input, opened); rc != kExitOk) {
        return rc;
    }
    const auto& source = opened.source;
    const log::SessionInfo& si = opened.reader->session();
    auto t = parse_time_arg(a.at, si.start_us, si.end_us);
    if (!t) {
        fmt::print(stderr, "spicetap: --at {}: {}\n", a.at, t.error().what);
        return kExitUsage;
    }
    auto replay = replay::SessionReplay::open(*opened.reader);
    if (!replay) {
        return report_error(replay.error());
    }
    if (auto ok = (*replay)->seek(*t); !ok) {
        return report_error(ok.error());
    }
    const std::optional<canvas::Surface> frame = (*replay)->frame(a.display, a.cursor);
    if (!frame) {
        fmt::print(stderr, "spicetap: display {} has no primary surface at {:.3f} s\n", a.display,
                   double(*t - si.start_us) / 1e6);
        return kExitData;
    }
    const canvas::Surface* primary = &*frame;
    if (auto ok = canvas::write_png(*primary, a.output); !ok) {
        fmt::print(stderr, "spicetap: {}: {}\n", a.output, ok.error().what);
        return kExitEnvironment;
    }
    const replay::PixelRegion unsure = (*replay)->primary_unsure(a.display);
    const size_t issues = (*replay)->issues().size();
    if (!a.quiet) {
        fmt::print("{}: display {} at {:.3f} s, {}x{}", a.output, a.display,
                   double(*t - si.start_us) / 1e6, primary->width(), primary->height());
        if (a.cursor) {
            const auto c = (*replay)->cursor(a.display);
            if (c && c->visible) {
                fmt::print(", cursor at {},{}", c->position.x, c->position.y);
            } else {
                fmt::print(", no cursor shown");
            }
        }
        if (unsure.empty()) {
            fmt::print(", exact\n");
        } else {
            const canvas::Rect e = unsure.extents();
            fmt::print(
                ", {} pixels possibly wrong (within {},{} {}x{}; {} issues, see "
                "`spicetap replay`)\n",
                unsure.area(), e.left, e.top, e.width(), e.height(), issues);
        }
    }
    return finish_reading(source->input_error(), a.input, unsure.empty() ? kExitOk : kExitData);
}

}  // namespace

void register_screenshot(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ScreenshotArgs>();
    CLI::App* sub = app.add_subcommand(
        "screenshot", "Replay a session headlessly and write a display's screen at a time as PNG");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("--at", args->at,
                    "seconds from the start, a time of day (HH:MM:SS.fff UTC), an ISO date-time, "
                    "start or end")
        ->capture_default_str();
    sub->add_option("-o,--output", args->output, "PNG file to write")->required();
    sub->add_option("--display", args->display, "display channel id")->capture_default_str();
    sub->add_flag("--cursor", args->cursor,
                  "draw the mouse cursor (shape, position and visibility from the cursor channel)");
    sub->add_flag("-q,--quiet", args->quiet, "print nothing on success");
    sub->footer("Exits 1 (after writing the PNG) when part of the picture is possibly wrong.");
    commands.add(sub, [args] { return run_screenshot(*args); });
}

}  // namespace spicetap::cli
