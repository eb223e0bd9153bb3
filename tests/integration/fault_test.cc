// A full disk and a failing fsync (docs/operations.md, "When the disk fills"): no client
// ever gets ok for a command that did not reach the disk, every command acknowledged
// before the fault is there afterwards, the worker says what is wrong, and it recovers by
// itself once the disk takes writes again. The disk fails on cue through an LD_PRELOAD
// shim (fault_shim.cc) confined to intake's data dir: no privileges needed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "harness.h"
#include "wire/json.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

struct FaultCue {
  std::string path, dir;
  void set(const std::string& what) const {
    std::ofstream(path + ".new") << what << "\n";
    std::filesystem::rename(path + ".new", path);  // whole, never half-written
  }
  void clear() const { std::filesystem::remove(path); }
  // The shim and its cue, for a process's environment (closeloopd passes it to every
  // child: only files under `dir` fail).
  std::map<std::string, std::string> env() const {
    return {{"LD_PRELOAD", CLOSELOOP_FAULT_SHIM},
            {"CLOSELOOP_FAULT_CUE", path},
            {"CLOSELOOP_FAULT_DIR", dir}};
  }
};

// Faults for intake's data dir, cued by a file in the cluster's dir.
FaultCue intake_fault(const Cluster& cluster) {
  return {cluster.dir() + "/fault-cue", cluster.dir() + "/data/intake"};
}

// What `status` says of `worker`'s store ("" when it can write it).
std::string storage_error_of(const Cluster& cluster, const std::string& worker) {
  auto reply = cluster.client(3000, "admin")->call("status", "", wire::empty_map());
  if (!reply.ok() || !reply->ok) return "";
  wire::Json status = wire::to_json(reply->body);
  for (const wire::Json& w : status.value("workers", wire::Json::array()))
    if (w.value("name", "") == worker) return w.value("storage_error", "");
  return "";
}

// Whether intake's outbox is empty in the figures of a heartbeat sent at least `after`
// after `since`: its handoffs acknowledged as durable, so no delete of an outbox entry is
// still to be written (the fault must meet a batch of commands first, not such a delete).
bool intake_settled(const Cluster& cluster, std::chrono::steady_clock::time_point since) {
  if (std::chrono::steady_clock::now() - since < 500ms) return false;  // figures 100 ms old
  auto reply = cluster.client(3000, "admin")->call("status", "", wire::empty_map());
  if (!reply.ok() || !reply->ok) return false;
  wire::Json status = wire::to_json(reply->body);
  for (const wire::Json& w : status.value("workers", wire::Json::array())) {
    if (w.value("name", "") != "intake") continue;
    for (const wire::Json& o : w.value("outbox", wire::Json::array()))
      if (o.value("entries", 0) != 0) return false;
    return true;
  }
  return false;
}

// The titles of every item the ledger lists.
std::set<std::string> titles_listed(Desk& office) {
  std::set<std::string> titles;
  auto listed = office.list();
  REQUIRE(listed.ok());
  REQUIRE(listed->ok);
  wire::Json body = wire::to_json(listed->body);
  for (const wire::Json& item : body.value("items", wire::Json::array()))
    titles.insert(item.value("title", ""));
  return titles;
}

// Commands sent while the disk fails: none may be answered ok. The client retries an
// `unavailable` until its timeout, then gives up naming the last refusal.
struct DuringFault {
  int sent = 0, ok = 0;
  std::vector<std::string> titles, messages;

  void submit(Desk& office, const std::string& title) {
    ++sent;
    titles.push_back(title);
    auto reply = office.submit(title, "磁盘故障期间提交");
    if (!reply.ok()) {
      messages.push_back(reply.error().message);  // "gave up within the timeout: …"
    } else if (reply->ok) {
      ++ok;
    } else {
      messages.push_back(reply->error.code + ": " + reply->error.message);
    }
  }
  bool said(const std::string& words) const {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const std::string& m) { return m.find(words) != std::string::npos; });
  }
};

std::vector<std::string> submit_ok(Desk& office, const std::string& prefix, int n) {
  std::vector<std::string> titles;
  for (int i = 0; i < n; ++i) {
    std::string title = prefix + "-" + std::to_string(i);
    auto reply = office.submit(title, "正常提交");
    REQUIRE(reply.ok());
    INFO(reply->error.message);
    REQUIRE(reply->ok);
    titles.push_back(title);
  }
  return titles;
}

// The cue set, commands flow until the batch that failed was refused (`refusal`, in the
// client's answer or the worker's log) and the restarted worker, waiting for its disk, has
// answered; then the cue cleared, commands succeed again.
void fault_and_recover(Cluster& cluster, const FaultCue& cue, const std::string& fault,
                       const std::string& cause, const std::string& refusal, bool written_nothing) {
  auto client = cluster.client(1500);
  Desk office(cluster, *client);
  std::vector<std::string> before = submit_ok(office, "故障前", 5);
  auto submitted = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return intake_settled(cluster, submitted); }));

  cue.set(fault);
  DuringFault during;
  std::string log_path = cluster.dir() + "/closeloopd.log";
  CHECK(eventually(
      [&] {
        during.submit(office, "故障中-" + std::to_string(during.sent));
        return (during.said(refusal) || read_file(log_path).find(refusal) != std::string::npos) &&
               during.said("waiting for the disk");
      },
      20s));
  INFO("sent " << during.sent
               << ", last answer: " << (during.messages.empty() ? "" : during.messages.back()));
  CHECK(during.ok == 0);  // never ok for a command that did not reach the disk
  CHECK(during.said("intake: " + cause));
  CHECK(eventually([&] { return storage_error_of(cluster, "intake").find(cause) == 0; }, 10s));

  cue.clear();
  CHECK(eventually(
      [&] {
        auto reply = office.submit("恢复后", "空间恢复后提交");
        return reply.ok() && reply->ok;
      },
      20s));
  std::vector<std::string> after = submit_ok(office, "恢复后", 3);
  CHECK(eventually([&] { return storage_error_of(cluster, "intake").empty(); }, 10s));

  std::set<std::string> listed = titles_listed(office);
  for (const auto& title : before) CHECK(listed.count(title) == 1);
  for (const auto& title : after) CHECK(listed.count(title) == 1);
  if (written_nothing)  // nothing sent during the fault left anything behind
    for (const auto& title : during.titles) CHECK(listed.count(title) == 0);
}

}  // namespace

TEST_CASE("disk full during commands: no ok for an unwritten command, recovery when space returns",
          "[faults][durability]") {
  Cluster cluster(kFastTiming);
  FaultCue cue = intake_fault(cluster);
  pid_t daemon = spawn_closeloopd(cluster, cue.env());
  REQUIRE(cluster.wait_ready());
  fault_and_recover(cluster, cue, "ENOSPC", "the disk is full (No space left on device)",
                    "refusing this batch's", /*written_nothing=*/true);
  std::string log = read_file(cluster.dir() + "/closeloopd.log");
  CHECK(log.find("exited with status 75") != std::string::npos);  // EX_TEMPFAIL: start again
  CHECK(log.find("intake: cannot open its store: the disk is full") != std::string::npos);
  CHECK(log.find("intake: its store is open again: serving") != std::string::npos);
  CHECK(WIFEXITED(stop_closeloopd(daemon)));
}

TEST_CASE("a failing fsync (EIO) is never retried as if nothing happened, nor acknowledged",
          "[faults][durability]") {
  Cluster cluster(kFastTiming);
  FaultCue cue = intake_fault(cluster);
  pid_t daemon = spawn_closeloopd(cluster, cue.env());
  REQUIRE(cluster.wait_ready());
  // The write reaches the page cache, its fsync fails: what was refused may or may not be
  // found after the restart (the log record may survive); what was acknowledged is there.
  // The refused command is told so, not `unavailable` (which clients retry as "nothing
  // happened").
  fault_and_recover(cluster, cue, "EIO fsync", "the disk failed to write (Input/output error)",
                    "internal: intake: the disk failed to write (Input/output error); the command "
                    "may or may not have been saved",
                    /*written_nothing=*/false);
  std::string log = read_file(cluster.dir() + "/closeloopd.log");
  CHECK(log.find("exited with status 75") != std::string::npos);
  CHECK(WIFEXITED(stop_closeloopd(daemon)));
}

TEST_CASE("a worker started on a full disk stays up, says why, and serves once space returns",
          "[faults]") {
  Cluster cluster(kFastTiming);
  FaultCue cue = intake_fault(cluster);
  for (const auto& [key, value] : cue.env()) cluster.set_env("intake", key, value);
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  auto client = cluster.client(2000);
  Desk office(cluster, *client);
  std::vector<std::string> before = submit_ok(office, "满盘前", 2);

  cluster.stop("intake");
  cue.set("ENOSPC");
  cluster.start("intake");  // no supervisor here: an exit would be for good
  pid_t intake = cluster.pid("intake");
  std::string log_path = cluster.dir() + "/intake.log";
  REQUIRE(eventually([&] {
    return read_file(log_path).find("cannot open its store: the disk is full") != std::string::npos;
  }));
  auto answer =
      office.submit("满盘中", "");  // `unavailable`, retried by the client till it gives up
  REQUIRE_FALSE(answer.ok());
  CHECK(answer.error().message ==
        "gave up within the timeout: intake: the disk is full (No space left on device); waiting "
        "for the disk to take writes again, nothing is saved");
  CHECK(eventually([&] {
    return storage_error_of(cluster, "intake") == "the disk is full (No space left on device)";
  }));
  CliRun table = run_cli(cluster.dir(), {"--key", cluster.key_file("admin"), "status"});
  CHECK(table.out.find("intake: CANNOT WRITE ITS STORE: the disk is full") != std::string::npos);
  int status = 0;
  CHECK(waitpid(intake, &status, WNOHANG) == 0);  // still running

  cue.clear();
  REQUIRE(eventually([&] {
    auto reply = office.submit("满盘后", "");
    return reply.ok() && reply->ok;
  }));
  CHECK(waitpid(intake, &status, WNOHANG) == 0);  // the same process, serving
  std::set<std::string> listed = titles_listed(office);
  for (const auto& title : before) CHECK(listed.count(title) == 1);
  CHECK(listed.count("满盘后") == 1);
  CHECK(listed.count("满盘中") == 0);
  std::string log = read_file(log_path);
  // Said once, not at every try (it tried every 2 s meanwhile).
  size_t first = log.find("cannot open its store");
  CHECK(log.find("cannot open its store", first + 1) == std::string::npos);
  CHECK(log.find("its store is open again: serving") != std::string::npos);
}
