// main() of a worker process: `closeloop-<name> --config FILE [--log-level L]`.
// Blocks SIGINT/SIGTERM/SIGHUP into a descriptor before any thread starts, loads the
// config (exit 78 if bad), then runs a Worker with `service` until SIGTERM and its drain
// (0) or a fatal storage error (1); SIGHUP reloads. `service` must not have started threads.
#pragma once

#include <string>

#include "worker/worker.h"

namespace closeloop {

int worker_main(int argc, char** argv, const std::string& name, Service& service);

}  // namespace closeloop
