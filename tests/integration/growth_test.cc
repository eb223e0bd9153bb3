// Bounded growth (issue 9): a receiver's dedup markers (seen/) are pruned below each
// sender's watermark, and duplicates are still caught on both sides of it; intake's cached
// submit replies expire (idem_reply_ttl_days) while its keys keep naming their items; an
// outbox whose receiver is down keeps at most its bound in memory; disk and memory per item
// stay flat as history grows.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
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

namespace {

// The worker's entry in a `status` reply, or an empty object.
wire::Json status_of(Client& client, const std::string& worker) {
  auto r = client.call("status", "", wire::empty_map());
  wire::Json status = r && r->ok ? wire::to_json(r->body) : wire::Json::object();
  for (const auto& w : status.value("workers", wire::Json::array()))
    if (w.value("name", "") == worker) return w;
  return wire::Json::object();
}

// `worker`'s outbox figures for `to` as status reports them: {entries, on_disk}.
std::pair<uint64_t, uint64_t> outbox_toward(Client& client, const std::string& worker,
                                            const std::string& to) {
  for (const auto& o : status_of(client, worker).value("outbox", wire::Json::array()))
    if (o.value("to", "") == to)
      return {o.value("entries", uint64_t{0}), o.value("on_disk", uint64_t{0})};
  return {0, 0};
}

// Rows `first` … `first + count - 1` of a list, station items (no department: each goes to
// dispatch and the ledger), with a body of `body_bytes`.
std::string station_rows(int first, int count, size_t body_bytes) {
  wire::Json rows = wire::Json::array();
  for (int i = first; i < first + count; ++i)
    rows.push_back({{"line", i},
                    {"key", "row" + std::to_string(i)},
                    {"kind", "station"},
                    {"title", "诉求" + std::to_string(i)},
                    {"body", std::string(body_bytes, 'x')}});
  return wire::MapBuilder().add_raw("rows", wire::encode_json(rows)).finish();
}

uint64_t resident_bytes(pid_t pid) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

uint64_t folder_size(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) bytes += e.file_size();
  return bytes;
}

}  // namespace

TEST_CASE(
    "an outbox whose receiver is down keeps at most its bound in memory, status counts every "
    "entry, and each arrives once and in order when the receiver returns",
    "[growth][handoff]") {
  Running s(kFastTiming);
  REQUIRE(s.cluster.stop("ledger") == 0);
  // 10,000 items, each an outbox record for dispatch and the ledger: more than twice the
  // mirror's 4,096. The imports' replies wait for the ledger (and expire): each is sent and
  // taken as counted once status shows its rows in intake's outbox.
  auto client = s.cluster.client(60000);
  constexpr int kItems = 10000, kPerImport = 200;
  for (int first = 0; first < kItems; first += kPerImport) {
    client->start("import", "", station_rows(first, kPerImport, 1000), [](Result<wire::Reply>) {});
    uint64_t expected = first + kPerImport;
    REQUIRE(
        eventually([&] { return outbox_toward(*s.client, "intake", "ledger").first >= expected; },
                   std::chrono::seconds(60)));
  }
  auto [entries, on_disk] = outbox_toward(*s.client, "intake", "ledger");
  INFO("intake's outbox toward the ledger: " << entries << " entries, " << on_disk
                                             << " on disk only");
  CHECK(entries == kItems);
  CHECK(entries - on_disk <= 4096);  // the mirror's bound: the rest wait on disk
  CHECK(s.cluster.running("intake"));

  s.cluster.start("ledger");
  REQUIRE(eventually([&] { return outbox_toward(*s.client, "intake", "ledger").first == 0; },
                     std::chrono::seconds(180)));
  REQUIRE(s.cluster.stop("ledger") == 0);
  // Once each, in order: every item's submit event is a leaf of the ledger's tree, and the
  // leaves come in the order intake made the items (its ids).
  auto store = Store::open(s.cluster.dir() + "/data/ledger");
  REQUIRE(store.ok());
  std::vector<std::pair<std::string, uint64_t>> leaves;
  (*store)->scan(keys::kLeafPrefix, [&](std::string_view key, std::string_view value) {
    leaves.emplace_back(std::string(key), keys::read_be64(value));
    return true;
  });
  REQUIRE(leaves.size() == kItems);  // one event per item, each applied once:
  auto tree = (*store)->get(keys::meta("tree_size"));
  REQUIRE(tree);
  uint64_t account_changes = 0;  // leaves too: the first two accounts
  (*store)->scan(keys::kAccountLeafPrefix, [&](std::string_view, std::string_view) {
    return ++account_changes;
  });
  CHECK(account_changes == 2);
  // A second application would have grown the tree.
  CHECK(keys::read_be64(*tree) == kItems + account_changes);
  std::sort(leaves.begin(), leaves.end());  // by item id: 2026-000001 …
  size_t out_of_order = 0;
  for (size_t i = 1; i < leaves.size(); ++i)
    out_of_order += leaves[i].second < leaves[i - 1].second;
  CHECK(out_of_order == 0);
}

TEST_CASE("disk and memory per item stay flat from 5,000 to 20,000 items", "[growth][measure]") {
  Running s(kFastTiming);
  auto client = s.cluster.client(60000);
  auto import = [&](int first, int count) {
    for (int start = first; start < first + count; start += 200) {
      auto r = client->call("import", "", station_rows(start, 200, 200));
      REQUIRE(r.ok());
      REQUIRE(r->ok);
    }
    // Every handoff acknowledged, its markers pruned up to the last watermark: at rest.
    REQUIRE(eventually([&] {
      for (const auto& w : {"intake", "dispatch"})
        for (const auto& o : status_of(*s.client, w).value("outbox", wire::Json::array()))
          if (o.value("entries", 0) != 0) return false;
      return true;
    }));
  };
  struct Figures {
    std::map<std::string, uint64_t> disk, rss;
  };
  auto measure = [&] {
    Figures f;
    for (const auto& w : {"intake", "dispatch", "ledger"}) {
      f.rss[w] = resident_bytes(s.cluster.pid(w));
      f.disk[w] = folder_size(s.cluster.dir() + "/data/" + w);
    }
    return f;
  };
  import(0, 5000);
  Figures small = measure();
  import(5000, 15000);
  Figures large = measure();
  for (const auto& w : {"intake", "dispatch", "ledger"}) {
    double disk_small = small.disk[w] / 5000.0, disk_large = large.disk[w] / 20000.0;
    double rss_small = small.rss[w] / 5000.0, rss_large = large.rss[w] / 20000.0;
    INFO(w << ": disk " << disk_small << " → " << disk_large << " bytes/item, RSS " << rss_small
           << " → " << rss_large << " bytes/item");
    // Flat within a generous factor: LevelDB's log and compactions make disk step, and
    // memory is mostly fixed (caches, buffers), so its share per item falls.
    CHECK(disk_large <= 2 * disk_small + 512);
    CHECK(rss_large <= 2 * rss_small);
  }
}

TEST_CASE(
    "a submit's cached reply expires after idem_reply_ttl_days, and a retry with its key still "
    "finds the item it made",
    "[growth][idem]") {
  Cluster cluster("idem_reply_ttl_days = 2\n" + std::string(kFastTiming), /*test_clock=*/true);
  cluster.set_clock("2026-11-30T01:00:00Z");
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  auto client = cluster.client();
  Desk office(cluster, *client);
  auto stage_of = [](const Result<wire::Reply>& r) {
    return r && r->ok ? field(*r, "item", "stage") : "";
  };
  auto id_of = [](const Result<wire::Reply>& r) {
    return r && r->ok ? field(*r, "item", "id") : "";
  };
  auto import_row = [&] {
    auto r = client->call("import", "", station_rows(7, 1, 100));
    return body_of(r)["results"][0];
  };

  auto first = office.submit("老旧小区停车难", "夜间乱停放堵塞消防通道", "", "k1");
  std::string id = id_of(first);
  REQUIRE(!id.empty());
  wire::Json imported = import_row();
  REQUIRE(imported["result"] == "imported");
  REQUIRE(office.assign(id, "zjj")->ok);
  // Within the TTL the retry gets the first reply as it was (the item just submitted).
  CHECK(stage_of(office.submit("老旧小区停车难", "夜间乱停放堵塞消防通道", "", "k1")) ==
        "submitted");

  cluster.set_clock("2026-12-01T13:00:00Z");  // a day and a half later: a second key
  auto second = office.submit("路灯不亮", "幸福里小区路灯损坏", "", "k2");
  std::string second_id = id_of(second);
  REQUIRE(!second_id.empty());
  REQUIRE(office.assign(second_id, "zjj")->ok);

  cluster.set_clock("2026-12-02T02:00:00Z");  // past k1's two days, within k2's
  // k1's reply is dropped: a retry is answered with the item as it is now, and makes no other.
  CHECK(eventually([&] {
    return stage_of(office.submit("老旧小区停车难", "夜间乱停放堵塞消防通道", "", "k1")) ==
           "assigned";
  }));
  CHECK(id_of(office.submit("老旧小区停车难", "夜间乱停放堵塞消防通道", "", "k1")) == id);
  CHECK(office.submit("另一件事", "别的内容", "", "k1")->error.code == errc::kInvalid);
  CHECK(stage_of(office.submit("路灯不亮", "幸福里小区路灯损坏", "", "k2")) == "submitted");
  wire::Json again = import_row();
  CHECK(again["result"] == "duplicate");
  CHECK(again["id"] == imported["id"]);

  REQUIRE(cluster.stop("intake") == 0);
  auto store = Store::open(cluster.dir() + "/data/intake");
  REQUIRE(store.ok());
  auto has_reply = [&](const std::string& key) {
    auto stored = (*store)->get(keys::submit_key("office", key));
    REQUIRE(stored);
    return wire::to_json(wire::decode(stored->data(), stored->size())->get()).contains("reply");
  };
  CHECK_FALSE(has_reply("k1"));
  CHECK(has_reply("k2"));
  size_t pending = 0;
  (*store)->scan(keys::kIdemExpiryPrefix,
                 [&](std::string_view, std::string_view) { return ++pending, true; });
  CHECK(pending == 1);  // k2's
}

TEST_CASE(
    "past 4,096 replies waiting for their handoffs a worker answers new commands unavailable "
    "(busy) and takes them again once its receiver is back",
    "[growth][handoff]") {
  Running s(kFastTiming);
  REQUIRE(s.cluster.stop("ledger") == 0);
  // Each submit's reply waits for the ledger to apply its handoff (read-your-writes).
  // Counted on the client's I/O thread; declared first, to outlive the client.
  std::atomic<int> busy = 0, answered = 0;
  auto client = s.cluster.client(60000);
  auto count = [&](Result<wire::Reply> r) {
    if (!r) return;  // the waiting ones never answer (they expire)
    ++answered;
    if (!r->ok && r->error.code == errc::kUnavailable &&
        r->error.message.find("busy") != std::string::npos)
      ++busy;
  };
  constexpr int kSubmits = 4400;
  Command submit{
      .verb = "submit",
      .fields = {{"title", "夜间施工噪音"}, {"body", "工地夜间施工"}, {"source", "center"}}};
  std::string body = encode_command_body(submit);
  // Sent 400 at a time (the client's socket queues at most 1,000), each lot once intake
  // has taken it: its records show in intake's outbox, or the bound is reached.
  for (int sent = 0; sent < kSubmits;) {
    for (int i = 0; i < 400; ++i, ++sent) client->start("submit", "", body, count);
    uint64_t expected = std::min(sent, 4096);
    REQUIRE(
        eventually([&] { return outbox_toward(*s.client, "intake", "ledger").first >= expected; }));
  }
  eventually([&] { return busy >= kSubmits - 4096; }, std::chrono::seconds(30));
  INFO(answered << " answered, " << busy << " of them busy; intake's outbox toward the ledger: "
                << outbox_toward(*s.client, "intake", "ledger").first);
  CHECK(busy >= kSubmits - 4096);
  CHECK(busy == answered);  // nothing else came back while the ledger was down
  CHECK(s.cluster.running("intake"));

  s.cluster.start("ledger");
  REQUIRE(s.cluster.wait_ready());
  Desk office(s.cluster, *s.client);
  CHECK(eventually([&] {
    auto r = office.submit("路灯不亮", "幸福里小区路灯损坏");
    return r && r->ok;
  }));
}
