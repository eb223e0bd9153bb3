// The rules of every verb (workflow/rules.cc), driven through decide() as the workers
// drive them: a Setting built here, the shipped calendar (config/calendar), and `today`
// set per step, never the real clock. Every expected date is worked out by hand from
// cn-2025.csv and cn-2026.csv; the comment beside it shows the count.
#include "fixtures.h"
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "calendar/calendar.h"
#include "config/config.h"
#include "wire/message.h"
#include "workflow/command.h"
#include "workflow/decide.h"
#include "workflow/event.h"
#include "workflow/item.h"
#include "workflow/rules.h"

using namespace closeloop;
using wire::Json;

using namespace closeloop::test;

namespace {

namespace fs = std::filesystem;

// "cn-2026 3f2a9c1b04d7": how a due_basis names a calendar file it consulted.
std::string stamp(const Calendar& calendar, int year) {
  return "cn-" + std::to_string(year) + " " + calendar.digests().at(year).substr(0, 12);
}

Date day(const std::string& text) { return *Date::parse(text); }
std::string noon_of(const std::string& text) { return text + "T02:00:00.000Z"; }  // 10:00 in Beijing

struct Office {
  Config config = office_config();
  Calendar calendar = shipped();

  // A live command on `today`.
  Setting on(const std::string& today) const {
    return Setting{config, calendar, noon_of(today), day(today), ""};
  }
};

std::string describe(const Error& e) { return e.code + ": " + e.message; }

// One item driven step by step, with the events that record it.
struct Walk {
  const Office* office;
  Item item;
  std::vector<Event> trail;

  // Applies `c` on `today`; it must be accepted.
  Walk& then(const Command& c, const std::string& today) {
    auto step = decide(item, c, office->on(today));
    INFO(c.verb << " on " << today << ": " << (step ? "accepted" : describe(step.error())));
    REQUIRE(step);
    item = step->item;
    trail.push_back(step->event);
    return *this;
  }

  // Applies `c` on `today`; it must be refused, and the item stay as it was.
  Error refuses(const Command& c, const std::string& today) const {
    const std::string before = encode(item);
    auto step = decide(item, c, office->on(today));
    INFO(c.verb << " on " << today << " was accepted; the item is " << to_string(item.stage));
    REQUIRE_FALSE(step);
    CHECK(encode(item) == before);
    return step.error();
  }

  const Event& last() const { return trail.back(); }
};

Walk submitted(const Office& office, const std::string& id, const std::string& kind,
               const std::string& today, bool complex = false) {
  Command submit{.verb = "submit", .actor = "李明"};
  submit.set("title", "路灯不亮").set("body", "城关镇东街路灯已坏两周").set("kind", kind);
  if (complex) submit.set("complex", true);
  auto step = create_item(submit, id, office.on(today));
  INFO("submit: " << (step ? "accepted" : describe(step.error())));
  REQUIRE(step);
  return Walk{&office, step->item, {step->event}};
}

Command command(const std::string& verb, const std::string& id, const std::string& actor = "县人大办") {
  return Command{.verb = verb, .item_id = id, .actor = actor};
}

// A command a department gives about item `id`.
Command by(const std::string& department, const std::string& verb, const std::string& id) {
  return command(verb, id, "经办人").set("department", department);
}

Command assign(const std::string& id, const std::string& lead, std::vector<std::string> co = {}) {
  Command c = command("assign", id).set("department", lead);
  if (!co.empty()) c.set("co", co);
  return c;
}

Command reply(const std::string& id, const std::string& lead, const std::string& outcome = "solved",
              const std::string& promise = "") {
  Command c = by(lead, "handle", id).set("reply", "已修复").set("outcome", outcome);
  if (!promise.empty()) c.set("promise", promise);
  return c;
}

Command rating(const std::string& id, const std::string& rating, const std::string& comment = "") {
  Command c = command("verify", id).set("rating", rating);
  if (!comment.empty()) c.set("comment", comment);
  return c;
}

Command two_part(const std::string& id, const std::string& attitude, const std::string& result,
                 const std::string& comment = "") {
  Command c = command("verify", id).set("attitude", attitude).set("result", result);
  if (!comment.empty()) c.set("comment", comment);
  return c;
}

Command extend(const std::string& id, const std::string& lead, const std::string& until) {
  return by(lead, "extend", id).set("until", until).set("reason", "需协调资金");
}

Command decide_extension(const std::string& id, bool approve) {
  return command("decide-extension", id).set(approve ? "approve" : "refuse", true);
}

Command mark(const std::string& verb, const std::string& id, const std::string& due) {
  return command(verb, id, "timer").set("due", due);
}

Json milestones(std::vector<std::pair<std::string, std::string>> list) {
  Json out = Json::array();
  for (const auto& [date, text] : list) out.push_back({{"date", date}, {"text", text}});
  return out;
}

// The command as a worker receives it: encoded, framed, decoded, checked.
Result<Command> through_the_wire(const Command& c) {
  std::string frame = wire::encode_request(c.verb, 7, c.actor, encode_command_body(c));
  auto request = wire::decode_request(frame.data(), frame.size());
  if (!request) return request.error();
  return decode_command(*request);
}

}  // namespace

// ---- kinds and due dates at assignment ----

TEST_CASE("the shipped calendar loads", "[rules][due]") {
  auto calendar = Calendar::load(CLOSELOOP_SOURCE_DIR "/config/calendar");
  REQUIRE(calendar);
  CHECK(calendar->has_year(2025));
  CHECK(calendar->has_year(2026));
  CHECK_FALSE(calendar->has_year(2027));
}

TEST_CASE("a station item is due 15 working days after assignment, holidays skipped and make-up days counted",
          "[rules][due]") {
  Office office;
  SECTION("assigned just before National Day 2025") {
    Walk w = submitted(office, "2025-000001", "station", "2025-09-25");
    w.then(assign(w.item.id, "zjj"), "2025-09-26");  // a Friday
    // Sun 09-28 make-up (1), 09-29 (2), 09-30 (3), 10-01..10-08 off, 10-09 (4), 10-10 (5),
    // Sat 10-11 make-up (6), 10-13..10-17 (7-11), 10-20..10-23 (12-15).
    CHECK(w.item.due == "2025-10-23");
    CHECK(w.item.round_due == "2025-10-23");
    CHECK(w.item.assigned_on == "2025-09-26");
    CHECK(w.item.due_basis.rule == "station: 15 working days after assignment");
    CHECK(w.item.due_basis.from == "2025-09-26");
    CHECK(w.item.due_basis.calendar == stamp(shipped(), 2025));
    CHECK_FALSE(w.item.due_basis.provisional);
    CHECK(w.item.due_basis.working_days == 15);
    CHECK(w.item.due_basis.months == 0);
    // The assign event says the same.
    CHECK(w.last().payload.value("due", "") == "2025-10-23");
    const Json& basis = w.last().payload.at("due_basis");
    CHECK(basis.value("rule", "") == "station: 15 working days after assignment");
    CHECK(basis.value("from", "") == "2025-09-26");
    CHECK(basis.value("calendar", "") == stamp(shipped(), 2025));
    CHECK(basis.value("provisional", true) == false);
    CHECK(w.item.due_basis.code == "station");  // the rule by its code, for each language
    CHECK(basis.value("code", "") == "station");
    CHECK_FALSE(basis.contains("was"));  // empty: left out, as an older writer wrote it
  }
  SECTION("assigned just before the Spring Festival 2026") {
    Walk w = submitted(office, "2026-000001", "station", "2026-02-11");
    w.then(assign(w.item.id, "zjj"), "2026-02-12");  // a Thursday
    // 02-13 (1), Sat 02-14 make-up (2), 02-15..02-23 off, 02-24..02-27 (3-6),
    // Sat 02-28 make-up (7), 03-02..03-06 (8-12), 03-09..03-11 (13-15).
    CHECK(w.item.due == "2026-03-11");
    CHECK(w.item.due_basis.from == "2026-02-12");
    CHECK(w.item.due_basis.calendar == stamp(shipped(), 2026));
    CHECK_FALSE(w.item.due_basis.provisional);
  }
}

TEST_CASE("a suggestion is due 3 months after assignment, 6 when complex, moved past days off",
          "[rules][due]") {
  Office office;
  SECTION("3 months: 2026-04-05 is a Sunday and 04-06 Qingming, so 04-07") {
    Walk w = submitted(office, "2026-000002", "suggestion", "2026-01-04");
    w.then(assign(w.item.id, "jtj"), "2026-01-05");
    CHECK(w.item.due == "2026-04-07");
    CHECK(w.item.due_basis.rule == "suggestion: 3 months after assignment");
    CHECK(w.item.due_basis.from == "2026-01-05");
    CHECK(w.item.due_basis.months == 3);
    CHECK(w.item.due_basis.working_days == 0);
    CHECK_FALSE(w.item.due_basis.provisional);
  }
  SECTION("6 months when complex: 2026-07-05 is a Sunday, so 07-06") {
    Walk w = submitted(office, "2026-000003", "suggestion", "2026-01-04", /*complex=*/true);
    CHECK(w.item.complex);
    w.then(assign(w.item.id, "jtj"), "2026-01-05");
    CHECK(w.item.due == "2026-07-06");
    CHECK(w.item.due_basis.rule == "suggestion (complex): 6 months after assignment");
    CHECK(w.item.due_basis.months == 6);
  }
  SECTION("no corresponding day: 11-30 + 3 months is 02-28, a Saturday make-up working day") {
    Walk w = submitted(office, "2025-000004", "suggestion", "2025-11-28");
    w.then(assign(w.item.id, "jtj"), "2025-11-30");
    CHECK(w.item.due == "2026-02-28");
    CHECK(w.item.due_basis.calendar == stamp(shipped(), 2025) + ", " + stamp(shipped(), 2026));
  }
}

TEST_CASE("audit and legislative items refuse assignment without --due and take the date given",
          "[rules][due]") {
  Office office;
  for (std::string kind : {"audit", "legislative"}) {
    INFO(kind);
    Walk w = submitted(office, "2026-000010", kind, "2026-03-02");
    Error e = w.refuses(assign(w.item.id, "zjj"), "2026-03-03");
    CHECK(e.code == errc::kInvalid);
    CHECK(e.field == "due");  // the CLI says --due, an import its column
    CHECK(w.item.stage == Stage::kSubmitted);

    w.then(assign(w.item.id, "zjj").set("due", "2026-05-15"), "2026-03-03");
    CHECK(w.item.stage == Stage::kAssigned);
    CHECK(w.item.due == "2026-05-15");
    CHECK(w.item.due_basis.rule == "set at assignment (--due)");
  }
}

TEST_CASE("a project needs milestones in date order and is due at the last one", "[rules][due]") {
  Office office;
  Walk w = submitted(office, "2026-000011", "project", "2026-03-02");
  const std::string id = w.item.id;

  SECTION("no milestone and no --due: refused") {
    Error e = w.refuses(assign(id, "zjj"), "2026-03-03");
    CHECK(e.code == errc::kInvalid);
    CHECK(e.field == "milestone");  // the CLI says --milestone, an import its column
  }
  SECTION("milestones out of date order: refused") {
    Json out_of_order = milestones({{"2026-09-30", "主体完工"}, {"2026-04-30", "完成设计"}});
    CHECK(w.refuses(assign(id, "zjj").set("milestone", out_of_order), "2026-03-03").code ==
          errc::kInvalid);
  }
  SECTION("a milestone before the assignment day: refused") {
    Json early = milestones({{"2026-03-02", "立项"}, {"2026-09-30", "主体完工"}});
    CHECK(w.refuses(assign(id, "zjj").set("milestone", early), "2026-03-03").code ==
          errc::kInvalid);
  }
  SECTION("in date order: due at the last milestone") {
    Json list = milestones(
        {{"2026-04-30", "完成设计"}, {"2026-09-30", "主体完工"}, {"2026-12-18", "投入使用"}});
    w.then(assign(id, "zjj").set("milestone", list), "2026-03-03");
    CHECK(w.item.due == "2026-12-18");
    CHECK(w.item.due_basis.rule == "project: the last milestone");
    CHECK(w.item.due_basis.from == "2026-03-03");
    REQUIRE(w.item.milestones.size() == 3);
    CHECK(w.item.milestones[0].date == "2026-04-30");
    CHECK(w.item.milestones[1].text == "主体完工");
    CHECK(w.item.milestones[2].reached_at.empty());
  }
  SECTION("milestones on an item that is not a project: refused") {
    Walk station = submitted(office, "2026-000012", "station", "2026-03-02");
    Json list = milestones({{"2026-04-30", "完成设计"}});
    CHECK(station.refuses(assign(station.item.id, "zjj").set("milestone", list), "2026-03-03").code ==
          errc::kInvalid);
  }
}

TEST_CASE("a --due given at assignment overrides every kind's rule and its basis says so", "[rules][due]") {
  Office office;
  for (std::string kind : {"station", "suggestion", "project", "audit"}) {
    INFO(kind);
    Walk w = submitted(office, "2026-000013", kind, "2026-03-02");
    Command a = assign(w.item.id, "zjj").set("due", "2026-06-30");
    if (kind == "project") a.set("milestone", milestones({{"2026-12-18", "投入使用"}}));
    w.then(a, "2026-03-03");
    CHECK(w.item.due == "2026-06-30");
    CHECK(w.item.round_due == "2026-06-30");
    CHECK(w.item.due_basis.rule == "set at assignment (--due)");
    CHECK(w.item.due_basis.from == "2026-03-03");
    CHECK(w.item.due_basis.calendar == "");
    CHECK_FALSE(w.item.due_basis.provisional);
    CHECK(w.item.due_basis.working_days == 0);
    CHECK(w.item.due_basis.months == 0);
    CHECK(w.last().payload.at("due_basis").value("rule", "") == "set at assignment (--due)");
  }
}

TEST_CASE("a --due before the assignment day is refused, the day itself is accepted", "[rules][due]") {
  Office office;
  Walk w = submitted(office, "2026-000014", "audit", "2026-03-02");
  Error e = w.refuses(assign(w.item.id, "zjj").set("due", "2026-03-09"), "2026-03-10");
  CHECK(e.code == errc::kInvalid);
  CHECK_THAT(e.message, Catch::Contains("before the assignment"));
  w.then(assign(w.item.id, "zjj").set("due", "2026-03-10"), "2026-03-10");
  CHECK(w.item.due == "2026-03-10");
}

TEST_CASE("a due date in a year without calendar data is provisional", "[rules][due]") {
  Office office;
  Walk w = submitted(office, "2026-000015", "suggestion", "2026-11-13");
  w.then(assign(w.item.id, "zjj"), "2026-11-16");
  // No cn-2027.csv: weekends alone. 2027-02-16 is a Tuesday.
  CHECK(w.item.due == "2027-02-16");
  CHECK(w.item.due_basis.provisional);
  CHECK(w.item.due_basis.calendar == stamp(shipped(), 2026) + ", cn-2027 none");
  CHECK(w.last().payload.at("due_basis").value("provisional", false));
}

// ---- sign-for ----

TEST_CASE("sign-for: the lead and each co-department sign once, any other department is forbidden",
          "[rules][sign]") {
  Office office;
  Walk w = submitted(office, "2026-000020", "station", "2026-03-02");
  const std::string id = w.item.id;
  CHECK(w.refuses(by("zjj", "sign", id), "2026-03-02").code == errc::kRefused);  // not assigned yet
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02");

  w.then(by("zjj", "sign", id), "2026-03-03");
  CHECK(w.item.signed_at == noon_of("2026-03-03"));
  CHECK(w.last().payload.value("role", "") == "lead");
  CHECK(w.last().department == "zjj");
  CHECK(w.item.stage == Stage::kAssigned);
  CHECK(w.refuses(by("zjj", "sign", id), "2026-03-04").code == errc::kRefused);

  w.then(by("jtj", "sign", id), "2026-03-04");
  CHECK(w.item.co_signed_at.at("jtj") == noon_of("2026-03-04"));
  CHECK(w.last().payload.value("role", "") == "co");
  CHECK(w.item.signed_at == noon_of("2026-03-03"));
  CHECK(w.refuses(by("jtj", "sign", id), "2026-03-05").code == errc::kRefused);

  CHECK(w.refuses(by("jyj", "sign", id), "2026-03-05").code == errc::kForbidden);
  CHECK(w.refuses(by("nosuch", "sign", id), "2026-03-05").code == errc::kInvalid);
}

// ---- handle ----

TEST_CASE("handle waits until every co-department has given its opinion or been waived",
          "[rules][handle]") {
  Office office;
  Walk w = submitted(office, "2026-000021", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj", "jyj"}), "2026-03-02");

  Error e = w.refuses(reply(id, "zjj"), "2026-03-03");
  CHECK(e.code == errc::kRefused);
  CHECK_THAT(e.message, Catch::Contains("jtj"));

  w.then(by("jtj", "opinion", id).set("text", "同意"), "2026-03-03");
  e = w.refuses(reply(id, "zjj"), "2026-03-04");
  CHECK(e.code == errc::kRefused);
  CHECK_THAT(e.message, Catch::Contains("jyj"));

  w.then(command("waive", id).set("department", "jyj").set("reason", "不涉及"), "2026-03-04");
  CHECK(w.refuses(reply(id, "jtj"), "2026-03-05").code == errc::kForbidden);  // a co-department
  w.then(reply(id, "zjj"), "2026-03-05");
  CHECK(w.item.stage == Stage::kHandled);
  CHECK(w.item.outcome == "solved");
  CHECK(w.item.replied_at == noon_of("2026-03-05"));
}

TEST_CASE("a reply without a prior sign-for signs implicitly and is recorded as such",
          "[rules][handle][sign]") {
  Office office;
  Walk w = submitted(office, "2026-000022", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-03-02");
  SECTION("not signed: the reply signs") {
    w.then(reply(id, "zjj"), "2026-03-04");
    CHECK(w.last().payload.value("implicit_sign", false));
    CHECK(w.item.signed_at == noon_of("2026-03-04"));
    CHECK(w.item.replied_at == noon_of("2026-03-04"));
    CHECK(w.last().payload.value("due", "") == "2026-03-23");  // what the reply is measured against
  }
  SECTION("signed before: nothing implicit") {
    w.then(by("zjj", "sign", id), "2026-03-03");
    w.then(reply(id, "zjj"), "2026-03-04");
    CHECK_FALSE(w.last().payload.contains("implicit_sign"));
    CHECK(w.item.signed_at == noon_of("2026-03-03"));
  }
}

TEST_CASE("in-progress and planned replies without a promised date are refused at decode",
          "[rules][handle]") {
  const Verb* handle = find_verb("handle");
  REQUIRE(handle);
  REQUIRE(handle->check);
  for (std::string outcome : {"in-progress", "planned"}) {
    INFO(outcome);
    Command c = reply("2026-000023", "zjj", outcome);
    Status s = handle->check(c);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::kInvalid);
    CHECK(s.error().field == "promise");  // the CLI says --promise
    CHECK_FALSE(rules::check_handle(c));

    auto decoded = through_the_wire(c);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == errc::kInvalid);

    c.set("promise", "2026-06-30");
    CHECK(rules::check_handle(c));
    auto with_promise = through_the_wire(c);
    INFO((with_promise ? "" : describe(with_promise.error())));
    REQUIRE(with_promise);
    CHECK(with_promise->text("promise") == "2026-06-30");
    CHECK(with_promise->text("outcome") == outcome);
  }
  for (std::string outcome : {"solved", "not-feasible"}) {
    INFO(outcome);
    CHECK(rules::check_handle(reply("2026-000023", "zjj", outcome)));
    CHECK(through_the_wire(reply("2026-000023", "zjj", outcome)));
  }
}

TEST_CASE("a promised date in the past is refused, today is accepted", "[rules][handle]") {
  Office office;
  Walk w = submitted(office, "2026-000024", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-03-02");
  Error e = w.refuses(reply(id, "zjj", "in-progress", "2026-03-04"), "2026-03-05");
  CHECK(e.code == errc::kInvalid);
  CHECK_THAT(e.message, Catch::Contains("in the past"));
  w.then(reply(id, "zjj", "planned", "2026-03-05"), "2026-03-05");
  CHECK(w.item.promise.date == "2026-03-05");
  CHECK(w.item.promise.open());
}

// ---- verify ----

TEST_CASE("verify takes --rating, or both --attitude and --result, never a mix", "[rules][verify]") {
  const std::string id = "2026-000030";
  CHECK(rules::check_verify(rating(id, "satisfied")));
  CHECK(rules::check_verify(two_part(id, "satisfied", "basically-satisfied")));

  CHECK_FALSE(rules::check_verify(command("verify", id)));  // neither
  CHECK_FALSE(rules::check_verify(command("verify", id).set("attitude", "satisfied")));
  CHECK_FALSE(rules::check_verify(command("verify", id).set("result", "satisfied")));
  Command both = rating(id, "satisfied").set("attitude", "satisfied").set("result", "satisfied");
  Status mixed = rules::check_verify(both);
  REQUIRE_FALSE(mixed);
  CHECK(mixed.error().code == errc::kInvalid);
  CHECK_FALSE(rules::check_verify(rating(id, "satisfied").set("result", "satisfied")));

  // The verb's check is this one, applied by decode_command.
  REQUIRE(find_verb("verify")->check);
  CHECK_FALSE(find_verb("verify")->check(both));
  auto decoded = through_the_wire(both);
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error().code == errc::kInvalid);
  CHECK(through_the_wire(two_part(id, "satisfied", "satisfied")));
}

TEST_CASE("an unsatisfied evaluation without a comment is refused", "[rules][verify]") {
  const std::string id = "2026-000031";
  CHECK_FALSE(rules::check_verify(rating(id, "unsatisfied")));
  CHECK_FALSE(rules::check_verify(two_part(id, "satisfied", "unsatisfied")));
  CHECK_FALSE(rules::check_verify(two_part(id, "unsatisfied", "satisfied")));  // attitude too
  Status s = rules::check_verify(two_part(id, "basically-satisfied", "unsatisfied"));
  REQUIRE_FALSE(s);
  CHECK(s.error().field == "comment");
  CHECK_FALSE(through_the_wire(rating(id, "unsatisfied")));

  CHECK(rules::check_verify(rating(id, "unsatisfied", "没有解决")));
  CHECK(rules::check_verify(two_part(id, "satisfied", "unsatisfied", "没有解决")));
  CHECK(rules::check_verify(two_part(id, "unsatisfied", "satisfied", "态度生硬")));
}

TEST_CASE("an unsatisfied result sends the item back for rework, due 1 month after the evaluation",
          "[rules][verify]") {
  Office office;
  Walk w = submitted(office, "2026-000032", "station", "2026-02-11");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-02-12").then(reply(id, "zjj"), "2026-03-04");
  w.then(two_part(id, "satisfied", "unsatisfied", "路灯仍未修复"), "2026-03-06");
  CHECK(w.item.stage == Stage::kAssigned);
  CHECK(w.item.department == "zjj");
  CHECK(w.item.rework_count == 1);
  // 03-06 + 1 month = 04-06, Qingming (a Monday off), so 04-07.
  CHECK(w.item.due == "2026-04-07");
  CHECK(w.item.round_due == "2026-04-07");
  CHECK(w.item.due_basis.rule == "rework: 1 month after the unsatisfied evaluation");
  CHECK(w.item.due_basis.from == "2026-03-06");
  CHECK(w.item.evaluation.result == "unsatisfied");
  CHECK(w.item.evaluation.comment == "路灯仍未修复");
  CHECK(w.last().stage == Stage::kAssigned);
  CHECK(w.last().payload.value("result", "") == "unsatisfied");
  CHECK(w.last().payload.value("attitude", "") == "satisfied");
  CHECK(w.last().payload.value("due", "") == "2026-04-07");

  // The lead replies again; a second unsatisfied result is a second rework.
  w.then(reply(id, "zjj"), "2026-03-20");
  w.then(rating(id, "unsatisfied", "仍未解决"), "2026-03-23");
  CHECK(w.item.rework_count == 2);
  CHECK(w.item.due == "2026-04-23");
}

TEST_CASE("an unsatisfied attitude with a satisfied result is recorded but sends nothing back",
          "[rules][verify]") {
  Office office;
  Walk w = submitted(office, "2026-000033", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-03-02").then(reply(id, "zjj"), "2026-03-04");
  SECTION("attitude unsatisfied, result satisfied") {
    w.then(two_part(id, "unsatisfied", "satisfied", "答复态度生硬"), "2026-03-05");
    CHECK(w.item.stage == Stage::kVerified);
    CHECK(w.item.rework_count == 0);
    CHECK(w.item.due == "2026-03-23");
    CHECK(w.item.evaluation.attitude == "unsatisfied");
    CHECK(w.item.evaluation.result == "satisfied");
    CHECK(w.item.evaluation.comment == "答复态度生硬");
    CHECK(w.last().payload.value("attitude", "") == "unsatisfied");
  }
  SECTION("--rating sets both parts") {
    w.then(rating(id, "basically-satisfied"), "2026-03-05");
    CHECK(w.item.stage == Stage::kVerified);
    CHECK(w.item.evaluation.attitude == "basically-satisfied");
    CHECK(w.item.evaluation.result == "basically-satisfied");
    CHECK(w.last().payload.value("result", "") == "basically-satisfied");
  }
}

// ---- extensions ----

TEST_CASE("an extension is asked by the lead before the due date, for a later date, one at a time",
          "[rules][extension]") {
  Office office;
  Walk w = submitted(office, "2026-000040", "suggestion", "2026-01-04");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-01-05");
  REQUIRE(w.item.due == "2026-04-07");

  CHECK(w.refuses(extend(id, "jtj", "2026-05-07"), "2026-03-02").code == errc::kForbidden);
  CHECK(w.refuses(extend(id, "zjj", "2026-04-07"), "2026-03-02").code == errc::kInvalid);
  CHECK(w.refuses(extend(id, "zjj", "2026-04-06"), "2026-03-02").code == errc::kInvalid);
  CHECK(w.refuses(extend(id, "zjj", "2026-05-07"), "2026-04-08").code == errc::kRefused);
  CHECK(w.refuses(decide_extension(id, true), "2026-03-02").code == errc::kRefused);  // none pending

  w.then(extend(id, "zjj", "2026-05-07"), "2026-03-02");
  REQUIRE(w.item.extensions.size() == 1);
  CHECK(w.item.extensions[0].state == "pending");
  CHECK(w.item.extensions[0].until == "2026-05-07");
  CHECK(w.item.extensions[0].asked_at == noon_of("2026-03-02"));
  CHECK(w.item.due == "2026-04-07");
  CHECK(w.refuses(extend(id, "zjj", "2026-05-08"), "2026-03-03").code == errc::kRefused);

  SECTION("refused: the due date stays, the trail keeps the request") {
    w.then(decide_extension(id, false).set("comment", "理由不充分"), "2026-03-03");
    REQUIRE(w.item.extensions.size() == 1);
    CHECK(w.item.extensions[0].state == "refused");
    CHECK(w.item.extensions[0].comment == "理由不充分");
    CHECK(w.item.extensions[0].decided_at == noon_of("2026-03-03"));
    CHECK(w.item.due == "2026-04-07");
    CHECK_FALSE(w.last().payload.contains("due"));
    // Nothing pending: a new request may be made.
    w.then(extend(id, "zjj", "2026-05-07"), "2026-03-04");
    CHECK(w.item.extensions.size() == 2);
  }
  SECTION("approved: the due date moves, the round's due date stays") {
    w.then(decide_extension(id, true), "2026-03-03");
    REQUIRE(w.item.extensions.size() == 1);
    CHECK(w.item.extensions[0].state == "approved");
    CHECK(w.item.due == "2026-05-07");
    CHECK(w.item.round_due == "2026-04-07");
    CHECK(w.item.due_basis.rule == "extension approved (was 2026-04-07)");
    CHECK(w.last().payload.value("due", "") == "2026-05-07");
    CHECK(w.last().payload.value("until", "") == "2026-05-07");
  }
}

TEST_CASE("decide-extension takes exactly one of --approve and --refuse", "[rules][extension]") {
  CHECK(rules::check_decide_extension(decide_extension("2026-000041", true)));
  CHECK(rules::check_decide_extension(decide_extension("2026-000041", false)));
  CHECK_FALSE(rules::check_decide_extension(command("decide-extension", "2026-000041")));
  CHECK_FALSE(rules::check_decide_extension(
      decide_extension("2026-000041", true).set("refuse", true)));
}

TEST_CASE("a suggestion's extensions add at most 3 months in total, counted from its round's due date",
          "[rules][extension]") {
  Office office;
  Walk w = submitted(office, "2026-000042", "suggestion", "2026-01-04");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-01-05");  // due 2026-04-07
  w.then(extend(id, "zjj", "2026-05-07"), "2026-03-02").then(decide_extension(id, true), "2026-03-03");
  REQUIRE(w.item.due == "2026-05-07");

  // 2026-04-07 + 3 months = 2026-07-07, a Tuesday: the latest date, whatever came between.
  Error e = w.refuses(extend(id, "zjj", "2026-07-08"), "2026-04-20");
  CHECK(e.code == errc::kInvalid);
  CHECK_THAT(e.message, Catch::Contains("2026-07-07"));
  w.then(extend(id, "zjj", "2026-07-07"), "2026-04-20").then(decide_extension(id, true), "2026-04-21");
  CHECK(w.item.due == "2026-07-07");
  CHECK(w.item.round_due == "2026-04-07");

  // Other kinds have no such limit.
  Walk station = submitted(office, "2026-000043", "station", "2026-03-02");
  station.then(assign(station.item.id, "zjj"), "2026-03-02");  // due 2026-03-23
  station.then(extend(station.item.id, "zjj", "2026-12-31"), "2026-03-10");
  station.then(decide_extension(station.item.id, true), "2026-03-11");
  CHECK(station.item.due == "2026-12-31");
}

// A request for more time asked before the reply lapses with the reply: it cannot be
// approved in the rework round, where it would set a due date before the rework's own.
TEST_CASE("approving an extension left pending from before a rework never moves the due date earlier",
          "[rules][extension]") {
  Office office;
  Walk w = submitted(office, "2026-000044", "suggestion", "2026-01-04");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-01-05");  // due 2026-04-07
  w.then(extend(id, "zjj", "2026-05-07"), "2026-03-02");
  w.then(reply(id, "zjj"), "2026-03-05");
  w.then(rating(id, "unsatisfied", "未解决"), "2026-04-20");
  REQUIRE(w.item.due == "2026-05-20");  // rework: 1 month after 04-20
  CHECK(w.item.extensions.back().state == "lapsed");
  auto approved = decide(w.item, decide_extension(id, true), office.on("2026-04-21"));
  REQUIRE_FALSE(approved.ok());
  CHECK(approved.error().message.find("no extension request waiting") != std::string::npos);
}

// ---- co-handling ----

TEST_CASE("opinions and waivers are for co-departments only, once each", "[rules][opinion]") {
  Office office;
  Walk w = submitted(office, "2026-000050", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj", "jyj"}), "2026-03-02");
  auto opinion = [&](const std::string& dept) { return by(dept, "opinion", id).set("text", "同意"); };
  auto waive = [&](const std::string& dept) {
    return command("waive", id).set("department", dept).set("reason", "不涉及");
  };

  CHECK(w.refuses(opinion("zjj"), "2026-03-03").code == errc::kForbidden);  // the lead
  CHECK(w.refuses(opinion("gaj"), "2026-03-03").code == errc::kForbidden);  // not named
  CHECK(w.refuses(waive("zjj"), "2026-03-03").code == errc::kForbidden);

  w.then(opinion("jtj"), "2026-03-03");
  CHECK(w.refuses(opinion("jtj"), "2026-03-04").code == errc::kRefused);
  CHECK(w.refuses(waive("jtj"), "2026-03-04").code == errc::kRefused);  // already given

  w.then(waive("jyj"), "2026-03-04");
  CHECK(w.refuses(waive("jyj"), "2026-03-05").code == errc::kRefused);
  CHECK(w.refuses(opinion("jyj"), "2026-03-05").code == errc::kRefused);  // waived

  REQUIRE(w.item.opinions.size() == 2);
  CHECK(w.item.opinion_of("jtj")->text == "同意");
  CHECK_FALSE(w.item.opinion_of("jtj")->waived);
  CHECK(w.item.opinion_of("jyj")->waived);
  CHECK(w.item.opinion_of("jyj")->reason == "不涉及");
}

// ---- bounded returns ----

TEST_CASE("a return later than 7 working days after assignment needs a ruling", "[rules][return]") {
  Office office;
  Walk w = submitted(office, "2026-000060", "station", "2026-02-11");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-02-12");
  auto give_back = [&] { return by("zjj", "return", id).set("reason", "不属本单位职责"); };

  CHECK(w.refuses(by("jtj", "return", id).set("reason", "x"), "2026-02-13").code == errc::kForbidden);
  // 02-13 (1), Sat 02-14 make-up (2), 02-24..02-27 (3-6), Sat 02-28 make-up (7), 03-02 (8).
  SECTION("on the 7th working day: accepted") {
    w.then(give_back(), "2026-02-28");
    CHECK(w.item.stage == Stage::kSubmitted);
    CHECK(w.item.returns == 1);
    CHECK(w.item.department.empty());
    CHECK(w.item.co_departments.empty());
    CHECK(w.item.due.empty());
    CHECK(w.last().department == "zjj");  // the department that returned it
  }
  SECTION("on the 8th: refused without a ruling, accepted with one") {
    Error e = w.refuses(give_back(), "2026-03-02");
    CHECK(e.code == errc::kRefused);
    CHECK(e.field == "ruling");  // the CLI says --ruling, an import its column
    w.then(give_back().set("ruling", "主任会议同意退回"), "2026-03-02");
    CHECK(w.item.stage == Stage::kSubmitted);
    CHECK(w.item.returns == 1);
  }
}

TEST_CASE("after 2 returns the next assignment needs a ruling", "[rules][return]") {
  Office office;
  Walk w = submitted(office, "2026-000061", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-03-02");
  w.then(by("zjj", "return", id).set("reason", "不属本单位"), "2026-03-03");
  w.then(assign(id, "jtj"), "2026-03-04");  // one return: no ruling needed
  w.then(by("jtj", "return", id).set("reason", "不属本单位"), "2026-03-05");
  CHECK(w.item.returns == 2);

  Error e = w.refuses(assign(id, "gaj"), "2026-03-06");
  CHECK(e.code == errc::kRefused);
  CHECK(e.field == "ruling");  // the CLI says --ruling, an import its column
  w.then(assign(id, "gaj").set("ruling", "由县公安局牵头办理"), "2026-03-06");
  CHECK(w.item.stage == Stage::kAssigned);
  CHECK(w.item.department == "gaj");
}

// ---- reopen, urge, promise-kept, milestone ----

TEST_CASE("reopen sends a closed item back to its last lead department, due 1 month later",
          "[rules][reopen]") {
  Office office;
  Walk w = submitted(office, "2026-000070", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02").then(by("zjj", "sign", id), "2026-03-03");
  w.then(by("jtj", "opinion", id).set("text", "同意"), "2026-03-03");
  w.then(reply(id, "zjj"), "2026-03-05").then(rating(id, "satisfied"), "2026-03-06");
  CHECK(w.refuses(command("reopen", id).set("reason", "问题复发"), "2026-03-06").code ==
        errc::kRefused);  // verified, not closed
  w.then(command("close", id), "2026-03-09");
  CHECK(w.item.stage == Stage::kClosed);

  w.then(command("reopen", id).set("reason", "问题复发"), "2026-04-01");
  CHECK(w.item.stage == Stage::kAssigned);
  CHECK(w.item.department == "zjj");
  CHECK(w.item.reopen_count == 1);
  // 04-01 + 1 month = 05-01, the Labour Day holiday to 05-05: so 05-06.
  CHECK(w.item.due == "2026-05-06");
  CHECK(w.item.round_due == "2026-05-06");
  CHECK(w.item.due_basis.rule == "reopened: 1 month after reopening");
  CHECK(w.item.due_basis.from == "2026-04-01");
  CHECK(w.item.assigned_on == "2026-04-01");
  CHECK(w.item.signed_at.empty());  // a new round: nothing signed yet
  CHECK(w.last().department == "zjj");
  CHECK(w.last().payload.value("due", "") == "2026-05-06");
}

TEST_CASE("urge: at assigned always, at closed only while a promise is open", "[rules][urge]") {
  Office office;
  Walk w = submitted(office, "2026-000071", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-03-02");
  w.then(command("urge", id).set("note", "请加快办理"), "2026-03-10");
  CHECK(w.item.urges == 1);
  CHECK(w.last().action == "urge");

  SECTION("closed with nothing open: refused") {
    w.then(reply(id, "zjj"), "2026-03-11").then(rating(id, "satisfied"), "2026-03-12");
    CHECK(w.refuses(command("urge", id), "2026-03-12").code == errc::kRefused);  // verified
    w.then(command("close", id), "2026-03-13");
    Error e = w.refuses(command("urge", id), "2026-03-16");
    CHECK(e.code == errc::kRefused);
    CHECK_THAT(e.message, Catch::Contains("nothing to urge"));
  }
  SECTION("closed with an open promise: accepted, until the promise is kept") {
    w.then(reply(id, "zjj", "in-progress", "2026-06-30"), "2026-03-11");
    w.then(rating(id, "satisfied"), "2026-03-12").then(command("close", id), "2026-03-13");
    w.then(command("urge", id), "2026-03-16");
    CHECK(w.item.urges == 2);
    w.then(by("zjj", "promise-kept", id), "2026-06-29");
    CHECK(w.refuses(command("urge", id), "2026-06-30").code == errc::kRefused);
  }
}

TEST_CASE("promise-kept: the lead department reports an open promise kept, once", "[rules][promise]") {
  Office office;
  Walk w = submitted(office, "2026-000072", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02");
  w.then(by("jtj", "opinion", id).set("text", "同意"), "2026-03-03");

  SECTION("no promise: refused") {
    w.then(reply(id, "zjj"), "2026-03-04");
    CHECK(w.refuses(by("zjj", "promise-kept", id), "2026-03-05").code == errc::kRefused);
  }
  SECTION("an open promise") {
    w.then(reply(id, "zjj", "planned", "2026-06-30"), "2026-03-04");
    CHECK(w.refuses(by("jtj", "promise-kept", id), "2026-03-05").code == errc::kForbidden);
    w.then(by("zjj", "promise-kept", id).set("note", "已完工"), "2026-03-05");
    CHECK(w.item.stage == Stage::kHandled);
    CHECK(w.item.promise.kept_at == noon_of("2026-03-05"));
    CHECK(w.item.promise.note == "已完工");
    CHECK_FALSE(w.item.promise.open());
    CHECK(w.refuses(by("zjj", "promise-kept", id), "2026-03-06").code == errc::kRefused);
  }
}

TEST_CASE("milestone: reported by the lead, counted from 1, each once", "[rules][milestone]") {
  Office office;
  Walk w = submitted(office, "2026-000073", "project", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}).set("milestone", milestones({{"2026-04-30", "完成设计"},
                                                                  {"2026-09-30", "主体完工"}})),
         "2026-03-02");
  auto reached = [&](const std::string& dept, uint64_t index) {
    return by(dept, "milestone", id).set("index", index);
  };
  CHECK(w.refuses(reached("zjj", 0), "2026-04-29").code == errc::kInvalid);
  CHECK(w.refuses(reached("zjj", 3), "2026-04-29").code == errc::kInvalid);
  CHECK(w.refuses(reached("jtj", 1), "2026-04-29").code == errc::kForbidden);

  w.then(reached("zjj", 1).set("note", "设计已批复"), "2026-04-29");
  CHECK(w.item.milestones[0].reached_at == noon_of("2026-04-29"));
  CHECK(w.item.milestones[0].note == "设计已批复");
  CHECK(w.item.milestones[1].reached_at.empty());
  CHECK(w.refuses(reached("zjj", 1), "2026-04-30").code == errc::kRefused);
  w.then(reached("zjj", 2), "2026-09-29");
  CHECK(w.item.milestones[1].reached_at == noon_of("2026-09-29"));
}

// ---- the timer's marks ----
// An audit finding due Friday 2026-04-03, just before Qingming (04-04..04-06 off).

TEST_CASE("timer.remind: only within 3 working days before the current due date, once per due date",
          "[rules][timer]") {
  Office office;
  Walk w = submitted(office, "2026-000080", "audit", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj").set("due", "2026-04-03"), "2026-03-02");

  CHECK(w.refuses(mark("timer.remind", id, "2026-04-10"), "2026-03-31").code == errc::kRefused);
  // 03-30 is 4 working days before (03-31, 04-01, 04-02, 04-03).
  CHECK(w.refuses(mark("timer.remind", id, "2026-04-03"), "2026-03-30").code == errc::kRefused);
  CHECK(w.refuses(mark("timer.remind", id, "2026-04-03"), "2026-04-07").code == errc::kRefused);

  SECTION("on the due date itself: still within the window") {
    w.then(mark("timer.remind", id, "2026-04-03"), "2026-04-03");
    CHECK(w.item.reminded_for == "2026-04-03");
  }
  SECTION("3 working days before; once; again for a new due date") {
    w.then(mark("timer.remind", id, "2026-04-03"), "2026-03-31");
    CHECK(w.item.reminded_for == "2026-04-03");
    CHECK(w.last().action == "remind");
    CHECK(w.last().payload.value("due", "") == "2026-04-03");
    CHECK(w.item.stage == Stage::kAssigned);
    CHECK(w.refuses(mark("timer.remind", id, "2026-04-03"), "2026-04-01").code == errc::kRefused);

    w.then(extend(id, "zjj", "2026-04-30"), "2026-04-01").then(decide_extension(id, true), "2026-04-01");
    CHECK(w.refuses(mark("timer.remind", id, "2026-04-03"), "2026-04-02").code == errc::kRefused);
    // 04-27 is 3 working days before 04-30 (04-28, 04-29, 04-30).
    w.then(mark("timer.remind", id, "2026-04-30"), "2026-04-27");
    CHECK(w.item.reminded_for == "2026-04-30");
  }
}

TEST_CASE("timer.overdue: only after the due date (the due date itself is in time), once per due date",
          "[rules][timer]") {
  Office office;
  Walk w = submitted(office, "2026-000081", "audit", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj").set("due", "2026-04-03"), "2026-03-02");

  CHECK(w.refuses(mark("timer.overdue", id, "2026-04-03"), "2026-04-03").code == errc::kRefused);
  CHECK(w.refuses(mark("timer.overdue", id, "2026-04-02"), "2026-04-04").code == errc::kRefused);
  CHECK_FALSE(w.item.overdue);

  w.then(mark("timer.overdue", id, "2026-04-03"), "2026-04-04");  // the first day after, a day off
  CHECK(w.item.overdue);
  CHECK(w.item.overdue_for == "2026-04-03");
  CHECK(w.last().action == "overdue");
  CHECK(w.refuses(mark("timer.overdue", id, "2026-04-03"), "2026-04-07").code == errc::kRefused);

  // A reply clears it.
  w.then(reply(id, "zjj"), "2026-04-08");
  CHECK_FALSE(w.item.overdue);
}

TEST_CASE("timer.escalate: only once overdue was marked and enough working days have passed, once",
          "[rules][timer]") {
  Office office;
  Walk w = submitted(office, "2026-000082", "audit", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj").set("due", "2026-04-03"), "2026-03-02");

  // Working days after 04-03: 04-07 (1), 04-08 (2), 04-09 (3), 04-10 (4), 04-13 (5), 04-14 (6).
  CHECK(w.refuses(mark("timer.escalate", id, "2026-04-03"), "2026-04-14").code ==
        errc::kRefused);  // overdue not marked
  w.then(mark("timer.overdue", id, "2026-04-03"), "2026-04-04");
  CHECK(w.refuses(mark("timer.escalate", id, "2026-04-03"), "2026-04-10").code == errc::kRefused);
  CHECK(w.refuses(mark("timer.escalate", id, "2026-04-10"), "2026-04-14").code == errc::kRefused);

  w.then(mark("timer.escalate", id, "2026-04-03"), "2026-04-14");
  CHECK(w.item.escalated);
  CHECK(w.item.escalated_for == "2026-04-03");
  CHECK(w.last().action == "escalate");
  CHECK(w.refuses(mark("timer.escalate", id, "2026-04-03"), "2026-04-15").code == errc::kRefused);
}

// The issue: "an overdue event the first day after it, and an escalate event when an item
// is still overdue 5 working days later"; the brief: escalate once at least
// rules.escalate_working_days working days have passed since the due date. Due Friday
// 04-03, overdue on Saturday 04-04; 5 working days later (and 5 after the due date) is
// Monday 04-13. The rule asks working_days_between(due, today) >= days + 1, i.e. 04-14.
TEST_CASE("timer.escalate: 5 working days after the due date is enough when the day after it is a day off",
          "[rules][timer]") {
  Office office;
  Walk w = submitted(office, "2026-000083", "audit", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj").set("due", "2026-04-03"), "2026-03-02");
  w.then(mark("timer.overdue", id, "2026-04-03"), "2026-04-04");
  REQUIRE(office.calendar.working_days_between(day("2026-04-03"), day("2026-04-13")) == 5);
  w.then(mark("timer.escalate", id, "2026-04-03"), "2026-04-13");
  CHECK(w.item.escalated);
}

TEST_CASE("timer.redue recounts a provisional due date once the missing year's calendar is in",
          "[rules][timer][redue]") {
  char pattern[] = "/tmp/closeloop-rules-XXXXXX";
  REQUIRE(mkdtemp(pattern));
  const fs::path dir = pattern;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  for (const auto& entry : fs::directory_iterator(CLOSELOOP_SOURCE_DIR "/config/calendar"))
    fs::copy_file(entry.path(), dir / entry.path().filename());

  Office before;
  before.calendar = load_calendar(dir.string());
  Walk w = submitted(before, "2026-000090", "station", "2026-12-18");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj"), "2026-12-21");  // a Monday
  // 12-22..12-25 (1-4), 12-28..12-31 (5-8), Fri 2027-01-01 (9: no 2027 file), 01-04..01-08
  // (10-14), 01-11 (15).
  REQUIRE(w.item.due == "2027-01-11");
  REQUIRE(w.item.due_basis.provisional);
  CHECK(w.refuses(command("timer.redue", id, "timer"), "2026-12-22").code == errc::kRefused);

  {
    std::ofstream out(dir / "cn-2027.csv");
    out << "date,kind,festival\n2027-01-01,holiday,元旦\n";
  }
  Office after;
  after.calendar = load_calendar(dir.string());
  w.office = &after;
  w.then(command("timer.redue", id, "timer"), "2026-12-22");
  CHECK(w.item.due == "2027-01-12");  // 01-01 is off: the 15th working day is one later
  CHECK_FALSE(w.item.due_basis.provisional);
  CHECK(w.item.due_basis.calendar == stamp(after.calendar, 2026) + ", " + stamp(after.calendar, 2027));
  CHECK(w.item.due_basis.rule == "station: 15 working days after assignment");
  CHECK(w.item.due_basis.from == "2026-12-21");
  CHECK(w.item.round_due == "2027-01-12");
  CHECK(w.last().action == "redue");
  CHECK(w.last().payload.value("was", "") == "2027-01-11");
  CHECK(w.last().payload.value("due", "") == "2027-01-12");

  // Nothing changed since: refused.
  Error e = w.refuses(command("timer.redue", id, "timer"), "2026-12-23");
  CHECK(e.code == errc::kRefused);
  CHECK_THAT(e.message, Catch::Contains("stands"));
}

TEST_CASE("timer.redue refuses a date set by hand", "[rules][timer][redue]") {
  Office office;
  Walk w = submitted(office, "2026-000091", "audit", "2026-12-18");
  w.then(assign(w.item.id, "zjj").set("due", "2027-03-31"), "2026-12-21");
  CHECK(w.refuses(command("timer.redue", w.item.id, "timer"), "2026-12-22").code == errc::kRefused);
}

// ---- the trail ----

TEST_CASE("every event of a walk chains onto the one before", "[rules][chain]") {
  Office office;
  Walk w = submitted(office, "2026-000100", "suggestion", "2026-01-04");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-01-05")
      .then(by("zjj", "sign", id), "2026-01-06")
      .then(by("jtj", "opinion", id).set("text", "同意"), "2026-01-20")
      .then(extend(id, "zjj", "2026-05-07"), "2026-03-02")
      .then(decide_extension(id, true), "2026-03-03")
      .then(reply(id, "zjj", "in-progress", "2026-06-30"), "2026-04-20")
      .then(two_part(id, "satisfied", "unsatisfied", "未落实"), "2026-04-22")
      .then(reply(id, "zjj"), "2026-05-06")
      .then(rating(id, "satisfied"), "2026-05-07")
      .then(command("close", id), "2026-05-08")
      .then(command("reopen", id).set("reason", "复查"), "2026-06-01");

  REQUIRE(w.trail.size() == 12);
  CHECK(w.trail[0].prev_hash == kGenesisHash);
  for (size_t i = 0; i < w.trail.size(); ++i) {
    INFO("event " << i + 1 << " " << w.trail[i].action);
    CHECK(w.trail[i].seq == i + 1);
    CHECK(w.trail[i].item == id);
    CHECK(w.trail[i].hash == event_hash(w.trail[i]));
    if (i > 0) CHECK(w.trail[i].prev_hash == w.trail[i - 1].hash);
  }
  CHECK(first_bad_seq(w.trail) == 0);
  CHECK(w.item.seq == 12);
  CHECK(w.item.head == w.trail.back().hash);
  CHECK(w.item.last_action == "reopen");

  std::vector<Event> tampered = w.trail;
  tampered[6].payload["outcome"] = "solved";
  CHECK(first_bad_seq(tampered) == 7);
}

TEST_CASE("a refused command changes nothing, and decide leaves the item it is given untouched",
          "[rules][chain]") {
  Office office;
  Walk w = submitted(office, "2026-000101", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02");
  const Item assigned = w.item;
  const std::string before = encode(assigned);

  // Refusals of every kind: the stage, the department, a field, a co-department waiting.
  CHECK(w.refuses(command("close", id), "2026-03-03").code == errc::kRefused);
  CHECK(w.refuses(by("jyj", "sign", id), "2026-03-03").code == errc::kForbidden);
  CHECK(w.refuses(reply(id, "zjj"), "2026-03-03").code == errc::kRefused);
  CHECK(w.refuses(extend(id, "zjj", "2026-03-01"), "2026-03-03").code == errc::kInvalid);
  auto refused = decide(assigned, reply(id, "zjj", "planned", "2026-01-01"), office.on("2026-03-03"));
  CHECK_FALSE(refused);
  CHECK(encode(assigned) == before);

  // An accepted one returns a new item and leaves its input as it was.
  auto step = decide(assigned, by("zjj", "sign", id), office.on("2026-03-03"));
  REQUIRE(step);
  CHECK(encode(assigned) == before);
  CHECK(assigned.signed_at.empty());
  CHECK(step->item.signed_at == noon_of("2026-03-03"));
  // ... and the next event chains onto the last accepted one: refusals left no gap.
  CHECK(step->event.seq == assigned.seq + 1);
  CHECK(step->event.prev_hash == assigned.head);
}

// ---- reassign (改派) and withdraw (撤销/撤回) ----

namespace {

Command reassign(const std::string& id, const std::string& lead, const std::string& reason = "职责调整") {
  return command("reassign", id).set("department", lead).set("reason", reason);
}

Command withdraw(const std::string& id, const std::string& reason = "重复交办") {
  return command("withdraw", id).set("reason", reason);
}

}  // namespace

TEST_CASE("reassign moves an assigned item to a new lead: a new round, due counted again from it",
          "[rules][reassign]") {
  Office office;
  Walk w = submitted(office, "2026-000110", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj", "jyj"}), "2026-03-02").then(by("zjj", "sign", id), "2026-03-03");
  w.then(by("jtj", "sign", id), "2026-03-03").then(by("jtj", "opinion", id).set("text", "同意"), "2026-03-04");
  w.then(extend(id, "zjj", "2026-04-30"), "2026-03-05");
  REQUIRE(w.item.due == "2026-03-23");

  w.then(reassign(id, "gaj"), "2026-03-10");
  CHECK(w.item.stage == Stage::kAssigned);
  CHECK(w.item.department == "gaj");
  CHECK(w.item.co_departments == std::vector<std::string>{"jtj", "jyj"});  // kept
  // 03-11..03-13 (1-3), 03-16..03-20 (4-8), 03-23..03-27 (9-13), 03-30, 03-31 (14, 15).
  CHECK(w.item.due == "2026-03-31");
  CHECK(w.item.round_due == "2026-03-31");
  CHECK(w.item.due_basis.rule == "station: 15 working days after reassignment");
  CHECK(w.item.due_basis.from == "2026-03-10");
  CHECK(w.item.assigned_on == "2026-03-10");
  CHECK(w.item.assigned_at == noon_of("2026-03-10"));
  CHECK(w.item.signed_at.empty());  // the old lead's sign does not carry over
  CHECK(w.item.co_signed_at.empty());
  REQUIRE(w.item.opinions.size() == 1);  // the co-departments' opinions do
  CHECK(w.item.opinions[0].department == "jtj");
  REQUIRE(w.item.extensions.size() == 1);
  CHECK(w.item.extensions[0].state == "lapsed");  // it was the old lead's request
  const Event& e = w.last();
  CHECK(e.action == "reassign");
  CHECK(e.department == "gaj");
  CHECK(e.payload.value("previous_department", "") == "zjj");
  CHECK(e.payload.value("reason", "") == "职责调整");
  CHECK(e.payload.value("due", "") == "2026-03-31");
  CHECK(e.payload.value("assigned_on", "") == "2026-03-10");

  // The new lead works it as its own; the old one no longer may.
  CHECK(w.refuses(by("zjj", "sign", id), "2026-03-11").code == errc::kForbidden);
  w.then(by("gaj", "sign", id), "2026-03-11");
  CHECK(w.refuses(reply(id, "gaj"), "2026-03-12").code == errc::kRefused);  // jyj's opinion first
  w.then(command("waive", id).set("department", "jyj").set("reason", "不涉及"), "2026-03-12");
  w.then(reply(id, "gaj"), "2026-03-12");
  CHECK(w.item.stage == Stage::kHandled);
}

TEST_CASE("reassign: the co-departments as given, a co-department made lead, --keep-due, --due",
          "[rules][reassign]") {
  Office office;
  Walk w = submitted(office, "2026-000111", "station", "2026-03-02");
  const std::string id = w.item.id;
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02");
  SECTION("a co-department becomes the lead: it is no longer a co-department") {
    w.then(reassign(id, "jtj"), "2026-03-03");
    CHECK(w.item.co_departments.empty());
    CHECK_FALSE(w.last().payload.contains("co"));
  }
  SECTION("--co replaces them") {
    w.then(reassign(id, "gaj").set("co", std::vector<std::string>{"jyj", "zjj"}), "2026-03-03");
    CHECK(w.item.co_departments == std::vector<std::string>{"jyj", "zjj"});
    CHECK(w.last().payload.at("co") == Json{"jyj", "zjj"});
  }
  SECTION("--keep-due: the date, its basis and the timer's marks stand") {
    w.then(mark("timer.overdue", id, "2026-03-23"), "2026-03-24");
    w.then(reassign(id, "gaj").set("keep-due", true), "2026-03-25");
    CHECK(w.item.due == "2026-03-23");
    CHECK(w.item.due_basis.rule == "station: 15 working days after assignment");
    CHECK(w.item.overdue);
    CHECK(w.item.assigned_on == "2026-03-25");
    CHECK_FALSE(w.last().payload.contains("due"));
  }
  SECTION("--due sets the date, and says so") {
    w.then(reassign(id, "gaj").set("due", "2026-04-30"), "2026-03-03");
    CHECK(w.item.due == "2026-04-30");
    CHECK(w.item.due_basis.rule == "set at reassignment");
    CHECK(w.item.due_basis.from == "2026-03-03");
  }
}

TEST_CASE("reassign of kinds whose date is set by hand, and of an item back for rework",
          "[rules][reassign]") {
  Office office;
  SECTION("an audit finding: a new date or the present one, nothing counted") {
    Walk w = submitted(office, "2026-000112", "audit", "2026-03-02");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj").set("due", "2026-06-30"), "2026-03-02");
    Error e = w.refuses(reassign(id, "gaj"), "2026-03-03");
    CHECK(e.code == errc::kInvalid);
    CHECK_THAT(e.message, Catch::Contains("keep-due"));
    w.then(reassign(id, "gaj").set("keep-due", true), "2026-03-03");
    CHECK(w.item.due == "2026-06-30");
  }
  SECTION("a project: due at its last milestone still") {
    Walk w = submitted(office, "2026-000113", "project", "2026-03-02");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj").set("milestone", milestones({{"2026-09-30", "完工"}})), "2026-03-02");
    w.then(reassign(id, "gaj"), "2026-03-03");
    CHECK(w.item.due == "2026-09-30");
    CHECK(w.item.due_basis.from == "2026-03-03");
  }
  SECTION("back for rework: the new lead answers afresh, the evaluation was the old lead's") {
    Walk w = submitted(office, "2026-000114", "suggestion", "2026-01-04");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj"), "2026-01-05").then(reply(id, "zjj"), "2026-02-02");
    w.then(rating(id, "unsatisfied", "未解决"), "2026-02-03");
    REQUIRE(w.item.stage == Stage::kAssigned);
    w.then(reassign(id, "jtj"), "2026-02-04");
    CHECK(w.item.department == "jtj");
    CHECK(w.item.rework_count == 1);
    CHECK(w.item.evaluation.result.empty());
    CHECK(w.item.replied_at.empty());
    CHECK(w.item.due_basis.rule == "suggestion: 3 months after reassignment");
  }
}

TEST_CASE("a reassignment that cannot be made is refused and changes nothing", "[rules][reassign]") {
  Office office;
  Walk w = submitted(office, "2026-000115", "station", "2026-03-02");
  const std::string id = w.item.id;
  CHECK(w.refuses(reassign(id, "gaj"), "2026-03-02").code == errc::kRefused);  // not assigned yet
  w.then(assign(id, "zjj", {"jtj"}), "2026-03-02");
  CHECK(w.refuses(reassign(id, "nosuch"), "2026-03-03").code == errc::kInvalid);
  Error same = w.refuses(reassign(id, "zjj"), "2026-03-03");
  CHECK(same.code == errc::kInvalid);
  CHECK_THAT(same.message, Catch::Contains("already the lead"));
  CHECK(w.refuses(reassign(id, "gaj").set("co", std::vector<std::string>{"gaj"}), "2026-03-03").code ==
        errc::kInvalid);
  CHECK(w.refuses(reassign(id, "gaj").set("co", std::vector<std::string>{"nosuch"}), "2026-03-03").code ==
        errc::kInvalid);
  CHECK(w.refuses(reassign(id, "gaj").set("due", "2026-03-01"), "2026-03-03").code == errc::kInvalid);
  CHECK(w.refuses(reassign(id, "gaj").set("due", "2026-04-30").set("keep-due", true), "2026-03-03")
            .code == errc::kInvalid);
  CHECK_FALSE(through_the_wire(reassign(id, "gaj").set("due", "2026-04-30").set("keep-due", true)));
}

TEST_CASE("withdraw ends an item not closed in stage withdrawn, and nothing moves it after",
          "[rules][withdraw]") {
  Office office;
  SECTION("submitted: a duplicate of another item") {
    Walk w = submitted(office, "2026-000120", "station", "2026-03-02");
    w.then(withdraw(w.item.id).set("duplicate-of", "2026-000007"), "2026-03-03");
    CHECK(w.item.stage == Stage::kWithdrawn);
    CHECK(w.item.withdrawal.reason == "重复交办");
    CHECK(w.item.withdrawal.duplicate_of == "2026-000007");
    CHECK(w.item.withdrawal.at == noon_of("2026-03-03"));
    CHECK(w.last().action == "withdraw");
    CHECK(w.last().stage == Stage::kWithdrawn);
    CHECK(w.last().payload.value("duplicate-of", "") == "2026-000007");
  }
  SECTION("assigned, late and escalated, a request for more time pending") {
    Walk w = submitted(office, "2026-000121", "legislative", "2026-03-02");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj").set("due", "2026-03-20"), "2026-03-02");
    w.then(extend(id, "zjj", "2026-04-30"), "2026-03-19");
    w.then(mark("timer.overdue", id, "2026-03-20"), "2026-03-23");
    w.then(mark("timer.escalate", id, "2026-03-20"), "2026-03-30");
    w.then(withdraw(id, "群众撤单"), "2026-03-31");
    CHECK_FALSE(w.item.overdue);
    CHECK_FALSE(w.item.escalated);
    CHECK(w.item.extensions[0].state == "lapsed");
    CHECK(w.last().department == "zjj");
  }
  SECTION("handled and verified items too; closed and withdrawn ones not") {
    Walk w = submitted(office, "2026-000122", "project", "2026-03-02");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj").set("milestone", milestones({{"2026-09-30", "完工"}})), "2026-03-02");
    w.then(reply(id, "zjj", "planned", "2026-09-30"), "2026-03-03");
    Walk verified = w;
    w.then(withdraw(id), "2026-03-04");
    CHECK(w.item.stage == Stage::kWithdrawn);
    for (const Command& c : {withdraw(id), command("reopen", id).set("reason", "x"), command("urge", id),
                             by("zjj", "promise-kept", id), by("zjj", "milestone", id).set("index", uint64_t{1})}) {
      INFO(c.verb);
      Error e = w.refuses(c, "2026-03-05");
      CHECK(e.code == errc::kRefused);
      CHECK_THAT(e.message, Catch::Contains("it is withdrawn, which allows nothing"));
    }
    verified.then(rating(id, "satisfied"), "2026-03-04").then(withdraw(id), "2026-03-05");
    CHECK(verified.item.stage == Stage::kWithdrawn);
  }
  SECTION("a closed item is refused") {
    Walk w = submitted(office, "2026-000123", "station", "2026-03-02");
    const std::string id = w.item.id;
    w.then(assign(id, "zjj"), "2026-03-02").then(reply(id, "zjj"), "2026-03-03");
    w.then(rating(id, "satisfied"), "2026-03-04").then(command("close", id), "2026-03-05");
    Error e = w.refuses(withdraw(id), "2026-03-06");
    CHECK(e.code == errc::kRefused);
    CHECK_THAT(e.message, Catch::Contains("it is closed"));
  }
}

TEST_CASE("an audit finding is never withdrawn, nor an item as a duplicate of itself",
          "[rules][withdraw]") {
  Office office;
  Walk audit = submitted(office, "2026-000124", "audit", "2026-03-02");
  Error e = audit.refuses(withdraw(audit.item.id), "2026-03-02");
  CHECK(e.code == errc::kRefused);
  CHECK_THAT(e.message, Catch::Contains("audit finding"));
  Walk w = submitted(office, "2026-000125", "station", "2026-03-02");
  CHECK(w.refuses(withdraw(w.item.id).set("duplicate-of", w.item.id), "2026-03-02").code ==
        errc::kInvalid);
  CHECK_FALSE(through_the_wire(command("withdraw", w.item.id)));  // a reason is required
}
