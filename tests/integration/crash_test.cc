// Every crash point of a handoff (docs/architecture.md, "crash points"), each with
// real processes killed -9 at that point.
#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include <signal.h>

#include <future>
#include <optional>
#include <thread>

#include "base/text.h"
#include "fake_worker.h"
#include "harness.h"
#include "net/backend.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

// Every test here starts its own cluster with short timings.
struct Fast : test::Running {
  Fast() : test::Running(kFastTiming) {}
};

std::string id_of(const Result<wire::Reply>& r) {
  REQUIRE(r.ok());
  INFO(r->error.message);
  REQUIRE(r->ok);
  return field(*r, "item", "id");
}

std::vector<std::string> trail_actions(Desk& desk, const std::string& id) {
  std::vector<std::string> out;
  auto r = desk.trail(id);
  if (r && r->ok)
    for (const auto& e : events_of(*r)) out.push_back(e.action);
  return out;
}

// Polls until the ledger's stage for id is `stage`.
bool eventually_stage(Desk& desk, const std::string& id, const std::string& stage) {
  for (int i = 0; i < 200; ++i) {
    auto r = desk.show(id);
    if (r && r->ok && field(*r, "item", "stage") == stage) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

}  // namespace

TEST_CASE("kill -9 of every process right after an ack loses nothing", "[crash][durable]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  std::string id = id_of(office.submit("河道垃圾清理", "紫港河段漂浮垃圾较多"));
  REQUIRE(office.assign(id, "zjj")->ok);
  s.cluster.kill_all9();  // at once, right after the ack
  s.cluster.start_all();
  REQUIRE(s.cluster.wait_ready());
  auto fresh = s.cluster.client(5000);
  Desk again(s.cluster, *fresh);
  CHECK(field(*again.show(id), "item", "stage") == "assigned");
  CHECK(again.handle(id, "zjj", "已清理")->ok);  // handle holds it: the handoff was durable
  CHECK(trail_actions(again, id) == std::vector<std::string>{"submit", "assign", "handle"});
}

TEST_CASE("kill -9 before the batch: nothing changed, and the command can be sent again",
          "[crash][handoff]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  std::string id = id_of(office.submit("农贸市场排水不畅", "雨天积水"));
  s.cluster.kill9("dispatch");
  auto short_client = s.cluster.client(300);
  Desk hurried(s.cluster, *short_client);
  auto lost = hurried.assign(id, "zjj");
  REQUIRE_FALSE(lost.ok());  // unknown outcome: no worker took it
  CHECK(lost.error().code == errc::kTimeout);
  s.cluster.start("dispatch");
  REQUIRE(s.cluster.wait_ready());
  REQUIRE(office.assign(id, "zjj")->ok);
  CHECK(trail_actions(office, id) == std::vector<std::string>{"submit", "assign"});
}

TEST_CASE("kill -9 after the batch, before sending: the outbox is sent on restart",
          "[crash][handoff]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  std::string id = id_of(office.submit("小区电梯故障", "3号楼电梯停运一周"));
  s.cluster.kill9("handle");  // dispatch's handoff cannot be delivered
  auto short_client = s.cluster.client(500);
  Desk hurried(s.cluster, *short_client);
  auto pending = hurried.assign(id, "zjj");
  CHECK_FALSE(pending.ok());  // committed, but the reply waits for handle: unknown to the client
  REQUIRE(eventually_stage(office, id, "assigned"));  // the ledger copy went through
  s.cluster.kill9("dispatch");  // the handoff to handle exists only in dispatch's outbox on disk
  s.cluster.start("handle");
  s.cluster.start("dispatch");
  REQUIRE(s.cluster.wait_ready());
  REQUIRE(office.handle(id, "zjj", "已维修")->ok);  // handle got it from the recovered outbox
  CHECK(trail_actions(office, id) == std::vector<std::string>{"submit", "assign", "handle"});
}

TEST_CASE("a receiver down for a while: handoffs wait on disk and move on when it is back",
          "[crash][handoff]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(id_of(office.submit("路面破损" + std::to_string(i), "")));
  s.cluster.kill9("handle");
  auto short_client = s.cluster.client(200);
  Desk hurried(s.cluster, *short_client);
  for (const auto& id : ids) (void)hurried.assign(id, "jtj");
  std::this_thread::sleep_for(2s);  // several resend rounds against a missing receiver
  s.cluster.start("handle");
  REQUIRE(s.cluster.wait_ready());
  for (const auto& id : ids) {
    REQUIRE(office.handle(id, "jtj", "已修补")->ok);
    CHECK(trail_actions(office, id) == std::vector<std::string>{"submit", "assign", "handle"});
  }
}

TEST_CASE("a duplicate handoff is applied once and acknowledged again", "[crash][handoff]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  // A fake sender on the broker's backend, replaying one handoff as a crashed sender would.
  FakeWorker fake(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());

  auto assigned = assigned_step("2026-900001", "zjj");
  REQUIRE(assigned.ok());
  std::string entry = wire::MapBuilder()
                          .add("hid", uint64_t{77})
                          .add_raw("entry", wire::MapBuilder()
                                                .add_raw("item", encode(assigned->item))
                                                .add_raw("event", encode(assigned->event))
                                                .finish())
                          .finish();
  std::string entries = "\x91" + entry;  // a one-element array
  std::string body = wire::MapBuilder().add_raw("entries", entries).finish();
  // Sends the handoff and reads its acks until one says durable (an `applied` ack may
  // come first: the receiver fsyncs receipts a little later).
  auto deliver = [&](uint64_t id) {
    fake.request("handle", wire::encode_request("handoff", id, "dispatch", body));
    for (;;) {
      auto reply = fake.next_reply(5000);
      REQUIRE(reply);
      auto decoded = wire::decode_reply(reply->data(), reply->size());
      REQUIRE(decoded.ok());
      CHECK(decoded->id == id);
      REQUIRE(decoded->ok);
      wire::Fields ack(decoded->body, "ack");
      CHECK(ack.uint("count") == 1);
      if (ack.opt_bool("durable").value_or(false)) return;
    }
  };
  deliver(1);
  deliver(2);  // the duplicate: acknowledged again
  REQUIRE(office.handle("2026-900001", "zjj", "已处理")->ok);
  deliver(3);  // a late duplicate must not bring the item back to handle
  auto second = office.handle("2026-900001", "zjj", "再次处理");
  REQUIRE(second.ok());
  CHECK(second->error.code == errc::kRefused);
}

TEST_CASE("an entry acknowledged only as applied stays in the outbox until acknowledged as durable",
          "[crash][handoff][durable]") {
  Fast s;
  s.cluster.kill9("ledger");
  FakeWorker ledger(backend_of(s.cluster.endpoint()), "ledger", s.cluster.keys_dir());
  Desk office(s.cluster, *s.client);
  // intake hands the new item to dispatch and to the (fake) ledger; the reply needs both
  auto submitted = std::async(std::launch::async, [&] { return office.submit("路灯不亮", "三处"); });
  auto first = ledger.next_handoff("intake", 5000);
  REQUIRE(first);
  ledger.ack(*first, false);  // applied, not yet durable
  auto reply = submitted.get();
  REQUIRE(reply.ok());
  CHECK(reply->ok);  // applied is enough to answer the client

  s.cluster.kill9("intake");  // a power cut would now lose the ledger's copy: intake must still hold it
  s.cluster.start("intake");
  auto again = ledger.next_handoff("intake", 5000);
  REQUIRE(again);
  CHECK(again->hids == first->hids);  // sent again from intake's outbox
  ledger.ack(*again, true);

  std::this_thread::sleep_for(500ms);  // intake deletes the record on the durable ack
  s.cluster.kill9("intake");
  s.cluster.start("intake");
  CHECK_FALSE(ledger.next_handoff("intake", 1500));  // forgotten: never sent again
}

TEST_CASE("a restarted broker: workers re-register and traffic resumes", "[crash][broker]") {
  Fast s;
  Desk office(s.cluster, *s.client);
  std::string id = id_of(office.submit("公交站台缺少遮雨棚", ""));
  s.cluster.kill9("broker");
  s.cluster.start("broker");
  REQUIRE(s.cluster.wait_ready());
  REQUIRE(office.assign(id, "jtj")->ok);
  CHECK(trail_actions(office, id) == std::vector<std::string>{"submit", "assign"});
}

TEST_CASE("workers started before the broker find it when it comes", "[crash][broker]") {
  Cluster cluster(kFastTiming);
  for (const auto& name : kProcesses)
    if (name != "broker") cluster.start(name);
  std::this_thread::sleep_for(1s);  // the workers are up, with nobody to talk to
  cluster.start("broker");
  REQUIRE(cluster.wait_ready());
  auto client = cluster.client();
  Desk office(cluster, *client);
  std::string id = id_of(office.submit("先启动工作进程", ""));
  REQUIRE(office.assign(id, "jtj")->ok);
}
