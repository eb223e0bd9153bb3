#include <catch2/catch.hpp>

#include "workflow/command.h"

using namespace closeloop;

namespace {

Config county() {
  Config c;
  c.departments = {{"zjj", "县住房和城乡建设局"}, {"jtj", "县交通运输局"}};
  return c;
}

Command make(std::string verb, std::string actor = "王芳") {
  Command c;
  c.verb = std::move(verb);
  c.actor = std::move(actor);
  c.item_id = "2026-000001";
  return c;
}

Item submitted() {
  Command s = make("submit");
  s.title = "路灯不亮";
  return create_item(s, "2026-000001", "2026-11-27T00:00:00.000Z").item;
}

Result<Command> round_trip(const Command& c) {
  std::string bytes = wire::encode_request(c.verb, 1, c.actor, encode_command_body(c));
  auto request = wire::decode_request(bytes.data(), bytes.size());
  REQUIRE(request.ok());
  return decode_command(*request);
}

}  // namespace

TEST_CASE("a command survives encode and decode", "[workflow][command]") {
  Command c = make("assign");
  c.department = "zjj";
  c.co_departments = {"jtj"};
  c.due = "2026-12-31";
  auto back = round_trip(c);
  REQUIRE(back.ok());
  CHECK(back->department == "zjj");
  CHECK(back->co_departments == std::vector<std::string>{"jtj"});
  CHECK(back->due == "2026-12-31");
}

TEST_CASE("decode_command checks what needs no state", "[workflow][command]") {
  Command empty_title = make("submit");
  empty_title.title = "   ";
  CHECK(round_trip(empty_title).error().code == errc::kInvalid);
  Command long_title = make("submit");
  for (int i = 0; i < 201; ++i) long_title.title += "字";
  CHECK(round_trip(long_title).error().code == errc::kInvalid);
  Command ok_title = make("submit");
  for (int i = 0; i < 200; ++i) ok_title.title += "字";
  CHECK(round_trip(ok_title).ok());
  Command outcome = make("handle");
  outcome.department = "zjj", outcome.reply = "r", outcome.outcome = "done";
  CHECK(round_trip(outcome).error().message.find("outcome must be one of") == 0);
  Command rating = make("verify");
  rating.rating = "great";
  CHECK(round_trip(rating).error().code == errc::kInvalid);
  Command no_actor = make("close", "");
  CHECK(round_trip(no_actor).error().code == errc::kInvalid);
  Command bad_due = make("assign");
  bad_due.department = "zjj", bad_due.due = "2026-02-30";
  CHECK(round_trip(bad_due).error().code == errc::kInvalid);
}

TEST_CASE("decide walks the whole lifecycle and chains every event", "[workflow][command]") {
  Config config = county();
  Item item = submitted();
  CHECK(item.seq == 1);
  Command assign = make("assign");
  assign.department = "zjj";
  auto a = decide(item, assign, config, "t2");
  REQUIRE(a.ok());
  CHECK(a->item.stage == Stage::kAssigned);
  CHECK(a->event.prev_hash == item.head);
  CHECK(a->event.department == "zjj");
  Command handle = make("handle");
  handle.department = "zjj", handle.reply = "已修复", handle.outcome = "solved";
  auto h = decide(a->item, handle, config, "t3");
  REQUIRE(h.ok());
  Command unsatisfied = make("verify");
  unsatisfied.rating = "unsatisfied";
  auto rework = decide(h->item, unsatisfied, config, "t4");
  REQUIRE(rework.ok());
  CHECK(rework->item.stage == Stage::kAssigned);
  CHECK(rework->item.rework_count == 1);
  CHECK(rework->item.department == "zjj");
}

TEST_CASE("decide refuses what the stage or the department does not allow", "[workflow][command]") {
  Config config = county();
  Item item = submitted();
  CHECK(decide(item, make("close"), config, "t").error().code == errc::kRefused);
  Command unknown = make("assign");
  unknown.department = "nosuch";
  CHECK(decide(item, unknown, config, "t").error().code == errc::kInvalid);
  Command twice = make("assign");
  twice.department = "zjj", twice.co_departments = {"zjj"};
  CHECK(decide(item, twice, config, "t").error().code == errc::kInvalid);
  Command assign = make("assign");
  assign.department = "zjj";
  Item assigned = decide(item, assign, config, "t")->item;
  Command other = make("return");
  other.department = "jtj", other.reason = "不是我们的";
  CHECK(decide(assigned, other, config, "t").error().code == errc::kForbidden);
  Command mine = make("return");
  mine.department = "zjj", mine.reason = "职责不符";
  auto back = decide(assigned, mine, config, "t");
  REQUIRE(back.ok());
  CHECK(back->item.stage == Stage::kSubmitted);
  CHECK(back->item.department.empty());
}
