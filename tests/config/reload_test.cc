// Unit tests for config/reload.h: what a reload may change live, what needs a restart,
// and which departments it drops.
#include "config/reload.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace closeloop {
namespace {

const std::string kBase = R"(endpoint = "tcp://127.0.0.1:7400"
data_dir = "var"

[[department]]
code = "jtj"
name = "县交通运输局"

[[department]]
code = "zjj"
name = "县住建局"
)";

// Config files for one test, removed with it: a refusal reads the new file for the line.
struct Files {
  std::vector<std::string> paths;
  ~Files() {
    for (const auto& p : paths) std::remove(p.c_str());
  }
  // `text` written to a file and loaded as a process loads its --config.
  Config loaded(const std::string& text) {
    char path[] = "/tmp/closeloop-reload-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    paths.emplace_back(path);
    std::ofstream(path) << text;
    auto config = load_config(path);
    REQUIRE(config.ok());
    return *config;
  }
};

}  // namespace

TEST_CASE("reload: departments, routes and the log level change live", "[config][reload]") {
  Files files;
  Config running = files.loaded(kBase);
  Config next = files.loaded("log_level = \"debug\"\n" + kBase +
                             "\n[[department]]\ncode = \"xin\"\nname = \"新部门\"\n"
                             "[[route]]\ncategory = \"transport\"\ndepartment = \"xin\"\n");
  auto change = reload_change(running, next);
  REQUIRE(change.ok());
  CHECK(change->changed == std::vector<std::string>{"department", "route", "log_level"});
  CHECK(change->dropped_departments.empty());
  auto same = reload_change(running, files.loaded(kBase));
  REQUIRE(same.ok());
  CHECK(same->empty());
}

TEST_CASE("reload: a restart-only key is refused with its line", "[config][reload]") {
  Files files;
  Config running = files.loaded(kBase);
  std::string moved = kBase;
  moved.replace(moved.find("\"var\""), 5, "\"elsewhere\"");
  auto change = reload_change(running, files.loaded(moved));
  REQUIRE_FALSE(change.ok());
  CHECK(change.error().message.find("data_dir (line 2): cannot change without a restart") !=
        std::string::npos);
  auto timing = reload_change(running, files.loaded(kBase + "[timing]\nheartbeat_ms = 50\n"));
  REQUIRE_FALSE(timing.ok());
  CHECK(timing.error().message.find("timing (line 11)") != std::string::npos);
  // The broker's sockets take handshake_timeout_ms when they are made: a restart, like its
  // neighbours in [timing].
  auto handshake =
      reload_change(running, files.loaded(kBase + "[timing]\nhandshake_timeout_ms = 500\n"));
  REQUIRE_FALSE(handshake.ok());
  CHECK(handshake.error().message.find("cannot change without a restart") != std::string::npos);
  // Back to a default by removing the key is a change too.
  auto back = reload_change(files.loaded("sync = false\n" + kBase), running);
  REQUIRE_FALSE(back.ok());
  CHECK(back.error().message.find("sync (not in the file: its default)") != std::string::npos);
}

TEST_CASE("reload: a department missing from the new file is named as dropped",
          "[config][reload]") {
  Files files;
  Config running = files.loaded(kBase);
  std::string without_zjj = kBase.substr(0, kBase.find("\n[[department]]\ncode = \"zjj\""));
  auto change = reload_change(running, files.loaded(without_zjj));
  REQUIRE(change.ok());
  CHECK(change->dropped_departments == std::vector<std::string>{"zjj"});
  CHECK(change->changed == std::vector<std::string>{"department"});
}

TEST_CASE("shutdown_grace_ms: default 5000, 0 to 600000", "[config]") {
  Files files;
  CHECK(files.loaded(kBase).shutdown_grace_ms == 5000);
  CHECK(files.loaded("shutdown_grace_ms = 0\n" + kBase).shutdown_grace_ms == 0);
  auto bad = parse_config("shutdown_grace_ms = 600001\n" + kBase, "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message ==
        "t.toml: shutdown_grace_ms: must be between 0 and 600000, got 600001 (line 1)");
}

TEST_CASE("idem_reply_ttl_days: default 30, 1 to 3650, changes live", "[config]") {
  Files files;
  Config running = files.loaded(kBase);
  CHECK(running.idem_reply_ttl_days == 30);
  Config next = files.loaded("idem_reply_ttl_days = 7\n" + kBase);
  CHECK(next.idem_reply_ttl_days == 7);
  auto change = reload_change(running, next);
  REQUIRE(change.ok());
  CHECK(change->changed == std::vector<std::string>{"idem_reply_ttl_days"});
  for (const char* bad : {"0", "3651", "\"30\""}) {
    auto refused =
        parse_config("idem_reply_ttl_days = " + std::string(bad) + "\n" + kBase, "t.toml");
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Matchers::Contains("t.toml: idem_reply_ttl_days:"));
    CHECK_THAT(refused.error().message, Catch::Matchers::Contains("(line 1)"));
  }
}

TEST_CASE("reload: a changed metrics_listen is refused as a whole, like the other sockets",
          "[config][reload]") {
  Files files;
  Config running = files.loaded("metrics_listen = \"127.0.0.1:9464\"\n" + kBase);
  auto change = reload_change(
      running,
      files.loaded("metrics_listen = \"127.0.0.1:9465\"\nlog_level = \"debug\"\n" + kBase));
  REQUIRE_FALSE(change.ok());
  CHECK(change.error().message.find("metrics_listen (line 1): cannot change without a restart") !=
        std::string::npos);
  auto dropped = reload_change(running, files.loaded(kBase));
  REQUIRE_FALSE(dropped.ok());
  CHECK(dropped.error().message.find("metrics_listen (not in the file: its default)") !=
        std::string::npos);
}

namespace {

// "[calendar] dir" as docs/operations.md writes the key reload_change() calls
// "calendar.dir"; "[[department]]" for the arrays of tables, "[timing]" for whole tables.
std::string as_documented(const std::string& key) {
  if (auto dot = key.find('.'); dot != std::string::npos)
    return "`[" + key.substr(0, dot) + "] " + key.substr(dot + 1) + "`";
  if (key == "department" || key == "category" || key == "route") return "`[[" + key + "]]`";
  if (key == "timing" || key == "rules" || key == "web") return "`[" + key + "]`";
  return "`" + key + "`";
}

// The two cells of the row after the header "| changes live | needs a restart |".
std::pair<std::string, std::string> reload_table() {
  std::ifstream in(CLOSELOOP_SOURCE_DIR "/docs/operations.md");
  std::string line;
  while (std::getline(in, line) && line != "| changes live | needs a restart |") {
  }
  std::getline(in, line);  // |---|---|
  std::getline(in, line);
  std::smatch cells;
  if (!std::regex_match(line, cells, std::regex(R"(\| (.*) \| (.*) \|)"))) return {};
  return {cells[1], cells[2]};
}

}  // namespace

TEST_CASE("reload: every key of the file is live or restart-only, and operations.md says which",
          "[config][reload][docs]") {
  std::vector<std::string> live = live_keys(), restart = restart_only_keys();
  for (const std::string& top : top_level_keys()) {
    INFO(top << " is in neither list of reload.cc");
    auto covers = [&](const std::string& key) { return key == top || key.starts_with(top + "."); };
    CHECK((std::any_of(live.begin(), live.end(), covers) ||
           std::any_of(restart.begin(), restart.end(), covers)));
  }
  auto [live_cell, restart_cell] = reload_table();
  REQUIRE(!live_cell.empty());
  for (const std::string& key : live) {
    INFO(as_documented(key) << " changes live: the table's first column must list it");
    CHECK(live_cell.find(as_documented(key)) != std::string::npos);
    CHECK(restart_cell.find(as_documented(key)) == std::string::npos);
  }
  for (const std::string& key : restart) {
    INFO(as_documented(key) << " needs a restart: the table's second column must list it");
    CHECK(restart_cell.find(as_documented(key)) != std::string::npos);
    CHECK(live_cell.find(as_documented(key)) == std::string::npos);
  }
}

}  // namespace closeloop
