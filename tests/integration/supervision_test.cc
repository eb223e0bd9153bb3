// Supervision end to end, through the real workers on loopback: deadlines on the
// working-day calendar, the timer's reminders, overdue marks and escalations, a
// provisional due date recounted when its year's calendar arrives, commands that reach
// the worker holding the item, the inbox, overdue and attention lists. The clock is
// the test's ([testing] clock_file), so nothing here depends on today's date.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

const std::string kFastTimer = std::string(kFastTiming) + "\n[timer]\nscan_ms = 100\n";

// A cluster on the test's clock, started at `now`.
struct Clocked {
  Cluster cluster;
  std::unique_ptr<Client> client;
  explicit Clocked(const std::string& now, const std::string& extra = kFastTimer)
      : cluster(extra, /*test_clock=*/true) {
    cluster.set_clock(now);
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    client = cluster.client();
  }
};

// The item of a reply as clients see it (every field; the wire form leaves defaults out).
Json ok_item(const Result<wire::Reply>& r) {
  body_of(r);
  wire::Fields f(r->body, "reply");
  return item_json(f.map("item"));
}

std::vector<std::string> actions_of(Desk& desk, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& e : events_of(*desk.trail(id))) out.push_back(e.action);
  return out;
}

size_t count(const std::vector<std::string>& v, const std::string& what) {
  return std::count(v.begin(), v.end(), what);
}

// Waits until the item's trail holds `action` (the timer acts on its own schedule).
bool wait_for_action(Desk& desk, const std::string& id, const std::string& action,
                     int timeout_ms = 10000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (count(actions_of(desk, id), action) > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// One row of an imported list, as the CLI sends it.
Json row(uint64_t line, const std::string& title, const std::string& department,
         const std::string& day, const std::string& kind = "station") {
  return {{"line", line},          {"key", "test-" + std::to_string(line)},
          {"kind", kind},          {"title", title},
          {"body", title + "。"},  {"department", department},
          {"submitted_on", day},   {"assigned_on", day}};
}

std::string import_one(Client& client, const Json& r) {
  Json rows = Json::array({r});
  auto reply = client.call("import", "",
                           wire::MapBuilder().add_raw("rows", wire::encode_json(rows)).finish());
  Json result = body_of(reply)["results"][0];
  INFO(result.dump());
  REQUIRE(result["result"] == "imported");
  return result["id"];
}

std::vector<std::string> ids_in(const Json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i["id"]);
  return out;
}

}  // namespace

TEST_CASE("imported history is marked overdue at once, reminders and escalation follow the clock, each once",
          "[supervision][timer]") {
  Clocked s("2026-03-02T01:00:00Z");  // Monday 09:00 in Shanghai
  Desk office(s.cluster, *s.client);
  // 15 working days after Mon 2 Feb: across the Spring Festival holiday (15-23 Feb),
  // counting the make-up working Saturdays 14 and 28 Feb.
  std::string late = import_one(*s.client, row(2, "村道塌方", "jtj", "2026-02-02"));
  Json shown = ok_item(office.show(late));
  CHECK(shown["due"] == "2026-02-28");
  CHECK(shown["due_basis"]["rule"] == "station: 15 working days after assignment");
  CHECK(shown["due_basis"]["from"] == "2026-02-02");
  CHECK(shown["assigned_on"] == "2026-02-02");
  std::string soon = import_one(*s.client, row(3, "路灯不亮", "zjj", "2026-02-09"));
  CHECK(ok_item(office.show(soon))["due"] == "2026-03-06");
  Json unassigned = row(4, "无人认领的诉求", "", "2026-02-24");  // the office must assign it by 4 March
  unassigned.erase("department");
  std::string waiting = import_one(*s.client, unassigned);

  REQUIRE(wait_for_action(office, late, "overdue"));  // the first scan, at once
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // several scans more
  CHECK(count(actions_of(office, late), "overdue") == 1);
  CHECK(count(actions_of(office, late), "escalate") == 0);  // 1 working day late only
  CHECK(count(actions_of(office, soon), "remind") == 0);    // 4 working days before
  Json trail = body_of(office.trail(late))["events"];
  CHECK(trail.back()["actor"] == "timer");
  CHECK(trail.back()["payload"]["due"] == "2026-02-28");
  CHECK(ok_item(office.show(late))["overdue"] == true);

  s.cluster.set_clock("2026-03-03T01:00:00Z");  // 3 working days before 6 March
  REQUIRE(wait_for_action(office, soon, "remind"));
  s.cluster.set_clock("2026-03-09T01:00:00Z");  // 6 working days after 28 February
  REQUIRE(wait_for_action(office, late, "escalate"));
  REQUIRE(wait_for_action(office, soon, "overdue"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto late_actions = actions_of(office, late), soon_actions = actions_of(office, soon);
  CHECK(late_actions == std::vector<std::string>{"submit", "assign", "overdue", "escalate"});
  CHECK(soon_actions == std::vector<std::string>{"submit", "assign", "remind", "overdue"});

  Json attention = body_of(s.client->call("attention", "", wire::empty_map()))["items"];
  CHECK(ids_in(attention) == std::vector<std::string>{late});
  Json overdue = body_of(s.client->call("overdue", "", wire::empty_map()))["items"];
  CHECK(ids_in(overdue) == std::vector<std::string>{late, waiting, soon});  // by date
  CHECK(overdue[1]["late"] == "assignment");  // the office's own lateness
  CHECK(overdue[1]["assign_by"] == "2026-03-04");
  CHECK(overdue[2]["late"] == "reply");
  Json then = body_of(s.client->call(
      "overdue", "", wire::MapBuilder().add("as-of", "2026-03-02").finish()))["items"];
  CHECK(ids_in(then) == std::vector<std::string>{late});  // soon was due on the 6th; waiting, by the 4th
  Json jtj = body_of(
      s.client->call("overdue", "", wire::MapBuilder().add("department", "jtj").finish()))["items"];
  CHECK(ids_in(jtj) == std::vector<std::string>{late});

  // The reply ends the lateness; an approved extension would have too.
  Json replied = ok_item(office.handle(late, "jtj", "已修复"));
  CHECK(replied["overdue"] == false);
  overdue = body_of(s.client->call("overdue", "", wire::empty_map()))["items"];
  CHECK(ids_in(overdue) == std::vector<std::string>{waiting, soon});
  REQUIRE(office.assign(waiting, "jyj")->ok);
  overdue = body_of(s.client->call("overdue", "", wire::empty_map()))["items"];
  CHECK(ids_in(overdue) == std::vector<std::string>{soon});
}

TEST_CASE("a provisional due date is recounted when its year's calendar arrives",
          "[supervision][timer][calendar]") {
  Clocked s("2026-12-20T01:00:00Z");  // Sunday; 2027 has no calendar file yet
  Desk office(s.cluster, *s.client);
  std::string id = field(*office.submit("河道清淤", "汛期前清淤"), "item", "id");
  Json assigned = ok_item(office.assign(id, "jtj"));
  // 15 working days on weekends alone for 2027: 1 January counts as a working day.
  CHECK(assigned["due"] == "2027-01-08");
  CHECK(assigned["due_basis"]["provisional"] == true);
  CHECK(assigned["due_basis"]["calendar"].get<std::string>().find("cn-2027 none") !=
        std::string::npos);

  std::ofstream(s.cluster.calendar_dir() + "/cn-2027.csv")
      << "date,kind,festival\n2027-01-01,holiday,元旦\n";
  REQUIRE(wait_for_action(office, id, "redue"));
  Json item = ok_item(office.show(id));
  CHECK(item["due"] == "2027-01-11");
  CHECK(item["due_basis"]["provisional"] == false);
  CHECK(item["due_basis"]["calendar"].get<std::string>().find("cn-2027 ") != std::string::npos);
  CHECK(item["due_basis"]["calendar"].get<std::string>().find("none") == std::string::npos);
  Json last = body_of(office.trail(id))["events"].back();
  CHECK(last["action"] == "redue");
  CHECK(last["payload"]["was"] == "2027-01-08");
  CHECK(last["payload"]["due"] == "2027-01-11");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(count(actions_of(office, id), "redue") == 1);  // recounted once
}

TEST_CASE("commands a stage does not own reach the worker holding the item",
          "[supervision][routing]") {
  Running s(kFastTiming);
  Desk office(s.cluster, *s.client);
  std::string id = field(*office.submit("学校周边道路改造", "上学路段无人行道"), "item", "id");
  REQUIRE(office.assign(id, "jtj")->ok);
  Json handled = ok_item(office.command("handle", id,
                                        {{"department", "jtj"},
                                         {"reply", "已列入明年计划"},
                                         {"outcome", "planned"},
                                         {"promise", "2099-06-30"}}));
  CHECK(handled["promise"]["date"] == "2099-06-30");
  CHECK(handled["signed_at"] != "");  // the reply signed for it
  REQUIRE(office.verify(id, "basically-satisfied")->ok);
  REQUIRE(office.close(id)->ok);
  // urge is sent to handle; the item is closed, held by close: forwarded there.
  Json urged = ok_item(office.command("urge", id, {{"note", "请抓紧落实承诺"}}));
  CHECK(urged["urges"] == 1);
  CHECK(urged["stage"] == "closed");
  Json kept = ok_item(office.command("promise-kept", id, {{"department", "jtj"}, {"note", "已完工"}}));
  CHECK(kept["promise"]["kept_at"] != "");
  auto again = office.command("urge", id, {{"note", "再催"}});
  CHECK(again->error.code == errc::kRefused);  // nothing left open
  // reopen is close's; the item goes back to handle, due a month later.
  Json reopened = ok_item(office.command("reopen", id, {{"reason", "群众反映仍未改善"}}));
  CHECK(reopened["stage"] == "assigned");
  CHECK(reopened["reopen_count"] == 1);
  CHECK(reopened["due_basis"]["rule"] == "reopened: 1 month after reopening");
  Json urged_at_handle = ok_item(office.command("urge", id, wire::Json::object()));
  CHECK(urged_at_handle["urges"] == 2);

  // A project's milestone, reported while the reply is with verify: forwarded.
  Json project = ok_item(office.command("submit", "", {{"title", "城东菜市场改造"},
                                                       {"body", "民生实事项目"},
                                                       {"kind", "project"}}));
  std::string p = project["id"];
  Json milestones = Json::array({{{"date", "2099-03-01"}, {"text", "开工"}},
                                 {{"date", "2099-09-30"}, {"text", "竣工"}}});
  Json assigned = ok_item(office.command("assign", p, {{"department", "zjj"}, {"milestone", milestones}}));
  CHECK(assigned["due"] == "2099-09-30");
  CHECK(assigned["due_basis"]["rule"] == "project: the last milestone");
  REQUIRE(office.command("milestone", p, {{"department", "zjj"}, {"index", 1}})->ok);
  REQUIRE(office.handle(p, "zjj", "已开工建设")->ok);
  Json reached = ok_item(office.command("milestone", p, {{"department", "zjj"}, {"index", 2}}));
  CHECK(reached["stage"] == "handled");
  CHECK(reached["milestones"][1]["reached_at"] != "");
  CHECK(actions_of(office, p) ==
        std::vector<std::string>{"submit", "assign", "milestone", "handle", "milestone"});
}

TEST_CASE("extension, co-handling, waiver, rework and bounded returns through the workers",
          "[supervision][rules]") {
  Clocked s("2026-03-02T01:00:00Z", kFastTiming);
  Desk office(s.cluster, *s.client);
  std::string id = ok_item(office.command("submit", "", {{"title", "关于增设公交线路的建议"},
                                                        {"body", "城北新区缺少公交"},
                                                        {"kind", "suggestion"}}))["id"];
  Json assigned = ok_item(office.assign(id, "jtj", {"zjj"}));
  CHECK(assigned["due"] == "2026-06-02");  // 3 months: 2 June
  REQUIRE(office.command("sign", id, {{"department", "jtj"}})->ok);
  REQUIRE(office.command("sign", id, {{"department", "zjj"}})->ok);
  CHECK(office.command("sign", id, {{"department", "jtj"}})->error.code == errc::kRefused);
  CHECK(office.handle(id, "jtj", "已开通")->error.code == errc::kRefused);  // zjj's opinion
  REQUIRE(office.command("extend", id, {{"department", "jtj"}, {"until", "2026-08-03"}, {"reason", "需协调车辆"}})->ok);
  CHECK(office.command("extend", id, {{"department", "jtj"}, {"until", "2026-08-04"}, {"reason", "再延"}})
            ->error.code == errc::kRefused);  // one pending at a time
  Json approved = ok_item(office.command("decide-extension", id, {{"approve", true}, {"comment", "同意"}}));
  CHECK(approved["due"] == "2026-08-03");
  CHECK(approved["extensions"][0]["state"] == "approved");
  auto too_far = office.command("extend", id, {{"department", "jtj"}, {"until", "2026-09-30"}, {"reason", "更久"}});
  CHECK(too_far->error.code == errc::kInvalid);  // more than 3 months in total
  REQUIRE(office.command("opinion", id, {{"department", "zjj"}, {"text", "配合设置站点"}})->ok);
  Json replied = ok_item(office.handle(id, "jtj", "已开通3路公交"));
  CHECK(replied["opinions"][0]["text"] == "配合设置站点");
  auto no_comment = office.command("verify", id, {{"attitude", "satisfied"}, {"result", "unsatisfied"}});
  CHECK(no_comment->error.code == errc::kInvalid);
  Json rework = ok_item(office.command("verify", id, {{"attitude", "satisfied"},
                                                      {"result", "unsatisfied"},
                                                      {"comment", "班次太少"}}));
  CHECK(rework["stage"] == "assigned");
  CHECK(rework["rework_count"] == 1);
  CHECK(rework["due"] == "2026-04-02");  // 1 month after the evaluation
  CHECK(rework["evaluation"]["result"] == "unsatisfied");

  // Bounded returns: after two returns a third assignment needs a ruling.
  std::string bounce = field(*office.submit("无主管部门的诉求", "正文"), "item", "id");
  for (const char* dept : {"jtj", "zjj"}) {
    REQUIRE(office.assign(bounce, dept)->ok);
    REQUIRE(office.give_back(bounce, dept, "不属本单位职责")->ok);
  }
  auto third = office.assign(bounce, "jyj");
  CHECK(third->error.code == errc::kRefused);
  CHECK(third->error.field == "ruling");  // the CLI says --ruling
  Json ruled = ok_item(office.command("assign", bounce, {{"department", "jyj"}, {"ruling", "主任会议裁定由教育局办理"}}));
  CHECK(ruled["returns"] == 2);
  // A return later than 7 working days after assignment needs a ruling too.
  s.cluster.set_clock("2026-03-12T01:00:00Z");
  auto late = office.give_back(bounce, "jyj", "不属本单位");
  CHECK(late->error.code == errc::kRefused);
  REQUIRE(office.command("return", bounce, {{"department", "jyj"}, {"reason", "不属本单位"}, {"ruling", "同意退回"}})->ok);
}

TEST_CASE("the inbox says what a department must do next, by date", "[supervision][inbox]") {
  Clocked s("2026-03-02T01:00:00Z", kFastTiming);
  Desk office(s.cluster, *s.client);
  auto item = [&](const std::string& title) { return field(*office.submit(title, "正文"), "item", "id"); };
  std::string to_sign = item("待签收"), to_answer = item("待答复"), as_co = item("会办"),
              promised = item("承诺");
  REQUIRE(office.assign(to_sign, "jtj")->ok);
  REQUIRE(office.assign(to_answer, "jtj")->ok);
  REQUIRE(office.command("sign", to_answer, {{"department", "jtj"}})->ok);
  REQUIRE(office.assign(as_co, "zjj", {"jtj"})->ok);
  REQUIRE(office.assign(promised, "jtj")->ok);
  REQUIRE(office.command("handle", promised, {{"department", "jtj"}, {"reply", "明年实施"},
                                              {"outcome", "planned"}, {"promise", "2026-12-31"}})->ok);
  REQUIRE(office.verify(promised, "satisfied")->ok);
  REQUIRE(office.close(promised)->ok);

  Json inbox = body_of(
      s.client->call("inbox", "", wire::MapBuilder().add("department", "jtj").finish()))["items"];
  REQUIRE(inbox.size() == 4);
  std::map<std::string, std::pair<std::string, std::string>> todo;
  for (const auto& i : inbox) todo[i["id"]] = {i["todo"], i["todo_due"]};
  CHECK(todo[to_sign] == std::make_pair(std::string("sign"), std::string("2026-03-04")));
  CHECK(todo[to_answer] == std::make_pair(std::string("answer"), std::string("2026-03-23")));
  CHECK(todo[as_co] == std::make_pair(std::string("opinion"), std::string("2026-04-02")));
  CHECK(todo[promised] == std::make_pair(std::string("promise"), std::string("2026-12-31")));
  CHECK(ids_in(inbox) == std::vector<std::string>{to_sign, to_answer, as_co, promised});
  auto unknown =
      s.client->call("inbox", "", wire::MapBuilder().add("department", "nosuch").finish());
  CHECK(unknown->error.code == errc::kInvalid);
}

TEST_CASE("bad supervision input gets a clear refusal and changes nothing", "[supervision][bad-input]") {
  Running s(kFastTiming);
  Desk office(s.cluster, *s.client);
  auto refused = [&](const std::string& verb, const std::string& id, Json fields,
                     const std::string& code, const std::string& says) {
    auto r = office.command(verb, id, std::move(fields));
    REQUIRE(r.ok());
    INFO(verb << ": " << r->error.code << ": " << r->error.message);
    CHECK_FALSE(r->ok);
    CHECK(r->error.code == code);
    CHECK(r->error.message.find(says) != std::string::npos);
  };
  refused("submit", "", {{"title", "t"}, {"body", "b"}, {"kind", "petition"}}, errc::kInvalid,
          "kind must be one of");
  CHECK(ids_of(*office.list()).empty());  // nothing was created

  std::string project = ok_item(office.command("submit", "", {{"title", "菜市场改造"}, {"body", "b"},
                                                              {"kind", "project"}}))["id"];
  refused("assign", project, {{"department", "zjj"}, {"due", "2026-02-30"}}, errc::kInvalid,
          "due must be a date");
  refused("assign", project, {{"department", "zjj"}, {"due", "30/12/2099"}}, errc::kInvalid,
          "due must be a date");
  Json backwards = Json::array({{{"date", "2099-09-30"}, {"text", "竣工"}},
                                {{"date", "2099-03-01"}, {"text", "开工"}}});
  refused("assign", project, {{"department", "zjj"}, {"milestone", backwards}}, errc::kInvalid,
          "out of order");
  refused("assign", project, {{"department", "zjj"}}, errc::kInvalid,
          "give milestone DATE=TEXT");  // the field: the CLI says --milestone
  CHECK(actions_of(office, project) == std::vector<std::string>{"submit"});
  CHECK(ok_item(office.show(project))["stage"] == "submitted");

  std::string id = field(*office.submit("路灯", "不亮"), "item", "id");
  REQUIRE(office.assign(id, "jtj")->ok);
  refused("extend", id, {{"department", "jtj"}, {"until", "next week"}, {"reason", "r"}},
          errc::kInvalid, "until must be a date");
  refused("decide-extension", id, {{"comment", "?"}}, errc::kInvalid, "either approve or refuse");
  refused("handle", id, {{"department", "jtj"}, {"reply", "明年"}, {"outcome", "planned"}},
          errc::kInvalid, "needs promise YYYY-MM-DD");
  refused("milestone", id, {{"department", "jtj"}, {"index", 0}}, errc::kInvalid, "milestones");
  REQUIRE(office.handle(id, "jtj", "已修复")->ok);
  refused("verify", id, {{"rating", "unsatisfied"}}, errc::kInvalid, "needs a comment");
  refused("verify", id, {{"attitude", "unsatisfied"}, {"result", "satisfied"}}, errc::kInvalid,
          "needs a comment");
  CHECK(actions_of(office, id) == std::vector<std::string>{"submit", "assign", "handle"});
  CHECK(s.cluster.wait_ready(1000));  // every worker still up
}
