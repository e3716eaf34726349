// The `dump` view: one line (or one JSON object) per message, in capture-time order across all
// channels. JSON shape: docs/dump-format.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "capture/log/session_log.h"

namespace spicetap::dump {

struct DumpOptions {
    // "display", "display:1" / "display#1" (type and id), or empty for every channel.
    std::string channel;
    std::optional<int64_t> from_us, to_us;  // absolute capture times
    bool json = false;
    // Decode each message's body and add its fields (and `error` where it cannot be decoded).
    bool decode = false;
};

struct DumpStats {
    uint64_t messages = 0;
    uint64_t decoded = 0;
    uint64_t errors = 0;       // messages listed with an `error`
};

// Calls `out` with each line (without the trailing newline).
Result<DumpStats> dump_messages(const log::SessionLogReader& reader, const DumpOptions& options,
                                const std::function<void(std::string_view)>& out);

}  // namespace spicetap::dump
