// What a review of the core found (issue 3), each confirmed by a test that failed before
// its fix: an ack said durable before an fsync; a retried submit answered before the
// first attempt's handoffs were applied; a worker's request to another service left
// before the commit of what it had written; `list` gathered every page in memory. And
// receivers that meet what they do not know: kept as an incident, or applied with the
// unknown field kept.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "fake_worker.h"
#include "harness.h"
#include "store/keys.h"
#include "store/store.h"
#include "worker/worker.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

std::vector<int64_t> fsyncs(const std::string& log) {
  std::vector<int64_t> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) out.push_back(std::stoll(line));
  return out;
}

// Waits for the replies to request `id` until one says durable (an `applied` one may
// come first); returns when it arrived.
int64_t durable_ack(FakeWorker& fake, uint64_t id) {
  for (;;) {
    auto reply = fake.next_reply(5000);
    REQUIRE(reply);
    int64_t at = monotonic_ns();
    auto decoded = wire::decode_reply(reply->data(), reply->size());
    REQUIRE(decoded.ok());
    INFO(decoded->error.message);
    REQUIRE(decoded->ok);
    CHECK(decoded->id == id);
    if (wire::Fields(decoded->body, "ack").opt_bool("durable").value_or(true)) return at;
  }
}

}  // namespace

TEST_CASE("a batch is acknowledged as durable only after an fsync, when a duplicate in it caused handoffs",
          "[review][handoff][durability]") {
  Cluster c(std::string(kTransportRoute) + kFastTiming);
  std::string log = c.dir() + "/dispatch-fsyncs.log";
  c.set_env("dispatch", "LD_PRELOAD", CLOSELOOP_FSYNC_PROBE);
  c.set_env("dispatch", "CLOSELOOP_FSYNC_LOG", log);
  c.start_all();
  REQUIRE(c.wait_ready());
  FakeWorker intake(backend_of(c.endpoint()), "replayer", c.keys_dir());
  auto routed = submitted_step("2026-900001", "transport");   // dispatch assigns it: a handoff
  auto waiting = submitted_step("2026-900002", "governance");  // no route: it just waits
  REQUIRE(routed.ok());
  REQUIRE(waiting.ok());
  intake.request("dispatch", handoff_request(1, "intake", {{1, entry_of(*routed)}}));
  durable_ack(intake, 1);
  std::this_thread::sleep_for(100ms);  // any receipt fsync of the first batch is done

  // The same entry again (its seen/ marker names the handoff it caused) beside a new one.
  int64_t sent = monotonic_ns();
  intake.request("dispatch", handoff_request(2, "intake",
                                             {{1, entry_of(*routed)}, {2, entry_of(*waiting)}}));
  int64_t acked = durable_ack(intake, 2);
  auto synced = fsyncs(log);
  bool before_ack = std::any_of(synced.begin(), synced.end(),
                                [&](int64_t t) { return t > sent && t < acked; });
  INFO(synced.size() << " fsyncs in all");
  CHECK(before_ack);
}

TEST_CASE("a retried submit answers only once the first attempt's handoffs are applied",
          "[review][idempotency]") {
  Running s(kFastTiming);
  s.cluster.stop("ledger");  // the submit's handoff to the ledger cannot be applied
  auto impatient = s.cluster.client(700);
  Desk clerk(s.cluster, *impatient);
  auto first = clerk.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "station-7-2026-11-20-3");
  CHECK_FALSE(first.ok());  // no answer: the reply waits for the ledger
  auto retried = clerk.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "station-7-2026-11-20-3");
  CHECK_FALSE(retried.ok());  // nor may a retry answer before that
  s.cluster.start("ledger");
  Desk office(s.cluster, *s.client);
  auto again = office.submit("学校门口交通拥堵", "上下学高峰拥堵", "", "station-7-2026-11-20-3");
  REQUIRE(again.ok());
  REQUIRE(again->ok);
  std::string id = field(*again, "item", "id");
  auto shown = office.show(id);  // right after the ok: found
  REQUIRE(shown.ok());
  CHECK(shown->ok);
  CHECK(ids_of(*office.list()) == std::vector<std::string>{id});
}

namespace {

// A service that writes, asks another service, and only then (slowly) returns: the
// ask must leave after the commit of the write.
class Asking : public Service {
 public:
  const Store* store = nullptr;
  Status on_start(Store& s, const Config&) override {
    store = &s;
    return ok_status();
  }
  void on_request(Context& ctx, const wire::Request&) override {
    ctx.txn().put(keys::meta("asked"), "yes");
    ctx.ask("other", "question", wire::empty_map(),
            [](Context& ctx, Result<wire::Reply>&) { ctx.reply(wire::empty_map()); });
    std::this_thread::sleep_for(300ms);  // the commit comes after this
  }
};

}  // namespace

TEST_CASE("a worker's request to another service leaves only after the commit of what it wrote",
          "[review][worker]") {
  Cluster c;  // for its directory and a free port pair; nothing started
  zmq::context_t zmq;
  zmq::socket_t broker(zmq, zmq::socket_type::router);
  std::string backend = backend_of(c.endpoint());
  broker.bind(backend);
  Config config;
  config.backend = backend;
  config.data_dir = c.dir() + "/data";
  config.departments = {{"zjj", "县住建局"}};
  config.security_mode = "off";  // this test plays a plain broker
  Asking service;
  Worker worker(config, "asking", service);
  int stop[2];
  REQUIRE(pipe(stop) == 0);
  std::thread loop([&] { worker.run(stop[0]); });

  auto receive = [&](size_t frames) {
    std::vector<zmq::message_t> msg;
    for (int i = 0; i < 100 && msg.size() != frames; ++i) {
      msg.clear();
      zmq::pollitem_t item{static_cast<void*>(broker), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 100ms) > 0) (void)zmq::recv_multipart(broker, std::back_inserter(msg));
    }
    REQUIRE(msg.size() == frames);
    return msg;
  };
  auto ready = receive(3);  // [identity][ready][asking]
  std::string identity(backend::text(ready[0]));
  std::string request = wire::encode_request("question", 7, "test", wire::empty_map());
  std::array<zmq::const_buffer, 5> frames{zmq::buffer(identity), zmq::str_buffer("req"),
                                          zmq::str_buffer("Fclient"), zmq::str_buffer(""),
                                          zmq::buffer(request)};
  REQUIRE(zmq::send_multipart(broker, frames));
  std::vector<zmq::message_t> ask;
  do ask = receive(4);  // [identity][req][other][payload], skipping heartbeats
  while (backend::text(ask[1]) != "req");
  CHECK(backend::text(ask[2]) == "other");
  CHECK(service.store->get(keys::meta("asked")) == "yes");  // committed before it left
  REQUIRE(write(stop[1], "x", 1) == 1);
  loop.join();
  close(stop[0]);
  close(stop[1]);
}

TEST_CASE("list streams its pages: the CLI's memory stays flat however many items there are",
          "[review][list][memory]") {
  // Pages of ~30 items (a 32 KiB message limit), so that 20,000 items are ~700 pages.
  Running s("max_message_bytes = 32768\n" + std::string(kFastTiming));
  auto import = [&](int from, int count) {
    for (int start = from; start < from + count; start += 50) {  // 50 rows fit 32 KiB
      wire::Json rows = wire::Json::array();
      for (int i = start; i < std::min(start + 50, from + count); ++i)
        rows.push_back({{"line", i}, {"key", "k" + std::to_string(i)}, {"kind", "station"},
                        {"title", "诉求" + std::to_string(i)}, {"body", std::string(200, 'x')},
                        {"department", "jtj"}});
      auto r = s.client->call("import", "",
                              wire::MapBuilder().add_raw("rows", wire::encode_json(rows)).finish());
      REQUIRE(r.ok());
      REQUIRE(r->ok);
    }
  };
  // Peak resident memory of one `closeloop list --json`, and how many items it printed.
  // Measured by a small python3 parent (its own size is the same for both runs): the
  // peak of a child forked from this test process would include this process's size.
  auto listing = [&](size_t* printed) {
    std::string out = s.cluster.dir() + "/list.json";
    std::string measure =
        "python3 -c 'import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], \"w\"), check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' " +
        shell_quote(out) + " " + shell_quote(binary_path("closeloop")) + " --config " +
        shell_quote(s.cluster.config_path()) + " --timeout 20000 list --json";
    std::string kib;
    REQUIRE(shell(measure, &kib) == 0);
    std::ifstream in(out);
    *printed = wire::Json::parse(in).size();
    return std::stol(kib);
  };
  import(0, 2000);
  size_t small_count = 0, large_count = 0;
  long small = listing(&small_count);
  import(2000, 18000);
  long large = listing(&large_count);
  CHECK(small_count == 2000);
  CHECK(large_count == 20000);
  INFO("peak RSS: " << small << " KiB for 2,000 items, " << large << " KiB for 20,000");
  CHECK(large < small + 4096);  // 10x the items, not 10x the memory (~12 MB of JSON)
}

TEST_CASE("a receiver keeps an entry it cannot read as an incident, and applies one with an unknown field",
          "[review][incident][handoff]") {
  Running s(kFastTiming);
  FakeWorker dispatch(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());
  auto step = [](const std::string& id) {
    auto a = assigned_step(id, "zjj");
    REQUIRE(a.ok());
    return *a;
  };
  // Entries as a newer sender might write them.
  auto altered = [](const Step& st, const std::string& key, const wire::Json& value) {
    std::string item = encode(st.item);
    wire::Json j = wire::to_json(wire::decode(item.data(), item.size())->get());
    j[key] = value;
    return wire::MapBuilder()
        .add_raw("item", wire::encode_json(j))
        .add_raw("event", encode(st.event))
        .finish();
  };
  Step unknown_action = step("2026-900011"), unknown_stage = step("2026-900012"),
       newer_version = step("2026-900013"), extra_field = step("2026-900014");
  unknown_action.item.last_action = "teleport";
  dispatch.request("handle",
                   handoff_request(5, "dispatch",
                                   {{11, entry_of(unknown_action)},
                                    {12, altered(unknown_stage, "stage", "archived")},
                                    {13, altered(newer_version, "v", 3)},
                                    {14, altered(extra_field, "reviewer", {{"name", "王丽"}})}}));
  durable_ack(dispatch, 5);  // acknowledged: the lane keeps moving

  Desk office(s.cluster, *s.client);
  // The entry with an unknown field is applied, and the field travels on with the item.
  auto signed_for = office.command("sign", "2026-900014", {{"department", "zjj"}});
  REQUIRE(signed_for.ok());
  INFO(signed_for->error.message);
  REQUIRE(signed_for->ok);
  wire::Json item = wire::to_json(signed_for->body)["item"];
  CHECK(item["reviewer"]["name"] == "王丽");
  CHECK(field(*office.show("2026-900014"), "item", "stage") == "assigned");
  // The others are not applied: handle does not hold them.
  for (const char* id : {"2026-900011", "2026-900012", "2026-900013"}) {
    auto r = office.command("sign", id, {{"department", "zjj"}});
    CHECK(r->error.code == errc::kNotFound);
  }
  s.cluster.stop("handle");
  auto store = Store::open(s.cluster.dir() + "/data/handle");
  REQUIRE(store.ok());
  std::map<uint64_t, std::string> reasons;
  // The sender is the one the broker authenticated ("replayer"), not the one the
  // message names ("dispatch").
  (*store)->scan("incident/", [&](std::string_view key, std::string_view value) {
    CHECK(key.starts_with("incident/replayer/"));
    auto decoded = wire::decode(value.data(), value.size());
    wire::Json incident = wire::to_json(decoded->get());
    CHECK(incident["from"] == "replayer");
    CHECK(incident["entry"].contains("item"));
    CHECK(!incident["at"].get<std::string>().empty());
    reasons[incident["hid"]] = incident["reason"];
    return true;
  });
  REQUIRE(reasons.size() == 3);
  CHECK(reasons[11].find("unknown action 'teleport'") != std::string::npos);
  CHECK(reasons[12].find("unknown stage 'archived'") != std::string::npos);
  CHECK(reasons[13].find("version 3") != std::string::npos);
}
