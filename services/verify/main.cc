// The verify stage worker: owns items in stage handled.
// All of its behaviour is the lifecycle table applied by StageService.
#include <csignal>

#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "stage/stage_service.h"

int main(int argc, char** argv) {
  closeloop::SignalFd signals({SIGINT, SIGTERM});  // before any thread starts
  closeloop::Config config = closeloop::daemon_start(argc, argv, "verify");
  closeloop::StageService service("verify");
  closeloop::Worker worker(config, "verify", service);
  return worker.run(signals.fd());
}
