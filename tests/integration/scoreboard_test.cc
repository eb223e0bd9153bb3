// The scoreboard, end to end: the numbers the ledger serves equal the numbers recomputed
// here from the trails alone (by code of this test's own, written from docs/
// supervision.md, not the service's), and an answer as of a past day does not change
// when later events come.
#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <set>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

// The office-local (UTC+8, Asia/Shanghai) day of an event: its occurred_on, else `at`.
std::string day_of(const Json& e) {
  if (e["payload"].contains("occurred_on")) return e["payload"]["occurred_on"];
  std::string at = e["at"];
  std::tm tm{};
  strptime(at.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::time_t t = timegm(&tm) + 8 * 3600;
  gmtime_r(&t, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

// Working days in (from, to] for March-April 2026 (no holidays then but 4-6 April).
int working_days_after(const std::string& from, const std::string& to) {
  std::tm a{}, b{};
  strptime(from.c_str(), "%Y-%m-%d", &a);
  strptime(to.c_str(), "%Y-%m-%d", &b);
  int n = 0;
  for (std::time_t t = timegm(&a) + 86400; t <= timegm(&b); t += 86400) {
    std::tm d{};
    gmtime_r(&t, &d);
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%d", &d);
    bool qingming = std::string(day) >= "2026-04-04" && std::string(day) <= "2026-04-06";
    if (d.tm_wday != 0 && d.tm_wday != 6 && !qingming) ++n;
  }
  return n;
}

using Columns = std::map<std::string, std::set<std::string>>;  // column -> item ids

// docs/supervision.md, column by column, for one department and one item's trail.
void recount(const std::string& dept, const Json& trail, const std::string& from,
             const std::string& to, const std::string& as_of, Columns& out) {
  std::string id = trail[0]["item"], assigned;
  bool replied = false, promised = false, kept = false;
  std::string result, stage, lead, due;
  for (const Json& e : trail) {
    std::string day = day_of(e), action = e["action"];
    if (day > as_of) continue;
    stage = e["stage"];
    lead = stage == "submitted" ? "" : e["department"].get<std::string>();
    if (e["payload"].contains("due") && action != "handle") due = e["payload"]["due"];
    if (action == "return") due.clear();
    if (action == "assign" && e["department"] == dept && assigned.empty() && day >= from && day <= to) {
      assigned = day;
      out["received"].insert(id);
      continue;
    }
    if (assigned.empty() || e["department"] != dept) continue;
    bool sign_in_time = working_days_after(assigned, day) <= 2;
    if ((action == "sign" && e["payload"]["role"] == "lead") ||
        (action == "handle" && e["payload"].value("implicit_sign", false))) {
      if (sign_in_time) out["signed_on_time"].insert(id);
    }
    if (action == "handle") {
      if (!replied && day <= e["payload"]["due"].get<std::string>()) out["replied_on_time"].insert(id);
      replied = true;
      out["replied"].insert(id);
      promised = e["payload"].contains("promise");
      kept = false;
    }
    if (action == "return") out["returned"].insert(id);
    if (action == "verify") {
      result = e["payload"]["result"];
      if (result == "unsatisfied") out["reworked"].insert(id);
    }
    if (action == "promise-kept") kept = true;
  }
  if (assigned.empty()) return;
  if (!result.empty()) out["evaluated"].insert(id);
  if (result == "satisfied") out["satisfied"].insert(id);
  if (result == "basically-satisfied") out["basically_satisfied"].insert(id);
  if (result == "unsatisfied") out["unsatisfied"].insert(id);
  if (promised && !kept) out["open_promises"].insert(id);
  if (stage == "assigned" && lead == dept && !due.empty() && due < as_of) out["overdue_now"].insert(id);
}

// The served scoreboard's ids, as Columns per department.
std::map<std::string, Columns> served_ids(const Json& board) {
  std::map<std::string, Columns> out;
  for (const Json& d : board["departments"])
    for (const auto& [column, ids] : d["items"].items())
      for (const Json& id : ids) out[d["department"]][column].insert(id.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the scoreboard served equals the one recomputed from the trails, and an as-of answer never changes",
          "[supervision][scoreboard]") {
  Cluster c(kFastTiming, /*test_clock=*/true);
  auto at = [&](const std::string& day) { c.set_clock(day + "T01:00:00Z"); };
  at("2026-03-02");  // Monday
  c.start_all();
  REQUIRE(c.wait_ready());
  auto client = c.client();
  Desk office(c, *client);
  auto ok = [](const Result<wire::Reply>& r) {
    REQUIRE(r.ok());
    INFO(r->error.message);
    REQUIRE(r->ok);
  };
  auto item = [&](const std::string& title) { return field(*office.submit(title, "正文"), "item", "id"); };
  std::string signed_early = item("按时签收"), replied_late = item("逾期答复"),
              bounced = item("退回重交"), promised = item("承诺办理"), idle = item("无人办理");
  for (const auto& id : {signed_early, replied_late, promised, idle}) ok(office.assign(id, id == signed_early || id == replied_late ? "jtj" : "zjj"));
  ok(office.assign(bounced, "zjj"));
  ok(office.give_back(bounced, "zjj", "不属本单位"));
  ok(office.assign(bounced, "jyj"));
  at("2026-03-03");
  ok(office.command("sign", signed_early, {{"department", "jtj"}}));
  ok(office.command("handle", promised, {{"department", "zjj"}, {"reply", "计划六月完成"},
                                         {"outcome", "planned"}, {"promise", "2026-06-30"}}));
  at("2026-03-04");
  ok(office.handle(signed_early, "jtj", "已修复"));
  at("2026-03-05");
  ok(office.verify(signed_early, "satisfied"));
  ok(office.close(signed_early));
  ok(office.verify(promised, "basically-satisfied"));
  at("2026-03-27");  // due 23 March: late
  ok(office.handle(replied_late, "jtj", "已处理"));
  ok(office.verify(replied_late, "unsatisfied", "未解决"));

  auto scoreboard = [&](const std::string& as_of) {
    wire::MapBuilder q;
    q.add("from", "2026-03-01").add("to", "2026-03-31").add("items", true);
    if (!as_of.empty()) q.add("as-of", as_of);
    return body_of(client->call("scoreboard", "", q.finish()));
  };
  auto recomputed = [&](const std::string& as_of) {
    std::map<std::string, Columns> out;
    for (const auto& id : {signed_early, replied_late, bounced, promised, idle}) {
      Json trail = body_of(office.trail(id))["events"];
      for (const char* dept : {"jtj", "zjj", "jyj", "wjj", "gaj", "zgjd"})
        recount(dept, trail, "2026-03-01", "2026-03-31", as_of, out[dept]);
    }
    std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
    return out;
  };

  at("2026-03-31");
  Json board = scoreboard("");
  CHECK(board["as_of"] == "2026-03-31");
  CHECK(served_ids(board) == recomputed("2026-03-31"));
  // A few by hand, so that both sides are not wrong the same way.
  Json jtj = board["departments"][0];
  REQUIRE(jtj["department"] == "jtj");
  CHECK(jtj["received"] == 2);
  CHECK(jtj["signed_on_time"] == 1);
  CHECK(jtj["replied_on_time"] == 1);
  CHECK(jtj["reworked"] == 1);
  CHECK(jtj["satisfaction_rate"] == 0.5);
  Json zjj = board["departments"][1];
  CHECK(zjj["received"] == 3);
  CHECK(zjj["returned"] == 1);
  CHECK(zjj["open_promises"] == 1);
  CHECK(zjj["overdue_now"] == 1);
  CHECK(zjj["items"]["overdue_now"] == Json::array({idle}));
  CHECK(board["departments"][2]["received"] == 1);  // jyj, after the return

  Json before = scoreboard("2026-03-10");
  CHECK(served_ids(before) == recomputed("2026-03-10"));
  at("2026-04-08");  // later events: they must not change the answer as of 10 March
  ok(office.handle(idle, "zjj", "终于处理"));
  ok(office.command("promise-kept", promised, {{"department", "zjj"}}));
  ok(office.handle(replied_late, "jtj", "再次处理"));
  ok(office.verify(replied_late, "satisfied"));
  CHECK(scoreboard("2026-03-10") == before);
  Json now = scoreboard("");
  CHECK(served_ids(now) == recomputed("2026-04-08"));
  CHECK(now != before);
}
