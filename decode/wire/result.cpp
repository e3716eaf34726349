#include "decode/wire/result.h"

#include <fmt/core.h>

namespace spicetap {

const char* errc_name(Errc code) {
    switch (code) {
        case Errc::Truncated: return "truncated";
        case Errc::BadMagic: return "bad magic";
        case Errc::BadValue: return "bad value";
        case Errc::Unsupported: return "unsupported";
        case Errc::LimitExceeded: return "limit exceeded";
        case Errc::Corrupt: return "corrupt";
        case Errc::Io: return "i/o error";
    }
    return "error";
}

std::string DecodeError::message() const {
    return fmt::format("{} at byte {}: {}", errc_name(code), offset, what);
}

}  // namespace spicetap
