#include "calendar/clock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

namespace closeloop {

using std::chrono::system_clock;

void use_timezone(const std::string& timezone) {
  ::setenv("TZ", (":" + timezone).c_str(), 1);
  ::tzset();
}

Clock::Clock(const std::string& timezone, std::string clock_file)
    : clock_file_(std::move(clock_file)) {
  use_timezone(timezone);
}

std::string local_time_text(std::string_view iso) {
  system_clock::time_point t;
  if (!parse_iso(iso, &t)) return std::string(iso);
  std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  int offset = static_cast<int>(tm.tm_gmtoff / 60);  // minutes east of UTC
  int hours = std::abs(offset) / 60 % 24, minutes = std::abs(offset) % 60;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d %c%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, offset < 0 ? '-' : '+', hours,
                minutes);
  return buf;
}

// A test clock: the time written in the file, plus the time since it was written.
system_clock::time_point Clock::now() const {
  system_clock::time_point real = system_clock::now();
  if (clock_file_.empty()) return real;
  struct stat st {};
  if (::stat(clock_file_.c_str(), &st) != 0) return real;
  std::ifstream in(clock_file_);
  std::string text;
  std::getline(in, text);
  system_clock::time_point set;
  if (!parse_iso(text, &set)) return real;
  auto written = system_clock::from_time_t(st.st_mtim.tv_sec) +
                 std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return set + std::chrono::duration_cast<system_clock::duration>(real - written);
}

bool known_timezone(const std::string& zone) {
  if (zone == "UTC") return true;
  if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string::npos) return false;
  std::string path = "/usr/share/zoneinfo/" + zone;
  return ::access(path.c_str(), R_OK) == 0;
}

std::string Clock::now_iso() const { return format_iso(now()); }

namespace {
Date local_date_of(system_clock::time_point t) {
  std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  return Date::from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
}  // namespace

Date Clock::today() const { return local_date_of(now()); }

Date Clock::local_date(std::string_view iso, Date fallback) const {
  system_clock::time_point t;
  return parse_iso(iso, &t) ? local_date_of(t) : fallback;
}

std::string format_iso(system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

bool parse_iso(std::string_view s, system_clock::time_point* t) {
  int y, mo, d, h, mi, sec, n = 0;
  std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
    return false;
  std::string_view rest = s.substr(static_cast<size_t>(n));
  int millis = 0;
  if (!rest.empty() && rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    std::string frac(rest.substr(1, std::min<size_t>(digits - 1, 3)));
    while (frac.size() < 3) frac += '0';
    millis = std::atoi(frac.c_str());
    rest.remove_prefix(digits);
  }
  if (rest != "Z" || !Date::parse(text.substr(0, 10))) return false;
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  *t = system_clock::from_time_t(::timegm(&tm)) + std::chrono::milliseconds(millis);
  return h < 24 && mi < 60 && sec < 61;
}

}  // namespace closeloop
