// The one Catch2 main shared by every test executable (kept in its own TU so the heavy
// catch.hpp implementation is compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
