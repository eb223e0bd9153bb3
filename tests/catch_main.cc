// The one Catch2 main, compiled once as an object library (it alone takes ~12 s).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
