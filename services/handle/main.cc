// The handle stage worker: owns items in stage assigned.
// All of its behaviour is the lifecycle table applied by StageService.
#include <csignal>

#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "stage/stage_service.h"

int main(int argc, char** argv) {
  closeloop::SignalFd signals({SIGINT, SIGTERM});  // before any thread starts
  closeloop::Config config = closeloop::daemon_start(argc, argv, "handle");
  closeloop::StageService service("handle");
  closeloop::Worker worker(config, "handle", service);
  return worker.run(signals.fd());
}
