// The close stage worker: owns items in stage verified (and keeps closed ones).
// All of its behaviour is the lifecycle table applied by StageService.
#include <csignal>

#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "stage/stage_service.h"

int main(int argc, char** argv) {
  closeloop::SignalFd signals({SIGINT, SIGTERM});  // before any thread starts
  closeloop::Config config = closeloop::daemon_start(argc, argv, "close");
  closeloop::StageService service("close");
  closeloop::Worker worker(config, "close", service);
  return worker.run(signals.fd());
}
