// A TCP listener on 127.0.0.1 at a port the kernel picks, for tests that stand in for a server
// a browser talks to (an HTTP proxy that records requests, a script that holds a page open).
#pragma once

#include <cstdint>

namespace spicetap::test {

class LoopbackListener {
public:
    LoopbackListener();  // port() is 0 if it could not listen
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;

    uint16_t port() const { return port_; }

    // The next connection's socket (close-on-exec), or -1 if none came within timeout_ms.
    int accept_within(int timeout_ms);

private:
    int fd_ = -1;
    uint16_t port_ = 0;
};

}  // namespace spicetap::test
