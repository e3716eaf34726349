// Small RAII helpers over the SQLite C API, private to capture/log/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::log::detail {

class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();

    Statement(Statement&& o) noexcept : stmt_(o.stmt_), rc_(o.rc_) { o.stmt_ = nullptr; }

    Statement& operator=(Statement&& o) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool prepared() const { return stmt_ != nullptr; }

    int prepare_rc() const { return rc_; }

    Statement& bind(int i, int64_t v);
    Statement& bind(int i, std::string_view v);
    Statement& bind_blob(int i, ByteView v);
    Statement& bind_null(int i);

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    void reset();

    int64_t int64(int col) const;
    std::string text(int col) const;
    ByteView blob(int col) const;
    bool is_null(int col) const;

private:
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;
};

// A DecodeError from the database's last error; Corrupt for damaged files, Io otherwise.
DecodeError db_error(sqlite3* db, int rc, std::string_view doing);

// The end of a finished log written in WAL mode: the whole WAL into the main file, then out of
// WAL mode, so the log is one file and stays one when readers open it.
Result<void> leave_wal(sqlite3* db);

}  // namespace spicetap::log::detail
