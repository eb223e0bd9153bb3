// CSV as an office's Excel writes and reads it: the lists (清单) of items that users
// import, and the lists they export. parse() takes a whole file's bytes and returns its
// header and data rows in UTF-8, whatever Excel saved ("CSV UTF-8" with a BOM, or plain
// "CSV" in GB18030 on a Chinese Windows); Writer produces files Excel opens correctly.
// No shared state: parse() may run on any thread; a Writer belongs to one thread and one
// stream. Checking the rows against the expected columns is the caller's job.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace closeloop::csv {

struct Row {
  // 1-based line number where the record starts in the file (the header is line 1).
  size_t line = 0;
  std::vector<std::string> cells;  // UTF-8
};

struct Table {
  std::vector<std::string> header;  // trimmed of surrounding ASCII spaces
  std::vector<Row> rows;            // data rows; fully empty lines are skipped
  std::string converted_from;       // "" for UTF-8 input, "GB18030" when the file was converted
};

// Parses a whole file's bytes. Errors are Error{errc::kInvalid, message} with a message
// for the person who saved the file.
// - Encoding: a UTF-8 BOM is stripped; valid UTF-8 is taken as is. Otherwise the bytes are
//   converted from GB18030 (glibc iconv) if they convert cleanly, and converted_from says
//   so; else "not UTF-8 text, and not GB18030 either: save the file as "CSV UTF-8" (...)"
//   with the line and byte offset of the first bad sequence in each. A file that starts with
//   a UTF-8 BOM but has bad bytes is refused, not guessed. UTF-16 (BOM FF FE or FE FF) is
//   refused by name; a NUL byte anywhere means a binary file ("line N: a NUL byte ...").
// - RFC 4180: ',' between fields; LF, CRLF or a lone CR ends a record; a field may be
//   quoted with '"', a quote inside it doubled, and then may hold commas and line breaks
//   (kept as they are in the file, CR included). Row::line is where the record starts.
// - Broken quoting is "line N: <what>": an unclosed quoted field names the line where it
//   opens; a quote inside an unquoted field or a character after a closing quote names the
//   line where that character is.
// - Skipped as empty: blank lines, and records whose cells are all empty ("", ",,,") —
//   Excel writes a blank row inside the used range as commas only.
// - The first non-empty record is the header (names trimmed of ASCII spaces); none at all
//   is "empty file: no header row". Data cells are not trimmed, and rows keep the number
//   of cells they have, fewer or more than the header: the caller reports per row.
Result<Table> parse(std::string_view bytes);

// Writes a file Excel opens correctly: UTF-8 with a BOM, CRLF after every row, a field
// quoted (quotes doubled) when it holds ',', '"', CR or LF, or begins or ends with a space.
// Formula guard: a field starting with = + - or @ would be run by Excel as a formula
// (CSV injection), so it is written quoted with a single quote before it: "=1+1" becomes
// "'=1+1". The guard is not undone on reading: parse() returns "'=1+1" (and "'-5" for -5).
// A row of only empty cells is written as a line that parse() skips.
// REQUIRES: cells are UTF-8. Stream errors are left in the stream's state for the caller.
class Writer {
 public:
  explicit Writer(std::ostream& out);  // writes the BOM at construction
  void row(const std::vector<std::string>& cells);

 private:
  std::ostream& out_;
};

// One field as Writer writes it (quoted, escaped and guarded when needed).
std::string field(std::string_view value);

}  // namespace closeloop::csv
