// Items and events as records: round trips, fields a reader does not know kept, older
// records read, the versioned canonical form and the hash chain.
#include <catch2/catch.hpp>

#include "base/text.h"
#include "wire/message.h"
#include "workflow/event.h"
#include "workflow/item.h"

using namespace closeloop;

namespace {

Event event(uint64_t seq, const std::string& prev, const std::string& action) {
  Event e;
  e.item = "2026-000009", e.seq = seq, e.action = action, e.actor = "王芳";
  e.stage = seq == 1 ? Stage::kSubmitted : Stage::kAssigned;
  e.department = seq == 1 ? "" : "zjj";
  e.at = "2026-03-02T02:00:0" + std::to_string(seq) + ".000Z";
  e.payload = {{"note", "第" + std::to_string(seq) + "步"}, {"co", {"jtj"}}, {"complex", true}};
  e.prev_hash = prev;
  e.hash = event_hash(e);
  return e;
}

std::vector<Event> three_events() {
  std::vector<Event> trail{event(1, kGenesisHash, "submit")};
  trail.push_back(event(2, trail.back().hash, "assign"));
  trail.push_back(event(3, trail.back().hash, "sign"));
  return trail;
}

// A record with one more field than this version knows.
std::string with_extra(const std::string& encoded, const std::string& key, const wire::Json& value) {
  auto h = wire::decode(encoded.data(), encoded.size());
  wire::Json j = wire::to_json(h->get());
  j[key] = value;
  return wire::encode_json(j);
}

}  // namespace

TEST_CASE("items round-trip with every nested record", "[workflow][item]") {
  Item item;
  item.id = "2026-000001", item.title = "标题", item.stage = Stage::kAssigned;
  item.co_departments = {"jtj", "zjj"};
  item.due_basis = {"station: 15 working days after assignment", "2026-03-02", "cn-2026 abc", true, 15};
  item.opinions.push_back({"jtj", "同意", "t"});
  item.extensions.push_back({"2026-05-01", "施工", "t"});
  item.milestones.push_back({"2026-06-01", "开工"});
  item.co_signed_at["jtj"] = "t";
  auto back = decode_item(encode(item));
  REQUIRE(back.ok());
  CHECK(back->stage == Stage::kAssigned);
  CHECK(back->co_departments == item.co_departments);
  CHECK(back->due_basis == item.due_basis);
  CHECK(back->opinions == item.opinions);
  CHECK(back->extensions == item.extensions);
  CHECK(back->milestones == item.milestones);
  CHECK(back->co_signed_at == item.co_signed_at);
  CHECK(encode(*back) == encode(item));
}

TEST_CASE("a field this version does not know is kept and written back", "[workflow][item]") {
  Item item;
  item.id = "2026-000001";
  item.opinions.push_back({"jtj", "同意", "t"});
  std::string newer = with_extra(encode(item), "reviewer", {{"name", "王丽"}});
  auto read = decode_item(newer);
  REQUIRE(read.ok());
  CHECK(read->extras.fields["reviewer"]["name"] == "王丽");
  auto again = decode_item(encode(*read));
  CHECK(again->extras.fields == read->extras.fields);
  Event e = event(1, kGenesisHash, "submit");
  std::string newer_event = with_extra(encode(e), "signer", "key-1");
  auto read_event = decode_event(newer_event);
  REQUIRE(read_event.ok());
  CHECK(read_event->extras.fields["signer"] == "key-1");
}

TEST_CASE("records of issue 2 (version 1) are read and their trails still verify",
          "[workflow][item][trail]") {
  // An item and an event exactly as issue 2 wrote them: no `v`, 16 item fields.
  std::string old_item = wire::MapBuilder()
                             .add("id", "2026-000001").add("stage", "assigned").add("title", "路灯")
                             .add("body", "").add("category", "").add("source", "").add("submitter", "")
                             .add("department", "zjj").add("co_departments", std::vector<std::string>{})
                             .add("due", "2099-12-31").add("rework_count", 0).add("created_at", "t")
                             .add("updated_at", "t").add("seq", 2).add("head", "ab").add("last_action", "assign")
                             .finish();
  auto item = decode_item(old_item);
  REQUIRE(item.ok());
  CHECK(item->department == "zjj");
  CHECK(item->due == "2099-12-31");
  CHECK(item->kind.empty());
  Event v1;
  v1.v = 1;
  v1.item = "2026-000001", v1.seq = 1, v1.action = "submit", v1.actor = "张三", v1.at = "t";
  v1.payload = {{"title", "路灯"}, {"body", "不亮"}};
  v1.prev_hash = kGenesisHash;
  v1.hash = event_hash(v1);
  std::string stored = encode(v1);
  CHECK(stored.find("\xa1v") == std::string::npos);  // stored without `v`, as written
  auto back = decode_event(stored);
  REQUIRE(back.ok());
  CHECK(back->v == 1);
  CHECK(event_hash(*back) == v1.hash);
  auto h = wire::decode(stored.data(), stored.size());
  CHECK(*event_hash(h->get()) == v1.hash);
}

TEST_CASE("an unknown record version or stage is refused, not misread", "[workflow][item]") {
  Item item;
  item.id = "2026-000001";
  CHECK_FALSE(decode_item(with_extra(encode(item), "v", 3)).ok());
  CHECK_FALSE(decode_item(with_extra(encode(item), "stage", "archived")).ok());
  Event e = event(1, kGenesisHash, "submit");
  CHECK(decode_event(with_extra(encode(e), "v", 3)).error().message.find("version 3") !=
        std::string::npos);
}

TEST_CASE("the hash of an event is the same from the record and from its bytes",
          "[workflow][trail]") {
  for (const Event& e : three_events()) {
    std::string bytes = encode(e);
    auto h = wire::decode(bytes.data(), bytes.size());
    CHECK(*event_hash(h->get()) == e.hash);
  }
  // ... and a field a verifier does not know is covered by the hash too.
  Event e = event(1, kGenesisHash, "submit");
  e.extras.fields["signer"] = "key-1";
  e.hash = event_hash(e);
  std::string bytes = encode(e);
  auto h = wire::decode(bytes.data(), bytes.size());
  CHECK(*event_hash(h->get()) == e.hash);
  std::string altered = with_extra(bytes, "signer", "key-2");
  auto ha = wire::decode(altered.data(), altered.size());
  CHECK(*event_hash(ha->get()) != e.hash);
}

TEST_CASE("a chained trail verifies and the first genesis link is zeros", "[workflow][trail]") {
  auto events = three_events();
  CHECK(events[0].prev_hash == kGenesisHash);
  CHECK(first_bad_seq(events) == 0);
}

TEST_CASE("altering any field of a stored event names that seq", "[workflow][trail]") {
  auto events = three_events();
  SECTION("payload") { events[1].payload["note"] = "改过"; }
  SECTION("a payload list") { events[1].payload["co"] = {"zjj"}; }
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
