#include "capture/log/writer_identity.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace spicetap::log {

namespace {

std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

// Field 22 of /proc/PID/stat: the process's start time in clock ticks after boot. The command
// name (field 2) may hold spaces and parentheses, so count from the last ')'.
std::string start_time_of(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string stat;
    std::getline(in, stat);
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        return {};
    }
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    for (int n = 3; n <= 22 && fields >> field; ++n) {
        if (n == 22) {
            return field;
        }
    }
    return {};
}

}  // namespace

std::string current_writer_identity() {
    const std::string pid = std::to_string(::getpid());
    const std::string boot = boot_id();
    const std::string start = start_time_of(pid);
    if (boot.empty() || start.empty()) {
        return {};
    }
    return boot + ":" + pid + ":" + start;
}

WriterStatus writer_status(const std::string& identity) {
    const size_t a = identity.find(':');
    const size_t b = identity.find(':', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) {
        return WriterStatus::Unknown;
    }
    const std::string boot = boot_id();
    if (boot.empty()) {
        return WriterStatus::Unknown;
    }
    if (identity.substr(0, a) != boot) {
        return WriterStatus::Gone;  // written before the last reboot
    }
    const std::string pid = identity.substr(a + 1, b - a - 1);
    const std::string start = start_time_of(pid);
    return !start.empty() && start == identity.substr(b + 1) ? WriterStatus::Running
                                                             : WriterStatus::Gone;
}

}  // namespace spicetap::log
