// Text put into the offline HTML pages (report, timeline): element content and quoted
// attribute values.
#pragma once

#include <string>
#include <string_view>

namespace spicetap::html {

// Escapes <, >, & and " so `s` stays text.
std::string escape(std::string_view s);

}  // namespace spicetap::html
