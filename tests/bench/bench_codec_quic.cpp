// QUIC decode speed on real payloads, beside a plain memcpy of the same output pixels.
//   bench_codec_quic [seconds per case] [extra .quic files...]
// Cases: the real QUIC streams under tests/decode/codec/vectors/quic/ (QEMU guest screens and
// strips, text console glyph cells, the SeaBIOS text console, the test peers' known pictures), each
// decoded by one reused QuicDecoder as the replay does; extra files (e.g. cut by extract_quic.py)
// may be added. Times are this thread's CPU time, so a loaded machine (other builds on the same
// cores) does not skew the ratio.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode/codec/quic_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        std::exit(1);
    }
    return {std::istreambuf_iterator<char>(f), {}};
}

struct Case {
    std::string name;
    std::vector<uint8_t> stream;
};

struct Rates {
    double quic = 0;
    double copy = 0;
};

Rates run(const Case& c, double seconds) {
    QuicDecoder dec;
    auto info = dec.probe(c.stream);
    if (!info) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(), info.error().message().c_str());
        std::exit(1);
    }
    const size_t pixels = size_t{info->width} * info->height;
    const size_t row = bytes_per_row(info->format, info->width);
    std::vector<uint8_t> out(row * info->height), src(row * info->height, 0x20);
    const PixelView view{out.data(), info->width, info->height, row, info->format};
    if (auto r = dec.decode(c.stream, view); !r) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.error().message().c_str());
        std::exit(1);
    }
    const auto measure = [&](auto&& body) {
        size_t iters = 0;
        const double start = cpu_seconds();
        double now = start;
        while (now - start < seconds) {
            for (int k = 0; k < 64; ++k) {
                body();
            }
            iters += 64;
            now = cpu_seconds();
        }
        return double(iters) * double(pixels) / (now - start) / 1e6;
    };
    bool ok = true;
    Rates r;
    r.quic = measure([&]() { ok &= bool(dec.decode(c.stream, view)); });
    r.copy = measure([&]() {
        std::memcpy(out.data(), src.data(), out.size());
        asm volatile("" : : "r"(out.data()) : "memory");
    });
    std::printf("%-44s %5ux%-4u %7zu B  QUIC %8.1f MPixel/s  memcpy %8.1f MPixel/s  (%.1f%%)%s\n",
                c.name.c_str(), info->width, info->height, c.stream.size(), r.quic, r.copy,
                100.0 * r.quic / r.copy, ok ? "" : "  DECODE FAILED");
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
    const std::filesystem::path vectors =
        std::filesystem::path(SPICETAP_SOURCE_PATH) / "tests/decode/codec/vectors/quic";
    std::vector<Case> cases;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(vectors)) {
        const std::string n = e.path().filename().string();
        // Real sessions only: QEMU (qemu_*, seabios_*) and the test peers (peer_*).
        if (e.path().extension() == ".quic" &&
            (n.starts_with("qemu_") || n.starts_with("seabios_") || n.starts_with("peer_"))) {
            files.push_back(e.path());
        }
    }
    for (int i = 2; i < argc; ++i) {
        files.emplace_back(argv[i]);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        cases.push_back({f.filename().string(), read_file(f.string())});
    }

    // The QEMU payloads together, and the text console's glyph cells (qemu_console_*: fbcon
    // sends each typed key as an 8x16 cell) on their own: what the target (>= 51 MPixel/s,
    // spice-common's decoder on text console work) is about.
    struct Total {
        double quic_time = 0, copy_time = 0, pixels = 0;

        void add(double px, const Rates& r) {
            pixels += px;
            quic_time += px / r.quic;
            copy_time += px / r.copy;
        }

        void print(const char* what) const {
            if (pixels > 0) {
                std::printf(
                    "%s: QUIC %.1f MPixel/s, memcpy %.1f MPixel/s (%.1f%%; target >= 51 "
                    "MPixel/s)\n",
                    what, pixels / quic_time, pixels / copy_time, 100.0 * copy_time / quic_time);
            }
        }
    };

    Total qemu, console;
    for (const Case& c : cases) {
        const Rates r = run(c, seconds);
        if (c.name.starts_with("qemu_") || c.name.starts_with("seabios_")) {
            QuicDecoder dec;
            const auto info = dec.probe(c.stream);
            const double px = double(info->width) * info->height;
            qemu.add(px, r);
            if (c.name.starts_with("qemu_console_")) {
                console.add(px, r);
            }
        }
    }
    qemu.print("real QEMU payloads, all together");
    console.print("real text console glyph cells (QEMU fbcon), together");
    return 0;
}
