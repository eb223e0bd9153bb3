// Start-up shared by every daemon: `<program> --config FILE [--log-level LEVEL]`.
// Sets the umask (private_umask()), loads and validates the config, points logging at
// stderr (journald keeps it under systemd), raises the descriptor limit
// (raise_descriptor_limit()), warns about a data_dir open to others (data_dir_warning())
// and applies `cpu_scheduling` (call it before any thread starts). On a usage error it
// prints why and exits with 2, on a config error with 78.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace closeloop {

Config daemon_start(int argc, char** argv, const std::string& name);

// umask 027, first thing, before the process makes any file: LevelDB makes its files with
// the process's umask, so data_dir, every store and their files are 0750 and 0640 whatever
// the caller's umask was (a shell's is often 022). Files that must be narrower set their
// own modes (key files 0600, a .pub 0644, dumps 0600). daemon_start() calls it; closeloopd
// and the CLI, which have their own main, call it themselves.
void private_umask();

// Raises the soft RLIMIT_NOFILE to the hard one (under systemd the soft limit is 1,024
// unless the unit says otherwise; the units set LimitNOFILE=65536): the broker holds a
// descriptor per connection, and one that runs out cannot accept anyone (docs/operations.md,
// "Descriptors and handshakes"). The soft limit it has now, or why it could not.
Result<uint64_t> raise_descriptor_limit();

// Why `data_dir` as it is now lets other local users in: "" when it does not (or does not
// exist yet, and will be made 0750), else the warning, naming the mode and the fix. Only
// the data dir is looked at: whatever lies inside is out of reach of those who cannot enter
// it. Every process logs it at start (daemon_start()); each worker shows it in `status`.
std::string data_dir_warning(const std::string& data_dir);

// The same logging set-up, for programs with their own arguments.
// stderr, lines stamped with the time in `timezone` (the config's) and its offset.
void setup_logging(const std::string& name, const std::string& level, const std::string& timezone);

}  // namespace closeloop
