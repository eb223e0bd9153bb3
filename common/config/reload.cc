#include "config/reload.h"

#include <toml++/toml.h>

#include <algorithm>
#include <functional>

namespace closeloop {
namespace {

struct KeyRule {
  const char* key;  // as written in the file (dotted for a table's key)
  std::function<bool(const Config&, const Config&)> same;
};

template <typename Field>
KeyRule rule(const char* key, Field Config::*field) {
  return {key, [field](const Config& a, const Config& b) { return a.*field == b.*field; }};
}

// Keys that need a restart: sockets (the /metrics listener too), storage and the clock are
// set up once at start, and [timing] must agree between the broker and every worker.
const KeyRule kRestartOnly[] = {rule("endpoint", &Config::endpoint),
                                rule("backend", &Config::backend),
                                rule("data_dir", &Config::data_dir),
                                rule("sync", &Config::sync),
                                rule("shards", &Config::shards),
                                rule("max_message_bytes", &Config::max_message_bytes),
                                rule("metrics_listen", &Config::metrics_listen),
                                rule("web", &Config::web),
                                rule("cpu_scheduling", &Config::cpu_scheduling),
                                rule("timezone", &Config::timezone),
                                rule("timing", &Config::timing),
                                rule("security.mode", &Config::security_mode),
                                rule("testing.clock_file", &Config::clock_file)};

// Keys taken live.
const KeyRule kLive[] = {rule("department", &Config::departments),
                         rule("category", &Config::categories),
                         rule("route", &Config::routes),
                         rule("calendar.dir", &Config::calendar_dir),
                         rule("log_level", &Config::log_level),
                         rule("language", &Config::language),
                         rule("rules", &Config::rules),
                         rule("timer.scan_ms", &Config::timer_scan_ms),
                         rule("checkpoint_ms", &Config::checkpoint_ms),
                         rule("default_kind", &Config::default_kind),
                         rule("batch_max", &Config::batch_max),
                         rule("shutdown_grace_ms", &Config::shutdown_grace_ms),
                         rule("idem_reply_ttl_days", &Config::idem_reply_ttl_days),
                         rule("key", &Config::key),
                         rule("server_key", &Config::server_key)};

// " (line N)" of `key` in `file`, or " (not in the file: its default)".
std::string where(const std::string& file, const std::string& key) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error&) {
    return "";
  }
#else
  auto parsed = toml::parse_file(file);
  if (!parsed) return "";
  root = std::move(parsed.table());
#endif
  toml::node_view node = root.at_path(key);
  if (!node) return " (not in the file: its default)";
  auto line = node.node()->source().begin.line;
  return line ? " (line " + std::to_string(line) + ")" : "";
}

template <size_t N>
std::vector<std::string> keys_of(const KeyRule (&rules)[N]) {
  std::vector<std::string> keys;
  for (const KeyRule& r : rules) keys.emplace_back(r.key);
  return keys;
}

}  // namespace

std::vector<std::string> live_keys() { return keys_of(kLive); }
std::vector<std::string> restart_only_keys() { return keys_of(kRestartOnly); }

Result<ConfigChange> reload_change(const Config& running, const Config& next) {
  for (const KeyRule& r : kRestartOnly) {
    if (r.same(running, next)) continue;
    return Error{errc::kInvalid, next.file + ": " + r.key + where(next.file, r.key) +
                                     ": cannot change without a restart (the running value "
                                     "stays until the process restarts)"};
  }
  ConfigChange change;
  for (const KeyRule& r : kLive)
    if (!r.same(running, next)) change.changed.emplace_back(r.key);
  for (const Department& d : running.departments)
    if (!next.find_department(d.code)) change.dropped_departments.push_back(d.code);
  return change;
}

}  // namespace closeloop
