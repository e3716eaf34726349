#include "capture/log/session_log.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <system_error>

#include "capture/log/sqlite_handle.h"
#include "capture/log/wal_checkpointer.h"

namespace spicetap::log {

namespace {

using detail::db_error;
using detail::Statement;

// "SPTC": tells a session log from any other SQLite file.
constexpr int32_t kApplicationId = 0x53505443;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE connections (
    id INTEGER PRIMARY KEY,
    client_addr TEXT NOT NULL, client_port INTEGER NOT NULL,
    server_addr TEXT NOT NULL, server_port INTEGER NOT NULL,
    start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,
    channel_type INTEGER, channel_id INTEGER, connection_id INTEGER NOT NULL,
    client_common_caps BLOB, client_channel_caps BLOB,
    server_common_caps BLOB, server_channel_caps BLOB,
    mini_header INTEGER NOT NULL, link_error INTEGER NOT NULL, tls INTEGER NOT NULL,
    end_reason TEXT NOT NULL, bytes_c2s INTEGER NOT NULL, bytes_s2c INTEGER NOT NULL);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, connection INTEGER NOT NULL, dir INTEGER NOT NULL,
    ts_us INTEGER NOT NULL, offset INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX chunks_by_stream ON chunks (connection, dir, offset);
CREATE INDEX chunks_by_time ON chunks (ts_us);
CREATE TABLE gaps (
    id INTEGER PRIMARY KEY, connection INTEGER NOT NULL, dir INTEGER NOT NULL,
    ts_us INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, connection INTEGER NOT NULL, dir INTEGER NOT NULL,
    ts_us INTEGER NOT NULL, offset INTEGER NOT NULL, serial INTEGER, type INTEGER NOT NULL,
    size INTEGER NOT NULL, header_size INTEGER NOT NULL);
CREATE INDEX messages_by_time ON messages (ts_us);
CREATE INDEX messages_by_connection ON messages (connection, ts_us);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY, connection INTEGER NOT NULL, ts_us INTEGER NOT NULL,
    kind TEXT NOT NULL, text TEXT NOT NULL);
)sql";

std::vector<uint8_t> caps_blob(const std::vector<uint32_t>& words) {
    std::vector<uint8_t> out;
    out.reserve(words.size() * 4);
    for (uint32_t w : words) {
        for (int i = 0; i < 4; ++i) {
            out.push_back(static_cast<uint8_t>(w >> (8 * i)));
        }
    }
    return out;
}

std::vector<uint32_t> caps_words(ByteView blob) {
    std::vector<uint32_t> out(blob.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<uint32_t>(blob[4 * i]) | static_cast<uint32_t>(blob[4 * i + 1]) << 8 |
                 static_cast<uint32_t>(blob[4 * i + 2]) << 16 |
                 static_cast<uint32_t>(blob[4 * i + 3]) << 24;
    }
    return out;
}

Result<void> exec(sqlite3* db, const char* sql, std::string_view doing) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        return db_error(db, rc, doing);
    }
    return {};
}

constexpr const char* kConnectionColumns =
    "client_addr, client_port, server_addr, server_port, start_us, end_us, channel_type, "
    "channel_id, connection_id, client_common_caps, client_channel_caps, server_common_caps, "
    "server_channel_caps, mini_header, link_error, tls, end_reason, bytes_c2s, bytes_s2c";

// Binds a connection's columns starting at parameter 1 (19 of them).
void bind_connection(Statement& st, const ConnectionInfo& c, std::vector<uint8_t> (&caps)[4]) {
    caps[0] = caps_blob(c.client_common_caps);
    caps[1] = caps_blob(c.client_channel_caps);
    caps[2] = caps_blob(c.server_common_caps);
    caps[3] = caps_blob(c.server_channel_caps);
    st.bind(1, c.client_addr).bind(2, int64_t{c.client_port});
    st.bind(3, c.server_addr).bind(4, int64_t{c.server_port});
    st.bind(5, c.start_us).bind(6, c.end_us);
    if (c.channel_type >= 0) {
        st.bind(7, int64_t{c.channel_type}).bind(8, int64_t{c.channel_id});
    } else {
        st.bind_null(7).bind_null(8);
    }
    st.bind(9, int64_t{c.connection_id});
    for (int i = 0; i < 4; ++i) {
        st.bind_blob(10 + i, caps[i]);
    }
    st.bind(14, int64_t{c.mini_header}).bind(15, int64_t{c.link_error});
    st.bind(16, int64_t{c.tls}).bind(17, c.end_reason);
    st.bind(18, static_cast<int64_t>(c.bytes_c2s)).bind(19, static_cast<int64_t>(c.bytes_s2c));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer

struct SessionLogWriter::Impl {
    std::filesystem::path path;
    sqlite3* db = nullptr;
    Statement ins_chunk, ins_gap, ins_message, ins_note, ins_connection, upd_connection, set_meta;
    bool in_transaction = false;
    uint64_t pending_rows = 0;
    uint64_t pending_bytes = 0;
    std::chrono::steady_clock::time_point last_commit = std::chrono::steady_clock::now();
    bool closed = false;
    bool crash_safe = true;
    WalCheckpointer* checkpointer = nullptr;  // registered with it while open

    ~Impl() {
        // A writer dropped without close(): keep what was appended (commit), leave the
        // session marked incomplete.
        if (db != nullptr) {
            if (in_transaction) {
                sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
            }
            if (checkpointer) {
                checkpointer->remove(path);
            }
            ins_chunk = {};
            ins_gap = {};
            ins_message = {};
            ins_note = {};
            ins_connection = {};
            upd_connection = {};
            set_meta = {};
            sqlite3_close(db);
        }
    }

    Result<void> begin() {
        if (!in_transaction) {
            auto r = exec(db, "BEGIN", "begin transaction");
            if (!r) {
                return r;
            }
            in_transaction = true;
        }
        return {};
    }

    Result<void> commit() {
        if (in_transaction) {
            auto r = exec(db, "COMMIT", fmt::format("commit to {}", path.string()).c_str());
            if (!r) {
                return r;
            }
            in_transaction = false;
            if (checkpointer) {
                checkpointer->committed(path, pending_bytes);
            }
        }
        pending_rows = 0;
        pending_bytes = 0;
        last_commit = std::chrono::steady_clock::now();
        return {};
    }

    // Commits in batches, and at least once a second, so a killed writer loses little.
    Result<void> after_row(size_t bytes) {
        ++pending_rows;
        pending_bytes += bytes;
        if (pending_rows >= 20000 || pending_bytes >= (32u << 20) ||
            (crash_safe &&
             std::chrono::steady_clock::now() - last_commit >= std::chrono::seconds(1))) {
            auto r = commit();
            if (!r) {
                return r;
            }
            return begin();
        }
        return {};
    }

    Result<void> run(Statement& st, std::string_view doing, size_t bytes = 0) {
        if (closed) {
            return make_error(Errc::Io, 0, fmt::format("{}: the log is closed", doing));
        }
        const int rc = st.step();
        st.reset();
        if (rc != SQLITE_DONE) {
            return db_error(db, rc, fmt::format("{} in {}", doing, path.string()));
        }
        return after_row(bytes);
    }

    Result<void> write_meta(const SessionInfo& s) {
        const std::pair<const char*, std::string> rows[] = {
            {"schema_version", std::to_string(kSchemaVersion)},
            {"created", s.created},
            {"tool_version", s.tool_version},
            {"source_kind", s.source_kind},
            {"source", s.source},
            {"session_id", std::to_string(s.session_id)},
            {"server", s.server},
            {"client", s.client},
            {"start_us", std::to_string(s.start_us)},
            {"end_us", std::to_string(s.end_us)},
            {"complete", s.complete ? "1" : "0"},
        };
        for (const auto& [k, v] : rows) {
            auto r = put_meta(k, v);
            if (!r) {
                return r;
            }
        }
        // Keys a version-1 reader does not know and ignores: written only where they apply.
        std::vector<std::pair<const char*, std::string>> extra;
        if (!s.writer.empty()) {
            extra.emplace_back("writer", s.writer);
        }
        if (s.part > 1 || !s.next_part.empty()) {
            extra.emplace_back("part", std::to_string(s.part));
            extra.emplace_back("previous_part", s.previous_part);
            extra.emplace_back("next_part", s.next_part);
        }
        if (s.capture) {
            extra.emplace_back("capture_packets", std::to_string(s.capture->packets));
            extra.emplace_back("capture_dropped", std::to_string(s.capture->dropped));
            extra.emplace_back("capture_if_dropped", std::to_string(s.capture->if_dropped));
        }
        for (const auto& [k, v] : extra) {
            auto r = put_meta(k, v);
            if (!r) {
                return r;
            }
        }
        return {};
    }

    Result<void> put_meta(std::string_view key, std::string_view value) {
        set_meta.bind(1, key).bind(2, value);
        return run(set_meta, "write session metadata");
    }
};

SessionLogWriter::SessionLogWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SessionLogWriter::~SessionLogWriter() = default;

const std::filesystem::path& SessionLogWriter::path() const {
    return impl_->path;
}

Result<std::unique_ptr<SessionLogWriter>> SessionLogWriter::create(
    const std::filesystem::path& path, const SessionInfo& info) {
    return create(path, info, Options{});
}

Result<std::unique_ptr<SessionLogWriter>> SessionLogWriter::create(
    const std::filesystem::path& path, const SessionInfo& info, const Options& options) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        return make_error(Errc::Io, 0, fmt::format("{} already exists", path.string()));
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    const int rc = sqlite3_open_v2(path.c_str(), &impl->db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
        auto e = db_error(impl->db, rc, fmt::format("cannot create {}", path.string()));
        e.code = Errc::Io;
        return e;
    }
    // WAL + synchronous=NORMAL: a committed transaction survives a killed process (the WAL is
    // in the OS page cache); only a power loss can take the last commits.
    const std::string pragmas = fmt::format(
        "PRAGMA page_size=32768; PRAGMA journal_mode={}; PRAGMA synchronous={}; "
        "PRAGMA application_id={}; PRAGMA user_version={};",
        options.crash_safe ? "WAL" : "OFF", options.crash_safe ? "NORMAL" : "OFF", kApplicationId,
        kSchemaVersion);
    impl->crash_safe = options.crash_safe;
    std::string sql_steps[] = {pragmas, "BEGIN", kSchema};
    if (options.crash_safe && options.checkpointer) {
        // The checkpointer's thread copies the WAL; this connection only appends to it.
        sql_steps[0] += " PRAGMA wal_autocheckpoint=0;";
    }
    for (const std::string& sql : sql_steps) {
        auto r = exec(impl->db, sql.c_str(), fmt::format("cannot initialise {}", path.string()));
        if (!r) {
            return r.error();
        }
    }
    impl->in_transaction = true;
    Impl& m = *impl;
    m.ins_chunk = Statement(m.db,
                            "INSERT INTO chunks (connection, dir, ts_us, offset, data) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)");
    m.ins_gap = Statement(m.db,
                          "INSERT INTO gaps (connection, dir, ts_us, offset, length) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)");
    m.ins_message = Statement(m.db,
                              "INSERT INTO messages (connection, dir, ts_us, offset, serial, "
                              "type, size, header_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    m.ins_note = Statement(m.db,
                           "INSERT INTO notes (connection, ts_us, kind, text) "
                           "VALUES (?1, ?2, ?3, ?4)");
    m.ins_connection = Statement(
        m.db, fmt::format("INSERT INTO connections ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                          "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                          kConnectionColumns));
    m.upd_connection = Statement(
        m.db,
        "UPDATE connections SET client_addr=?1, client_port=?2, server_addr=?3, "
        "server_port=?4, start_us=?5, end_us=?6, channel_type=?7, channel_id=?8, "
        "connection_id=?9, client_common_caps=?10, client_channel_caps=?11, "
        "server_common_caps=?12, server_channel_caps=?13, mini_header=?14, link_error=?15, "
        "tls=?16, end_reason=?17, bytes_c2s=?18, bytes_s2c=?19 WHERE id=?20");
    m.set_meta = Statement(m.db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    for (const Statement* st : {&m.ins_chunk, &m.ins_gap, &m.ins_message, &m.ins_note,
                                &m.ins_connection, &m.upd_connection, &m.set_meta}) {
        if (!st->prepared()) {
            return db_error(m.db, st->prepare_rc(), "prepare statements");
        }
    }
    SessionInfo s = info;
    s.complete = false;
    auto r = m.write_meta(s);
    if (!r) {
        return r.error();
    }
    // The empty log with its schema is on disk before any data.
    r = m.commit();
    if (!r) {
        return r.error();
    }
    r = m.begin();
    if (!r) {
        return r.error();
    }
    if (options.crash_safe && options.checkpointer) {
        m.checkpointer = options.checkpointer;
        m.checkpointer->add(path);
    }
    return std::unique_ptr<SessionLogWriter>(new SessionLogWriter(std::move(impl)));
}

Result<int64_t> SessionLogWriter::add_connection(const ConnectionInfo& c) {
    std::vector<uint8_t> caps[4];
    bind_connection(impl_->ins_connection, c, caps);
    auto r = impl_->run(impl_->ins_connection, "add a connection");
    if (!r) {
        return r.error();
    }
    return static_cast<int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<void> SessionLogWriter::update_connection(const ConnectionInfo& c) {
    std::vector<uint8_t> caps[4];
    bind_connection(impl_->upd_connection, c, caps);
    impl_->upd_connection.bind(20, c.id);
    return impl_->run(impl_->upd_connection, "update a connection");
}

Result<void> SessionLogWriter::update_session(const SessionInfo& info) {
    SessionInfo s = info;
    s.complete = false;  // only close() says complete
    return impl_->write_meta(s);
}

Result<void> SessionLogWriter::append_data(int64_t connection, Direction dir, int64_t ts_us,
                                           uint64_t offset, ByteView data) {
    auto& st = impl_->ins_chunk;
    st.bind(1, connection).bind(2, static_cast<int64_t>(dir)).bind(3, ts_us);
    st.bind(4, static_cast<int64_t>(offset)).bind_blob(5, data);
    return impl_->run(st, "append data", data.size());
}

Result<void> SessionLogWriter::append_gap(const GapRecord& g) {
    auto& st = impl_->ins_gap;
    st.bind(1, g.connection).bind(2, static_cast<int64_t>(g.dir)).bind(3, g.ts_us);
    st.bind(4, static_cast<int64_t>(g.offset)).bind(5, static_cast<int64_t>(g.length));
    return impl_->run(st, "append a gap");
}

Result<void> SessionLogWriter::append_message(const MessageRecord& m) {
    auto& st = impl_->ins_message;
    st.bind(1, m.connection).bind(2, static_cast<int64_t>(m.dir)).bind(3, m.ts_us);
    st.bind(4, static_cast<int64_t>(m.offset));
    if (m.serial) {
        st.bind(5, static_cast<int64_t>(*m.serial));
    } else {
        st.bind_null(5);
    }
    st.bind(6, int64_t{m.type}).bind(7, int64_t{m.size}).bind(8, int64_t{m.header_size});
    return impl_->run(st, "append a message");
}

Result<void> SessionLogWriter::append_note(const NoteRecord& n) {
    auto& st = impl_->ins_note;
    st.bind(1, n.connection).bind(2, n.ts_us).bind(3, n.kind).bind(4, n.text);
    return impl_->run(st, "append a note");
}

Result<void> SessionLogWriter::flush() {
    auto r = impl_->commit();
    if (!r) {
        return r;
    }
    return impl_->begin();
}

Result<void> SessionLogWriter::close() {
    Impl& m = *impl_;
    if (m.closed) {
        return {};
    }
    m.set_meta.bind(1, std::string_view("complete")).bind(2, std::string_view("1"));
    auto r = m.run(m.set_meta, "mark the session complete");
    if (!r) {
        return r;
    }
    r = m.commit();
    if (!r) {
        return r;
    }
    m.closed = true;
    m.ins_chunk = {};
    m.ins_gap = {};
    m.ins_message = {};
    m.ins_note = {};
    m.ins_connection = {};
    m.upd_connection = {};
    m.set_meta = {};
    if (m.checkpointer) {
        // The final checkpoint syncs the disk: the checkpointer's thread does it, so the
        // recorder goes on with the other sessions meanwhile.
        m.checkpointer->finish(m.path, m.db);
        m.checkpointer = nullptr;
        m.db = nullptr;
        return {};
    }
    if (m.crash_safe) {
        r = detail::leave_wal(m.db);
        if (!r) {
            return r;
        }
    }
    const int rc = sqlite3_close(m.db);
    m.db = nullptr;
    if (rc != SQLITE_OK) {
        return make_error(Errc::Io, 0,
                          fmt::format("close {}: {}", m.path.string(), sqlite3_errstr(rc)));
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Reader

struct SessionLogReader::Impl {
    std::filesystem::path path;
    sqlite3* db = nullptr;
    int schema_version = 0;
    SessionInfo session;
    std::vector<ConnectionInfo> connections;
    // read_stream() runs once per message in dump, report and replay: preparing its query each
    // time was most of `dump --decode`'s CPU (SQLite's parser on top of the profile). The one
    // statement is shared, so calls take turns.
    std::mutex stream_mutex;
    Statement stream_query;

    ~Impl() {
        stream_query = Statement();  // finalized before the database closes
        if (db != nullptr) {
            sqlite3_close(db);
        }
    }

    DecodeError error(int rc, std::string_view doing) const {
        return db_error(db, rc, fmt::format("{}: {}", path.string(), doing));
    }

    Result<Statement> prepare(std::string_view sql) const {
        Statement st(db, sql);
        if (!st.prepared()) {
            return error(st.prepare_rc(), "damaged or incomplete session log");
        }
        return st;
    }

    // Steps through every row, calling fn(st) until it returns false.
    template <typename Fn>
    Result<void> each_row(Statement& st, std::string_view doing, Fn&& fn) const {
        for (;;) {
            const int rc = st.step();
            if (rc == SQLITE_DONE) {
                return {};
            }
            if (rc != SQLITE_ROW) {
                return error(rc, doing);
            }
            if (!fn(static_cast<const Statement&>(st))) {
                return {};
            }
        }
    }
};

SessionLogReader::SessionLogReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SessionLogReader::~SessionLogReader() = default;

int SessionLogReader::schema_version() const {
    return impl_->schema_version;
}

const SessionInfo& SessionLogReader::session() const {
    return impl_->session;
}

const std::vector<ConnectionInfo>& SessionLogReader::connections() const {
    return impl_->connections;
}

Result<std::unique_ptr<SessionLogReader>> SessionLogReader::open(
    const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return make_error(Errc::Io, 0, fmt::format("{}: no such file", path.string()));
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    // Read-only; a log whose writer was killed still has its WAL, which SQLite replays (that
    // needs the -shm file, so fall back to read-write when read-only cannot set it up).
    int rc = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_close(impl->db);
        impl->db = nullptr;
        rc = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE, nullptr);
    }
    if (rc != SQLITE_OK) {
        auto e = impl->error(rc, "cannot open");
        e.code = Errc::Io;
        return e;
    }
    sqlite3_busy_timeout(impl->db, 2000);
    Impl& m = *impl;
    auto pragma = [&](const char* sql) -> Result<int64_t> {
        auto st = m.prepare(sql);
        if (!st) {
            return st.error();
        }
        const int step = st->step();
        if (step != SQLITE_ROW) {
            return m.error(step, sql);
        }
        return st->int64(0);
    };
    auto app = pragma("PRAGMA application_id");
    if (!app) {
        auto e = app.error();
        if (e.what.find("not a database") != std::string::npos) {
            e.code = Errc::BadMagic;
            e.what = fmt::format("{} is not a spicetap session log (not an SQLite database)",
                                 path.string());
        }
        return e;
    }
    if (*app != kApplicationId) {
        return make_error(Errc::BadMagic, 0,
                          fmt::format("{} is not a spicetap session log (an SQLite database "
                                      "with application id {:#x})",
                                      path.string(), *app));
    }
    auto version = pragma("PRAGMA user_version");
    if (!version) {
        return version.error();
    }
    m.schema_version = static_cast<int>(*version);
    if (m.schema_version > kSchemaVersion) {
        return make_error(Errc::Unsupported, 0,
                          fmt::format("{} was written by a newer spicetap (schema {}, this build "
                                      "reads up to {})",
                                      path.string(), m.schema_version, kSchemaVersion));
    }

    CaptureCounters capture;
    bool has_capture = false;
    auto meta = m.prepare("SELECT key, value FROM meta");
    if (!meta) {
        return meta.error();
    }
    for (;;) {
        rc = meta->step();
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            return m.error(rc, "reading the session metadata");
        }
        const std::string k = meta->text(0);
        const std::string v = meta->text(1);
        auto num = [&] { return std::strtoll(v.c_str(), nullptr, 10); };
        SessionInfo& s = m.session;
        if (k == "created") {
            s.created = v;
        } else if (k == "tool_version") {
            s.tool_version = v;
        } else if (k == "source_kind") {
            s.source_kind = v;
        } else if (k == "source") {
            s.source = v;
        } else if (k == "session_id") {
            s.session_id = static_cast<uint32_t>(num());
        } else if (k == "server") {
            s.server = v;
        } else if (k == "client") {
            s.client = v;
        } else if (k == "start_us") {
            s.start_us = num();
        } else if (k == "end_us") {
            s.end_us = num();
        } else if (k == "complete") {
            s.complete = v == "1";
        } else if (k == "writer") {
            s.writer = v;
        } else if (k == "part") {
            s.part = static_cast<int>(num());
        } else if (k == "previous_part") {
            s.previous_part = v;
        } else if (k == "next_part") {
            s.next_part = v;
        } else if (k == "capture_packets") {
            capture.packets = static_cast<uint64_t>(num());
            has_capture = true;
        } else if (k == "capture_dropped") {
            capture.dropped = static_cast<uint64_t>(num());
            has_capture = true;
        } else if (k == "capture_if_dropped") {
            capture.if_dropped = static_cast<uint64_t>(num());
            has_capture = true;
        }
    }
    if (has_capture) {
        m.session.capture = capture;
    }

    auto conns =
        m.prepare(fmt::format("SELECT id, {} FROM connections ORDER BY id", kConnectionColumns));
    if (!conns) {
        return conns.error();
    }
    for (;;) {
        rc = conns->step();
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            return m.error(rc, "reading the connections");
        }
        const Statement& st = *conns;
        ConnectionInfo c;
        c.id = st.int64(0);
        c.client_addr = st.text(1);
        c.client_port = static_cast<uint16_t>(st.int64(2));
        c.server_addr = st.text(3);
        c.server_port = static_cast<uint16_t>(st.int64(4));
        c.start_us = st.int64(5);
        c.end_us = st.int64(6);
        c.channel_type = st.is_null(7) ? -1 : static_cast<int>(st.int64(7));
        c.channel_id = st.is_null(8) ? -1 : static_cast<int>(st.int64(8));
        c.connection_id = static_cast<uint32_t>(st.int64(9));
        c.client_common_caps = caps_words(st.blob(10));
        c.client_channel_caps = caps_words(st.blob(11));
        c.server_common_caps = caps_words(st.blob(12));
        c.server_channel_caps = caps_words(st.blob(13));
        c.mini_header = st.int64(14) != 0;
        c.link_error = static_cast<uint32_t>(st.int64(15));
        c.tls = st.int64(16) != 0;
        c.end_reason = st.text(17);
        c.bytes_c2s = static_cast<uint64_t>(st.int64(18));
        c.bytes_s2c = static_cast<uint64_t>(st.int64(19));
        m.connections.push_back(std::move(c));
    }
    // A log cut short before its writer closed it: take the session's span from what is there.
    if (!m.session.complete) {
        for (const auto& c : m.connections) {
            m.session.end_us = std::max(m.session.end_us, c.end_us);
        }
        auto last = m.prepare("SELECT max(ts_us) FROM chunks");
        if (last && last->step() == SQLITE_ROW && !last->is_null(0)) {
            m.session.end_us = std::max(m.session.end_us, last->int64(0));
        }
    }
    return std::unique_ptr<SessionLogReader>(new SessionLogReader(std::move(impl)));
}

namespace {

DataChunk chunk_from(const Statement& st) {
    DataChunk c;
    c.connection = st.int64(0);
    c.dir = st.int64(1) == 0 ? Direction::ClientToServer : Direction::ServerToClient;
    c.ts_us = st.int64(2);
    c.offset = static_cast<uint64_t>(st.int64(3));
    const ByteView b = st.blob(4);
    c.data.assign(b.begin(), b.end());
    return c;
}

}  // namespace

Result<void> SessionLogReader::for_each_chunk(
    int64_t connection, Direction dir, const std::function<bool(const DataChunk&)>& fn) const {
    auto st = impl_->prepare(
        "SELECT connection, dir, ts_us, offset, data FROM chunks WHERE connection=?1 AND dir=?2 "
        "ORDER BY offset");
    if (!st) {
        return st.error();
    }
    st->bind(1, connection).bind(2, static_cast<int64_t>(dir));
    return impl_->each_row(*st, "reading raw data",
                           [&](const Statement& row) { return fn(chunk_from(row)); });
}

Result<void> SessionLogReader::for_each_chunk_from(
    int64_t connection, Direction dir, uint64_t from,
    const std::function<bool(const DataChunk&)>& fn) const {
    auto st = impl_->prepare(
        "SELECT connection, dir, ts_us, offset, data FROM chunks WHERE connection=?1 AND dir=?2 "
        "AND offset >= (SELECT coalesce(max(offset), 0) FROM chunks WHERE connection=?1 AND "
        "dir=?2 AND offset <= ?3) ORDER BY offset");
    if (!st) {
        return st.error();
    }
    st->bind(1, connection).bind(2, static_cast<int64_t>(dir)).bind(3, static_cast<int64_t>(from));
    return impl_->each_row(*st, "reading raw data",
                           [&](const Statement& row) { return fn(chunk_from(row)); });
}

Result<void> SessionLogReader::for_each_chunk(
    const std::function<bool(const DataChunk&)>& fn) const {
    auto st = impl_->prepare(
        "SELECT connection, dir, ts_us, offset, data FROM chunks "
        "ORDER BY ts_us, connection, dir, offset");
    if (!st) {
        return st.error();
    }
    return impl_->each_row(*st, "reading raw data",
                           [&](const Statement& row) { return fn(chunk_from(row)); });
}

Result<std::vector<uint8_t>> SessionLogReader::read_stream(int64_t connection, Direction dir,
                                                           uint64_t offset, uint64_t length) const {
    std::lock_guard lock(impl_->stream_mutex);
    if (!impl_->stream_query.prepared()) {
        auto prepared = impl_->prepare(
            "SELECT offset, data FROM chunks WHERE connection=?1 AND dir=?2 AND offset < ?4 AND "
            "offset >= (SELECT coalesce(max(offset), 0) FROM chunks WHERE connection=?1 AND "
            "dir=?2 AND offset <= ?3) ORDER BY offset");
        if (!prepared) {
            return prepared.error();
        }
        impl_->stream_query = std::move(*prepared);
    }
    Statement* st = &impl_->stream_query;

    // Left reset whichever way this returns, so the next call starts afresh.
    struct ResetOnExit {
        Statement* s;

        ~ResetOnExit() { s->reset(); }
    } reset_on_exit{st};

    st->bind(1, connection).bind(2, static_cast<int64_t>(dir));
    st->bind(3, static_cast<int64_t>(offset)).bind(4, static_cast<int64_t>(offset + length));
    std::vector<uint8_t> out;
    out.reserve(length);
    uint64_t next = offset;
    for (;;) {
        const int rc = st->step();
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            return impl_->error(rc, "reading raw data");
        }
        const uint64_t at = static_cast<uint64_t>(st->int64(0));
        const ByteView data = st->blob(1);
        if (at + data.size() <= next) {
            continue;
        }
        if (at > next) {
            break;  // a hole
        }
        const size_t skip = static_cast<size_t>(next - at);
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(data.size() - skip, offset + length - next));
        out.insert(out.end(), data.begin() + static_cast<ptrdiff_t>(skip),
                   data.begin() + static_cast<ptrdiff_t>(skip + take));
        next += take;
        if (next == offset + length) {
            break;
        }
    }
    if (out.size() != length) {
        return make_error(
            Errc::Truncated, next,
            fmt::format("stream bytes {}..{} of connection {} {} are not in the "
                        "log (gap at {})",
                        offset, offset + length, connection, wire::direction_name(dir), next));
    }
    return out;
}

Result<std::vector<GapRecord>> SessionLogReader::gaps() const {
    auto st = impl_->prepare(
        "SELECT connection, dir, ts_us, offset, length FROM gaps ORDER BY ts_us, id");
    if (!st) {
        return st.error();
    }
    std::vector<GapRecord> out;
    auto r = impl_->each_row(*st, "reading gaps", [&](const Statement& row) {
        out.push_back({row.int64(0),
                       row.int64(1) == 0 ? Direction::ClientToServer : Direction::ServerToClient,
                       row.int64(2), static_cast<uint64_t>(row.int64(3)),
                       static_cast<uint64_t>(row.int64(4))});
        return true;
    });
    if (!r) {
        return r.error();
    }
    return out;
}

Result<std::vector<NoteRecord>> SessionLogReader::notes() const {
    auto st = impl_->prepare("SELECT connection, ts_us, kind, text FROM notes ORDER BY ts_us, id");
    if (!st) {
        return st.error();
    }
    std::vector<NoteRecord> out;
    auto r = impl_->each_row(*st, "reading notes", [&](const Statement& row) {
        out.push_back({row.int64(0), row.int64(1), row.text(2), row.text(3)});
        return true;
    });
    if (!r) {
        return r.error();
    }
    return out;
}

Result<void> SessionLogReader::for_each_message(
    const MessageFilter& filter, const std::function<bool(const MessageRecord&)>& fn) const {
    std::string sql =
        "SELECT connection, dir, ts_us, offset, serial, type, size, header_size FROM messages "
        "WHERE 1";
    if (filter.from_us) {
        sql += " AND ts_us >= ?1";
    }
    if (filter.to_us) {
        sql += " AND ts_us <= ?2";
    }
    if (filter.connection) {
        sql += " AND connection = ?3";
    }
    sql += " ORDER BY ts_us, connection, dir, offset";
    auto st = impl_->prepare(sql);
    if (!st) {
        return st.error();
    }
    if (filter.from_us) {
        st->bind(1, *filter.from_us);
    }
    if (filter.to_us) {
        st->bind(2, *filter.to_us);
    }
    if (filter.connection) {
        st->bind(3, *filter.connection);
    }
    MessageRecord m;
    for (;;) {
        const int rc = st->step();
        if (rc == SQLITE_DONE) {
            return {};
        }
        if (rc != SQLITE_ROW) {
            return impl_->error(rc, "reading the message index");
        }
        m.connection = st->int64(0);
        m.dir = st->int64(1) == 0 ? Direction::ClientToServer : Direction::ServerToClient;
        m.ts_us = st->int64(2);
        m.offset = static_cast<uint64_t>(st->int64(3));
        m.serial = st->is_null(4) ? std::nullopt
                                  : std::optional<uint64_t>(static_cast<uint64_t>(st->int64(4)));
        m.type = static_cast<uint16_t>(st->int64(5));
        m.size = static_cast<uint32_t>(st->int64(6));
        m.header_size = static_cast<uint16_t>(st->int64(7));
        if (!fn(m)) {
            return {};
        }
    }
}

Result<uint64_t> SessionLogReader::message_count() const {
    auto st = impl_->prepare("SELECT count(*) FROM messages");
    if (!st) {
        return st.error();
    }
    const int rc = st->step();
    if (rc != SQLITE_ROW) {
        return impl_->error(rc, "counting messages");
    }
    return static_cast<uint64_t>(st->int64(0));
}

}  // namespace spicetap::log
