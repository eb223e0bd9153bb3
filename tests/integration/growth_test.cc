// Bounded growth (issue 9): a receiver's dedup markers (seen/) are pruned below each
// sender's watermark, and duplicates are still caught on both sides of it.
#include <catch2/catch.hpp>

#include <thread>

#include "fake_worker.h"
#include "harness.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

// The handoff request `id` from `from` with `entries` and the sender's `watermark`.
std::string handoff_with_watermark(uint64_t id, uint64_t watermark,
                                   const std::vector<std::pair<uint64_t, std::string>>& entries) {
  wire::Buffer list;
  wire::Packer pk(list);
  pk.pack_array(static_cast<uint32_t>(entries.size()));
  for (const auto& [hid, entry] : entries) {
    pk.pack_map(2);
    pk.pack("hid"), pk.pack(hid);
    pk.pack("entry"), wire::pack_raw(list, entry);
  }
  std::string body =
      wire::MapBuilder().add("watermark", watermark).add_raw("entries", wire::view(list)).finish();
  return wire::encode_request("handoff", id, "replayer", body);
}

std::string item_entry(int n) {
  auto step = assigned_step("2026-95" + std::to_string(1000 + n), "zjj");
  REQUIRE(step.ok());
  return entry_of(*step);
}

size_t markers(const std::string& data_dir, const std::string& worker, const std::string& from) {
  auto store = Store::open(data_dir + "/" + worker);
  REQUIRE(store.ok());
  size_t n = 0;
  (*store)->scan(keys::seen_prefix(from),
                 [&](std::string_view, std::string_view) { return ++n, true; });
  return n;
}

// Whether `worker`'s outbox empties (as `status` reports it) within a few seconds.
bool outbox_drained(Client& client, const std::string& worker) {
  for (int i = 0; i < 200; ++i) {
    auto r = client.call("status", "", wire::empty_map());
    wire::Json status = r && r->ok ? wire::to_json(r->body) : wire::Json::object();
    for (const auto& w : status.value("workers", wire::Json::array())) {
      if (w.value("name", "") != worker) continue;
      size_t entries = 0;
      for (const auto& o : w.value("outbox", wire::Json::array())) entries += o.value("entries", 0);
      if (entries == 0) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "a receiver prunes a sender's dedup markers below its watermark and still takes what comes "
    "again for a duplicate",
    "[growth][handoff]") {
  Running s(kFastTiming);
  FakeWorker sender(backend_of(s.cluster.endpoint()), "replayer", s.cluster.keys_dir());
  uint64_t request = 0;
  for (uint64_t first = 1; first <= 300; first += 50) {
    std::vector<std::pair<uint64_t, std::string>> entries;
    for (uint64_t hid = first; hid < first + 50; ++hid) entries.push_back({hid, item_entry(hid)});
    sender.request("handle", handoff_with_watermark(++request, 0, entries));
    REQUIRE(sender.held_in_durable_ack(request).empty());
  }
  // Everything below 290 is done, says the sender: the markers there go.
  sender.request("handle", handoff_with_watermark(++request, 290, {{301, item_entry(301)}}));
  REQUIRE(sender.held_in_durable_ack(request).empty());

  // What comes again is a duplicate, below the watermark or above it: acknowledged, not
  // applied (these carry other items, which handle would hold if it applied them).
  sender.request("handle", handoff_with_watermark(++request, 290,
                                                  {{5, item_entry(905)}, {295, item_entry(995)}}));
  REQUIRE(sender.held_in_durable_ack(request).empty());
  Desk office(s.cluster, *s.client);
  CHECK(office.command("sign", "2026-951005", {{"department", "zjj"}})->ok);  // applied once
  CHECK(office.command("sign", "2026-951905", {{"department", "zjj"}})->error.code ==
        errc::kNotFound);
  CHECK(office.command("sign", "2026-951995", {{"department", "zjj"}})->error.code ==
        errc::kNotFound);

  s.cluster.stop("handle");
  CHECK(markers(s.cluster.dir() + "/data", "handle", "replayer") == 12);  // 290 … 301
  auto store = Store::open(s.cluster.dir() + "/data/handle");
  REQUIRE(store.ok());
  auto floor = (*store)->get(keys::seen_floor("replayer"));
  REQUIRE(floor);
  CHECK(keys::read_be64(*floor) == 290);
}

TEST_CASE("the dedup markers stay bounded however many handoffs a worker has taken",
          "[growth][handoff]") {
  Running s(kFastTiming);
  auto import = [&](int from, int count) {
    for (int start = from; start < from + count; start += 50) {
      wire::Json rows = wire::Json::array();
      for (int i = start; i < start + 50; ++i)
        rows.push_back({{"line", i},
                        {"key", "k" + std::to_string(i)},
                        {"kind", "station"},
                        {"title", "诉求" + std::to_string(i)},
                        {"body", "正文"}});
      auto r = s.client->call("import", "",
                              wire::MapBuilder().add_raw("rows", wire::encode_json(rows)).finish());
      REQUIRE(r.ok());
      REQUIRE(r->ok);
    }
    // Once intake's handoffs are all acknowledged as durable, its next handoff carries a
    // watermark above every one of them.
    REQUIRE(outbox_drained(*s.client, "intake"));
    auto last = Desk(s.cluster, *s.client).submit("最后一件", "它带来入口的水位");
    REQUIRE(last.ok());
    REQUIRE(last->ok);
  };
  import(0, 1200);
  s.cluster.stop("dispatch");
  size_t dispatch_markers = markers(s.cluster.dir() + "/data", "dispatch", "intake");
  s.cluster.start("dispatch");
  REQUIRE(s.cluster.wait_ready());
  import(1200, 1200);
  s.cluster.stop("dispatch");
  s.cluster.stop("ledger");
  size_t later = markers(s.cluster.dir() + "/data", "dispatch", "intake");
  INFO("dispatch's markers for intake: " << dispatch_markers << " after 1,201 items, " << later
                                         << " after 2,402");
  // At most a pruning step (256) behind the watermark, however many came before.
  CHECK(dispatch_markers <= 257);
  CHECK(later <= 257);
  CHECK(markers(s.cluster.dir() + "/data", "ledger", "intake") <= 257);
}
