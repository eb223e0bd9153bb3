// Running as systemd runs the daemons (docs/operations.md), with a stand-in for systemd:
// a unix datagram socket given to the processes as NOTIFY_SOCKET (CI has no systemd).
// Readiness and the watchdog, SIGTERM's drain, SIGHUP's reload, closeloopd forwarding
// SIGHUP and waiting for its children's readiness, `closeloopd --check-config`.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "daemon/notify.h"
#include "harness.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

using SteadyClock = std::chrono::steady_clock;

// Everything one stand-in socket received, in order.
struct StandIn {
  NotifySocket socket;
  std::vector<std::string> received;

  explicit StandIn(const std::string& path) : socket(path) {}

  // Waits (up to 20 s) until a message holds `line`; true if one did. Keeps every message.
  bool wait_for(const std::string& line, size_t times = 1) {
    auto deadline = SteadyClock::now() + 20s;
    while (SteadyClock::now() < deadline) {
      for (auto& m : socket.take()) received.push_back(std::move(m.text));
      if (count(line) >= times) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  size_t count(const std::string& line) const {
    return std::count_if(received.begin(), received.end(),
                         [&](const std::string& m) { return has_line(m, line); });
  }
};

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string log_of(const Cluster& c, const std::string& name) {
  return read_file(c.dir() + "/" + name + ".log");
}

// The config file rewritten: `edit` maps the original text to the new.
void rewrite_config(const Cluster& c, const std::function<std::string(std::string)>& edit) {
  std::string text = read_file(c.config_path());
  std::string temp = c.config_path() + ".new";
  std::ofstream(temp) << edit(text);
  std::filesystem::rename(temp, c.config_path());
}

std::string with_department(std::string text, const std::string& code) {
  return text + "\n[[department]]\ncode = \"" + code + "\"\nname = \"新设部门\"\n";
}

// The text without the [[department]] entry of `code`.
std::string without_department(const std::string& text, const std::string& code) {
  std::regex entry("\\[\\[department\\]\\]\\s*code = \"" + code + "\"\\s*name = \"[^\"]*\"\\s*");
  std::string out = std::regex_replace(text, entry, "");
  REQUIRE(out != text);
  return out;
}

// SIGHUP to `name`, then waits until its log shows one more reload verdict; the log.
std::string reload(Cluster& c, const std::string& name) {
  auto verdicts = [&] {
    std::string log = log_of(c, name);
    return occurrences(log, ": reloaded ") + occurrences(log, "reload of ");
  };
  size_t before = verdicts();
  REQUIRE(kill(c.pid(name), SIGHUP) == 0);
  REQUIRE(eventually([&] { return verdicts() > before; }));
  return log_of(c, name);
}

bool last_reload_refused(const std::string& log) {
  return log.rfind("refused, the running config stays") != std::string::npos &&
         (log.rfind(": reloaded ") == std::string::npos ||
          log.rfind(": reloaded ") < log.rfind("refused, the running config stays"));
}

std::string submitted_id(const Result<wire::Reply>& reply) {
  REQUIRE(reply.ok());
  INFO(reply->error.message);
  REQUIRE(reply->ok);
  return field(*reply, "item", "id");
}

}  // namespace

TEST_CASE("a worker says READY=1 only once it serves, and pings the watchdog from its loop",
          "[systemd]") {
  Cluster cluster;
  StandIn intake(cluster.dir() + "/intake.notify"), broker(cluster.dir() + "/broker.notify");
  cluster.set_env("intake", "NOTIFY_SOCKET", intake.socket.address());
  cluster.set_env("intake", "WATCHDOG_USEC", "200000");  // pings every 100 ms
  cluster.set_env("broker", "NOTIFY_SOCKET", broker.socket.address());
  // Intake alone: its loop turns (the pings say so) but nobody answers its registration.
  cluster.start("intake");
  REQUIRE(intake.wait_for("WATCHDOG=1", 3));
  CHECK(intake.count("READY=1") == 0);
  // With the broker and the rest, it is heard and says so; then it serves at once.
  for (const auto& name : kProcesses)
    if (name != "intake") cluster.start(name);
  REQUIRE(broker.wait_for("READY=1"));
  REQUIRE(intake.wait_for("READY=1"));
  auto client = cluster.client();
  Desk office(cluster, *client);
  CHECK_FALSE(submitted_id(office.submit("就绪后即可受理", "")).empty());
  size_t pings = intake.count("WATCHDOG=1");
  CHECK(intake.wait_for("WATCHDOG=1", pings + 3));
  // SIGTERM: it says it is stopping.
  CHECK(WEXITSTATUS(cluster.stop("intake")) == 0);
  CHECK(intake.wait_for("STOPPING=1"));
}

TEST_CASE(
    "SIGTERM during traffic: the worker drains and exits within its grace, and every "
    "acknowledged command is there after its restart",
    "[systemd][drain]") {
  std::string stopped = GENERATE(std::string("intake"), std::string("dispatch"));
  constexpr int kGraceMs = 3000;
  Running r("shutdown_grace_ms = " + std::to_string(kGraceMs) + "\n" + kFastTiming +
            kTransportRoute);
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<bool> done{false};
  auto submit_until_done = [&](int n) {
    auto client = r.cluster.client(2000);
    Desk office(r.cluster, *client);
    for (int i = 0; !done; ++i) {
      auto reply = office.submit("停机期间的提交 " + std::to_string(n) + "-" + std::to_string(i),
                                 "", "transport");
      if (reply.ok() && reply->ok) {
        std::lock_guard lock(mutex);
        acknowledged.push_back(field(*reply, "item", "id"));
      } else {
        std::this_thread::sleep_for(20ms);  // unavailable while it restarts: no busy loop
      }
    }
  };
  std::vector<std::thread> clients;
  for (int n = 0; n < 4; ++n) clients.emplace_back(submit_until_done, n);
  auto acknowledged_count = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  REQUIRE(eventually([&] { return acknowledged_count() >= 20; }));
  auto before = SteadyClock::now();
  int status = r.cluster.stop(stopped);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - before);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(took.count() < kGraceMs + 2000);  // the grace is a bound, not a speed
  CHECK(log_of(r.cluster, stopped).find("draining") != std::string::npos);
  r.cluster.start(stopped);
  REQUIRE(r.cluster.wait_ready());
  size_t at_restart = acknowledged_count();
  REQUIRE(eventually([&] { return acknowledged_count() >= at_restart + 10; }));
  done = true;
  for (auto& t : clients) t.join();
  Desk office(r.cluster, *r.client);
  for (const auto& id : acknowledged) {
    auto shown = office.show(id);
    REQUIRE(shown.ok());
    INFO(id << ": " << shown->error.message);
    CHECK(shown->ok);
    CHECK(field(*shown, "item", "stage") == "assigned");  // routed to jtj, as acknowledged
  }
}

TEST_CASE(
    "SIGHUP reloads departments live, and refuses an invalid file, a restart-only key and "
    "dropping a department with open items, keeping the running config",
    "[systemd][reload]") {
  Running r(kFastTiming);
  Desk office(r.cluster, *r.client);
  std::string original = read_file(r.cluster.config_path());

  SECTION("a valid file adding a department: assign to it works without a restart") {
    std::string id = submitted_id(office.submit("新部门的事项", ""));
    auto before = office.assign(id, "xin");
    REQUIRE(before.ok());
    CHECK_FALSE(before->ok);  // not a department yet
    rewrite_config(r.cluster, [](std::string t) { return with_department(t, "xin"); });
    for (const auto& name : kProcesses) {
      std::string log = reload(r.cluster, name);
      INFO(name << ": " << log);
      CHECK_FALSE(last_reload_refused(log));
    }
    CHECK(log_of(r.cluster, "dispatch").find("changed department") != std::string::npos);
    auto after = office.assign(id, "xin");
    REQUIRE(after.ok());
    INFO(after->error.message);
    CHECK(after->ok);
  }

  SECTION("an invalid file: refused with the key and the line, the old config still serving") {
    rewrite_config(r.cluster, [](std::string t) {
      return "batch_max = \"many\"\n" + with_department(t, "xin");  // top level: first
    });
    std::string log = reload(r.cluster, "dispatch");
    CHECK(last_reload_refused(log));
    CHECK(std::regex_search(
        log, std::regex("batch_max: expected an integer, got a string \\(line [0-9]+\\)")));
    std::string id = submitted_id(office.submit("旧配置仍在服务", ""));
    auto refused = office.assign(id, "xin");  // the file's new department did not come in
    REQUIRE(refused.ok());
    CHECK_FALSE(refused->ok);
    auto assigned = office.assign(id, "zjj");
    REQUIRE(assigned.ok());
    CHECK(assigned->ok);
  }

  SECTION("a key that needs a restart: refused, naming it and its line") {
    rewrite_config(r.cluster, [&](std::string t) {
      return std::regex_replace(t, std::regex("data_dir = \"([^\"]*)\""),
                                "data_dir = \"$1-moved\"");
    });
    std::string log = reload(r.cluster, "dispatch");
    CHECK(last_reload_refused(log));
    CHECK(log.find("data_dir (line 2): cannot change without a restart") != std::string::npos);
  }

  SECTION("dropping a department: refused while an item is open there, accepted once none is") {
    std::string id = submitted_id(office.submit("未办结事项", ""));
    auto assigned = office.assign(id, "gaj");
    REQUIRE(assigned.ok());
    REQUIRE(assigned->ok);
    rewrite_config(r.cluster, [&](std::string t) { return without_department(original, "gaj"); });
    std::string log = reload(r.cluster, "dispatch");
    CHECK(last_reload_refused(log));
    CHECK(log.find("department 'gaj' is dropped from the file, but 1 item(s) still open there (" +
                   id + ")") != std::string::npos);
    CHECK(log.find("closed or withdrawn, or reassign them to another department") != std::string::npos);
    log = reload(r.cluster, "ledger");  // the ledger asks its own store
    CHECK(last_reload_refused(log));
    // A withdrawn item is ended like a closed one (issue 17): gaj may go then.
    auto withdrawn = office.command("withdraw", id, {{"reason", "重复交办"}});
    REQUIRE(withdrawn.ok());
    REQUIRE(withdrawn->ok);
    log = reload(r.cluster, "dispatch");
    INFO(log);
    CHECK_FALSE(last_reload_refused(log));
    // Dropping one with no open item is accepted, and it is gone at once.
    rewrite_config(r.cluster, [&](std::string t) { return without_department(original, "wjj"); });
    log = reload(r.cluster, "dispatch");
    INFO(log);
    CHECK_FALSE(last_reload_refused(log));
    std::string other = submitted_id(office.submit("卫健局已撤销", ""));
    auto refused = office.assign(other, "wjj");
    REQUIRE(refused.ok());
    CHECK_FALSE(refused->ok);
  }

  // Every attempt is recorded in the worker's own store: reload/<seq> {at, file, ok, reason,
  // changed}.
  r.cluster.stop("dispatch");
  auto store = Store::open(r.cluster.dir() + "/data/dispatch");
  REQUIRE(store.ok());
  size_t records = 0;
  (*store)->scan(keys::kReloadPrefix, [&](std::string_view, std::string_view value) {
    auto decoded = wire::decode(value.data(), value.size());
    REQUIRE(decoded.ok());
    wire::Fields f(decoded->get(), "reload");
    CHECK(f.opt_str("file").value_or("") == r.cluster.config_path());
    CHECK(f.opt_str("at").has_value());
    CHECK(f.opt_bool("ok").has_value());
    ++records;
    return true;
  });
  CHECK(records >= 1);
}

TEST_CASE("closeloopd says READY=1 once every worker has, and forwards SIGHUP to them",
          "[systemd][supervisor][reload]") {
  Cluster cluster(kFastTiming);  // its config and directory; closeloopd starts the processes
  StandIn systemd(cluster.dir() + "/closeloopd.notify");
  pid_t daemon = spawn_closeloopd(cluster, {{"NOTIFY_SOCKET", systemd.socket.address()}});
  REQUIRE(systemd.wait_for("READY=1"));
  // Ready means every worker serves: a command goes through at once, and the broker
  // lists them all.
  auto client = cluster.client();
  Desk office(cluster, *client);
  std::string id = submitted_id(office.submit("守护进程就绪", ""));
  REQUIRE(cluster.wait_ready(1000));
  // closeloopd's children never saw systemd's socket: only closeloopd itself wrote to it.
  CHECK(systemd.count("READY=1") == 1);

  rewrite_config(cluster, [](std::string t) { return with_department(t, "xin"); });
  REQUIRE(kill(daemon, SIGHUP) == 0);
  REQUIRE(systemd.wait_for("RELOADING=1"));
  REQUIRE(systemd.wait_for("READY=1", 2));
  std::string log = read_file(cluster.dir() + "/closeloopd.log");
  for (const auto& name : kProcesses) {
    if (name == "broker") continue;
    INFO(log);
    CHECK(log.find(name + ": reloaded ") != std::string::npos);
  }
  auto assigned = office.assign(id, "xin");
  REQUIRE(assigned.ok());
  INFO(assigned->error.message);
  CHECK(assigned->ok);

  int status = stop_closeloopd(daemon);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(systemd.wait_for("STOPPING=1"));
}

TEST_CASE(
    "closeloopd --check-config: 0 and a summary for a good file, 78 with the key and line "
    "for a bad one, starting nothing",
    "[systemd][config]") {
  Cluster cluster;
  CliRun good = run_cli(cluster.dir(), {"--check-config", cluster.config_path()}, "", "closeloopd");
  CHECK(good.code == 0);
  CHECK(good.out.starts_with("ok: "));
  CHECK(good.out.find("6 departments") != std::string::npos);
  std::ofstream(cluster.dir() + "/bad.toml") << "shutdown_grace_ms = -1\n"
                                             << read_file(cluster.config_path());
  CliRun bad =
      run_cli(cluster.dir(), {"--check-config", cluster.dir() + "/bad.toml"}, "", "closeloopd");
  CHECK(bad.code == 78);
  CHECK(std::regex_search(bad.err, std::regex("shutdown_grace_ms: must be between 0 and 600000, "
                                              "got -1 \\(line [0-9]+\\)")));
  CHECK_FALSE(std::filesystem::exists(cluster.dir() + "/data"));  // nothing started
}
