// Exhaustion and file modes (docs/security.md, "Descriptors and idle connections", "Failed
// handshakes", "File modes"): the broker at a limit of 1,024 descriptors, filled by idle
// connections that never handshake, still answers a client with a valid key; a connection
// that does not finish its handshake is dropped after handshake_timeout_ms; refused
// handshakes are counted and logged at most once a second per reason; and what the
// processes make in data_dir is closed to other users whatever the caller's umask.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "security/keys.h"

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

std::string scrape_metrics(int port) {
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(2);
  http.set_read_timeout(5);
  auto res = http.Get("/metrics");
  return res && res->status == 200 ? res->body : "";
}

// The value of the series `series` (name{labels} as written), or -1.
double series_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

std::string handshake_series(const std::string& domain, const std::string& reason) {
  return "closeloop_handshake_failures_total{domain=\"" + domain + "\",reason=\"" + reason + "\"}";
}

// The lines of `text` after its first `from` bytes that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, size_t from,
                                    const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text.substr(std::min(from, text.size())));
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// `n` handshakes with keys no account holds, one at a time: each a CURVE socket that never
// reconnects (the Client would open a new one after a refusal), watched until the broker
// refuses it. How many were refused (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, status 400).
int refused_handshakes(const std::string& endpoint, const std::string& server_key, int n) {
  zmq::context_t context(1);
  int refused = 0;
  for (int i = 0; i < n; ++i) {
    security::KeyPair keys = security::generate_key_pair();
    zmq::socket_t stranger(context, zmq::socket_type::dealer);
    stranger.set(zmq::sockopt::linger, 0);
    stranger.set(zmq::sockopt::reconnect_ivl, -1);
    stranger.set(zmq::sockopt::curve_serverkey, server_key);
    stranger.set(zmq::sockopt::curve_publickey, keys.public_key);
    stranger.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    std::string address = "inproc://stranger-" + std::to_string(i);
    REQUIRE(zmq_socket_monitor(stranger.handle(), address.c_str(),
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0);
    zmq::socket_t monitor(context, zmq::socket_type::pair);
    monitor.connect(address);
    stranger.connect(endpoint);
    zmq::pollitem_t item{static_cast<void*>(monitor), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(5000)) != 1) continue;
    std::vector<zmq::message_t> event;
    REQUIRE(zmq::recv_multipart(monitor, std::back_inserter(event)));
    uint32_t status = 0;
    std::memcpy(&status, static_cast<const char*>(event[0].data()) + 2, 4);
    refused += status == 400;
  }
  return refused;
}

int mode_bits(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
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
  int port = free_tcp_port();
  Running s("metrics_listen = \"127.0.0.1:" + std::to_string(port) +
            "\"\n[timing]\nheartbeat_ms = 100\nhandshake_timeout_ms = 500\n");
  IdleConnections idle(client_port_of(s.cluster), 3);
  auto opened = SteadyClock::now();
  REQUIRE(eventually([&] { return idle.closed_by_peer(0) && idle.closed_by_peer(2); }, 5s));
  auto took = SteadyClock::now() - opened;
  INFO(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took >= 400ms);
  CHECK(took < 2500ms);
  // Counted as failed handshakes of the client port.
  CHECK(eventually(
      [&] {
        return series_value(scrape_metrics(port), handshake_series("clients", "no_handshake")) >= 3;
      },
      5s));
  CHECK(s.client->call("ping", "", wire::empty_map())->ok);  // a real client's is finished
}

TEST_CASE(
    "200 handshakes with unknown keys add a few lines to the log and "
    "closeloop_handshake_failures_total says 200",
    "[exhaustion][handshake]") {
  int port = free_tcp_port();
  Running s("metrics_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n" + kFastTiming);
  std::string log_path = s.cluster.dir() + "/broker.log";
  size_t log_before = read_file(log_path).size();
  std::string server_key = s.cluster.keys()->server_key;
  auto started = SteadyClock::now();
  REQUIRE(refused_handshakes(s.cluster.endpoint(), server_key, 200) == 200);
  INFO(
      "200 refused in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count()
      << " ms");
  // Three on the workers' port (a process that is not one of ours).
  std::string backend = "tcp://127.0.0.1:" + std::to_string(client_port_of(s.cluster) + 1);
  REQUIRE(refused_handshakes(backend, server_key, 3) == 3);

  std::string metrics;
  CHECK(eventually(
      [&] {
        metrics = scrape_metrics(port);
        return series_value(metrics, handshake_series("clients", "unknown_key")) == 200 &&
               series_value(metrics, handshake_series("workers", "unknown_key")) == 3;
      },
      10s));
  INFO(metrics);
  // The refusals not logged are summed up within a second or so.
  std::string log;
  auto summed = [&] {
    log = read_file(log_path);
    int logged = 0;
    std::regex more(
        R"(refused (\d+) more handshakes on clients: no enabled account holds this key)");
    for (const std::string& line : lines_with(log, log_before, "on clients")) {
      std::smatch m;
      if (std::regex_search(line, m, more))
        logged += std::stoi(m[1]);
      else if (line.find("no enabled account holds this key") != std::string::npos)
        ++logged;
    }
    return logged == 200;
  };
  CHECK(eventually(summed, 5s));
  INFO(log.substr(log_before));
  size_t added_lines = lines_with(log, log_before, "").size();
  CHECK(added_lines <= 12);
  CHECK(log.size() - log_before < 3000);
  CHECK(lines_with(log, log_before, "(last from 127.0.0.1)").size() >= 1);

  // `status` carries the counts too.
  auto status = s.cluster.client(5000, "admin")->call("status", "", wire::empty_map());
  REQUIRE(status.ok());
  REQUIRE(status->ok);
  Json failures = wire::to_json(status->body)["handshake_failures"];
  INFO(failures.dump());
  bool found = false;
  for (const Json& f : failures)
    found =
        found || (f["domain"] == "clients" && f["reason"] == "unknown_key" && f["count"] == 200);
  CHECK(found);
}

TEST_CASE(
    "closeloopd under umask 022 makes the data dir and the stores closed to others, and a data dir "
    "others can read is warned about in the log and in status",
    "[exhaustion][files]") {
  Cluster cluster(kFastTiming);
  std::filesystem::path data = cluster.dir() + "/data";
  mode_t caller = ::umask(022);  // what a shell gives closeloopd
  pid_t daemon = spawn_closeloopd(cluster);
  ::umask(caller);
  REQUIRE(cluster.wait_ready(20000));
  {
    auto c = cluster.client();
    REQUIRE(c->call("ping", "", wire::empty_map())->ok);
  }
  CHECK(stop_closeloopd(daemon) == 0);

  CHECK(mode_bits(data) == 0750);
  int stores = 0, files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data)) {
    std::string path = entry.path().string();
    INFO(path);
    int mode = mode_bits(entry.path());
    if (entry.path().parent_path().filename() == "keys" && entry.is_regular_file()) {
      CHECK(mode == (path.ends_with(".pub") ? 0644 : 0600));  // as they always were
      continue;
    }
    CHECK((mode & 07) == 0);  // nothing for others
    if (entry.is_directory()) {
      CHECK(mode == 0750);
      stores += entry.path().filename() != "keys";
    } else {
      CHECK(mode == 0640);
      ++files;
    }
  }
  CHECK(stores == static_cast<int>(kProcesses.size()) - 1);  // one per worker
  CHECK(files >= 4 * stores);                                // CURRENT, LOCK, LOG, MANIFEST…

  // A data dir others may read: every process warns at start, each worker says it in status.
  std::filesystem::permissions(data, std::filesystem::perms(0755));
  daemon = spawn_closeloopd(cluster);
  REQUIRE(cluster.wait_ready(20000));
  std::string warning = "data_dir " + data.string() + " is mode 0755";
  Json workers;
  CHECK(eventually(
      [&] {
        CliRun status =
            run_cli(cluster.dir(), {"--key", cluster.key_file("admin"), "status", "--json"});
        if (status.code != 0) return false;
        workers = status.parsed()["workers"];
        int warned = 0;
        for (const Json& w : workers) warned += w.value("warning", "").starts_with(warning);
        return warned == static_cast<int>(kProcesses.size()) - 1;
      },
      10s));
  INFO(workers.dump());
  std::string log = read_file(cluster.dir() + "/closeloopd.log");
  CHECK(lines_with(log, 0, warning).size() >= kProcesses.size());  // the broker's too
  CliRun table = run_cli(cluster.dir(), {"--key", cluster.key_file("admin"), "status"});
  CHECK(table.out.find("intake: WARNING: " + warning) != std::string::npos);
  CHECK(stop_closeloopd(daemon) == 0);
}
