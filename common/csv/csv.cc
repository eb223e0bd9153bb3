#include "csv/csv.h"

#include <iconv.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "base/text.h"

namespace closeloop::csv {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";  // UTF-8 BOM, also U+FEFF after conversion
constexpr size_t kNone = std::string_view::npos;

Error invalid(std::string_view msgid, MessageArgs args = {}) {
  return Error::of(errc::kInvalid, msgid, std::move(args));
}

// A problem at `line`, which `msgid` names {line}.
Error at_line(size_t line, std::string_view msgid) {
  return invalid(msgid, {{"line", std::to_string(line)}});
}

// 1-based line of a byte offset; LF, CRLF and a lone CR each end a line.
size_t line_of(std::string_view text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    bool lone_cr = text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n');
    line += text[i] == '\n' || lone_cr;
  }
  return line;
}

// The line and byte offset of `offset`, as arguments named `line` and `offset` after `prefix`.
MessageArgs where(std::string_view text, size_t offset, const std::string& prefix = "") {
  return {{prefix + "line", std::to_string(line_of(text, offset))},
          {prefix + "offset", std::to_string(offset)}};
}

// Offset of the first sequence that is not UTF-8, or kNone. Each sequence is checked on
// its own by valid_utf8, so the rules (overlongs, surrogates) stay in one place.
size_t first_bad_utf8(std::string_view s) {
  if (valid_utf8(s)) return kNone;
  for (size_t i = 0; i < s.size();) {
    auto lead = static_cast<unsigned char>(s[i]);
    size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (!valid_utf8(s.substr(i, n))) return i;
    i += n;
  }
  return kNone;
}

// GB18030 -> UTF-8 with glibc's iconv. On failure *bad is the offset of the first byte
// that does not convert (an invalid or truncated sequence).
bool from_gb18030(std::string_view in, std::string* out, size_t* bad) {
  *bad = 0;
  iconv_t handle = iconv_open("UTF-8", "GB18030");
  if (handle == reinterpret_cast<iconv_t>(-1)) return false;  // no gconv modules installed
  std::unique_ptr<std::remove_pointer_t<iconv_t>, int (*)(iconv_t)> cd(handle, iconv_close);
  // One GB18030 byte gives at most 1.5 UTF-8 bytes (2 -> 3, 4 -> 4), so this never fills.
  out->assign(in.size() * 2 + 4, '\0');
  char* src = const_cast<char*>(in.data());  // iconv's signature; it does not write there
  size_t src_left = in.size();
  char* dst = out->data();
  size_t dst_left = out->size();
  size_t rc = iconv(cd.get(), &src, &src_left, &dst, &dst_left);
  if (rc == static_cast<size_t>(-1)) {
    *bad = src - in.data();
    return false;
  }
  out->resize(out->size() - dst_left);
  if (out->starts_with(kBom)) out->erase(0, kBom.size());  // GB18030's own BOM, 84 31 95 33
  return true;
}

// The file's text as UTF-8, converted from GB18030 if it has to be.
Result<std::string> to_utf8(std::string_view bytes, std::string* converted_from) {
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    return invalid(N_("the file is UTF-16 text (Excel's \"Unicode Text\"): save it as \"CSV UTF-8\""));
  }
  if (size_t nul = bytes.find('\0'); nul != kNone) {
    return at_line(line_of(bytes, nul),
                   N_("line {line}: a NUL byte: this is a binary file (a workbook?), not CSV "
                      "text; save it as \"CSV UTF-8\""));
  }
  bool bom = bytes.starts_with(kBom);
  size_t start = bom ? kBom.size() : 0;
  size_t bad = first_bad_utf8(bytes.substr(start));
  if (bad == kNone) return std::string(bytes.substr(start));
  if (bom) {
    return invalid(N_("the file starts with a UTF-8 BOM but is not UTF-8 text at line {line}, byte "
                      "offset {offset}: save the file again as \"CSV UTF-8\""),
                   where(bytes, start + bad));
  }
  std::string text;
  size_t bad_gb = 0;
  if (from_gb18030(bytes, &text, &bad_gb)) {
    *converted_from = "GB18030";
    return text;
  }
  MessageArgs args = where(bytes, bad);
  for (auto& arg : where(bytes, bad_gb, "gb_")) args.push_back(std::move(arg));
  return invalid(N_("not UTF-8 text, and not GB18030 either: save the file as \"CSV UTF-8\" (line "
                    "{line}, byte offset {offset} is not UTF-8; line {gb_line}, byte offset "
                    "{gb_offset} is not GB18030)"),
                 std::move(args));
}

// Reads records one at a time from UTF-8 text; line_ is the line that pos_ is on.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  Status record(Row* row);

 private:
  Status quoted(std::string* cell);
  Status unquoted(std::string* cell);
  size_t break_length() const;  // 2 at CRLF, 1 at a lone CR or LF, else 0
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

size_t Reader::break_length() const {
  if (at('\n')) return 1;
  if (!at('\r')) return 0;
  return pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n' ? 2 : 1;
}

Status Reader::record(Row* row) {
  row->line = line_;
  row->cells.clear();
  for (;;) {
    std::string cell;
    Status read = at('"') ? quoted(&cell) : unquoted(&cell);
    if (!read) return read;
    row->cells.push_back(std::move(cell));
    if (!at(',')) break;
    ++pos_;
  }
  if (size_t n = break_length()) {
    pos_ += n;
    ++line_;
  }
  return ok_status();
}

Status Reader::quoted(std::string* cell) {
  size_t opened = line_;
  ++pos_;
  while (pos_ < text_.size()) {
    if (size_t n = break_length()) {
      cell->append(text_.substr(pos_, n));
      pos_ += n;
      ++line_;
    } else if (!at('"')) {
      cell->push_back(text_[pos_++]);
    } else if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
      cell->push_back('"');
      pos_ += 2;
    } else {
      ++pos_;
      if (done() || at(',') || break_length()) return ok_status();
      return at_line(line_, N_("line {line}: unexpected character after a closing quote"));
    }
  }
  return at_line(opened, N_("line {line}: a quoted field is not closed"));
}

Status Reader::unquoted(std::string* cell) {
  size_t end = std::min(text_.find_first_of(",\r\n\"", pos_), text_.size());
  cell->assign(text_.substr(pos_, end - pos_));
  pos_ = end;
  if (at('"')) {
    return at_line(line_, N_("line {line}: a quote inside an unquoted field (quote the whole field "
                             "and double the quotes inside it)"));
  }
  return ok_status();
}

bool blank(const Row& row) {
  return std::all_of(row.cells.begin(), row.cells.end(), [](auto& c) { return c.empty(); });
}

std::string trim_spaces(std::string_view s) {
  size_t begin = s.find_first_not_of(' ');
  if (begin == kNone) return "";
  return std::string(s.substr(begin, s.find_last_not_of(' ') + 1 - begin));
}

}  // namespace

Result<Table> parse(std::string_view bytes) {
  Table table;
  Result<std::string> text = to_utf8(bytes, &table.converted_from);
  if (!text) return text.error();
  Reader reader(*text);
  bool have_header = false;
  Row row;
  while (!reader.done()) {
    if (Status read = reader.record(&row); !read) return read.error();
    if (blank(row)) continue;
    if (have_header) {
      table.rows.push_back(std::move(row));
      continue;
    }
    for (auto& name : row.cells) table.header.push_back(trim_spaces(name));
    have_header = true;
  }
  if (!have_header) return invalid(N_("empty file: no header row"));
  return table;
}

Writer::Writer(std::ostream& out) : out_(out) { out_ << kBom; }

void Writer::row(const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out_ << ',';
    out_ << field(cells[i]);
  }
  out_ << "\r\n";
}

std::string field(std::string_view value) {
  bool formula = !value.empty() && std::string_view("=+-@").find(value.front()) != kNone;
  bool padded = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  if (!formula && !padded && value.find_first_of(",\"\r\n") == kNone) return std::string(value);
  std::string out = formula ? "\"'" : "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace closeloop::csv
