// Incidents and rolling upgrades (issue 9): a receiver that meets what it cannot read
// holds the entry, the sender keeps it and releases no reply for it, ops list, acknowledge
// and replay incidents; an unreadable outbox record is kept, not skipped; and a data dir
// written by an earlier version opens and carries on.
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>

#include "fake_worker.h"
#include "harness.h"
#include "store/keys.h"
#include "store/store.h"
#include "worker/incidents.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

Step assigned(const std::string& id) {
  auto step = assigned_step(id, "zjj");
  REQUIRE(step.ok());
  return *step;
}

// `closeloop [--key KEY] incidents ARGS… --json` against the cluster.
CliRun incidents_cli(Cluster& c, const std::string& account, std::vector<std::string> args) {
  std::vector<std::string> all{"--key", c.key_file(account), "incidents"};
  all.insert(all.end(), args.begin(), args.end());
  return run_cli(c.dir(), all);
}

wire::Json find_incident(const wire::Json& list, const std::string& id) {
  for (const auto& incident : list)
    if (incident.value("id", "") == id) return incident;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "a receiver holds an entry it cannot read: the lane moves on, ops list it and acknowledge it, "
    "then its sender is told it is done",
    "[incident][handoff][upgrade]") {
  Running s(kFastTiming);
  s.cluster.add_account("运维", {"ops"});
  s.cluster.add_account("clerk", {"department"}, "zjj");
  FakeWorker sender(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());
  Step unreadable = assigned("2026-900021"), readable = assigned("2026-900022");
  sender.request(
      "handle",
      handoff_request(1, "replayer", {{21, newer_entry_of(unreadable)}, {22, entry_of(readable)}}));
  CHECK(sender.held_in_durable_ack(1) == std::vector<uint64_t>{21});

  Desk office(s.cluster, *s.client);
  // The lane moved on (the fake sender hands to handle only: the ledger has neither).
  CHECK(office.command("sign", "2026-900022", {{"department", "zjj"}})->ok);
  CHECK(office.command("sign", "2026-900021", {{"department", "zjj"}})->error.code ==
        errc::kNotFound);

  // Listed for ops with who sent it and why, without the citizen's text; the office sees it all.
  CliRun ops = incidents_cli(s.cluster, "运维", {"--json"});
  INFO(ops.err);
  REQUIRE(ops.code == 0);
  wire::Json incident = find_incident(ops.parsed(), "handle/replayer/21");
  REQUIRE(incident.is_object());
  CHECK(incident["from"] == "replayer");
  CHECK(incident["state"] == "held");
  CHECK(incident["reason"].get<std::string>().find("item version 3") != std::string::npos);
  CHECK(!incident.contains("entry"));
  CliRun office_list = run_cli(s.cluster.dir(), {"incidents", "--json"});
  REQUIRE(office_list.code == 0);
  CHECK(find_incident(office_list.parsed(), "handle/replayer/21")["entry"]["item"]["id"] ==
        "2026-900021");
  CHECK(incidents_cli(s.cluster, "clerk", {}).code == 3);  // forbidden
  CHECK(incidents_cli(s.cluster, "clerk", {"ack", "handle/replayer/21"}).code == 3);
  CHECK(run_cli(s.cluster.dir(), {"incidents", "ack", "handle/replayer/21"}).code == 3);  // office

  // Asked again, the receiver still holds it; nothing is applied twice or at all.
  sender.rejoin();  // silent while the CLI ran
  sender.request("handle", handoff_request(2, "replayer", {{21, newer_entry_of(unreadable)}}));
  CHECK(sender.held_in_durable_ack(2) == std::vector<uint64_t>{21});

  CliRun ack = incidents_cli(s.cluster, "运维", {"ack", "handle/replayer/21"});
  INFO(ack.err);
  CHECK(ack.code == 0);
  CHECK(ack.out.find("acknowledged") != std::string::npos);
  CliRun again = incidents_cli(s.cluster, "运维", {"ack", "handle/replayer/21"});
  CHECK(again.code == 3);
  CHECK(again.err.find("acknowledged already") != std::string::npos);
  CHECK(incidents_cli(s.cluster, "运维", {"ack", "handle/replayer/99"}).code == 3);  // not_found
  CHECK(incidents_cli(s.cluster, "运维", {"ack", "nonsense"}).code == 3);

  // The sender's next ask is answered as done (it may forget it); the item was not applied.
  sender.rejoin();
  sender.request("handle", handoff_request(3, "replayer", {{21, newer_entry_of(unreadable)}}));
  CHECK(sender.held_in_durable_ack(3).empty());
  CHECK(office.command("sign", "2026-900021", {{"department", "zjj"}})->error.code ==
        errc::kNotFound);

  CHECK(find_incident(incidents_cli(s.cluster, "运维", {"--json"}).parsed(), "handle/replayer/21")
            .is_null());
  wire::Json closed = find_incident(incidents_cli(s.cluster, "运维", {"--all", "--json"}).parsed(),
                                    "handle/replayer/21");
  CHECK(closed["state"] == "acknowledged");
  CHECK(closed["closed_by"] == "运维");
  CHECK(!closed["closed_at"].get<std::string>().empty());
}

TEST_CASE(
    "a sender keeps a held entry in its outbox, releases no reply for it, asks again, and forgets "
    "it once the receiver is done",
    "[incident][handoff][upgrade]") {
  Running s(kFastTiming);
  s.cluster.kill9("handle");
  FakeWorker handle(backend_of(s.cluster.endpoint()), "handle", s.cluster.keys_dir());
  Desk office(s.cluster, *s.client);
  std::string first = field(*office.submit("路灯不亮", "三处"), "item", "id");
  std::string second = field(*office.submit("井盖缺失", "一处"), "item", "id");

  auto held_assign = std::async(std::launch::async, [&] { return office.assign(first, "zjj"); });
  auto handoff = handle.next_handoff("dispatch", 5000);
  REQUIRE(handoff);
  REQUIRE(handoff->hids.size() == 1);
  uint64_t hid = handoff->hids[0];
  handle.ack(*handoff, true, {hid});
  auto refused = held_assign.get();  // no reply: the item is not where the office sent it
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == errc::kTimeout);

  // The lane moves on: the next assignment goes through at once.
  auto next_assign = std::async(std::launch::async, [&] { return office.assign(second, "zjj"); });
  auto next = handle.next_handoff("dispatch", 5000);
  REQUIRE(next);
  REQUIRE(next->hids != handoff->hids);
  handle.ack(*next, true);
  auto answered = next_assign.get();
  REQUIRE(answered.ok());
  CHECK(answered->ok);

  // The held entry is asked about again (every resend_max_ms), and is kept until done.
  std::optional<FakeWorker::Handoff> asked;
  for (int i = 0; i < 5 && !asked; ++i) {
    auto h = handle.next_handoff("dispatch", 3000);
    if (h && h->hids == std::vector<uint64_t>{hid}) asked = h;
  }
  REQUIRE(asked);
  handle.ack(*asked, true);  // done now (acknowledged by an operator, or replayed)
  // Forgotten: dispatch's outbox holds nothing once the lazy delete is written.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s.cluster.stop("dispatch");
  auto store = Store::open(s.cluster.dir() + "/data/dispatch");
  REQUIRE(store.ok());
  size_t left = 0;
  (*store)->scan(keys::kOutboxPrefix,
                 [&](std::string_view, std::string_view) { return ++left, true; });
  CHECK(left == 0);
}

TEST_CASE(
    "incidents replay applies what this version can read now, and its sender is then told it is "
    "done",
    "[incident][handoff][upgrade]") {
  Running s(kFastTiming);
  s.cluster.add_account("运维", {"ops"});
  FakeWorker sender(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());
  Step later = assigned("2026-900031");
  sender.request("handle", handoff_request(1, "replayer", {{31, newer_entry_of(later)}}));
  CHECK(sender.held_in_durable_ack(1) == std::vector<uint64_t>{31});

  // Still unreadable: the replay leaves it held.
  CliRun replay = incidents_cli(s.cluster, "运维", {"replay", "--json"});
  INFO(replay.err);
  REQUIRE(replay.code == 0);
  wire::Json workers = replay.parsed()["workers"];
  int handles = 0;
  for (const auto& w : workers)
    if (w["worker"] == "handle") {
      ++handles;
      CHECK((w["replayed"] == 0 && w["held"] == 1));
    }
  CHECK(handles == 1);
  CHECK(workers.size() == 7);  // every worker answered

  // The upgrade: this test cannot swap in a newer binary, so it changes the bytes the
  // held entry has instead of the version that reads them: handle, stopped, finds the
  // entry in a form it reads, as the upgraded handle would read the original.
  s.cluster.stop("handle");
  {
    auto store = Store::open(s.cluster.dir() + "/data/handle");
    REQUIRE(store.ok());
    Txn txn(**store, true);
    txn.put(keys::incident("replayer", 31),
            incidents::record("replayer", 31, "item version 3 is unknown here",
                              "2026-11-30T00:00:00Z", entry_of(later)));
    REQUIRE(txn.commit().ok());
  }
  s.cluster.start("handle");
  REQUIRE(s.cluster.wait_ready());
  // The broker may still list the handle that stopped: until the new one has registered,
  // asking every worker says "handle did not answer" (exit 4).
  REQUIRE(eventually([&] { return incidents_cli(s.cluster, "运维", {"--json"}).code == 0; }));

  replay = incidents_cli(s.cluster, "运维", {"replay"});
  INFO(replay.err);
  REQUIRE(replay.code == 0);
  CHECK(replay.out.find("handle: replayed 1, still held 0") != std::string::npos);
  Desk office(s.cluster, *s.client);
  CHECK(office.command("sign", "2026-900031", {{"department", "zjj"}})->ok);  // handle holds it

  sender.rejoin();
  sender.request("handle", handoff_request(2, "replayer", {{31, newer_entry_of(later)}}));
  CHECK(sender.held_in_durable_ack(2).empty());  // a duplicate now: applied once, done
  wire::Json replayed = find_incident(
      incidents_cli(s.cluster, "运维", {"--all", "--json"}).parsed(), "handle/replayer/31");
  CHECK(replayed["state"] == "replayed");
  CHECK(replayed["closed_by"] == "运维");
}

TEST_CASE(
    "an outbox record this version cannot read is kept and listed as an incident, not skipped",
    "[incident][upgrade]") {
  Running s(kFastTiming);
  s.cluster.add_account("运维", {"ops"});
  s.cluster.stop("dispatch");
  {
    auto store = Store::open(s.cluster.dir() + "/data/dispatch");
    REQUIRE(store.ok());
    Txn txn(**store, true);
    txn.put(keys::outbox(900), "\xc1 not MessagePack");
    REQUIRE(txn.commit().ok());
  }
  s.cluster.start("dispatch");
  REQUIRE(s.cluster.wait_ready());
  Desk office(s.cluster, *s.client);
  std::string id = field(*office.submit("路灯不亮", "三处"), "item", "id");
  CHECK(office.assign(id, "zjj")->ok);  // dispatch works on

  CliRun listed = incidents_cli(s.cluster, "运维", {"--json"});
  INFO(listed.err);
  REQUIRE(listed.code == 0);
  wire::Json incident = find_incident(listed.parsed(), "dispatch/dispatch/900");
  REQUIRE(incident.is_object());
  CHECK(incident["reason"].get<std::string>().find("outbox record unreadable") !=
        std::string::npos);

  REQUIRE(incidents_cli(s.cluster, "运维", {"ack", "dispatch/dispatch/900"}).code == 0);
  s.cluster.stop("dispatch");
  auto store = Store::open(s.cluster.dir() + "/data/dispatch");
  REQUIRE(store.ok());
  CHECK(!(*store)->get(keys::outbox(900)));  // acknowledged: the record goes, the incident stays
  CHECK((*store)->get(keys::incident("dispatch", 900)));
}

TEST_CASE("a data dir written by the previous version opens, verifies and carries on",
          "[upgrade][fixture]") {
  // tests/fixtures/make-datadir.sh made it with the binaries of commit 01d2d3f: items
  // 2026-000001 submitted, -000002 assigned to zgjd, -000003 handled, -000004 closed,
  // an account of zgjd's clerk, a signed checkpoint.
  Cluster c(kFastTiming);
  std::string fixture = std::string(CLOSELOOP_SOURCE_DIR) + "/tests/fixtures/datadir-v2.tar.gz";
  REQUIRE(shell("tar -C " + shell_quote(c.dir()) + " -xzf " + shell_quote(fixture)) == 0);
  c.start_all();
  REQUIRE(c.wait_ready());
  auto client = c.client();
  Desk office(c, *client);
  const std::map<std::string, std::string> stages{{"2026-000001", "submitted"},
                                                  {"2026-000002", "assigned"},
                                                  {"2026-000003", "handled"},
                                                  {"2026-000004", "closed"}};
  for (const auto& [id, stage] : stages) {
    CHECK(field(*office.show(id), "item", "stage") == stage);
    CliRun trail = run_cli(c.dir(), {"trail", id, "--verify"});
    INFO(id << ": " << trail.err);
    CHECK(trail.code == 0);
    // Its events, written before they recorded their days, fold to the item as stored.
    CHECK(trail.out.find("the item is what they make of it") != std::string::npos);
  }
  CHECK(run_cli(c.dir(), {"checkpoint", "--fresh"}).code == 0);
  // Its due basis, recorded before rule codes, has none and is said from its words.
  CliRun old_basis = run_cli(c.dir(), {"show", "2026-000002", "--json"});
  CHECK(old_basis.parsed()["due_basis"]["code"] == "");
  CliRun said = run_cli(c.dir(), {"--lang", "zh", "show", "2026-000002"});
  INFO(said.out);
  CHECK(said.out.find("（群众诉求：自交办之日起15个工作日，起算日 ") != std::string::npos);

  // Each carries on from where it was, and new items follow the old serial.
  REQUIRE(office.assign("2026-000001", "zgjd")->ok);
  REQUIRE(office.handle("2026-000002", "zgjd", "已修复")->ok);
  REQUIRE(office.verify("2026-000003", "satisfied")->ok);
  REQUIRE(office.close("2026-000003")->ok);
  CHECK(field(*office.submit("新的诉求", "正文"), "item", "id") == "2026-000005");
  for (const auto& [id, stage] : stages)
    CHECK(run_cli(c.dir(), {"trail", id, "--verify"}).code == 0);
  CliRun users = run_cli(c.dir(), {"--key", c.keys_dir() + "/admin.key", "user", "list", "--json"});
  CHECK(users.out.find("紫港街道") != std::string::npos);
}
