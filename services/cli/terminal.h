// Everything the CLI prints passes through here, because titles, bodies, names and
// error messages come from the service, and so from whoever submitted an item: a title
// holding ESC [2J or a right-to-left override must not rewrite a supervisor's screen.
//
// For people: C0 controls (but newline and tab), DEL, the C1 controls (U+0080-U+009F),
// the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) and bytes
// that are not UTF-8 are shown escaped: \x1b, \u202e. For --json: the same characters
// as JSON escapes (\u001b, \u202e), so the document is unchanged for a parser.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "wire/json.h"

namespace closeloop::cli {

std::string for_terminal(std::string_view text, bool keep_newlines = true);

// Prints text (escaped) to stdout or stderr.
void print(std::string_view text, std::FILE* to = stdout);
// Prints a line: the text escaped, then a newline.
void print_line(std::string_view text, std::FILE* to = stdout);
// Prints JSON (one line, escaped as above), then a newline.
void print_json(const wire::Json& json, std::FILE* to = stdout);
// The compact JSON text of `json`, escaped as above (for output written piece by piece).
std::string json_for_terminal(const wire::Json& json);

}  // namespace closeloop::cli
