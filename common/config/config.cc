// Reads closeloop.toml with toml++ and validates it key by key. Every problem becomes
// Error{errc::kInvalid, "<file>: <key>: <what> (line N)"}, a message for people (its msgid
// has {file}, {key} and, where the file says, {line}); the first problem wins.
#include "config/config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string_view>

#include "calendar/clock.h"
#include "i18n/words.h"
#include "workflow/kinds.h"

namespace closeloop {
namespace {

// What is wrong with the file, or nothing: parse_config() puts the file's name in.
using Problem = std::optional<Error>;
using Keys = std::initializer_list<std::string_view>;

const Keys kTopKeys = {"endpoint",
                       "backend",
                       "data_dir",
                       "department",
                       "category",
                       "route",
                       "timing",
                       "sync",
                       "shards",
                       "batch_max",
                       "max_message_bytes",
                       "log_level",
                       "cpu_scheduling",
                       "timezone",
                       "language",
                       "default_kind",
                       "calendar",
                       "timer",
                       "rules",
                       "testing",
                       "security",
                       "key",
                       "server_key",
                       "checkpoint_ms",
                       "shutdown_grace_ms",
                       "metrics_listen",
                       "web",
                       "idem_reply_ttl_days"};
const Keys kTimingKeys = {"heartbeat_ms",       "liveness",          "reconnect_min_ms",
                          "reconnect_max_ms",   "resend_min_ms",     "resend_max_ms",
                          "request_timeout_ms", "handshake_timeout_ms"};
const Keys kLogLevels = {"trace", "debug", "info", "warn", "error"};
const Keys kCpuSchedulings = {"batch", "normal"};
const Keys kSecurityModes = {"curve", "off"};
constexpr int64_t kMaxMs = 3'600'000;  // one hour: any timing above is surely a typo
constexpr int64_t kMaxCheckpointMs = 86'400'000;  // a day: an auditor's checkpoints may be rare
constexpr int64_t kMaxShutdownGraceMs = 600'000;  // ten minutes: a stop must end
constexpr int64_t kMaxIdemReplyTtlDays = 3650;    // ten years: longer is keeping them forever

// A value's type, as the argument {type} (named in the catalog's vocabulary "type").
const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return NC_("type", "a table");
    case toml::node_type::array:
      return NC_("type", "an array");
    case toml::node_type::string:
      return NC_("type", "a string");
    case toml::node_type::integer:
      return NC_("type", "an integer");
    case toml::node_type::floating_point:
      return NC_("type", "a float");
    case toml::node_type::boolean:
      return NC_("type", "a boolean");
    default:
      return NC_("type", "a date/time");
  }
}

// A problem of `key`; `msgid` has {file} and {key} and the arguments' placeholders.
Problem problem(std::string_view msgid, const std::string& key, MessageArgs args = {}) {
  args.insert(args.begin(), {"key", key});
  return Error::of(errc::kInvalid, msgid, std::move(args));
}

// A problem of `key` at the line of `n`: `msgid` ends in "(line {line})".
Problem problem_at(std::string_view msgid, const std::string& key, const toml::node& n,
                   MessageArgs args = {}) {
  args.emplace_back("line", std::to_string(n.source().begin.line));
  return problem(msgid, key, std::move(args));
}

// `msgid` names what was expected and has {type}, what the file has.
Problem wrong_type(const std::string& name, const toml::node& n, std::string_view msgid) {
  return problem_at(msgid, name, n, {{"type", type_name(n.type())}});
}

constexpr std::string_view kExpectedInteger =
    N_("{file}: {key}: expected an integer, got {type} (line {line})");

bool contains(Keys keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Typo protection: a misspelt key would otherwise be silently ignored.
Problem check_keys(const toml::table& t, const std::string& prefix, Keys known) {
  for (auto&& [key, node] : t) {
    if (!contains(known, key.str()))
      return problem_at(N_("{file}: unknown key '{key}' (line {line})"),
                        prefix + std::string(key.str()), node);
  }
  return {};
}

// Reads t[key] into *out if present; `name` is the key's full name for messages.
Problem read_string(const toml::table& t, std::string_view key, const std::string& name,
                    std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  const auto* s = n->as_string();
  if (!s) return wrong_type(name, *n, N_("{file}: {key}: expected a string, got {type} (line {line})"));
  if (s->get().empty()) return problem_at(N_("{file}: {key}: must not be empty (line {line})"), name, *n);
  *out = s->get();
  return {};
}

Problem read_required_string(const toml::table& t, std::string_view key, const std::string& name,
                             std::string* out) {
  if (!t.get(key)) return problem(N_("{file}: {key}: missing"), name);
  return read_string(t, key, name, out);
}

template <typename Int>
Problem read_int(const toml::table& t, std::string_view key, const std::string& name, int64_t lo,
                 int64_t hi, Int* out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  const auto* i = n->as_integer();
  if (!i) return wrong_type(name, *n, kExpectedInteger);
  int64_t v = i->get();
  if (v < lo || v > hi) {
    return problem_at(N_("{file}: {key}: must be between {min} and {max}, got {value} (line {line})"),
                      name, *n,
                      {{"min", std::to_string(lo)},
                       {"max", std::to_string(hi)},
                       {"value", std::to_string(v)}});
  }
  *out = static_cast<Int>(v);
  return {};
}

Problem read_bool(const toml::table& t, std::string_view key, const std::string& name, bool* out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  const auto* b = n->as_boolean();
  if (!b)
    return wrong_type(name, *n,
                      N_("{file}: {key}: expected true or false, got {type} (line {line})"));
  *out = b->get();
  return {};
}

// Splits "tcp://host:port"; false unless it has that shape with a port in 1..65535.
bool split_tcp(std::string_view ep, std::string* host, int* port) {
  if (!ep.starts_with("tcp://")) return false;
  ep.remove_prefix(6);
  size_t colon = ep.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == ep.size()) return false;
  std::string_view digits = ep.substr(colon + 1);
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), digit)) return false;
  *port = std::stoi(std::string(digits));
  *host = std::string(ep.substr(0, colon));
  return *port >= 1 && *port <= 65535;
}

Problem check_listen(const std::string& name, const std::string& listen) {
  std::string host;
  int port = 0;
  if (split_host_port(listen, &host, &port)) return {};
  return problem(N_("{file}: {key}: expected host:port (e.g. \"127.0.0.1:9464\"; port 1-65535), got "
                    "'{value}'"),
                 name, {{"value", listen}});
}

Problem check_endpoint(const std::string& name, const std::string& ep) {
  std::string host;
  int port = 0;
  if (ep.starts_with("ipc://") && ep.size() > 6) return {};
  if (split_tcp(ep, &host, &port)) return {};
  return problem(N_("{file}: {key}: expected tcp://host:port (port 1-65535) or ipc://path, got "
                    "'{value}'"),
                 name, {{"value", ep}});
}

Problem read_endpoints(const toml::table& root, Config* c) {
  if (auto p = read_required_string(root, "endpoint", "endpoint", &c->endpoint)) return p;
  if (auto p = check_endpoint("endpoint", c->endpoint)) return p;
  if (root.get("backend")) {
    if (auto p = read_string(root, "backend", "backend", &c->backend)) return p;
    if (auto p = check_endpoint("backend", c->backend)) return p;
    if (c->backend == c->endpoint)
      return problem(N_("{file}: {key}: must differ from endpoint"), "backend");
    return {};
  }
  std::string host;
  int port = 0;
  if (!split_tcp(c->endpoint, &host, &port))
    return problem(N_("{file}: {key}: required when endpoint is not tcp:// (cannot derive it from "
                      "'{value}')"),
                   "backend", {{"value", c->endpoint}});
  if (port == 65535)
    return problem(N_("{file}: {key}: cannot derive port 65536 from endpoint; set backend"),
                   "backend");
  c->backend = "tcp://" + host + ":" + std::to_string(port + 1);
  return {};
}

Problem read_scalars(const toml::table& root, Config* c) {
  if (auto p = read_endpoints(root, c)) return p;
  if (auto p = read_required_string(root, "data_dir", "data_dir", &c->data_dir)) return p;
  if (auto p = read_bool(root, "sync", "sync", &c->sync)) return p;
  if (auto p = read_int(root, "max_message_bytes", "max_message_bytes", 1024, 64 << 20,
                        &c->max_message_bytes))
    return p;
  if (auto p = read_int(root, "batch_max", "batch_max", 1, 65536, &c->batch_max)) return p;
  if (auto p = read_int(root, "checkpoint_ms", "checkpoint_ms", 10, kMaxCheckpointMs,
                        &c->checkpoint_ms))
    return p;
  if (auto p = read_int(root, "shutdown_grace_ms", "shutdown_grace_ms", 0, kMaxShutdownGraceMs,
                        &c->shutdown_grace_ms))
    return p;
  if (auto p = read_int(root, "idem_reply_ttl_days", "idem_reply_ttl_days", 1, kMaxIdemReplyTtlDays,
                        &c->idem_reply_ttl_days))
    return p;
  if (auto p = read_string(root, "metrics_listen", "metrics_listen", &c->metrics_listen)) return p;
  if (!c->metrics_listen.empty())
    if (auto p = check_listen("metrics_listen", c->metrics_listen))
      return problem_at(N_("{file}: {key}: expected host:port (e.g. \"127.0.0.1:9464\"; port "
                           "1-65535), got '{value}' (line {line})"),
                        "metrics_listen", *root.get("metrics_listen"),
                        {{"value", c->metrics_listen}});
  if (const toml::node* n = root.get("shards")) {
    if (!n->is_integer()) return wrong_type("shards", *n, kExpectedInteger);
    if (n->as_integer()->get() != 1)
      return problem_at(N_("{file}: {key}: only 1 shard per stage is supported for now (line "
                           "{line})"),
                        "shards", *n);
  }
  if (auto p = read_string(root, "log_level", "log_level", &c->log_level)) return p;
  if (!contains(kLogLevels, c->log_level))
    return problem(N_("{file}: {key}: expected trace, debug, info, warn or error, got '{value}'"),
                   "log_level", {{"value", c->log_level}});
  if (auto p = read_string(root, "cpu_scheduling", "cpu_scheduling", &c->cpu_scheduling)) return p;
  if (!contains(kCpuSchedulings, c->cpu_scheduling))
    return problem(N_("{file}: {key}: expected batch or normal, got '{value}'"), "cpu_scheduling",
                   {{"value", c->cpu_scheduling}});
  if (auto p = read_string(root, "timezone", "timezone", &c->timezone)) return p;
  if (!known_timezone(c->timezone))
    return problem(N_("{file}: {key}: '{value}' is not a time zone of this system's tz database "
                      "(e.g. Asia/Shanghai; see /usr/share/zoneinfo)"),
                   "timezone", {{"value", c->timezone}});
  if (auto p = read_string(root, "language", "language", &c->language)) return p;
  if (c->language != "zh" && c->language != "en")
    return problem(N_("{file}: {key}: expected zh or en, got '{value}'"), "language",
                   {{"value", c->language}});
  if (auto p = read_string(root, "key", "key", &c->key)) return p;
  if (auto p = read_string(root, "server_key", "server_key", &c->server_key)) return p;
  if (!c->server_key.empty() && c->server_key.size() != 40)
    return problem(N_("{file}: {key}: expected the service's public key, 40 characters of Z85"),
                   "server_key");
  if (auto p = read_string(root, "default_kind", "default_kind", &c->default_kind)) return p;
  if (!find_kind(c->default_kind) || find_kind(c->default_kind)->code != c->default_kind)
    return problem(N_("{file}: {key}: expected suggestion, station, audit, project or "
                      "legislative, got '{value}'"),
                   "default_kind", {{"value", c->default_kind}});
  return {};
}

// A table key holding a sub-table with only `keys`; nullptr (and no problem) if absent.
Problem sub_table(const toml::table& root, const std::string& key, Keys keys,
                  const toml::table** out) {
  *out = nullptr;
  const toml::node* n = root.get(key);
  if (!n) return {};
  *out = n->as_table();
  if (!*out)
    return wrong_type(key, *n, N_("{file}: {key}: expected a table [{key}], got {type} (line {line})"));
  return check_keys(**out, key + ".", keys);
}

// True for an endpoint only this host can reach: ipc://, or tcp:// on a loopback address.
bool local_only(const std::string& ep) {
  std::string host;
  int port = 0;
  if (ep.starts_with("ipc://")) return true;
  if (!split_tcp(ep, &host, &port)) return false;
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

Problem read_security(const toml::table& root, Config* c) {
  const toml::table* t = nullptr;
  if (auto p = sub_table(root, "security", {"mode"}, &t)) return p;
  if (!t) return {};
  if (auto p = read_string(*t, "mode", "security.mode", &c->security_mode)) return p;
  if (!contains(kSecurityModes, c->security_mode))
    return problem(N_("{file}: {key}: expected curve or off, got '{value}'"), "security.mode",
                   {{"value", c->security_mode}});
  if (c->security_mode == "off" && !(local_only(c->endpoint) && local_only(c->backend)))
    return problem(N_("{file}: {key}: \"off\" is accepted only when endpoint and backend are "
                      "loopback (127.x, localhost, [::1]) or ipc:// endpoints"),
                   "security.mode");
  return {};
}

// "http(s)://host[:port]" and nothing after it: a browser's Origin header has that form.
// The host is checked as split_host_port checks one, with or without its port.
bool valid_origin(std::string_view origin) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (!origin.starts_with(scheme)) continue;
    std::string rest(origin.substr(scheme.size())), host;
    int port = 0;
    if (rest.find_first_of("/?#@") != std::string::npos) return false;
    return split_host_port(rest, &host, &port) || split_host_port(rest + ":1", &host, &port);
  }
  return false;
}

Problem read_web(const toml::table& root, Web* w) {
  const toml::table* t = nullptr;
  if (auto p = sub_table(root, "web",
                         {"listen", "tls_cert", "tls_key", "behind_tls_proxy", "origin",
                          "max_body_mb", "threads", "io_timeout_s"},
                         &t))
    return p;
  if (!t) return {};
  if (auto p = read_string(*t, "listen", "web.listen", &w->listen)) return p;
  if (auto p = check_listen("web.listen", w->listen)) return p;
  if (auto p = read_string(*t, "tls_cert", "web.tls_cert", &w->tls_cert)) return p;
  if (auto p = read_string(*t, "tls_key", "web.tls_key", &w->tls_key)) return p;
  if (w->tls_cert.empty() != w->tls_key.empty())
    return problem(N_("{file}: {key}: tls_cert and tls_key go together: give both or neither"),
                   "web.tls_cert");
  if (auto p = read_bool(*t, "behind_tls_proxy", "web.behind_tls_proxy", &w->behind_tls_proxy)) return p;
  if (auto p = read_string(*t, "origin", "web.origin", &w->origin)) return p;
  if (!w->origin.empty() && !valid_origin(w->origin))
    return problem(N_("{file}: {key}: expected http(s)://host[:port] with nothing after it, got "
                      "'{value}'"),
                   "web.origin", {{"value", w->origin}});
  if (auto p = read_int(*t, "max_body_mb", "web.max_body_mb", 1, 1024, &w->max_body_mb)) return p;
  if (auto p = read_int(*t, "threads", "web.threads", 1, 256, &w->threads)) return p;
  return read_int(*t, "io_timeout_s", "web.io_timeout_s", 1, 3600, &w->io_timeout_s);
}

Problem read_sections(const toml::table& root, Config* c) {
  const toml::table* t = nullptr;
  if (auto p = read_web(root, &c->web)) return p;
  if (auto p = sub_table(root, "calendar", {"dir"}, &t)) return p;
  if (t) {
    if (auto p = read_string(*t, "dir", "calendar.dir", &c->calendar_dir)) return p;
  }
  if (auto p = sub_table(root, "timer", {"scan_ms"}, &t)) return p;
  if (t) {
    if (auto p = read_int(*t, "scan_ms", "timer.scan_ms", 10, kMaxMs, &c->timer_scan_ms)) return p;
  }
  if (auto p = sub_table(root, "testing", {"clock_file"}, &t)) return p;
  if (t) {
    if (auto p = read_string(*t, "clock_file", "testing.clock_file", &c->clock_file)) return p;
  }
  return read_security(root, c);
}

Problem read_rules(const toml::table& root, Rules* r) {
  struct Field {
    const char* key;
    int* value;
    int64_t min, max;
  };
  const Field fields[] = {{"suggestion_months", &r->suggestion_months, 1, 24},
                          {"suggestion_complex_months", &r->suggestion_complex_months, 1, 24},
                          {"station_working_days", &r->station_working_days, 1, 250},
                          {"assign_working_days", &r->assign_working_days, 1, 250},
                          {"return_working_days", &r->return_working_days, 1, 250},
                          {"sign_working_days", &r->sign_working_days, 1, 250},
                          {"opinion_months", &r->opinion_months, 1, 24},
                          {"rework_months", &r->rework_months, 1, 24},
                          {"reopen_months", &r->reopen_months, 1, 24},
                          {"extension_max_months", &r->extension_max_months, 0, 24},
                          {"max_returns", &r->max_returns, 0, 100},
                          {"remind_working_days", &r->remind_working_days, 0, 250},
                          {"escalate_working_days", &r->escalate_working_days, 1, 250}};
  const toml::node* n = root.get("rules");
  if (!n) return {};
  const toml::table* t = n->as_table();
  if (!t)
    return wrong_type("rules", *n, N_("{file}: {key}: expected a table [{key}], got {type} (line {line})"));
  for (auto&& [key, node] : *t) {
    std::string_view name = key.str();
    auto known = [name](const Field& f) { return name == f.key; };
    if (std::none_of(std::begin(fields), std::end(fields), known))
      return problem_at(N_("{file}: unknown key '{key}' (line {line})"),
                        "rules." + std::string(name), node);
  }
  for (const Field& f : fields) {
    if (auto p = read_int(*t, f.key, std::string("rules.") + f.key, f.min, f.max, f.value)) return p;
  }
  return {};
}

Problem read_timing(const toml::table& root, Timing* t) {
  const toml::node* n = root.get("timing");
  if (!n) return {};
  const toml::table* tt = n->as_table();
  if (!tt)
    return wrong_type("timing", *n, N_("{file}: {key}: expected a table [{key}], got {type} (line {line})"));
  if (auto p = check_keys(*tt, "timing.", kTimingKeys)) return p;
  struct Field {
    const char* key;
    int* value;
    int64_t max;
  };
  const Field fields[] = {{"heartbeat_ms", &t->heartbeat_ms, kMaxMs},
                          {"liveness", &t->liveness, 100},
                          {"reconnect_min_ms", &t->reconnect_min_ms, kMaxMs},
                          {"reconnect_max_ms", &t->reconnect_max_ms, kMaxMs},
                          {"resend_min_ms", &t->resend_min_ms, kMaxMs},
                          {"resend_max_ms", &t->resend_max_ms, kMaxMs},
                          {"request_timeout_ms", &t->request_timeout_ms, kMaxMs},
                          {"handshake_timeout_ms", &t->handshake_timeout_ms, kMaxMs}};
  for (const Field& f : fields) {
    if (auto p = read_int(*tt, f.key, std::string("timing.") + f.key, 1, f.max, f.value)) return p;
  }
  if (t->reconnect_min_ms > t->reconnect_max_ms)
    return problem(N_("{file}: {key}: must not exceed {other}"), "timing.reconnect_min_ms",
                   {{"other", "timing.reconnect_max_ms"}});
  if (t->resend_min_ms > t->resend_max_ms)
    return problem(N_("{file}: {key}: must not exceed {other}"), "timing.resend_min_ms",
                   {{"other", "timing.resend_max_ms"}});
  return {};
}

bool valid_code(std::string_view s) {
  auto ok = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  };
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), ok);
}

Problem read_code(const toml::table& t, const std::string& name, std::string* code) {
  if (auto p = read_required_string(t, "code", name + ".code", code)) return p;
  if (!valid_code(*code))
    return problem_at(N_("{file}: {key}: '{value}' must be 1-32 characters of a-z, 0-9 and - (line "
                         "{line})"),
                      name + ".code", t, {{"value", *code}});
  return {};
}

// Calls fn(table, "key[i]") for each table of the array of tables root[key].
template <typename Fn>
Problem for_each_table(const toml::table& root, const std::string& key, Fn fn) {
  const toml::node* n = root.get(key);
  if (!n) return {};
  const toml::array* a = n->as_array();
  if (!a)
    return wrong_type(key, *n,
                      N_("{file}: {key}: expected an array of tables [[{key}]], got {type} (line "
                         "{line})"));
  for (size_t i = 0; i < a->size(); ++i) {
    std::string name = key + "[" + std::to_string(i) + "]";
    const toml::table* t = (*a)[i].as_table();
    if (!t)
      return wrong_type(name, (*a)[i], N_("{file}: {key}: expected a table, got {type} (line {line})"));
    if (auto p = check_keys(*t, name + ".", Fn::kKeys)) return p;
    if (auto p = fn(*t, name)) return p;
  }
  return {};
}

struct ReadDepartment {
  Config* c;
  static inline const Keys kKeys = {"code", "name"};
  Problem operator()(const toml::table& t, const std::string& name) const {
    Department d;
    if (auto p = read_code(t, name, &d.code)) return p;
    if (auto p = read_required_string(t, "name", name + ".name", &d.name)) return p;
    if (c->find_department(d.code))
      return problem_at(N_("{file}: {key}: duplicate department code '{value}' (line {line})"),
                        name + ".code", t, {{"value", d.code}});
    c->departments.push_back(std::move(d));
    return {};
  }
};

struct ReadCategory {
  Config* c;
  static inline const Keys kKeys = {"code", "name"};
  Problem operator()(const toml::table& t, const std::string& name) const {
    Category k;
    if (auto p = read_code(t, name, &k.code)) return p;
    if (auto p = read_required_string(t, "name", name + ".name", &k.name)) return p;
    auto same = [&](const Category& other) { return other.code == k.code; };
    if (std::any_of(c->categories.begin(), c->categories.end(), same))
      return problem_at(N_("{file}: {key}: duplicate category code '{value}' (line {line})"),
                        name + ".code", t, {{"value", k.code}});
    c->categories.push_back(std::move(k));
    return {};
  }
};

struct ReadRoute {
  Config* c;
  static inline const Keys kKeys = {"category", "department"};
  Problem operator()(const toml::table& t, const std::string& name) const {
    Route r;
    if (auto p = read_required_string(t, "category", name + ".category", &r.category)) return p;
    if (auto p = read_required_string(t, "department", name + ".department", &r.department))
      return p;
    if (!c->find_department(r.department))
      return problem_at(N_("{file}: {key}: unknown department '{value}' (line {line})"),
                        name + ".department", t, {{"value", r.department}});
    if (!c->known_category(r.category))
      return problem_at(N_("{file}: {key}: '{value}' is not a [[category]] (line {line})"),
                        name + ".category", t, {{"value", r.category}});
    if (c->find_route(r.category))
      return problem_at(N_("{file}: {key}: category '{value}' is already routed (line {line})"),
                        name + ".category", t, {{"value", r.category}});
    c->routes.push_back(std::move(r));
    return {};
  }
};

Problem read_lists(const toml::table& root, Config* c) {
  if (auto p = for_each_table(root, "department", ReadDepartment{c})) return p;
  if (c->departments.empty())
    return problem(N_("{file}: {key}: at least one [[department]] is needed"), "department");
  if (auto p = for_each_table(root, "category", ReadCategory{c})) return p;
  return for_each_table(root, "route", ReadRoute{c});
}

// The paths the file names, as written (calendar.dir left out: written empty); load_config
// resolves them.
void list_paths(const toml::table& root, Config* c) {
  const toml::node* calendar = root.at_path("calendar.dir").node();
  c->paths = {{"data_dir", c->data_dir, c->data_dir, ""},
              {"calendar.dir", calendar ? c->calendar_dir : "", c->calendar_dir, ""}};
  if (!c->key.empty()) c->paths.push_back({"key", c->key, c->key, ""});
  if (!c->clock_file.empty())
    c->paths.push_back({"testing.clock_file", c->clock_file, c->clock_file, ""});
}

Problem read_all(const toml::table& root, Config* c) {
  if (auto p = check_keys(root, "", kTopKeys)) return p;
  if (auto p = read_scalars(root, c)) return p;
  if (auto p = read_timing(root, &c->timing)) return p;
  if (auto p = read_sections(root, c)) return p;
  if (auto p = read_rules(root, &c->rules)) return p;
  if (auto p = read_lists(root, c)) return p;
  list_paths(root, c);
  return {};
}

namespace fs = std::filesystem;

// Where calendar.dir pointed by default before issue 17: config/calendar, from the
// working directory.
constexpr const char* kEarlierCalendarDir = "config/calendar";

// `path` taken from `folder` when relative, without a trailing separator.
std::string resolved_from(const fs::path& folder, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  fs::path out = (folder / path).lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out.string();
}

std::string* path_field(Config* c, const std::string& key) {
  if (key == "data_dir") return &c->data_dir;
  if (key == "calendar.dir") return &c->calendar_dir;
  if (key == "key") return &c->key;
  return &c->clock_file;
}

// Every relative path of the file taken from the file's folder; `before` as a process
// started in the working directory used to take it.
void resolve_paths(const std::string& file, Config* c) {
  std::error_code ec, cwd_ec;
  fs::path folder = fs::absolute(file, ec).parent_path();
  fs::path cwd = fs::current_path(cwd_ec);
  if (ec) return;
  for (NamedPath& p : c->paths) {
    std::string as_written = p.written.empty() ? kEarlierCalendarDir : p.written;
    p.resolved = resolved_from(folder, p.resolved);
    if (!cwd_ec && !fs::path(as_written).is_absolute()) p.before = resolved_from(cwd, as_written);
    *path_field(c, p.key) = p.resolved;
  }
  for (std::string* endpoint : {&c->endpoint, &c->backend}) {
    bool relative_ipc = endpoint->starts_with("ipc://") && endpoint->size() > 6 &&
                        std::string_view("/@*").find((*endpoint)[6]) == std::string_view::npos;
    if (relative_ipc) *endpoint = "ipc://" + resolved_from(folder, endpoint->substr(6));
  }
  // Keys newer than issue 17: no earlier resolution to compare with.
  for (std::string* pem : {&c->web.tls_cert, &c->web.tls_key}) *pem = resolved_from(folder, *pem);
}

Problem parse_toml(std::string_view text, const std::string& origin, toml::table* out) {
  auto describe = [](const toml::parse_error& e) {  // toml++ says what it found in English
    return Error::of(errc::kInvalid, N_("{file}: line {line}, column {column}: {reason}"),
                     {{"line", std::to_string(e.source().begin.line)},
                      {"column", std::to_string(e.source().begin.column)},
                      {"reason", std::string(e.description())}});
  };
#if TOML_EXCEPTIONS
  try {
    *out = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return describe(e);
  }
#else
  toml::parse_result result = toml::parse(text, origin);
  if (!result) return describe(result.error());
  *out = std::move(result.table());
#endif
  return {};
}

}  // namespace

std::vector<std::string> top_level_keys() { return {kTopKeys.begin(), kTopKeys.end()}; }

bool split_host_port(std::string_view listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view name = listen.substr(0, colon), digits = listen.substr(colon + 1);
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), digit))
    return false;
  *port = std::stoi(std::string(digits));
  if (*port < 1 || *port > 65535) return false;
  if (name.starts_with('[') && name.ends_with(']') && name.size() > 2) {
    name = name.substr(1, name.size() - 2);
    auto v6 = [](char ch) {
      return std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.';
    };
    if (!std::all_of(name.begin(), name.end(), v6)) return false;
  } else {
    auto v4_or_name = [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-';
    };
    if (!std::all_of(name.begin(), name.end(), v4_or_name)) return false;
  }
  *host = std::string(name);
  return true;
}

const Department* Config::find_department(std::string_view code) const {
  for (const Department& d : departments) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

const Route* Config::find_route(std::string_view category) const {
  for (const Route& r : routes) {
    if (r.category == category) return &r;
  }
  return nullptr;
}

bool Config::known_category(std::string_view code) const {
  if (categories.empty()) return true;
  return std::any_of(categories.begin(), categories.end(),
                     [&](const Category& k) { return k.code == code; });
}

Result<Config> parse_config(std::string_view toml_text, const std::string& origin) {
  toml::table root;
  Config c;
  Problem p = parse_toml(toml_text, origin, &root);
  if (!p) p = read_all(root, &c);
  if (!p) return c;
  p->args.insert(p->args.begin(), {"file", origin});
  p->message = format_message(p->msgid, p->args);
  return *p;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::of(errc::kInvalid, N_("{file}: cannot open config file: {reason}"),
                     {{"file", path}, {"reason", std::strerror(errno)}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return Error::of(errc::kInvalid, N_("{file}: cannot read config file"), {{"file", path}});
  auto config = parse_config(text.str(), path);
  if (!config) return config;
  config->file = path;
  resolve_paths(path, &*config);
  return config;
}

}  // namespace closeloop
