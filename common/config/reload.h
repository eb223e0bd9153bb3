// What a reload (SIGHUP) may change in a running process, decided in this one place.
//
// A process reloads by loading its --config file again with load_config() (the whole file
// validated as at start) and comparing it with the config it runs:
// - live (taken at once, between two loop turns): [[department]], [[category]], [[route]],
//   [calendar] dir and the files in it, log_level, [rules], [timer] scan_ms, checkpoint_ms,
//   default_kind, batch_max, shutdown_grace_ms (and key/server_key, which only the CLI reads);
// - restart only (kRestartOnly in reload.cc): endpoint, backend, data_dir, sync, shards,
//   max_message_bytes, metrics_listen (the broker's HTTP listener is made at start), [web]
//   (the gateway's listener and limits), cpu_scheduling, timezone, [timing] (all of it,
//   handshake_timeout_ms too: the broker's sockets take it when made), [security] mode,
//   [testing] clock_file. A reload that
//   changes one of them is refused as a whole.
// A key added to Config must be added to one of the two lists (reload.cc), and to the table
// of docs/operations.md, "Reloading" (tests/config/reload_test.cc checks both).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace closeloop {

struct ConfigChange {
  std::vector<std::string> changed;              // the live keys that differ, e.g. "route"
  std::vector<std::string> dropped_departments;  // codes running that `next` no longer has
  bool empty() const { return changed.empty(); }
};

// How `next` differs from `running`, or an error naming the first restart-only key that
// differs, with its line in next.file ("data_dir (line 3): cannot change without a restart …").
Result<ConfigChange> reload_change(const Config& running, const Config& next);

// The keys of the two lists, as reload_change() names them ("calendar.dir", "timing").
std::vector<std::string> live_keys();
std::vector<std::string> restart_only_keys();

}  // namespace closeloop
