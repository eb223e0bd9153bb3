// What ops meet in a first week (issue 17, "Ops"): a copied config's relative paths taken
// from its own folder, a start refused where an earlier version would have read another
// folder, --check-config looking at every path, a changed metrics_listen refused on
// SIGHUP with the log and status saying so, the broker's own row in `status`, the read
// audit's result column, and backup and restore counts that agree or say why not.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;
namespace fs = std::filesystem;
using Json = wire::Json;

namespace {

// The cluster's config with its data_dir and calendar dir written relative: "data" and
// "calendar", the folders beside the file (where the harness puts them).
void make_paths_relative(const Cluster& c) {
  std::string text = read_file(c.config_path());
  text = std::regex_replace(text, std::regex("data_dir = \"[^\"]*\""), "data_dir = \"data\"");
  text = std::regex_replace(text, std::regex("\\[calendar\\]\ndir = \"[^\"]*\""),
                            "[calendar]\ndir = \"calendar\"");
  REQUIRE(text.find("data_dir = \"data\"") != std::string::npos);
  REQUIRE(text.find("dir = \"calendar\"") != std::string::npos);
  std::ofstream(c.config_path()) << text;
}

// An empty folder of the cluster's to run from.
std::string folder_in(const Cluster& c, const std::string& name) {
  std::string path = c.dir() + "/" + name;
  fs::create_directories(path);
  return path;
}

std::string ops_cd(const std::string& folder) { return "cd " + shell_quote(folder) + " && "; }

Json ops_status(const Cluster& c, const std::string& account = "admin") {
  auto reply = c.client(5000, account)->call("status", "", wire::empty_map());
  REQUIRE(reply.ok());
  INFO(reply->error.code << ": " << reply->error.message);
  REQUIRE(reply->ok);
  return wire::to_json(reply->body);
}

// A number after `label` in `text` ("ledger 57 records": label "ledger "), or -1.
long number_after(const std::string& text, const std::string& label) {
  size_t at = text.find(label);
  if (at == std::string::npos) return -1;
  return std::stol(text.substr(at + label.size()));
}

}  // namespace

TEST_CASE(
    "a copied config with relative paths runs from another folder: data and calendar beside it",
    "[ops][paths]") {
  Cluster cluster(kFastTiming);
  make_paths_relative(cluster);
  std::string elsewhere = folder_in(cluster, "elsewhere");

  // The harness's CLOSELOOP_LANG=en would go to the cd: said again for closeloopd.
  CliRun checked = run_cli(cluster.dir(), {"--check-config", cluster.config_path()},
                           ops_cd(elsewhere) + "CLOSELOOP_LANG=en ", "closeloopd");
  INFO(checked.err);
  REQUIRE(checked.code == 0);
  CHECK(checked.out.find("data_dir " + cluster.dir() + "/data: not made yet") != std::string::npos);
  CHECK(checked.out.find("calendar.dir " + cluster.calendar_dir() + ": cn-2023 ") !=
        std::string::npos);
  CHECK(checked.out.find("cn-2026 ") != std::string::npos);

  pid_t daemon = spawn_closeloopd(cluster, {}, elsewhere);
  REQUIRE(cluster.wait_ready());  // its client holds <dir>/data/keys/office.key: made there
  auto client = cluster.client();
  Desk office(cluster, *client);
  auto made = office.submit("复制的配置", "相对路径");
  REQUIRE(made.ok());
  CHECK(made->ok);
  CHECK(fs::exists(cluster.dir() + "/data/ledger"));
  CHECK(fs::is_empty(elsewhere));  // nothing made where it runs
  // The CLI from a third folder reads the same calendar: a due date that is not provisional.
  CliRun due = run_cli(cluster.dir(),
                       {"--config", cluster.config_path(), "due", "--from", "2026-09-30", "--kind",
                        "station", "--json"},
                       ops_cd("/"));
  INFO(due.err);
  REQUIRE(due.code == 0);
  CHECK(due.parsed()["provisional"] == false);
  CHECK(stop_closeloopd(daemon) == 0);
  CHECK(read_file(cluster.dir() + "/closeloopd.log").find("cannot read the directory") ==
        std::string::npos);  // the timer found its calendar
}

TEST_CASE(
    "a start is refused with 78 where the working directory's reading of a path exists and differs",
    "[ops][paths]") {
  Cluster cluster(kFastTiming);
  make_paths_relative(cluster);
  // An install that ran from /srv/old with data_dir = "data" kept its data in /srv/old/data.
  std::string old_place = folder_in(cluster, "old");
  fs::create_directories(old_place + "/data/ledger");
  for (const std::string binary : {"closeloopd", "closeloop-intake"}) {
    CliRun refused =
        run_cli(cluster.dir(), {"--config", cluster.config_path()}, ops_cd(old_place), binary);
    INFO(binary << ": " << refused.err);
    CHECK(refused.code == 78);
    CHECK(refused.err.find("data_dir \"data\" now means " + cluster.dir() + "/data") !=
          std::string::npos);
    CHECK(refused.err.find("used to mean " + old_place + "/data") != std::string::npos);
  }
  CliRun checked = run_cli(cluster.dir(), {"--check-config", cluster.config_path()},
                           ops_cd(old_place), "closeloopd");
  CHECK(checked.code == 78);
  CHECK_FALSE(fs::exists(cluster.dir() + "/data"));  // no empty data dir was opened
  // From the config's own folder both readings are one: it starts.
  CliRun here = run_cli(cluster.dir(), {"--check-config", cluster.config_path()},
                        ops_cd(cluster.dir()), "closeloopd");
  CHECK(here.code == 0);
}

TEST_CASE("closeloopd --check-config on a missing calendar dir is exit 78 naming it, a bad calendar file too",
          "[ops][paths][config]") {
  Cluster cluster;
  fs::remove_all(cluster.calendar_dir());
  CliRun missing =
      run_cli(cluster.dir(), {"--check-config", cluster.config_path()}, "", "closeloopd");
  CHECK(missing.code == 78);
  CHECK(missing.err.find("calendar.dir: " + cluster.calendar_dir() +
                         ": cannot read the directory") != std::string::npos);
  fs::copy(CLOSELOOP_SOURCE_DIR "/config/calendar", cluster.calendar_dir());
  std::ofstream(cluster.calendar_dir() + "/cn-2027.csv")
      << "date,kind,festival\n2026-01-01,holiday,x\n";
  CliRun bad = run_cli(cluster.dir(), {"--check-config", cluster.config_path()}, "", "closeloopd");
  CHECK(bad.code == 78);
  CHECK(bad.err.find("cn-2027.csv") != std::string::npos);
  fs::remove(cluster.calendar_dir() + "/cn-2027.csv");
  CHECK(run_cli(cluster.dir(), {"--check-config", cluster.config_path()}, "", "closeloopd").code ==
        0);
}

TEST_CASE("SIGHUP with a changed metrics_listen is refused as a whole: the log and status say so",
          "[ops][reload][metrics]") {
  int port = free_tcp_port(), other = free_tcp_port();
  REQUIRE(port != other);
  Running s("metrics_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n" + kFastTiming);
  Cluster& c = s.cluster;
  std::string original = read_file(c.config_path());
  // The new file also adds a department: refused as a whole, that does not come in either.
  std::string changed =
      std::regex_replace(original, std::regex(std::to_string(port)), std::to_string(other)) +
      "\n[[department]]\ncode = \"xin\"\nname = \"新设部门\"\n";
  std::ofstream(c.config_path()) << changed;
  for (const auto& name : kProcesses) REQUIRE(kill(c.pid(name), SIGHUP) == 0);
  auto refused_everywhere = [&] {
    Json status = ops_status(c);
    if (status["broker"].value("reload_refused", "").find("metrics_listen") == std::string::npos)
      return false;
    for (const Json& w : status["workers"])
      if (w.value("reload_refused", "").find("metrics_listen") == std::string::npos) return false;
    return status["workers"].size() == kProcesses.size() - 1;
  };
  REQUIRE(eventually(refused_everywhere));
  CHECK(std::regex_search(read_file(c.dir() + "/broker.log"),
                          std::regex("refused, the running config stays: .*: metrics_listen "
                                     "\\(line [0-9]+\\): cannot change without a restart")));
  CliRun table = run_cli(c.dir(), {"--key", c.key_file("admin"), "status"});
  CHECK(table.out.find("broker: RELOAD REFUSED, the running config stays: ") != std::string::npos);
  CHECK(table.out.find("dispatch: RELOAD REFUSED") != std::string::npos);
  // Nothing changed: /metrics where it was and not on the new port, no new department.
  httplib::Client was("127.0.0.1", port), now("127.0.0.1", other);
  now.set_connection_timeout(1);
  auto scraped = was.Get("/metrics");
  REQUIRE(scraped);
  CHECK(scraped->status == 200);
  CHECK_FALSE(now.Get("/metrics"));
  Desk office(c, *s.client);
  auto made = office.submit("重载被拒", "");
  REQUIRE(made->ok);
  auto assigned = office.assign(field(*made, "item", "id"), "xin");
  REQUIRE(assigned.ok());
  CHECK_FALSE(assigned->ok);

  // The file put back: the next reload is taken, and status no longer says it was refused.
  std::ofstream(c.config_path()) << original;
  for (const auto& name : kProcesses) REQUIRE(kill(c.pid(name), SIGHUP) == 0);
  CHECK(eventually([&] {
    Json status = ops_status(c);
    for (const Json& w : status["workers"])
      if (!w.value("reload_refused", "x").empty()) return false;
    return status["broker"].value("reload_refused", "x").empty();
  }));
}

TEST_CASE(
    "status lists the broker: pid, up_since, restarts counted by closeloopd, connections, keys",
    "[ops][status][supervisor]") {
  Cluster cluster(kFastTiming);
  pid_t daemon = spawn_closeloopd(cluster);
  REQUIRE(cluster.wait_ready());
  auto broker_pid = [&] {
    std::string out;
    shell("pgrep -f '[c]loseloop-broker --config " + cluster.config_path() + "'", &out);
    return out.empty() ? 0 : std::stoi(out);
  };
  Json status = ops_status(cluster);
  Json broker = status["broker"];
  INFO(broker.dump());
  CHECK(broker["name"] == "broker");
  CHECK(broker["up"] == true);
  CHECK(broker["pid"] == broker_pid());
  CHECK(broker["up_since"].get<std::string>().ends_with("Z"));
  CHECK(broker["restarts"] == 0);
  CHECK(broker["connections"]["workers"].get<uint64_t>() >= kProcesses.size() - 1);
  CHECK(broker["connections"]["clients"].get<uint64_t>() >= 1);  // this one's
  CHECK(broker["worker_keys"] == status["worker_keys"].size());
  CHECK(broker["worker_keys"].get<uint64_t>() >= kProcesses.size() - 1);
  CHECK(broker["reload_refused"] == "");
  CliRun table = run_cli(cluster.dir(), {"--key", cluster.key_file("admin"), "status"});
  REQUIRE(table.code == 0);
  // Its row: name, up, pid, since when, restarts, and dashes for a worker's store figures.
  CHECK(std::regex_search(table.out, std::regex("\nbroker +up +" + std::to_string(broker_pid()) +
                                                " +[^\n]+ 0 +- +- +- +- +-\n")));
  CHECK(table.out.find("broker connections: clients ") != std::string::npos);

  // closeloopd restarts a broker killed -9, and the new one says so.
  int old_pid = broker_pid();
  REQUIRE(kill(old_pid, SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto reply = cluster.client(1000, "admin")->call("status", "", wire::empty_map());
    if (!reply.ok() || !reply->ok) return false;
    Json b = wire::to_json(reply->body)["broker"];
    return b.value("restarts", 0) == 1 && b.value("pid", 0) != old_pid;
  }));
  CHECK(stop_closeloopd(daemon) == 0);
}

TEST_CASE("the read audit's text shows each read's result, a refused read marked as such",
          "[ops][reads][security]") {
  Running s(kFastTiming);
  Desk office(s.cluster, *s.client);
  auto made = office.submit("读取审计", "");
  REQUIRE(made->ok);
  REQUIRE(office.show(field(*made, "item", "id"))->ok);
  s.cluster.add_account("clerk-jtj", {"department"}, "jtj");
  auto refused = s.cluster.client(5000, "clerk-jtj")->call("reads", "", wire::empty_map());
  REQUIRE(refused.ok());
  REQUIRE(refused->error.code == errc::kForbidden);
  CliRun table = run_cli(s.cluster.dir(), {"reads"});
  INFO(table.out << table.err);
  REQUIRE(table.code == 0);
  std::istringstream lines(table.out);
  std::string header, line, clerk, show;
  std::getline(lines, header);
  CHECK(std::regex_search(header, std::regex("^seq +at +actor +verb +result +read$")));
  while (std::getline(lines, line)) {
    if (line.find("clerk-jtj") != std::string::npos) clerk = line;
    if (line.find(" show ") != std::string::npos) show = line;
  }
  CHECK(std::regex_search(clerk, std::regex(" reads +REFUSED: forbidden")));
  CHECK(std::regex_search(show, std::regex(" show +ok ")));
}

TEST_CASE("backup and restore print counts that agree, or say what was left out and why",
          "[ops][backup][restore]") {
  Running s(kFastTiming);
  Desk office(s.cluster, *s.client);
  for (int i = 0; i < 5; ++i) REQUIRE(office.submit("备份计数 " + std::to_string(i), "")->ok);
  std::string dir = s.cluster.dir() + "/backup";
  CliRun backup =
      run_cli(s.cluster.dir(), {"--key", s.cluster.key_file("admin"), "backup", "--out", dir});
  INFO(backup.out << backup.err);
  REQUIRE(backup.code == 0);
  long ledger = number_after(backup.out, ": ledger "),
       intake = number_after(backup.out, ", intake ");
  REQUIRE(ledger > 0);
  REQUIRE(intake > 0);

  CliRun json =
      run_cli(s.cluster.dir(), {"restore", dir, "--data-dir", s.cluster.dir() + "/r1", "--json"});
  REQUIRE(json.code == 0);
  Json restored = json.parsed();
  INFO(restored.dump());
  for (auto [part, printed] : {std::pair{"ledger", ledger}, {"intake", intake}}) {
    CHECK(restored["in_backup"][part] == printed);
    uint64_t left = 0;
    Json why_left = restored["left_out_records"].value(part, Json::object());
    for (const auto& [why, n] : why_left.items()) left += n.get<uint64_t>();
    CHECK(restored["records"][part].get<uint64_t>() + left == static_cast<uint64_t>(printed));
  }
  CHECK(restored["left_out_records"]["ledger"]["earlier_life"].get<uint64_t>() > 0);  // its epoch

  CliRun text = run_cli(s.cluster.dir(), {"restore", dir, "--data-dir", s.cluster.dir() + "/r2"});
  INFO(text.out);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("ledger: " + restored["records"]["ledger"].dump() + " of the backup's " +
                      std::to_string(ledger) + " records restored, ") != std::string::npos);
  CHECK(text.out.find("from the store's earlier life (its outbox, dedup markers and epoch)") !=
        std::string::npos);
}
