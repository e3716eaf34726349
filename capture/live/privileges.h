// Dropping root after the capture device is open: the packet parsers then run as an ordinary
// user, like tcpdump -Z.
#pragma once

#include <string>

#include "decode/wire/result.h"

namespace spicetap::capture {

// Switches the process's groups, group and user to those of `user` for good (root cannot be
// regained). Errors: no such user, not allowed (not root), or the switch did not stick.
Result<void> drop_privileges(const std::string& user);

// The uid and gid of `user`, for handing it the output directory before the switch.
Result<std::pair<unsigned, unsigned>> user_ids(const std::string& user);

}  // namespace spicetap::capture
