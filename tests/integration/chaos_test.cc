// Chaos, judged the way Jepsen judges queues: concurrent clients drive items to
// closed while a random process is killed -9 every ~200 ms (and once all of them at
// once). Every client step is recorded as ok, refused or unknown (no answer in
// time). Afterwards every item must be closed with a trail that verifies and holds
// each step exactly once: lost (an ok step missing from the trail) = duplicated (a
// step twice) = unexpected (a step nobody asked for) = 0.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

const char* kChaosConfig = R"(
[[route]]
category = "transport"
department = "jtj"

[timing]
heartbeat_ms = 100
liveness = 3
reconnect_min_ms = 100
reconnect_max_ms = 500
resend_min_ms = 100
resend_max_ms = 500
request_timeout_ms = 500
)";

enum class Outcome { kOk, kRefused, kUnknown };

struct History {
  std::string id;
  bool routed = false;
  std::vector<std::pair<std::string, Outcome>> steps;  // (action, outcome)
};

const std::map<std::string, std::string> kNextAction{
    {"submitted", "assign"}, {"assigned", "handle"}, {"handled", "verify"}, {"verified", "close"}};

Outcome outcome_of(const Result<wire::Reply>& r) {
  if (!r.ok()) return Outcome::kUnknown;
  return r->ok ? Outcome::kOk : Outcome::kRefused;
}

// Drives one item to closed (or until the deadline), recording every step.
void drive(Desk& desk, int n, History& h, std::chrono::steady_clock::time_point deadline) {
  h.routed = n % 4 == 0;
  std::string stage;
  while (h.id.empty() && std::chrono::steady_clock::now() < deadline) {
    auto r = desk.submit("混沌测试事项" + std::to_string(n), "第" + std::to_string(n) + "号",
                         h.routed ? "transport" : "", "chaos-" + std::to_string(n));
    h.steps.emplace_back("submit", outcome_of(r));
    if (r.ok() && r->ok) h.id = field(*r, "item", "id"), stage = field(*r, "item", "stage");
  }
  while (stage != "closed" && std::chrono::steady_clock::now() < deadline) {
    auto next = kNextAction.find(stage);
    Result<wire::Reply> r = Error{errc::kTimeout, ""};
    if (next != kNextAction.end()) {
      const std::string& action = next->second;
      if (action == "assign") r = desk.assign(h.id, "zjj");
      if (action == "handle") r = desk.handle(h.id, h.routed ? "jtj" : "zjj", "已办理");
      if (action == "verify") r = desk.verify(h.id, "satisfied");
      if (action == "close") r = desk.close(h.id);
      h.steps.emplace_back(action, outcome_of(r));
    }
    if (r.ok() && r->ok) {
      stage = field(*r, "item", "stage");
    } else {  // refused or unknown: ask the ledger where the item is
      auto shown = desk.show(h.id);
      if (shown.ok() && shown->ok) stage = field(*shown, "item", "stage");
      std::this_thread::sleep_for(10ms);
    }
  }
}

struct Verdict {
  int lost = 0, duplicated = 0, unexpected = 0, unverified = 0, unclosed = 0;
};

void judge(Desk& desk, const History& h, Verdict& v) {
  auto trail = desk.trail(h.id);
  if (!trail.ok() || !trail->ok) return void(++v.unclosed);
  auto events = events_of(*trail);
  if (first_bad_seq(events) != 0) ++v.unverified;
  if (events.empty() || events.back().stage != Stage::kClosed) ++v.unclosed;
  std::map<std::string, int> in_trail;
  for (const auto& e : events) {
    ++in_trail[e.action];
    bool attempted = false;
    for (const auto& [action, outcome] : h.steps) attempted |= action == e.action;
    bool by_router = e.action == "assign" && e.actor == "router" && h.routed;
    if (!attempted && !by_router) ++v.unexpected;
  }
  for (const auto& [action, count] : in_trail) v.duplicated += count > 1;
  for (const auto& [action, outcome] : h.steps)
    if (outcome == Outcome::kOk && !in_trail.count(action)) ++v.lost;
}

}  // namespace

TEST_CASE("chaos: items reach closed exactly once while processes are killed -9",
          "[chaos][crash]") {
  const int items = std::getenv("CLOSELOOP_CHAOS_ITEMS") ? std::atoi(std::getenv("CLOSELOOP_CHAOS_ITEMS")) : 1000;
  const int clients = 16;
  Cluster cluster(kChaosConfig);
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  // The clerks the desks hand their department's verbs to, made before the threads run.
  for (const std::string department : {"zjj", "jtj"})
    cluster.add_account("clerk-" + department, {"department"}, department);

  std::vector<History> histories(items);
  std::atomic<int> next{0}, finished{0};
  auto deadline = std::chrono::steady_clock::now() + 240s;
  std::vector<std::thread> drivers;
  for (int c = 0; c < clients; ++c) {
    drivers.emplace_back([&] {
      auto client = cluster.client(1000);
      Desk desk(cluster, *client);
      for (int n; (n = next++) < items;) drive(desk, n, histories[n], deadline);
      ++finished;
    });
  }

  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  bool killed_all = false;
  auto started = std::chrono::steady_clock::now();
  while (finished.load() < clients) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 100));
    if (!killed_all && std::chrono::steady_clock::now() - started > 1s) {
      cluster.kill_all9();  // once: the whole service at once
      cluster.start_all();
      killed_all = true;
      continue;
    }
    const std::string& victim = kProcesses[rng() % kProcesses.size()];
    cluster.kill9(victim);
    cluster.start(victim);
    ++kills;
  }
  for (auto& d : drivers) d.join();
  REQUIRE(cluster.wait_ready());

  auto client = cluster.client(5000);
  Desk desk(cluster, *client);
  Verdict v;
  std::map<Outcome, int> outcomes;
  for (const auto& h : histories) {
    for (const auto& [action, outcome] : h.steps) ++outcomes[outcome];
    if (h.id.empty()) {
      ++v.unclosed;
      continue;
    }
    judge(desk, h, v);
  }
  WARN("chaos: " << items << " items, " << kills << " single kills + 1 whole-service kill; steps ok="
                 << outcomes[Outcome::kOk] << " refused=" << outcomes[Outcome::kRefused]
                 << " unknown=" << outcomes[Outcome::kUnknown]);
  CHECK(killed_all);
  CHECK(v.lost == 0);
  CHECK(v.duplicated == 0);
  CHECK(v.unexpected == 0);
  CHECK(v.unverified == 0);
  CHECK(v.unclosed == 0);
}
