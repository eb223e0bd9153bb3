#include "worker/worker_main.h"

#include <csignal>

#include "daemon/daemon.h"
#include "daemon/signals.h"

namespace closeloop {

int worker_main(int argc, char** argv, const std::string& name, Service& service) {
  SignalFd signals({SIGINT, SIGTERM, SIGHUP});
  Config config = daemon_start(argc, argv, name);
  Worker worker(config, name, service);
  worker.warn_in_status(data_dir_warning(config.data_dir));  // daemon_start() logged it
  return worker.run(signals);
}

}  // namespace closeloop
