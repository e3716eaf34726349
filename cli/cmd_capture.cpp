// spicetap capture -i IFACE [--filter BPF] -o DIR [--snaplen N] [--buffer MiB]
//                  [--rotate-after SIZE|TIME] [--idle-timeout S] [--user NAME] [--json]
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "capture/live/live_capture.h"
#include "cli/commands.h"
#include "decode/wire/json_writer.h"
#include "export/summary/session_summary.h"

namespace spicetap::cli {

namespace {

struct CaptureArgs {
    std::string interface;
    std::string filter;
    std::string output;
    int snaplen = 262144;
    int buffer_mib = 64;
    std::string rotate_after;
    double idle_timeout_s = 3600;
    double stats_every_s = 10;
    std::string user;
    bool json = false;
};

std::string drops_line(const capture::SourceStats& s) {
    return fmt::format("{} packets, {} dropped by the kernel, {} by the interface", s.packets,
                       s.dropped, s.if_dropped);
}

int run_capture(const CaptureArgs& a) {
    capture::LiveCaptureOptions options;
    options.source.interface = a.interface;
    options.source.filter = a.filter;
    options.source.snaplen = a.snaplen;
    options.source.buffer_mib = a.buffer_mib;
    options.directory = a.output;
    options.tool_version = tool_version();
    options.user = a.user;
    if (!a.rotate_after.empty()) {
        auto limit = capture::parse_rotate_after(a.rotate_after);
        if (!limit) {
            fmt::print(stderr, "spicetap: {}\n", limit.error().what);
            return kExitUsage;
        }
        options.rotate_bytes = limit->bytes;
        options.rotate_us = limit->us;
    }
    if (a.idle_timeout_s <= 0 || a.stats_every_s < 0) {
        fmt::print(stderr, "spicetap: --idle-timeout must be > 0 and --stats-every >= 0\n");
        return kExitUsage;
    }
    options.idle_timeout_us = static_cast<int64_t>(a.idle_timeout_s * 1e6);
    options.stats_interval_us = static_cast<int64_t>(a.stats_every_s * 1e6);
    // Progress goes to stderr as it happens (also with --json, whose result is on stdout).
    options.on_listening = [&a] {
        fmt::print(stderr, "capture: listening on {}{}, writing session logs to {}\n", a.interface,
                   a.filter.empty() ? "" : fmt::format(" (filter: {})", a.filter), a.output);
    };
    options.on_log_opened = [](const std::filesystem::path& path, const log::SessionInfo& s) {
        fmt::print(stderr, "capture: recording {} (session {:#010x}, server {}, client {}{})\n",
                   path.string(), s.session_id, s.server, s.client,
                   s.part > 1 ? fmt::format(", part {}", s.part) : "");
    };
    options.on_log_closed = [](const capture::FinishedSession& f) {
        fmt::print(stderr, "capture: {} {} ({} connection(s), {} messages, {:.3f} s)\n",
                   f.continued ? "continued after" : "finished", f.path.string(), f.connections,
                   f.messages, static_cast<double>(f.end_us - f.start_us) / 1e6);
    };
    options.on_stats = [](const capture::SourceStats& s) {
        fmt::print(stderr, "capture: {}\n", drops_line(s));
    };
    auto result = capture::run_live_capture(options);
    if (!result) {
        const auto& e = result.error();
        if (e.code == Errc::BadValue) {
            fmt::print(stderr, "spicetap: {}\n", e.what);
            return kExitUsage;  // a bad filter, user, snap length or buffer size
        }
        return report_error(e);
    }
    const auto& r = *result;
    if (a.json) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().key("logs").begin_array();
        for (const auto& s : r.logs) {
            w.begin_object().field("path", s.path.string()).field("session_id", s.session_id);
            w.field("server", s.server).field("start", summary::format_utc(s.start_us));
            w.field("connections", static_cast<uint64_t>(s.connections));
            w.field("messages", s.messages).field("gap_bytes", s.gap_bytes);
            w.field("framing_errors", s.framing_errors).field("part", static_cast<int64_t>(s.part));
            w.field("continued", s.continued).end_object();
        }
        w.end_array();
        w.field("packets", r.source.packets).field("dropped", r.source.dropped);
        w.field("if_dropped", r.source.if_dropped).field("tcp_connections", r.tcp.connections);
        w.field("spice_connections", r.spice.spice_connections);
        w.field("other_connections", r.spice.other_connections);
        w.field("stop_signal", static_cast<int64_t>(r.stop_signal)).end_object();
        fmt::print("{}\n", out);
    }
    fmt::print(stderr, "capture: stopped{}; {} log(s), {} SPICE connection(s), {} messages; {}\n",
               r.stop_signal ? fmt::format(" by signal {}", r.stop_signal) : "", r.logs.size(),
               r.spice.spice_connections, r.spice.messages, drops_line(r.source));
    return kExitOk;
}

}  // namespace

void register_capture(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<CaptureArgs>();
    CLI::App* sub = app.add_subcommand(
        "capture",
        "Capture SPICE sessions live from an interface into session logs (one per session, "
        "readable while recorded); SIGINT/SIGTERM stop and finalise them");
    sub->add_option("-i,--interface", args->interface, "interface to capture on (e.g. lo, eth0)")
        ->required();
    sub->add_option("-f,--filter", args->filter, "BPF capture filter, e.g. 'tcp port 5900'");
    sub->add_option("-o,--output", args->output, "directory for the session logs (created)")
        ->required();
    sub->add_option("--snaplen", args->snaplen, "bytes kept per packet (default 262144)");
    sub->add_option("--buffer", args->buffer_mib, "kernel capture buffer in MiB (default 64)");
    sub->add_option("--rotate-after", args->rotate_after,
                    "continue a session in a new log part after SIZE (500M, 2G) or TIME (30min, "
                    "12h)");
    sub->add_option("--idle-timeout", args->idle_timeout_s,
                    "close a connection silent this many seconds (default 3600)");
    sub->add_option("--stats-every", args->stats_every_s,
                    "print libpcap's packet and drop counts every N seconds (default 10; 0 = "
                    "only at the end)");
    sub->add_option("--user", args->user,
                    "drop root to this user once the interface is open, before parsing traffic");
    sub->add_flag("--json", args->json, "machine-readable result on stdout at the end");
    commands.add(sub, [args] { return run_capture(*args); });
}

}  // namespace spicetap::cli
