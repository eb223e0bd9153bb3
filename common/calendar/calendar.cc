#include "calendar/calendar.h"

#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace closeloop {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHeader = "date,kind,festival";
constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string stem(int year) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "cn-%04d", year);
  return buf;
}

// 2026 for "cn-2026.csv"; nullopt for any other name.
std::optional<int> year_of_file(const std::string& name) {
  if (name.size() != 11 || !name.starts_with("cn-") || !name.ends_with(".csv")) return {};
  int year = 0;
  for (char c : name.substr(3, 4)) {
    if (c < '0' || c > '9') return {};
    year = year * 10 + (c - '0');
  }
  return year;
}

// The calendar files in dir by year: regular files (or links to them) named cn-YYYY.csv.
std::map<int, fs::path> calendar_files(const std::string& dir, std::error_code& ec) {
  std::map<int, fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::optional<int> year = year_of_file(it->path().filename().string());
    std::error_code file_ec;
    if (year && it->is_regular_file(file_ec)) files[*year] = it->path();
  }
  return files;
}

// A problem of line `line` of the file at `path`: `msgid` names them {path} and {line}.
Error invalid(const std::string& path, int line, std::string_view msgid, MessageArgs args = {}) {
  args.insert(args.begin(), {{"path", path}, {"line", std::to_string(line)}});
  return Error::of(errc::kInvalid, msgid, std::move(args));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// Checks one data row of the file for `year` and records it in *listed.
// `first_line` remembers where each date was seen, to name both lines of a duplicate.
Status parse_row(const std::string& path, int line_no, std::string_view line, int year,
                 std::map<Date, bool>* listed, std::map<Date, int>* first_line) {
  std::vector<std::string_view> f = split_fields(line);
  if (f.size() != 3) {
    return invalid(path, line_no,
                   N_("{path}: line {line}: expected 3 fields (date,kind,festival), got {count}"),
                   {{"count", std::to_string(f.size())}});
  }
  std::optional<Date> date = Date::parse(f[0]);
  if (!date)
    return invalid(path, line_no, N_("{path}: line {line}: bad date '{value}'"),
                   {{"value", std::string(f[0])}});
  if (date->year() != year) {
    return invalid(path, line_no, N_("{path}: line {line}: {date} is not in {year}"),
                   {{"date", date->str()}, {"year", std::to_string(year)}});
  }
  if (f[1] != "holiday" && f[1] != "workday") {
    return invalid(path, line_no,
                   N_("{path}: line {line}: bad kind '{value}' (expected holiday or workday)"),
                   {{"value", std::string(f[1])}});
  }
  bool working = f[1] == "workday";
  // 调休 only ever turns a weekend day into a working day: a weekday here is a typo.
  if (working && date->weekday() <= 5) {
    return invalid(path, line_no,
                   N_("{path}: line {line}: workday {date} is not a Saturday or Sunday"),
                   {{"date", date->str()}});
  }
  auto [it, fresh] = first_line->emplace(*date, line_no);
  if (!fresh) {
    return invalid(path, line_no, N_("{path}: line {line}: {date} listed twice (first on line {first})"),
                   {{"date", date->str()}, {"first", std::to_string(it->second)}});
  }
  (*listed)[*date] = working;
  return ok_status();
}

// Parses the text of the file for `year` (BOM, header, rows) into *listed.
Status parse_year(const std::string& path, std::string_view text, int year,
                  std::map<Date, bool>* listed) {
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  std::map<Date, int> first_line;
  bool header_seen = false;
  int line_no = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (!valid_utf8(line)) return invalid(path, line_no, N_("{path}: line {line}: not UTF-8"));
    line = trim(line);
    if (line.empty()) continue;
    if (!header_seen) {
      if (split_fields(line) != std::vector<std::string_view>{"date", "kind", "festival"}) {
        return invalid(path, line_no, N_("{path}: line {line}: expected the header {header}"),
                       {{"header", std::string(kHeader)}});
      }
      header_seen = true;
      continue;
    }
    Status row = parse_row(path, line_no, line, year, listed, &first_line);
    if (!row.ok()) return row;
  }
  if (!header_seen) {
    return invalid(path, 1, N_("{path}: line {line}: empty file (expected the header {header})"),
                   {{"header", std::string(kHeader)}});
  }
  return ok_status();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || in.bad())
    return Error::of(errc::kInvalid, N_("{path}: cannot read"), {{"path", path}});
  return text.str();
}

}  // namespace

Result<Calendar> Calendar::load(const std::string& dir) {
  std::error_code ec;
  std::map<int, fs::path> files = calendar_files(dir, ec);
  if (ec)
    return Error::of(errc::kInvalid, N_("{path}: cannot read the directory: {why}"),
                     {{"path", dir}, {"why", ec.message()}});
  Calendar cal;
  for (const auto& [year, file] : files) {
    Result<std::string> text = read_file(file.string());
    if (!text.ok()) return text.error();
    Status parsed = parse_year(file.string(), *text, year, &cal.listed_);
    if (!parsed.ok()) return parsed.error();
    cal.digests_[year] = sha256_hex(*text);
  }
  return cal;
}

bool Calendar::is_working_day(Date d) const {
  auto it = listed_.find(d);
  if (it != listed_.end()) return it->second;
  return d.weekday() <= 5;
}

Date Calendar::next_working_day(Date d) const {
  while (!is_working_day(d)) d = d.plus_days(1);
  return d;
}

DueDate Calendar::add_working_days(Date from, int n) const {
  assert(n >= 0);
  Date d = from;
  for (int counted = 0; counted < n;) {
    d = d.plus_days(1);
    counted += is_working_day(d);
  }
  return {d, use_between(from, d)};
}

DueDate Calendar::add_months(Date from, int n) const {
  assert(n >= 0);
  using namespace std::chrono;
  year_month ym = year{from.year()} / month(from.month()) + months{n};
  unsigned last_day = unsigned{(ym / last).day()};
  int d = std::min(from.day(), static_cast<int>(last_day));
  Date end = Date::from_ymd(int{ym.year()}, static_cast<int>(unsigned{ym.month()}), d);
  Date due = next_working_day(end);
  return {due, use_between(from, due)};
}

int Calendar::working_days_between(Date from, Date to) const {
  int n = 0;
  for (Date d = from.plus_days(1); d <= to; d = d.plus_days(1)) n += is_working_day(d);
  return n;
}

CalendarUse Calendar::use_between(Date from, Date to) const {
  Date first = from.plus_days(1);
  bool depends = first <= to;
  if (!depends) first = to = from;
  CalendarUse use;
  for (int y = first.year(); y <= to.year(); ++y) {
    if (!use.calendar.empty()) use.calendar += ", ";
    auto it = digests_.find(y);
    if (it != digests_.end()) {
      use.calendar += stem(y) + " " + it->second.substr(0, 12);
    } else {
      use.calendar += stem(y) + " none";
      use.provisional = use.provisional || depends;
    }
  }
  return use;
}

std::string Calendar::fingerprint() const {
  std::string out;
  for (const auto& [year, digest] : digests_) out += stem(year) + ":" + digest + ";";
  return out;
}

CalendarWatch::CalendarWatch(std::string dir, int min_interval_ms)
    : dir_(std::move(dir)), min_interval_(min_interval_ms) {}

Status CalendarWatch::check() {
  if (!last_check_) return reload();
  auto now = std::chrono::steady_clock::now();
  if (now - *last_check_ < min_interval_) return ok_status();
  last_check_ = now;
  if (stat_files() == stamps_) return ok_status();
  return reload();
}

Status CalendarWatch::reload() {
  last_check_ = std::chrono::steady_clock::now();
  // Stamped before loading: a file that changes during the load differs next time.
  stamps_ = stat_files();
  Result<Calendar> loaded = Calendar::load(dir_);
  if (!loaded.ok()) return loaded.error();
  calendar_ = std::move(*loaded);
  return ok_status();
}

std::vector<CalendarWatch::Stamp> CalendarWatch::stat_files() const {
  std::error_code ec;
  std::vector<Stamp> stamps;
  for (const auto& [year, file] : calendar_files(dir_, ec)) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) continue;
    auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
    stamps.push_back(
        Stamp{file.filename().string(), st.st_size, ns(st.st_mtim), ns(st.st_ctim), st.st_ino});
  }
  return stamps;
}

}  // namespace closeloop
