// closeloop-verify, in two roles told apart by their arguments:
//   closeloop-verify --config FILE   the verify stage worker: owns items in stage handled
//                                    (all of its behaviour is the verbs' rules, applied
//                                    by StageService); how closeloopd and systemd run it;
//   closeloop-verify BUNDLE.json [--checkpoint OLD.json]
//                                    the offline checker of an evidence bundle (bundle.cc):
//                                    exit 0 and a summary, 5 naming the first bad item and
//                                    seq (or the checkpoint), 2 for a file that is not a bundle.
// One name for both because the bundle checker's name is the interface auditors use
// (issue 3) and the stage worker's is what ops and the units know.
#include <cstring>

#include "stage/stage_service.h"
#include "worker/worker_main.h"

namespace closeloop {
int check_bundle_main(int argc, char** argv);  // bundle.cc
}

int main(int argc, char** argv) {
  bool worker = false;
  for (int i = 1; i < argc; ++i)
    worker |= std::strcmp(argv[i], "--config") == 0 || std::strncmp(argv[i], "--config=", 9) == 0;
  if (!worker) return closeloop::check_bundle_main(argc, argv);
  closeloop::StageService service("verify");
  return closeloop::worker_main(argc, argv, "verify", service);
}
