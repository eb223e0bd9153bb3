// The handle stage worker: owns items in stage assigned.
// All of its behaviour is the lifecycle table applied by StageService.
#include "stage/stage_service.h"
#include "worker/worker_main.h"

int main(int argc, char** argv) {
  closeloop::StageService service("handle");
  return closeloop::worker_main(argc, argv, "handle", service);
}
