// The service's configuration, read from one TOML file (config/closeloop.toml is the
// commented default). Only `endpoint`, `data_dir`, [[department]] and [[route]] are
// needed; every other key has the default written here. Loading validates everything
// (unknown department in a route, duplicate codes, bad endpoints, out-of-range numbers)
// and returns a clear Error instead of starting with a half-understood file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace closeloop {

struct Department {
  std::string code;  // short stable identifier, e.g. "jtj"
  std::string name;  // 县交通运输局
};

struct Category {
  std::string code;  // e.g. "transport"
  std::string name;  // 交通出行
};

// When a submitted item's category matches, dispatch assigns it to `department` itself.
struct Route {
  std::string category;
  std::string department;
};

struct Timing {
  int heartbeat_ms = 1000;        // broker <-> worker heartbeat interval
  int liveness = 3;               // missed heartbeats before a peer counts as dead
  int reconnect_min_ms = 1000;    // worker reconnect backoff, doubling up to max
  int reconnect_max_ms = 32000;
  int resend_min_ms = 500;        // unacknowledged handoff resend backoff, doubling up to max
  int resend_max_ms = 32000;
  int request_timeout_ms = 5000;  // default client timeout (CLI --timeout overrides)
};

struct Config {
  std::string endpoint = "tcp://127.0.0.1:7400";  // broker frontend: where clients connect
  std::string backend;                            // broker backend; default: endpoint port + 1
  std::string data_dir = "var";                   // one LevelDB per worker under it
  std::vector<Department> departments;
  std::vector<Category> categories;  // empty: any category text is accepted
  std::vector<Route> routes;
  Timing timing;
  bool sync = true;                    // fsync before every ack; false only for benchmarks
  int64_t max_message_bytes = 1 << 20;  // ZMQ_MAXMSGSIZE of client sockets
  int batch_max = 512;                 // most commands folded into one group commit
  int shards = 1;                      // shards per stage (only 1 is supported today)
  std::string log_level = "info";
  std::string cpu_scheduling = "batch";  // every process's CPU policy: batch or normal

  // Worker <-> broker sockets carry more than one client request: a handoff entry holds a
  // command's text twice (the item and the event), and a batch several entries.
  int64_t internal_message_bytes() const { return 4 * max_message_bytes + (1 << 20); }

  const Department* find_department(std::string_view code) const;
  const Route* find_route(std::string_view category) const;
  bool known_category(std::string_view code) const;
};

// Parses and validates a TOML file. `path` is also used in error messages.
Result<Config> load_config(const std::string& path);
// Same, from text (tests).
Result<Config> parse_config(std::string_view toml_text, const std::string& origin = "<text>");

}  // namespace closeloop
