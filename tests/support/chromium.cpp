#include "tests/support/chromium.h"

#include "tests/support/process.h"

namespace spicetap::test {

std::string headless_chromium(const std::filesystem::path& profile, int timeout_seconds) {
    return "timeout " + std::to_string(timeout_seconds) +
           " chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
           "--disable-component-update --disable-sync --user-data-dir=" +
           shell_quote(profile.string());
}

}  // namespace spicetap::test
