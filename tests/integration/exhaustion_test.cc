// Exhaustion (docs/security.md, "Descriptors and idle connections"): the broker at a limit of 1,024
// descriptors, filled by idle connections that never handshake, still answers a client with a valid
// key; a connection that does not finish its handshake is dropped after handshake_timeout_ms.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;
using Json = wire::Json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// This process's soft RLIMIT_NOFILE raised to its hard limit: it holds the idle
// connections itself. The new soft limit.
rlim_t raise_own_descriptors() {
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  return limit.rlim_cur;
}

int client_port_of(const Cluster& cluster) {
  return std::stoi(cluster.endpoint().substr(cluster.endpoint().rfind(':') + 1));
}

// TCP connections to 127.0.0.1:port that never send a byte, connected without waiting.
class IdleConnections {
 public:
  IdleConnections(int port, int n = 0) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(port);
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    add(n);
  }
  void add(int n) {
    for (int i = 0; i < n; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      REQUIRE(fd >= 0);
      int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
      REQUIRE((rc == 0 || errno == EINPROGRESS));
      fds_.push_back(fd);
    }
  }
  size_t size() const { return fds_.size(); }
  ~IdleConnections() {
    for (int fd : fds_) ::close(fd);
  }
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // Whether the broker has closed connection `i`: its greeting read and thrown away, the
  // end of the stream reached.
  bool closed_by_peer(size_t i) const {
    char buf[512];
    for (;;) {
      ssize_t n = ::recv(fds_[i], buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
      if (n < 0) return false;
    }
  }

 private:
  sockaddr_in addr_{};
  std::vector<int> fds_;
};

// How many descriptors process `pid` holds.
size_t descriptors_of(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

// The CPU time process `pid` has used (user + system), in seconds.
double cpu_seconds_of(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state … cmajflt (fields 3-13)
  double user = 0, system = 0;
  fields >> user >> system;
  return (user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE(
    "the broker at 1024 descriptors filled by 1100 idle connections without a key answers a "
    "client with a valid key within 10 s",
    "[exhaustion]") {
  REQUIRE(raise_own_descriptors() >= 1400);
  Cluster cluster;
  cluster.wrap("broker", {"prlimit", "--nofile=1024:1024", "--"});
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  pid_t broker = cluster.pid("broker");
  std::string limits = read_file("/proc/" + std::to_string(broker) + "/limits");
  REQUIRE(std::regex_search(limits, std::regex(R"(Max open files +1024 +1024 )")));
  auto connected = cluster.client(10000);  // a client that was there before
  REQUIRE(connected->call("ping", "", wire::empty_map()).ok());

  double cpu_before = cpu_seconds_of(broker);
  auto flood_start = SteadyClock::now();
  // Fifty at a time, each batch taken before the next: a burst overflows the accept queue
  // (100), and a connection the kernel then completes with a SYN cookie is one the broker
  // never sees while it stays silent. The broker runs out: every descriptor it may have is
  // taken.
  IdleConnections idle(client_port_of(cluster));
  size_t before = descriptors_of(broker), most = 0;
  while (idle.size() < 1100) {
    idle.add(50);
    eventually(
        [&] {
          most = std::max(most, descriptors_of(broker));
          return most >= std::min<size_t>(before + idle.size(), 1024);
        },
        500ms);
  }
  REQUIRE(most == 1024);  // (the first are dropped 3 s after they came, and others taken)
  INFO("the broker held " << before << " descriptors, then " << most);

  auto asked = SteadyClock::now();
  auto ping = connected->call("ping", "", wire::empty_map());
  auto connected_took = SteadyClock::now() - asked;
  REQUIRE(ping.ok());
  CHECK(ping->ok);

  auto fresh = cluster.client(10000);  // a new connection, behind the idle ones
  asked = SteadyClock::now();
  auto answer = fresh->call("ping", "", wire::empty_map());
  auto fresh_took = SteadyClock::now() - asked;
  double cpu = cpu_seconds_of(broker) - cpu_before;  // the I/O thread spins at EMFILE
  double wall = std::chrono::duration<double>(SteadyClock::now() - flood_start).count();
  INFO("already connected: answered in "
       << std::chrono::duration_cast<std::chrono::milliseconds>(connected_took).count()
       << " ms; a new client in "
       << std::chrono::duration_cast<std::chrono::milliseconds>(fresh_took).count()
       << " ms; the broker used " << cpu << " s of CPU in " << wall << " s");
  REQUIRE(answer.ok());
  CHECK(answer->ok);
  CHECK(fresh_took < 10s);
  CHECK(connected_took < 2s);
  CHECK(wire::to_json(answer->body)["services"].size() == kProcesses.size() - 1);
  CHECK(cluster.running("broker"));
}

TEST_CASE("a connection that does not finish its handshake is dropped after handshake_timeout_ms",
          "[exhaustion][handshake]") {
  Running s("[timing]\nheartbeat_ms = 100\nhandshake_timeout_ms = 500\n");
  IdleConnections idle(client_port_of(s.cluster), 3);
  auto opened = SteadyClock::now();
  REQUIRE(eventually([&] { return idle.closed_by_peer(0) && idle.closed_by_peer(2); }, 5s));
  auto took = SteadyClock::now() - opened;
  INFO(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took >= 400ms);
  CHECK(took < 2500ms);
  CHECK(s.client->call("ping", "", wire::empty_map())->ok);  // a real client's is finished
}
