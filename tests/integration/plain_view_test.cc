// The record in plain view (workflow/view.h): the reply's words, the opinions, the
// two-part evaluation with its comment and imported history's original dates, in `show`
// (text and --json), in `trail`'s one-line substance and in the items export.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "harness.h"
#include "workflow/item.h"

using namespace closeloop;
using namespace closeloop::test;
using wire::Json;

namespace {

constexpr const char* kReply =
    "经现场查看，西街三处路灯线路老化，已于12月3日更换线路并恢复照明，今后纳入月度巡查。";

// An item replied by jtj with zjj's opinion, and evaluated in two parts, on the test's clock.
struct Replied {
  Cluster cluster{"", /*test_clock=*/true};
  std::unique_ptr<Client> client;
  std::unique_ptr<Desk> desk;
  std::string id;

  Replied() {
    cluster.set_clock("2026-12-01T01:00:00Z");
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    client = cluster.client();
    desk = std::make_unique<Desk>(cluster, *client);
    id = body_of(desk->submit("西街路灯不亮", "西街三处路灯不亮", "transport"))["item"]["id"];
    REQUIRE(body_of(desk->assign(id, "jtj", {"zjj"}))["item"]["stage"] == "assigned");
    body_of(desk->command("opinion", id, {{"department", "zjj"}, {"text", "同意交通局意见"}}));
    body_of(desk->handle(id, "jtj", kReply));
    body_of(desk->command("verify", id,
                          {{"attitude", "satisfied"},
                           {"result", "basically-satisfied"},
                           {"comment", "希望加快巡查频次"},
                           {"via", "paper"}}));
  }
  CliRun cli(std::vector<std::string> args, const std::string& prefix = "") {
    args.insert(args.begin(), {"--endpoint", cluster.endpoint()});
    return run_cli(cluster.dir(), args, prefix);
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("show has the reply, the opinion and the two-part evaluation, as text and as JSON",
          "[view]") {
  Replied r;
  CliRun json = r.cli({"show", r.id, "--json"});
  INFO(json.err);
  REQUIRE(json.code == 0);
  Json item = json.parsed();
  CHECK(item["reply"]["text"] == kReply);
  CHECK(item["reply"]["outcome"] == "solved");
  CHECK(item["reply"]["department"] == "jtj");
  CHECK(item["reply"]["by"] == "clerk-jtj");
  CHECK(item["reply"]["at"].get<std::string>().starts_with("2026-12-01T"));
  CHECK(item["opinions"][0]["text"] == "同意交通局意见");
  CHECK(item["evaluation"]["comment"] == "希望加快巡查频次");
  CHECK_FALSE(item.contains("original_dates"));  // nothing imported

  CliRun en = r.cli({"show", r.id});
  REQUIRE(en.code == 0);
  INFO(en.out);
  CHECK(has(en.out, kReply));
  CHECK(has(en.out, "同意交通局意见"));
  CHECK(has(en.out, "attitude satisfied, result basically-satisfied"));
  CHECK(has(en.out, "希望加快巡查频次"));
  CliRun zh = r.cli({"show", r.id}, "CLOSELOOP_LANG=zh ");
  INFO(zh.out);
  CHECK(has(zh.out, "答复"));
  CHECK(has(zh.out, "已解决"));
  CHECK(has(zh.out, "办理态度：满意，办理结果：基本满意"));
  CHECK(has(zh.out, "会办意见"));
}

TEST_CASE("trail shows each event's substance in one line", "[view]") {
  Replied r;
  CliRun trail = r.cli({"trail", r.id});
  REQUIRE(trail.code == 0);
  INFO(trail.out);
  // The reply's first words, not its whole text; the opinion; the evaluation's parts.
  CHECK(has(trail.out, "solved: 经现场查看，西街三处路灯线路老化"));
  CHECK_FALSE(has(trail.out, "今后纳入月度巡查"));
  CHECK(has(trail.out, "同意交通局意见"));
  CHECK(has(trail.out, "satisfied/basically-satisfied: 希望加快巡查频次"));
  CHECK(has(trail.out, "seq"));  // a header
}

TEST_CASE("the items export has department names, the reply, the evaluation and the due basis",
          "[view][files]") {
  Replied r;
  std::string path = r.cluster.dir() + "/items.csv";
  CliRun exported = r.cli({"export", "--what", "items", "--from", "2026-12-01", "--to", "2026-12-01",
                              "--format", "csv", "--out", path});
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  std::string csv = read_file(path);
  INFO(csv);
  CHECK(has(csv, "department_name"));
  CHECK(has(csv, "县交通运输局"));
  CHECK(has(csv, "县住房和城乡建设局"));  // the co-department's name
  CHECK(has(csv, kReply));
  CHECK(has(csv, "希望加快巡查频次"));
  CHECK(has(csv, "working days"));  // the due basis
  CliRun json = r.cli({"export", "--what", "items", "--from", "2026-12-01", "--to", "2026-12-01",
                          "--format", "json"});
  REQUIRE(json.code == 0);
  Json items = json.parsed();
  REQUIRE(items.size() == 1);
  CHECK(items[0]["reply"]["text"] == kReply);
  CHECK(items[0]["department_name"] == "县交通运输局");
}

TEST_CASE("imported history shows its original dates in show and trail", "[view][import]") {
  Cluster cluster{"", /*test_clock=*/true};
  cluster.set_clock("2026-12-01T01:00:00Z");
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  std::string path = cluster.dir() + "/history.csv";
  std::ofstream(path) << "类型,标题,内容,承办单位,办理期限,提交日期,交办日期\n"
                         "群众诉求,去年的路灯诉求,东街路灯,jtj,2026-12-30,2025-11-03,2025-11-10\n";
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--endpoint", cluster.endpoint()});
    return run_cli(cluster.dir(), args);
  };
  CliRun imported = cli({"import", path, "--json"});
  INFO(imported.out << imported.err);
  REQUIRE(imported.code == 0);
  std::string id = imported.parsed()["items"][0]["id"];
  CliRun shown = cli({"show", id, "--json"});
  REQUIRE(shown.code == 0);
  Json item = shown.parsed();
  CHECK(item["original_dates"]["submit"] == "2025-11-03");
  CHECK(item["original_dates"]["assign"] == "2025-11-10");
  CliRun trail = cli({"trail", id});
  INFO(trail.out);
  CHECK(has(trail.out, "2025-11-03 (recorded 2026-12-01"));
  CHECK(has(trail.out, "2025-11-10 (recorded 2026-12-01"));
}
