// The fold (workflow/fold.h): an item is what its trail's events make of it. Every walk
// here drives decide() step by step, as the workers do, and after every step checks
// that the fold of the events so far — as stored: encoded and read back — is the item
// decide() produced, field for field, and so is apply() of the last event to the item
// before it. Then random legal walks, every field of an item altered, version 1 trails
// (issue 2's) and the events a fold refuses.
#include "fixtures.h"
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "workflow/command.h"
#include "workflow/decide.h"
#include "workflow/event.h"
#include "workflow/fold.h"
#include "workflow/item.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

Date day(const std::string& text) { return *Date::parse(text); }
std::string ten_am(const std::string& date) { return date + "T02:00:00.000Z"; }  // in Beijing

// The office-local day of an ISO time in Beijing (UTC+8, no summer time): no TZ needed.
std::string beijing_day(const std::string& at) {
  Date utc = Date::parse(at.substr(0, 10)).value_or(Date());
  return (std::stoi(at.substr(11, 2)) >= 16 ? utc.plus_days(1) : utc).str();
}
const FoldContext kBeijing{beijing_day};

// As stored and read back: the compact form leaves out every default.
Event stored(const Event& e) { return *decode_event(encode(e)); }
Item stored(const Item& item) { return *decode_item(encode(item)); }

std::string what_differs(const Result<Item>& folded, const Item& item) {
  if (!folded) return "the fold failed: " + folded.error().message;
  auto d = first_difference(*folded, item);
  return d ? describe(*d) : "";
}

// One item driven through decide(), its trail kept; every step checked against the fold.
struct Walk {
  Config config = office_config();
  Calendar calendar = shipped();
  FoldContext context = kBeijing;
  Item item;
  std::vector<Event> trail;

  Setting on(const std::string& today, const std::string& occurred_on = "") const {
    return Setting{config, calendar, ten_am(today), day(today), occurred_on};
  }

  void check_fold() const {
    INFO("after " << trail.back().action << " (seq " << trail.back().seq << ")");
    std::vector<Event> as_stored;
    for (const Event& e : trail) as_stored.push_back(stored(e));
    CHECK(what_differs(fold(as_stored, context), item) == "");
    if (trail.size() < 2) return;
    auto before = fold({as_stored.begin(), as_stored.end() - 1}, context);
    REQUIRE(before);
    CHECK(what_differs(apply(stored(*before), as_stored.back(), context), item) == "");
  }

  Walk& submit(const std::string& kind, const std::string& today, const std::string& occurred = "") {
    Command c{.verb = "submit", .actor = "李明"};
    c.set("title", "路灯不亮").set("body", "城关镇东街路灯已坏两周").set("kind", kind);
    c.set("category", "transport").set("source", "cgz").set("ref", "2026-015");
    auto step = create_item(c, "2026-000001", on(today, occurred));
    REQUIRE(step);
    item = step->item;
    trail = {step->event};
    check_fold();
    return *this;
  }

  // `command` on `today`, which must be accepted.
  Walk& then(Command command, const std::string& today, const std::string& occurred = "") {
    auto step = attempt(std::move(command), today, occurred);
    REQUIRE(step);
    return *this;
  }

  // `command` on `today`; if accepted, kept and checked.
  Result<Step> attempt(Command command, const std::string& today, const std::string& occurred = "") {
    command.item_id = item.id;
    auto step = decide(item, command, on(today, occurred));
    INFO(command.verb << " on " << today << ": " << (step ? "accepted" : step.error().message));
    if (step) {
      item = step->item;
      trail.push_back(step->event);
      check_fold();
    }
    return step;
  }
};

Command cmd(const std::string& verb, const std::string& actor = "县人大办") {
  return Command{.verb = verb, .actor = actor};
}
Command by(const std::string& department, const std::string& verb) {
  return cmd(verb, "经办人").set("department", department);
}
Command reply(const std::string& lead, const std::string& outcome = "solved",
              const std::string& promise = "") {
  Command c = by(lead, "handle").set("reply", "已修复").set("outcome", outcome);
  if (!promise.empty()) c.set("promise", promise);
  return c;
}
Command mark(const std::string& verb, const std::string& due) {
  return cmd(verb, "timer").set("due", due);
}
Json milestones(std::vector<std::pair<std::string, std::string>> list) {
  Json out = Json::array();
  for (const auto& [date, text] : list) out.push_back({{"date", date}, {"text", text}});
  return out;
}

// A project walked through most of what an item can hold: co-departments signed and
// heard, an extension approved, a milestone reached, a promise kept, an evaluation.
Walk rich_walk() {
  Walk w;
  w.submit("project", "2026-03-02");
  w.then(cmd("assign").set("department", "zjj").set("co", Json{"jtj", "jyj"}).set(
             "milestone", milestones({{"2026-04-30", "完成设计"}, {"2026-09-30", "主体完工"}})),
         "2026-03-02");
  w.then(by("zjj", "sign"), "2026-03-03").then(by("jtj", "sign"), "2026-03-04");
  w.then(by("jtj", "opinion").set("text", "同意"), "2026-03-05");
  w.then(cmd("waive").set("department", "jyj").set("reason", "不涉及"), "2026-03-06");
  w.then(by("zjj", "extend").set("until", "2026-10-30").set("reason", "工期"), "2026-03-09");
  w.then(cmd("decide-extension").set("approve", true).set("comment", "同意延期"), "2026-03-10");
  w.then(cmd("urge"), "2026-03-11");
  w.then(by("zjj", "milestone").set("index", uint64_t{1}).set("note", "设计已批复"), "2026-04-29");
  w.then(reply("zjj", "in-progress", "2026-09-30"), "2026-05-06");
  w.then(cmd("verify").set("attitude", "satisfied").set("result", "basically-satisfied").set(
             "comment", "基本满意"),
         "2026-05-07");
  w.then(cmd("close"), "2026-05-08").then(by("zjj", "promise-kept").set("note", "已完工"), "2026-09-29");
  return w;
}

}  // namespace

TEST_CASE("the fold of every step of an item's life is the item decide() made", "[fold]") {
  Walk w;
  SECTION("sign, opinion, waive, extend, approve, handle with a promise, kept, verify, close") {
    rich_walk();
  }
  SECTION("an extension refused, another asked, lapsed by a reply that signs implicitly") {
    w.submit("suggestion", "2026-01-04").then(cmd("assign").set("department", "zjj"), "2026-01-05");
    w.then(by("zjj", "extend").set("until", "2026-05-07").set("reason", "a"), "2026-03-02");
    w.then(cmd("decide-extension").set("refuse", true).set("comment", "理由不充分"), "2026-03-03");
    w.then(by("zjj", "extend").set("until", "2026-05-08").set("reason", "b"), "2026-03-04");
    w.then(reply("zjj"), "2026-03-05");
    CHECK(w.item.extensions.back().state == "lapsed");
    CHECK(w.trail.back().payload.value("implicit_sign", false));
  }
  SECTION("unsatisfied: rework; satisfied, closed, reopened; urged") {
    w.submit("station", "2026-02-11").then(cmd("assign").set("department", "zjj"), "2026-02-12");
    w.then(cmd("urge").set("note", "请加快"), "2026-02-13").then(reply("zjj"), "2026-03-04");
    w.then(cmd("verify").set("rating", "unsatisfied").set("comment", "路灯仍未修复"), "2026-03-06");
    CHECK(w.item.rework_count == 1);
    w.then(cmd("urge"), "2026-03-09").then(reply("zjj"), "2026-03-20");
    w.then(cmd("verify").set("rating", "satisfied"), "2026-03-23").then(cmd("close"), "2026-03-24");
    w.then(cmd("reopen").set("reason", "问题复发"), "2026-04-01");
    CHECK(w.item.reopen_count == 1);
    CHECK(w.item.assigned_on == "2026-04-01");
  }
  SECTION("returned twice, then assigned with a supervisor's ruling") {
    w.submit("station", "2026-03-02");
    w.then(cmd("assign").set("department", "zjj").set("co", Json{"jtj"}), "2026-03-02");
    w.then(by("zjj", "return").set("reason", "不属本单位"), "2026-03-03");
    w.then(cmd("assign").set("department", "jtj"), "2026-03-04");
    w.then(by("jtj", "return").set("reason", "不属本单位"), "2026-03-05");
    w.then(cmd("assign").set("department", "gaj").set("ruling", "由县公安局牵头"), "2026-03-06");
    CHECK(w.item.returns == 2);
  }
  SECTION("a project's milestones: one before the reply, one after the close") {
    w.submit("project", "2026-03-02");
    w.then(cmd("assign").set("department", "zjj").set(
               "milestone", milestones({{"2026-04-30", "完成设计"}, {"2026-09-30", "主体完工"}})),
           "2026-03-02");
    w.then(by("zjj", "milestone").set("index", uint64_t{1}), "2026-04-29");
    w.then(reply("zjj", "planned", "2026-09-30"), "2026-05-06");
    w.then(cmd("verify").set("rating", "satisfied"), "2026-05-07").then(cmd("close"), "2026-05-08");
    w.then(by("zjj", "milestone").set("index", uint64_t{2}).set("note", "完工"), "2026-09-29");
    w.then(cmd("urge"), "2026-09-29");
  }
  SECTION("the timer: remind, overdue, escalate; a reply clears overdue, the close escalated") {
    w.submit("audit", "2026-03-02");
    w.then(cmd("assign").set("department", "zjj").set("due", "2026-04-03"), "2026-03-02");
    w.then(mark("timer.remind", "2026-04-03"), "2026-03-31");
    w.then(mark("timer.overdue", "2026-04-03"), "2026-04-04");
    w.then(mark("timer.escalate", "2026-04-03"), "2026-04-14");
    w.then(reply("zjj"), "2026-04-15");
    CHECK_FALSE(w.item.overdue);
    w.then(cmd("verify").set("rating", "satisfied"), "2026-04-16").then(cmd("close"), "2026-04-17");
    CHECK_FALSE(w.item.escalated);
  }
  SECTION("an approved extension clears the marks of the old date") {
    w.submit("audit", "2026-03-02");
    w.then(cmd("assign").set("department", "zjj").set("due", "2026-04-03"), "2026-03-02");
    w.then(mark("timer.remind", "2026-04-03"), "2026-03-31");
    w.then(by("zjj", "extend").set("until", "2026-04-30").set("reason", "x"), "2026-04-01");
    w.then(cmd("decide-extension").set("approve", true), "2026-04-01");
    w.then(mark("timer.remind", "2026-04-30"), "2026-04-27");
  }
  SECTION("reassigned twice: co-departments kept, then given; a pending extension lapses; kept due") {
    w.submit("station", "2026-03-02").then(cmd("assign").set("department", "zjj").set("co", Json{"jtj"}), "2026-03-02");
    w.then(by("zjj", "sign"), "2026-03-03").then(by("jtj", "opinion").set("text", "同意"), "2026-03-04");
    w.then(by("zjj", "extend").set("until", "2026-04-30").set("reason", "x"), "2026-03-05");
    w.then(cmd("reassign").set("department", "gaj").set("reason", "职责调整"), "2026-03-10");
    CHECK(w.item.extensions[0].state == "lapsed");
    CHECK(w.item.opinions.size() == 1);
    w.then(mark("timer.overdue", w.item.due), "2026-04-01");
    w.then(cmd("reassign").set("department", "jtj").set("co", Json{"jyj"}).set("reason", "再改派").set(
               "keep-due", true),
           "2026-04-02");
    CHECK(w.item.overdue);
    w.then(by("jtj", "sign"), "2026-04-03");
  }
  SECTION("back for rework, reassigned with a new date") {
    w.submit("audit", "2026-03-02").then(cmd("assign").set("department", "zjj").set("due", "2026-04-30"), "2026-03-02");
    w.then(reply("zjj"), "2026-03-03").then(cmd("verify").set("rating", "unsatisfied").set("comment", "未改"), "2026-03-04");
    w.then(cmd("reassign").set("department", "gaj").set("reason", "改派").set("due", "2026-05-29"), "2026-03-05");
    CHECK(w.item.due_basis.rule == "set at reassignment");
  }
  SECTION("withdrawn: submitted as a duplicate; assigned and escalated; after the reply") {
    w.submit("station", "2026-03-02");
    Walk late = w, replied = w;
    w.then(cmd("withdraw").set("reason", "重复").set("duplicate-of", "2026-000009"), "2026-03-03");
    CHECK(w.item.withdrawal.duplicate_of == "2026-000009");
    late.then(cmd("assign").set("department", "zjj").set("due", "2026-03-10"), "2026-03-02");
    late.then(by("zjj", "extend").set("until", "2026-04-30").set("reason", "x"), "2026-03-09");
    late.then(mark("timer.overdue", "2026-03-10"), "2026-03-11").then(mark("timer.escalate", "2026-03-10"), "2026-03-18");
    late.then(cmd("withdraw").set("reason", "群众撤单"), "2026-03-19");
    CHECK_FALSE(late.item.escalated);
    replied.then(cmd("assign").set("department", "zjj"), "2026-03-02").then(reply("zjj", "planned", "2026-06-30"), "2026-03-03");
    replied.then(cmd("verify").set("rating", "satisfied"), "2026-03-04").then(cmd("withdraw").set("reason", "撤销"), "2026-03-05");
  }
  SECTION("history imported with its original days (occurred_on), then carried on live") {
    w.submit("station", "2026-02-02", "2026-02-02");
    w.then(cmd("assign").set("department", "zjj").set("co", Json{"jtj"}), "2026-02-03", "2026-02-03");
    CHECK(w.item.submitted_on == "2026-02-02");
    CHECK(w.trail.back().payload.value("occurred_on", "") == "2026-02-03");
    w.then(by("jtj", "opinion").set("text", "同意"), "2026-03-10");
    w.then(reply("zjj", "not-feasible"), "2026-03-11");
  }
}

TEST_CASE("a redue moves the round's date, and keeps the timer's marks when the date stands",
          "[fold][redue]") {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/closeloop-fold-XXXXXX";
  REQUIRE(mkdtemp(pattern));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{pattern};
  for (const auto& entry : fs::directory_iterator(CLOSELOOP_SOURCE_DIR "/config/calendar"))
    fs::copy_file(entry.path(), cleanup.dir / entry.path().filename());
  auto with_2027 = [&](const std::string& festival) {
    std::ofstream(cleanup.dir / "cn-2027.csv") << "date,kind,festival\n2027-01-01,holiday," << festival << "\n";
    return load_calendar(cleanup.dir.string());
  };

  Walk w;
  w.calendar = load_calendar(cleanup.dir.string());
  w.submit("station", "2026-12-18").then(cmd("assign").set("department", "zjj"), "2026-12-21");
  REQUIRE(w.item.due == "2027-01-11");  // provisional: no 2027 file
  w.calendar = with_2027("元旦");
  w.then(cmd("timer.redue", "timer"), "2026-12-22");
  CHECK(w.item.round_due == "2027-01-12");
  w.then(mark("timer.overdue", "2027-01-12"), "2027-01-13");
  w.calendar = with_2027("新年");  // another file, the same days: the basis moves, the date stands
  w.then(cmd("timer.redue", "timer"), "2027-01-14");
  CHECK(w.item.overdue);
  CHECK(w.trail.back().payload.value("was", "") == "2027-01-12");
}

// Before issue 16 a submit did not record its day: the fold takes it from the event's
// time in the office's time zone. Since then events say it, and need no time zone.
TEST_CASE("events that record their days fold without the office's time zone, and older ones need it",
          "[fold]") {
  Walk w;
  w.context = {};  // no time zone
  w.submit("station", "2026-03-02").then(cmd("assign").set("department", "zjj"), "2026-03-02");
  w.then(cmd("urge"), "2026-03-03");

  std::vector<Event> older = w.trail;  // as an earlier version wrote them
  older[0].payload.erase("submitted_on");
  older[1].payload.erase("assigned_on");
  for (size_t i = 0; i < older.size(); ++i) {
    older[i].prev_hash = i == 0 ? kGenesisHash : older[i - 1].hash;
    older[i].hash = event_hash(older[i]);
  }
  Item item = w.item;
  item.head = older.back().hash;
  auto without_zone = fold(older, {});
  REQUIRE_FALSE(without_zone);
  CHECK_THAT(without_zone.error().message, Catch::Contains("time zone"));
  CHECK(what_differs(fold(older, kBeijing), item) == "");  // assigned_on from its due_basis

  // A submit at 17:00 UTC counts on the next day in Beijing.
  older[0].at = "2026-03-01T17:00:00.000Z";
  auto next_day = fold(older, kBeijing);
  REQUIRE(next_day);
  CHECK(next_day->submitted_on == "2026-03-02");
}

TEST_CASE("random legal walks: after every step the fold is the item", "[fold][property]") {
  const std::vector<std::string> departments{"zjj", "jtj", "jyj", "gaj"};
  const std::vector<std::string> kinds{"suggestion", "station", "audit", "project", "legislative"};
  const std::vector<std::string> ratings{"satisfied", "basically-satisfied", "unsatisfied"};
  const std::vector<std::string> outcomes{"solved", "in-progress", "planned", "not-feasible"};
  size_t steps = 0, refused = 0;
  std::map<std::string, size_t> taken;
  for (uint32_t seed = 1; seed <= 150; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](const auto& list) { return list[rng() % list.size()]; };
    auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
    Date today = day("2026-01-05").plus_days(static_cast<int>(rng() % 300));
    auto later = [&](int most) { return today.plus_days(1 + static_cast<int>(rng() % most)).str(); };

    Walk w;
    bool imported = chance(20);
    w.submit(pick(kinds), today.str(), imported ? today.str() : "");
    // Commands that might apply at the item's stage; decide() refuses those that do not.
    auto candidate = [&]() -> Command {
      const Item& it = w.item;
      std::string lead = it.department.empty() ? pick(departments) : it.department;
      std::string co = it.co_departments.empty() ? pick(departments) : pick(it.co_departments);
      auto index = [&] { return uint64_t{1 + rng() % std::max<size_t>(it.milestones.size(), 1)}; };
      switch (it.stage) {
        case Stage::kSubmitted: {
          Command c = cmd("assign").set("department", pick(departments));
          std::string other = pick(departments);
          if (other != c.text("department") && chance(50)) c.set("co", Json{other});
          if (it.kind == "audit" || it.kind == "legislative" || chance(15)) c.set("due", later(60));
          if (it.kind == "project")
            c.set("milestone", milestones({{later(30), "设计"}, {today.plus_days(40).str(), "完工"}}));
          if (it.returns >= 2) c.set("ruling", "主任会议决定");
          return c;
        }
        case Stage::kAssigned:
          switch (rng() % 15) {
            case 0: return by(chance(50) ? lead : co, "sign");
            case 1: return by(co, "opinion").set("text", "同意");
            case 2: return cmd("waive").set("department", co).set("reason", "不涉及");
            case 3: {
              Date due = Date::parse(it.due).value_or(today);
              return by(lead, "extend").set("until", due.plus_days(1 + rng() % 60).str()).set("reason", "需协调");
            }
            case 4: return cmd("decide-extension").set(chance(60) ? "approve" : "refuse", true);
            case 5: return by(lead, "return").set("reason", "不属本单位").set("ruling", "同意退回");
            case 6: return cmd("urge");
            case 7: return by(lead, "milestone").set("index", index());
            case 8: return mark("timer.remind", it.due);
            case 9: return mark("timer.overdue", it.due);
            case 10: return mark("timer.escalate", it.due);
            case 11: return cmd("timer.redue", "timer");
            case 12: {  // to another lead; the co-departments kept or given, the date counted or kept
              Command c = cmd("reassign").set("department", pick(departments)).set("reason", "改派");
              std::string other = pick(departments);
              if (other != c.text("department") && chance(40)) c.set("co", Json{other});
              if (chance(30)) c.set("keep-due", true);
              else if (it.kind == "audit" || it.kind == "legislative" || chance(15)) c.set("due", later(60));
              return c;
            }
            default: {
              for (const std::string& d : it.co_departments)  // the opinions a reply waits for
                if (!it.opinion_of(d)) return by(d, "opinion").set("text", "同意");
              std::string outcome = pick(outcomes);
              bool open = outcome == "in-progress" || outcome == "planned";
              return reply(lead, outcome, open ? later(60) : "");
            }
          }
        case Stage::kHandled:
          if (chance(25)) return chance(50) ? by(lead, "promise-kept").set("note", "已兑现")
                                            : by(lead, "milestone").set("index", index());
          {
            std::string r = pick(ratings);
            Command c = chance(50) ? cmd("verify").set("rating", r)
                                   : cmd("verify").set("attitude", pick(ratings)).set("result", r);
            if (r == "unsatisfied" || c.text("attitude") == "unsatisfied") c.set("comment", "未解决");
            return c;
          }
        case Stage::kVerified:
          if (chance(25)) return by(lead, "promise-kept");
          return cmd("close").set("note", "办结");
        default:
          switch (rng() % 4) {
            case 0: return cmd("reopen").set("reason", "复查");
            case 1: return cmd("urge");
            case 2: return by(lead, "promise-kept");
            default: return by(lead, "milestone").set("index", index());
          }
      }
    };
    for (int step = 0; step < 60; ++step) {
      if (chance(40)) today = today.plus_days(1 + static_cast<int>(rng() % 10));
      if (rng() % 150 == 0) {  // the end of some walks, at any stage but closed
        Command end = cmd("withdraw").set("reason", "重复");
        if (chance(50)) end.set("duplicate-of", "2026-000002");
        if (w.attempt(end, today.str())) ++steps, ++taken["withdraw"];
        else ++refused;
        continue;
      }
      if (w.item.stage == Stage::kAssigned && !w.item.due.empty() && chance(15)) {
        Date near = day(w.item.due).plus_days(static_cast<int>(rng() % 14) - 3);  // the timer's days
        if (near > today) today = near;
      }
      Command c = candidate();
      if (c.verb.starts_with("timer.") && c.verb != "timer.redue" && w.item.due.empty()) continue;
      if (w.attempt(c, today.str())) {
        ++steps;
        ++taken[w.trail.back().action];
      } else {
        ++refused;
      }
    }
  }
  for (const Verb& v : verbs())  // every action was taken, most of them often
    if (v.kind == VerbKind::kCommand && !v.creates() && v.name != "timer.redue") {
      INFO(v.trail_action());
      CHECK(taken[std::string(v.trail_action())] >= 5);
    }
  INFO(steps << " steps taken, " << refused << " refused");
  CHECK(steps > 3000);
}

TEST_CASE("every field of an item altered, or one added, is named by first_difference", "[fold]") {
  Walk w = rich_walk();
  auto folded = fold(w.trail, kBeijing);
  REQUIRE(folded);
  REQUIRE_FALSE(first_difference(*folded, stored(w.item)));
  Json whole = wire::record_json(w.item);
  // A changed copy of a value: text gains a character, a flag flips, a number grows, a
  // list or map has its first element changed (a map without one gains one).
  std::function<Json(const Json&)> altered = [&](const Json& v) -> Json {
    if (v.is_string()) return v.get<std::string>() + "改";
    if (v.is_boolean()) return !v.get<bool>();
    if (v.is_number_unsigned()) return v.get<uint64_t>() + 1;
    Json out = v;
    if (v.is_array() && !v.empty()) out[0] = altered(v[0]);
    if (v.is_object() && !v.empty()) out[v.begin().key()] = altered(v.begin().value());
    if (v.is_object() && v.empty()) out["gaj"] = "2026-03-05T02:00:00.000Z";
    return out;
  };
  size_t named = 0;
  for (const auto& [key, value] : whole.items()) {
    if (key == "v") continue;  // read as this version whatever it says
    Json changed = whole;
    changed[key] = key == "stage" ? Json("verified") : altered(value);
    auto item = decode_item(wire::encode_json(changed));
    INFO(key << " = " << wire::dump(changed[key]) << (item ? "" : ": " + item.error().message));
    REQUIRE(item);
    auto d = first_difference(*folded, *item);
    REQUIRE(d);
    CHECK(d->field.starts_with(key));
    CHECK(d->folded != d->stored);
    ++named;
  }
  CHECK(named == whole.size() - 1);
  Json newer = whole;
  newer["reviewer"] = "王丽";  // a field this version does not know
  auto with_extra = decode_item(wire::encode_json(newer));
  REQUIRE(with_extra);
  auto extra = first_difference(*folded, *with_extra);
  REQUIRE(extra);
  CHECK(extra->field == "reviewer");
  CHECK(extra->stored == "\"王丽\"");
  CHECK(extra->folded == "null");
}

TEST_CASE("first_difference names the path and both values, readable", "[fold]") {
  Walk w = rich_walk();
  Item folded = *fold(w.trail, kBeijing);
  Item item = w.item;
  item.title = "路灯已修好";
  auto d = first_difference(folded, item);
  REQUIRE(d);
  CHECK(d->field == "title");
  CHECK(describe(*d) == "title: the item says \"路灯已修好\", its trail makes it \"路灯不亮\"");

  item = w.item;
  item.due_basis.rule = "改过";
  CHECK(first_difference(folded, item)->field == "due_basis.rule");
  item = w.item;
  item.opinions[1].reason = "改过";
  CHECK(first_difference(folded, item)->field == "opinions[1].reason");
  item = w.item;
  item.co_signed_at["gaj"] = "t";
  CHECK(first_difference(folded, item)->field == "co_signed_at.gaj");
  item = w.item;
  item.body = std::string(300, 'x');
  CHECK_THAT(describe(*first_difference(folded, item)), Catch::Contains("xxx…"));
  // The first in declared order: the title before the body.
  item.title = "改";
  CHECK(first_difference(folded, item)->field == "title");
}

namespace {

// Issue 2's records: an event of version 1 (payload values strings, empty ones left out)
// and its item's 16 fields, both as issue 2's decide() wrote them.
struct Issue2 {
  std::string id = "2025-000007", stage = "submitted", title, body, category, source, submitter;
  std::string department, co, due, created_at, updated_at, head = kGenesisHash, last_action;
  uint64_t rework_count = 0, seq = 0;
  std::vector<Event> trail;

  void record(const std::string& action, const std::string& to,
              std::map<std::string, std::string> payload, const std::string& at) {
    Event e;
    e.v = 1;
    e.item = id, e.seq = ++seq, e.stage = *parse_stage(to), e.action = action;
    e.actor = "人大办", e.department = department, e.at = at;
    for (auto& [key, value] : payload)
      if (!value.empty()) e.payload[key] = value;
    e.prev_hash = head;
    e.hash = event_hash(e);
    stage = to, head = e.hash, last_action = action, updated_at = at;
    trail.push_back(stored(e));
  }
  Item item() const {
    std::vector<std::string> codes;
    for (size_t start = 0; start < co.size();) {
      size_t comma = std::min(co.find(',', start), co.size());
      codes.push_back(co.substr(start, comma - start));
      start = comma + 1;
    }
    return *decode_item(wire::MapBuilder()
                            .add("id", id).add("stage", stage).add("title", title).add("body", body)
                            .add("category", category).add("source", source).add("submitter", submitter)
                            .add("department", department).add("co_departments", codes).add("due", due)
                            .add("rework_count", rework_count).add("created_at", created_at)
                            .add("updated_at", updated_at).add("seq", seq).add("head", head)
                            .add("last_action", last_action).finish());
  }
};

}  // namespace

TEST_CASE("version 1 trails (issue 2's) fold to the items issue 2 wrote, and go on under v2",
          "[fold][v1]") {
  Issue2 old;
  auto check = [&] {
    INFO("after " << old.last_action);
    CHECK(what_differs(fold(old.trail, {}), old.item()) == "");
  };
  old.title = "路灯不亮", old.body = "东街", old.category = "transport";
  old.created_at = "2025-06-02T02:00:00.000Z";
  old.record("submit", "submitted", {{"title", old.title}, {"body", old.body}, {"category", "transport"}},
             old.created_at);
  check();
  SECTION("assign, return, assign, handle, an unsatisfied rating, handle, satisfied, close") {
    old.department = "zjj", old.co = "jtj,jyj", old.due = "2025-07-01";
    old.record("assign", "assigned", {{"department", "zjj"}, {"co", old.co}, {"due", old.due}}, "t2");
    check();
    old.record("return", "submitted", {{"department", "zjj"}, {"reason", "不属本单位"}}, "t3");
    old.department = old.co = old.due = "";
    check();
    old.department = "jtj";
    old.record("assign", "assigned", {{"department", "jtj"}}, "t4");
    check();
    old.record("handle", "handled", {{"department", "jtj"}, {"reply", "已修"}, {"outcome", "solved"}}, "t5");
    check();
    old.rework_count = 1;
    old.record("verify", "assigned", {{"rating", "unsatisfied"}, {"comment", "未修好"}}, "t6");
    check();
    old.record("handle", "handled", {{"department", "jtj"}, {"reply", "已修"}, {"outcome", "solved"}}, "t7");
    old.record("verify", "verified", {{"rating", "satisfied"}}, "t8");
    old.record("close", "closed", {}, "t9");
    check();
  }
  SECTION("assigned under issue 2, carried on under today's rules") {
    old.department = "zjj", old.due = "2026-04-30";
    old.record("assign", "assigned", {{"department", "zjj"}, {"due", old.due}}, "2026-03-02T02:00:00.000Z");
    check();
    Walk w;
    w.item = old.item();
    w.trail = old.trail;
    w.then(by("zjj", "sign"), "2026-03-03").then(reply("zjj"), "2026-03-04");
    w.then(cmd("verify").set("rating", "satisfied"), "2026-03-05").then(cmd("close"), "2026-03-06");
    CHECK(w.trail.front().v == 1);
    CHECK(w.trail.back().v == 2);
  }
}

TEST_CASE("a fold refuses an event that cannot follow the item", "[fold]") {
  Walk w;
  w.submit("project", "2026-03-02");
  w.then(cmd("assign").set("department", "zjj").set("milestone", milestones({{"2026-04-30", "设计"}})),
         "2026-03-02");
  w.then(by("zjj", "extend").set("until", "2026-06-30").set("reason", "x"), "2026-03-03");
  w.then(cmd("decide-extension").set("approve", true), "2026-03-04");
  const std::vector<Event>& t = w.trail;
  auto refusal = [](const Result<Item>& r) { return r ? std::string("folded") : r.error().message; };

  CHECK_THAT(refusal(fold({t[1]}, kBeijing)), Catch::Contains("seq 0"));          // no submit
  CHECK_THAT(refusal(fold({t[0], t[2]}, kBeijing)), Catch::Contains("seq 1"));    // a gap
  Event second_submit = t[0];
  second_submit.seq = 3;
  CHECK_THAT(refusal(fold({t[0], t[1], second_submit}, kBeijing)), Catch::Contains("begins"));
  Event other = t[1];
  other.item = "2026-000002";
  CHECK_THAT(refusal(fold({t[0], other}, kBeijing)), Catch::Contains("2026-000002"));
  Event unknown = t[2];
  unknown.action = "archive";
  CHECK_THAT(refusal(fold({t[0], t[1], unknown}, kBeijing)), Catch::Contains("no such action"));
  Event decided = t[3];
  decided.seq = 3;  // with the request left out, there is nothing to decide
  CHECK_THAT(refusal(fold({t[0], t[1], decided}, kBeijing)), Catch::Contains("no extension request"));
  Event reached = t[2];
  reached.action = "milestone", reached.payload = {{"department", "zjj"}, {"index", 2}};
  CHECK_THAT(refusal(fold({t[0], t[1], reached}, kBeijing)), Catch::Contains("no milestone 2"));
}

// Since issue 17 a basis names its rule by a code. An older writer's item and events have
// none: its trail folds to its item as ever, and a newer item's code comes from its event.
TEST_CASE("a due basis without a code, as an older writer recorded it, folds to its item",
          "[fold]") {
  Walk w;
  w.submit("station", "2026-03-02").then(cmd("assign").set("department", "zjj"), "2026-03-02");
  REQUIRE(w.item.due_basis.code == "station");
  CHECK(what_differs(fold(w.trail, kBeijing), w.item) == "");

  std::vector<Event> older = w.trail;
  older[1].payload["due_basis"].erase("code");
  for (size_t i = 0; i < older.size(); ++i) {
    older[i].prev_hash = i == 0 ? kGenesisHash : older[i - 1].hash;
    older[i].hash = event_hash(older[i]);
  }
  Item item = w.item;
  item.due_basis.code.clear();
  item.head = older.back().hash;
  CHECK(what_differs(fold(older, kBeijing), item) == "");
  // A code the item has and its event lacks is a difference, named.
  Item coded = item;
  coded.due_basis.code = "station";
  auto folded = fold(older, kBeijing);
  REQUIRE(folded);
  CHECK(first_difference(*folded, coded)->field == "due_basis.code");
}
