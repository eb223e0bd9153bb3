// Unit tests for calendar/date.h: strict parsing, the ISO weekday, and day arithmetic
// across month, year and leap-day boundaries.
#include "calendar/date.h"

#include <catch2/catch.hpp>

using namespace closeloop;

namespace Catch {
template <>
struct StringMaker<Date> {
  static std::string convert(const Date& date) { return date.str(); }
};
}  // namespace Catch

namespace {

Date d(const char* text) {
  std::optional<Date> date = Date::parse(text);
  REQUIRE(date);
  return *date;
}

}  // namespace

TEST_CASE("Date::parse accepts only a real YYYY-MM-DD", "[calendar][date]") {
  CHECK(Date::parse("2024-02-29"));  // leap year
  CHECK(Date::parse("2000-02-29"));  // divisible by 400
  CHECK(Date::parse("1900-01-01"));
  CHECK(Date::parse("9999-12-31"));
  CHECK_FALSE(Date::parse("2026-02-29"));
  CHECK_FALSE(Date::parse("1900-02-29"));  // divisible by 100, not by 400
  CHECK_FALSE(Date::parse("2026-13-01"));
  CHECK_FALSE(Date::parse("2026-00-10"));
  CHECK_FALSE(Date::parse("2026-04-31"));
  CHECK_FALSE(Date::parse("2026-01-00"));
  CHECK_FALSE(Date::parse("2026-1-05"));
  CHECK_FALSE(Date::parse(""));
  CHECK_FALSE(Date::parse("2026-01-05x"));
  CHECK_FALSE(Date::parse(" 2026-01-05"));
  CHECK_FALSE(Date::parse("2026/01/05"));
  CHECK_FALSE(Date::parse("+026-01-05"));
  CHECK_FALSE(Date::parse("1899-12-31"));
}

TEST_CASE("Date fields and str round-trip", "[calendar][date]") {
  Date date = d("2026-01-05");
  CHECK(date.year() == 2026);
  CHECK(date.month() == 1);
  CHECK(date.day() == 5);
  CHECK(date.str() == "2026-01-05");
  CHECK(Date::from_ymd(2026, 1, 5) == date);
  CHECK(Date().str() == "1970-01-01");
  CHECK(d("1900-03-01").str() == "1900-03-01");
}

TEST_CASE("Date::weekday is ISO, Monday 1 to Sunday 7", "[calendar][date]") {
  CHECK(d("2026-11-30").weekday() == 1);
  CHECK(d("2026-01-01").weekday() == 4);
  CHECK(d("2026-02-14").weekday() == 6);
  CHECK(d("2026-02-15").weekday() == 7);
  CHECK(Date().weekday() == 4);  // 1970-01-01 was a Thursday
}

TEST_CASE("plus_days and days_since cross month, year and leap-day ends", "[calendar][date]") {
  CHECK(d("2026-01-31").plus_days(1) == d("2026-02-01"));
  CHECK(d("2026-02-28").plus_days(1) == d("2026-03-01"));
  CHECK(d("2024-02-28").plus_days(1) == d("2024-02-29"));
  CHECK(d("2026-12-31").plus_days(1) == d("2027-01-01"));
  CHECK(d("2027-01-01").plus_days(-1) == d("2026-12-31"));
  CHECK(d("2024-03-01").plus_days(-1) == d("2024-02-29"));
  CHECK(d("2026-01-05").plus_days(365) == d("2027-01-05"));
  CHECK(d("2024-01-05").plus_days(366) == d("2025-01-05"));
  CHECK(d("2027-01-01").days_since(d("2026-12-31")) == 1);
  CHECK(d("2026-12-31").days_since(d("2027-01-01")) == -1);
  CHECK(d("2025-01-01").days_since(d("2024-01-01")) == 366);
}

TEST_CASE("Dates order by day", "[calendar][date]") {
  CHECK(d("2026-01-31") < d("2026-02-01"));
  CHECK(d("2025-12-31") < d("2026-01-01"));
  CHECK(d("2026-02-01") > d("2026-01-31"));
  CHECK(d("2026-02-01") == d("2026-02-01"));
}
