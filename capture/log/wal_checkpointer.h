// WalCheckpointer: copies the WAL of logs being recorded into their main file on a thread of
// its own. A WAL checkpoint syncs the disk (twice) and copies every byte once more; done by the
// recording thread itself (SQLite's automatic checkpoint every 1000 pages), a burst of traffic
// waits on the disk and the recorder falls behind (the proxy's queue fills and becomes gaps).
// With a checkpointer, a writer commits into the WAL only (no sync: WAL + synchronous=NORMAL)
// and the checkpointer, at a lower CPU priority than the relay and the recorder, catches up.
// Durability is unchanged: what a checkpoint copies was synced to the WAL first, and a log is
// checkpointed in full when its writer closes it.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace spicetap::log {

class WalCheckpointer {
public:
    // `log` receives a line when checkpointing a log fails (the WAL keeps the data; the
    // writer's own final checkpoint at close reports for good). Called from the thread.
    explicit WalCheckpointer(std::function<void(const std::string&)> log = {});
    ~WalCheckpointer();  // stop()s
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Writer side (SessionLogWriter): start checkpointing a log in WAL mode, and stop before
    // closing it. remove() waits for a checkpoint of that log that is under way and closes the
    // checkpointer's connection to it (leaving WAL mode needs the writer to be alone).
    void add(const std::filesystem::path& path);
    void remove(const std::filesystem::path& path);
    // A writer committed `bytes` more to the log's WAL; past a threshold the log is checkpointed.
    void committed(const std::filesystem::path& path, uint64_t bytes);
    // Closing, without waiting for the disk: takes the writer's connection (its statements
    // finalized, everything committed), checkpoints the whole WAL, leaves WAL mode and closes
    // it. Logs handed over are all finished before stop() returns.
    void finish(const std::filesystem::path& path, sqlite3* db);

    void stop();

private:
    struct Entry;

    struct Finish {
        std::filesystem::path path;
        sqlite3* db;
    };

    void run();
    void finish_one(const Finish& f);
    void checkpoint(Entry& e);

    std::function<void(const std::string&)> log_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::condition_variable idle_;  // an entry's checkpoint ended
    std::map<std::filesystem::path, std::shared_ptr<Entry>> entries_;
    std::vector<Finish> finishing_;
    bool wanted_ = false;  // a log passed the threshold
    bool stopping_ = false;
    bool exited_ = false;  // the thread takes no more work
    std::thread thread_;
};

}  // namespace spicetap::log
