#include "terminal.h"

#include <cstdint>

namespace closeloop::cli {
namespace {

// The code point of the UTF-8 sequence at s[i] and its length, or length 0 when the
// bytes there are not well-formed UTF-8.
struct CodePoint {
  uint32_t value = 0;
  size_t length = 0;
};

CodePoint decode_at(std::string_view s, size_t i) {
  unsigned char c = s[i];
  if (c < 0x80) return {c, 1};
  size_t length = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > s.size()) return {};
  uint32_t value = c & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) {
    unsigned char next = s[i + k];
    if ((next >> 6) != 0x2) return {};
    value = (value << 6) | (next & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {};
  return {value, length};
}

// Characters that steer a terminal or reorder what it shows (newline and tab aside).
bool steers_terminal(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string hex(uint32_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[i] = kDigits[value & 0xF];
  return out;
}

}  // namespace

std::string for_terminal(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    CodePoint cp = decode_at(text, i);
    if (cp.length == 0) {
      out += "\\x" + hex(static_cast<unsigned char>(text[i]), 2);
      ++i;
      continue;
    }
    bool kept = cp.value == '\t' || (cp.value == '\n' && keep_newlines);
    if (!kept && steers_terminal(cp.value))
      out += cp.value < 0x80 ? "\\x" + hex(cp.value, 2) : "\\u" + hex(cp.value, 4);
    else
      out.append(text, i, cp.length);
    i += cp.length;
  }
  return out;
}

std::string json_for_terminal(const wire::Json& json) {
  // dump() already writes C0 controls as escapes and replaces bytes that are not UTF-8;
  // what is left to escape can only be inside strings, where \uXXXX means the same.
  std::string text = wire::dump(json);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    CodePoint cp = decode_at(text, i);
    size_t length = cp.length == 0 ? 1 : cp.length;
    if (cp.length != 0 && cp.value >= 0x80 && steers_terminal(cp.value))
      out += "\\u" + hex(cp.value, 4);
    else
      out.append(text, i, length);
    i += length;
  }
  return out;
}

void print(std::string_view text, std::FILE* to) { std::fputs(for_terminal(text).c_str(), to); }

void print_line(std::string_view text, std::FILE* to) {
  print(text, to);
  std::fputc('\n', to);
}

void print_json(const wire::Json& json, std::FILE* to) {
  std::fputs(json_for_terminal(json).c_str(), to);
  std::fputc('\n', to);
}

}  // namespace closeloop::cli
