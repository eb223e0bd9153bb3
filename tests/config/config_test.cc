// Unit tests for config/config.h: the shipped default loads, defaults apply, and every
// validation rule rejects a bad file with an error that names the problem.
#include "config/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace closeloop {
namespace {

const std::string kShipped = CLOSELOOP_SOURCE_DIR "/config/closeloop.toml";

const std::string kMinimal = R"(
endpoint = "tcp://127.0.0.1:7400"
data_dir = "var"

[[department]]
code = "jtj"
name = "县交通运输局"

[[route]]
category = "transport"
department = "jtj"
)";

// The invalid-config error message of `text`; fails the test if the text loads.
std::string error_of(const std::string& text) {
  Result<Config> r = parse_config(text, "test.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::kInvalid);
  return r.error().message;
}

// kMinimal with top-level keys `extra` added before its tables.
std::string minimal_with(const std::string& extra) { return extra + "\n" + kMinimal; }

// kMinimal with tables `extra` (e.g. "[timing]\n...") appended.
std::string minimal_then(const std::string& extra) { return kMinimal + "\n" + extra + "\n"; }

// kMinimal with its first occurrence of `from` replaced by `to`.
std::string minimal_replacing(const std::string& from, const std::string& to) {
  std::string text = kMinimal;
  text.replace(text.find(from), from.size(), to);
  return text;
}

std::set<std::string> csv_department_codes() {
  std::ifstream in(CLOSELOOP_SOURCE_DIR "/../shared/data/departments.csv");
  std::set<std::string> codes;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) codes.insert(line.substr(0, line.find(',')));
  return codes;
}

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("shipped config/closeloop.toml loads with departments, categories and routes",
          "[config]") {
  Result<Config> r = load_config(kShipped);
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  const Config& c = *r;
  CHECK(c.endpoint == "tcp://127.0.0.1:7400");
  CHECK(c.backend == "tcp://127.0.0.1:7401");
  // Its relative paths are taken from its folder, config/: var/ and config/calendar of the
  // source tree, wherever the process runs (`make run` runs from the top).
  CHECK(c.data_dir == CLOSELOOP_SOURCE_DIR "/var");
  CHECK(c.calendar_dir == CLOSELOOP_SOURCE_DIR "/config/calendar");
  CHECK(c.sync);
  CHECK(c.departments.size() == 41);
  REQUIRE(c.find_department("jtj"));
  CHECK(c.find_department("jtj")->name == "县交通运输局");
  CHECK(c.find_department("fy"));
  CHECK(c.find_department("kfq"));
  CHECK(c.categories.size() == 13);
  REQUIRE(c.find_route("transport"));
  CHECK(c.find_route("transport")->department == "jtj");
  CHECK(c.routes.size() < c.categories.size());  // some categories are assigned by hand
}

TEST_CASE("shipped config has every department of shared/data/departments.csv", "[config]") {
  std::set<std::string> codes = csv_department_codes();
  if (codes.empty()) {
    WARN("departments.csv not found beside the source tree; skipped");
    return;
  }
  Result<Config> r = load_config(kShipped);
  REQUIRE(r.ok());
  for (const std::string& code : codes) {
    INFO(code);
    CHECK(r->find_department(code));
  }
}

TEST_CASE("minimal config with endpoint, data_dir, department and route gets defaults",
          "[config]") {
  Result<Config> r = parse_config(kMinimal);
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  const Config& c = *r;
  Config defaults;
  CHECK(c.backend == "tcp://127.0.0.1:7401");
  CHECK(c.sync == defaults.sync);
  CHECK(c.max_message_bytes == defaults.max_message_bytes);
  CHECK(c.batch_max == defaults.batch_max);
  CHECK(c.checkpoint_ms == 60000);
  CHECK(c.shards == 1);
  CHECK(c.log_level == "info");
  CHECK(c.cpu_scheduling == "batch");
  CHECK(c.timing.heartbeat_ms == defaults.timing.heartbeat_ms);
  CHECK(c.timing.request_timeout_ms == defaults.timing.request_timeout_ms);
  CHECK(c.timing.handshake_timeout_ms == 3000);
  CHECK(c.categories.empty());
  CHECK(c.known_category("anything"));  // no [[category]]: any text is accepted
  REQUIRE(c.find_route("transport"));
  CHECK(c.find_route("transport")->department == "jtj");
  CHECK_FALSE(c.find_route("health"));
  CHECK_FALSE(c.find_department("nope"));
}

TEST_CASE("optional keys and [timing] are read", "[config]") {
  Result<Config> r = parse_config(minimal_with(R"(
sync = false
max_message_bytes = 4096
batch_max = 64
shards = 1
log_level = "debug"
cpu_scheduling = "normal"
)") + R"(
[timing]
heartbeat_ms = 250
liveness = 5
reconnect_min_ms = 10
reconnect_max_ms = 10
handshake_timeout_ms = 750
)");
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK_FALSE(r->sync);
  CHECK(r->max_message_bytes == 4096);
  CHECK(r->batch_max == 64);
  CHECK(r->log_level == "debug");
  CHECK(r->cpu_scheduling == "normal");
  CHECK(r->timing.heartbeat_ms == 250);
  CHECK(r->timing.liveness == 5);
  CHECK(r->timing.reconnect_max_ms == 10);
  CHECK(r->timing.resend_max_ms == Timing{}.resend_max_ms);
  CHECK(r->timing.handshake_timeout_ms == 750);
}

TEST_CASE("backend defaults to endpoint port + 1 on the same host", "[config]") {
  auto backend_of = [](const std::string& endpoint) {
    Result<Config> r = parse_config(minimal_replacing("tcp://127.0.0.1:7400", endpoint));
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    return r->backend;
  };
  CHECK(backend_of("tcp://10.0.0.5:9000") == "tcp://10.0.0.5:9001");
  CHECK(backend_of("tcp://localhost:1") == "tcp://localhost:2");
  CHECK(backend_of("tcp://[::1]:7400") == "tcp://[::1]:7401");
}

TEST_CASE("an explicit backend is kept, and an ipc endpoint needs one", "[config]") {
  std::string ipc = minimal_replacing("tcp://127.0.0.1:7400", "ipc:///run/closeloop/front");
  CHECK_THAT(error_of(ipc), Contains("backend") && Contains("required"));

  Result<Config> r = parse_config("backend = \"ipc:///run/closeloop/back\"\n" + ipc);
  REQUIRE(r.ok());
  CHECK(r->endpoint == "ipc:///run/closeloop/front");
  CHECK(r->backend == "ipc:///run/closeloop/back");

  r = parse_config(minimal_with("backend = \"tcp://127.0.0.1:9999\""));
  REQUIRE(r.ok());
  CHECK(r->backend == "tcp://127.0.0.1:9999");
}

TEST_CASE("bad endpoints are rejected", "[config]") {
  for (const char* bad : {"udp://x:1", "tcp://127.0.0.1", "tcp://:7400", "tcp://h:0",
                          "tcp://h:70000", "tcp://h:12a", "ipc://"}) {
    INFO(bad);
    CHECK_THAT(error_of(minimal_replacing("tcp://127.0.0.1:7400", bad)), Contains("endpoint"));
  }
  CHECK_THAT(error_of(minimal_with("backend = \"tcp://127.0.0.1:7400\"")),
             Contains("backend") && Contains("differ"));
  CHECK_THAT(error_of(minimal_replacing("7400", "65535")), Contains("backend"));
}

TEST_CASE("missing file gives a clear error naming the path", "[config]") {
  Result<Config> r = load_config("/nonexistent/closeloop.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::kInvalid);
  CHECK_THAT(r.error().message,
             StartsWith("/nonexistent/closeloop.toml: ") && Contains("No such file"));
}

TEST_CASE("TOML syntax error names the origin and the line", "[config]") {
  CHECK_THAT(error_of("endpoint = \"tcp://a:1\"\ndata_dir = \n"),
             StartsWith("test.toml: ") && Contains("line 2"));
}

TEST_CASE("unknown keys are named (typo protection)", "[config]") {
  CHECK_THAT(error_of(minimal_with("endpiont = \"tcp://x:1\"")),
             StartsWith("test.toml: ") && Contains("unknown key 'endpiont'"));
  CHECK_THAT(error_of(minimal_then("[timing]\nheartbeat = 5")),
             Contains("unknown key 'timing.heartbeat'"));
  CHECK_THAT(error_of(kMinimal + "[[department]]\ncode = \"x\"\nname = \"X\"\nnmae = \"X\"\n"),
             Contains("unknown key 'department[1].nmae'"));
}

TEST_CASE("missing required keys are named", "[config]") {
  CHECK_THAT(error_of("data_dir = \"v\"\n[[department]]\ncode = \"a\"\nname = \"A\"\n"),
             Contains("endpoint: missing"));
  CHECK_THAT(error_of("endpoint = \"tcp://h:1\"\n[[department]]\ncode = \"a\"\nname = \"A\"\n"),
             Contains("data_dir: missing"));
  CHECK_THAT(error_of("endpoint = \"tcp://h:1\"\ndata_dir = \"v\"\n"), Contains("department"));
  CHECK_THAT(error_of(minimal_with("") + "[[department]]\ncode = \"x\"\n"),
             Contains("department[1].name: missing"));
}

TEST_CASE("wrong value types are named", "[config]") {
  CHECK_THAT(error_of(minimal_with("sync = \"yes\"")), Contains("sync") && Contains("string"));
  CHECK_THAT(error_of(minimal_with("batch_max = 1.5")), Contains("batch_max: expected an integer"));
  CHECK_THAT(error_of(minimal_with("log_level = 3")), Contains("log_level: expected a string"));
  CHECK_THAT(error_of(minimal_with("timing = 5")), Contains("timing: expected a table"));
  CHECK_THAT(error_of(minimal_replacing("data_dir = \"var\"", "data_dir = [\"a\"]")),
             Contains("data_dir: expected a string, got an array"));
  CHECK_THAT(error_of("route = \"jtj\"\n" + kMinimal.substr(0, kMinimal.find("[[route]]"))),
             Contains("route: expected an array of tables"));
  CHECK_THAT(error_of(minimal_then("[timing]\nliveness = \"3\"")),
             Contains("timing.liveness: expected an integer"));
}

TEST_CASE("numeric ranges, shards, log_level and cpu_scheduling are checked", "[config]") {
  CHECK_THAT(error_of(minimal_with("max_message_bytes = 1023")), Contains("max_message_bytes"));
  CHECK_THAT(error_of(minimal_with("max_message_bytes = 67108865")), Contains("max_message_bytes"));
  CHECK(parse_config(minimal_with("max_message_bytes = 67108864")).ok());
  CHECK_THAT(error_of(minimal_with("batch_max = 0")), Contains("batch_max"));
  CHECK_THAT(error_of(minimal_with("batch_max = 65537")), Contains("batch_max"));
  CHECK(parse_config(minimal_with("batch_max = 65536")).ok());
  CHECK_THAT(error_of(minimal_with("checkpoint_ms = 9")), Contains("checkpoint_ms"));
  CHECK_THAT(error_of(minimal_with("checkpoint_ms = 86400001")), Contains("checkpoint_ms"));
  CHECK(parse_config(minimal_with("checkpoint_ms = 100")).value().checkpoint_ms == 100);
  CHECK_THAT(error_of(minimal_with("shards = 2")), Contains("shards") && Contains("only 1"));
  CHECK_THAT(error_of(minimal_with("log_level = \"verbose\"")),
             Contains("log_level") && Contains("verbose"));
  CHECK_THAT(error_of(minimal_with("cpu_scheduling = \"fifo\"")),
             Contains("cpu_scheduling") && Contains("fifo"));
  CHECK_THAT(error_of(minimal_with("cpu_scheduling = 1")),
             Contains("cpu_scheduling: expected a string"));
}

TEST_CASE("department codes must be well-formed and unique", "[config]") {
  auto with_department = [](const std::string& code) {
    return kMinimal + "[[department]]\ncode = \"" + code + "\"\nname = \"X\"\n";
  };
  CHECK_THAT(error_of(with_department("")), Contains("department[1].code") && Contains("empty"));
  CHECK_THAT(error_of(with_department("JTJ")), Contains("department[1].code"));
  CHECK_THAT(error_of(with_department("a b")), Contains("department[1].code"));
  CHECK_THAT(error_of(with_department(std::string(33, 'a'))), Contains("department[1].code"));
  CHECK(parse_config(with_department(std::string(32, 'a'))).ok());
  CHECK(parse_config(with_department("zone-2")).ok());
  CHECK_THAT(error_of(with_department("jtj")), Contains("duplicate") && Contains("'jtj'"));
}

TEST_CASE("routes must name a known department, a known category, and be unique", "[config]") {
  CHECK_THAT(error_of(kMinimal + "[[route]]\ncategory = \"health\"\ndepartment = \"wjj\"\n"),
             Contains("route[1].department") && Contains("unknown department 'wjj'"));
  CHECK_THAT(error_of(kMinimal + "[[route]]\ncategory = \"transport\"\ndepartment = \"jtj\"\n"),
             Contains("route[1].category") && Contains("'transport'"));
  const std::string categories =
      "[[category]]\ncode = \"transport\"\nname = \"交通出行\"\n"
      "[[category]]\ncode = \"health\"\nname = \"医疗卫生\"\n";
  CHECK(parse_config(kMinimal + categories).ok());
  CHECK_THAT(error_of(kMinimal + categories +
                      "[[route]]\ncategory = \"trafic\"\ndepartment = "
                      "\"jtj\"\n"),
             Contains("route[1].category") && Contains("'trafic'") && Contains("[[category]]"));
  CHECK_THAT(error_of(kMinimal + categories + "[[category]]\ncode = \"health\"\nname = \"H\"\n"),
             Contains("category[2].code") && Contains("duplicate"));
}

TEST_CASE("timing values must be positive and reconnect_min <= reconnect_max", "[config]") {
  for (const char* key : {"heartbeat_ms", "liveness", "reconnect_min_ms", "reconnect_max_ms",
                          "resend_min_ms", "resend_max_ms", "request_timeout_ms",
                          "handshake_timeout_ms"}) {
    INFO(key);
    CHECK_THAT(error_of(minimal_then(std::string("[timing]\n") + key + " = 0")),
               Contains(std::string("timing.") + key));
    CHECK_THAT(error_of(minimal_then(std::string("[timing]\n") + key + " = -5")),
               Contains(std::string("timing.") + key));
  }
  CHECK_THAT(error_of(minimal_then("[timing]\nreconnect_min_ms = 5000\nreconnect_max_ms = 100")),
             Contains("reconnect_min_ms") && Contains("reconnect_max_ms"));
  CHECK_THAT(error_of(minimal_then("[timing]\nresend_min_ms = 9000\nresend_max_ms = 100")),
             Contains("resend_min_ms"));
}

TEST_CASE("security.mode is curve by default, and off only with loopback or ipc endpoints", "[config][security]") {
  Result<Config> defaults = parse_config(kMinimal);
  REQUIRE(defaults.ok());
  CHECK(defaults->security_mode == "curve");
  CHECK(defaults->curve());
  for (const char* endpoint : {"tcp://127.0.0.1:7400", "tcp://localhost:7400", "tcp://[::1]:7400"}) {
    INFO(endpoint);
    Result<Config> off = parse_config(
        minimal_replacing("tcp://127.0.0.1:7400", endpoint) + "\n[security]\nmode = \"off\"\n");
    INFO((off.ok() ? "" : off.error().message));
    REQUIRE(off.ok());
    CHECK_FALSE(off->curve());
  }
  CHECK_THAT(error_of(minimal_replacing("tcp://127.0.0.1:7400", "tcp://0.0.0.0:7400") +
                      "\n[security]\nmode = \"off\"\n"),
             Contains("security.mode") && Contains("loopback"));
  CHECK_THAT(error_of(minimal_replacing("tcp://127.0.0.1:7400", "tcp://10.0.0.5:7400") +
                      "\n[security]\nmode = \"off\"\n"),
             Contains("loopback"));
  CHECK_THAT(error_of(minimal_then("[security]\nmode = \"plain\"")),
             Contains("security.mode: expected curve or off") && Contains("plain"));
  CHECK_THAT(error_of(minimal_then("[security]\nkey = \"x\"")), Contains("security.key"));
}

}  // namespace
}  // namespace closeloop

namespace closeloop {
namespace {

TEST_CASE("metrics_listen is off by default, host:port when given, refused otherwise",
          "[config][metrics]") {
  Result<Config> plain = parse_config(kMinimal);
  REQUIRE(plain.ok());
  CHECK(plain->metrics_listen.empty());
  for (std::string good : {"127.0.0.1:9464", "localhost:9464", "[::1]:9464", "0.0.0.0:1",
                           "metrics.example-county.cn:65535"}) {
    Result<Config> c = parse_config(minimal_with("metrics_listen = \"" + good + "\""));
    INFO(good);
    REQUIRE(c.ok());
    CHECK(c->metrics_listen == good);
  }
  for (std::string bad : {"127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:94x4", "tcp://127.0.0.1:9464", "[::1:9464", "a b:9464"}) {
    INFO(bad);
    std::string message = error_of(minimal_with("metrics_listen = \"" + bad + "\""));
    CHECK_THAT(message, Contains("metrics_listen: expected host:port"));
    CHECK_THAT(message, Contains("(line 1)"));
  }
  CHECK_THAT(error_of(minimal_with("metrics_listen = 9464")), Contains("metrics_listen"));
  CHECK_THAT(error_of(minimal_with("metrics_listen = \"\"")), Contains("must not be empty"));
}

TEST_CASE("[web]: defaults, every key read, and each bad value refused with its key",
          "[config][web]") {
  Result<Config> plain = parse_config(kMinimal);
  REQUIRE(plain.ok());
  CHECK(plain->web.listen == "127.0.0.1:8080");
  CHECK(plain->web.max_body_mb == 25);
  CHECK_FALSE(plain->web.secure());
  Result<Config> full = parse_config(std::string(kMinimal) + R"(
[web]
listen = "0.0.0.0:8443"
tls_cert = "/etc/closeloop/tls/证书.pem"
tls_key = "/etc/closeloop/tls/key.pem"
origin = "https://rd.example-county.cn:8443"
max_body_mb = 5
threads = 4
io_timeout_s = 30
)");
  REQUIRE(full.ok());
  CHECK(full->web.listen == "0.0.0.0:8443");
  CHECK(full->web.tls_cert == "/etc/closeloop/tls/证书.pem");
  CHECK(full->web.origin == "https://rd.example-county.cn:8443");
  CHECK(full->web.threads == 4);
  CHECK(full->web.io_timeout_s == 30);
  CHECK(full->web.secure());
  Result<Config> proxied =
      parse_config(std::string(kMinimal) + "\n[web]\nbehind_tls_proxy = true\n");
  REQUIRE(proxied.ok());
  CHECK(proxied->web.secure());
  auto web_error = [](const std::string& lines) {
    return error_of(std::string(kMinimal) + "\n[web]\n" + lines + "\n");
  };
  CHECK_THAT(web_error("listen = \"8080\""), Contains("web.listen: expected host:port"));
  CHECK_THAT(web_error("tls_cert = \"c.pem\""), Contains("give both or neither"));
  for (std::string bad : {"closeloop.example.cn", "https://a.cn/path", "ftp://a.cn",
                          "https://a.cn:0", "https://user@a.cn", "https://", "https://a b.cn",
                          "https://a:b]"}) {
    INFO(bad);
    CHECK_THAT(web_error("origin = \"" + bad + "\""), Contains("web.origin: expected http(s)"));
  }
  CHECK_THAT(web_error("max_body_mb = 0"), Contains("web.max_body_mb: must be between 1 and 1024"));
  CHECK_THAT(web_error("threads = 1000"), Contains("web.threads"));
  CHECK_THAT(web_error("io_timeout_s = \"10\""), Contains("web.io_timeout_s"));
  CHECK_THAT(web_error("port = 80"), Contains("web.port"));
  CHECK_THAT(web_error("behind_tls_proxy = 1"), Contains("web.behind_tls_proxy: expected true or false"));
  REQUIRE(parse_config(std::string(kMinimal) + "\n[web]\norigin = \"http://[::1]\"\n").ok());
}

TEST_CASE("split_host_port gives the host without brackets and the port", "[config][metrics]") {
  std::string host;
  int port = 0;
  REQUIRE(split_host_port("[::1]:9464", &host, &port));
  CHECK(host == "::1");
  CHECK(port == 9464);
  REQUIRE(split_host_port("127.0.0.1:80", &host, &port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 80);
}

}  // namespace
}  // namespace closeloop
