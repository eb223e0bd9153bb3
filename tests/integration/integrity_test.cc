// Records are checked against the trail (issue 16): an item record altered on the
// stopped ledger's disk is named by `trail --verify`, by closeloop-verify on a bundle made
// then (also against a checkpoint kept from before), and by the ledger itself at the next
// handoff of the item; an event altered on disk without its tree fails `checkpoint
// --consistency` though the stored tree is untouched.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "calendar/clock.h"
#include "fake_worker.h"
#include "harness.h"
#include "store/keys.h"
#include "security/merkle.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;
using wire::Json;

namespace {

// A service signing checkpoints every 100 ms, with 交通局's clerk for jtj's replies.
struct Ledgered {
  Cluster cluster{std::string("checkpoint_ms = 100\n") + kFastTiming};
  Ledgered() {
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    cluster.add_account("交通局", {"department"}, "jtj");
  }
  CliRun cli(const std::vector<std::string>& args) { return run_cli(cluster.dir(), args); }
  CliRun verify(const std::vector<std::string>& args) {
    return run_cli(cluster.dir(), args, "", "closeloop-verify");
  }
  Json ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliRun r = cli(args);
    INFO("closeloop " << args.front() << ": exit " << r.code << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.parsed();
  }
  // Submitted, assigned to jtj, handled: three events; the item waits at verify.
  std::string handled(const std::string& title) {
    std::string id = ok({"submit", "--title", title, "--body", "群众反映"})["id"];
    ok({"assign", id, "--department", "jtj"});
    ok({"--key", cluster.key_file("交通局"), "handle", id, "--reply", "已处理", "--outcome",
        "solved"});
    return id;
  }
  // Every process killed, the ledger's store changed by `edit`, all started again.
  void alter_ledger(const std::function<void(Store&, Txn&)>& edit) {
    cluster.kill_all9();
    {
      auto store = Store::open(cluster.dir() + "/data/ledger");
      REQUIRE(store.ok());
      Txn txn(**store, true);
      edit(**store, txn);
      REQUIRE(txn.commit().ok());
    }
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
  }
  void alter_ledger_item(const std::string& id, const std::function<void(Item&)>& edit) {
    alter_ledger([&](Store& store, Txn& txn) {
      auto item = decode_item(*store.get(keys::item(id)));
      REQUIRE(item.ok());
      edit(*item);
      txn.put(keys::item(id), encode(*item));
    });
  }
  // The latest checkpoint once it covers `events` events, kept in a file.
  std::string keep_checkpoint(uint64_t events) {
    for (int i = 0; i < 50 && o_checkpoint()["size"] != events; ++i) std::this_thread::sleep_for(100ms);
    std::string path = cluster.dir() + "/kept-" + std::to_string(events) + ".json";
    std::ofstream(path) << o_checkpoint().dump();
    return path;
  }
  Json o_checkpoint() { return ok({"checkpoint"}); }
};

}  // namespace

TEST_CASE(
    "an item's title altered on the ledger's disk fails trail --verify and a bundle made then, "
    "also against a checkpoint kept from before, naming the item and the field",
    "[integrity][trail][bundle]") {
  Ledgered o;
  std::string a = o.handled("路灯不亮"), b = o.handled("道路积水");
  CliRun whole = o.cli({"trail", a, "--verify"});
  CHECK(whole.code == 0);
  CHECK(whole.out.find("the item is what they make of it") != std::string::npos);
  std::string kept = o.keep_checkpoint(6);

  o.alter_ledger_item(a, [](Item& item) { item.title = "路灯已修好"; });
  CHECK(o.ok({"show", a})["title"] == "路灯已修好");  // shown as it is stored
  CliRun altered = o.cli({"trail", a, "--verify"});
  INFO(altered.err);
  CHECK(altered.code == 5);
  CHECK(altered.err.find("item " + a) != std::string::npos);
  CHECK(altered.err.find("title: the item says \"路灯已修好\", its trail makes it \"路灯不亮\"") !=
        std::string::npos);
  CHECK(o.cli({"trail", b, "--verify"}).code == 0);  // the other item is untouched

  // The events are as recorded, so every proof holds: only the fold sees it.
  std::string path = o.cluster.dir() + "/evidence.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", path, "--checkpoint", kept}).code == 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{path}, std::vector<std::string>{path, "--checkpoint", kept}}) {
    CliRun bundled = o.verify(args);
    INFO(bundled.err);
    CHECK(bundled.code == 5);
    CHECK(bundled.err.find("item " + a + ": the item is not what its trail makes of it: title") !=
          std::string::npos);
  }

  // The next command on the item: its stage's copy goes on, the ledger's does not fold to
  // it, so the ledger holds the handoff (and the command's reply waits for it).
  CliRun next = o.cli({"verify", a, "--via", "paper", "--rating", "satisfied"});
  CHECK(next.code == 4);
  Json incidents;
  CHECK(eventually([&] {
    incidents = o.ok({"incidents"});
    return !incidents.empty();
  }));
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0]["id"].get<std::string>().starts_with("ledger/verify/"));
  CHECK(incidents[0]["reason"].get<std::string>().find("at seq 4 is not what its trail makes of "
                                                       "it: title") != std::string::npos);
}

namespace {

// Item `id` submitted and assigned to zjj, both steps of one chain, as a stage makes them.
std::pair<Step, Step> two_steps(const std::string& id) {
  auto submitted = submitted_step(id);
  REQUIRE(submitted.ok());
  static const Config config = [] {
    Config c;
    c.departments = {{"zjj", "县住建局"}};
    return c;
  }();
  static const Calendar weekends;
  Clock clock(config.timezone);
  Command assign{.verb = "assign", .item_id = id, .actor = "人大办"};
  assign.set("department", "zjj");
  auto assigned =
      decide(submitted->item, assign, Setting{config, weekends, clock.now_iso(), clock.today(), ""});
  REQUIRE(assigned.ok());
  return {*submitted, *assigned};
}

// The step with its item's title changed: the item no longer what its event makes of it.
Step retitled(Step step) {
  step.item.title = "标题被改";
  return step;
}

}  // namespace

TEST_CASE(
    "the ledger keeps a handoff whose item disagrees with its event as an incident and writes "
    "nothing of it, in order or not",
    "[integrity][ledger][incident]") {
  Running s(kFastTiming);
  FakeWorker sender(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());
  auto [first, second] = two_steps("2026-900031");
  auto [late_first, late_second] = two_steps("2026-900032");
  sender.request("ledger", handoff_request(1, "replayer",
                                           {{1, entry_of(first)},
                                            {2, entry_of(retitled(second))},
                                            {3, entry_of(retitled(two_steps("2026-900033").first))},
                                            {4, entry_of(retitled(late_second))},
                                            {5, entry_of(late_first)}}));
  // 4 comes before its submit: nothing to compare with yet, kept as it came; 5 completes
  // the trail, and the fold shows the item kept is not what it makes.
  CHECK(sender.held_in_durable_ack(1) == std::vector<uint64_t>{2, 3, 5});

  CliRun listed = run_cli(s.cluster.dir(), {"incidents", "--json"});
  INFO(listed.err);
  REQUIRE(listed.code == 0);
  std::map<std::string, std::string> reasons;
  for (const auto& incident : listed.parsed()) reasons[incident["id"]] = incident["reason"];
  CHECK(reasons["ledger/replayer/2"] ==
        "item 2026-900031 at seq 2 is not what its trail makes of it: title: the item says "
        "\"标题被改\", its trail makes it \"重复投递测试\"");
  CHECK(reasons["ledger/replayer/3"].find("item 2026-900033 at seq 1") != std::string::npos);
  CHECK(reasons["ledger/replayer/5"].find("item 2026-900032 at seq 2") != std::string::npos);
  CHECK(reasons["ledger/replayer/5"].find("the item held: title") != std::string::npos);

  // Neither the event nor the item of a held entry was written.
  Desk office(s.cluster, *s.client);
  CHECK(field(*office.show("2026-900031"), "item", "last_action") == "submit");
  CHECK(events_of(*office.trail("2026-900031")).size() == 1);
  CHECK(office.show("2026-900033")->error.code == errc::kNotFound);
  CHECK(events_of(*office.trail("2026-900032")).size() == 1);  // the late submit is held

  // The entry as it should be is applied.
  sender.rejoin();
  sender.request("ledger", handoff_request(2, "replayer", {{6, entry_of(second)}}));
  CHECK(sender.held_in_durable_ack(2).empty());
  CHECK(field(*office.show("2026-900031"), "item", "last_action") == "assign");
  CHECK(run_cli(s.cluster.dir(), {"trail", "2026-900031", "--verify"}).code == 0);
}

TEST_CASE(
    "an event altered on the ledger's disk, its tree untouched, fails checkpoint --consistency, "
    "naming the item and seq, and so do leaves rewritten beneath untouched nodes",
    "[integrity][checkpoint][tamper]") {
  Ledgered o;
  std::string a = o.handled("路灯不亮"), b = o.handled("道路积水");
  std::string kept = o.keep_checkpoint(6);
  REQUIRE(o.cli({"checkpoint", "--consistency", kept}).code == 0);

  // Event 2 of b says another note, and b's chain is re-hashed to look whole.
  std::vector<Event> rewritten;
  o.alter_ledger([&](Store& store, Txn& txn) {
    std::vector<Event> trail;
    for (uint64_t seq = 1; auto stored = store.get(keys::event(b, seq)); ++seq)
      trail.push_back(*decode_event(*stored));
    trail[1].payload["note"] = "篡改";
    for (size_t i = 1; i < trail.size(); ++i) {
      trail[i].prev_hash = trail[i - 1].hash;
      trail[i].hash = event_hash(trail[i]);
      txn.put(keys::event(b, trail[i].seq), encode(trail[i]));
    }
    auto item = decode_item(*store.get(keys::item(b)));
    item->head = trail.back().hash;
    txn.put(keys::item(b), encode(*item));
    rewritten = trail;
  });
  CHECK(o.cli({"trail", b, "--verify"}).code == 0);  // the chain and the fold look whole
  CliRun consistency = o.cli({"checkpoint", "--consistency", kept});
  INFO(consistency.err);
  CHECK(consistency.code == 5);
  CHECK(consistency.err.find("item " + b + " at seq 2 no longer hashes to its leaf") !=
        std::string::npos);

  // The leaves rewritten to the altered events': the nodes above them no longer add up.
  o.alter_ledger([&](Store& store, Txn& txn) {
    for (size_t i = 1; i < rewritten.size(); ++i) {
      std::string bytes = encode(rewritten[i]);
      auto decoded = wire::decode(bytes.data(), bytes.size());
      security::Hash leaf = security::leaf_hash(*event_hashed_bytes(decoded->get()));
      uint64_t index = keys::read_be64(*store.get(keys::leaf(b, rewritten[i].seq)));
      txn.put(keys::merkle_node(0, index), std::string(leaf.begin(), leaf.end()));
    }
  });
  CliRun beneath = o.cli({"checkpoint", "--consistency", kept});
  INFO(beneath.err);
  CHECK(beneath.code == 5);
  CHECK(beneath.err.find("is not the hash of the two below it") != std::string::npos);
  CHECK(o.cli({"trail", a, "--verify"}).code == 0);
}
