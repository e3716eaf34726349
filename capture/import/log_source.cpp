#include "capture/import/log_source.h"

#include <fmt/core.h>

#include <cstdlib>
#include <system_error>
#include <utility>

namespace spicetap::capture {

namespace fs = std::filesystem;

LogSource::LogSource(LogSource&& other) noexcept
    : logs_(std::move(other.logs_)),
      temp_dir_(std::exchange(other.temp_dir_, {})),
      input_error_(std::move(other.input_error_)) {}

LogSource& LogSource::operator=(LogSource&& other) noexcept {
    if (this != &other) {
        std::error_code ec;
        if (!temp_dir_.empty()) {
            fs::remove_all(temp_dir_, ec);
        }
        logs_ = std::move(other.logs_);
        temp_dir_ = std::exchange(other.temp_dir_, {});
        input_error_ = std::move(other.input_error_);
    }
    return *this;
}

LogSource::~LogSource() {
    if (!temp_dir_.empty()) {
        std::error_code ec;
        fs::remove_all(temp_dir_, ec);
    }
}

Result<LogSource> LogSource::open(const fs::path& path, const std::string& tool_version) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return make_error(Errc::Io, 0, fmt::format("{}: no such file", path.string()));
    }
    LogSource src;
    if (is_session_log_file(path)) {
        src.logs_.push_back(path);
        return src;
    }
    std::string templ = (fs::temp_directory_path(ec) / "spicetap-import-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        return make_error(Errc::Io, 0, fmt::format("cannot create a temporary directory: {}",
                                                   std::error_code(errno, std::generic_category())
                                                       .message()));
    }
    src.temp_dir_ = templ;
    ImportOptions options;
    options.output = src.temp_dir_;
    options.tool_version = tool_version;
    auto imported = import_capture(path, options);
    if (!imported) {
        return imported.error();
    }
    if (imported->sessions.empty()) {
        if (imported->input_error) {
            return *imported->input_error;
        }
        return make_error(Errc::BadValue, 0,
                          fmt::format("{} holds no SPICE session ({} packets, {} other TCP "
                                      "connections)",
                                      path.string(), imported->packets,
                                      imported->spice.other_connections));
    }
    for (const auto& s : imported->sessions) {
        src.logs_.push_back(s.path);
    }
    src.input_error_ = imported->input_error;
    return src;
}

}  // namespace spicetap::capture
