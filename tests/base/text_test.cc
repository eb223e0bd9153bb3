#include <catch2/catch.hpp>

#include "base/text.h"

using namespace closeloop;

TEST_CASE("valid_utf8 accepts Chinese text and refuses broken sequences", "[base][utf8]") {
  CHECK(valid_utf8("县人大常委会 ok"));
  CHECK(valid_utf8("\xF0\x9F\x98\x80"));        // 4-byte emoji
  CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(valid_utf8("\xE5\x8E"));          // truncated
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  CHECK_FALSE(valid_utf8("\xFF"));
}

TEST_CASE("utf8_length counts characters, not bytes", "[base][utf8]") {
  CHECK(utf8_length("路灯") == 2);
  CHECK(utf8_length("ab") == 2);
}

TEST_CASE("hex round-trips and refuses odd or non-hex input", "[base][hex]") {
  std::string bytes;
  CHECK(from_hex(to_hex("\x01\xab"), &bytes));
  CHECK(bytes == "\x01\xab");
  CHECK_FALSE(from_hex("abc", &bytes));
  CHECK_FALSE(from_hex("zz", &bytes));
}

TEST_CASE("valid_date knows the calendar", "[base][date]") {
  CHECK(valid_date("2026-12-31"));
  CHECK(valid_date("2024-02-29"));
  CHECK_FALSE(valid_date("2026-02-29"));
  CHECK_FALSE(valid_date("2026-13-01"));
  CHECK_FALSE(valid_date("2026-1-01"));
  CHECK_FALSE(valid_date("tomorrow"));
}
