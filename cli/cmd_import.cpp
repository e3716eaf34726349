// spicetap import IN.pcap -o OUT
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <memory>

#include "capture/import/import_capture.h"
#include "cli/commands.h"
#include "decode/wire/json_writer.h"

namespace spicetap::cli {

namespace {

struct ImportArgs {
    std::string input;
    std::string output;
    bool json = false;
};

int run_import(const ImportArgs& a) {
    capture::ImportOptions options;
    options.output = a.output;
    options.tool_version = tool_version();
    const bool tty = ::isatty(STDERR_FILENO) != 0 && !a.json;
    if (tty) {
        options.progress = [](uint64_t packets) {
            fmt::print(stderr, "\rimporting: {} packets", packets);
        };
    }
    auto result = capture::import_capture(a.input, options);
    if (tty) {
        fmt::print(stderr, "\r\033[K");
    }
    if (!result) {
        return report_error(result.error());
    }
    const auto& r = *result;
    if (a.json) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().key("sessions").begin_array();
        for (const auto& s : r.sessions) {
            w.begin_object().field("path", s.path.string()).field("session_id", s.session_id);
            w.field("server", s.server).field("connections", static_cast<uint64_t>(s.connections));
            w.field("messages", s.messages).field("gap_bytes", s.gap_bytes);
            w.field("framing_errors", s.framing_errors).end_object();
        }
        w.end_array();
        w.field("packets", r.packets).field("tcp_connections", r.tcp.connections);
        w.field("spice_connections", r.spice.spice_connections);
        w.field("other_connections", r.spice.other_connections);
        w.field("other_bytes", r.spice.other_bytes).field("non_tcp_packets", r.tcp.non_tcp_packets);
        w.field("malformed_packets", r.tcp.malformed_packets);
        if (r.input_error) {
            w.field("input_error", r.input_error->what);
        } else {
            w.field_null("input_error");
        }
        w.end_object();
        fmt::print("{}\n", out);
    } else {
        for (const auto& s : r.sessions) {
            fmt::print("{}\n", s.path.string());
        }
        fmt::print(stderr,
                   "{} session(s), {} SPICE connection(s), {} messages from {} packets; skipped "
                   "{} other TCP connection(s) ({} bytes) and {} non-TCP packet(s)\n",
                   r.sessions.size(), r.spice.spice_connections, r.spice.messages, r.packets,
                   r.spice.other_connections, r.spice.other_bytes, r.tcp.non_tcp_packets);
        for (const auto& s : r.sessions) {
            if (s.gap_bytes || s.framing_errors) {
                fmt::print(stderr,
                           "{}: {} bytes lost in capture gaps, {} framing error(s); details: "
                           "spicetap info {}\n",
                           s.path.string(), s.gap_bytes, s.framing_errors, s.path.string());
            }
        }
    }
    uint64_t framing_errors = 0;
    for (const auto& s : r.sessions) {
        framing_errors += s.framing_errors;
    }
    if (r.input_error) {
        fmt::print(stderr, "spicetap: {}: {} (the packets before it were imported)\n", a.input,
                   r.input_error->what);
        return kExitData;
    }
    // Framing errors mean part of the session could not be decoded: say so in the exit code.
    return framing_errors > 0 ? kExitData : kExitOk;
}

}  // namespace

void register_import(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ImportArgs>();
    CLI::App* sub = app.add_subcommand(
        "import", "Import a pcap/pcapng capture into session logs (one per SPICE session)");
    sub->add_option("input", args->input, "pcap or pcapng file")->required();
    sub->add_option("-o,--output", args->output,
                    "output directory (one log per session), or FILE.spicelog when the capture "
                    "holds exactly one session")
        ->required();
    sub->add_flag("--json", args->json, "machine-readable result on stdout");
    commands.add(sub, [args] { return run_import(*args); });
}

}  // namespace spicetap::cli
