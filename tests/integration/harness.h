// A whole closeloop on loopback for one test: a config with free ports and a temp
// data_dir, the real worker executables started as child processes (stderr to
// <dir>/<name>.log), and helpers to kill -9, stop and restart any of them.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/client.h"
#include "wire/message.h"
#include "workflow/command.h"
#include "workflow/item.h"

namespace closeloop::test {

inline const std::vector<std::string> kProcesses{"broker", "ledger", "intake", "dispatch",
                                                 "handle", "verify", "close"};

class Cluster {
 public:
  // `extra_toml` is appended to the generated config (routes, timing...).
  explicit Cluster(const std::string& extra_toml = "");
  ~Cluster();

  void start_all();
  void start(const std::string& name);
  void kill9(const std::string& name);
  void stop(const std::string& name);  // SIGTERM, then wait
  void kill_all9();
  bool running(const std::string& name);
  // Waits until the broker reports every worker live.
  bool wait_ready(int timeout_ms = 10000);

  std::string endpoint() const { return endpoint_; }
  std::string dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/closeloop.toml"; }
  std::unique_ptr<Client> client(int timeout_ms = 5000) const;

 private:
  void end(const std::string& name, int signal);  // signals it, waits for it to exit
  std::string dir_, endpoint_;
  std::map<std::string, pid_t> pids_;
};

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
  explicit Running(const std::string& extra_toml = "");
};

// Convenience over Client::call with a Command; returns the reply or the error.
Result<wire::Reply> run(Client& client, const std::string& verb, const std::string& actor,
                        const std::string& body);

// Reads field `key` (a string) of the map at reply.body[outer].
std::string field(const wire::Reply& reply, const std::string& outer, const std::string& key);

// Runs a shell command, returns its exit status; stdout into *out if given.
int shell(const std::string& command, std::string* out = nullptr);

}  // namespace closeloop::test

namespace closeloop::test {

// A client acting as one person; each method sends one command and returns the reply.
class Desk {
 public:
  Desk(Client& client, std::string actor) : client_(client), actor_(std::move(actor)) {}

  Result<wire::Reply> submit(const std::string& title, const std::string& body,
                             const std::string& category = "", const std::string& key = "");
  Result<wire::Reply> assign(const std::string& id, const std::string& department,
                             std::vector<std::string> co = {}, const std::string& due = "");
  Result<wire::Reply> give_back(const std::string& id, const std::string& department,
                                const std::string& reason);
  Result<wire::Reply> handle(const std::string& id, const std::string& department,
                             const std::string& reply, const std::string& outcome = "solved");
  Result<wire::Reply> verify(const std::string& id, const std::string& rating);
  Result<wire::Reply> close(const std::string& id);
  Result<wire::Reply> show(const std::string& id);
  Result<wire::Reply> trail(const std::string& id);
  Result<wire::Reply> list(const std::string& stage = "", const std::string& department = "");

 private:
  Result<wire::Reply> command(const Command& c);
  Client& client_;
  std::string actor_;
};

// The events of a trail reply, decoded.
std::vector<Event> events_of(const wire::Reply& trail_reply);
// The ids of a list reply.
std::vector<std::string> ids_of(const wire::Reply& list_reply);

}  // namespace closeloop::test
