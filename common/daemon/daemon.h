// Start-up shared by every daemon: `<program> --config FILE [--log-level LEVEL]`.
// Loads and validates the config, points logging at stderr (journald keeps it under
// systemd), raises the descriptor limit (raise_descriptor_limit()) and applies
// `cpu_scheduling` (call it before any thread starts). On a usage error it prints why and
// exits with 2, on a config error with 78.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace closeloop {

Config daemon_start(int argc, char** argv, const std::string& name);

// Raises the soft RLIMIT_NOFILE to the hard one (under systemd the soft limit is 1,024
// unless the unit says otherwise; the units set LimitNOFILE=65536): the broker holds a
// descriptor per connection, and one that runs out cannot accept anyone (docs/operations.md,
// "Descriptors and handshakes"). The soft limit it has now, or why it could not.
Result<uint64_t> raise_descriptor_limit();

// The same logging set-up, for programs with their own arguments.
void setup_logging(const std::string& name, const std::string& level);

}  // namespace closeloop
