// Words for people (docs/architecture.md, "Words for people"): the CLI speaks Chinese by
// default and English when asked, the service's refusals included; times on the screen and
// in the logs are the office's wall clock, with its offset.
#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

struct Spoken : Running {
  Spoken() : Running() {}  // no route: a submitted item stays submitted
  CliRun cli(std::vector<std::string> args, const std::string& prefix = "") {
    args.insert(args.begin(), {"--endpoint", cluster.endpoint()});
    return run_cli(cluster.dir(), args, prefix);
  }
  std::string submitted() {
    CliRun r = cli({"submit", "--title", "路灯不亮", "--body", "西街路灯三处不亮", "--category",
                    "transport", "--json"});
    REQUIRE(r.code == 0);
    return r.parsed()["id"].get<std::string>();
  }
};

}  // namespace

TEST_CASE("a refusal is said in Chinese by default and in English when asked", "[words]") {
  Spoken s;
  std::string id = s.submitted();
  // CLOSELOOP_LANG unset (the harness's en taken back): the config's language, zh.
  CliRun zh = s.cli({"close", id}, "CLOSELOOP_LANG= ");
  INFO("zh: " << zh.err);
  CHECK(zh.code == 3);
  CHECK(zh.err.find("closeloop: refused: 不能对事项 " + id + " 执行“办结”：该事项已登记，此时只能执行 交办") !=
        std::string::npos);
  CliRun en = s.cli({"--lang", "en", "close", id}, "CLOSELOOP_LANG=zh ");
  INFO("en: " << en.err);
  CHECK(en.code == 3);
  CHECK(en.err.find("closeloop: refused: cannot close item " + id + ": it is submitted, which allows assign") !=
        std::string::npos);
  // --lang after the verb too; the environment before the config.
  CliRun after = s.cli({"close", id, "--lang", "zh"});
  CHECK(after.err.find("该事项已登记") != std::string::npos);
  CliRun env = s.cli({"show", "2026-999999"}, "CLOSELOOP_LANG=zh ");
  CHECK(env.code == 3);
  CHECK(env.err.find("closeloop: not_found: 没有事项 2026-999999") != std::string::npos);
  // A field is named as the CLI's flag.
  CliRun field = s.cli(
      {"submit", "--title", "t", "--body", "b", "--category", "transport", "--kind", "nonsense"},
      "CLOSELOOP_LANG=zh ");
  CHECK(field.code == 3);
  CHECK(field.err.find("--kind 须为") != std::string::npos);
}

TEST_CASE("help and usage errors are in the CLI's language", "[words]") {
  Spoken s;
  CliRun help = s.cli({"--help"}, "CLOSELOOP_LANG=zh ");
  CHECK(help.code == 0);
  CHECK(help.out.find("登记新事项") != std::string::npos);
  CHECK(help.out.find("子命令:") != std::string::npos);
  CliRun usage = s.cli({"assign"}, "CLOSELOOP_LANG=zh ");
  CHECK(usage.code == 2);
  CHECK(usage.err.find("缺少必填项") != std::string::npos);
  CliRun english = s.cli({"assign", "--help"});
  CHECK(english.out.find("assign a submitted item to a lead department") != std::string::npos);
  CliRun bad = s.cli({"--lang", "fr", "ping"});
  CHECK(bad.code == 2);
}

TEST_CASE("times on the screen and in the logs carry the office's zone", "[words]") {
  Spoken s;
  std::string id = s.submitted();
  CliRun trail = s.cli({"trail", id});
  REQUIRE(trail.code == 0);
  // Asia/Shanghai, the harness config's zone: +08:00, not the stored UTC.
  CHECK(std::regex_search(trail.out, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d \+08:00)")));
  CHECK(trail.out.find("Z ") == std::string::npos);
  CliRun json = s.cli({"trail", id, "--json"});
  CHECK(json.parsed()[0]["at"].get<std::string>().back() == 'Z');  // JSON keeps its format
  for (const char* process : {"broker", "intake", "ledger"}) {
    std::string log = read_file(s.cluster.dir() + "/" + process + ".log");
    INFO(process << ".log:\n" << log.substr(0, 400));
    CHECK(std::regex_search(log, std::regex(R"(\d\d:\d\d:\d\d\.\d{3} \+08:00 )")));
  }
}

// A rule's refusal is made in the worker with its msgid, arguments and field: the CLI says
// it in its language and names the field as its flag.
TEST_CASE("a rule's refusal names the CLI's flag, in Chinese by default and in English when asked",
          "[words][supervision]") {
  Spoken s;
  std::string id = s.submitted();
  REQUIRE(s.cli({"assign", id, "--department", "zjj"}).code == 0);
  s.cluster.add_account("住建局", {"department"}, "zjj");
  std::vector<std::string> reply{"--key", s.cluster.key_file("住建局"), "handle", id, "--reply",
                                 "正在施工", "--outcome", "in-progress"};
  CliRun zh = s.cli(reply, "CLOSELOOP_LANG= ");
  INFO("zh: " << zh.err);
  CHECK(zh.code == 3);
  CHECK(zh.err.find("closeloop: invalid: 办理结果为 正在解决 的答复须填写 --promise YYYY-MM-DD") !=
        std::string::npos);
  reply.insert(reply.begin(), {"--lang", "en"});
  CliRun en = s.cli(reply, "CLOSELOOP_LANG=zh ");
  INFO("en: " << en.err);
  CHECK(en.code == 3);
  CHECK(en.err.find("closeloop: invalid: a reply that is in-progress needs --promise YYYY-MM-DD") !=
        std::string::npos);
  CHECK(s.cli({"show", id, "--json"}).parsed()["stage"] == "assigned");  // nothing changed
  // A time in a refusal is the office's wall clock, with its offset.
  std::vector<std::string> sign{"--key", s.cluster.key_file("住建局"), "sign", id};
  REQUIRE(s.cli(sign).code == 0);
  CliRun again = s.cli(sign);
  INFO(again.err);
  CHECK(std::regex_search(again.err, std::regex("was signed for by zjj at 20\\d\\d-\\d\\d-\\d\\d "
                                                "\\d\\d:\\d\\d \\+08:00")));
}

// The due date's basis is recorded with its rule's code beside its English words, and
// shown in the reader's language.
TEST_CASE("show says the due date's basis in Chinese, from its rule's code", "[words][deadline]") {
  Spoken s;
  CliRun submitted = s.cli({"submit", "--title", "路灯不亮", "--body", "西街路灯三处不亮",
                            "--kind", "station", "--json"});
  REQUIRE(submitted.code == 0);
  std::string id = submitted.parsed()["id"];
  CliRun assigned = s.cli({"assign", id, "--department", "zjj", "--json"});
  REQUIRE(assigned.code == 0);
  wire::Json basis = assigned.parsed()["due_basis"];
  CHECK(basis["code"] == "station");
  CHECK(basis["rule"] == "station: 15 working days after assignment");  // as ever, in English
  std::string from = basis["from"];
  CliRun zh = s.cli({"show", id}, "CLOSELOOP_LANG= ");
  INFO(zh.out);
  CHECK(zh.out.find("（群众诉求：自交办之日起15个工作日，起算日 " + from) != std::string::npos);
  CliRun en = s.cli({"show", id});
  CHECK(en.out.find("(station: 15 working days after assignment, from " + from) != std::string::npos);
  // The trail verifies: the fold takes the basis, code and all, from the assign event.
  CliRun verified = s.cli({"trail", id, "--verify"});
  INFO(verified.out << verified.err);
  CHECK(verified.code == 0);
  CliRun due = s.cli({"due", "--from", "2026-02-02", "--kind", "station"}, "CLOSELOOP_LANG= ");
  CHECK(due.out.find("2026-02-28  （群众诉求：自交办之日起15个工作日，起算日 2026-02-02；cn-2026 ") == 0);
}
