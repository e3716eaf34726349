// Where a test finds the things around it. Each accessor honours an environment override
// (SPICETAP_FIXTURES, SPICETAP_BIN, SPICETAP_SOURCE_DIR, SPICETAP_BUILD_DIR) and otherwise
// uses the paths CMake compiled into the test executable.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace spicetap::test {

inline std::filesystem::path env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::filesystem::path(v && *v ? v : fallback);
}

#ifdef SPICETAP_FIXTURE_DIR
inline std::filesystem::path fixture_dir() {
    // SPICETAP_FIXTURE_DIR is accepted too: it is the CMake variable's name.
    const char* alias = std::getenv("SPICETAP_FIXTURE_DIR");
    return env_or("SPICETAP_FIXTURES", alias && *alias ? alias : SPICETAP_FIXTURE_DIR);
}
inline std::filesystem::path spicetap_bin() { return env_or("SPICETAP_BIN", SPICETAP_BIN_PATH); }
inline std::filesystem::path source_dir() { return env_or("SPICETAP_SOURCE_DIR", SPICETAP_SOURCE_PATH); }
inline std::filesystem::path build_dir() { return env_or("SPICETAP_BUILD_DIR", SPICETAP_BUILD_PATH); }
#endif

}  // namespace spicetap::test
