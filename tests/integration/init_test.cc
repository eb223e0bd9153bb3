// `closeloopd --init` (the package's postinst runs it): the data dir and every key a first
// start makes, made before the service runs; kept when run again; and the service started
// on them takes the admin's key --init made.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "harness.h"
#include "security/keys.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

mode_t file_mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

CliRun init(const Cluster& cluster) {
  return run_cli(cluster.dir(), {"--init", "--config", cluster.config_path()}, "", "closeloopd");
}

}  // namespace

TEST_CASE(
    "closeloopd --init makes the first start's keys, keeps them when run again, and the "
    "service started on them admits the admin with its key",
    "[init][security]") {
  Cluster cluster(kFastTiming);  // not started: --init runs before the service ever has
  auto made = init(cluster);
  REQUIRE(made.code == 0);
  std::string keys = cluster.keys_dir();
  CHECK(file_mode_of(cluster.dir() + "/data") == 0750);
  CHECK(file_mode_of(keys) == 0750);
  for (const std::string& name : kProcesses) {
    INFO(name);
    CHECK(file_mode_of(keys + "/" + name + ".key") == 0600);
    CHECK(file_mode_of(keys + "/" + name + ".pub") == 0644);
  }
  CHECK(file_mode_of(keys + "/ledger.signing") == 0600);
  for (const char* account : {"admin", "office"}) {
    INFO(account);
    CHECK(file_mode_of(keys + "/" + account + ".key") == 0600);
    CHECK_FALSE(std::filesystem::exists(keys + "/" + account + ".pub"));  // no worker's key
    CHECK(made.out.find("made " + keys + "/" + account + ".key") != std::string::npos);
  }
  CHECK(made.out.find("the admin's key is " + keys + "/admin.key") != std::string::npos);

  std::string admin_key = read_file(keys + "/admin.key");
  std::string signing_key = read_file(keys + "/ledger.signing");
  auto again = init(cluster);
  REQUIRE(again.code == 0);
  CHECK(again.out.find("made ") == std::string::npos);
  CHECK(again.out.find("kept " + keys + "/admin.key") != std::string::npos);
  CHECK(read_file(keys + "/admin.key") == admin_key);
  CHECK(read_file(keys + "/ledger.signing") == signing_key);

  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  auto admin = cluster.client(5000, "admin");
  auto listed = admin->call("user.list", "", wire::empty_map());
  REQUIRE(listed.ok());
  REQUIRE(listed->ok);
  wire::Json accounts = wire::to_json(listed->body)["accounts"];
  REQUIRE(accounts.size() == 2);
  CHECK(accounts[0]["name"] == "admin");
  CHECK(accounts[0]["key"] == *security::read_public_key(keys + "/admin.key"));
  CHECK(read_file(keys + "/admin.key") == admin_key);  // the ledger's first start kept it
}

TEST_CASE("closeloopd --init refuses an invalid config with 78 and makes nothing", "[init]") {
  Cluster cluster("bogus_key = 1\n");
  auto refused = init(cluster);
  CHECK(refused.code == 78);
  CHECK(refused.err.find("bogus_key") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(cluster.dir() + "/data"));
}
