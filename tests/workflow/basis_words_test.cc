// A due date's basis said in each language from its code and numbers (workflow/deadline.h).
#include <catch2/catch.hpp>

#include "workflow/deadline.h"

using namespace closeloop;
using i18n::Language;

namespace {

DueBasis basis(std::string code, std::string rule, uint64_t days, uint64_t months) {
  DueBasis b;
  b.code = std::move(code), b.rule = std::move(rule), b.from = "2026-03-02";
  b.calendar = "cn-2026 3f2a9c1b04d7", b.working_days = days, b.months = months;
  return b;
}

}  // namespace

TEST_CASE("a basis is said from its code: its English is the rule's words", "[deadline]") {
  Calendar weekends;
  Rules rules;
  for (bool complex : {false, true})
    for (const char* after : {"assignment", "reassignment"}) {
      auto due = statutory_due(rules, weekends, "suggestion", complex, *Date::parse("2026-03-02"), after);
      REQUIRE(due);
      Sentence s = basis_message(due->basis);
      CHECK(i18n::say(Language::kEn, s.msgid, s.args) == due->basis.rule);
    }
  auto station = statutory_due(rules, weekends, "station", false, *Date::parse("2026-03-02"));
  station->basis.provisional = false;  // a calendar without files: weekends alone
  Sentence s = basis_message(station->basis);
  CHECK(i18n::say(Language::kEn, s.msgid, s.args) == station->basis.rule);
  CHECK(say_basis(Language::kEn, station->basis) ==
        "(station: 15 working days after assignment, from 2026-03-02)");
  CHECK(say_basis(Language::kZh, station->basis) ==
        "（群众诉求：自交办之日起15个工作日，起算日 2026-03-02）");
}

TEST_CASE("every rule code is said in Chinese, and an older basis by its words", "[deadline]") {
  for (const DueBasis& b :
       {basis("given", "set at assignment (--due)", 0, 0),
        basis("given_reassigned", "set at reassignment", 0, 0),
        basis("last_milestone", "project: the last milestone", 0, 0),
        basis("rework", "rework: 1 month after the unsatisfied evaluation", 0, 1),
        basis("reopen", "reopened: 3 months after reopening", 0, 3),
        basis("station_reassigned", "station: 15 working days after reassignment", 15, 0),
        basis("period", "5 working days after 2026-03-02", 5, 0)}) {
    Sentence coded = basis_message(b);
    std::string zh = i18n::say(Language::kZh, coded.msgid, coded.args);
    INFO(b.code << ": " << zh);
    CHECK(zh != b.rule);
    CHECK(zh.find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos);
    DueBasis older = b;  // as recorded before codes: said the same from its words
    older.code.clear();
    if (b.code != "period") {
      Sentence words = basis_message(older);
      CHECK(words.msgid == coded.msgid);
    }
  }
  DueBasis extension = basis("", "extension approved (was 2026-04-01)", 0, 0);
  Sentence s = basis_message(extension);
  CHECK(s.args == MessageArgs{{"was", "2026-04-01"}});
  CHECK(i18n::say(Language::kZh, s.msgid, s.args).find("2026-04-01") != std::string::npos);
  DueBasis unknown = basis("", "by a rule of a newer version", 0, 0);
  CHECK(basis_message(unknown).msgid == "by a rule of a newer version");  // its words as they are
  DueBasis provisional = basis("station", "station: 15 working days after assignment", 15, 0);
  provisional.provisional = true;
  CHECK_THAT(say_basis(Language::kEn, provisional, true),
             Catch::Contains("cn-2026 3f2a9c1b04d7; PROVISIONAL"));
}
