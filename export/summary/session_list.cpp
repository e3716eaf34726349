#include "export/summary/session_list.h"

#include <fmt/core.h>

#include <algorithm>
#include <system_error>
#include <tuple>

#include "capture/log/writer_identity.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "export/summary/session_summary.h"

namespace spicetap::summary {

namespace fs = std::filesystem;

const char* recording_state_name(RecordingState s) {
    switch (s) {
        case RecordingState::Recording:
            return "recording";
        case RecordingState::Finished:
            return "finished";
        case RecordingState::CutShort:
            return "cut short";
        case RecordingState::Unreadable:
            return "unreadable";
    }
    return "unknown";
}

RecordingState recording_state(const log::SessionInfo& info) {
    if (info.complete) {
        return RecordingState::Finished;
    }
    // A log without a writer identity (import, or an older spicetap) that is incomplete was
    // left behind by a writer that stopped.
    return log::writer_status(info.writer) == log::WriterStatus::Running ? RecordingState::Recording
                                                                         : RecordingState::CutShort;
}

std::string recorder_name(const std::string& source_kind) {
    if (source_kind == "pcap") {
        return "import";
    }
    if (source_kind == "live") {
        return "capture";
    }
    return source_kind;
}

namespace {

uint64_t size_on_disk(const fs::path& file) {
    std::error_code ec;
    uint64_t size = 0;
    for (const fs::path& p : {file, fs::path(file.string() + "-wal")}) {
        const auto n = fs::file_size(p, ec);
        if (!ec) {
            size += n;
        }
    }
    return size;
}

std::vector<std::string> channel_names(const std::vector<log::ConnectionInfo>& connections) {
    std::vector<std::string> out;
    for (const auto& c : connections) {
        if (c.channel_type < 0) {
            out.emplace_back("(no link)");
            continue;
        }
        std::string name(wire::channel_type_name(static_cast<uint8_t>(c.channel_type)));
        if (c.channel_id != 0) {
            name += fmt::format("#{}", c.channel_id);
        }
        out.push_back(std::move(name));
    }
    return out;
}

std::string human_size(uint64_t bytes) {
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes) / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < std::size(units)) {
        v /= 1024.0;
        ++u;
    }
    return fmt::format("{:.1f} {}", v, units[u]);
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        out += out.empty() ? s : "," + s;
    }
    return out;
}

double duration_s(const log::SessionInfo& s) {
    return s.end_us > s.start_us ? static_cast<double>(s.end_us - s.start_us) / 1e6 : 0.0;
}

}  // namespace

Result<std::vector<ListedSession>> list_sessions(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return make_error(Errc::Io, 0, fmt::format("{}: not a directory", dir.string()));
    }
    std::vector<ListedSession> out;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        return make_error(Errc::Io, 0,
                          fmt::format("cannot read directory {}: {}", dir.string(), ec.message()));
    }
    for (const auto& entry : it) {
        const fs::path& p = entry.path();
        const std::string name = p.filename().string();
        if (p.extension() != ".spicelog" || name.starts_with(".") || !entry.is_regular_file(ec)) {
            continue;
        }
        ListedSession ls;
        ls.file = p;
        ls.size = size_on_disk(p);
        auto reader = log::SessionLogReader::open(p);
        if (!reader) {
            ls.error = reader.error().what;
        } else {
            ls.session = (*reader)->session();
            ls.channels = channel_names((*reader)->connections());
            ls.state = recording_state(ls.session);
        }
        out.push_back(std::move(ls));
    }
    std::sort(out.begin(), out.end(), [](const ListedSession& a, const ListedSession& b) {
        // Parts of a rotated session may start at the same time (a part repeats the first bytes
        // of a message cut by the rotation): their numbers order them.
        return std::tie(a.session.start_us, a.session.part, a.file) <
               std::tie(b.session.start_us, b.session.part, b.file);
    });
    return out;
}

std::string format_session_list_text(const std::vector<ListedSession>& sessions) {
    std::string out =
        fmt::format("{:<36} {:<26} {:>10} {:>10}  {:<21} {:<21} {:<10} {:<9} {}\n", "file", "start",
                    "duration", "size", "client", "server", "state", "recorder", "channels");
    for (const auto& s : sessions) {
        const std::string file = s.file.filename().string();
        if (s.state == RecordingState::Unreadable) {
            out += fmt::format("{:<36} {:<26} {:>10} {:>10}  {:<21} {:<21} {:<10} {:<9} {}\n", file,
                               "-", "-", human_size(s.size), "-", "-", "unreadable", "-", s.error);
            continue;
        }
        const auto& si = s.session;
        std::string start = format_utc(si.start_us);
        start = start.substr(0, 19) + " UTC";  // seconds are enough in a listing
        std::string channels = joined(s.channels);
        if (si.part > 1 || !si.next_part.empty()) {
            channels +=
                fmt::format("  (part {}{})", si.part, si.next_part.empty() ? "" : ", continued");
        }
        out += fmt::format("{:<36} {:<26} {:>8.1f} s {:>10}  {:<21} {:<21} {:<10} {:<9} {}\n", file,
                           start, duration_s(si), human_size(s.size), si.client, si.server,
                           recording_state_name(s.state), recorder_name(si.source_kind), channels);
    }
    return out;
}

std::string format_session_list_json(const std::vector<ListedSession>& sessions) {
    std::string out;
    JsonWriter w(out);
    w.begin_array();
    for (const auto& s : sessions) {
        w.begin_object().field("file", s.file.string()).field("size", s.size);
        w.field("state", recording_state_name(s.state));
        if (s.state == RecordingState::Unreadable) {
            w.field("error", s.error).end_object();
            continue;
        }
        const auto& si = s.session;
        w.field("session_id", si.session_id).field("start_us", si.start_us);
        w.field("start", format_utc(si.start_us)).field("duration_s", duration_s(si));
        w.field("client", si.client).field("server", si.server);
        w.key("channels").begin_array();
        for (const auto& c : s.channels) {
            w.value(c);
        }
        w.end_array();
        w.field("recorded_by", recorder_name(si.source_kind)).field("source", si.source);
        w.field("part", static_cast<int64_t>(si.part));
        if (si.previous_part.empty()) {
            w.field_null("previous_part");
        } else {
            w.field("previous_part", si.previous_part);
        }
        if (si.next_part.empty()) {
            w.field_null("next_part");
        } else {
            w.field("next_part", si.next_part);
        }
        if (si.capture) {
            w.key("capture").begin_object().field("packets", si.capture->packets);
            w.field("dropped", si.capture->dropped).field("if_dropped", si.capture->if_dropped);
            w.end_object();
        } else {
            w.field_null("capture");
        }
        w.end_object();
    }
    w.end_array();
    out += "\n";
    return out;
}

}  // namespace spicetap::summary
