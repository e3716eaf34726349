// --rotate-after values and the writer identity a live log carries.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "capture/live/live_capture.h"
#include "capture/log/writer_identity.h"

using namespace spicetap;

TEST_CASE("parse_rotate_after: sizes and durations", "[capture][live]") {
    auto v = [](const char* text) {
        auto r = capture::parse_rotate_after(text);
        REQUIRE(r.has_value());
        return *r;
    };
    CHECK(v("1000").bytes == 1000);
    CHECK(v("64K").bytes == 64u << 10);
    CHECK(v("500M").bytes == 500ull << 20);
    CHECK(v("500MiB").bytes == 500ull << 20);
    CHECK(v("2GB").bytes == 2ull << 30);
    CHECK(v("90s").us == 90'000'000);
    CHECK(v("30min").us == 1800'000'000);
    CHECK(v("12h").us == 12 * 3600'000'000LL);
    CHECK(v("12h").bytes == 0);
    for (const char* bad : {"", "M", "5m", "0", "-5M", "5 M", "5T", "1.5G", "10sec"}) {
        INFO(bad);
        auto r = capture::parse_rotate_after(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == Errc::BadValue);
        CHECK(r.error().what.find("bad --rotate-after") == 0);
    }
    CHECK(capture::parse_rotate_after("5m").error().what.find("ambiguous") != std::string::npos);
}

TEST_CASE("writer identity: this process runs, an exited one is gone", "[capture][live]") {
    const std::string me = log::current_writer_identity();
    REQUIRE_FALSE(me.empty());
    CHECK(log::writer_status(me) == log::WriterStatus::Running);

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    if (child == 0) {
        const std::string id = log::current_writer_identity();
        (void)!::write(fds[1], id.data(), id.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    char buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    REQUIRE(n > 0);
    const std::string gone(buf, static_cast<size_t>(n));
    CHECK(gone != me);
    CHECK(log::writer_status(gone) == log::WriterStatus::Gone);
    // Another boot, or no identity at all.
    CHECK(log::writer_status("00000000-0000-0000-0000-000000000000:1:1") ==
          log::WriterStatus::Gone);
    CHECK(log::writer_status("") == log::WriterStatus::Unknown);
}
