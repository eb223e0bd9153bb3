// Start-up shared by every daemon: `<program> --config FILE [--log-level LEVEL]`.
// Loads and validates the config, points logging at stderr (journald keeps it under
// systemd) and applies `cpu_scheduling` (call it before any thread starts). On a
// usage or config error it prints why and exits with 2.
#pragma once

#include <string>

#include "config/config.h"

namespace closeloop {

Config daemon_start(int argc, char** argv, const std::string& name);

// The same logging set-up, for programs with their own arguments.
void setup_logging(const std::string& name, const std::string& level);

}  // namespace closeloop
