// One Client shared by many threads (net/client.h): each reply goes to its own request, a
// refused handshake fails every waiter at once, and closing the client releases its callers.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "harness.h"
#include "security/keys.h"

namespace closeloop::test {
namespace {

using namespace std::chrono_literals;

// Runs fn(t) on `count` threads at once and waits for them.
void on_threads_at_once(int count, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t) threads.emplace_back(fn, t);
  for (auto& thread : threads) thread.join();
}

}  // namespace

TEST_CASE("many threads share one client, each reply matched to its own request",
          "[client][client-threads]") {
  Running s;
  Desk desk(s.cluster, *s.client);
  constexpr int kThreads = 8, kCalls = 50;
  std::atomic<int> own = 0;
  on_threads_at_once(kThreads, [&](int t) {
    for (int i = 0; i < kCalls; ++i) {
      std::string title = "线程" + std::to_string(t) + "-" + std::to_string(i);
      auto made = desk.submit(title, "共享客户端");
      // field(), not body_of(): Catch's assertions are not for other threads
      if (made && made->ok && field(*made, "item", "title") == title) ++own;
    }
  });
  CHECK(own == kThreads * kCalls);
}

TEST_CASE("a refused key fails every waiting call at once, and closing the client releases them",
          "[client][client-refused]") {
  Running s;
  auto server = s.cluster.keys()->server_key;
  auto started = std::chrono::steady_clock::now();
  {
    Client stranger(s.cluster.endpoint(), 5000, 1 << 20,
                    ClientKeys{security::generate_key_pair(), server});
    std::atomic<int> refused = 0;
    on_threads_at_once(8, [&](int) {
      auto r = stranger.call("ping", "", wire::empty_map());
      if (!r && r.error().code == errc::kUnauthenticated) ++refused;
    });
    CHECK(refused == 8);
    CHECK(std::chrono::steady_clock::now() - started < 2500ms);
  }
  // A service that never answers: the calls wait until the client is destroyed.
  REQUIRE(s.cluster.stop("ledger") == 0);
  auto client = s.cluster.client(30000);
  std::atomic<int> closed = 0;
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      auto r = client->call("show", "", wire::MapBuilder().add("item", "2026-000001").finish());
      if (!r && r.error().message == "the client was closed") ++closed;
    });
  std::this_thread::sleep_for(300ms);
  started = std::chrono::steady_clock::now();
  client.reset();
  for (auto& c : callers) c.join();
  CHECK(closed == 4);
  CHECK(std::chrono::steady_clock::now() - started < 1000ms);
}

}  // namespace closeloop::test
