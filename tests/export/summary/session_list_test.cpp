// `sessions`: state of each log (recording, finished, cut short, unreadable), channels, order.
#include "export/summary/session_list.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "capture/log/session_log.h"
#include "capture/log/writer_identity.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;

namespace {

log::SessionInfo session(int64_t start_us, const std::string& kind) {
    log::SessionInfo s;
    s.created = "2026-11-30T00:00:00Z";
    s.tool_version = "test";
    s.source_kind = kind;
    s.source = "iface=lo";
    s.session_id = 0x1234;
    s.server = "127.0.0.1:5900";
    s.client = "127.0.0.1:40000";
    s.start_us = start_us;
    s.end_us = start_us + 2'500'000;
    return s;
}

log::ConnectionInfo channel(int type, int id) {
    log::ConnectionInfo c;
    c.client_addr = c.server_addr = "127.0.0.1";
    c.client_port = static_cast<uint16_t>(40000 + type * 10 + id);
    c.server_port = 5900;
    c.channel_type = type;
    c.channel_id = id;
    c.end_reason = "fin";
    return c;
}

}  // namespace

TEST_CASE("list_sessions: recording, finished, cut short and unreadable logs",
          "[export][sessions]") {
    test::TempDir dir;
    // Finished: closed by its writer.
    {
        auto w = log::SessionLogWriter::create(dir / "b-finished.spicelog",
                                               session(2'000'000'000'000'000, "live"));
        REQUIRE(w.has_value());
        REQUIRE((*w)->add_connection(channel(1, 0)).has_value());
        REQUIRE((*w)->add_connection(channel(2, 0)).has_value());
        REQUIRE((*w)->add_connection(channel(2, 1)).has_value());
        REQUIRE((*w)->close().has_value());
    }
    // Cut short: incomplete, written by an import that stopped (no writer identity).
    {
        auto w = log::SessionLogWriter::create(dir / "c-cut.spicelog",
                                               session(2'000'000'100'000'000, "pcap"));
        REQUIRE(w.has_value());
        REQUIRE((*w)->add_connection(channel(1, 0)).has_value());
        REQUIRE((*w)->flush().has_value());
    }  // dropped without close()
    // Recording: incomplete, its writer (this process) runs.
    auto info = session(1'900'000'000'000'000, "live");
    info.writer = log::current_writer_identity();
    auto live = log::SessionLogWriter::create(dir / "a-live.spicelog", info);
    REQUIRE(live.has_value());
    REQUIRE((*live)->add_connection(channel(1, 0)).has_value());
    REQUIRE((*live)->flush().has_value());
    // Not a log; and a hidden temporary file that is skipped.
    std::ofstream(dir / "d-junk.spicelog") << "not a database";
    std::ofstream(dir / ".spicetap-1-1.spicelog") << "temporary";

    auto listed = summary::list_sessions(dir.path());
    REQUIRE(listed.has_value());
    REQUIRE(listed->size() == 4);
    // The unreadable one has no start time, so it sorts first.
    CHECK((*listed)[0].state == summary::RecordingState::Unreadable);
    CHECK((*listed)[0].error.find("not a spicetap session log") != std::string::npos);
    CHECK((*listed)[1].file.filename() == "a-live.spicelog");
    CHECK((*listed)[1].state == summary::RecordingState::Recording);
    CHECK((*listed)[2].state == summary::RecordingState::Finished);
    CHECK((*listed)[2].channels == std::vector<std::string>{"main", "display", "display#1"});
    CHECK((*listed)[3].state == summary::RecordingState::CutShort);
    CHECK(summary::recorder_name((*listed)[3].session.source_kind) == "import");
    CHECK((*listed)[1].size > 0);

    const std::string text = summary::format_session_list_text(*listed);
    CHECK(text.find("recording") != std::string::npos);
    CHECK(text.find("cut short") != std::string::npos);
    CHECK(text.find("main,display,display#1") != std::string::npos);
    const std::string json = summary::format_session_list_json(*listed);
    CHECK(json.find("\"state\":\"finished\"") != std::string::npos);
    CHECK(json.find("\"channels\":[\"main\",\"display\",\"display#1\"]") != std::string::npos);

    // Once closed, the live log is finished.
    REQUIRE((*live)->close().has_value());
    auto again = summary::list_sessions(dir.path());
    REQUIRE(again.has_value());
    CHECK((*again)[1].state == summary::RecordingState::Finished);
}
