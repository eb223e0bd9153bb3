// Small text helpers shared by the codec, the workflow and the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace closeloop {

// The code point of the UTF-8 sequence at s[i] and its length in bytes; length 0 when
// the bytes there are not well-formed UTF-8 (an overlong form, a surrogate, past
// U+10FFFF, a sequence cut short). Inline: field decoding calls it per character.
struct CodePoint {
  uint32_t value = 0;
  size_t length = 0;
};
inline CodePoint utf8_decode_at(std::string_view s, size_t i) {
  unsigned char c = s[i];
  if (c < 0x80) return {c, 1};
  size_t length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (length == 0 || s.size() - i < length) return {};
  uint32_t value = c & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) {
    unsigned char next = s[i + k];
    if ((next & 0xC0) != 0x80) return {};
    value = (value << 6) | (next & 0x3F);
  }
  constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {};
  return {value, length};
}

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
