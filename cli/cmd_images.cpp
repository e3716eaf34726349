// spicetap images LOG -o DIR [--codec TYPE[,TYPE]] [--from T] [--to T] [--payloads] [--json]
#include <fmt/core.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <tuple>

#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "cli/session_input.h"
#include "export/images/image_dump.h"
#include "export/time_arg.h"

namespace spicetap::cli {

namespace {

struct ImagesArgs {
    std::string input;
    std::string output;
    std::vector<std::string> codecs;
    std::string from, to;
    bool json = false;
    bool payloads = false;
};

int run_images(const ImagesArgs& a) {
    const auto known = images::image_type_names();
    for (const std::string& c : a.codecs) {
        if (std::find(known.begin(), known.end(), c) == known.end()) {
            fmt::print(stderr, "spicetap: --codec {}: not an image type (one of {})\n", c,
                       fmt::join(known, ", "));
            return kExitUsage;
        }
    }
    OpenedSession opened;
    if (int rc = open_session(a.input, opened); rc != kExitOk) {
        return rc;
    }
    const auto& source = opened.source;
    const log::SessionInfo& si = opened.reader->session();
    images::ImageDumpOptions options;
    options.out_dir = a.output;
    options.types = a.codecs;
    options.payloads = a.payloads;
    for (auto [text, slot, flag] : {std::tuple{&a.from, &options.from_us, "--from"},
                                    std::tuple{&a.to, &options.to_us, "--to"}}) {
        if (text->empty()) {
            continue;
        }
        auto t = parse_time_arg(*text, si.start_us, si.end_us);
        if (!t) {
            fmt::print(stderr, "spicetap: {} {}: {}\n", flag, *text, t.error().what);
            return kExitUsage;
        }
        *slot = *t;
    }
    const bool tty = isatty(STDERR_FILENO) != 0;
    if (tty) {
        options.progress = [](double f) {
            fmt::print(stderr, "\rimages: replaying {:3.0f}%", f * 100);
            std::fflush(stderr);
        };
    }
    auto summary = images::dump_images(*opened.reader, options);
    if (tty) {
        fmt::print(stderr, "\r{:30}\r", "");
    }
    if (!summary) {
        return report_error(summary.error());
    }
    fmt::print("{}", a.json ? images::format_summary_json(*summary)
                            : images::format_summary_text(*summary));
    return finish_reading(source->input_error(), a.input,
                          summary->failed > 0 ? kExitData : kExitOk);
}

}  // namespace

void register_images(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ImagesArgs>();
    CLI::App* sub = app.add_subcommand(
        "images",
        "Write every image the server sent on the display channels as PNG, with an index");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("-o,--output", args->output, "directory for the PNGs and index.jsonl")
        ->required();
    sub->add_option("--codec", args->codecs,
                    "only images of these types (glz_rgb, lz_rgb, quic, jpeg, from_cache, ...)")
        ->delimiter(',');
    sub->add_option("--from", args->from,
                    "only images sent at or after this time (seconds from the start, a UTC time "
                    "of day, or ISO time); earlier ones are still decoded");
    sub->add_option("--to", args->to, "only images sent at or before this time");
    sub->add_flag("--payloads", args->payloads,
                  "also write each image's payload bytes (after the descriptor) as NAME.bin");
    sub->add_flag("--json", args->json, "print the summary as JSON");
    sub->footer(
        "Every image is decoded as a real client would (GLZ window shared by the display "
        "channels, image and palette caches, FROM_CACHE resolved). index.jsonl lists each "
        "listed image with its time, connection, message, id, type, flags, sizes and file, or "
        "the error that stopped it. Exits 1 when an image could not be decoded.");
    commands.add(sub, [args] { return run_images(*args); });
}

}  // namespace spicetap::cli
