// Online backup, restore into a new data dir, and a stage rebuilt from the ledger
// (issue 9; backup/dump.h, backup/restore.h, docs/operations.md "Backups").
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

CliRun admin_cli(Cluster& c, std::vector<std::string> args) {
  std::vector<std::string> all{"--key", c.key_file("admin")};
  all.insert(all.end(), args.begin(), args.end());
  return run_cli(c.dir(), all);
}

std::string made_id(const Result<wire::Reply>& reply) { return body_of(reply)["item"]["id"]; }

std::string stage_now(Desk& desk, const std::string& id) {
  auto shown = desk.show(id);
  return shown.ok() && shown->ok ? std::string(body_of(shown)["item"]["stage"]) : "";
}

bool trail_verifies(Desk& desk, const std::string& id) {
  auto trail = desk.trail(id);
  if (!trail.ok() || !trail->ok) return false;
  auto events = events_of(*trail);
  return !events.empty() && first_bad_seq(events) == 0;
}

// Every item the ledger lists, by title.
std::multiset<std::string> titles(Desk& desk) {
  std::multiset<std::string> out;
  wire::Json listed = body_of(desk.list());
  for (const auto& item : listed["items"]) out.insert(item.value("title", ""));
  return out;
}

}  // namespace

TEST_CASE(
    "a backup taken under load restores into a new data dir: every command acknowledged before "
    "it is there once, every trail verifies, and the service resumes",
    "[backup][restore]") {
  Running s(std::string(kFastTiming) + kTransportRoute);
  Desk desk(s.cluster, *s.client);
  // Acknowledged before the backup: 30 submits with keys, 10 of them assigned, 5 handled.
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    auto made =
        desk.submit("备份前 " + std::to_string(i), "内容", "", "before-" + std::to_string(i));
    REQUIRE(made->ok);
    ids.push_back(made_id(made));
  }
  for (int i = 0; i < 10; ++i) REQUIRE(desk.assign(ids[i], "zjj")->ok);
  for (int i = 0; i < 5; ++i) REQUIRE(desk.handle(ids[i], "zjj", "已办理")->ok);

  // Load while the backup is read: submits keep coming from another client.
  std::atomic<bool> stop{false};
  std::atomic<int> during{0};
  std::thread load([&] {
    auto client = s.cluster.client();
    Desk other(s.cluster, *client);
    for (int i = 0; !stop; ++i)
      if (auto made = other.submit("备份中 " + std::to_string(i), "内容"); made.ok() && made->ok)
        ++during;
  });
  std::string dir = s.cluster.dir() + "/backup";
  CliRun backup = admin_cli(s.cluster, {"backup", "--out", dir});
  stop = true;
  load.join();
  INFO(backup.err);
  REQUIRE(backup.code == 0);
  CHECK(backup.out.find("written to " + dir) != std::string::npos);
  CHECK(std::filesystem::exists(dir + "/manifest.json"));
  CHECK((std::filesystem::status(dir + "/keys/admin.key").permissions() &
         std::filesystem::perms::group_all) == std::filesystem::perms::none);
  CHECK(during > 0);

  // A second service, elsewhere, from the backup alone.
  Cluster restored(std::string(kFastTiming) + kTransportRoute);
  std::filesystem::remove_all(restored.dir() + "/data");
  CliRun restore =
      run_cli(s.cluster.dir(), {"restore", dir, "--data-dir", restored.dir() + "/data", "--json"});
  INFO(restore.err);
  REQUIRE(restore.code == 0);
  CHECK(restore.parsed()["records"]["handle"] == 5);  // the assigned ones not yet handled
  CHECK(restore.parsed()["records"]["verify"] == 5);
  // Restoring over it again is refused, and changes nothing.
  CHECK(run_cli(s.cluster.dir(), {"restore", dir, "--data-dir", restored.dir() + "/data"}).code ==
        2);
  // People keep their own keys (on their machines: here, the first service's folder).
  std::filesystem::copy(
      s.cluster.dir() + "/people", restored.dir() + "/people",
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  restored.start_all();
  REQUIRE(restored.wait_ready());
  auto client = restored.client();
  Desk there(restored, *client);
  auto present = titles(there);
  INFO(present.size());
  for (int i = 0; i < 30; ++i) {
    CHECK(present.count("备份前 " + std::to_string(i)) == 1);
    CHECK(trail_verifies(there, ids[i]));
  }
  CHECK(stage_now(there, ids[0]) == "handled");
  CHECK(stage_now(there, ids[7]) == "assigned");
  CHECK(stage_now(there, ids[20]) == "submitted");
  // A retried submit finds what it made; nothing is made twice.
  auto again = there.submit("备份前 3", "内容", "", "before-3");
  REQUIRE(again->ok);
  CHECK(made_id(again) == ids[3]);
  // The service resumes: each stage takes its items on, new ids follow the old serial.
  REQUIRE(there.handle(ids[7], "zjj", "已办理")->ok);
  REQUIRE(there.verify(ids[0], "satisfied")->ok);
  REQUIRE(there.close(ids[0])->ok);
  REQUIRE(there.assign(ids[20], "zjj")->ok);
  auto fresh = there.submit("恢复后", "内容");
  REQUIRE(fresh->ok);
  CHECK(made_id(fresh) > ids.back());
  CHECK(stage_now(there, ids[7]) == "handled");
  CHECK(trail_verifies(there, ids[0]));
  CHECK(titles(there).count("恢复后") == 1);
}

TEST_CASE(
    "a stage rebuilt from the ledger holds its items again, and its new handoffs are not taken "
    "for duplicates",
    "[backup][rebuild]") {
  Running s(kFastTiming);
  Desk desk(s.cluster, *s.client);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    auto made = desk.submit("重建 " + std::to_string(i), "内容");
    REQUIRE(made->ok);
    ids.push_back(made_id(made));
    REQUIRE(desk.assign(ids.back(), "zjj")->ok);
  }
  REQUIRE(desk.handle(ids[0], "zjj", "已办理")->ok);  // handle's positions now start above 1

  // Its data dir is lost.
  REQUIRE(s.cluster.stop("handle") == 0);
  std::string data = s.cluster.dir() + "/data";
  CHECK(admin_cli(s.cluster, {"rebuild", "handle"}).code == 2);  // it is there: refused
  std::filesystem::remove_all(data + "/handle");
  CHECK(admin_cli(s.cluster, {"rebuild", "ledger"}).code == 2);
  CHECK(run_cli(s.cluster.dir(), {"rebuild", "handle"}).code == 3);  // the office may not
  CliRun rebuilt = admin_cli(s.cluster, {"rebuild", "assigned", "--json"});
  INFO(rebuilt.err);
  REQUIRE(rebuilt.code == 0);
  CHECK(rebuilt.parsed()["worker"] == "handle");
  CHECK(rebuilt.parsed()["items"] == 5);
  s.cluster.start("handle");
  REQUIRE(s.cluster.wait_ready());

  // Its first handoffs after the rebuild reach verify and the ledger (without epochs they
  // would carry positions the receivers have seen, and be dropped as duplicates).
  for (int i = 1; i < 6; ++i) {
    REQUIRE(desk.handle(ids[i], "zjj", "已办理")->ok);
    CHECK(stage_now(desk, ids[i]) == "handled");
    REQUIRE(desk.verify(ids[i], "satisfied")->ok);
    CHECK(trail_verifies(desk, ids[i]));
  }
  CHECK(stage_now(desk, ids[0]) == "handled");
}

TEST_CASE("a backup is the admin's, and a damaged one is refused before anything is written",
          "[backup][restore]") {
  Running s(kFastTiming);
  Desk desk(s.cluster, *s.client);
  REQUIRE(desk.submit("一项", "内容")->ok);
  std::string dir = s.cluster.dir() + "/backup";
  CHECK(run_cli(s.cluster.dir(), {"backup", "--out", dir}).code == 3);  // the office may not
  REQUIRE(admin_cli(s.cluster, {"backup", "--out", dir}).code == 0);
  CHECK(admin_cli(s.cluster, {"backup", "--out", dir}).code == 2);  // never over a backup

  {
    std::fstream dump(dir + "/ledger.dump", std::ios::in | std::ios::out | std::ios::binary);
    dump.seekp(20);
    dump.put('\x7f');
  }
  std::string target = s.cluster.dir() + "/restored";
  CliRun damaged = run_cli(s.cluster.dir(), {"restore", dir, "--data-dir", target});
  CHECK(damaged.code == 2);
  CHECK(damaged.err.find("damaged") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(run_cli(s.cluster.dir(), {"restore", s.cluster.dir(), "--data-dir", target}).code == 2);
}
