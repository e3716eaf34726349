// The real SPICE captures tests run on: the small committed ones (tests/data) and those the
// test peers record at test time (build/fixtures/<scenario>/capture.pcap).
#pragma once

#include <filesystem>
#include <vector>

namespace spicetap::test {

std::vector<std::filesystem::path> committed_captures();
std::vector<std::filesystem::path> recorded_captures();
std::vector<std::filesystem::path> all_real_captures();

}  // namespace spicetap::test
