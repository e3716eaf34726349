// spicetap proxy --listen HOST:PORT --upstream HOST:PORT -o DIR ...
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <mutex>

#include "capture/proxy/proxy_server.h"
#include "cli/commands.h"
#include "decode/wire/json_writer.h"

namespace spicetap::cli {

namespace {

struct ProxyArgs {
    std::string listen, tls_listen, tls_cert, tls_key, upstream, ca, output;
    int upstream_tls_port = 0;
    bool upstream_tls = false, insecure = false, json = false;
    uint64_t max_sessions = 0;
    uint64_t queue_mib = 256;
};

int run_proxy(const ProxyArgs& a) {
    proxy::ProxyOptions o;
    o.listen = a.listen;
    o.tls_listen = a.tls_listen;
    o.tls_cert = a.tls_cert;
    o.tls_key = a.tls_key;
    o.upstream = a.upstream;
    if (a.upstream_tls_port > 0) {
        o.upstream_tls_port = static_cast<uint16_t>(a.upstream_tls_port);
    }
    o.upstream_tls = a.upstream_tls;
    o.ca = a.ca;
    o.insecure = a.insecure;
    o.output_dir = a.output;
    o.max_sessions = a.max_sessions;
    o.max_queued_bytes = static_cast<size_t>(a.queue_mib) << 20;
    o.tool_version = tool_version();
    // Lines come from the relay and the recorder threads.
    auto print_mu = std::make_shared<std::mutex>();
    o.log = [print_mu](const std::string& line) {
        std::lock_guard<std::mutex> lk(*print_mu);
        fmt::print(stderr, "spicetap proxy: {}\n", line);
    };
    const bool json = a.json;
    o.on_listening = [print_mu, json](const std::string& plain, const std::string& tls) {
        if (!json) {
            return;
        }
        std::string out;
        JsonWriter w(out);
        w.begin_object().field("event", "listening");
        plain.empty() ? w.field_null("listen") : w.field("listen", plain);
        tls.empty() ? w.field_null("tls_listen") : w.field("tls_listen", tls);
        w.end_object();
        std::lock_guard<std::mutex> lk(*print_mu);
        fmt::print("{}\n", out);
        std::fflush(stdout);
    };
    o.on_session = [print_mu, json](const capture::FinishedSession& s) {
        std::string out;
        if (json) {
            JsonWriter w(out);
            w.begin_object().field("event", "session").field("path", s.path.string());
            w.field("session_id", s.session_id).field("server", s.server);
            w.field("connections", static_cast<uint64_t>(s.connections));
            w.field("messages", s.messages).field("gap_bytes", s.gap_bytes);
            w.field("framing_errors", s.framing_errors).end_object();
        } else {
            out = s.path.string();
        }
        std::lock_guard<std::mutex> lk(*print_mu);
        fmt::print("{}\n", out);
        std::fflush(stdout);
    };
    if (json) {
        o.on_connection = [print_mu](const proxy::ConnectionReport& c) {
            std::string out;
            JsonWriter w(out);
            w.begin_object().field("event", "connection").field("id", c.id);
            w.field("client", c.client).field("channel", c.channel).field("tls", c.tls);
            w.field("relayed_c2s", c.relayed_c2s).field("relayed_s2c", c.relayed_s2c);
            w.field("read_c2s", c.read_c2s).field("read_s2c", c.read_s2c);
            w.field("ended", c.ended).end_object();
            std::lock_guard<std::mutex> lk(*print_mu);
            fmt::print("{}\n", out);
            std::fflush(stdout);
        };
    }
    auto result = proxy::run_proxy(o);
    if (!result) {
        return report_error(result.error());
    }
    const auto& r = *result;
    if (json) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().field("event", "stopped").field("stopped_by", r.stopped_by);
        w.field("connections", r.connections).field("sessions", r.sessions);
        w.field("failed_sessions", r.failed_sessions).field("bytes_c2s", r.bytes_c2s);
        w.field("bytes_s2c", r.bytes_s2c).field("recorded_bytes", r.recorded_bytes);
        w.field("dropped_bytes", r.dropped_bytes).end_object();
        fmt::print("{}\n", out);
    } else {
        fmt::print(stderr,
                   "spicetap proxy: {} session log(s), {} connection(s); relayed {} bytes "
                   "client->server, {} bytes server->client; {} bytes not recorded, {} "
                   "recording(s) stopped by write errors\n",
                   r.sessions, r.connections, r.bytes_c2s, r.bytes_s2c, r.dropped_bytes,
                   r.failed_sessions);
    }
    // Relaying went on, but part of what was relayed is missing from the logs.
    return r.failed_sessions > 0 || r.dropped_bytes > 0 ? kExitData : kExitOk;
}

}  // namespace

void register_proxy(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ProxyArgs>();
    CLI::App* sub = app.add_subcommand(
        "proxy",
        "Relay SPICE clients to a server and record every session (one log per client session)");
    sub->add_option("--listen", args->listen, "HOST:PORT for plain clients (like spice's port)");
    sub->add_option(
        "--tls-listen", args->tls_listen,
        "HOST:PORT for TLS clients (like spice's tls-port); needs --tls-cert/--tls-key");
    sub->add_option("--tls-cert", args->tls_cert, "PEM certificate (chain) shown to TLS clients")
        ->check(CLI::ExistingFile);
    sub->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert")
        ->check(CLI::ExistingFile);
    sub->add_option("--upstream", args->upstream, "HOST:PORT of the SPICE server")->required();
    auto* tls_port = sub->add_option("--upstream-tls-port", args->upstream_tls_port,
                                     "the server's TLS port: --tls-listen clients go there")
                         ->check(CLI::Range(1, 65535));
    auto* up_tls = sub->add_flag("--upstream-tls", args->upstream_tls,
                                 "the --upstream port itself speaks TLS (every connection)");
    tls_port->excludes(up_tls);
    auto* ca = sub->add_option("--ca", args->ca, "PEM CA certificate(s) to verify the server")
                   ->check(CLI::ExistingFile);
    auto* insecure =
        sub->add_flag("--insecure", args->insecure, "do not verify the server's certificate");
    ca->excludes(insecure);
    sub->add_option("-o,--output", args->output, "directory for the session logs")->required();
    sub->add_option("--max-sessions", args->max_sessions,
                    "stop after this many client sessions ended (default: run until "
                    "SIGINT/SIGTERM)");
    sub->add_option("--queue", args->queue_mib,
                    "MiB of memory for bytes relayed but not recorded yet: a burst up to this "
                    "size is recorded whole, beyond it the excess becomes gaps (default 256)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{16384}));
    sub->add_flag(
        "--json", args->json,
        "JSON lines on stdout: listening, each connection and each session when it ends, the "
        "final summary");
    commands.add(sub, [args] {
        if (args->listen.empty() && args->tls_listen.empty()) {
            fmt::print(stderr, "spicetap proxy: give --listen and/or --tls-listen\n");
            return kExitUsage;
        }
        if (!args->tls_listen.empty() && (args->tls_cert.empty() || args->tls_key.empty())) {
            fmt::print(stderr, "spicetap proxy: --tls-listen needs --tls-cert and --tls-key\n");
            return kExitUsage;
        }
        return run_proxy(*args);
    });
}

}  // namespace spicetap::cli
