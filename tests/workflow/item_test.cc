#include <catch2/catch.hpp>

#include "workflow/command.h"

using namespace closeloop;

namespace {

std::vector<Event> three_events() {
  Config config;
  config.departments = {{"zjj", "县住建局"}};
  Command submit;
  submit.verb = "submit", submit.actor = "张三", submit.title = "路灯";
  Step s = create_item(submit, "2026-000009", "t1");
  Command assign;
  assign.verb = "assign", assign.actor = "王芳", assign.item_id = s.item.id, assign.department = "zjj";
  Step a = *decide(s.item, assign, config, "t2");
  Command handle = assign;
  handle.verb = "handle", handle.reply = "已修", handle.outcome = "solved";
  Step h = *decide(a.item, handle, config, "t3");
  return {s.event, a.event, h.event};
}

}  // namespace

TEST_CASE("items and events round-trip through MessagePack", "[workflow][item]") {
  auto events = three_events();
  auto back = decode_event(encode(events[1]));
  REQUIRE(back.ok());
  CHECK(back->hash == events[1].hash);
  CHECK(back->payload == events[1].payload);
  Item item;
  item.id = "2026-000001", item.title = "标题", item.co_departments = {"jtj", "zjj"};
  auto item_back = decode_item(encode(item));
  REQUIRE(item_back.ok());
  CHECK(item_back->co_departments == item.co_departments);
}

TEST_CASE("a chained trail verifies and the first genesis link is zeros", "[workflow][trail]") {
  auto events = three_events();
  CHECK(events[0].prev_hash == kGenesisHash);
  CHECK(first_bad_seq(events) == 0);
}

TEST_CASE("altering any field of a stored event names that seq", "[workflow][trail]") {
  auto events = three_events();
  SECTION("payload") { events[1].payload["department"] = "jtj"; }
  SECTION("actor") { events[1].actor = "李四"; }
  SECTION("time") { events[1].at = "t9"; }
  SECTION("recomputed hash breaks the next link") {
    events[1].actor = "李四";
    events[1].hash = event_hash(events[1]);
    CHECK(first_bad_seq(events) == 3);
    return;
  }
  CHECK(first_bad_seq(events) == 2);
}

TEST_CASE("a missing or reordered event is found", "[workflow][trail]") {
  auto events = three_events();
  std::swap(events[1], events[2]);
  CHECK(first_bad_seq(events) == 2);
  events = three_events();
  events.erase(events.begin());
  CHECK(first_bad_seq(events) == 1);
}
