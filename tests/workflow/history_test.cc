// What a trail says about a past day (standing_as_of) and the scoreboard built on it
// (score_trail, scoreboard_json). The trails are made by decide() with `today` set per
// step, so every count below is worked out by hand from the steps beside it.
#include "fixtures.h"
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calendar/calendar.h"
#include "config/config.h"
#include "workflow/command.h"
#include "workflow/decide.h"
#include "workflow/event.h"
#include "workflow/history.h"
#include "workflow/item.h"

using namespace closeloop;
using wire::Json;

using namespace closeloop::test;

namespace {

Date day(const std::string& text) { return *Date::parse(text); }
std::string noon_of(const std::string& text) { return text + "T02:00:00.000Z"; }  // 10:00 in Beijing

// The day an event counts on: its occurred_on (imported history), else the date of `at`.
Date day_of(const Event& e) {
  auto it = e.payload.find("occurred_on");
  return day(it != e.payload.end() ? it->get<std::string>() : e.at.substr(0, 10));
}

std::string describe(const Error& e) { return e.code + ": " + e.message; }

struct Office {
  Config config = office_config();
  const Calendar& calendar = shipped();

  Setting on(const std::string& today) const {
    return Setting{config, calendar, noon_of(today), day(today), ""};
  }
  // History imported on `imported_on` of a step that happened on `occurred_on`.
  Setting imported(const std::string& occurred_on, const std::string& imported_on) const {
    return Setting{config, calendar, noon_of(imported_on), day(occurred_on), occurred_on};
  }
};

struct Walk {
  const Office* office;
  Item item;
  std::vector<Event> trail;

  Walk& apply(const Command& c, const Setting& s) {
    auto step = decide(item, c, s);
    INFO(item.id << " " << c.verb << " on " << s.today.str() << ": "
                 << (step ? "accepted" : describe(step.error())));
    REQUIRE(step);
    item = step->item;
    trail.push_back(step->event);
    return *this;
  }
  Walk& then(const Command& c, const std::string& today) { return apply(c, office->on(today)); }
};

Walk submitted(const Office& office, const std::string& id, const Setting& s) {
  Command submit{.verb = "submit", .actor = "李明"};
  submit.set("title", "村道破损").set("body", "村道路面破损严重").set("kind", "station");
  auto step = create_item(submit, id, s);
  INFO("submit " << id << ": " << (step ? "accepted" : describe(step.error())));
  REQUIRE(step);
  return Walk{&office, step->item, {step->event}};
}
Walk submitted(const Office& office, const std::string& id, const std::string& today) {
  return submitted(office, id, office.on(today));
}

Command command(const std::string& verb, const std::string& id) {
  return Command{.verb = verb, .item_id = id, .actor = "县人大办"};
}
Command by(const std::string& department, const std::string& verb, const std::string& id) {
  return Command{.verb = verb, .item_id = id, .actor = "经办人"}.set("department", department);
}
Command assign(const std::string& id, const std::string& lead, const std::string& due) {
  return command("assign", id).set("department", lead).set("due", due);
}
Command reply(const std::string& id, const std::string& lead, const std::string& outcome = "solved",
              const std::string& promise = "") {
  Command c = by(lead, "handle", id).set("reply", "已处理").set("outcome", outcome);
  if (!promise.empty()) c.set("promise", promise);
  return c;
}
Command rating(const std::string& id, const std::string& rating) {
  Command c = command("verify", id).set("rating", rating);
  if (rating == "unsatisfied") c.set("comment", "未解决");
  return c;
}
Command two_part(const std::string& id, const std::string& attitude, const std::string& result) {
  return command("verify", id).set("attitude", attitude).set("result", result).set("comment", "意见");
}
Command give_back(const std::string& id, const std::string& lead) {
  return by(lead, "return", id).set("reason", "不属本单位职责");
}

const Json& row_of(const Json& board, const std::string& department) {
  for (const Json& row : board.at("departments"))
    if (row.at("department") == department) return row;
  static const Json none;
  FAIL("no row for " << department);
  return none;
}

// Every column of a department's row: those named in `expected`, else 0.
void check_row(const Json& board, const std::string& department,
               std::map<std::string, size_t> expected) {
  const Json& row = row_of(board, department);
  for (std::string_view column : kScoreColumns) {
    INFO(department << " " << column << " (as of " << board.value("as_of", "") << ")");
    auto it = expected.find(std::string(column));
    CHECK(row.at(std::string(column)).get<size_t>() == (it == expected.end() ? 0 : it->second));
  }
}

void check_rate(const Json& board, const std::string& department, std::optional<double> rate) {
  const Json& rate_json = row_of(board, department).at("satisfaction_rate");
  INFO(department << " satisfaction_rate " << rate_json);
  if (!rate) {
    CHECK(rate_json.is_null());
  } else {
    REQUIRE(rate_json.is_number());
    CHECK(rate_json.get<double>() == Approx(*rate).margin(1e-9));
  }
}

using Ids = std::vector<std::string>;
Ids ids_in(const Json& board, const std::string& department, const std::string& column) {
  return row_of(board, department).at("items").at(column).get<Ids>();
}

}  // namespace

// ---- standing_as_of ----

TEST_CASE("standing_as_of gives the stage, lead department and due date in force on each day",
          "[history][standing]") {
  Office office;
  Walk w = submitted(office, "2026-000001", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", "2026-03-20"), "2026-03-03")
      .then(give_back(id, "zjj"), "2026-03-05")
      .then(assign(id, "jtj", "2026-03-27"), "2026-03-06")
      .then(by("jtj", "sign", id), "2026-03-09")
      .then(reply(id, "jtj"), "2026-03-10")
      .then(rating(id, "unsatisfied"), "2026-03-12");  // rework: 04-12 is a Sunday, so 04-13
  REQUIRE(w.item.due == "2026-04-13");

  auto as_of = [&](const std::string& d) { return standing_as_of(w.trail, day(d), day_of); };

  CHECK_FALSE(as_of("2026-03-01").exists);

  Standing s = as_of("2026-03-02");
  CHECK(s.exists);
  CHECK(s.stage == Stage::kSubmitted);
  CHECK(s.department == "");
  CHECK(s.due == "");

  for (std::string d : {"2026-03-03", "2026-03-04"}) {
    INFO(d);
    s = as_of(d);
    CHECK(s.stage == Stage::kAssigned);
    CHECK(s.department == "zjj");
    CHECK(s.due == "2026-03-20");
  }

  s = as_of("2026-03-05");  // returned: no department, no due date
  CHECK(s.stage == Stage::kSubmitted);
  CHECK(s.department == "");
  CHECK(s.due == "");

  s = as_of("2026-03-09");
  CHECK(s.stage == Stage::kAssigned);
  CHECK(s.department == "jtj");
  CHECK(s.due == "2026-03-27");

  s = as_of("2026-03-11");
  CHECK(s.stage == Stage::kHandled);
  CHECK(s.department == "jtj");
  CHECK(s.due == "2026-03-27");
  CHECK_FALSE(s.overdue());
  CHECK_FALSE(overdue_on(s, day("2026-03-30")));  // handled: not late, whatever the day

  s = as_of("2026-03-12");
  CHECK(s.stage == Stage::kAssigned);
  CHECK(s.department == "jtj");
  CHECK(s.due == "2026-04-13");

  // Later events are ignored: the answer for 03-04 is the same after everything above.
  std::vector<Event> early(w.trail.begin(), w.trail.begin() + 2);  // submit, assign
  Standing then = standing_as_of(early, day("2026-03-04"), day_of);
  Standing now = as_of("2026-03-04");
  CHECK(then.stage == now.stage);
  CHECK(then.department == now.department);
  CHECK(then.due == now.due);
}

TEST_CASE("overdue_on: an assigned item whose due date is before the day, the due date itself is in time",
          "[history][standing]") {
  Office office;
  Walk w = submitted(office, "2026-000002", "2026-03-02");
  w.then(assign(w.item.id, "zjj", "2026-03-20"), "2026-03-02");
  CHECK_FALSE(overdue_on(standing_as_of(w.trail, day("2026-03-20"), day_of), day("2026-03-20")));
  CHECK(overdue_on(standing_as_of(w.trail, day("2026-03-21"), day_of), day("2026-03-21")));
  CHECK_FALSE(overdue_on(standing_as_of(w.trail, day("2026-03-01"), day_of), day("2026-03-21")));

  w.then(reply(w.item.id, "zjj"), "2026-03-25");  // late, but in
  CHECK(overdue_on(standing_as_of(w.trail, day("2026-03-24"), day_of), day("2026-03-24")));
  CHECK_FALSE(overdue_on(standing_as_of(w.trail, day("2026-03-25"), day_of), day("2026-03-25")));
}

TEST_CASE("standing_as_of counts imported history on the day it occurred, not the day it was imported",
          "[history][standing]") {
  Office office;
  // Imported on 2026-03-02: submitted 01-05, assigned 01-06 due 01-20.
  Walk w = submitted(office, "2026-000003", office.imported("2026-01-05", "2026-03-02"));
  w.apply(assign(w.item.id, "zjj", "2026-01-20"), office.imported("2026-01-06", "2026-03-02"));
  REQUIRE(w.trail[1].payload.value("occurred_on", "") == "2026-01-06");
  REQUIRE(w.trail[1].at == noon_of("2026-03-02"));

  CHECK_FALSE(standing_as_of(w.trail, day("2026-01-04"), day_of).exists);
  Standing s = standing_as_of(w.trail, day("2026-01-05"), day_of);
  CHECK(s.exists);
  CHECK(s.stage == Stage::kSubmitted);
  s = standing_as_of(w.trail, day("2026-01-06"), day_of);
  CHECK(s.stage == Stage::kAssigned);
  CHECK(s.department == "zjj");
  CHECK(s.due == "2026-01-20");
  // Overdue as of 01-21, weeks before anyone imported it.
  CHECK(overdue_on(standing_as_of(w.trail, day("2026-01-21"), day_of), day("2026-01-21")));
  // A live event after the import counts on its own day.
  w.then(reply(w.item.id, "zjj"), "2026-03-03");
  CHECK(standing_as_of(w.trail, day("2026-03-02"), day_of).stage == Stage::kAssigned);
  CHECK(standing_as_of(w.trail, day("2026-03-03"), day_of).stage == Stage::kHandled);
}

// ---- the scoreboard ----
//
// Period 2026-03-01..03-31. Items (each assigned with --due, so every date is plain):
//   A zjj  assigned 03-02 due 03-20, signed 03-03 (1 wd: on time), replied 03-10 (on time),
//          satisfied 03-12, closed 03-13.
//   B zjj  assigned 03-02 due 03-13, signed 03-06 (4 wd: late), replied 03-16 (late)
//          in-progress promising 06-30, basically-satisfied 03-18.
//   C zjj  assigned 03-03, returned 03-04: stays submitted.
//   D jtj  assigned 03-02 due 03-13, replied 03-03 (implicit sign, on time), result
//          unsatisfied 03-05 (rework due 04-07), replied 03-20, satisfied 03-23.
//   E jtj  assigned 03-09 due 03-20, signed 03-10, nothing since: overdue.
//   F jtj  assigned 03-10 due 03-31, replied 03-12 (implicit sign after 2 wd: on time),
//          unsatisfied 03-16 (rework due 04-16), nothing since: overdue from 04-17.
//   L jtj  assigned 03-11 due 03-31, replied 03-12, basically-satisfied 03-13.
//   G zjj  assigned 02-25 (before the period), overdue: not counted.
//   H jtj  assigned 04-01 (after the period): not counted.
//   I zjj  imported on 04-15: submitted and assigned 03-16 due 03-27: overdue.
namespace {

struct Scoreboard {
  Office office;
  std::map<std::string, Walk> items;
  const ScorePeriod march{day("2026-03-01"), day("2026-03-31"), day("2026-03-31")};

  Walk& item(const std::string& name) { return items.at(name); }
  Walk& add(const std::string& name, const std::string& submitted_on) {
    return items.emplace(name, submitted(office, name, submitted_on)).first->second;
  }

  Scoreboard() {
    add("A", "2026-03-02")
        .then(assign("A", "zjj", "2026-03-20"), "2026-03-02")
        .then(by("zjj", "sign", "A"), "2026-03-03")
        .then(reply("A", "zjj"), "2026-03-10")
        .then(rating("A", "satisfied"), "2026-03-12")
        .then(command("close", "A"), "2026-03-13");
    add("B", "2026-03-02")
        .then(assign("B", "zjj", "2026-03-13"), "2026-03-02")
        .then(by("zjj", "sign", "B"), "2026-03-06")
        .then(reply("B", "zjj", "in-progress", "2026-06-30"), "2026-03-16")
        .then(rating("B", "basically-satisfied"), "2026-03-18");
    add("C", "2026-03-02")
        .then(assign("C", "zjj", "2026-03-31"), "2026-03-03")
        .then(give_back("C", "zjj"), "2026-03-04");
    add("D", "2026-03-02")
        .then(assign("D", "jtj", "2026-03-13"), "2026-03-02")
        .then(reply("D", "jtj"), "2026-03-03")
        .then(two_part("D", "basically-satisfied", "unsatisfied"), "2026-03-05")
        .then(reply("D", "jtj"), "2026-03-20")
        .then(rating("D", "satisfied"), "2026-03-23");
    add("E", "2026-03-06")
        .then(assign("E", "jtj", "2026-03-20"), "2026-03-09")
        .then(by("jtj", "sign", "E"), "2026-03-10");
    add("F", "2026-03-09")
        .then(assign("F", "jtj", "2026-03-31"), "2026-03-10")
        .then(reply("F", "jtj"), "2026-03-12")
        .then(rating("F", "unsatisfied"), "2026-03-16");
    add("L", "2026-03-10")
        .then(assign("L", "jtj", "2026-03-31"), "2026-03-11")
        .then(reply("L", "jtj"), "2026-03-12")
        .then(rating("L", "basically-satisfied"), "2026-03-13");
    add("G", "2026-02-24").then(assign("G", "zjj", "2026-03-06"), "2026-02-25");
    add("H", "2026-03-30").then(assign("H", "jtj", "2026-04-10"), "2026-04-01");
    items.emplace("I", submitted(office, "I", office.imported("2026-03-16", "2026-04-15")));
    item("I").apply(assign("I", "zjj", "2026-03-27"), office.imported("2026-03-16", "2026-04-15"));
  }

  Json board(const std::string& as_of, const std::string& only = "") const {
    ScorePeriod period = march;
    period.as_of = day(as_of);
    std::map<std::string, Score> scores;
    // In a fixed order, so that the ids behind each count come out in that order.
    for (std::string name : {"A", "B", "C", "D", "E", "F", "L", "G", "H", "I"})
      score_trail(items.at(name).trail, period, office.calendar, office.config.rules, day_of, scores);
    return scoreboard_json(scores, period, office.config, only, /*with_items=*/true);
  }
};

}  // namespace

TEST_CASE("scoreboard: every column per department, for assignments in the period, as of a day",
          "[history][scoreboard]") {
  Scoreboard s;
  REQUIRE(s.item("D").item.due == "2026-04-07");  // 03-05 + 1 month: 04-05 Sun, 04-06 Qingming
  REQUIRE(s.item("F").item.due == "2026-04-16");

  Json board = s.board("2026-04-20");
  CHECK(board.value("from", "") == "2026-03-01");
  CHECK(board.value("to", "") == "2026-03-31");
  CHECK(board.value("as_of", "") == "2026-04-20");
  REQUIRE(board.at("departments").size() == 5);  // every configured department, in order
  CHECK(board["departments"][0].value("department", "") == "zjj");
  CHECK(board["departments"][0].value("name", "") == "县住房和城乡建设局");
  CHECK(board["departments"][4].value("department", "") == "zgjd");

  check_row(board, "zjj",
            {{"received", 4}, {"signed_on_time", 1}, {"replied", 2}, {"replied_on_time", 1},
             {"returned", 1}, {"evaluated", 2}, {"satisfied", 1}, {"basically_satisfied", 1},
             {"open_promises", 1}, {"overdue_now", 1}});
  check_rate(board, "zjj", 1.0);
  CHECK(ids_in(board, "zjj", "received") == Ids{"A", "B", "C", "I"});
  CHECK(ids_in(board, "zjj", "signed_on_time") == Ids{"A"});
  CHECK(ids_in(board, "zjj", "replied_on_time") == Ids{"A"});
  CHECK(ids_in(board, "zjj", "returned") == Ids{"C"});
  CHECK(ids_in(board, "zjj", "open_promises") == Ids{"B"});
  CHECK(ids_in(board, "zjj", "overdue_now") == Ids{"I"});

  check_row(board, "jtj",
            {{"received", 4}, {"signed_on_time", 4}, {"replied", 3}, {"replied_on_time", 3},
             {"reworked", 2}, {"evaluated", 3}, {"satisfied", 1}, {"basically_satisfied", 1},
             {"unsatisfied", 1}, {"overdue_now", 2}});
  check_rate(board, "jtj", 0.6667);  // (1 + 1) / 3, to 4 places
  CHECK(ids_in(board, "jtj", "received") == Ids{"D", "E", "F", "L"});
  CHECK(ids_in(board, "jtj", "reworked") == Ids{"D", "F"});
  CHECK(ids_in(board, "jtj", "satisfied") == Ids{"D"});  // its latest result
  CHECK(ids_in(board, "jtj", "unsatisfied") == Ids{"F"});
  CHECK(ids_in(board, "jtj", "overdue_now") == Ids{"E", "F"});

  for (std::string other : {"jyj", "gaj", "zgjd"}) {
    check_row(board, other, {});
    check_rate(board, other, std::nullopt);
  }

  SECTION("as of 03-11: only what had happened by then") {
    Json early = s.board("2026-03-11");
    // A replied on 03-10, not yet evaluated; B signed late, no reply; I not yet there.
    check_row(early, "zjj",
              {{"received", 3}, {"signed_on_time", 1}, {"replied", 1}, {"replied_on_time", 1},
               {"returned", 1}});
    check_rate(early, "zjj", std::nullopt);
    // D's latest result is still the unsatisfied one; F and L have not replied.
    check_row(early, "jtj",
              {{"received", 4}, {"signed_on_time", 2}, {"replied", 1}, {"replied_on_time", 1},
               {"reworked", 1}, {"evaluated", 1}, {"unsatisfied", 1}});
    check_rate(early, "jtj", 0.0);
  }
  SECTION("one department only") {
    Json only = s.board("2026-04-20", "jtj");
    REQUIRE(only.at("departments").size() == 1);
    CHECK(only["departments"][0] == row_of(board, "jtj"));
  }
}

TEST_CASE("scoreboard: an answer as of a past day does not change when later events are appended",
          "[history][scoreboard]") {
  Scoreboard s;
  const Json april = s.board("2026-04-20"), march = s.board("2026-03-11");

  s.item("E").then(reply("E", "jtj"), "2026-04-22");
  s.item("F").then(reply("F", "jtj"), "2026-04-23");
  s.item("B").then(by("zjj", "promise-kept", "B"), "2026-04-24");
  s.item("A").then(command("reopen", "A").set("reason", "复查"), "2026-04-27");
  s.item("C").then(assign("C", "zjj", "2026-05-29"), "2026-04-28");
  s.item("I").then(reply("I", "zjj"), "2026-04-28");
  s.item("G").then(reply("G", "zjj"), "2026-04-28");

  CHECK(s.board("2026-04-20") == april);
  CHECK(s.board("2026-03-11") == march);

  // A later day sees them: E replied late, F's rework is in, B's promise kept.
  Json later = s.board("2026-04-30");
  check_row(later, "zjj",
            {{"received", 4}, {"signed_on_time", 1}, {"replied", 3}, {"replied_on_time", 1},
             {"returned", 1}, {"evaluated", 2}, {"satisfied", 1}, {"basically_satisfied", 1}});
  check_row(later, "jtj",
            {{"received", 4}, {"signed_on_time", 4}, {"replied", 4}, {"replied_on_time", 3},
             {"reworked", 2}, {"evaluated", 3}, {"satisfied", 1}, {"basically_satisfied", 1},
             {"unsatisfied", 1}});
}

TEST_CASE("satisfaction rate is (satisfied + basically satisfied) / evaluated, counting the result",
          "[history][scoreboard]") {
  Office office;
  const ScorePeriod period{day("2026-03-01"), day("2026-03-31"), day("2026-03-31")};
  std::map<std::string, Score> scores;
  // An unsatisfied attitude with a satisfied result counts as satisfied; the reverse, the
  // item sent back for rework, as unsatisfied.
  Walk polite = submitted(office, "2026-000010", "2026-03-02");
  polite.then(assign(polite.item.id, "zjj", "2026-03-31"), "2026-03-02")
      .then(reply(polite.item.id, "zjj"), "2026-03-03")
      .then(two_part(polite.item.id, "unsatisfied", "satisfied"), "2026-03-04");
  Walk rude = submitted(office, "2026-000011", "2026-03-02");
  rude.then(assign(rude.item.id, "zjj", "2026-03-31"), "2026-03-02")
      .then(reply(rude.item.id, "zjj"), "2026-03-03")
      .then(two_part(rude.item.id, "satisfied", "unsatisfied"), "2026-03-04");
  score_trail(polite.trail, period, office.calendar, office.config.rules, day_of, scores);
  score_trail(rude.trail, period, office.calendar, office.config.rules, day_of, scores);
  Json board = scoreboard_json(scores, period, office.config, "", false);
  CHECK_FALSE(row_of(board, "zjj").contains("items"));
  CHECK(row_of(board, "zjj").at("evaluated") == 2);
  CHECK(row_of(board, "zjj").at("satisfied") == 1);
  CHECK(row_of(board, "zjj").at("unsatisfied") == 1);
  CHECK(row_of(board, "zjj").at("reworked") == 1);
  check_rate(board, "zjj", 0.5);

  // The formula on its own: 1 satisfied + 2 basically of 4 evaluated.
  Score made;
  made.ids["evaluated"] = {"a", "b", "c", "d"};
  made.ids["satisfied"] = {"a"};
  made.ids["basically_satisfied"] = {"b", "c"};
  made.ids["unsatisfied"] = {"d"};
  std::map<std::string, Score> by_hand{{"gaj", made}};
  Json formula = scoreboard_json(by_hand, period, office.config, "", false);
  check_rate(formula, "gaj", 0.75);
  check_rate(formula, "zjj", std::nullopt);  // none evaluated: null, not 0
}

// The issue: the scoreboard counts per department "received, signed on time, replied, ...".
// An item returned by zjj and reassigned to jtj within the period was received by both,
// and jtj's sign-for, reply and evaluation are jtj's. score_trail keeps one round per
// item (the first assignment in the period) and skips every event of another department.
TEST_CASE("scoreboard: an item returned and reassigned counts for the department it was reassigned to",
          "[history][scoreboard]") {
  Office office;
  const ScorePeriod period{day("2026-03-01"), day("2026-03-31"), day("2026-03-31")};
  Walk w = submitted(office, "2026-000020", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", "2026-03-20"), "2026-03-02")
      .then(give_back(id, "zjj"), "2026-03-03")
      .then(assign(id, "jtj", "2026-03-20"), "2026-03-04")
      .then(by("jtj", "sign", id), "2026-03-05")
      .then(reply(id, "jtj"), "2026-03-06")
      .then(rating(id, "satisfied"), "2026-03-09");
  std::map<std::string, Score> scores;
  score_trail(w.trail, period, office.calendar, office.config.rules, day_of, scores);
  Json board = scoreboard_json(scores, period, office.config, "", false);
  check_row(board, "zjj", {{"received", 1}, {"returned", 1}});
  check_row(board, "jtj",
            {{"received", 1}, {"signed_on_time", 1}, {"replied", 1}, {"replied_on_time", 1},
             {"evaluated", 1}, {"satisfied", 1}});
}

// Issue 17: a reassignment (改派) ends the old lead's round as `reassigned`, not returned,
// and starts the new lead's; the day it counts on is the reassignment's.
TEST_CASE("scoreboard: a reassigned item is received by both, reassigned for the old lead, not returned",
          "[history][scoreboard][reassign]") {
  Office office;
  const ScorePeriod period{day("2026-03-01"), day("2026-03-31"), day("2026-03-31")};
  Walk w = submitted(office, "2026-000021", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", "2026-03-20"), "2026-03-02")
      .then(by("zjj", "sign", id), "2026-03-03")
      .then(command("reassign", id).set("department", "jtj").set("reason", "职责调整"), "2026-03-04")
      .then(by("jtj", "sign", id), "2026-03-10")  // 4 working days after the reassignment: late
      .then(reply(id, "jtj"), "2026-03-11");
  std::map<std::string, Score> scores;
  score_trail(w.trail, period, office.calendar, office.config.rules, day_of, scores);
  Json board = scoreboard_json(scores, period, office.config, "", true);
  check_row(board, "zjj", {{"received", 1}, {"signed_on_time", 1}, {"reassigned", 1}});
  check_row(board, "jtj", {{"received", 1}, {"replied", 1}, {"replied_on_time", 1}});
  CHECK(row_of(board, "zjj")["items"]["reassigned"] == Json{id});

  Standing then = standing_as_of(w.trail, day("2026-03-04"), day_of);
  CHECK(then.department == "jtj");
  CHECK(then.due == w.trail[3].payload.value("due", ""));  // counted again from the 4th
}

// Issue 17: a withdrawn item leaves the denominators from the day it was withdrawn; an
// answer as of an earlier day is unchanged.
TEST_CASE("scoreboard: a withdrawn item counts in no column but withdrawn, from that day on",
          "[history][scoreboard][withdraw]") {
  Office office;
  Walk w = submitted(office, "2026-000022", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", "2026-03-06"), "2026-03-02").then(by("zjj", "sign", id), "2026-03-03");
  w.then(command("withdraw", id).set("reason", "群众撤单"), "2026-03-20");
  auto board_as_of = [&](const std::string& as_of) {
    const ScorePeriod period{day("2026-03-01"), day("2026-03-31"), day(as_of)};
    std::map<std::string, Score> scores;
    score_trail(w.trail, period, office.calendar, office.config.rules, day_of, scores);
    return scoreboard_json(scores, period, office.config, "", false);
  };
  check_row(board_as_of("2026-03-19"), "zjj", {{"received", 1}, {"signed_on_time", 1}, {"overdue_now", 1}});
  check_row(board_as_of("2026-03-20"), "zjj", {{"withdrawn", 1}});
  check_rate(board_as_of("2026-03-31"), "zjj", std::nullopt);
  Standing after = standing_as_of(w.trail, day("2026-03-20"), day_of);
  CHECK(after.stage == Stage::kWithdrawn);
  CHECK_FALSE(overdue_on(after, day("2026-03-20")));
}
