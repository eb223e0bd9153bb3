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
  bool operator==(const Department&) const = default;
};

struct Category {
  std::string code;  // e.g. "transport"
  std::string name;  // 交通出行
  bool operator==(const Category&) const = default;
};

// When a submitted item's category matches, dispatch assigns it to `department` itself.
struct Route {
  std::string category;
  std::string department;
  bool operator==(const Route&) const = default;
};

struct Timing {
  int heartbeat_ms = 1000;        // broker <-> worker heartbeat interval
  int liveness = 3;               // missed heartbeats before a peer counts as dead
  int reconnect_min_ms = 1000;    // worker reconnect backoff, doubling up to max
  int reconnect_max_ms = 32000;
  int resend_min_ms = 500;        // unacknowledged handoff resend backoff, doubling up to max
  int resend_max_ms = 32000;
  int request_timeout_ms = 5000;  // default client timeout (CLI --timeout overrides)
  // The broker drops a connection whose handshake has not finished within this
  // (ZMQ_HANDSHAKE_IVL on both its sockets), so idle connections cannot hold its descriptors.
  int handshake_timeout_ms = 3000;
  bool operator==(const Timing&) const = default;
};

// The deadlines the office works under (docs/supervision.md). Working days follow the
// calendar in [calendar] dir; months follow the Civil Code (workflow/deadline.h).
struct Rules {
  int suggestion_months = 3;          // a deputy's suggestion: reply due after assignment
  int suggestion_complex_months = 6;  // ... when assigned as complex
  int station_working_days = 15;      // a liaison station's problem
  int assign_working_days = 7;        // the office assigns within this after submission
  int return_working_days = 7;        // a department may return within this, later only by ruling
  int sign_working_days = 2;          // a department signs for an item within this
  int opinion_months = 1;             // a co-department gives its opinion within this
  int rework_months = 1;              // rework after an unsatisfied evaluation is due after this
  int reopen_months = 1;              // a reopened item is due after this
  int extension_max_months = 3;       // extensions of a suggestion, in total, at most this
  int max_returns = 2;                // after this many returns, assign needs a ruling
  int remind_working_days = 3;        // the timer reminds this long before a due date
  int escalate_working_days = 5;      // ... and escalates an item this long overdue
  bool operator==(const Rules&) const = default;
};

// A path the file names, as written and as the processes use it (load_config): a relative
// one resolved against the folder of the config file. `before`: how versions before issue
// 17 resolved it, against the working directory (a start refuses to run when that one
// exists and differs: config/paths.h).
struct NamedPath {
  std::string key;       // "data_dir", "calendar.dir", "key", "testing.clock_file"
  std::string written;   // as in the file; empty when the file leaves it at its default
  std::string resolved;  // what the processes use
  std::string before;    // absolute; empty when it cannot differ (an absolute path)
};

// [web]: the HTTP gateway, closeloop-web (being built: issue 18; read and checked, not yet
// served). It serves plain HTTP, meant for a reverse proxy that ends TLS, unless it holds a
// certificate and key itself.
struct Web {
  std::string listen = "127.0.0.1:8080";  // host:port
  std::string tls_cert, tls_key;          // PEM files, both or neither (then HTTPS)
  bool behind_tls_proxy = false;          // a proxy ends TLS: cookies are Secure all the same
  // The service's public URL, "https://host[:port]": what a browser's Origin must be, and
  // the base of the links it hands out. Empty: http://<listen>.
  std::string origin;
  int max_body_mb = 25;    // a request body over this is refused (413) before it is read
  int threads = 8;         // requests served at once; more wait for a thread
  int io_timeout_s = 10;   // a client silent this long while sending or reading is cut off
  bool secure() const { return behind_tls_proxy || !tls_cert.empty(); }
  bool operator==(const Web&) const = default;
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
  std::string timezone = "Asia/Shanghai";  // the office's: "today" and dates count in it
  std::string language = "zh";             // what people read: zh or en (i18n/words.h)
  std::string default_kind = "station";    // an item's kind when submit names none
  // [calendar] dir: cn-YYYY.csv files; by default the folder `calendar` beside the file
  std::string calendar_dir = "calendar";
  int timer_scan_ms = 60000;                     // [timer] scan_ms: how often the timer looks
  int checkpoint_ms = 60000;  // the ledger signs a checkpoint this often, when events came
  // SIGTERM: how long a worker goes on (taking no new requests) waiting for the acks and
  // replies it owes before it exits (docs/operations.md, "Stopping")
  int shutdown_grace_ms = 5000;
  // How long intake keeps a submit's reply for a retry with the same key; after it the
  // retry is answered with the item as it is now (the key -> item mapping stays).
  int idem_reply_ttl_days = 30;
  // Where the broker serves Prometheus /metrics over HTTP, "host:port"; empty: not served.
  std::string metrics_listen;
  Web web;
  // [security] mode: "curve" (CURVE + ZAP on the broker's sockets) or "off" (loopback and
  // ipc endpoints only; for benchmark A/B runs and experiments)
  std::string security_mode = "curve";
  bool curve() const { return security_mode == "curve"; }
  // The CLI's: its key file (default <data_dir>/keys/office.key) and the service's public
  // key, Z85 (default: <data_dir>/keys/broker.pub). Workers ignore them.
  std::string key, server_key;
  Rules rules;
  // [testing] clock_file: a file holding an ISO 8601 UTC time that the clock reads as
  // "now" from the moment the file was written. Tests only; absent = the real clock.
  std::string clock_file;
  // The file this was loaded from (load_config), read again on SIGHUP; empty from text.
  std::string file;
  // The paths the file names, for the checks of config/paths.h (resolved by load_config;
  // from text, as written).
  std::vector<NamedPath> paths;

  // Worker <-> broker sockets carry more than one client request: a handoff entry holds a
  // command's text twice (the item and the event), and a batch several entries.
  int64_t internal_message_bytes() const { return 4 * max_message_bytes + (1 << 20); }

  const Department* find_department(std::string_view code) const;
  const Route* find_route(std::string_view category) const;
  bool known_category(std::string_view code) const;
};

// Splits "host:port" (host a name, an IPv4 address or [IPv6]; port 1-65535); false if it
// is not that. The host is returned without brackets.
bool split_host_port(std::string_view listen, std::string* host, int* port);

// Every key the file may hold at its top level ("timing" for the table [timing]).
std::vector<std::string> top_level_keys();

// Parses and validates a TOML file. `path` is also used in error messages. A relative path
// in it (data_dir, [calendar] dir, key, [testing] clock_file, an ipc:// endpoint's) is
// resolved against the folder holding the file, wherever the process runs: a copied config
// finds what lies beside it.
Result<Config> load_config(const std::string& path);
// Same, from text (tests). Relative paths stay as written: they resolve against the
// working directory of the process (calendar_dir, data_dir).
Result<Config> parse_config(std::string_view toml_text, const std::string& origin = "<text>");

}  // namespace closeloop
