// Worklists that say what matters (issue 17), through the real workers and the CLI: the
// inbox's header, next step and working days left (negative once late), overdue's days
// late in working and calendar days and since when, attention's reasons (escalated on a
// day, urged so often), scoreboard --items with its ids in the text too, department names
// beside their codes, and export's CSV header in Chinese by default. The clock is the
// test's ([testing] clock_file): 2026-03-02 is a Monday, and March 2026 has no holiday.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "csv/csv.h"
#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace worklists_test {

// The office on the test's clock, its timer scanning every 100 ms; two items assigned to
// jtj and signed on 2 March: `late` due 4 March, `later` due 23 March (15 working days).
struct Office {
  Cluster cluster;
  std::unique_ptr<Client> client;
  std::unique_ptr<Desk> desk;
  std::string late, later;

  Office() : cluster(std::string(kFastTiming) + "\n[timer]\nscan_ms = 100\n", /*test_clock=*/true) {
    at("2026-03-02");
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    client = cluster.client();
    desk = std::make_unique<Desk>(cluster, *client);
    late = assigned("村道塌方", "2026-03-04");
    later = assigned("路灯不亮");
  }

  void at(const std::string& day) { cluster.set_clock(day + "T01:00:00Z"); }  // 09:00 +08:00

  std::string assigned(const std::string& title, const std::string& due = "") {
    auto made = desk->submit(title, title + "。");
    REQUIRE(made.ok());
    REQUIRE(made->ok);
    std::string id = field(*made, "item", "id");
    ok(desk->assign(id, "jtj", {}, due));
    ok(desk->command("sign", id, {{"department", "jtj"}}));
    return id;
  }

  static void ok(const Result<wire::Reply>& r) {
    REQUIRE(r.ok());
    INFO(r->error.code << ": " << r->error.message);
    REQUIRE(r->ok);
  }

  Json items(const std::string& verb, Json fields = Json::object()) {
    return body_of(client->call(verb, "", wire::encode_json(fields)))["items"];
  }
  CliRun cli(const std::vector<std::string>& args, const std::string& prefix = "") {
    CliRun r = run_cli(cluster.dir(), args, prefix);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    return r;
  }
};

const Json& with_id(const Json& items, const std::string& id) {
  for (const Json& i : items)
    if (i["id"] == id) return i;
  FAIL("no item " << id << " in " << items.dump());
  static const Json none;
  return none;
}

// The line of a table that holds `needle` ("" if none).
std::string line_with(const std::string& table, const std::string& needle) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace worklists_test

using namespace worklists_test;

TEST_CASE("inbox and overdue say how many working days are left or late, and since when, "
          "under a header, with department names beside codes",
          "[worklists][inbox]") {
  Office o;
  o.at("2026-03-09");  // a Monday: `late` is 3 working days (5 days) past 4 March

  Json inbox = o.items("inbox", {{"department", "jtj"}});
  const Json& late = with_id(inbox, o.late);
  CHECK(late["todo"] == "answer");
  CHECK(late["todo_due"] == "2026-03-04");
  CHECK(late["todo_days_left"] == -3);
  CHECK(late["todo_late"] == true);
  const Json& later = with_id(inbox, o.later);
  CHECK(later["todo_due"] == "2026-03-23");
  CHECK(later["todo_days_left"] == 10);
  CHECK(later["todo_late"] == false);

  CliRun en = o.cli({"inbox", "--department", "jtj", "--lang", "en"});
  CHECK(std::regex_search(first_line(en.out),
                          std::regex("^to do +by +working days left +id +stage +title$")));
  CHECK(std::regex_search(line_with(en.out, o.late),
                          std::regex("^answer +2026-03-04 +-3 \\(late\\) +" + o.late +
                                     " +assigned +村道塌方$")));
  CHECK(std::regex_search(line_with(en.out, o.later), std::regex("^answer +2026-03-23 +10 +")));
  CliRun zh = o.cli({"inbox", "--department", "jtj", "--lang", "zh"});
  CHECK(std::regex_search(first_line(zh.out), std::regex("^待办事项 +期限 +剩余工作日 +事项编号 +")));
  CHECK(std::regex_search(line_with(zh.out, o.late),
                          std::regex("^答复 +2026-03-04 +-3（已逾期） +" + o.late + " +已交办 ")));

  Json overdue = o.items("overdue");
  const Json& entry = with_id(overdue, o.late);
  CHECK(entry["late_working_days"] == 3);
  CHECK(entry["late_days"] == 5);
  CHECK(entry["late_since"] == "2026-03-05");
  CHECK(entry["overdue_on"] == "2026-03-09");  // the fields it had stay
  CHECK(entry["late"] == "reply");
  Json past = o.items("overdue", {{"as-of", "2026-03-06"}});  // a past day: late then
  CHECK(with_id(past, o.late)["late_working_days"] == 2);
  CHECK(with_id(past, o.late)["late_days"] == 2);
  CliRun table = o.cli({"overdue"});
  CHECK(std::regex_search(first_line(table.out),
                          std::regex("^id +stage +department +due +working days late +days late "
                                     "+late since +title$")));
  CHECK(std::regex_search(line_with(table.out, o.late),
                          std::regex("^" + o.late + " +assigned +县交通运输局 jtj +2026-03-04 +3 +5 "
                                     "+2026-03-05 +村道塌方$")));

  CliRun list = o.cli({"list"});
  CHECK(std::regex_search(first_line(list.out), std::regex("^id +stage +department +due +title$")));
  CHECK(std::regex_search(line_with(list.out, o.later),
                          std::regex(" +assigned +县交通运输局 jtj +2026-03-23 +路灯不亮$")));
  CliRun chinese = o.cli({"list"}, "CLOSELOOP_LANG= ");  // the config's language: Chinese
  CHECK(std::regex_search(line_with(chinese.out, o.later),
                          std::regex(" +已交办 +县交通运输局 jtj +2026-03-23 +路灯不亮$")));
}

TEST_CASE("attention says why each item is there, scoreboard --items prints its ids, "
          "export's CSV header is Chinese by default",
          "[worklists][attention][scoreboard]") {
  Office o;
  o.at("2026-03-09");
  o.ok(o.desk->command("urge", o.late, {{"note", "请抓紧"}}));
  o.ok(o.desk->command("urge", o.late, {{"note", "再催"}}));
  o.at("2026-03-12");  // 6 working days late: the timer escalates it
  REQUIRE(eventually([&] { return !o.items("attention").empty(); }));

  Json attention = o.items("attention");
  REQUIRE(attention.size() == 1);
  Json reasons = attention[0]["reasons"];
  INFO(reasons.dump());
  REQUIRE(reasons.size() == 3);
  CHECK(reasons[0] == Json({{"code", "escalated"}, {"on", "2026-03-12"}, {"due", "2026-03-04"}}));
  CHECK(reasons[1] == Json({{"code", "urged"}, {"count", 2}, {"last_on", "2026-03-09"}}));
  CHECK(reasons[2] == Json({{"code", "late"}, {"due", "2026-03-04"}, {"working_days", 6}}));
  CliRun table = o.cli({"attention"});
  CHECK(std::regex_search(first_line(table.out),
                          std::regex("^id +stage +department +due +why +title$")));
  CHECK(line_with(table.out, o.late).find("escalated on 2026-03-12; urged 2 times, last on "
                                          "2026-03-09; 6 working days late") != std::string::npos);
  CliRun zh = o.cli({"attention", "--lang", "zh"});
  CHECK(line_with(zh.out, o.late).find("2026-03-12提请督办") != std::string::npos);

  CliRun board = o.cli({"scoreboard", "--from", "2026-03-01", "--to", "2026-03-31", "--items"});
  std::string head = line_with(board.out, "department");
  CHECK(head.find("  signed on time  replied  replied on time  ") != std::string::npos);
  CHECK(std::regex_search(line_with(board.out, "县交通运输局 jtj"),
                          std::regex("^县交通运输局 jtj +2 +2 +0 +0 ")));
  INFO(board.out);  // under the table, the ids behind each count
  CHECK(std::regex_search(board.out, std::regex("\n县交通运输局 jtj\n +received +" + o.late +
                                                ", " + o.later + "\n +signed on time +" +
                                                o.late + ", " + o.later + "\n")));
  CHECK(std::regex_search(board.out, std::regex("\n +overdue now +" + o.late + "\n")));
  CliRun zh_board = o.cli({"scoreboard", "--from", "2026-03-01", "--to", "2026-03-31", "--lang", "zh"});
  CHECK(line_with(zh_board.out, "承办单位").find("签收及时") != std::string::npos);
  CHECK(line_with(zh_board.out, "承办单位").find("按时答复") != std::string::npos);

  std::vector<std::string> items_csv{"export", "--what",   "items", "--from", "2026-03-01",
                                     "--to",   "2026-03-31", "--format", "csv"};
  auto chinese = csv::parse(o.cli(items_csv, "CLOSELOOP_LANG= ").out);
  REQUIRE(chinese.ok());
  CHECK(chinese->header.front() == "事项编号");
  CHECK(std::find(chinese->header.begin(), chinese->header.end(), "办理期限") !=
        chinese->header.end());
  CHECK(chinese->rows.size() == 2);
  auto english = csv::parse(o.cli(items_csv).out);  // --lang en: the keys, as before
  REQUIRE(english.ok());
  CHECK(english->header.front() == "id");
  items_csv[2] = "scoreboard";
  auto scores = csv::parse(o.cli(items_csv, "CLOSELOOP_LANG= ").out);
  REQUIRE(scores.ok());
  CHECK(std::find(scores->header.begin(), scores->header.end(), "签收及时") != scores->header.end());
}
