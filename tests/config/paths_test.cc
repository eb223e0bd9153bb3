// Unit tests for the paths a config names: resolved against the config file's folder
// (config/config.h, load_config), checked against the earlier, working-directory reading
// at start and for being there by --check-config (config/paths.h).
#include "config/paths.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace closeloop {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// A temp folder holding `etc/closeloop.toml` (written by config()) and a working directory
// `run/` that the test enters, left and removed with it.
struct PathsLayout {
  fs::path root, etc, run, was;
  PathsLayout() {
    char tmpl[] = "/tmp/closeloop-paths-XXXXXX";
    root = fs::path(mkdtemp(tmpl));
    etc = root / "etc";
    run = root / "run";
    fs::create_directories(etc);
    fs::create_directories(run);
    was = fs::current_path();
    fs::current_path(run);
  }
  ~PathsLayout() {
    fs::current_path(was);
    fs::remove_all(root);
  }
  Config config(const std::string& extra_top, const std::string& tables = "") {
    std::ofstream(etc / "closeloop.toml")
        << "endpoint = \"tcp://127.0.0.1:7400\"\n"
        << extra_top << "\n[[department]]\ncode = \"jtj\"\nname = \"县交通运输局\"\n"
        << tables;
    auto loaded = load_config((etc / "closeloop.toml").string());
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    return *loaded;
  }
  void calendar_in(const fs::path& dir) {
    fs::create_directories(dir);
    fs::copy_file(CLOSELOOP_SOURCE_DIR "/config/calendar/cn-2026.csv", dir / "cn-2026.csv");
  }
};

}  // namespace

TEST_CASE("relative paths are taken from the config file's folder, not the working directory",
          "[config][paths]") {
  PathsLayout l;
  Config c = l.config("data_dir = \"data\"\nkey = \"keys/me.key\"\n",
                      "[testing]\nclock_file = \"../clock\"\n");
  CHECK(c.data_dir == (l.etc / "data").string());
  CHECK(c.calendar_dir == (l.etc / "calendar").string());  // the default: beside the file
  CHECK(c.key == (l.etc / "keys/me.key").string());
  CHECK(c.clock_file == (l.root / "clock").string());
  Config absolute = l.config("data_dir = \"/srv/closeloop/\"\n", "[calendar]\ndir = \"cal/\"\n");
  CHECK(absolute.data_dir == "/srv/closeloop/");  // as written
  CHECK(absolute.calendar_dir == (l.etc / "cal").string());
  Config ipc = l.config("data_dir = \"d\"\nbackend = \"ipc://sock/workers\"\n");
  CHECK(ipc.backend == "ipc://" + (l.etc / "sock/workers").string());
  // From text (tests), as written.
  auto text = parse_config(
      "endpoint = \"tcp://h:1\"\ndata_dir = \"v\"\n[[department]]\n"
      "code = \"a\"\nname = \"A\"\n");
  REQUIRE(text.ok());
  CHECK(text->data_dir == "v");
}

TEST_CASE("a start refuses a path whose earlier, working-directory reading exists and differs",
          "[config][paths]") {
  PathsLayout l;
  Config c = l.config("data_dir = \"data\"\n");
  CHECK(check_moved_paths(c).ok());  // run/data does not exist: nothing to mistake
  fs::create_directories(l.run / "data");
  CHECK(check_moved_paths(c).ok());  // a folder, but no data dir: not what it named
  fs::create_directories(l.run / "data/ledger");
  Status moved = check_moved_paths(c);
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.error().code == errc::kInvalid);
  CHECK_THAT(moved.error().message,
             Contains("data_dir \"data\" now means " + (l.etc / "data").string()) &&
                 Contains("used to mean " + (l.run / "data").string()) &&
                 Contains("where there is a data dir") && Contains("absolute path"));
  // Run from the config's own folder, both readings are one folder.
  fs::current_path(l.etc);
  fs::create_directories(l.etc / "data/ledger");
  CHECK(check_moved_paths(l.config("data_dir = \"data\"\n")).ok());
  fs::current_path(l.run);
  // The calendar's earlier default was config/calendar under the working directory.
  Config defaulted = l.config("data_dir = \"/nowhere/data\"\n");
  CHECK(check_moved_paths(defaulted).ok());
  l.calendar_in(l.run / "config/calendar");
  Status calendar = check_moved_paths(l.config("data_dir = \"/nowhere/data\"\n"));
  REQUIRE_FALSE(calendar.ok());
  CHECK_THAT(calendar.error().message, Contains("calendar.dir (not in the file: its default)"));
  // Absolute paths mean what they say.
  CHECK(check_moved_paths(
            l.config("data_dir = \"" + (l.run / "data").string() + "\"\n",
                     "[calendar]\ndir = \"" + (l.run / "config/calendar").string() + "\"\n"))
            .ok());
}

TEST_CASE("closeloopd --check-config's paths: the calendar read with its digests, a missing one refused",
          "[config][paths]") {
  PathsLayout l;
  Config c = l.config("data_dir = \"data\"\n");
  auto missing = check_paths(c);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Contains("calendar.dir") &&
                                          Contains((l.etc / "calendar").string()) &&
                                          Contains("cannot read the directory"));
  l.calendar_in(l.etc / "calendar");
  auto lines = check_paths(c);
  INFO((lines.ok() ? "" : lines.error().message));
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 2);
  CHECK_THAT((*lines)[0].text, Contains("not made yet"));  // data_dir: the first start makes it
  CHECK_THAT((*lines)[1].text, Contains("cn-2026 ") && !Contains("none"));
  // A key named but not there is refused too.
  auto key = check_paths(l.config("data_dir = \"data\"\nkey = \"me.key\"\n"));
  REQUIRE_FALSE(key.ok());
  CHECK_THAT(key.error().message, Contains("key: " + (l.etc / "me.key").string()));
  // A calendar file that does not parse is refused as the processes refuse it.
  std::ofstream(l.etc / "calendar/cn-2027.csv") << "not,a,calendar\n";
  CHECK_FALSE(check_paths(c).ok());
}

}  // namespace closeloop
