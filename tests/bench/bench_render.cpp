// Video export speed: VideoWriter encoding N synthetic 1024x768 frames to H.264 beside the
// ffmpeg tool encoding the same frames (piped as raw BGRA) with the same preset, in one run.
//   bench_render [workdir] [frames=150] [preset=medium]
// Both sides use libx264 with its default threading and CRF 23. ffmpeg is given
// `-pix_fmt yuv420p` so both encode 4:2:0 (left alone, ffmpeg picks 4:4:4 for BGRA input, a
// heavier encode); that untouched command is timed too, for reference.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "export/video/video_writer.h"

using namespace spicetap;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kW = 1024, kH = 768;

// A desktop-like moving picture: a smooth background whose colours drift, a bright window that
// slides across it and a band of fine stripes (text-like detail).
std::vector<uint8_t> make_frame(int k) {
    std::vector<uint8_t> px(size_t{kW} * kH * 4);
    std::vector<double> sx(kW), cx(kW);
    for (uint32_t x = 0; x < kW; ++x) {
        sx[x] = std::sin(6.0 * x / kW + 0.3 * k);
        cx[x] = std::cos(6.0 * x / kW + 0.3 * k);
    }
    const uint32_t win_x = (uint32_t(k) * 7) % (kW - 300), win_y = 200 + (uint32_t(k) * 3) % 300;
    for (uint32_t y = 0; y < kH; ++y) {
        const double sy = std::sin(6.0 * y / kH), cy = std::cos(6.0 * y / kH);
        uint8_t* p = px.data() + size_t{y} * kW * 4;
        for (uint32_t x = 0; x < kW; ++x, p += 4) {
            p[0] = uint8_t(40 + 170 * x / kW);
            p[1] = uint8_t(40 + 170 * y / kH);
            p[2] = uint8_t(128 + 90 * (sx[x] * cy + cx[x] * sy));
            p[3] = 0xff;
            if (x >= win_x && x < win_x + 300 && y >= win_y && y < win_y + 200) {
                const bool ink = y % 12 < 8 && ((x * 7 + y * 3 + uint32_t(k)) % 11) < 4;
                p[0] = p[1] = p[2] = ink ? 30 : 235;
            }
        }
    }
    return px;
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double run_ours(const std::vector<std::vector<uint8_t>>& frames, const std::string& out,
                const std::string& preset, uint64_t& bytes) {
    video::VideoOptions opt;
    opt.codec = video::VideoCodec::H264;
    opt.preset = preset;
    opt.fps = 25;
    const auto t0 = Clock::now();
    auto w = video::VideoWriter::open(out, opt);
    if (!w) {
        std::fprintf(stderr, "open: %s\n", w.error().what.c_str());
        std::exit(1);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
        codec::PixelView v{const_cast<uint8_t*>(frames[i].data()), kW, kH, size_t{kW} * 4,
                           codec::PixelFormat::Xrgb32};
        if (auto r = (*w)->push_frame(v, int64_t(i) * 40'000); !r) {
            std::fprintf(stderr, "push_frame: %s\n", r.error().what.c_str());
            std::exit(1);
        }
    }
    auto stats = (*w)->finish(std::nullopt);
    const double t = seconds_since(t0);
    if (!stats) {
        std::fprintf(stderr, "finish: %s\n", stats.error().what.c_str());
        std::exit(1);
    }
    bytes = stats->bytes;
    return t;
}

double run_ffmpeg(const std::vector<std::vector<uint8_t>>& frames, const std::string& out,
                  const std::string& preset, bool yuv420, uint64_t& bytes) {
    const std::string cmd =
        "ffmpeg -v error -y -f rawvideo -pix_fmt bgra -s 1024x768 -r 25 -i - "
        "-c:v libx264 -preset " +
        preset + (yuv420 ? " -pix_fmt yuv420p " : " ") + out;
    const auto t0 = Clock::now();
    FILE* p = ::popen(cmd.c_str(), "w");
    if (p == nullptr) {
        std::perror("popen ffmpeg");
        std::exit(1);
    }
    for (const auto& f : frames) {
        if (std::fwrite(f.data(), 1, f.size(), p) != f.size()) {
            std::fprintf(stderr, "ffmpeg stopped reading\n");
            std::exit(1);
        }
    }
    if (::pclose(p) != 0) {
        std::fprintf(stderr, "ffmpeg failed: %s\n", cmd.c_str());
        std::exit(1);
    }
    const double t = seconds_since(t0);
    bytes = std::filesystem::file_size(out);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string work = argc > 1 ? argv[1] : ".";
    const int n = argc > 2 ? std::atoi(argv[2]) : 150;
    const std::string preset = argc > 3 ? argv[3] : "medium";
    std::filesystem::create_directories(work);
    std::vector<std::vector<uint8_t>> frames;
    frames.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        frames.push_back(make_frame(i));
    }
    const std::string ours_out = work + "/render-ours.mp4";
    const std::string ref_out = work + "/render-ffmpeg.mp4";
    const std::string ref444_out = work + "/render-ffmpeg-444.mp4";
    // Best of two for each, alternating, so both see the same machine state.
    double ours = 1e9, ref = 1e9, ref444 = 1e9;
    uint64_t ours_bytes = 0, ref_bytes = 0, ref444_bytes = 0;
    for (int round = 0; round < 2; ++round) {
        ours = std::min(ours, run_ours(frames, ours_out, preset, ours_bytes));
        ref = std::min(ref, run_ffmpeg(frames, ref_out, preset, true, ref_bytes));
    }
    ref444 = run_ffmpeg(frames, ref444_out, preset, false, ref444_bytes);
    std::printf("H.264 encode of %d synthetic 1024x768 frames, preset %s (best of 2):\n", n,
                preset.c_str());
    std::printf("  spicetap VideoWriter            : %6.2f s  %6.1f fps  %8llu bytes\n", ours,
                n / ours, static_cast<unsigned long long>(ours_bytes));
    std::printf("  ffmpeg -pix_fmt yuv420p          : %6.2f s  %6.1f fps  %8llu bytes\n", ref,
                n / ref, static_cast<unsigned long long>(ref_bytes));
    std::printf("  ffmpeg as given (4:4:4, 1 run)   : %6.2f s  %6.1f fps  %8llu bytes\n", ref444,
                n / ref444, static_cast<unsigned long long>(ref444_bytes));
    std::printf("  ratio: spicetap takes %.2fx ffmpeg's time (target <= 1.25x)\n", ours / ref);
    return 0;
}
