#include "terminal.h"

#include <cstdint>
#include <cstdio>

#include "base/text.h"

namespace closeloop::cli {
namespace {

// Characters that steer a terminal or reorder what it shows (newline and tab aside).
bool steers_terminal(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// A byte that is not UTF-8, or a control below U+0080, as \x1b; a code point above as \u202e.
std::string escaped_byte(unsigned char byte) {
  char text[16];
  std::snprintf(text, sizeof text, "\\x%02x", byte);
  return text;
}

std::string escaped(uint32_t cp) {
  if (cp < 0x80) return escaped_byte(static_cast<unsigned char>(cp));
  char text[16];
  std::snprintf(text, sizeof text, "\\u%04x", cp);
  return text;
}

}  // namespace

std::string for_terminal(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    CodePoint cp = utf8_decode_at(text, i);
    if (cp.length == 0) {
      out += escaped_byte(static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    bool kept = cp.value == '\t' || (cp.value == '\n' && keep_newlines);
    if (!kept && steers_terminal(cp.value))
      out += escaped(cp.value);
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
    CodePoint cp = utf8_decode_at(text, i);
    size_t length = cp.length == 0 ? 1 : cp.length;
    if (cp.length != 0 && cp.value >= 0x80 && steers_terminal(cp.value))
      out += escaped(cp.value);
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
