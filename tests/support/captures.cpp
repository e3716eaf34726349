#include "tests/support/captures.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "tests/support/paths.h"

namespace spicetap::test {

namespace fs = std::filesystem;

std::vector<fs::path> committed_captures() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(source_dir() / "tests" / "data", ec)) {
        if (e.path().extension() == ".pcap" || e.path().extension() == ".pcapng") {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A TLS session's capture is ciphertext: nothing SPICE to read in it (the proxy records the
// plaintext of such sessions instead).
static bool is_tls_recording(const fs::path& dir) {
    std::ifstream in(dir / "manifest.json");
    const std::string s((std::istreambuf_iterator<char>(in)), {});
    return s.find("\"tls\": true") != std::string::npos ||
           s.find("\"tls\":true") != std::string::npos;
}

std::vector<fs::path> recorded_captures() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fixture_dir(), ec)) {
        const fs::path p = e.path() / "capture.pcap";
        if (fs::exists(p, ec) && !is_tls_recording(e.path())) {
            out.push_back(p);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<fs::path> all_real_captures() {
    auto out = committed_captures();
    auto rec = recorded_captures();
    out.insert(out.end(), rec.begin(), rec.end());
    return out;
}

}  // namespace spicetap::test
