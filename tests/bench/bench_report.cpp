// Bandwidth report speed: `spicetap report` of a real session beside `tshark -q -z io,stat,1`
// (tshark's own per-second I/O statistics) on the same capture, in one run.
//   bench_report SPICETAP_BIN CAPTURE [workdir] [runs=5]
// Times are wall-clock, best of `runs`, each a whole process as a user would run it. Ours is
// timed on the session log (imported once beforehand, the normal way to analyse a capture) and,
// for reference, on the capture itself (imported on the fly).
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// Best wall time of `runs` runs of a shell command (its output discarded); negative on failure.
double best_of(int runs, const std::string& command) {
    double best = -1;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        const int rc = std::system((command + " >/dev/null 2>&1").c_str());
        const double t = std::chrono::duration<double>(Clock::now() - t0).count();
        if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
            std::fprintf(stderr, "failed: %s\n", command.c_str());
            return -1;
        }
        if (best < 0 || t < best) {
            best = t;
        }
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_report SPICETAP_BIN CAPTURE [workdir] [runs]\n");
        return 2;
    }
    const std::string bin = argv[1], pcap = argv[2];
    const std::filesystem::path work = argc > 3 ? argv[3] : "/tmp";
    const int runs = argc > 4 ? std::atoi(argv[4]) : 5;
    const std::string log = (work / "bench-report.spicelog").string();
    const std::string html = (work / "bench-report.html").string();
    std::filesystem::remove(log);
    if (std::system((quote(bin) + " import " + quote(pcap) + " -o " + quote(log) + " >/dev/null")
                        .c_str()) != 0) {
        std::fprintf(stderr, "import of %s failed\n", pcap.c_str());
        return 1;
    }
    const double t_log = best_of(runs, quote(bin) + " report " + quote(log) + " -o " + quote(html));
    const double t_json =
        best_of(runs, quote(bin) + " report " + quote(log) + " -o " + quote(html + ".json"));
    const double t_pcap =
        best_of(runs, quote(bin) + " report " + quote(pcap) + " -o " + quote(html));
    const double t_tshark = best_of(runs, "tshark -r " + quote(pcap) + " -q -z io,stat,1");
    if (t_log < 0 || t_json < 0 || t_pcap < 0 || t_tshark < 0) {
        return 1;
    }
    const auto size = std::filesystem::file_size(pcap);
    std::printf("report of a real session (%.1f MB capture), best of %d:\n", double(size) / 1e6,
                runs);
    std::printf("  spicetap report LOG -o report.html   : %.3f s\n", t_log);
    std::printf("  spicetap report LOG -o report.json   : %.3f s\n", t_json);
    std::printf("  spicetap report CAPTURE -o report.html (import on the fly): %.3f s\n", t_pcap);
    std::printf("  tshark -q -z io,stat,1 (capture)     : %.3f s\n", t_tshark);
    std::printf("  ratio: spicetap report is %.1fx faster than tshark io,stat (target >= 5x)\n",
                t_tshark / t_log);
    std::printf("  ratio with the import on the fly: %.1fx\n", t_tshark / t_pcap);
    std::filesystem::remove(log);
    return 0;
}
