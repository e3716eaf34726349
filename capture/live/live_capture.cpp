#include "capture/live/live_capture.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <system_error>

#include "capture/live/privileges.h"
#include "capture/live/stop_signals.h"
#include "capture/log/wal_checkpointer.h"

namespace spicetap::capture {

namespace fs = std::filesystem;

namespace {

int64_t wall_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

log::CaptureCounters counters_of(const SourceStats& s) {
    return {s.packets, s.dropped, s.if_dropped};
}

// Makes the output directory, handing it to `user` when it is new, so the capture can still
// write there after dropping root.
Result<void> prepare_directory(const fs::path& dir, const std::string& user) {
    std::error_code ec;
    const bool existed = fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir, ec)) {
        return make_error(
            Errc::Io, 0,
            fmt::format("cannot create output directory {}: {}", dir.string(), ec.message()));
    }
    if (!existed && !user.empty()) {
        auto ids = user_ids(user);
        if (!ids) {
            return ids.error();
        }
        if (::chown(dir.c_str(), ids->first, ids->second) != 0) {
            return make_error(Errc::Io, 0,
                              fmt::format("cannot give {} to user '{}'", dir.string(), user));
        }
    }
    return {};
}

}  // namespace

Result<RotateLimit> parse_rotate_after(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    const std::string unit = text.substr(digits);
    auto bad = [&](std::string why) {
        return make_error(Errc::BadValue, digits,
                          fmt::format("bad --rotate-after '{}': {} (a size like 500M, 2G, or a "
                                      "duration like 90s, 30min, 12h)",
                                      text, why));
    };
    if (digits == 0 || digits > 15) {
        return bad("expected a number first");
    }
    const uint64_t n = std::stoull(text.substr(0, digits));
    if (n == 0) {
        return bad("must be more than 0");
    }
    RotateLimit limit;
    auto size_unit = [&](char c) -> uint64_t {
        return c == 'K' ? 1ull << 10 : c == 'M' ? 1ull << 20 : c == 'G' ? 1ull << 30 : 0;
    };
    if (unit.empty() || unit == "B") {
        limit.bytes = n;
    } else if (unit == "s") {
        limit.us = static_cast<int64_t>(n) * 1'000'000;
    } else if (unit == "min") {
        limit.us = static_cast<int64_t>(n) * 60'000'000;
    } else if (unit == "h") {
        limit.us = static_cast<int64_t>(n) * 3600'000'000;
    } else if (size_unit(unit[0]) != 0 &&
               (unit.size() == 1 || unit.substr(1) == "B" || unit.substr(1) == "iB")) {
        limit.bytes = n * size_unit(unit[0]);
    } else if (unit == "m") {
        return bad("'m' is ambiguous: M for MiB, min for minutes");
    } else {
        return bad(fmt::format("unknown unit '{}'", unit));
    }
    return limit;
}

Result<LiveCaptureResult> run_live_capture(const LiveCaptureOptions& options) {
    auto dir = prepare_directory(options.directory, options.user);
    if (!dir) {
        return dir.error();
    }
    auto opened = PacketSource::open_live(options.source);
    if (!opened) {
        return opened.error();
    }
    std::unique_ptr<PacketSource> source = std::move(*opened);
    if (!TcpReassembler::supports_linktype(source->linktype())) {
        return make_error(Errc::Unsupported, 0,
                          fmt::format("interface {} has link type {}, which spicetap cannot "
                                      "parse (supported: Ethernet, Linux cooked, loopback, raw "
                                      "IP)",
                                      options.source.interface, source->linktype()));
    }
    // The device is open: nothing below needs root, and the parsers should not have it.
    if (!options.user.empty()) {
        auto dropped = drop_privileges(options.user);
        if (!dropped) {
            return dropped.error();
        }
    }
    if (::access(options.directory.c_str(), W_OK | X_OK) != 0) {
        return make_error(
            Errc::Io, 0,
            fmt::format(
                "cannot write to {}{}", options.directory.string(),
                options.user.empty() ? std::string() : fmt::format(" as user '{}'", options.user)));
    }

    SessionSinkOptions sink;
    sink.directory = options.directory;
    sink.tool_version = options.tool_version;
    sink.source_kind = "live";
    sink.source =
        options.source.filter.empty()
            ? fmt::format("iface={}", options.source.interface)
            : fmt::format("iface={} filter={}", options.source.interface, options.source.filter);
    sink.crash_safe = true;
    sink.live = true;
    sink.rotate_bytes = options.rotate_bytes;
    sink.rotate_us = options.rotate_us;
    sink.on_log_opened = options.on_log_opened;
    sink.on_log_closed = options.on_log_closed;
    // Declared before the builder: its writers deregister from it when they close.
    log::WalCheckpointer checkpointer;
    sink.checkpointer = &checkpointer;
    SpiceSessionBuilder builder(sink);
    ReassemblyOptions tcp_options;
    tcp_options.idle_timeout_us = options.idle_timeout_us;
    TcpReassembler reassembler(builder, tcp_options);
    // Every log records how libpcap's counters moved while it was open, from the first one on.
    builder.set_capture_counters(counters_of(source->stats()));

    std::optional<StopSignals> signals;
    if (options.stop_on_signals) {
        PacketSource* src = source.get();
        signals.emplace([src](int) { src->interrupt(); });
    }
    if (options.on_listening) {
        options.on_listening();
    }

    LiveCaptureResult result;
    std::optional<DecodeError> capture_error;
    // Timed work (commits, idle connections, rotation) runs on a wall-clock beat: about twice a
    // second, with or without packets, so a log always holds what came up to the last second.
    constexpr auto kTickEvery = std::chrono::milliseconds(500);
    auto next_tick = std::chrono::steady_clock::now() + kTickEvery;
    auto next_stats =
        std::chrono::steady_clock::now() + std::chrono::microseconds(options.stats_interval_us);
    int64_t last_ts = 0;
    RawPacket packet;
    for (;;) {
        auto polled = source->poll(packet);
        if (!polled) {
            capture_error = polled.error();
            break;
        }
        if (*polled == PollResult::End) {
            break;
        }
        if (*polled == PollResult::Packet) {
            last_ts = std::max(last_ts, packet.ts_us);
            reassembler.feed(packet);
        }
        if (builder.fatal_error()) {
            break;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_tick) {
            next_tick = now + kTickEvery;
            // Packet times come from the same clock; a quiet link still moves time on.
            const int64_t now_us = std::max(last_ts, wall_now_us());
            reassembler.tick(now_us);
            builder.set_capture_counters(counters_of(source->stats()));
            builder.tick(now_us);
            if (builder.fatal_error()) {
                break;
            }
        }
        if (options.on_stats && options.stats_interval_us > 0 && now >= next_stats) {
            next_stats = now + std::chrono::microseconds(options.stats_interval_us);
            options.on_stats(source->stats());
        }
    }
    if (signals) {
        result.stop_signal = signals->received();
        signals.reset();
    }
    // Finalise everything that is open, even after an error: what was recorded stays readable.
    const int64_t end_us = std::max(last_ts, wall_now_us());
    result.source = source->stats();
    builder.set_capture_counters(counters_of(result.source));
    reassembler.finish(end_us);
    result.tcp = reassembler.stats();
    auto logs = builder.finish();
    result.spice = builder.stats();
    if (!logs) {
        return logs.error();
    }
    if (capture_error) {
        return *capture_error;
    }
    result.logs = std::move(*logs);
    return result;
}

}  // namespace spicetap::capture
