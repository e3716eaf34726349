// Headless Chromium playing exported videos to their end, for the video tests.
//
// --dump-dom prints the DOM as soon as the page's load event fires, long before a video ends.
// The page therefore holds its load event open with an async script served by a loopback HTTP
// server that answers only once the page reports (by a second request) that every video ended
// or failed. A file:// resource cannot do this: Chromium reads local files on one sequence, so a
// blocking one would stall the videos too.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/chromium.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/process.h"

namespace spicetap::test {

class HoldServer {
public:
    HoldServer() {
        if (listener_.port() != 0) {
            thread_ = std::thread([this] { serve(); });
        }
    }

    ~HoldServer() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
        for (auto& t : connections_) {
            t.join();
        }
    }

    uint16_t port() const { return listener_.port(); }

    bool released() {
        std::lock_guard lock(mu_);
        return released_;
    }

private:
    void serve() {
        for (;;) {
            {
                std::lock_guard lock(mu_);
                if (stop_) {
                    return;
                }
            }
            const int c = listener_.accept_within(100);
            if (c >= 0) {
                connections_.emplace_back([this, c] { handle(c); });
            }
        }
    }

    void handle(int c) {
        timeval tv{5, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string request;
        char buf[2048];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            request.append(buf, size_t(n));
        }
        std::string reply;
        if (request.rfind("GET /done", 0) == 0) {
            {
                std::lock_guard lock(mu_);
                released_ = true;
            }
            cv_.notify_all();
            reply = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        } else {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, std::chrono::seconds(30), [this] { return released_ || stop_; });
            reply =
                "HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\n//";
        }
        (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
    }

    LoopbackListener listener_;
    std::thread thread_;
    std::vector<std::thread> connections_;  // only touched by thread_, joined after it
    std::mutex mu_;
    std::condition_variable cv_;
    bool released_ = false;
    bool stop_ = false;
};

struct BrowserPlayback {
    bool released = false;  // the page reported that every video settled
    std::string state;      // "<src>:ended@<time>;" or "<src>:error<code>;" per video
};

// Plays `clips` (file names inside `dir`) muted in one page of headless Chromium and reports how
// each one settled.
inline BrowserPlayback play_in_chromium(const std::filesystem::path& dir,
                                        const std::vector<std::string>& clips) {
    BrowserPlayback out;
    HoldServer server;
    if (server.port() == 0) {
        return out;
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    std::string videos;
    for (size_t i = 0; i < clips.size(); ++i) {
        videos += "<video id=\"v" + std::to_string(i) + "\" src=\"" + clips[i] +
                  "\" muted autoplay playsinline></video>\n";
    }
    std::ofstream(dir / "page.html") << R"(<!DOCTYPE html><html><body>
<div id="state"></div>
)"
                                     << videos << R"(<script>
const state = document.getElementById('state');
const videos = Array.from(document.querySelectorAll('video'));
let left = videos.length;
const settle = (v, what) => {
  state.textContent += v.getAttribute('src') + ':' + what + ';';
  if (--left === 0) new Image().src = ')" + base + R"(/done';
};
for (const v of videos) {
  v.addEventListener('ended', () => settle(v, 'ended@' + v.currentTime.toFixed(2)));
  v.addEventListener('error', () => settle(v, 'error' + (v.error ? v.error.code : '')));
}
</script>
<script async src=")" + base + R"(/hold.js"></script>
</body></html>
)";
    const std::string cmd = headless_chromium(dir / "profile", 60) +
                            " --autoplay-policy=no-user-gesture-required --dump-dom " +
                            shell_quote("file://" + (dir / "page.html").string()) + " 2>/dev/null";
    const auto r = run_command(cmd);
    const size_t a = r.out.find("<div id=\"state\">");
    if (a == std::string::npos) {
        return out;
    }
    out.state = r.out.substr(a, r.out.find("</div>", a) - a);
    out.released = server.released();
    return out;
}

}  // namespace spicetap::test
