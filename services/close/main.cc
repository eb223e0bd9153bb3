// The close stage worker: owns items in stage verified (and keeps closed ones).
// All of its behaviour is the lifecycle table applied by StageService.
#include "stage/stage_service.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  closeloop::StageService service("close");
  return closeloop::worker_main(argc, argv, "close", service);
}
