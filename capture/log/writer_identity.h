// Which process writes a live session log. A log is marked complete only when its writer closes
// it, so an incomplete log is either still being recorded or was cut short (the writer was
// killed, the machine went down). The writer stamps "<boot id>:<pid>:<process start time>" into
// the log; a reader on the same machine checks whether that very process still runs (the boot
// id and start time make a reused pid harmless).
#pragma once

#include <string>

namespace spicetap::log {

// This process's identity, or "" when /proc cannot tell it.
std::string current_writer_identity();

enum class WriterStatus {
    Running,  // the process that wrote the identity still runs
    Gone,     // it has exited (or the machine rebooted since)
    Unknown,  // no identity, or /proc cannot tell
};

WriterStatus writer_status(const std::string& identity);

}  // namespace spicetap::log
