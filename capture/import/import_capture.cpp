#include "capture/import/import_capture.h"

#include <fmt/core.h>

#include <cstring>
#include <fstream>
#include <system_error>

#include "capture/pcap/packet_source.h"

namespace spicetap::capture {

namespace fs = std::filesystem;

bool is_session_log_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[16] = {};
    in.read(magic, sizeof magic);
    return in.gcount() == 16 && std::memcmp(magic, "SQLite format 3", 16) == 0;
}

Result<ImportResult> import_capture(const fs::path& input, const ImportOptions& options) {
    const bool to_file = options.output.extension() == ".spicelog";
    const fs::path dir = to_file ? (options.output.has_parent_path()
                                        ? options.output.parent_path()
                                        : fs::path("."))
                                 : options.output;
    std::error_code ec;
    if (to_file && fs::exists(options.output, ec)) {
        return make_error(Errc::Io, 0,
                          fmt::format("{} already exists; remove it or choose another name",
                                      options.output.string()));
    }
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir, ec)) {
        return make_error(Errc::Io, 0, fmt::format("cannot create output directory {}: {}",
                                                   dir.string(), ec.message()));
    }

    auto source = PacketSource::open_file(input);
    if (!source) {
        return source.error();
    }

    SessionSinkOptions sink;
    sink.directory = dir;
    sink.tool_version = options.tool_version;
    sink.source_kind = "pcap";
    sink.crash_safe = false;  // written under a temporary name, renamed when complete
    sink.source = fs::absolute(input, ec).string();
    SpiceSessionBuilder builder(sink);
    TcpReassembler reassembler(builder);

    ImportResult result;
    RawPacket packet;
    int64_t last_ts = 0;
    for (;;) {
        auto more = (*source)->next(packet);
        if (!more) {
            result.input_error = more.error();
            break;
        }
        if (!*more) {
            break;
        }
        ++result.packets;
        last_ts = std::max(last_ts, packet.ts_us);
        reassembler.feed(packet);
        if (builder.fatal_error()) {
            break;
        }
        if (options.progress && (result.packets & 0xfff) == 0) {
            options.progress(result.packets);
        }
    }
    reassembler.finish(last_ts);
    result.tcp = reassembler.stats();
    auto sessions = builder.finish();
    result.spice = builder.stats();
    if (!sessions) {
        return sessions.error();
    }
    result.sessions = std::move(*sessions);

    if (to_file) {
        if (result.sessions.size() != 1) {
            for (const auto& s : result.sessions) {
                fs::remove(s.path, ec);
            }
            if (result.sessions.empty()) {
                return make_error(Errc::BadValue, 0,
                                  fmt::format("{} holds no SPICE session ({} packets, {} other "
                                              "TCP connections)",
                                              input.string(), result.packets,
                                              result.spice.other_connections));
            }
            return make_error(Errc::BadValue, 0,
                              fmt::format("{} holds {} SPICE sessions; give a directory as -o to "
                                          "write one log per session",
                                          input.string(), result.sessions.size()));
        }
        fs::rename(result.sessions[0].path, options.output, ec);
        if (ec) {
            return make_error(Errc::Io, 0, fmt::format("cannot write {}: {}",
                                                       options.output.string(), ec.message()));
        }
        result.sessions[0].path = options.output;
    }
    return result;
}

}  // namespace spicetap::capture
