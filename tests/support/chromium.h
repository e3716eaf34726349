// Headless Chromium as the browser tests start it.
#pragma once

#include <filesystem>
#include <string>

namespace spicetap::test {

// "timeout SECONDS chromium --headless ... --user-data-dir=PROFILE": no sandbox or GPU (CI
// runs as root in a VM) and none of Chromium's own background traffic; the caller appends the
// rest of the command line.
std::string headless_chromium(const std::filesystem::path& profile, int timeout_seconds);

}  // namespace spicetap::test
