#include "capture/log/session_log.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <random>
#include <thread>

#include "capture/log/wal_checkpointer.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using log::Direction;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) {
        b = static_cast<uint8_t>(rng());
    }
    return v;
}

log::SessionInfo info() {
    log::SessionInfo s;
    s.created = "2026-11-24T01:00:00Z";
    s.tool_version = "test";
    s.source_kind = "pcap";
    s.source = "/tmp/x.pcap";
    s.session_id = 0xdeadbeef;
    s.server = "127.0.0.1:5900";
    s.client = "127.0.0.1:40000";
    s.start_us = 1000;
    s.end_us = 9000;
    return s;
}

log::ConnectionInfo connection(int type) {
    log::ConnectionInfo c;
    c.client_addr = "127.0.0.1";
    c.client_port = static_cast<uint16_t>(40000 + type);
    c.server_addr = "127.0.0.1";
    c.server_port = 5900;
    c.start_us = 1000;
    c.end_us = 9000;
    c.channel_type = type;
    c.channel_id = 0;
    c.connection_id = 0xdeadbeef;
    c.client_common_caps = {0xb};
    c.server_common_caps = {0xb};
    c.client_channel_caps = {0x1234, 0x1};
    c.mini_header = true;
    c.end_reason = "fin";
    return c;
}

}  // namespace

TEST_CASE("session log round trip: bytes, connections, messages, gaps, notes", "[log]") {
    test::TempDir dir;
    const fs::path path = dir / "a.spicelog";
    auto w = log::SessionLogWriter::create(path, info());
    REQUIRE(w.has_value());
    std::vector<int64_t> ids;
    for (int t : {1, 2, 3}) {
        auto id = (*w)->add_connection(connection(t));
        REQUIRE(id.has_value());
        ids.push_back(*id);
    }
    std::vector<uint8_t> sent[3][2];
    uint64_t offset[3][2] = {};
    for (int i = 0; i < 300; ++i) {
        const int c = i % 3;
        const int d = (i / 3) % 2;
        auto bytes =
            random_bytes(1 + static_cast<size_t>(i) * 97 % 70000, static_cast<uint32_t>(i));
        REQUIRE((*w)->append_data(ids[c], static_cast<Direction>(d), 1000 + i, offset[c][d], bytes)
                    .has_value());
        offset[c][d] += bytes.size();
        sent[c][d].insert(sent[c][d].end(), bytes.begin(), bytes.end());
        log::MessageRecord m{ids[c],
                             static_cast<Direction>(d),
                             1000 + i,
                             offset[c][d] - 6,
                             (i % 2) ? std::optional<uint64_t>(i) : std::nullopt,
                             101,
                             0,
                             6};
        REQUIRE((*w)->append_message(m).has_value());
    }
    REQUIRE((*w)->append_gap({ids[1], Direction::ServerToClient, 5000, 123, 456}).has_value());
    REQUIRE(
        (*w)->append_note({ids[0], 5001, "framing_error", "s2c truncated at byte 9"}).has_value());
    auto c0 = connection(1);
    c0.id = ids[0];
    c0.end_reason = "rst";
    c0.link_error = 7;
    REQUIRE((*w)->update_connection(c0).has_value());
    REQUIRE((*w)->close().has_value());
    CHECK_FALSE(fs::exists(path.string() + "-wal"));

    auto r = log::SessionLogReader::open(path);
    REQUIRE(r.has_value());
    const auto& rd = **r;
    CHECK(rd.schema_version() == log::kSchemaVersion);
    CHECK(rd.session().complete);
    CHECK(rd.session().session_id == 0xdeadbeef);
    CHECK(rd.session().source == "/tmp/x.pcap");
    REQUIRE(rd.connections().size() == 3);
    CHECK(rd.connections()[0].end_reason == "rst");
    CHECK(rd.connections()[0].link_error == 7);
    CHECK(rd.connections()[1].client_channel_caps == std::vector<uint32_t>{0x1234, 0x1});
    CHECK(rd.connections()[1].mini_header);
    for (int c = 0; c < 3; ++c) {
        for (int d = 0; d < 2; ++d) {
            std::vector<uint8_t> got;
            REQUIRE(rd.for_each_chunk(ids[c], static_cast<Direction>(d), [&](const auto& ch) {
                          CHECK(ch.offset == got.size());
                          got.insert(got.end(), ch.data.begin(), ch.data.end());
                          return true;
                      }).has_value());
            CHECK(got == sent[c][d]);
        }
    }
    // read_stream returns exact ranges across chunk boundaries, and refuses ranges past the end.
    auto part = rd.read_stream(ids[2], Direction::ServerToClient, 1000, 150000);
    REQUIRE(part.has_value());
    CHECK(std::equal(part->begin(), part->end(), sent[2][1].begin() + 1000));
    auto past = rd.read_stream(ids[2], Direction::ServerToClient, sent[2][1].size() - 5, 10);
    CHECK_FALSE(past.has_value());

    int64_t last_ts = 0;
    uint64_t count = 0;
    REQUIRE(rd.for_each_chunk([&](const log::DataChunk& ch) {
                  CHECK(ch.ts_us >= last_ts);
                  last_ts = ch.ts_us;
                  ++count;
                  return true;
              }).has_value());
    CHECK(count == 300);
    log::SessionLogReader::MessageFilter f;
    f.from_us = 1100;
    f.to_us = 1199;
    f.connection = ids[1];
    uint64_t n = 0;
    REQUIRE(rd.for_each_message(f, [&](const log::MessageRecord& m) {
                  CHECK(m.connection == ids[1]);
                  CHECK(m.ts_us >= 1100);
                  CHECK(m.ts_us <= 1199);
                  CHECK(m.serial.has_value() == ((m.ts_us - 1000) % 2 == 1));
                  ++n;
                  return true;
              }).has_value());
    CHECK(n == 34);  // i in 100..199 with i % 3 == 1
    CHECK(*rd.message_count() == 300);
    auto gaps = rd.gaps();
    REQUIRE(gaps->size() == 1);
    CHECK((*gaps)[0].length == 456);
    auto notes = rd.notes();
    REQUIRE(notes->size() == 1);
    CHECK((*notes)[0].kind == "framing_error");
}

TEST_CASE("a killed writer leaves a log that opens with everything up to the last commit",
          "[log]") {
    test::TempDir dir;
    const fs::path path = dir / "killed.spicelog";
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        auto w = log::SessionLogWriter::create(path, info());
        if (!w) {
            ::_exit(1);
        }
        auto id = (*w)->add_connection(connection(2));
        uint64_t off = 0;
        for (int i = 0; i < 50; ++i) {
            auto b = random_bytes(10000, static_cast<uint32_t>(i));
            (void)(*w)->append_data(*id, Direction::ServerToClient, i, off, b);
            off += b.size();
        }
        (void)(*w)->flush();
        const char ok = 'k';
        (void)::write(pipefd[1], &ok, 1);
        // More data that is never committed, then wait to be killed.
        for (int i = 50; i < 60; ++i) {
            auto b = random_bytes(10000, static_cast<uint32_t>(i));
            (void)(*w)->append_data(*id, Direction::ServerToClient, i, off, b);
            off += b.size();
        }
        ::pause();
        ::_exit(0);
    }
    ::close(pipefd[1]);
    char c = 0;
    REQUIRE(::read(pipefd[0], &c, 1) == 1);
    ::close(pipefd[0]);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);

    auto r = log::SessionLogReader::open(path);
    REQUIRE(r.has_value());
    CHECK_FALSE((*r)->session().complete);
    uint64_t bytes = 0;
    REQUIRE((*r)->for_each_chunk((*r)->connections().at(0).id, Direction::ServerToClient,
                                 [&](const log::DataChunk& ch) {
                                     bytes += ch.data.size();
                                     return true;
                                 })
                .has_value());
    CHECK(bytes >= 500000);
    CHECK(bytes <= 600000);
}

TEST_CASE("damaged, foreign and newer logs give clear errors, never a crash", "[log]") {
    test::TempDir dir;
    const fs::path good = dir / "good.spicelog";
    {
        auto w = log::SessionLogWriter::create(good, info());
        REQUIRE(w.has_value());
        auto id = (*w)->add_connection(connection(2));
        for (int i = 0; i < 40; ++i) {
            auto b = random_bytes(5000, static_cast<uint32_t>(i));
            REQUIRE((*w)->append_data(*id, Direction::ServerToClient, i, uint64_t(i) * 5000, b)
                        .has_value());
            REQUIRE((*w)->append_message({*id, Direction::ServerToClient, i, uint64_t(i) * 5000,
                                          std::nullopt, 304, 4994, 6})
                        .has_value());
        }
        REQUIRE((*w)->close().has_value());
    }
    SECTION("missing") {
        auto r = log::SessionLogReader::open(dir / "missing.spicelog");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::Io);
    }
    SECTION("not SQLite") {
        const fs::path p = dir / "text.spicelog";
        std::FILE* f = std::fopen(p.c_str(), "w");
        std::fputs("hello, this is not a database at all, not even close to one\n", f);
        std::fclose(f);
        auto r = log::SessionLogReader::open(p);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::BadMagic);
        CHECK(r.error().what.find("not a spicetap session log") != std::string::npos);
    }
    SECTION("another SQLite database") {
        const fs::path p = dir / "other.db";
        sqlite3* db = nullptr;
        sqlite3_open(p.c_str(), &db);
        sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
        sqlite3_close(db);
        auto r = log::SessionLogReader::open(p);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::BadMagic);
    }
    SECTION("newer schema") {
        const fs::path p = dir / "newer.spicelog";
        fs::copy_file(good, p);
        sqlite3* db = nullptr;
        sqlite3_open(p.c_str(), &db);
        sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
        sqlite3_close(db);
        auto r = log::SessionLogReader::open(p);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::Unsupported);
        CHECK(r.error().what.find("newer spicetap (schema 99") != std::string::npos);
    }
    SECTION("truncated or overwritten at many places") {
        const auto size = fs::file_size(good);
        std::mt19937 rng(7);
        for (int i = 0; i < 40; ++i) {
            const fs::path p = dir / ("bad" + std::to_string(i) + ".spicelog");
            fs::copy_file(good, p, fs::copy_options::overwrite_existing);
            if (i % 2 == 0) {
                fs::resize_file(p, size * static_cast<uintmax_t>(i + 1) / 42);
            } else {
                std::FILE* f = std::fopen(p.c_str(), "r+b");
                std::fseek(f, static_cast<long>(rng() % size), SEEK_SET);
                auto junk = random_bytes(600, static_cast<uint32_t>(i));
                std::fwrite(junk.data(), 1, junk.size(), f);
                std::fclose(f);
            }
            auto r = log::SessionLogReader::open(p);
            if (!r) {
                CHECK_FALSE(r.error().what.empty());
                continue;
            }
            // Whatever opens must read to the end or fail cleanly.
            for (const auto& c : (*r)->connections()) {
                (void)(*r)->for_each_chunk(c.id, Direction::ServerToClient,
                                           [](const log::DataChunk&) { return true; });
            }
            (void)(*r)->for_each_message({}, [](const log::MessageRecord&) { return true; });
            (void)(*r)->gaps();
            (void)(*r)->notes();
        }
    }
}

TEST_CASE("creating a log over an existing file is refused", "[log]") {
    test::TempDir dir;
    const fs::path p = dir / "x.spicelog";
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fclose(f);
    auto w = log::SessionLogWriter::create(p, info());
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().what.find("already exists") != std::string::npos);
}

TEST_CASE("a WAL checkpointer copies a log being written on its own thread and finishes it",
          "[log]") {
    test::TempDir dir;
    const fs::path path = dir / "live.spicelog";
    fs::path wal = path;
    wal += "-wal";
    log::WalCheckpointer checkpointer;
    log::SessionLogWriter::Options opt;
    opt.checkpointer = &checkpointer;
    auto w = log::SessionLogWriter::create(path, info(), opt);
    REQUIRE(w.has_value());
    auto id = (*w)->add_connection(connection(2));
    REQUIRE(id.has_value());
    std::vector<std::vector<uint8_t>> written;
    uint64_t off = 0;
    auto append = [&](int n) {
        for (int i = 0; i < n; ++i) {
            written.push_back(random_bytes(256 << 10, static_cast<uint32_t>(written.size())));
            REQUIRE(
                (*w)->append_data(*id, Direction::ServerToClient, int64_t(off), off, written.back())
                    .has_value());
            off += written.back().size();
        }
        REQUIRE((*w)->flush().has_value());
    };
    append(160);  // 40 MiB: past the checkpointer's 32 MiB
    // The writer never checkpoints itself (wal_autocheckpoint=0): the main file only grows
    // because the checkpointer copies the WAL into it while the writer keeps it open.
    bool copied = false;
    for (int i = 0; i < 100 && !copied; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        copied = fs::file_size(path) >= (32u << 20);
    }
    CHECK(copied);
    CHECK(fs::exists(wal));
    append(16);
    REQUIRE((*w)->close().has_value());
    w->reset();
    // The checkpointer's thread finishes the handed-over log: whole WAL in the main file, WAL
    // mode left.
    bool finished = false;
    for (int i = 0; i < 100 && !finished; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        finished = !fs::exists(wal);
    }
    CHECK(finished);
    checkpointer.stop();
    auto r = log::SessionLogReader::open(path);
    REQUIRE(r.has_value());
    CHECK((*r)->session().complete);
    size_t i = 0;
    bool same = true;
    REQUIRE((*r)->for_each_chunk((*r)->connections().at(0).id, Direction::ServerToClient,
                                 [&](const log::DataChunk& ch) {
                                     same = same && i < written.size() && ch.data == written[i];
                                     ++i;
                                     return true;
                                 })
                .has_value());
    CHECK(same);
    CHECK(i == written.size());
}
