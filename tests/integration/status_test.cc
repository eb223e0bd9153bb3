// Seeing it run (docs/operations.md): `closeloop status` and the broker's Prometheus
// /metrics, with the real processes. Their figures move when traffic flows, a killed worker
// shows as down and its restart is counted, only ops, auditors and admins may ask, and
// /metrics exists only where the config says. The Grafana dashboard asks only for what
// the broker exports.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;
using Json = wire::Json;

namespace {

// A cluster whose broker serves /metrics on a port of its own.
struct Observed {
  int port = free_tcp_port();
  Running running;
  explicit Observed(const std::string& extra = "")
      : running("metrics_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n" + kFastTiming +
                kTransportRoute + extra) {}
  Cluster& cluster() { return running.cluster; }

  // A real HTTP GET to the broker: the response's status, type and body.
  httplib::Result scrape(const std::string& path = "/metrics") const {
    httplib::Client http("127.0.0.1", port);
    http.set_connection_timeout(2);
    http.set_read_timeout(5);
    return http.Get(path.c_str());
  }
  std::string metrics() const {
    auto res = scrape();
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->body;
  }

  // `status` as the admin asks for it: the reply's JSON.
  Json status() {
    auto reply = cluster().client(5000, "admin")->call("status", "", wire::empty_map());
    REQUIRE(reply.ok());
    INFO(reply->error.code << ": " << reply->error.message);
    REQUIRE(reply->ok);
    return wire::to_json(reply->body);
  }
};

Json worker_in(const Json& status, const std::string& name) {
  for (const Json& w : status.value("workers", Json::array()))
    if (w.value("name", "") == name) return w;
  return Json();
}

// The value of one series (`name{labels}` exactly as written), or -1 if it is not there.
double value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

// Checks the text exposition format 0.0.4 as Prometheus reads it: every sample belongs to
// a family announced by HELP and TYPE before it (a histogram's by its _bucket, _sum and
// _count), each family once, every value a number. Returns the families with their type.
std::map<std::string, std::string> families_of(const std::string& text) {
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::string current;
  std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (\S+)$)");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO(line);
    if (line.starts_with("# HELP ")) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.insert(name).second);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      CHECK(helped.count(name) == 1);
      CHECK(types.emplace(name, type).second);
      CHECK(std::set<std::string>{"counter", "gauge", "histogram"}.count(type) == 1);
      current = name;
      continue;
    }
    std::smatch m;
    REQUIRE(std::regex_match(line, m, sample));
    std::string name = m[1];
    bool histogram_part =
        types[current] == "histogram" &&
        (name == current + "_bucket" || name == current + "_sum" || name == current + "_count");
    CHECK((name == current || histogram_part));
    std::string value = m[5];
    CHECK((value == "+Inf" || std::regex_match(value, std::regex(R"(-?[0-9.]+(e[-+]?[0-9]+)?)"))));
  }
  return types;
}

// The TCP ports the process listens on (from /proc: its sockets' inodes in LISTEN state).
std::set<int> listening_ports(pid_t pid) {
  std::set<std::string> inodes;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.starts_with("socket:[")) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::set<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state == "0A" && inodes.count(inode))
        ports.insert(std::stoi(local.substr(local.rfind(':') + 1), nullptr, 16));
    }
  }
  return ports;
}

pid_t broker_pid(const Cluster& cluster) {
  std::string out;
  shell("pgrep -f '[c]loseloop-broker --config " + cluster.config_path() + "'", &out);
  return out.empty() ? 0 : std::stoi(out);
}

int endpoint_port(const Cluster& cluster) {
  return std::stoi(cluster.endpoint().substr(cluster.endpoint().rfind(':') + 1));
}

// Runs `n` items through their whole life: submitted (routed to jtj), handled, verified, closed.
void lifecycles(Cluster& cluster, Client& office, int n) {
  Desk desk(cluster, office);
  for (int i = 0; i < n; ++i) {
    auto made = desk.submit("路灯不亮 " + std::to_string(i), "夜间无照明", "transport");
    REQUIRE(made.ok());
    REQUIRE(made->ok);
    std::string id = field(*made, "item", "id");
    auto done = [](const Result<wire::Reply>& step) {
      REQUIRE(step.ok());
      INFO(step->error.code << ": " << step->error.message);
      REQUIRE(step->ok);
    };
    done(desk.handle(id, "jtj", "已修复"));
    done(desk.verify(id, "satisfied"));
    done(desk.close(id));
  }
}

}  // namespace

// Commands, handoffs, the outbox draining, fsyncs and group commits.
TEST_CASE("status and /metrics move when traffic flows", "[status][metrics]") {
  Observed o;
  constexpr int kItems = 12;
  // Intake has reported its figures once (registering makes it up before that): the baseline.
  REQUIRE(eventually([&] {
    return value_of(o.metrics(), "closeloop_fsync_seconds_count{worker=\"intake\"}") >= 0;
  }));
  std::string before = o.metrics();
  double fsyncs_before = value_of(before, "closeloop_fsync_seconds_count{worker=\"intake\"}");
  CHECK(fsyncs_before >= 0);

  lifecycles(o.cluster(), *o.running.client, kItems);
  auto refused =
      o.running.client->call("show", "", wire::MapBuilder().add("item", "2026-999999").finish());
  REQUIRE(refused.ok());
  CHECK(refused->error.code == errc::kNotFound);

  // The counters reach what was done; every outbox drains to nothing.
  std::string text;
  auto drained = [&](const std::string& t) {
    std::istringstream in(t);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("closeloop_outbox_entries{") && !line.ends_with(" 0")) return false;
    return true;
  };
  bool moved = eventually([&] {
    text = o.metrics();
    return value_of(text,
                    "closeloop_commands_total{worker=\"intake\",verb=\"submit\",result=\"ok\"}") >=
               kItems &&
           value_of(text,
                    "closeloop_commands_total{worker=\"close\",verb=\"close\",result=\"ok\"}") >=
               kItems &&
           value_of(
               text,
               "closeloop_commands_total{worker=\"ledger\",verb=\"show\",result=\"not_found\"}") >=
               1 &&
           value_of(text, "closeloop_handoffs_applied_total{worker=\"ledger\",from=\"close\"}") >=
               kItems &&
           drained(text);
  });
  INFO(text);
  REQUIRE(moved);
  CHECK(value_of(text, "closeloop_handoffs_total{worker=\"intake\",to=\"dispatch\"}") >= kItems);
  CHECK(value_of(text, "closeloop_handoffs_applied_total{worker=\"dispatch\",from=\"intake\"}") >=
        kItems);
  CHECK(value_of(text, "closeloop_outbox_entries{worker=\"intake\",to=\"dispatch\"}") == 0);
  CHECK(value_of(text, "closeloop_outbox_oldest_seconds{worker=\"intake\",to=\"dispatch\"}") == 0);
  CHECK(value_of(text, "closeloop_fsync_seconds_count{worker=\"intake\"}") >=
        fsyncs_before + kItems);
  CHECK(value_of(text, "closeloop_fsync_seconds_bucket{worker=\"intake\",le=\"+Inf\"}") ==
        value_of(text, "closeloop_fsync_seconds_count{worker=\"intake\"}"));
  CHECK(value_of(text, "closeloop_fsync_seconds_sum{worker=\"intake\"}") > 0);
  CHECK(value_of(text, "closeloop_group_commit_size_count{worker=\"intake\"}") >= 1);
  CHECK(value_of(text, "closeloop_group_commit_size_sum{worker=\"intake\"}") >= kItems);
  CHECK(value_of(text, "closeloop_messages_in_total{worker=\"intake\"}") >= kItems);
  CHECK(value_of(text, "closeloop_messages_out_total{worker=\"intake\"}") >= kItems);
  CHECK(value_of(text, "closeloop_disk_bytes{worker=\"ledger\"}") > 0);
  CHECK(value_of(text, "closeloop_restarts_total{worker=\"handle\"}") == 0);

  // The same through `status`, and the CLI's two forms.
  Json status = o.status();
  for (std::string name : {"intake", "dispatch", "handle", "verify", "close", "ledger", "timer"}) {
    Json w = worker_in(status, name);
    INFO(name << ": " << w.dump());
    REQUIRE(w.is_object());
    CHECK(w["up"] == true);
    CHECK(w["pid"].get<uint64_t>() > 0);
    CHECK(w["up_since"].get<std::string>().ends_with("Z"));
    CHECK(w["restarts"] == 0);
    if (name != "timer") CHECK(w["messages_in"].get<uint64_t>() > 0);  // it asks once a minute
    CHECK(w["disk_bytes"].get<uint64_t>() > 0);
    CHECK(w["last_commit"].contains("size"));
    CHECK(w["last_commit"].contains("fsync_ms"));
    for (const Json& out : w["outbox"]) CHECK(out["entries"] == 0);
  }
  Json intake = worker_in(status, "intake");
  CHECK(intake["messages_out"].get<uint64_t>() >= kItems);
  CHECK(intake["last_commit"]["fsync_ms"].get<double>() > 0);
  bool to_dispatch = false;
  for (const Json& out : intake["outbox"])
    to_dispatch = to_dispatch || (out["to"] == "dispatch" && out.contains("oldest_age_ms"));
  CHECK(to_dispatch);

  std::string admin = o.cluster().key_file("admin");
  CliRun json = run_cli(o.cluster().dir(), {"--key", admin, "status", "--json"});
  INFO(json.err);
  REQUIRE(json.code == 0);
  CHECK(worker_in(json.parsed(), "ledger")["up"] == true);
  CliRun table = run_cli(o.cluster().dir(), {"--key", admin, "status"});
  REQUIRE(table.code == 0);
  CHECK(table.out.find("worker") != std::string::npos);
  CHECK(table.out.find("intake") != std::string::npos);
  CHECK(table.out.find("fsync") != std::string::npos);
}

TEST_CASE(
    "/metrics is Prometheus text 0.0.4, and the Grafana dashboard asks only for what it exports",
    "[status][metrics][grafana]") {
  Observed o;
  lifecycles(o.cluster(), *o.running.client, 2);
  std::string text;
  REQUIRE(eventually([&] {
    text = o.metrics();
    return value_of(text,
                    "closeloop_commands_total{worker=\"close\",verb=\"close\",result=\"ok\"}") >= 2;
  }));
  auto res = o.scrape();
  REQUIRE(res);
  CHECK(res->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  std::map<std::string, std::string> types = families_of(text);
  for (auto [name, type] :
       std::map<std::string, std::string>{{"closeloop_commands_total", "counter"},
                                          {"closeloop_handoffs_total", "counter"},
                                          {"closeloop_outbox_entries", "gauge"},
                                          {"closeloop_outbox_oldest_seconds", "gauge"},
                                          {"closeloop_fsync_seconds", "histogram"},
                                          {"closeloop_group_commit_size", "histogram"},
                                          {"closeloop_worker_up", "gauge"},
                                          {"closeloop_restarts_total", "counter"},
                                          {"closeloop_messages_in_total", "counter"},
                                          {"closeloop_messages_out_total", "counter"},
                                          {"closeloop_disk_bytes", "gauge"},
                                          {"closeloop_handshake_failures_total", "counter"}}) {
    INFO(name);
    CHECK(types[name] == type);
  }
  CHECK(o.scrape("/nothing")->status == 404);

  // Every metric a panel of the dashboard queries.
  std::string dashboard = read_file(CLOSELOOP_SOURCE_DIR "/deploy/grafana/closeloop.json");
  Json board = Json::parse(dashboard, nullptr, false);
  REQUIRE(!board.is_discarded());
  std::set<std::string> queried;
  std::function<void(const Json&)> walk = [&](const Json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "expr" && it->is_string()) {
          std::string expr = *it;
          std::regex metric(R"(closeloop_[a-z_]+)");
          for (std::sregex_iterator m(expr.begin(), expr.end(), metric), end; m != end; ++m)
            queried.insert(m->str());
        }
        walk(*it);
      }
    } else if (j.is_array()) {
      for (const Json& e : j) walk(e);
    }
  };
  walk(board);
  REQUIRE(queried.size() >= 8);
  for (std::string name : queried) {
    INFO("the dashboard queries " << name);
    std::string family = name;
    for (std::string suffix : {"_bucket", "_sum", "_count"})
      if (!types.count(family) && family.ends_with(suffix) &&
          types[family.substr(0, family.size() - suffix.size())] == "histogram")
        family = family.substr(0, family.size() - suffix.size());
    CHECK(types.count(family) == 1);
  }
}

TEST_CASE("a killed worker shows as down, and its restart is counted", "[status][metrics][crash]") {
  Observed o;
  REQUIRE(eventually([&] { return worker_in(o.status(), "handle").value("pid", 0) > 0; }));
  uint64_t old_pid = worker_in(o.status(), "handle")["pid"];
  o.cluster().kill9("handle");
  REQUIRE(eventually([&] { return worker_in(o.status(), "handle")["up"] == false; }));
  // /metrics follows within a heartbeat interval (the broker rebuilds it at most that often).
  CHECK(eventually(
      [&] { return value_of(o.metrics(), "closeloop_worker_up{worker=\"handle\"}") == 0; }));
  CHECK(value_of(o.metrics(), "closeloop_worker_up{worker=\"ledger\"}") == 1);
  // What it last said is kept, marked down; what it would be now is not guessed.
  CHECK(worker_in(o.status(), "handle")["pid"] == old_pid);
  CHECK(value_of(o.metrics(), "closeloop_messages_in_total{worker=\"handle\"}") == -1);

  o.cluster().start("handle");
  REQUIRE(eventually([&] {
    Json w = worker_in(o.status(), "handle");
    return w["up"] == true && w["restarts"] == 1;
  }));
  CHECK(worker_in(o.status(), "handle")["pid"] != old_pid);
  CHECK(eventually(
      [&] { return value_of(o.metrics(), "closeloop_restarts_total{worker=\"handle\"}") == 1; }));
  CHECK(value_of(o.metrics(), "closeloop_worker_up{worker=\"handle\"}") == 1);
  CHECK(value_of(o.metrics(), "closeloop_restarts_total{worker=\"ledger\"}") == 0);
}

TEST_CASE("status is for the office, ops, auditors and admins: a clerk is refused as forbidden",
          "[status][security]") {
  Observed o;
  o.cluster().add_account("clerk-jtj", {"department"}, "jtj");
  o.cluster().add_account("运维", {"ops"});
  o.cluster().add_account("审计", {"auditor"});
  for (std::string who : {"clerk-jtj"}) {
    auto r = o.cluster().client(5000, who)->call("status", "", wire::empty_map());
    REQUIRE(r.ok());
    INFO(who);
    CHECK_FALSE(r->ok);
    CHECK(r->error.code == errc::kForbidden);
  }
  for (std::string who : {"office", "运维", "审计", "admin"}) {
    auto r = o.cluster().client(5000, who)->call("status", "", wire::empty_map());
    REQUIRE(r.ok());
    INFO(who << ": " << r->error.message);
    CHECK(r->ok);
  }
  CliRun clerk = run_cli(o.cluster().dir(), {"--key", o.cluster().key_file("clerk-jtj"), "status"});
  CHECK(clerk.code == 3);
  CHECK(clerk.err.find("forbidden") != std::string::npos);
}

TEST_CASE("/metrics is served only where metrics_listen says", "[status][metrics]") {
  SECTION("unset: the broker listens on its two ZeroMQ ports and nothing else") {
    Running plain(kFastTiming);
    pid_t pid = broker_pid(plain.cluster);
    REQUIRE(pid > 0);
    int port = endpoint_port(plain.cluster);
    CHECK(listening_ports(pid) == std::set<int>{port, port + 1});
  }
  SECTION("set: and on that port, with the text") {
    Observed o;
    pid_t pid = broker_pid(o.cluster());
    REQUIRE(pid > 0);
    int port = endpoint_port(o.cluster());
    CHECK(listening_ports(pid) == std::set<int>{port, port + 1, o.port});
    CHECK(o.metrics().find("# TYPE closeloop_worker_up gauge") != std::string::npos);
  }
}

TEST_CASE("a bad metrics_listen is refused at start with exit 78, a taken port with exit 1",
          "[status][metrics][config]") {
  for (std::string bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ":9464",
                          "http://127.0.0.1:9464", "127.0.0.1:94x4"}) {
    Cluster cluster("metrics_listen = \"" + bad + "\"\n");
    CliRun broker = run_cli(cluster.dir(), {"--config", cluster.config_path()}, "timeout 20 ",
                            "closeloop-broker");
    INFO(bad << ": " << broker.err);
    CHECK(broker.code == 78);
    CHECK(broker.err.find("metrics_listen") != std::string::npos);
  }
  // A valid address another process holds: the broker says so and stops, like for its endpoint.
  int taken = free_tcp_port();
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(taken);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  Cluster cluster("metrics_listen = \"127.0.0.1:" + std::to_string(taken) + "\"\n");
  CliRun broker = run_cli(cluster.dir(), {"--config", cluster.config_path()}, "timeout 20 ",
                          "closeloop-broker");
  ::close(holder);
  INFO(broker.err);
  CHECK(broker.code == 1);
  CHECK(broker.err.find("cannot listen on 127.0.0.1:" + std::to_string(taken)) !=
        std::string::npos);
}
