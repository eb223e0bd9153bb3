#include <catch2/catch.hpp>

#include "wire/message.h"
#include "workflow/lifecycle.h"

using namespace closeloop;

TEST_CASE("the table allows exactly the documented transitions", "[workflow][lifecycle]") {
  CHECK(find_transition(Stage::kSubmitted, "assign")->to == Stage::kAssigned);
  CHECK(find_transition(Stage::kAssigned, "return")->to == Stage::kSubmitted);
  CHECK(find_transition(Stage::kAssigned, "handle")->to == Stage::kHandled);
  CHECK(find_transition(Stage::kHandled, "verify", false)->to == Stage::kVerified);
  CHECK(find_transition(Stage::kHandled, "verify", true)->to == Stage::kAssigned);
  CHECK(find_transition(Stage::kVerified, "close")->to == Stage::kClosed);
  CHECK_FALSE(find_transition(Stage::kSubmitted, "handle"));
  CHECK_FALSE(find_transition(Stage::kVerified, "verify"));
  for (std::string_view verb : {"assign", "return", "handle", "verify", "close"})
    CHECK_FALSE(find_transition(Stage::kClosed, verb));
}

TEST_CASE("every verb is routed to the owner of the stage it starts from", "[workflow][lifecycle]") {
  for (const Transition& t : kLifecycle) CHECK(wire::service_for(t.verb) == owner_of(t.from));
  CHECK(wire::service_for("submit") == kIntake);
}

TEST_CASE("a refusal names the current stage and what it allows", "[workflow][lifecycle]") {
  CHECK(refusal("2026-000001", Stage::kAssigned, "close") ==
        "cannot close item 2026-000001: it is assigned, which allows return, handle");
  CHECK(allowed_verbs(Stage::kClosed) == "nothing");
  CHECK(allowed_verbs(Stage::kHandled) == "verify");
}

TEST_CASE("stage names round-trip", "[workflow][lifecycle]") {
  for (Stage s : {Stage::kSubmitted, Stage::kAssigned, Stage::kHandled, Stage::kVerified,
                  Stage::kClosed})
    CHECK(parse_stage(to_string(s)) == s);
  CHECK_FALSE(parse_stage("done"));
}
