// The CLI's files, end to end: importing a list (清单交办) from CSV, exporting items,
// trails and the scoreboard, an evidence bundle checked offline by closeloop-verify, and
// `due`, the calendar's answer without the service.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <leveldb/write_batch.h>

#include "csv/csv.h"
#include "harness.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

// A cluster on the test's clock (30 Nov 2026), and the CLI pointed at it.
struct FilesOffice {
  Cluster cluster;
  explicit FilesOffice(const std::string& extra_toml = "")
      : cluster(extra_toml, /*test_clock=*/true) {
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
  CHECK(summary["refused"][0]["reason"] ==
        "unknown department '县不存在局' in the column \"承办单位\" (department)");
  std::string advice = summary["refused"][3]["reason"];
  CHECK(advice.find("fill in the column \"办理期限\" (due)") != std::string::npos);  // not a flag
  CHECK(advice.find("--") == std::string::npos);

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
  refused("no-columns.csv", "名称,备注\n路灯,无\n", "the header lacks the columns 类型 (kind)");
  refused("twice.csv", "类型,标题,内容,承办单位,办理期限,办理时限\n群众诉求,t,b,jtj,,\n",
          "the header names the column \"办理期限\" twice: '办理期限' and '办理时限'");
  refused("binary.xlsx", std::string("PK\x03\x04\0\0", 6), "NUL");
  refused("latin1.csv", "kind,title,body,department\nstation,caf\xe9\xff\xfe,b,jtj\n", "not UTF-8");
  CliRun missing = o.cli({"import", o.cluster.dir() + "/nosuch.csv"});
  CHECK(missing.code == 2);
  CHECK(o.ok({"list"}).empty());
}

// Issue 17: import that forgives Excel.

const std::string kTwoCategories = R"(
[[category]]
code = "transport"
name = "交通出行"
[[category]]
code = "business"
name = "营商环境"
)";

std::vector<std::string> texts_of(const Json& list) {
  std::vector<std::string> out;
  for (const auto& v : list) out.push_back(v.get<std::string>());
  return out;
}

// The import summary without its item ids: what a dry run must report the same.
Json without_ids(Json summary) {
  for (auto& item : summary["items"]) item.erase("id");
  summary.erase("dry_run");
  return summary;
}

TEST_CASE(
    "import forgives Excel: every date form, a category by its name, synonyms, and the columns it "
    "ignored named",
    "[files][import]") {
  FilesOffice o(kTwoCategories);
  // As Excel saves "CSV UTF-8": a BOM and CRLF; the office's own columns (序号, 备注) and
  // its own names for ours (事项类型, 题目, 问题描述, 责任单位, 所属类别, 办理时限, ...).
  const std::string list =
      "序号,事项类型,题目,问题描述,责任单位,所属类别,办理时限,提出日期,交办时间,建议编号,备注\r\n"
      "1,群众诉求,村道路灯不亮,路灯不亮,县交通运输局,交通出行,,2026/11/2,2026/11/2,站-201,无\r\n"
      "2,审计整改,专项资金未拨付,审计发现,jyj,business,2026年12月31日,"
      "2026.11.10,2026.11.10,审-21,\r\n"
      "3,代表建议,关于公交线路的建议,建议增开班次,jtj,transport,,"
      "2026年9月1日,2026年09月03日,建议-21,\r\n"
      "4,群众诉求,菜市场占道,占道经营,县卫生健康局,,,2026-11-16,2026/11/17 0:00,站-202,\r\n";
  CliRun first = o.cli({"import", o.write("excel.csv", "\xEF\xBB\xBF" + list), "--json"});
  INFO(first.out << first.err);
  REQUIRE(first.code == 0);
  Json summary = first.parsed();
  CHECK(summary["imported"] == 4);
  CHECK(summary["refused"].empty());
  CHECK(texts_of(summary["ignored_columns"]) == std::vector<std::string>{"序号", "备注"});
  CHECK(summary["possible_duplicates"].empty());
  CHECK(summary["dry_run"] == false);

  Json items = o.ok({"list"});
  REQUIRE(items.size() == 4);
  CHECK(items[0]["category"] == "transport");  // by its name 交通出行
  CHECK(items[0]["submitted_on"] == "2026-11-02");
  CHECK(items[0]["assigned_on"] == "2026-11-02");
  CHECK(items[0]["due"] == "2026-11-23");  // 15 working days from the original day
  CHECK(items[0]["ref"] == "站-201");
  CHECK(items[1]["kind"] == "audit");
  CHECK(items[1]["due"] == "2026-12-31");
  CHECK(items[1]["category"] == "business");
  CHECK(items[1]["assigned_on"] == "2026-11-10");
  CHECK(items[2]["submitted_on"] == "2026-09-01");
  CHECK(items[2]["assigned_on"] == "2026-09-03");
  CHECK(items[3]["assigned_on"] == "2026-11-17");
  CHECK(items[3]["department"] == "wjj");
  Json trail = o.ok({"trail", items[2]["id"]});
  REQUIRE(trail.size() == 2);
  CHECK(trail[0]["payload"]["occurred_on"] == "2026-09-01");
  CHECK(trail[1]["payload"]["occurred_on"] == "2026-09-03");

  // The same list as Excel on a Chinese Windows saves "CSV" (GBK, no BOM): read, not
  // mojibake — the same cells, so the same rows, imported already.
  CliRun gbk = o.cli({"import", o.write("gbk.csv", gb18030(list)), "--json"});
  CHECK(gbk.code == 0);
  CHECK(gbk.parsed()["converted_from"] == "GB18030");
  CHECK(gbk.parsed()["duplicates"] == 4);
  // Re-saved with ISO dates: still the same rows.
  std::string iso = list;
  for (auto [from, to] : {std::pair{"2026/11/2,2026/11/2", "2026-11-02,2026-11-02"},
                          std::pair{"2026年9月1日,2026年09月03日", "2026-09-01,2026-09-03"}})
    iso.replace(iso.find(from), std::string(from).size(), to);
  CHECK(o.ok({"import", o.write("iso.csv", iso)})["duplicates"] == 4);
  CHECK(o.ok({"list"}).size() == 4);
}

TEST_CASE(
    "every error of a row is reported, each naming its column, and nothing of the row is imported",
    "[files][import][bad-input]") {
  FilesOffice o;
  const std::string list =
      "类型,标题,内容,承办单位,会办单位,办理期限,提交日期,交办日期\n"
      "群众来信,标题一,内容,县不存在局,,,2026年2月30日,\n"
      "审计整改,标题二,内容,jtj,jtj,2026/13/1,2026-11-31,2026-12-01\n"
      "群众诉求,标题三,内容,jtj,,,11/25/2026,\n";
  std::string path = o.write("errors.csv", list);
  CliRun run = o.cli({"import", path, "--json"});
  INFO(run.out << run.err);
  CHECK(run.code == 3);
  Json refused = run.parsed()["refused"];
  REQUIRE(refused.size() == 3);
  std::vector<std::string> three = texts_of(refused[0]["reasons"]);
  CHECK(three == std::vector<std::string>{
                     "unknown kind '群众来信' in the column \"类型\" (kind): write a kind's code "
                     "or its Chinese name (代表建议, 群众诉求, 审计整改, 民生实事, 立法意见)",
                     "'2026年2月30日' in the column \"提交日期\" (submitted_on) is not a day of "
                     "the calendar",
                     "unknown department '县不存在局' in the column \"承办单位\" (department)"});
  CHECK(refused[0]["reason"] == three.front());  // the first, as before
  std::vector<std::string> four = texts_of(refused[1]["reasons"]);
  REQUIRE(four.size() == 4);
  CHECK(four[0] ==
        "'2026-11-31' in the column \"提交日期\" (submitted_on) is not a day of the calendar");
  CHECK(four[1] == "the column \"交办日期\" (assigned_on) says 2026-12-01, a day in the future");
  CHECK(four[2] == "'2026/13/1' in the column \"办理期限\" (due) is not a day of the calendar");
  CHECK(four[3] == "department 'jtj' is named more than once as the lead or a co-department");
  CHECK(texts_of(refused[2]["reasons"]) ==
        std::vector<std::string>{"the column \"提交日期\" (submitted_on) must be a date such as "
                                 "2026-11-25, 2026/11/25, 2026.11.25 or 2026年11月25日, not "
                                 "'11/25/2026'"});
  CHECK(o.ok({"list"}).empty());
  CliRun text = o.cli({"import", path});
  CHECK(text.code == 3);
  CHECK(text.out.find("imported 0, duplicates 0, refused 3\n") == 0);
  CHECK(text.out.find("  line 2: unknown department '县不存在局' in the column \"承办单位\"\n") !=
        std::string::npos);  // the column as the file names it
  CHECK(text.out.find("  line 3: department 'jtj' is named more than once") != std::string::npos);
}

TEST_CASE("a dry run reports what the import would, and changes nothing",
          "[files][import][dry-run]") {
  FilesOffice o;
  CHECK(o.ok({"import", o.write("a.csv",
                                "类型,标题,内容,承办单位,提交日期\n"
                                "群众诉求,小区路灯不亮,十二盏路灯不亮,jtj,2026-11-02\n"
                                "群众诉求,道路积水,雨后积水,zjj,2026-11-03\n")})["imported"] == 2);
  // The list again, re-saved and corrected, with new rows and a broken one.
  std::string corrected = o.write("b.csv",
                                  "类型,标题,内容,承办单位,提交日期,备注\n"
                                  "群众诉求,小区路灯不亮,十二盏路灯不亮,jtj,2026-11-02,已交办\n"
                                  "群众诉求,道路积水,雨后积水严重（已更正）,zjj,2026/11/3,\n"
                                  "群众诉求,新的诉求,内容,gaj,2026-11-20,\n"
                                  "群众诉求,新的诉求,内容,gaj,2026-11-20,\n"
                                  "代表建议,坏行,内容,县不存在局,2026-11-31,\n"
                                  "群众诉求,道路积水,另一处积水,gaj,2026-11-04,\n");
  CliRun dry = o.cli({"import", "--dry-run", corrected, "--json"});
  INFO(dry.out << dry.err);
  CHECK(dry.code == 3);  // as the import would: a row is refused
  Json would = dry.parsed();
  CHECK(would["dry_run"] == true);
  CHECK(would["imported"] == 3);    // lines 3, 4 and 7
  CHECK(would["duplicates"] == 2);  // line 2 (imported before), line 5 (repeats line 4)
  REQUIRE(would["refused"].size() == 1);
  CHECK(would["refused"][0]["line"] == 6);
  CHECK(would["refused"][0]["reasons"].size() == 2);
  CHECK(texts_of(would["ignored_columns"]) == std::vector<std::string>{"备注"});
  // Line 3 is the corrected 道路积水 of zjj; line 7's is another department's.
  CHECK(would["possible_duplicates"] == Json::parse(R"([{"line": 3, "id": "2026-000002"}])"));
  for (const auto& item : would["items"])
    if (item["result"] == "imported") CHECK(!item.contains("id"));
  CHECK(o.ok({"list"}).size() == 2);
  CliRun text = o.cli({"import", "--dry-run", corrected});
  CHECK(text.out.find(
            "dry run, nothing imported: would have imported 3, duplicates 2, refused 1\n") == 0);
  CHECK(text.out.find("  line 3: 2026-000002") != std::string::npos);

  CliRun real = o.cli({"import", corrected, "--json"});
  CHECK(real.code == 3);
  Json did = real.parsed();
  CHECK(did["dry_run"] == false);
  CHECK(without_ids(did) == without_ids(would));
  // The dry run took no serial: the import's items are the next ones.
  CHECK(did["items"][1] ==
        Json::parse(R"({"line": 3, "id": "2026-000003", "result": "imported"})"));
  CHECK(did["items"][2]["id"] == "2026-000004");
  CHECK(o.ok({"list"}).size() == 5);
  // Only rows imported now are listed as possible duplicates.
  Json again = o.cli({"import", "--dry-run", corrected, "--json"}).parsed();
  CHECK(again["duplicates"] == 5);
  CHECK(again["possible_duplicates"].empty());
}

TEST_CASE("a dry run of a list longer than one request finds the repeats the import finds",
          "[files][import][dry-run]") {
  FilesOffice o;
  std::string list = "类型,标题,内容,承办单位\n";
  for (int i = 0; i < 228; ++i)
    list += "群众诉求,诉求 " + std::to_string(i) + ",内容 " + std::to_string(i) + ",jtj\n";
  list += "群众诉求,诉求 0,内容 0,jtj\n";    // line 230 repeats line 2
  list += "群众诉求,诉求 1,另一内容,jtj\n";  // line 231: line 3's title, other text
  std::string path = o.write("long.csv", list);
  Json would = o.ok({"import", "--dry-run", path});
  CHECK(would["imported"] == 229);
  CHECK(would["duplicates"] == 1);
  CHECK(would["possible_duplicates"].empty());  // rows of one file are not compared
  Json did = o.ok({"import", path});
  CHECK(without_ids(did) == without_ids(would));
  CHECK(o.ok({"list", "--limit", "1000"}).size() == 229);
}

namespace {

// The ledger's title index as a ledger from before it has it: none (the ledger stopped).
void forget_title_index(const std::string& ledger_dir) {
  auto store = Store::open(ledger_dir);
  REQUIRE(store.ok());
  leveldb::WriteBatch batch;
  (*store)->scan(keys::index_all("title"), [&](std::string_view key, std::string_view) {
    batch.Delete(std::string(key));
    return true;
  });
  batch.Delete(keys::meta("index_title"));
  REQUIRE((*store)->write(&batch, true).ok());
}

}  // namespace

TEST_CASE(
    "a corrected re-import is imported, listing the open items it may repeat, also those recorded "
    "before the index",
    "[files][import]") {
  FilesOffice o;
  const std::string head = "类型,标题,内容,承办单位,提交日期\n";
  Json first = o.ok(
      {"import", o.write("first.csv", head + "群众诉求,小区路灯不亮,十二盏路灯不亮,jtj,2026-11-02\n"
                                             "群众诉求,道路积水,雨后积水,jtj,2026-11-03\n")});
  std::string lights = first["items"][0]["id"], water = first["items"][1]["id"];
  o.cluster.add_account("交通局", {"department"}, "jtj");
  o.ok({"--key", o.cluster.key_file("交通局"), "handle", water, "--reply", "已疏通", "--outcome",
        "solved"});
  o.ok({"verify", water, "--rating", "satisfied", "--via", "paper"});
  o.ok({"close", water});
  REQUIRE(o.cluster.stop("ledger") == 0);
  forget_title_index(o.cluster.dir() + "/data/ledger");
  o.cluster.start("ledger");
  REQUIRE(o.cluster.wait_ready());
  REQUIRE(eventually([&] { return o.cli({"list", "--json"}).code == 0; }));  // the new ledger

  Json again =
      o.ok({"import", o.write("again.csv",
                              head + "群众诉求,小区路灯不亮,十二盏路灯不亮（更正）,jtj,2026-11-02\n"
                                     "群众诉求,道路积水,雨后积水（更正）,jtj,2026-11-03\n")});
  CHECK(again["imported"] == 2);  // imported all the same
  CHECK_FALSE(again.contains("unchecked"));
  // Line 3's item is closed: nothing open to repeat.
  CHECK(again["possible_duplicates"] == Json::array({{{"line", 2}, {"id", lights}}}));
  CHECK(o.ok({"list"}).size() == 4);
}

TEST_CASE("a ledger that does not answer costs the possible duplicates, not the import",
          "[files][import]") {
  FilesOffice o;
  auto client = o.cluster.client(60000);
  REQUIRE(o.cluster.stop("ledger") == 0);
  Json rows = Json::array({{{"line", 2},
                            {"key", "k2"},
                            {"kind", "station"},
                            {"title", "路灯不亮"},
                            {"body", "幸福里"},
                            {"department", "jtj"}}});
  auto pending =
      client->start("import", "", wire::MapBuilder().add_raw("rows", wire::encode_json(rows)).finish());
  std::string last;
  auto imported = [&] {  // intake asked, was answered unavailable, and imported the row
    Json status = o.ok({"status"});
    last = status.dump();
    for (const auto& w : status["workers"])
      if (w["name"] == "intake")
        for (const auto& out : w.value("outbox", Json::array()))
          if (out["to"] == "ledger" && out["entries"] > 0) return true;
    return false;
  };
  bool made = eventually(imported);
  INFO(last);
  REQUIRE(made);
  o.cluster.start("ledger");
  REQUIRE(o.cluster.wait_ready());
  auto reply = pending.get();  // released once the ledger has the item
  Json answer = body_of(reply);
  CHECK(answer["results"][0]["result"] == "imported");
  CHECK(answer["possible_duplicates"].empty());
  std::string why = answer.value("unchecked", std::string());
  CHECK(why.find("the rows were not compared with the open items: the ledger did not answer") == 0);
  CHECK(o.ok({"list"}).size() == 1);
}

TEST_CASE(
    "import --template prints the Chinese header and an example row, importable once filled in",
    "[files][import][template]") {
  FilesOffice o;
  CliRun made = o.cli({"import", "--template"});
  INFO(made.out << made.err);
  REQUIRE(made.code == 0);
  CHECK(made.out.rfind("\xEF\xBB\xBF", 0) == 0);  // for Excel: UTF-8 with a BOM, CRLF
  CHECK(made.out.find("\r\n") != std::string::npos);
  auto table = csv::parse(made.out);
  REQUIRE(table.ok());
  CHECK(table->header == std::vector<std::string>{"类型", "标题", "内容", "承办单位", "类别",
                                                  "来源", "提出人", "会办单位", "办理期限",
                                                  "提交日期", "交办日期", "编号"});
  REQUIRE(table->rows.size() == 1);
  std::string filled = made.out +
                       "审计整改,专项资金未按期拨付,审计发现,县教育局,,,县审计局,,2026年12月31日,"
                       "2026/11/10,2026/11/10,审-31\r\n";
  CliRun imported = o.cli({"import", o.write("filled.csv", filled), "--json"});
  INFO(imported.out << imported.err);
  CHECK(imported.code == 0);
  CHECK(imported.parsed()["imported"] == 2);
  CHECK(imported.parsed()["ignored_columns"].empty());
  CHECK(o.cli({"import"}).code == 2);  // neither a file nor --template
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
                        {"provisional", false},
                        {"code", "station"},
                        {"working_days", 15},
                        {"months", 0}});
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

// A refused row's reasons carry their msgid, arguments and column: the CLI says them in
// its language and names each column as the file's header does.
TEST_CASE("an import's refusals are said in Chinese, naming the column as the file does",
          "[files][import][words]") {
  FilesOffice o;
  std::string path = o.write("audit.csv",
                             "类型,标题,内容,承办单位,办理期限,提交日期\n"
                             "审计整改,缺少期限的审计发现,内容,jyj,,2026-11-10\n");
  auto zh = run_cli(o.cluster.dir(), {"--endpoint", o.cluster.endpoint(), "--config",
                                      o.cluster.config_path(), "import", path},
                    "CLOSELOOP_LANG= ");
  INFO(zh.out << zh.err);
  CHECK(zh.code == 3);
  CHECK(zh.out.find("已导入 0 条，重复 0 条，不予导入 1 条\n") == 0);
  CHECK(zh.out.find("  第 2 行：审计整改事项没有法定办理期限：请填写“办理期限”列\n") !=
        std::string::npos);
  // The JSON keeps its English reasons and adds each one's parts.
  Json summary = o.cli({"import", path, "--json"}).parsed();
  const Json& refused = summary["refused"][0];
  CHECK(refused["reason"] ==
        "an item of kind audit has no statutory due date: fill in the column \"办理期限\" (due)");
  CHECK(refused["reasons_detail"][0]["msgid"] ==
        "an item of kind {kind} has no statutory due date: fill in {field}");
  CHECK(refused["reasons_detail"][0]["field"] == "due");
  CHECK(refused["reasons_detail"][0]["args"] == Json{{"kind", "audit"}});
  // A synonym's header is the name the reason uses; a rule's refusal of a row too.
  std::string synonym = o.write("synonym.csv",
                                "类型,标题,内容,承办单位,办理时限,提交日期\n"
                                "群众诉求,期限早于交办,内容,jtj,2026-11-01,2026-11-10\n");
  CliRun named = run_cli(o.cluster.dir(), {"--endpoint", o.cluster.endpoint(), "--config",
                                           o.cluster.config_path(), "--lang", "zh", "import",
                                           synonym});
  INFO(named.out);
  CHECK(named.out.find("“办理时限”列填写的 2026-11-01 早于交办日期（2026-11-10）") !=
        std::string::npos);
  CliRun en = o.cli({"import", synonym});
  CHECK(en.out.find("  line 2: the column \"办理时限\" says 2026-11-01, before the assignment "
                    "(2026-11-10)\n") != std::string::npos);
  CHECK(o.ok({"list"}).empty());
}
