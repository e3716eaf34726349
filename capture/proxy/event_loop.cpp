#include "capture/proxy/event_loop.h"

#include <fmt/core.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spicetap::proxy {

namespace {

DecodeError errno_error(const char* what) {
    return make_error(Errc::Io, 0, fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

EventLoop::EventLoop() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
        error_ = errno_error("epoll_create1");
        return;
    }
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        error_ = errno_error("eventfd");
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
        error_ = errno_error("epoll_ctl");
    }
}

EventLoop::~EventLoop() {
    if (wake_fd_ >= 0) {
        ::close(wake_fd_);
    }
    if (epfd_ >= 0) {
        ::close(epfd_);
    }
}

Result<void> EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return errno_error("epoll_ctl add");
    }
    handlers_[fd] = Entry{handler, events, batch_};
    return {};
}

Result<void> EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
    auto it = handlers_.find(fd);
    if (it == handlers_.end()) {
        return add(fd, events, handler);
    }
    if (it->second.events == events && it->second.handler == handler) {
        return {};
    }
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
        return errno_error("epoll_ctl mod");
    }
    it->second.handler = handler;
    it->second.events = events;
    return {};
}

void EventLoop::remove(int fd) {
    if (handlers_.erase(fd) > 0) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    }
}

void EventLoop::run(std::chrono::milliseconds tick, const std::function<void()>& on_tick) {
    constexpr int kMaxEvents = 128;
    epoll_event events[kMaxEvents];
    auto next_tick = std::chrono::steady_clock::now() + tick;
    while (!stopping_) {
        const auto now = std::chrono::steady_clock::now();
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - now).count();
        const int n =
            ::epoll_wait(epfd_, events, kMaxEvents, wait > 0 ? static_cast<int>(wait) : 0);
        if (n < 0 && errno != EINTR) {
            error_ = errno_error("epoll_wait");
            return;
        }
        ++batch_;
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == wake_fd_) {
                uint64_t count = 0;
                [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof count);
                stopping_ = true;
                continue;
            }
            // A handler may have removed (and closed) this fd earlier in the batch, and an
            // accept may even have reused its number since: such an event is the old socket's.
            auto it = handlers_.find(fd);
            if (it != handlers_.end() && it->second.added_in != batch_) {
                it->second.handler->on_io(fd, events[i].events);
            }
        }
        if (std::chrono::steady_clock::now() >= next_tick) {
            next_tick = std::chrono::steady_clock::now() + tick;
            if (on_tick) {
                on_tick();
            }
        }
    }
}

void EventLoop::stop_from_anywhere() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace spicetap::proxy
