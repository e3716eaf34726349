// spicetap dump LOG|CAPTURE [--channel NAME[:ID]] [--from T] [--to T] [--json] [--session N]
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "export/dump/message_dump.h"
#include "export/time_arg.h"

namespace spicetap::cli {

namespace {

struct DumpArgs {
    std::string input;
    std::string channel;
    std::string from, to;
    bool json = false;
    bool decode = false;
    int session = 0;
};

int run_dump(const DumpArgs& a) {
    auto source = capture::LogSource::open(a.input, tool_version());
    if (!source) {
        return report_error(source.error());
    }
    const auto& logs = source->logs();
    if (logs.size() > 1 && a.session == 0) {
        fmt::print(stderr,
                   "spicetap: {} holds {} SPICE sessions; choose one with --session 1..{} (or "
                   "import it with `spicetap import {} -o DIR`)\n",
                   a.input, logs.size(), logs.size(), a.input);
        return kExitUsage;
    }
    if (a.session < 0 || static_cast<size_t>(a.session) > logs.size()) {
        fmt::print(stderr, "spicetap: --session {} is out of range 1..{}\n", a.session, logs.size());
        return kExitUsage;
    }
    const auto& path = logs[a.session == 0 ? 0 : static_cast<size_t>(a.session - 1)];
    auto reader = log::SessionLogReader::open(path);
    if (!reader) {
        return report_error(reader.error());
    }
    const auto& si = (*reader)->session();
    dump::DumpOptions options;
    options.channel = a.channel;
    options.json = a.json;
    options.decode = a.decode;
    if (!a.from.empty()) {
        auto t = parse_time_arg(a.from, si.start_us, si.end_us);
        if (!t) {
            fmt::print(stderr, "spicetap: --from: {}\n", t.error().what);
            return kExitUsage;
        }
        options.from_us = *t;
    }
    if (!a.to.empty()) {
        auto t = parse_time_arg(a.to, si.start_us, si.end_us);
        if (!t) {
            fmt::print(stderr, "spicetap: --to: {}\n", t.error().what);
            return kExitUsage;
        }
        options.to_us = *t;
    }
    std::string buffer;
    auto flush = [&] {
        std::fwrite(buffer.data(), 1, buffer.size(), stdout);
        buffer.clear();
    };
    auto stats = dump::dump_messages(**reader, options, [&](std::string_view line) {
        buffer.append(line);
        buffer.push_back('\n');
        if (buffer.size() > (1u << 16)) {
            flush();
        }
    });
    flush();
    if (!stats) {
        if (stats.error().code == Errc::BadValue) {
            fmt::print(stderr, "spicetap: {}\n", stats.error().what);
            return kExitUsage;
        }
        return report_error(stats.error());
    }
    return finish_reading(source->input_error(), a.input, kExitOk);
}

}  // namespace

void register_dump(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<DumpArgs>();
    CLI::App* sub = app.add_subcommand("dump", "List every message of a session, one per line");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)")
        ->required();
    sub->add_option("--channel", args->channel,
                    "only this channel: a type name (display) or NAME:ID (display:1)");
    sub->add_option("--from", args->from,
                    "start time: seconds from the session start, a UTC time of day, or ISO time");
    sub->add_option("--to", args->to, "end time (same forms as --from)");
    sub->add_option("--session", args->session,
                    "which session of a capture holding several (1 = first by start time)");
    sub->add_flag("--json", args->json, "JSON Lines (see docs/dump-format.md)");
    sub->add_flag("--decode", args->decode,
                  "decode each message's fields (every channel; see docs/dump-format.md)");
    commands.add(sub, [args] { return run_dump(*args); });
}

}  // namespace spicetap::cli
