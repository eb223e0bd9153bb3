// Importing a list (workflow/import.h): the dates, headers and rows as Excel leaves them,
// and every reason a row is refused for.
#include "workflow/import.h"

#include "fixtures.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

Result<ImportFile> read_list(const std::string& text) {
  auto table = csv::parse(text);
  REQUIRE(table.ok());
  return read_import(*table);
}

// plan_import of one row, on 30 November 2026, with two categories.
ImportPlan plan_row(const Json& row) {
  static const Config config = [] {
    Config c = office_config();
    c.categories = {{"transport", "交通出行"}, {"business", "营商环境"}};
    return c;
  }();
  Setting now{config, shipped(), "2026-11-30T01:00:00.000Z", *Date::parse("2026-11-30"), ""};
  Json full = row;
  full["line"] = 2;
  full["key"] = "k";
  std::string bytes = wire::encode_json(full);
  auto decoded = wire::decode(bytes.data(), bytes.size());
  return plan_import(decoded->get(), "office", now);
}

}  // namespace

TEST_CASE("import dates: the forms Excel writes, with or without leading zeros", "[import]") {
  for (const char* text : {"2026-11-05", "2026-11-5", "2026/11/05", "2026/11/5", "2026.11.5",
                           "2026年11月5日", "2026年11月05日", "2026/11/5 0:00", "2026/11/5 14:30:00"})
    CHECK(import_date(text) == "2026-11-05");
  CHECK(import_date("2026/1/1") == "2026-01-01");
  for (const char* text : {"2026年2月30日", "2026-02-29", "2026/13/1", "2026.11.31", "11/25/2026",
                           "2026-11/25", "2026年11月5", "20261105", "2026/11/5 25:00", "", "明天"})
    CHECK_FALSE(import_date(text));
  CHECK(import_date("2028-02-29") == "2028-02-29");  // a leap year
}

TEST_CASE("import headers: synonyms, an office's marks, ignored columns named", "[import]") {
  auto file = read_list("序号,事项类型,*题目,问题描述（详细）,责任单位,办理时限,Submitted_On,备注,\n"
                        "1,群众诉求,路灯,不亮,jtj,2026年12月1日,2026/11/2,无,\n");
  REQUIRE(file.ok());
  CHECK(file->ignored_columns == std::vector<std::string>{"序号", "备注"});  // not the empty one
  REQUIRE(file->rows.size() == 1);
  const Json& row = file->rows[0];
  CHECK(row["kind"] == "群众诉求");
  CHECK(row["title"] == "路灯");
  CHECK(row["body"] == "不亮");
  CHECK(row["due"] == "2026-12-01");           // sent as YYYY-MM-DD
  CHECK(row["submitted_on"] == "2026-11-02");  // so the same row re-saved has the same key
  auto iso = read_list("类型,标题,内容,承办单位,办理期限,提交日期\n"
                       "群众诉求,路灯,不亮,jtj,2026-12-01,2026-11-02\n");
  CHECK(iso->rows[0]["key"] == row["key"]);

  auto twice = read_list("类型,标题,内容,承办单位,期限,办理时限\n");
  REQUIRE_FALSE(twice.ok());
  CHECK(reason_text(twice.error()) ==
        "the header names the column \"办理期限\" (due) twice: '期限' and '办理时限'");
  CHECK(twice.error().field == "due");
  auto lacking = read_list("标题,内容\n");
  REQUIRE_FALSE(lacking.ok());
  CHECK(lacking.error().message ==
        "not an import list: the header lacks the columns 类型 (kind), 承办单位 (department)");
}

std::vector<std::string> texts(const Reasons& reasons) {
  std::vector<std::string> out;
  for (const Error& e : reasons) out.push_back(reason_text(e));
  return out;
}

TEST_CASE("import rows: a category by its name, every reason of a row", "[import]") {
  ImportPlan good = plan_row({{"kind", "审计整改"}, {"title", "t"}, {"body", "b"},
                              {"department", "县教育局"}, {"category", "营商环境"},
                              {"due", "2026年12月31日"}, {"submitted_on", "2026/11/2"}});
  REQUIRE(good.ok());
  CHECK(good.submit.fields["category"] == "business");
  CHECK(good.submit.fields["kind"] == "audit");
  CHECK(good.assign->fields["department"] == "jyj");
  CHECK(good.assign->fields["due"] == "2026-12-31");
  CHECK(good.submitted_on == "2026-11-02");
  CHECK(good.assigned_on == "2026-11-02");  // the submission's day when none is given
  CHECK(good.department == "jyj");
  CHECK(good.title == "t");

  ImportPlan bad = plan_row({{"kind", "审计整改"}, {"title", std::string(201, 'x')},
                             {"category", "交通"}, {"department", "jtj,县不存在局"},
                             {"co_departments", "jtj"}, {"submitted_on", "2026-12-02"}});
  CHECK(texts(bad.reasons) == std::vector<std::string>{
                           "unknown category '交通' in the column \"类别\" (category): write a "
                           "category's code or its name as the config lists them",
                           "the column \"标题\" (title) is longer than 200 characters",
                           "the column \"提交日期\" (submitted_on) says 2026-12-02, a day in the "
                           "future",
                           "unknown department '县不存在局' in the column \"承办单位\" (department)",
                           "department 'jtj' is named more than once as the lead or a co-department",
                           "an item of kind audit has no statutory due date: fill in the column "
                           "\"办理期限\" (due)"});
  std::vector<std::string> columns;
  for (const Error& e : bad.reasons) columns.push_back(e.field);
  CHECK(columns == std::vector<std::string>{"category", "title", "submitted_on", "department",
                                            "co_departments", "due"});
  ImportPlan two_leads = plan_row({{"kind", "station"}, {"title", "t"}, {"department", "jtj、zjj"}});
  CHECK(texts(two_leads.reasons) == std::vector<std::string>{
                                 "the column \"承办单位\" (department) names 2 departments: a row "
                                 "has one lead department, the others go in the column \"会办单位\" "
                                 "(co_departments)"});
  ImportPlan late = plan_row({{"kind", "station"}, {"title", "t"}, {"department", "jtj"},
                              {"due", "2026-10-01"}, {"submitted_on", "2026-10-08"},
                              {"assigned_on", "2026-10-05"}});
  CHECK(texts(late.reasons) == std::vector<std::string>{
                            "the column \"交办日期\" (assigned_on), 2026-10-05, is before the "
                            "column \"提交日期\" (submitted_on), 2026-10-08",
                            "the column \"办理期限\" (due) says 2026-10-01, before the assignment "
                            "(2026-10-05)"});
  ImportPlan empty = plan_row({{"kind", ""}, {"department", ""}});
  std::vector<std::string> said;
  for (const Error& e : empty.reasons)
    said.push_back(i18n::say(i18n::Language::kZh, e, import_voice(i18n::Language::kZh, {{"title", "题目"}})));
  CHECK(said.back() == "填写“题目”列");  // the column as the file names it
  CHECK(empty.reasons.size() == 2);  // the kind, the title; no department: not assigned
}

TEST_CASE("the import template is a header and a row that imports as it is", "[import]") {
  Config config = office_config();
  auto rows = import_template(config, *Date::parse("2026-11-30"));
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].size() == rows[1].size());
  std::string text;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + csv::field(row[i]);
    text += "\n";
  }
  auto file = read_list(text);
  REQUIRE(file.ok());
  CHECK(file->ignored_columns.empty());
  REQUIRE(file->rows.size() == 1);
  CHECK(file->rows[0]["department"] == "县住房和城乡建设局");
  CHECK(file->rows[0]["submitted_on"] == "2026-11-30");
  ImportPlan plan = plan_row(file->rows[0]);
  CHECK(plan.reasons.empty());
  CHECK(plan.assign);
}
