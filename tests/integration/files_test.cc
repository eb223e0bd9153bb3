// The CLI's files, end to end: importing a list (清单交办) from CSV, exporting items,
// trails and the scoreboard, an evidence bundle checked offline by closeloop-verify, and
// `due`, the calendar's answer without the service.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "csv/csv.h"
#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

// A cluster on the test's clock (30 Nov 2026), and the CLI pointed at it.
struct FilesOffice {
  Cluster cluster{"", /*test_clock=*/true};
  FilesOffice() {
    cluster.set_clock("2026-11-30T01:00:00Z");
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
  }
  CliRun cli(std::vector<std::string> args) {
    std::vector<std::string> all{"--endpoint", cluster.endpoint(), "--config",
                                 cluster.config_path()};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(cluster.dir(), all);
  }
  Json ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliRun r = cli(args);
    INFO("exit " << r.code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.parsed();
  }
  std::string write(const std::string& name, const std::string& bytes) {
    std::string path = cluster.dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};

// The county's list as an office keeps it: Chinese headers, departments by name or
// code, a quoted cell with a comma and a line break, and rows an importer must refuse.
const std::string kList =
    "类型,标题,内容,承办单位,会办单位,办理期限,提交日期,交办日期,编号\n"
    "群众诉求,小区路灯不亮,幸福里小区12盏路灯不亮,县交通运输局,,,2026-11-02,2026-11-02,站-001\n"
    "代表建议,关于老旧小区加装电梯的建议,建议财政给予补贴,zjj,jtj,,2026-10-08,2026-10-09,建议-017\n"
    "审计整改,专项资金未按期拨付,2025年度审计发现,jyj,,2026-12-31,2026-11-10,2026-11-10,审-03\n"
    "群众诉求,无主诉求,内容,县不存在局,,,2026-11-02,2026-11-02,站-002\n"
    "群众诉求,日期有误,内容,jtj,,,2026-13-01,2026-13-01,站-003\n"
    "群众诉求,多一列,内容,jtj,,,2026-11-02,2026-11-02,站-004,多余\n"
    "群众诉求,小区路灯不亮,幸福里小区12盏路灯不亮,县交通运输局,,,2026-11-02,2026-11-02,站-001\n"
    "群众诉求,菜市场周边占道经营,\"第一行，含全角逗号\n第二行, 半角逗号\",县卫生健康局,,,2026-11-16,2026-11-17,站-005\n"
    "审计整改,缺少期限的审计发现,内容,jyj,,,2026-11-10,2026-11-10,审-04\n";

std::vector<uint64_t> refused_lines(const Json& summary) {
  std::vector<uint64_t> out;
  for (const auto& r : summary["refused"]) out.push_back(r["line"]);
  return out;
}

// The same text in GB18030, as Excel on a Chinese Windows saves "CSV".
std::string gb18030(const std::string& utf8) {
  std::string out;
  std::string command = "printf '%s' " + shell_quote(utf8) + " | iconv -f UTF-8 -t GB18030";
  REQUIRE(shell(command, &out) == 0);
  return out;
}

}  // namespace

TEST_CASE("import takes a list's valid rows, refuses each broken one with its line, and never imports twice",
          "[files][import]") {
  FilesOffice o;
  std::string path = o.write("清单.csv", kList);
  CliRun first = o.cli({"import", path, "--json"});
  INFO(first.out << first.err);
  CHECK(first.code == 3);  // some rows refused; the valid ones stay imported
  Json summary = first.parsed();
  CHECK(summary["imported"] == 4);
  CHECK(summary["duplicates"] == 1);  // line 8 repeats line 2
  CHECK(refused_lines(summary) == std::vector<uint64_t>{5, 6, 7, 11});
  for (const auto& r : summary["refused"]) CHECK(!r["reason"].get<std::string>().empty());
  CHECK(summary["refused"][0]["reason"] == "unknown department '县不存在局'");
  CHECK(summary["refused"][3]["reason"].get<std::string>().find("--due") != std::string::npos);

  Json items = o.ok({"list"});
  REQUIRE(items.size() == 4);
  Json station = items[0];
  CHECK(station["kind"] == "station");
  CHECK(station["department"] == "jtj");  // by its name 县交通运输局
  CHECK(station["stage"] == "assigned");
  CHECK(station["ref"] == "站-001");
  CHECK(station["assigned_on"] == "2026-11-02");
  CHECK(station["due"] == "2026-11-23");  // 15 working days from the original date
  Json suggestion = items[1];
  CHECK(suggestion["kind"] == "suggestion");
  CHECK(suggestion["co_departments"] == Json::array({"jtj"}));
  CHECK(suggestion["due"] == "2027-01-11");  // 9 Jan 2027 is a Saturday: weekends alone, provisional
  CHECK(suggestion["due_basis"]["provisional"] == true);
  CHECK(items[2]["due"] == "2026-12-31");
  CHECK(items[3]["body"] == "第一行，含全角逗号\n第二行, 半角逗号");
  Json trail = o.ok({"trail", station["id"]});
  REQUIRE(trail.size() == 2);
  CHECK(trail[0]["payload"]["occurred_on"] == "2026-11-02");
  CHECK(trail[1]["payload"]["occurred_on"] == "2026-11-02");

  CliRun again = o.cli({"import", path, "--json"});
  CHECK(again.code == 3);
  CHECK(again.parsed()["imported"] == 0);
  CHECK(again.parsed()["duplicates"] == 5);
  CliRun excel = o.cli({"import", o.write("gb.csv", gb18030(kList)), "--json"});
  CHECK(excel.parsed()["converted_from"] == "GB18030");
  CHECK(excel.parsed()["imported"] == 0);
  CHECK(excel.parsed()["duplicates"] == 5);
  CHECK(o.ok({"list"}).size() == 4);
}

TEST_CASE("a file that is not such a list is refused whole and changes nothing (exit 2)",
          "[files][import][bad-input]") {
  FilesOffice o;
  auto refused = [&](const std::string& name, const std::string& bytes, const std::string& says) {
    CliRun r = o.cli({"import", o.write(name, bytes)});
    INFO(name << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(says) != std::string::npos);
  };
  refused("broken-quote.csv", "kind,title,body,department\nstation,\"未闭合,正文,jtj\n", "not closed");
  refused("no-columns.csv", "名称,备注\n路灯,无\n", "the header lacks kind");
  refused("binary.xlsx", std::string("PK\x03\x04\0\0", 6), "NUL");
  refused("latin1.csv", "kind,title,body,department\nstation,caf\xe9\xff\xfe,b,jtj\n", "not UTF-8");
  CliRun missing = o.cli({"import", o.cluster.dir() + "/nosuch.csv"});
  CHECK(missing.code == 2);
  CHECK(o.ok({"list"}).empty());
}

TEST_CASE("export writes items, trails and the scoreboard as CSV for Excel or as JSON",
          "[files][export]") {
  FilesOffice o;
  o.cli({"import", o.write("l.csv", kList)});
  std::string out = o.cluster.dir() + "/items.csv";
  CHECK(o.cli({"export", "--what", "items", "--from", "2026-10-01", "--to", "2026-11-30",
               "--format", "csv", "--out", out}).code == 0);
  std::string bytes = read_file(out);
  CHECK(bytes.rfind("\xEF\xBB\xBF", 0) == 0);  // UTF-8 with BOM: Excel reads Chinese right
  CHECK(bytes.find("\r\n") != std::string::npos);
  auto table = csv::parse(bytes);
  REQUIRE(table.ok());
  CHECK(table->header.front() == "id");
  CHECK(table->rows.size() == 4);
  CliRun narrow = o.cli({"export", "--what", "items", "--from", "2026-11-10", "--to", "2026-11-10",
                         "--format", "json"});
  CHECK(narrow.parsed().size() == 1);  // --to is inclusive
  CliRun trails = o.cli({"export", "--what", "trails", "--from", "2026-10-01", "--to", "2026-11-30",
                         "--format", "csv"});
  auto events = csv::parse(trails.out);
  REQUIRE(events.ok());
  CHECK(events->rows.size() == 8);  // submit and assign of each
  CliRun board = o.cli({"export", "--what", "scoreboard", "--from", "2026-10-01", "--to",
                        "2026-11-30", "--format", "json"});
  Json departments = board.parsed()["departments"];
  auto jtj = std::find_if(departments.begin(), departments.end(),
                          [](const Json& d) { return d["department"] == "jtj"; });
  REQUIRE(jtj != departments.end());
  CHECK((*jtj)["received"] == 1);
  CHECK(o.cli({"export", "--what", "items", "--from", "x", "--to", "2026-11-30", "--format", "csv"})
            .code == 3);
}

TEST_CASE("a bundle is checked offline, one altered byte is found and named", "[files][bundle]") {
  FilesOffice o;
  std::string a = o.ok({"submit", "--title", "路灯不亮", "--body", "幸福里小区"})["id"];
  std::string b = o.ok({"submit", "--title", "道路积水", "--body", "雨后积水严重"})["id"];
  o.ok({"assign", b, "--department", "jtj"});
  o.cluster.add_account("交通局", {"department"}, "jtj");
  o.ok({"--key", o.cluster.key_file("交通局"), "handle", b, "--reply", "已疏通排水管", "--outcome",
        "solved"});
  std::string path = o.cluster.dir() + "/evidence.json";
  CliRun made = o.cli({"bundle", a, b, "--out", path});
  REQUIRE(made.code == 0);
  Json bundle = Json::parse(read_file(path));
  CHECK(bundle["format"] == "closeloop-bundle");
  CHECK(bundle["version"] == 3);
  CHECK(bundle["timezone"] == "Asia/Shanghai");
  CHECK(bundle["items"].size() == 2);
  CHECK(bundle["trails"][b].size() == 3);

  CliRun good = run_cli(o.cluster.dir(), {path}, "", "closeloop-verify");
  CHECK(good.code == 0);
  CHECK(good.out.find("verifies: 2 items, 4 events") != std::string::npos);
  CHECK(good.out.find("each item is what its trail makes of it") != std::string::npos);

  // An item edited in the file, its events left alone: the fold names it and the field.
  auto verify_edited = [&](const std::string& name, const std::function<void(Json&)>& edit) {
    Json copy = bundle;
    edit(copy);
    std::ofstream(path + name) << copy.dump();
    return run_cli(o.cluster.dir(), {path + name}, "", "closeloop-verify");
  };
  CliRun retitled = verify_edited(".title", [](Json& j) { j["items"][1]["title"] = "道路已通畅"; });
  CHECK(retitled.code == 5);
  CHECK(retitled.err.find("item " + b + ": the item is not what its trail makes of it: title") !=
        std::string::npos);
  CliRun outcome = verify_edited(".outcome", [](Json& j) { j["items"][1]["outcome"] = "planned"; });
  CHECK(outcome.code == 5);
  CHECK(outcome.err.find("outcome: the item says \"planned\"") != std::string::npos);
  // A version 2 bundle (before the fold) still verifies as it did, saying what it cannot show.
  CliRun older = verify_edited(".v2", [](Json& j) {
    j["version"] = 2;
    j.erase("timezone");
    j["items"][1]["title"] = "道路已通畅";
  });
  CHECK(older.code == 0);
  CHECK(older.out.find("a version 2 bundle: items not compared with their trails") !=
        std::string::npos);
  CHECK(verify_edited(".zone", [](Json& j) { j["timezone"] = "Mars/Olympus"; }).code == 2);
  CHECK(verify_edited(".nozone", [](Json& j) { j.erase("timezone"); }).code == 2);

  std::string text = read_file(path);
  size_t at = text.find("已疏通排水管");
  REQUIRE(at != std::string::npos);
  text[at + 3] = static_cast<char>(text[at + 3] ^ 0x01);  // one byte of the reply's text
  std::ofstream(path + ".altered", std::ios::binary) << text;
  CliRun bad = run_cli(o.cluster.dir(), {path + ".altered"}, "", "closeloop-verify");
  CHECK(bad.code == 5);
  CHECK(bad.err.find("item " + b + " at seq 3") != std::string::npos);

  std::ofstream(path + ".other") << R"({"format": "something-else", "items": []})";
  CHECK(run_cli(o.cluster.dir(), {path + ".other"}, "", "closeloop-verify").code == 2);
  std::ofstream(path + ".text") << "not json";
  CHECK(run_cli(o.cluster.dir(), {path + ".text"}, "", "closeloop-verify").code == 2);
  CHECK(run_cli(o.cluster.dir(), {path + ".missing"}, "", "closeloop-verify").code == 2);
}

TEST_CASE("due answers from the calendar alone, with its basis", "[files][due][calendar]") {
  Cluster c;  // its config and calendar; nothing started
  auto due = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"--config", c.config_path(), "due", "--json"};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(c.dir(), all);
  };
  Json station = due({"--from", "2026-02-02", "--kind", "station"}).parsed();
  CHECK(station == Json{{"due", "2026-02-28"},
                        {"rule", "station: 15 working days after assignment"},
                        {"from", "2026-02-02"},
                        {"calendar", "cn-2026 d0217625889a"},
                        {"provisional", false}});
  Json complex = due({"--from", "2026-01-05", "--kind", "suggestion", "--complex"}).parsed();
  CHECK(complex["due"] == "2026-07-06");
  Json months = due({"--from", "2026-01-31", "--months", "1"}).parsed();
  CHECK(months["due"] == "2026-02-28");  // the month's last day, a 调休 working Saturday
  Json into_2027 = due({"--from", "2026-12-20", "--working-days", "15"}).parsed();
  CHECK(into_2027["due"] == "2027-01-08");
  CHECK(into_2027["provisional"] == true);
  CHECK(due({"--from", "2026-02-30", "--kind", "station"}).code == 2);
  CHECK(due({"--from", "2026-02-02", "--kind", "station", "--months", "1"}).code == 2);
  CHECK(due({"--from", "2026-02-02", "--kind", "audit"}).code == 2);
  CHECK(due({"--from", "2026-02-02"}).code == 2);
}
