// The service's sense of time: "now" in UTC (every stored timestamp) and the calendar
// day in the office's time zone (config `timezone`: "today", due dates, "overdue").
//
// Tests set the clock with config [testing] clock_file: the file holds an ISO 8601 UTC
// time, which the clock reads as "now" at the moment the file was last written and
// runs on from there; rewriting the file moves the clock. Without that key the clock
// is the system's; the key is for tests only and every process logs a warning when it
// is set.
//
// The time zone is the process's (TZ, set by the constructor): one office, one zone.
// Not thread-safe to construct; reading is.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "calendar/date.h"

namespace closeloop {

// Makes `timezone` (a tz database name) the process's local zone: local times, the
// office's "today" and the log's times are counted in it. Every process of ours calls it
// with the config's `timezone` before it logs (so a log line's time is the wall clock's).
void use_timezone(const std::string& timezone);

// An ISO 8601 UTC time as a person reads it, in the process's zone with its offset:
// "2026-12-07T03:25:53.833Z" → "2026-12-07 11:25 +08:00"; `iso` itself if unreadable.
std::string local_time_text(std::string_view iso);

class Clock {
 public:
  // REQUIRES `timezone` names a zone of the tz database (config validates it).
  explicit Clock(const std::string& timezone, std::string clock_file = "");

  std::chrono::system_clock::time_point now() const;
  std::string now_iso() const;  // 2026-11-27T03:41:01.123Z
  Date today() const;           // in the office's time zone
  // The office-local day of an ISO 8601 UTC time (as stored in events); `fallback` if
  // `iso` cannot be read.
  Date local_date(std::string_view iso, Date fallback = Date()) const;
  bool is_test_clock() const { return !clock_file_.empty(); }

 private:
  std::string clock_file_;
};

// A zone the C library can load: UTC, or a file of the tz database (package tzdata).
// Clock takes any name, and an unknown one silently counts in UTC: check names that
// come from outside (the config, a bundle) with this first.
bool known_timezone(const std::string& zone);

// ISO 8601 UTC with milliseconds.
std::string format_iso(std::chrono::system_clock::time_point t);
// Reads "YYYY-MM-DDTHH:MM:SS[.fff]Z"; false if it is not that.
bool parse_iso(std::string_view s, std::chrono::system_clock::time_point* t);

}  // namespace closeloop
