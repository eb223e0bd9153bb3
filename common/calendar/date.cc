#include "calendar/date.h"

#include <cassert>
#include <chrono>
#include <cstdio>

namespace closeloop {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

year_month_day ymd_of(int days) { return year_month_day{sys_days{std::chrono::days{days}}}; }

// The digits of s as a number; -1 if any character is not a digit.
int digits(std::string_view s) {
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

std::optional<Date> Date::parse(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = digits(s.substr(0, 4)), m = digits(s.substr(5, 2)), d = digits(s.substr(8, 2));
  if (y < 1900 || m < 0 || d < 0) return std::nullopt;  // y is -1 on a non-digit too
  year_month_day ymd{std::chrono::year{y}, std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return from_ymd(y, m, d);
}

Date Date::from_ymd(int y, int m, int d) {
  year_month_day ymd{std::chrono::year{y}, std::chrono::month(m), std::chrono::day(d)};
  assert(ymd.ok());
  Date date;
  date.days_ = sys_days{ymd}.time_since_epoch().count();
  return date;
}

std::string Date::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year(), month(), day());
  return buf;
}

int Date::year() const { return int{ymd_of(days_).year()}; }
int Date::month() const { return static_cast<int>(unsigned{ymd_of(days_).month()}); }
int Date::day() const { return static_cast<int>(unsigned{ymd_of(days_).day()}); }

int Date::weekday() const {
  return static_cast<int>(std::chrono::weekday{sys_days{std::chrono::days{days_}}}.iso_encoding());
}

Date Date::plus_days(int n) const {
  Date date;
  date.days_ = days_ + n;
  return date;
}

}  // namespace closeloop
