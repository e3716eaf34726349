#include "capture/live/privileges.h"

#include <fmt/core.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace spicetap::capture {

namespace {

Result<passwd> look_up(const std::string& user, std::vector<char>& storage) {
    passwd pw{};
    passwd* found = nullptr;
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    storage.resize(size > 0 ? static_cast<size_t>(size) : 16384);
    const int rc = ::getpwnam_r(user.c_str(), &pw, storage.data(), storage.size(), &found);
    if (rc != 0 || found == nullptr) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("no such user '{}'{}", user,
                                      rc != 0 ? fmt::format(" ({})", std::strerror(rc)) : ""));
    }
    return pw;
}

}  // namespace

Result<std::pair<unsigned, unsigned>> user_ids(const std::string& user) {
    std::vector<char> storage;
    auto pw = look_up(user, storage);
    if (!pw) {
        return pw.error();
    }
    return std::pair<unsigned, unsigned>{pw->pw_uid, pw->pw_gid};
}

Result<void> drop_privileges(const std::string& user) {
    std::vector<char> storage;
    auto pw = look_up(user, storage);
    if (!pw) {
        return pw.error();
    }
    auto failed = [&](const char* step) {
        return make_error(Errc::Io, 0,
                          fmt::format("cannot switch to user '{}': {} failed: {}", user, step,
                                      std::strerror(errno)));
    };
    // Groups first: once the uid is not 0 they can no longer be changed.
    if (::initgroups(pw->pw_name, pw->pw_gid) != 0) {
        return failed("initgroups");
    }
    if (::setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0) {
        return failed("setresgid");
    }
    if (::setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
        return failed("setresuid");
    }
    if (pw->pw_uid != 0 && (::setuid(0) == 0 || ::geteuid() == 0)) {
        return make_error(Errc::Io, 0,
                          fmt::format("switched to user '{}' but root could be regained", user));
    }
    return {};
}

}  // namespace spicetap::capture
