// China's working-day calendar, for counting deadlines the way an office does under the
// Civil Code (民法典 Art. 201-203):
//   - a working day is a Monday-Friday not listed as `holiday`, or a weekend day listed as
//     `workday` (调休, a make-up working day); a year without a file has weekends alone;
//   - a period in working days does not count its starting day: n working days after
//     `from` is the n-th working day after it;
//   - a period in months ends on the day of the last month that corresponds to the
//     starting day, or on that month's last day if it has no such day; an end that is not
//     a working day moves to the next working day.
// The data is one file per year, config/calendar/cn-YYYY.csv (header date,kind,festival),
// copied from the State Council's yearly notice. A result that depends on a day of a year
// without a file is provisional: it must be recomputed once that year's notice is in.
//
// A Calendar is an immutable value once loaded: safe to share between threads. A
// CalendarWatch is not thread-safe; its owner calls check() from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "calendar/date.h"

namespace closeloop {

// Where a computed date came from, for the item's due_basis.
struct CalendarUse {
  // The files consulted, one per year the result depends on, joined by ", ": the file stem,
  // a space and the first 12 hex digits of its SHA-256 ("cn-2026 3f2a9c1b04d7"), or
  // "cn-2027 none" for a year without a file.
  std::string calendar;
  bool provisional = false;  // some day it depends on lies in a year without a file
};

struct DueDate {
  Date date;
  CalendarUse use;
};

class Calendar {
 public:
  Calendar() = default;  // no files: weekends alone

  // Reads every regular file named cn-YYYY.csv in `dir`; other files are ignored. Each
  // must be UTF-8 CSV (a BOM is tolerated) with the header date,kind,festival and rows
  // whose date lies in year YYYY, kind `holiday` or `workday` (a workday must fall on a
  // weekend), no date twice. Any problem is Error{errc::kInvalid, "<path>: line N: <what>"};
  // a missing dir is Error{errc::kInvalid, "<dir>: cannot read the directory: <why>"}.
  static Result<Calendar> load(const std::string& dir);

  bool is_working_day(Date d) const;
  bool has_year(int year) const { return digests_.count(year) > 0; }

  // The n-th working day after `from`; n = 0 gives `from` itself. REQUIRES: n >= 0.
  DueDate add_working_days(Date from, int n) const;
  // `from` plus n months, moved to the next working day if need be. REQUIRES: n >= 0.
  DueDate add_months(Date from, int n) const;
  // Working days in (from, to]; 0 if to <= from. ("Is it 5 working days overdue yet?")
  int working_days_between(Date from, Date to) const;

  // The SHA-256 of each year's file (lower-case hex), by year.
  const std::map<int, std::string>& digests() const { return digests_; }
  // "cn-2023:<digest>;cn-2024:<digest>;..." in year order: equal fingerprints mean the
  // same files, byte for byte.
  std::string fingerprint() const;

 private:
  // What the result `to` of a computation from `from` depended on: the years of the days
  // in (from, to], or from's own year when that is empty (then nothing is provisional).
  CalendarUse use_between(Date from, Date to) const;
  Date next_working_day(Date d) const;  // d itself if it is one

  std::map<int, std::string> digests_;
  std::map<Date, bool> listed_;  // day -> is a working day, for the days the files list
};

// Reloads a calendar directory when its files change, cheaply: check() stats the
// cn-YYYY.csv files (names, sizes, mtimes, and inodes and ctimes, so that a file replaced
// by rename or by `cp -p` counts as changed too) at most once per `min_interval_ms` of
// steady-clock time and reloads only when something changed. A reload that fails keeps
// the previous calendar (an empty one, weekends alone, if none ever loaded) and returns
// the error for the caller to log; it is not retried until the files change again.
class CalendarWatch {
 public:
  explicit CalendarWatch(std::string dir, int min_interval_ms = 1000);

  Status check();   // loads on the first call; later calls reload on change
  Status reload();  // now, regardless of the interval or the stat results
  // Valid until the next check() or reload() that loads new files.
  const Calendar& calendar() const { return calendar_; }
  bool changed_since(const std::string& fingerprint) const {
    return calendar_.fingerprint() != fingerprint;
  }

 private:
  struct Stamp {
    std::string name;
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
    uint64_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::vector<Stamp> stat_files() const;  // sorted by name; empty if dir is unreadable

  std::string dir_;
  std::chrono::milliseconds min_interval_;
  std::optional<std::chrono::steady_clock::time_point> last_check_;  // unset: never loaded
  std::vector<Stamp> stamps_;  // as seen before the last load attempt
  Calendar calendar_;
};

}  // namespace closeloop
