// Times given on the command line: seconds from the session start ("12.5"), a time of day in
// UTC on the session's first day ("01:12:03.250"), an ISO date-time ("2026-11-24T01:12:03Z"),
// or "start"/"end".
#pragma once

#include <cstdint>
#include <string_view>

#include "decode/wire/result.h"

namespace spicetap {

// Resolves `text` to an absolute capture time in µs for a session spanning [start_us, end_us].
Result<int64_t> parse_time_arg(std::string_view text, int64_t start_us, int64_t end_us);

}  // namespace spicetap
