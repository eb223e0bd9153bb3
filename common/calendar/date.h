// A civil calendar day (proleptic Gregorian, no time of day, no time zone): the unit in
// which deadlines are counted. A value type, cheap to copy and ordered; thread-compatible.
// Built on <chrono>'s calendar types (sys_days, year_month_day), not on its time zones.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace closeloop {

class Date {
 public:
  Date() = default;  // 1970-01-01

  // Exactly YYYY-MM-DD, a real date (leap years count), year 1900..9999; nullopt otherwise.
  static std::optional<Date> parse(std::string_view yyyy_mm_dd);
  // REQUIRES: y-m-d is a real date.
  static Date from_ymd(int y, int m, int d);

  std::string str() const;  // "2026-01-05"
  int year() const;
  int month() const;
  int day() const;
  int weekday() const;  // ISO: 1 = Monday .. 7 = Sunday

  Date plus_days(int n) const;  // n may be negative
  int days_since(Date other) const { return days_ - other.days_; }

  auto operator<=>(const Date&) const = default;

 private:
  int days_ = 0;  // days since 1970-01-01
};

}  // namespace closeloop
