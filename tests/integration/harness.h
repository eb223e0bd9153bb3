// A whole closeloop on loopback for one test: a config with free ports and a temp
// data_dir, the real worker executables started as child processes (stderr to
// <dir>/<name>.log), and helpers to kill -9, stop and restart any of them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/client.h"
#include "wire/json.h"
#include "wire/message.h"
#include "workflow/command.h"
#include "workflow/decide.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop::test {

inline const std::vector<std::string> kProcesses{"broker", "ledger", "intake", "dispatch",
                                                 "handle", "verify", "close",  "timer"};

// The path of one of the built executables (bin/NAME).
inline std::string binary_path(std::string_view name) {
  std::string path = CLOSELOOP_BIN_DIR;
  path += '/';
  path += name;
  return path;
}

// The config's calendar dir is <dir>/calendar, a copy of config/calendar (so a test may
// add a year's file). With `test_clock`, the config names <dir>/clock as [testing]
// clock_file and set_clock() moves every process's clock.
class Cluster {
 public:
  // `extra_toml` is appended to the generated config (routes, timing...).
  explicit Cluster(const std::string& extra_toml = "", bool test_clock = false);
  ~Cluster();

  void start_all();
  void start(const std::string& name);
  // An environment variable for process `name` from its next start on.
  void set_env(const std::string& name, const std::string& key, const std::string& value);
  // A command process `name` runs under from its next start on, found in $PATH (e.g.
  // {"prlimit", "--nofile=1024:1024", "--"}): it must exec the rest of its arguments, so
  // that pid() is the process's own.
  void wrap(const std::string& name, std::vector<std::string> command);
  void kill9(const std::string& name);
  int stop(const std::string& name);         // SIGTERM, then wait; its wait status
  pid_t pid(const std::string& name) const;  // 0 if not running
  void kill_all9();
  bool running(const std::string& name);
  // Waits until the broker reports every worker live.
  bool wait_ready(int timeout_ms = 10000);

  std::string endpoint() const { return endpoint_; }
  std::string dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/closeloop.toml"; }
  std::string keys_dir() const { return dir_ + "/data/keys"; }  // the service's keys
  std::string calendar_dir() const { return dir_ + "/calendar"; }
  // Every process's "now" becomes `iso` (ISO 8601 UTC), and runs on from there.
  void set_clock(const std::string& iso);
  // A client holding `account`'s key: "office" and "admin" are the service's first
  // accounts (their keys in keys_dir(), waited for), others made by add_account().
  // Without keys when the config says security.mode = "off".
  std::unique_ptr<Client> client(int timeout_ms = 5000,
                                 const std::string& account = "office") const;
  // The credentials client() uses (none with security.mode = "off").
  std::optional<ClientKeys> keys(const std::string& account = "office") const;
  // Adds a person's account (as admin) with a new key pair kept in <dir>/people/.
  void add_account(const std::string& name, const std::vector<std::string>& roles,
                   const std::string& department = "", const std::string& station = "");
  std::string key_file(const std::string& account) const;

 private:
  int end(const std::string& name, int signal);  // signals it, waits for it to exit
  std::string dir_, endpoint_;
  std::map<std::string, pid_t> pids_;
  std::map<std::string, std::map<std::string, std::string>> env_;  // by process
  std::map<std::string, std::vector<std::string>> wrappers_;         // by process
};

// A TCP port on loopback that nothing listens on now (for /metrics and the like).
int free_tcp_port();

// Config text with the county's departments for tests (a subset is enough).
std::string test_departments_toml();

// Config snippets: a route that makes dispatch assign transport items to jtj itself, and
// short timings so that recovery after a kill is quick.
inline constexpr const char* kTransportRoute = R"(
[[route]]
category = "transport"
department = "jtj"
)";
inline constexpr const char* kFastTiming = R"(
[timing]
heartbeat_ms = 100
liveness = 3
reconnect_min_ms = 100
reconnect_max_ms = 1000
resend_min_ms = 100
resend_max_ms = 1000
request_timeout_ms = 1000
)";

// A cluster started for one test, ready, with a client (5 s timeout). Tests share nothing.
struct Running {
  Cluster cluster;
  std::unique_ptr<Client> client;
  explicit Running(const std::string& extra_toml = "", bool test_clock = false);
};

// Convenience over Client::call with a Command; returns the reply or the error.
Result<wire::Reply> run(Client& client, const std::string& verb, const std::string& actor,
                        const std::string& body);

// Reads field `key` (a string) of the map at reply.body[outer].
std::string field(const wire::Reply& reply, const std::string& outer, const std::string& key);

// The body of a reply that must be ok, as JSON (fails the test otherwise).
wire::Json body_of(const Result<wire::Reply>& reply);

// Whether `condition` holds within `limit`, asked every 20 ms.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

// The whole of a file, bytes as they are ("" if it cannot be read).
std::string read_file(const std::string& path);

// Runs a shell command, returns its exit status; stdout into *out if given.
int shell(const std::string& command, std::string* out = nullptr);

// One argument for /bin/sh: single-quoted, a ' inside written as '\''.
std::string shell_quote(const std::string& arg);

// What one run of a CLI binary did.
struct CliRun {
  int code = -1;
  std::string out, err;
  wire::Json parsed() const;  // stdout as JSON (fails the test if it is not)
};

// closeloopd running the cluster's config (its stderr in <dir>/closeloopd.log), with `env`
// set for it and so for every child it starts, in the working directory `cwd` (default:
// the test's).
pid_t spawn_closeloopd(const Cluster& cluster, const std::map<std::string, std::string>& env = {},
                       const std::string& cwd = "");
// SIGTERM to closeloopd, then waits for it: its wait status (a test checks the exit code).
int stop_closeloopd(pid_t daemon);

// Runs build/bin/<binary> (default: the CLI) with `args`, each quoted, after `prefix`
// (shell text such as an environment assignment); stderr is captured through a file in
// `dir`. CLOSELOOP_CONFIG names <dir>/closeloop.toml when there is one (a cluster's), so
// the CLI finds the cluster's keys as an operator's CLI finds the service's; CLOSELOOP_LANG
// is en (a prefix "CLOSELOOP_LANG=zh " or the argument --lang zh says otherwise).
CliRun run_cli(const std::string& dir, const std::vector<std::string>& args,
               const std::string& prefix = "", const std::string& binary = "closeloop");

}  // namespace closeloop::test

namespace closeloop::test {

// The office at work: each method sends one command and returns the reply. The office's
// client acts, but for a department's own verbs (sign, handle, opinion…), which go through
// a client of that department's clerk (account "clerk-<code>", made on first use), and
// verify, which records an evaluation received on paper (`via: paper`) unless told
// otherwise. With security.mode = "off" everything goes through `office` as "office".
class Desk {
 public:
  Desk(Cluster& cluster, Client& office);

  Result<wire::Reply> submit(const std::string& title, const std::string& body,
                             const std::string& category = "", const std::string& key = "");
  Result<wire::Reply> assign(const std::string& id, const std::string& department,
                             std::vector<std::string> co = {}, const std::string& due = "");
  Result<wire::Reply> give_back(const std::string& id, const std::string& department,
                                const std::string& reason);
  Result<wire::Reply> handle(const std::string& id, const std::string& department,
                             const std::string& reply, const std::string& outcome = "solved");
  Result<wire::Reply> verify(const std::string& id, const std::string& rating,
                             const std::string& comment = "");
  Result<wire::Reply> close(const std::string& id);
  Result<wire::Reply> show(const std::string& id);
  Result<wire::Reply> trail(const std::string& id);
  Result<wire::Reply> list(const std::string& stage = "", const std::string& department = "");
  // Any command: `verb` on `id` with `fields` (e.g. {{"department", "zjj"}}).
  Result<wire::Reply> command(const std::string& verb, const std::string& id, wire::Json fields);
  Result<wire::Reply> command(const Command& c);

 private:
  Client& client_for(const Command& c);

  Cluster& cluster_;
  Client& client_;
  bool curve_;
  std::map<std::string, std::unique_ptr<Client>> clerks_;  // by department
};

// An item made (in `category`) and assigned to `department` the way the workers would
// (a station item, today), for tests that play a worker themselves.
Result<Step> submitted_step(const std::string& id, const std::string& category = "");
Result<Step> assigned_step(const std::string& id, const std::string& department);
// A handoff request from `from` carrying `entries` ({hid, entry} each, entry = {item,
// event}), as a sender's relay writes it.
std::string handoff_request(uint64_t id, const std::string& from,
                            const std::vector<std::pair<uint64_t, std::string>>& entries);
std::string entry_of(const Step& step);
// The same entry as a newer sender writes it: its item's record version is one this
// version does not know (so a receiver holds it as an incident).
std::string newer_entry_of(const Step& step);

// The events of a trail reply, decoded.
std::vector<Event> events_of(const wire::Reply& trail_reply);
// The ids of a list reply.
std::vector<std::string> ids_of(const wire::Reply& list_reply);

}  // namespace closeloop::test
