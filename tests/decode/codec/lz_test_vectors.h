// Test-only: reads the real payload vectors under tests/decode/codec/vectors/ (see README there).
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/paths.h"

namespace spicetap::test {

inline std::vector<uint8_t> read_codec_vector(const std::string& name) {
    const auto path = source_dir() / "tests/decode/codec/vectors" / name;
    std::ifstream f(path, std::ios::binary);
    INFO(path.string());
    REQUIRE(f.good());
    return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace spicetap::test
