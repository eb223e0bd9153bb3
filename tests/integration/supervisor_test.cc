// closeloopd: starts every worker, restarts one that dies, stops all on SIGTERM;
// two whole instances side by side on one machine; the CPU policy they run with.
#include <catch2/catch.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

// The pid of closeloop-<name> started with this cluster's config, or 0 ([c]: so that
// the pattern does not match the shell running pgrep).
pid_t child_pid(const Cluster& cluster, const std::string& name) {
  std::string out;
  shell("pgrep -f '[c]loseloop-" + name + " --config " + cluster.config_path() + "'", &out);
  return out.empty() ? 0 : std::stoi(out);
}

}  // namespace

TEST_CASE("closeloopd starts every worker, restarts one killed -9, and stops all on SIGTERM",
          "[supervisor]") {
  Cluster cluster;  // used for its config and directory; closeloopd starts the processes
  pid_t daemon = spawn_closeloopd(cluster);
  REQUIRE(cluster.wait_ready());
  pid_t handle = child_pid(cluster, "handle");
  REQUIRE(handle > 0);
  kill(handle, SIGKILL);
  REQUIRE(eventually([&] {
    pid_t now = child_pid(cluster, "handle");
    return now > 0 && now != handle;
  }));
  REQUIRE(cluster.wait_ready());
  CHECK(read_file(cluster.dir() + "/closeloopd.log").find("closeloop-handle") != std::string::npos);
  auto client = cluster.client();
  Desk office(cluster, *client);
  auto submitted = office.submit("重启后仍可受理", "");
  REQUIRE(submitted.ok());
  CHECK(submitted->ok);

  int status = stop_closeloopd(daemon);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const auto& name : kProcesses) CHECK(child_pid(cluster, name) == 0);
}

TEST_CASE("two instances with their own endpoint and data_dir run side by side", "[supervisor]") {
  Cluster a, b;
  a.start_all();
  b.start_all();
  REQUIRE(a.wait_ready());
  REQUIRE(b.wait_ready());
  auto ca = a.client(), cb = b.client();
  Desk in_a(a, *ca), in_b(b, *cb);
  auto item = in_a.submit("只在甲实例", "");
  REQUIRE(item.ok());
  REQUIRE(item->ok);
  CHECK(ids_of(*in_a.list()).size() == 1);
  CHECK(ids_of(*in_b.list()).empty());
}

namespace {

// The scheduling policy of every thread of the process (ZeroMQ's and LevelDB's too).
std::vector<int> thread_policies(pid_t pid) {
  std::vector<int> policies;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task"))
    policies.push_back(sched_getscheduler(std::stoi(task.path().filename().string())));
  return policies;
}

}  // namespace

TEST_CASE("every process and its threads run with the configured cpu_scheduling", "[supervisor]") {
  auto policy = GENERATE(std::make_pair(std::string("batch"), SCHED_BATCH),
                         std::make_pair(std::string("normal"), SCHED_OTHER));
  Cluster cluster("cpu_scheduling = \"" + policy.first + "\"\n");
  pid_t daemon = spawn_closeloopd(cluster);
  REQUIRE(cluster.wait_ready());
  for (const auto& name : kProcesses) {
    pid_t pid = child_pid(cluster, name);
    REQUIRE(pid > 0);
    std::vector<int> policies = thread_policies(pid);
    INFO(name << " with cpu_scheduling = " << policy.first);
    CHECK(policies.size() >= 2);  // the loop and ZeroMQ's I/O thread at least
    CHECK(std::count(policies.begin(), policies.end(), policy.second) == std::ssize(policies));
  }
  CHECK(WIFEXITED(stop_closeloopd(daemon)));
}

TEST_CASE("a refused config is exit 78, and closeloopd does not restart a worker that refused it",
          "[supervisor][config]") {
  Cluster cluster;
  std::string good = read_file(cluster.config_path());
  std::ofstream(cluster.dir() + "/bad.toml") << good << "\nno_such_key = 1\n";
  // A worker and closeloopd alike refuse a bad file with EX_CONFIG.
  CliRun worker =
      run_cli(cluster.dir(), {"--config", cluster.dir() + "/bad.toml"}, "", "closeloop-intake");
  CHECK(worker.code == 78);
  CHECK(worker.err.find("no_such_key") != std::string::npos);
  CliRun daemon_run =
      run_cli(cluster.dir(), {"--config", cluster.dir() + "/bad.toml"}, "", "closeloopd");
  CHECK(daemon_run.code == 78);

  // The file goes bad under a running service: a worker killed now comes back, refuses
  // it, and is left down (restarting it would only refuse again); the others run on.
  pid_t daemon = spawn_closeloopd(cluster);
  REQUIRE(cluster.wait_ready());
  pid_t handle = child_pid(cluster, "handle");
  REQUIRE(handle > 0);
  std::ofstream(cluster.config_path(), std::ios::app) << "\nno_such_key = 1\n";
  kill(handle, SIGKILL);
  std::string log = cluster.dir() + "/closeloopd.log";
  REQUIRE(
      eventually([&] { return read_file(log).find("refused the config") != std::string::npos; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // several backoffs' worth
  CHECK(child_pid(cluster, "handle") == 0);
  CHECK(child_pid(cluster, "ledger") > 0);
  int status = stop_closeloopd(daemon);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
