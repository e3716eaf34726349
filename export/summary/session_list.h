// The `sessions` view: every session log in a directory, finished or still being recorded,
// one line each (file, start, duration, size, endpoints, channels, state, recorder).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/log/session_log.h"

namespace spicetap::summary {

enum class RecordingState {
    Recording,   // incomplete, and the process writing it still runs
    Finished,    // closed cleanly by its writer
    CutShort,    // incomplete, and its writer is gone (killed, crashed, machine rebooted)
    Unreadable,  // not a session log we can open (see ListedSession::error)
};

const char* recording_state_name(RecordingState s);

// Whether a log is finished, being recorded or was cut short, from its metadata and, for an
// incomplete log, whether its writer process still runs.
RecordingState recording_state(const log::SessionInfo& info);

// "import", "capture", "proxy" for source kinds "pcap", "live", "proxy".
std::string recorder_name(const std::string& source_kind);

struct ListedSession {
    std::filesystem::path file;
    uint64_t size = 0;  // bytes on disk, the -wal file included
    RecordingState state = RecordingState::Unreadable;
    log::SessionInfo session;
    std::vector<std::string> channels;  // "main", "display", "display#1", ... by connection
    std::string error;                  // why an Unreadable log could not be read
};

// The *.spicelog files of `dir` (not hidden ones: import's temporary files), by start time.
// Errors: the directory cannot be read. A log that cannot be opened is listed as Unreadable.
Result<std::vector<ListedSession>> list_sessions(const std::filesystem::path& dir);

std::string format_session_list_text(const std::vector<ListedSession>& sessions);
std::string format_session_list_json(const std::vector<ListedSession>& sessions);

}  // namespace spicetap::summary
