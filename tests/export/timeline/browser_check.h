// Opens a local HTML page in headless Chromium the way a user would, and says what happened:
// console messages (errors, CSP refusals, uncaught exceptions all land there), requests that
// left the machine (Chromium's traffic goes through a loopback proxy we listen on), the DOM after
// load, and a screenshot.
#pragma once

#include <png.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/chromium.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/process.h"

namespace spicetap::test {

// Accepts connections on a loopback port and keeps the first line of each request.
class RequestRecorder {
public:
    RequestRecorder() {
        if (listener_.port() != 0) {
            thread_ = std::thread([this] { serve(); });
        }
    }

    ~RequestRecorder() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    RequestRecorder(const RequestRecorder&) = delete;
    RequestRecorder& operator=(const RequestRecorder&) = delete;

    uint16_t port() const { return listener_.port(); }

    std::vector<std::string> requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }

private:
    void serve() {
        while (!stop_) {
            const int c = listener_.accept_within(100);
            if (c < 0) {
                continue;
            }
            pollfd pc{c, POLLIN, 0};
            char buf[512] = {};
            ssize_t n = 0;
            if (::poll(&pc, 1, 2000) > 0) {
                n = ::recv(c, buf, sizeof buf - 1, 0);
            }
            ::close(c);  // never answer: nothing leaves through us
            std::string line(buf, n > 0 ? size_t(n) : 0);
            line = line.substr(0, line.find("\r\n"));
            std::lock_guard lock(mu_);
            requests_.push_back(line);
        }
    }

    LoopbackListener listener_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::vector<std::string> requests_;
};

struct PageVisit {
    bool ran = false;
    std::string dom;
    std::vector<std::string> console;   // one entry per console message
    std::vector<std::string> requests;  // request lines the page caused
};

// Chromium's own background services (time, component updates, sign-in) that it contacts
// through the proxy whatever the page is; anything else came from the page.
inline bool browser_service(const std::string& request_line) {
    for (const char* host :
         {"clients2.google.com", "update.googleapis.com", "accounts.google.com",
          "clientservices.googleapis.com", "safebrowsingohttpgateway.googleapis.com",
          "edgedl.me.gvt1.com", "optimizationguide-pa.googleapis.com",
          "content-autofill.googleapis.com", "android.clients.google.com", "redirector.gvt1.com"}) {
        if (request_line.find(host) != std::string::npos) {
            return true;
        }
    }
    return false;
}

inline std::string chromium_base(const std::filesystem::path& profile, uint16_t proxy_port) {
    return headless_chromium(profile, 90) + " --hide-scrollbars" +
           " --proxy-server=http://127.0.0.1:" + std::to_string(proxy_port) +
           " --proxy-bypass-list='<-loopback>' ";
}

inline PageVisit visit_page(const std::filesystem::path& page, const std::filesystem::path& work) {
    PageVisit v;
    RequestRecorder proxy;
    if (proxy.port() == 0) {
        return v;
    }
    const std::filesystem::path err = work / "chromium-stderr.txt";
    const std::string cmd = chromium_base(work / "profile", proxy.port()) +
                            "--enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom " +
                            shell_quote("file://" + std::filesystem::absolute(page).string()) +
                            " 2>" + shell_quote(err.string());
    const auto r = run_command(cmd);
    v.ran = r.exit_code == 0;
    v.dom = r.out;
    std::ifstream in(err);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find(":CONSOLE") != std::string::npos) {
            v.console.push_back(line);
        }
    }
    for (const auto& req : proxy.requests()) {
        if (!browser_service(req)) {
            v.requests.push_back(req);
        }
    }
    return v;
}

// Screenshot of the page at width x height; false if Chromium did not write one.
inline bool screenshot_page(const std::filesystem::path& page, const std::filesystem::path& png,
                            const std::filesystem::path& work, int width, int height) {
    RequestRecorder proxy;
    const std::string cmd =
        chromium_base(work / "profile-shot", proxy.port()) +
        "--window-size=" + std::to_string(width) + "," + std::to_string(height) +
        " --screenshot=" + shell_quote(png.string()) + " " +
        shell_quote("file://" + std::filesystem::absolute(page).string()) + " >/dev/null 2>&1";
    run_command(cmd);
    return std::filesystem::exists(png);
}

struct Rgb {
    uint32_t width = 0, height = 0;
    std::vector<uint8_t> pixels;  // RGB
};

inline Rgb read_png_rgb(const std::filesystem::path& path) {
    Rgb out;
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path.c_str())) {
        return out;
    }
    image.format = PNG_FORMAT_RGB;
    out.pixels.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
        png_image_free(&image);
        return Rgb{};
    }
    out.width = image.width;
    out.height = image.height;
    return out;
}

// Distinct colours and non-background pixels in a box of the picture (clipped to it).
struct BoxInk {
    size_t colours = 0;
    size_t inked = 0;  // pixels differing from the box's top-left pixel
};

inline BoxInk box_ink(const Rgb& img, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
    BoxInk ink;
    if (img.width == 0) {
        return ink;
    }
    x1 = std::min(x1, img.width);
    y1 = std::min(y1, img.height);
    std::vector<uint32_t> seen;
    const uint8_t* bg = img.pixels.data() + (size_t{y0} * img.width + x0) * 3;
    for (uint32_t y = y0; y < y1; ++y) {
        for (uint32_t x = x0; x < x1; ++x) {
            const uint8_t* p = img.pixels.data() + (size_t{y} * img.width + x) * 3;
            const uint32_t c = uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
            if (std::memcmp(p, bg, 3) != 0) {
                ++ink.inked;
            }
            if (seen.size() < 4096 && std::find(seen.begin(), seen.end(), c) == seen.end()) {
                seen.push_back(c);
            }
        }
    }
    ink.colours = seen.size();
    return ink;
}

}  // namespace spicetap::test
