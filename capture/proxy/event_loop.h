// EventLoop: a small level-triggered epoll loop for the recording proxy's relay thread. Sockets
// register a handler and the events they want now; the loop calls the handler with what is
// ready. A tick runs every `tick` so owners can notice stalls and stop requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "decode/wire/result.h"

namespace spicetap::proxy {

class IoHandler {
public:
    virtual ~IoHandler() = default;
    // `events` is EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP as epoll reported them.
    virtual void on_io(int fd, uint32_t events) = 0;
};

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // The epoll instance could not be made (no fds left).
    const std::optional<DecodeError>& error() const { return error_; }

    Result<void> add(int fd, uint32_t events, IoHandler* handler);
    // Changes the events of a registered fd (a no-op when unchanged).
    Result<void> modify(int fd, uint32_t events, IoHandler* handler);
    void remove(int fd);

    // Runs until stop(); `on_tick` is called about every `tick` and after every batch of
    // events (cheap work only).
    void run(std::chrono::milliseconds tick, const std::function<void()>& on_tick);

    // From the loop's own thread.
    void stop() { stopping_ = true; }

    // From any thread or a signal handler: wakes the loop and makes run() return.
    void stop_from_anywhere();

private:
    struct Entry {
        IoHandler* handler;
        uint32_t events;
        uint64_t added_in;  // the batch during which the fd was registered
    };

    std::unordered_map<int, Entry> handlers_;
    int epfd_ = -1;
    int wake_fd_ = -1;
    bool stopping_ = false;
    uint64_t batch_ = 0;  // counts epoll_wait returns
    std::optional<DecodeError> error_;
};

}  // namespace spicetap::proxy
