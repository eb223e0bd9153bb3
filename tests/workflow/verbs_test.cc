// The verb declarations: where each verb goes, the moves it makes, and that the docs
// show the same table.
#include "workflow/verbs.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "i18n/words.h"

using namespace closeloop;

TEST_CASE("the declared moves are the lifecycle", "[workflow][verbs]") {
  auto to = [](std::string_view verb, Stage from) {
    const Move* m = find_verb(verb)->move(from);
    return m ? std::optional<Stage>(m->to) : std::nullopt;
  };
  CHECK(to("assign", Stage::kSubmitted) == Stage::kAssigned);
  CHECK(to("return", Stage::kAssigned) == Stage::kSubmitted);
  CHECK(to("handle", Stage::kAssigned) == Stage::kHandled);
  CHECK(find_verb("verify")->move(Stage::kHandled, Stage::kVerified));
  CHECK(find_verb("verify")->move(Stage::kHandled, Stage::kAssigned));
  CHECK(to("close", Stage::kVerified) == Stage::kClosed);
  CHECK(to("reopen", Stage::kClosed) == Stage::kAssigned);
  CHECK(to("sign", Stage::kAssigned) == Stage::kAssigned);
  CHECK_FALSE(to("handle", Stage::kSubmitted));
  CHECK_FALSE(to("verify", Stage::kVerified));
  for (std::string_view verb : {"assign", "return", "handle", "verify", "close", "sign"})
    CHECK_FALSE(to(verb, Stage::kClosed));
  CHECK(find_verb("submit")->creates());
  CHECK(to("reassign", Stage::kAssigned) == Stage::kAssigned);
  CHECK_FALSE(to("reassign", Stage::kHandled));  // replied: no longer
  for (Stage s : {Stage::kSubmitted, Stage::kAssigned, Stage::kHandled, Stage::kVerified})
    CHECK(to("withdraw", s) == Stage::kWithdrawn);
  CHECK_FALSE(to("withdraw", Stage::kClosed));
  for (const Verb& v : verbs()) {  // withdrawn is the end: nothing leaves it
    INFO(v.name);
    CHECK_FALSE(v.move(Stage::kWithdrawn));
  }
  CHECK(ended(Stage::kClosed));
  CHECK(ended(Stage::kWithdrawn));
  CHECK_FALSE(ended(Stage::kVerified));
  CHECK(owner_of(Stage::kWithdrawn) == "close");
}

TEST_CASE("every verb goes to the owner of a stage it acts on", "[workflow][verbs]") {
  for (const Verb& v : verbs()) {
    INFO(v.name);
    if (v.kind == VerbKind::kQuery) CHECK(!v.service.empty());
    if (v.kind != VerbKind::kCommand) continue;
    if (v.creates()) {
      CHECK(v.service == kIntake);
      continue;
    }
    bool owns_one = false;
    for (const Move& m : v.moves) owns_one |= owner_of(m.from) == v.service;
    CHECK(owns_one);  // the others are reached by forwarding
    CHECK(known_action(v.trail_action()));
  }
  CHECK(service_for("submit") == "intake");
  CHECK(service_for("show") == "ledger");
  CHECK(service_for("nonsense").empty());
  CHECK(service_for("timer.overdue").empty());  // internal: workers only
  CHECK(find_verb("timer.overdue")->trail_action() == "overdue");
  CHECK(find_verb("overdue")->kind == VerbKind::kQuery);
}

TEST_CASE("a refusal names the current stage and what it allows", "[workflow][verbs]") {
  Error refused = refusal("2026-000001", Stage::kVerified, "handle");
  CHECK(refused.code == errc::kRefused);
  CHECK(refused.message ==
        "cannot handle item 2026-000001: it is verified, which allows close, withdraw, "
        "promise-kept, milestone");
  // Said in Chinese, the stage and the verbs are named.
  CHECK(i18n::say(i18n::Language::kZh, refused) ==
        "不能对事项 2026-000001 执行“答复”：该事项已评价，此时只能执行 办结、撤销、承诺兑现、节点完成");
  CHECK(allowed_verbs(Stage::kHandled) == "verify, withdraw, promise-kept, milestone");
  CHECK(allowed_verbs(Stage::kSubmitted) == "assign, withdraw");
  CHECK(allowed_verbs(Stage::kWithdrawn) == "nothing");
  // The office's assign on an assigned item names the verb that moves it (issue 17).
  CHECK_THAT(refusal("2026-000001", Stage::kAssigned, "assign").message,
             Catch::StartsWith("cannot assign item 2026-000001: it is assigned, which allows reassign, "));
}

TEST_CASE("stage names round-trip", "[workflow][verbs]") {
  for (Stage s : kStages) CHECK(parse_stage(to_string(s)) == s);
  CHECK_FALSE(parse_stage("done"));
}

TEST_CASE("docs/protocol.md holds the verb table generated from the declarations",
          "[workflow][verbs][docs]") {
  std::ifstream in(CLOSELOOP_SOURCE_DIR "/docs/protocol.md");
  std::stringstream doc;
  doc << in.rdbuf();
  INFO("regenerate it with: build/bin/closeloop verbs --markdown");
  CHECK(doc.str().find(verbs_markdown()) != std::string::npos);
}
