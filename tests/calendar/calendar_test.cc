// Unit tests for calendar/calendar.h. The real-data cases use the shipped files under
// config/calendar/; every expected date was read off those CSV files and a wall calendar by
// hand, not computed by the code under test. Loading and watching use temporary dirs.
#include "calendar/calendar.h"

#include <openssl/evp.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace closeloop;

// Failures print the date, not {?}.
namespace Catch {
template <>
struct StringMaker<Date> {
  static std::string convert(const Date& date) { return date.str(); }
};
}  // namespace Catch

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

const std::string kShipped = CLOSELOOP_SOURCE_DIR "/config/calendar";

// A 2027 file as its notice might have it: New Year's Day, a Friday, is a holiday.
const std::string kCn2027 = "date,kind,festival\n2027-01-01,holiday,元旦\n";

Date d(const char* text) {
  std::optional<Date> date = Date::parse(text);
  REQUIRE(date);
  return *date;
}

const Calendar& shipped() {
  static const Calendar cal = [] {
    Result<Calendar> r = Calendar::load(kShipped);
    if (!r.ok()) FAIL(r.error().message);
    return *r;
  }();
  return cal;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// SHA-256 of a file in lower-case hex, computed here rather than by the code under test.
std::string sha256_of(const fs::path& path) {
  std::string text = read(path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/closeloop-calendar-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string str() const { return path.string(); }
};

// A temp dir holding copies of the shipped cn-2023..2026 files.
struct ShippedCopy : TempDir {
  ShippedCopy() {
    for (const auto& entry : fs::directory_iterator(kShipped)) {
      fs::copy_file(entry.path(), path / entry.path().filename());
    }
  }
};

// The error message of loading `dir`; fails the test if it loads.
std::string load_error(const std::string& dir) {
  Result<Calendar> r = Calendar::load(dir);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::kInvalid);
  return r.error().message;
}

}  // namespace

TEST_CASE("the shipped files load as one calendar for 2023-2026", "[calendar]") {
  const Calendar& cal = shipped();
  for (int year : {2023, 2024, 2025, 2026}) {
    CAPTURE(year);
    CHECK(cal.has_year(year));
    std::string file = kShipped + "/cn-" + std::to_string(year) + ".csv";
    CHECK(cal.digests().at(year) == sha256_of(file));
  }
  CHECK_FALSE(cal.has_year(2022));
  CHECK_FALSE(cal.has_year(2027));
  CHECK(cal.fingerprint() == "cn-2023:" + sha256_of(kShipped + "/cn-2023.csv") +
                                 ";cn-2024:" + sha256_of(kShipped + "/cn-2024.csv") +
                                 ";cn-2025:" + sha256_of(kShipped + "/cn-2025.csv") +
                                 ";cn-2026:" + sha256_of(kShipped + "/cn-2026.csv") + ";");
}

TEST_CASE("holidays are off even on weekdays and 调休 weekend days are working days",
          "[calendar]") {
  const Calendar& cal = shipped();
  CHECK(cal.is_working_day(d("2025-09-28")));  // Sunday, 调休 for National Day
  CHECK(cal.is_working_day(d("2025-10-11")));  // Saturday, 调休 for National Day
  for (Date day = d("2025-10-01"); day <= d("2025-10-08"); day = day.plus_days(1)) {
    CAPTURE(day.str());
    CHECK_FALSE(cal.is_working_day(day));  // National Day and Mid-Autumn merged
  }
  CHECK(cal.is_working_day(d("2026-02-14")));        // Saturday, 调休 for Spring Festival
  CHECK(cal.is_working_day(d("2026-02-28")));        // Saturday, 调休 for Spring Festival
  CHECK_FALSE(cal.is_working_day(d("2026-02-16")));  // Monday in the holiday
  CHECK(cal.is_working_day(d("2026-02-24")));        // Tuesday after it
  CHECK_FALSE(cal.is_working_day(d("2026-03-01")));  // an ordinary Sunday
  CHECK(cal.is_working_day(d("2026-03-02")));        // an ordinary Monday
  CHECK_FALSE(cal.is_working_day(d("2026-01-03")));  // Saturday listed as holiday: still off
}

TEST_CASE("working days across Spring Festival 2026 skip Feb 15-23 and count both 调休 Saturdays",
          "[calendar][working_days]") {
  const Calendar& cal = shipped();
  Date from = d("2026-02-12");  // Thursday
  CHECK(cal.add_working_days(from, 0).date == from);
  CHECK(cal.add_working_days(from, 1).date == d("2026-02-13"));         // Friday
  CHECK(cal.add_working_days(from, 2).date == d("2026-02-14"));         // Saturday, 调休
  CHECK(cal.add_working_days(from, 3).date == d("2026-02-24"));         // Tuesday after the holiday
  CHECK(cal.add_working_days(from, 7).date == d("2026-02-28"));         // Saturday, 调休
  CHECK(cal.add_working_days(from, 8).date == d("2026-03-02"));         // Monday
  CHECK(Calendar().add_working_days(from, 8).date == d("2026-02-24"));  // weekends alone
}

TEST_CASE("working days across Spring Festival 2025 skip Jan 28-Feb 4 and count Jan 26 and Feb 8",
          "[calendar][working_days]") {
  const Calendar& cal = shipped();
  Date from = d("2025-01-24");                                   // Friday
  CHECK(cal.add_working_days(from, 1).date == d("2025-01-26"));  // Sunday, 调休
  CHECK(cal.add_working_days(from, 2).date == d("2025-01-27"));  // Monday
  CHECK(cal.add_working_days(from, 3).date == d("2025-02-05"));  // Wednesday after the holiday
  CHECK(cal.add_working_days(from, 6).date == d("2025-02-08"));  // Saturday, 调休
  CHECK(cal.add_working_days(from, 7).date == d("2025-02-10"));  // Monday
}

TEST_CASE("working days across National Day 2025 skip Oct 1-8 and count Sep 28 and Oct 11",
          "[calendar][working_days]") {
  const Calendar& cal = shipped();
  Date from = d("2025-09-26");                                   // Friday
  CHECK(cal.add_working_days(from, 1).date == d("2025-09-28"));  // Sunday, 调休
  CHECK(cal.add_working_days(from, 3).date == d("2025-09-30"));  // Tuesday
  CHECK(cal.add_working_days(from, 4).date == d("2025-10-09"));  // Thursday after the holiday
  CHECK(cal.add_working_days(from, 6).date == d("2025-10-11"));  // Saturday, 调休
  CHECK(cal.add_working_days(from, 7).date == d("2025-10-13"));  // Monday
}

TEST_CASE("15 working days from the eve of a long holiday end weeks later",
          "[calendar][working_days]") {
  const Calendar& cal = shipped();
  // Oct 9, 10, 11 (Sat, 调休), 13-17, 20-24, 27, 28.
  CHECK(cal.add_working_days(d("2025-09-30"), 15).date == d("2025-10-28"));
  // Oct 8, 9, 10 (Sat, 调休), 12-16, 19-23, 26, 27.
  CHECK(cal.add_working_days(d("2026-09-30"), 15).date == d("2026-10-27"));
  // Feb 14 (Sat, 调休), 24-27, 28 (Sat, 调休), Mar 2-6, 9-12.
  CHECK(cal.add_working_days(d("2026-02-13"), 15).date == d("2026-03-12"));
}

TEST_CASE("add_months ends on the corresponding day, the month's last, or the next working day",
          "[calendar][months]") {
  const Calendar& cal = shipped();
  // Feb 2026 has no 31st; its 28th is a Saturday but a 调休 working day, so it stays.
  CHECK(cal.add_months(d("2026-01-31"), 1).date == d("2026-02-28"));
  // Without the file the same Saturday moves to Monday.
  CHECK(Calendar().add_months(d("2026-01-31"), 1).date == d("2026-03-02"));
  // Leap year: Thursday 29 Feb 2024, an ordinary working day.
  CHECK(cal.add_months(d("2024-01-31"), 1).date == d("2024-02-29"));
  // Saturday 7 Mar 2026 moves to Monday 9 Mar.
  CHECK(cal.add_months(d("2026-02-07"), 1).date == d("2026-03-09"));
  // Wednesday 18 Feb 2026 is in the Spring Festival holiday: the first working day after it.
  CHECK(cal.add_months(d("2026-01-18"), 1).date == d("2026-02-24"));
  // Wednesday 1 Oct 2025 is in the National Day holiday.
  CHECK(cal.add_months(d("2025-09-01"), 1).date == d("2025-10-09"));
  // November has no 31st; the 30th is a Monday.
  CHECK(cal.add_months(d("2026-08-31"), 3).date == d("2026-11-30"));
  CHECK(cal.add_months(d("2025-12-15"), 12).date == d("2026-12-15"));  // Tuesday
}

TEST_CASE("a period reaching 2027 without its file counts weekends alone and is provisional",
          "[calendar][provisional]") {
  const Calendar& cal = shipped();
  std::string cn2026 = "cn-2026 " + cal.digests().at(2026).substr(0, 12);
  // Dec 25, 28-31, then Jan 1 (a holiday in practice, but unknown yet), 4-7.
  DueDate due = cal.add_working_days(d("2026-12-24"), 10);
  CHECK(due.date == d("2027-01-07"));
  CHECK(due.use.provisional);
  CHECK(due.use.calendar == cn2026 + ", cn-2027 none");

  DueDate month = cal.add_months(d("2026-12-15"), 1);
  CHECK(month.date == d("2027-01-15"));  // Friday
  CHECK(month.use.provisional);
  CHECK(month.use.calendar == cn2026 + ", cn-2027 none");
}

TEST_CASE("a period wholly inside 2026 names cn-2026 and its digest and is final",
          "[calendar][provisional]") {
  const Calendar& cal = shipped();
  std::string cn2026 = "cn-2026 " + sha256_of(kShipped + "/cn-2026.csv").substr(0, 12);
  DueDate due = cal.add_working_days(d("2026-02-12"), 8);
  CHECK_FALSE(due.use.provisional);
  CHECK(due.use.calendar == cn2026);
  CHECK(cal.add_months(d("2026-08-31"), 3).use.calendar == cn2026);
  // The starting day itself is not counted, so the year it lies in is not consulted.
  CHECK(cal.add_working_days(d("2025-12-31"), 1).use.calendar == cn2026);
  // Zero days depend on nothing: final even in a year without a file.
  DueDate none = cal.add_working_days(d("2027-03-01"), 0);
  CHECK(none.date == d("2027-03-01"));
  CHECK_FALSE(none.use.provisional);
}

TEST_CASE("a period spanning years names every file it consulted", "[calendar][provisional]") {
  const Calendar& cal = shipped();
  DueDate due = cal.add_working_days(d("2024-12-20"), 20);
  CHECK_FALSE(due.use.provisional);
  CHECK(due.use.calendar == "cn-2024 " + cal.digests().at(2024).substr(0, 12) + ", cn-2025 " +
                                cal.digests().at(2025).substr(0, 12));
}

TEST_CASE("adding cn-2027.csv makes a period into 2027 final and moves it past the holiday",
          "[calendar][provisional]") {
  ShippedCopy dir;
  write(dir.path / "cn-2027.csv", kCn2027);
  Result<Calendar> cal = Calendar::load(dir.str());
  REQUIRE(cal.ok());
  DueDate due = cal->add_working_days(d("2026-12-24"), 10);
  CHECK(due.date == d("2027-01-08"));  // Jan 1 is now a holiday
  CHECK_FALSE(due.use.provisional);
  CHECK(due.use.calendar == "cn-2026 " + cal->digests().at(2026).substr(0, 12) + ", cn-2027 " +
                                sha256_of(dir.path / "cn-2027.csv").substr(0, 12));
  // A period in 2027 that the holiday does not touch only turns final.
  DueDate later = cal->add_working_days(d("2027-03-01"), 5);
  CHECK(later.date == shipped().add_working_days(d("2027-03-01"), 5).date);
  CHECK_FALSE(later.use.provisional);
}

TEST_CASE("working_days_between counts the days after from up to and including to, around a holiday", "[calendar][working_days]") {
  const Calendar& cal = shipped();
  // Feb 14 (Sat, 调休), 24, 25, 26, 27.
  CHECK(cal.working_days_between(d("2026-02-13"), d("2026-02-27")) == 5);
  // Only Oct 9 and 10: Oct 1-8 are the holiday.
  CHECK(cal.working_days_between(d("2025-09-30"), d("2025-10-10")) == 2);
  CHECK(cal.working_days_between(d("2026-02-15"), d("2026-02-23")) == 0);
  CHECK(cal.working_days_between(d("2026-02-27"), d("2026-02-27")) == 0);
  CHECK(cal.working_days_between(d("2026-02-27"), d("2026-02-13")) == 0);
  // The inverse of add_working_days.
  for (int n : {1, 5, 15, 40}) {
    CAPTURE(n);
    Date from = d("2026-02-10");
    CHECK(cal.working_days_between(from, cal.add_working_days(from, n).date) == n);
  }
}

TEST_CASE("a changed file, same name, changes its digest and the fingerprint", "[calendar][load]") {
  ShippedCopy dir;
  Result<Calendar> before = Calendar::load(dir.str());
  REQUIRE(before.ok());
  std::string text = read(dir.path / "cn-2026.csv");
  write(dir.path / "cn-2026.csv", text + "2026-12-31,holiday,测试\n");
  Result<Calendar> after = Calendar::load(dir.str());
  REQUIRE(after.ok());
  CHECK(after->digests().at(2026) != before->digests().at(2026));
  CHECK(after->digests().at(2026) == sha256_of(dir.path / "cn-2026.csv"));
  CHECK(after->digests().at(2025) == before->digests().at(2025));
  CHECK(after->fingerprint() != before->fingerprint());
  CHECK_FALSE(after->is_working_day(d("2026-12-31")));
}

TEST_CASE("load tolerates a BOM, CRLF, blank lines and ignores other files", "[calendar][load]") {
  TempDir dir;
  write(dir.path / "cn-2027.csv",
        "\xEF\xBB\xBF"
        "date,kind,festival\r\n\r\n2027-01-01,holiday,元旦\r\n"
        "2027-02-06,workday,\r\n\n");
  write(dir.path / "README.md", "not a calendar");
  write(dir.path / "cn-2028.csv.bak", "junk");
  write(dir.path / "cn-28.csv", "junk");
  fs::create_directory(dir.path / "cn-2029.csv");
  Result<Calendar> cal = Calendar::load(dir.str());
  REQUIRE(cal.ok());
  CHECK(cal->digests().size() == 1);
  CHECK(cal->has_year(2027));
  CHECK_FALSE(cal->is_working_day(d("2027-01-01")));  // Friday
  CHECK(cal->is_working_day(d("2027-02-06")));        // Saturday
}

TEST_CASE("an empty dir is weekends alone and a missing dir is refused", "[calendar][load]") {
  TempDir dir;
  Result<Calendar> cal = Calendar::load(dir.str());
  REQUIRE(cal.ok());
  CHECK(cal->fingerprint().empty());
  CHECK(cal->is_working_day(d("2026-10-01")));  // a Thursday, unknown as a holiday
  CHECK_FALSE(cal->is_working_day(d("2026-02-14")));
  CHECK_THAT(load_error(dir.str() + "/absent"), StartsWith(dir.str() + "/absent: "));
}

TEST_CASE("a broken file is refused with its path and line", "[calendar][load]") {
  TempDir dir;
  std::string path = (dir.path / "cn-2027.csv").string();
  auto refusal = [&](const std::string& text) {
    write(path, text);
    return load_error(dir.str());
  };
  const std::string header = "date,kind,festival\n";
  SECTION("bad date") {
    CHECK(refusal(header + "2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n") ==
          path + ": line 3: bad date '2027-02-30'");
  }
  SECTION("wrong kind") {
    CHECK(refusal(header + "2027-01-01,vacation,元旦\n") ==
          path + ": line 2: bad kind 'vacation' (expected holiday or workday)");
  }
  SECTION("date of another year") {
    CHECK(refusal(header + "2026-12-31,holiday,元旦\n") ==
          path + ": line 2: 2026-12-31 is not in 2027");
  }
  SECTION("missing header") {
    CHECK(refusal("2027-01-01,holiday,元旦\n") ==
          path + ": line 1: expected the header date,kind,festival");
    CHECK(refusal("") == path + ": line 1: empty file (expected the header date,kind,festival)");
  }
  SECTION("wrong number of fields") {
    CHECK(refusal(header + "2027-01-01,holiday\n") ==
          path + ": line 2: expected 3 fields (date,kind,festival), got 2");
  }
  SECTION("the same date twice") {
    CHECK(refusal(header + "2027-01-01,holiday,元旦\n\n2027-01-01,holiday,元旦\n") ==
          path + ": line 4: 2027-01-01 listed twice (first on line 2)");
  }
  SECTION("a make-up working day on a weekday") {
    CHECK(refusal(header + "2027-01-04,workday,元旦\n") ==
          path + ": line 2: workday 2027-01-04 is not a Saturday or Sunday");
  }
  SECTION("not UTF-8") {
    CHECK(refusal(header + "2027-01-01,holiday,\xD4\xAA\xB5\xA9\n") ==  // 元旦 in GBK
          path + ": line 2: not UTF-8");
  }
}

TEST_CASE("CalendarWatch notices an added file and the fingerprint changes", "[calendar][watch]") {
  ShippedCopy dir;
  CalendarWatch watch(dir.str(), 0);
  REQUIRE(watch.check().ok());
  std::string before = watch.calendar().fingerprint();
  CHECK(before == shipped().fingerprint());
  CHECK_FALSE(watch.changed_since(before));
  CHECK(watch.calendar().add_working_days(d("2026-12-24"), 10).use.provisional);

  write(dir.path / "cn-2027.csv", kCn2027);
  REQUIRE(watch.check().ok());
  CHECK(watch.changed_since(before));
  CHECK(watch.calendar().has_year(2027));
  DueDate due = watch.calendar().add_working_days(d("2026-12-24"), 10);
  CHECK(due.date == d("2027-01-08"));
  CHECK_FALSE(due.use.provisional);

  std::string with_2027 = watch.calendar().fingerprint();
  write(dir.path / "cn-2027.csv", kCn2027 + "2027-01-02,holiday,元旦\n");  // new size
  REQUIRE(watch.check().ok());
  CHECK(watch.changed_since(with_2027));

  fs::remove(dir.path / "cn-2027.csv");
  REQUIRE(watch.check().ok());
  CHECK(watch.calendar().fingerprint() == before);
}

TEST_CASE("CalendarWatch keeps the previous calendar when a reload fails", "[calendar][watch]") {
  ShippedCopy dir;
  CalendarWatch watch(dir.str(), 0);
  REQUIRE(watch.check().ok());
  std::string before = watch.calendar().fingerprint();

  std::string path = (dir.path / "cn-2026.csv").string();
  write(path, read(path) + "2026-13-01,holiday,坏\n");
  Status status = watch.check();
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == errc::kInvalid);
  CHECK_THAT(status.error().message, StartsWith(path + ": line 41: bad date"));
  CHECK_FALSE(watch.changed_since(before));
  CHECK(watch.calendar().is_working_day(d("2026-02-28")));
  CHECK(watch.check().ok());  // the same broken files are not reloaded again

  write(path, read(kShipped + "/cn-2026.csv"));
  REQUIRE(watch.reload().ok());
  CHECK_FALSE(watch.changed_since(before));
}

TEST_CASE("CalendarWatch looks at the files at most once per interval", "[calendar][watch]") {
  ShippedCopy dir;
  CalendarWatch watch(dir.str(), 3'600'000);
  CHECK(watch.calendar().digests().empty());  // nothing before the first check
  REQUIRE(watch.check().ok());
  std::string before = watch.calendar().fingerprint();
  write(dir.path / "cn-2027.csv", kCn2027);
  REQUIRE(watch.check().ok());
  CHECK_FALSE(watch.changed_since(before));  // within the interval: not looked at
  REQUIRE(watch.reload().ok());
  CHECK(watch.changed_since(before));
  CHECK(watch.calendar().has_year(2027));
}

TEST_CASE("CalendarWatch on a missing dir reports it and counts weekends alone",
          "[calendar][watch]") {
  TempDir dir;
  CalendarWatch watch(dir.str() + "/absent", 0);
  Status status = watch.check();
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error().message, Contains("absent"));
  CHECK(watch.calendar().fingerprint().empty());
  fs::create_directory(dir.path / "absent");
  write(dir.path / "absent" / "cn-2027.csv", kCn2027);
  REQUIRE(watch.check().ok());
  CHECK(watch.calendar().has_year(2027));
}
