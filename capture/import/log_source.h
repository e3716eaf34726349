// LogSource: what every reading command opens. A session log is used as it is; a pcap/pcapng is
// imported on the fly into a private temporary directory (removed again when the LogSource
// goes), so `spicetap info capture.pcap` works like `tshark -r`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "capture/import/import_capture.h"

namespace spicetap::capture {

class LogSource {
public:
    LogSource() = default;
    LogSource(LogSource&& other) noexcept;
    LogSource& operator=(LogSource&& other) noexcept;
    LogSource(const LogSource&) = delete;
    LogSource& operator=(const LogSource&) = delete;
    ~LogSource();

    static Result<LogSource> open(const std::filesystem::path& path,
                                  const std::string& tool_version);

    // Session logs to read: one for a log file, one per session for a capture.
    const std::vector<std::filesystem::path>& logs() const { return logs_; }
    bool imported() const { return !temp_dir_.empty(); }
    // Set when the capture ended badly; its sessions are still usable.
    const std::optional<DecodeError>& input_error() const { return input_error_; }

private:
    std::vector<std::filesystem::path> logs_;
    std::filesystem::path temp_dir_;
    std::optional<DecodeError> input_error_;
};

}  // namespace spicetap::capture
