// main() of a worker process: `closeloop-<name> --config FILE [--log-level L]`.
// Blocks SIGINT/SIGTERM into a descriptor before any thread starts, loads the config
// (exit 2 if bad), then runs a Worker with `service` until a signal (0) or a fatal
// storage error (1). `service` must not have started threads.
#pragma once

#include <string>

#include "worker/worker.h"

namespace closeloop {

int worker_main(int argc, char** argv, const std::string& name, Service& service);

}  // namespace closeloop
