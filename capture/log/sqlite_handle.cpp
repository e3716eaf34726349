#include "capture/log/sqlite_handle.h"

#include <fmt/core.h>

namespace spicetap::log::detail {

Statement::Statement(sqlite3* db, std::string_view sql) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc_ != SQLITE_OK) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
    }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(stmt_);
        stmt_ = o.stmt_;
        rc_ = o.rc_;
        o.stmt_ = nullptr;
    }
    return *this;
}

Statement& Statement::bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind_blob(int i, ByteView v) {
    // SQLite wants a non-null pointer even for an empty blob.
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_STATIC);
    return *this;
}

Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}

int Statement::step() { return sqlite3_step(stmt_); }

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

ByteView Statement::blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? ByteView(p, static_cast<size_t>(n)) : ByteView();
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

DecodeError db_error(sqlite3* db, int rc, std::string_view doing) {
    const int primary = rc & 0xff;
    const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const Errc code = (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
                       primary == SQLITE_ERROR || primary == SQLITE_FORMAT)
                          ? Errc::Corrupt
                          : Errc::Io;
    return make_error(code, 0, fmt::format("{}: {}", doing, msg));
}

Result<void> leave_wal(sqlite3* db) {
    const int rc =
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    // BUSY: a reader still attached holds part of the WAL, which stays complete next to the log.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        return db_error(db, rc, "checkpoint");
    }
    // Readers (read-only) would otherwise re-create the -wal and -shm files next to it. Best
    // effort: a reader still attached keeps it in WAL mode.
    sqlite3_exec(db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    return {};
}

}  // namespace spicetap::log::detail
