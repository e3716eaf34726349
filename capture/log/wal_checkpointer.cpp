#include "capture/log/wal_checkpointer.h"

#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "capture/log/sqlite_handle.h"

namespace spicetap::log {

namespace {

// A log is checkpointed once this much was committed to its WAL since its last checkpoint
// (SQLite's own default is 1000 pages, 32 MiB here): a quiet session never syncs the disk
// until it ends, and a checkpoint's two syncs are spread over many MiB.
constexpr uint64_t kCheckpointBytes = 32u << 20;
// The thread also looks every this long (finished logs, missed wake-ups).
constexpr auto kInterval = std::chrono::milliseconds(250);
// Below the relay (nice 0) and the proxy's recorder (10): under a burst they get the CPU, the
// WAL grows, and the copy happens when the burst is over.
constexpr int kNice = 15;

}  // namespace

struct WalCheckpointer::Entry {
    std::filesystem::path path;
    sqlite3* db = nullptr;  // the checkpointer's own connection, opened on first use
    bool busy = false;      // a checkpoint of it runs now (mu_)
    bool removed = false;   // (mu_)
    bool failure_said = false;
    uint64_t pending = 0;  // committed since its last checkpoint (mu_)
};

WalCheckpointer::WalCheckpointer(std::function<void(const std::string&)> log)
    : log_(std::move(log)) {
    // Process signals go to the thread that waits for them (live capture's StopSignals, the
    // proxy's signalfd), never to this one: it starts with every signal blocked.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

WalCheckpointer::~WalCheckpointer() {
    stop();
}

void WalCheckpointer::add(const std::filesystem::path& path) {
    auto e = std::make_shared<Entry>();
    e->path = path;
    std::lock_guard<std::mutex> lk(mu_);
    entries_[path] = std::move(e);
}

void WalCheckpointer::remove(const std::filesystem::path& path) {
    std::shared_ptr<Entry> e;
    {
        std::unique_lock<std::mutex> lk(mu_);
        auto it = entries_.find(path);
        if (it == entries_.end()) {
            return;
        }
        e = it->second;
        entries_.erase(it);
        e->removed = true;
        idle_.wait(lk, [&] { return !e->busy; });
    }
    // The thread never touches a removed entry again.
    if (e->db) {
        sqlite3_close(e->db);
        e->db = nullptr;
    }
}

void WalCheckpointer::finish(const std::filesystem::path& path, sqlite3* db) {
    remove(path);
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (!exited_) {
            finishing_.push_back({path, db});
            wake_.notify_one();
            return;
        }
    }
    finish_one({path, db});  // the thread is gone (a writer closed after stop())
}

void WalCheckpointer::finish_one(const Finish& f) {
    auto r = detail::leave_wal(f.db);
    if (!r && log_) {
        log_(fmt::format("{}: final {}; the log is complete in its -wal file, keep it next to it",
                         f.path.string(), r.error().message()));
    }
    sqlite3_close(f.db);
}

void WalCheckpointer::committed(const std::filesystem::path& path, uint64_t bytes) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = entries_.find(path);
    if (it == entries_.end()) {
        return;
    }
    it->second->pending += bytes;
    if (it->second->pending >= kCheckpointBytes && !wanted_) {
        wanted_ = true;
        wake_.notify_one();
    }
}

void WalCheckpointer::stop() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    for (const Finish& f : finishing_) {
        finish_one(f);
    }
    finishing_.clear();
    // Logs whose writers never removed them (a writer outliving the checkpointer is a bug of
    // the owner; their final checkpoint at close still runs).
    for (auto& [path, e] : entries_) {
        if (e->db) {
            sqlite3_close(e->db);
            e->db = nullptr;
        }
    }
    entries_.clear();
}

void WalCheckpointer::run() {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kNice);
    ::pthread_setname_np(::pthread_self(), "wal-checkpoint");
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        wake_.wait_for(lk, kInterval, [&] { return stopping_ || wanted_ || !finishing_.empty(); });
        while (!finishing_.empty()) {
            const Finish f = finishing_.front();
            finishing_.erase(finishing_.begin());
            lk.unlock();
            finish_one(f);
            lk.lock();
        }
        if (stopping_) {
            exited_ = true;
            return;
        }
        wanted_ = false;
        std::vector<std::shared_ptr<Entry>> round;
        for (auto& [path, e] : entries_) {
            if (e->pending >= kCheckpointBytes) {
                round.push_back(e);
            }
        }
        for (auto& e : round) {
            if (e->removed || stopping_) {
                continue;
            }
            e->busy = true;
            e->pending = 0;
            lk.unlock();
            checkpoint(*e);
            lk.lock();
            e->busy = false;
            idle_.notify_all();
        }
    }
}

void WalCheckpointer::checkpoint(Entry& e) {
    if (!e.db) {
        // A connection learns that the file is in WAL mode on its first read; until then a
        // checkpoint is a silent no-op.
        if (sqlite3_open_v2(e.path.c_str(), &e.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
            sqlite3_exec(e.db, "PRAGMA schema_version", nullptr, nullptr, nullptr) != SQLITE_OK) {
            sqlite3_close(e.db);
            e.db = nullptr;
        }
    }
    int rc = SQLITE_CANTOPEN;
    if (e.db) {
        // PASSIVE: never waits for the writer, who goes on appending meanwhile.
        rc = sqlite3_wal_checkpoint_v2(e.db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && !e.failure_said && log_) {
        e.failure_said = true;
        log_(fmt::format("{}: background checkpoint failed ({}); the data stays in its -wal file",
                         e.path.string(), e.db ? sqlite3_errmsg(e.db) : sqlite3_errstr(rc)));
    }
}

}  // namespace spicetap::log
