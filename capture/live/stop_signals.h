// SIGINT/SIGTERM as a clean stop request, without a global flag: the signals are blocked in
// every thread and a small watcher thread waits for them with sigtimedwait, then calls back.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace spicetap::capture {

class StopSignals {
public:
    // Blocks SIGINT and SIGTERM (threads started later inherit that) and starts watching.
    explicit StopSignals(std::function<void(int)> on_signal);
    // Stops watching and restores the signal mask.
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The signal that arrived, 0 if none.
    int received() const { return received_.load(); }

private:
    void watch();

    std::function<void(int)> on_signal_;
    sigset_t set_{};
    sigset_t old_mask_{};
    std::atomic<bool> done_{false};
    std::atomic<int> received_{0};
    std::thread thread_;
};

}  // namespace spicetap::capture
