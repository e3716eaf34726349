// spicetap report LOG -o OUT.{html,json,csv}
// spicetap report --compare A B -o OUT.html
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "capture/import/log_source.h"
#include "capture/log/session_log.h"
#include "cli/commands.h"
#include "cli/session_input.h"
#include "export/report/session_report.h"

namespace spicetap::cli {

namespace {

struct ReportArgs {
    std::string input;
    std::vector<std::string> compare;
    std::string output;
    bool quiet = false;
};

int run_report(const ReportArgs& a) {
    auto format = report::format_for_path(a.output);
    if (!format) {
        fmt::print(stderr, "spicetap: {}\n", format.error().what);
        return kExitUsage;
    }
    if (!a.compare.empty()) {
        if (!a.input.empty()) {
            fmt::print(stderr, "spicetap: give either LOG or --compare A B, not both\n");
            return kExitUsage;
        }
        if (*format != report::Format::Html) {
            fmt::print(stderr, "spicetap: --compare writes HTML: use -o OUT.html\n");
            return kExitUsage;
        }
        OpenedSession sa, sb;
        if (int rc = open_session(a.compare[0], sa); rc != kExitOk) {
            return rc;
        }
        if (int rc = open_session(a.compare[1], sb); rc != kExitOk) {
            return rc;
        }
        auto ra = report::build_report(*sa.reader, a.compare[0]);
        if (!ra) {
            return report_error(ra.error());
        }
        auto rb = report::build_report(*sb.reader, a.compare[1]);
        if (!rb) {
            return report_error(rb.error());
        }
        if (auto ok = report::write_compare(*ra, *rb, a.output); !ok) {
            return report_error(ok.error());
        }
        if (!a.quiet) {
            fmt::print("{}\nA: {}\nB: {}\n", a.output, ra->summary, rb->summary);
        }
        const int rc = finish_reading(sa.source->input_error(), a.compare[0], kExitOk);
        return finish_reading(sb.source->input_error(), a.compare[1], rc);
    }
    if (a.input.empty()) {
        fmt::print(stderr, "spicetap: report needs LOG (or --compare A B)\n");
        return kExitUsage;
    }
    OpenedSession s;
    if (int rc = open_session(a.input, s); rc != kExitOk) {
        return rc;
    }
    auto r = report::write_report(*s.reader, a.input, a.output);
    if (!r) {
        return report_error(r.error());
    }
    if (!a.quiet) {
        fmt::print("{}\n{}\n", a.output, r->summary);
    }
    return finish_reading(s.source->input_error(), a.input, kExitOk);
}

}  // namespace

void register_report(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ReportArgs>();
    CLI::App* sub = app.add_subcommand(
        "report", "Where the bandwidth went: per channel, message type, second, codec, stream");
    sub->add_option("log", args->input, "session log, or a pcap/pcapng (imported on the fly)");
    sub->add_option("--compare", args->compare, "two sessions side by side (HTML)")->expected(2);
    sub->add_option("-o,--output", args->output,
                    "output; its extension picks the format: .html (offline page with charts), "
                    ".json or .csv")
        ->required();
    sub->add_flag("-q,--quiet", args->quiet, "print nothing on success");
    commands.add(sub, [args] { return run_report(*args); });
}

}  // namespace spicetap::cli
