// A real capture imported into a temporary session log and opened for replay, for the replay
// tests that need more than one session helper (cursor, seek).
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "replay/session_replay.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace spicetap::test {

struct ReplaySession {
    TempDir dir;
    std::unique_ptr<log::SessionLogReader> reader;
    std::unique_ptr<replay::SessionReplay> replay;
};

inline std::unique_ptr<ReplaySession> open_replay(const std::filesystem::path& pcap,
                                                  const replay::ReplayOptions& options = {}) {
    auto s = std::make_unique<ReplaySession>();
    capture::ImportOptions opt;
    opt.output = s->dir / "session.spicelog";
    opt.tool_version = "test";
    auto imported = capture::import_capture(pcap, opt);
    if (!imported) {
        FAIL("import " << pcap << ": " << imported.error().message());
    }
    auto reader = log::SessionLogReader::open(opt.output);
    REQUIRE(reader);
    s->reader = std::move(*reader);
    auto r = replay::SessionReplay::open(*s->reader, options);
    REQUIRE(r);
    s->replay = std::move(*r);
    return s;
}

// A recording of tests/peers (build/fixtures/<scenario>/capture.pcap), or empty with a warning.
inline std::filesystem::path peer_capture(const std::string& scenario) {
    const auto p = fixture_dir() / scenario / "capture.pcap";
    if (!std::filesystem::exists(p)) {
        WARN("no " << p << " (the peers fixture records it): skipped");
        return {};
    }
    return p;
}

inline std::filesystem::path qemu_capture(const std::string& name) {
    const auto p = fixture_dir() / ("qemu-" + name) / "capture.pcap";
    if (!std::filesystem::exists(p)) {
        WARN("no " << p << " (the spicetap_record_qemu fixture records it): skipped");
        return {};
    }
    return p;
}

}  // namespace spicetap::test
