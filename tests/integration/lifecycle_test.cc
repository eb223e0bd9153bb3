// The lifecycle end to end, through the real broker and workers on loopback.
#include <catch2/catch.hpp>

#include "harness.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

// Every test here starts its own cluster with the transport route.
struct Routed : Running {
  Routed() : Running(kTransportRoute) {}
};

std::string stage_of(const Result<wire::Reply>& r) { return field(*r, "item", "stage"); }

void require_ok(const Result<wire::Reply>& r) {
  REQUIRE(r.ok());
  INFO(r->error.code << ": " << r->error.message);
  REQUIRE(r->ok);
}

std::string submit_one(Desk& desk, const std::string& category = "") {
  auto r = desk.submit("村道路灯损坏", "青山村主干道12盏路灯不亮，夜间出行不便。", category);
  require_ok(r);
  return field(*r, "item", "id");
}

std::vector<std::string> actions(Desk& desk, const std::string& id) {
  auto r = desk.trail(id);
  require_ok(r);
  std::vector<std::string> out;
  for (const auto& e : events_of(*r)) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("an item goes submitted, assigned, handled, verified, closed", "[lifecycle]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);
  CHECK(stage_of(office.show(id)) == "submitted");

  auto assigned = office.assign(id, "zjj", {"jtj"}, "2099-12-31");
  require_ok(assigned);
  CHECK(stage_of(assigned) == "assigned");
  CHECK(field(*assigned, "item", "department") == "zjj");
  CHECK(field(*assigned, "item", "due") == "2099-12-31");

  // issue 3: the lead replies once every co-department has given its opinion
  auto early = office.handle(id, "zjj", "已更换全部路灯", "solved");
  CHECK(early->error.code == errc::kRefused);
  CHECK(early->error.message.find("opinion of co-department jtj") != std::string::npos);
  require_ok(office.command("opinion", id, {{"department", "jtj"}, {"text", "配合施工"}}));
  require_ok(office.handle(id, "zjj", "已更换全部路灯", "solved"));
  require_ok(office.verify(id, "satisfied"));
  auto closed = office.close(id);
  require_ok(closed);
  CHECK(stage_of(closed) == "closed");

  auto shown = office.show(id);  // read-your-writes: the ledger already has the close
  CHECK(stage_of(shown) == "closed");
  CHECK(field(*shown, "item", "title") == "村道路灯损坏");
  CHECK(actions(office, id) == std::vector<std::string>{"submit", "assign", "opinion", "handle",
                                                        "verify", "close"});
}

TEST_CASE("a department returns an item that is not its own, and it waits for a new assignment",
          "[lifecycle][return]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);
  require_ok(office.assign(id, "jyj"));
  auto returned = office.give_back(id, "jyj", "不属于教育局职责");
  require_ok(returned);
  CHECK(stage_of(returned) == "submitted");
  CHECK(field(*returned, "item", "department").empty());
  require_ok(office.assign(id, "zjj"));
  require_ok(office.handle(id, "zjj", "已修复"));
  CHECK(actions(office, id) ==
        std::vector<std::string>{"submit", "assign", "return", "assign", "handle"});
}

TEST_CASE("an unsatisfied verification sends the item back for rework and counts it",
          "[lifecycle][rework]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);
  require_ok(office.assign(id, "zjj"));
  require_ok(office.handle(id, "zjj", "已派人查看"));
  auto rework = office.verify(id, "unsatisfied");
  require_ok(rework);
  CHECK(stage_of(rework) == "assigned");
  wire::Fields f(rework->body, "reply");
  wire::Fields item(f.map("item"), "item");
  CHECK(item.uint("rework_count") == 1);
  require_ok(office.handle(id, "zjj", "已全部更换"));
  require_ok(office.verify(id, "basically-satisfied"));
  require_ok(office.close(id));
}

TEST_CASE("a matching route assigns a new item by itself, as router", "[lifecycle][route]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office, "transport");
  auto shown = office.show(id);  // the submit's ack waited for the routing to be done
  CHECK(stage_of(shown) == "assigned");
  CHECK(field(*shown, "item", "department") == "jtj");
  auto trail = office.trail(id);
  auto events = events_of(*trail);
  REQUIRE(events.size() == 2);
  CHECK(events[1].actor == "router");
  require_ok(office.handle(id, "jtj", "已安排维修"));  // no spurious "in transit" refusal
}

TEST_CASE("a command the stage does not allow is refused, naming the stage, changing nothing",
          "[lifecycle][refusal]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);

  auto early = office.close(id);  // close goes to the close worker, which does not hold it
  REQUIRE(early.ok());
  CHECK(early->error.code == errc::kRefused);
  CHECK(early->error.message.find("submitted") != std::string::npos);
  CHECK(early->error.message.find("allows assign") != std::string::npos);

  require_ok(office.assign(id, "zjj"));
  auto again = office.assign(id, "jtj");
  CHECK(again->error.code == errc::kRefused);
  CHECK(again->error.message.find("assigned") != std::string::npos);

  require_ok(office.handle(id, "zjj", "完成"));
  require_ok(office.verify(id, "satisfied"));
  require_ok(office.close(id));
  auto after = office.verify(id, "satisfied");
  CHECK(after->error.code == errc::kRefused);
  CHECK(after->error.message.find("closed, which allows urge, reopen") != std::string::npos);
  CHECK(actions(office, id).size() == 5);
}

TEST_CASE("unknown ids, departments and bad fields are refused and change nothing",
          "[lifecycle][refusal]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  CHECK(office.assign("2026-999999", "zjj")->error.code == errc::kNotFound);
  CHECK(office.show("2026-999999")->error.code == errc::kNotFound);
  std::string id = submit_one(office);
  CHECK(office.assign(id, "nosuch")->error.code == errc::kInvalid);
  CHECK(office.assign(id, "zjj", {"zjj"})->error.code == errc::kInvalid);
  CHECK(office.assign(id, "zjj", {}, "2026-02-30")->error.code == errc::kInvalid);
  CHECK(office.submit("", "正文")->error.code == errc::kInvalid);
  CHECK(office.submit(std::string(201, 'x'), "")->error.code == errc::kInvalid);
  require_ok(office.assign(id, "zjj"));
  CHECK(office.handle(id, "zjj", "答复", "done")->error.code == errc::kInvalid);
  CHECK(actions(office, id).size() == 2);
  auto all = office.list();
  CHECK(ids_of(*all).size() == 1);
}

TEST_CASE("only the lead department may handle or return its item", "[lifecycle][refusal]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);
  require_ok(office.assign(id, "zjj", {"jtj"}));
  auto other = office.handle(id, "jtj", "不是我们的");
  CHECK(other->error.code == errc::kForbidden);
  CHECK(office.give_back(id, "jyj", "不是我们的")->error.code == errc::kForbidden);
  CHECK(stage_of(office.show(id)) == "assigned");
}

TEST_CASE("the same idempotency key twice returns the same item, never a second one",
          "[lifecycle][idempotency]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  auto first = office.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "station-7-2026-11-20-3");
  auto second = office.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "station-7-2026-11-20-3");
  require_ok(first);
  require_ok(second);
  CHECK(field(*first, "item", "id") == field(*second, "item", "id"));
  CHECK(ids_of(*office.list()).size() == 1);
}

TEST_CASE("a key reused with other content is refused, and another account's same key is its own",
          "[lifecycle][idempotency]") {
  Routed s;
  s.cluster.add_account("紫港联络站", {"office"});
  auto other_client = s.cluster.client(5000, "紫港联络站");
  Desk office(s.cluster, *s.client), other(s.cluster, *other_client);
  auto first = office.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "k-2026-11-30-1");
  require_ok(first);
  auto other_text = office.submit("路灯不亮", "三处路灯", "", "k-2026-11-30-1");
  REQUIRE(other_text.ok());
  CHECK(other_text->error.code == errc::kInvalid);
  CHECK(other_text->error.message.find("different submission") != std::string::npos);
  CHECK(ids_of(*office.list()).size() == 1);  // nothing was created
  // Keys are scoped to the account: another account's same key makes its own item, never
  // answers with the first account's.
  auto other_account = other.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "k-2026-11-30-1");
  require_ok(other_account);
  CHECK(field(*other_account, "item", "id") != field(*first, "item", "id"));
  auto other_again = other.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "k-2026-11-30-1");
  require_ok(other_again);
  CHECK(field(*other_again, "item", "id") == field(*other_account, "item", "id"));
  auto same = office.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "k-2026-11-30-1");
  require_ok(same);
  CHECK(field(*same, "item", "id") == field(*first, "item", "id"));
  CHECK(ids_of(*office.list()).size() == 2);
}

TEST_CASE("list filters by stage and by department", "[lifecycle][list]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string a = submit_one(office), b = submit_one(office), c = submit_one(office);
  require_ok(office.assign(b, "zjj"));
  require_ok(office.assign(c, "jyj"));
  CHECK(ids_of(*office.list("submitted")) == std::vector<std::string>{a});
  CHECK(ids_of(*office.list("assigned")) == std::vector<std::string>{b, c});
  CHECK(ids_of(*office.list("", "jyj")) == std::vector<std::string>{c});
  CHECK(ids_of(*office.list("assigned", "zjj")) == std::vector<std::string>{b});
  CHECK(office.list("nosuch")->error.code == errc::kInvalid);
}

TEST_CASE("the trail verifies, and altering a stored event names the first bad seq",
          "[lifecycle][trail]") {
  Routed s;
  Desk office(s.cluster, *s.client);
  std::string id = submit_one(office);
  require_ok(office.assign(id, "zjj"));
  require_ok(office.handle(id, "zjj", "已修复"));
  require_ok(office.verify(id, "satisfied"));
  auto trail = events_of(*office.trail(id));
  REQUIRE(trail.size() == 4);
  CHECK(first_bad_seq(trail) == 0);
  CHECK(trail[0].prev_hash == kGenesisHash);

  s.cluster.stop("ledger");
  {
    auto store = Store::open(s.cluster.dir() + "/data/ledger");
    REQUIRE(store.ok());
    auto stored = (*store)->get(keys::event(id, 3));
    REQUIRE(stored);
    auto event = decode_event(*stored);
    event->payload["reply"] = "已修复（篡改）";
    leveldb::WriteBatch batch;
    batch.Put(keys::event(id, 3), encode(*event));
    REQUIRE((*store)->write(&batch, true).ok());
  }
  s.cluster.start("ledger");
  REQUIRE(s.cluster.wait_ready());
  auto tampered = events_of(*office.trail(id));
  CHECK(first_bad_seq(tampered) == 3);
}
