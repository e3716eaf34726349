#include "capture/live/stop_signals.h"

#include <pthread.h>

#include <ctime>

namespace spicetap::capture {

StopSignals::StopSignals(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
    thread_ = std::thread([this] { watch(); });
}

StopSignals::~StopSignals() {
    done_.store(true);
    thread_.join();
    // A signal that came in after the watcher stopped stays pending: take it, it asked for
    // the stop that is happening anyway.
    timespec zero{};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void StopSignals::watch() {
    // Polls the done flag every 200 ms, so the destructor never waits long.
    const timespec step{0, 200'000'000};
    while (!done_.load()) {
        const int sig = sigtimedwait(&set_, nullptr, &step);
        if (sig > 0) {
            if (received_.load() == 0) {
                received_.store(sig);
                on_signal_(sig);
            }
        }
    }
}

}  // namespace spicetap::capture
