// The verify stage worker: owns items in stage handled.
// All of its behaviour is the lifecycle table applied by StageService.
#include "stage/stage_service.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  closeloop::StageService service("verify");
  return closeloop::worker_main(argc, argv, "verify", service);
}
