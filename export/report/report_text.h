// Words and numbers for people: the report's summary paragraph and the unit formatting the text
// and HTML outputs share.
#pragma once

#include <cstdint>
#include <string>

namespace spicetap::report {

struct Report;

// "display used 83 % of the bytes, mostly glz_rgb images (...); one mjpeg stream at 4.1 Mbit/s..."
std::string summary_paragraph(const Report& r);

// "1.23 MB", "45.6 kB", "789 B" (decimal units, as network rates are).
std::string format_bytes(uint64_t bytes);
// "4.1 Mbit/s", "96 kbit/s".
std::string format_rate(double bits_per_second);

}  // namespace spicetap::report
