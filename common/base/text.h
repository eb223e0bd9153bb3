// Small text helpers shared by the codec, the workflow and the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace closeloop {

// True if s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

// Number of Unicode code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

// SHA-256 of `bytes`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

// Lower-case hex of raw bytes, and back (empty result with ok=false on bad input).
std::string to_hex(std::string_view bytes);
bool from_hex(std::string_view hex, std::string* bytes);

// Current UTC time as ISO 8601 with milliseconds: 2026-11-27T03:41:01.123Z.
std::string now_iso8601();

// True for a real calendar date written YYYY-MM-DD.
bool valid_date(std::string_view s);

}  // namespace closeloop
