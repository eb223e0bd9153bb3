// closeloop-verify BUNDLE.json: checks an evidence bundle offline, with no service and
// no config: every event's hash recomputed from the file, every link, every item's head.
//   exit 0  "bundle FILE verifies: N items, M events"
//   exit 5  "bundle FILE FAILS: item ID at seq K: <what>" (the first bad one)
//   exit 2  usage, a file that cannot be read, or is not a bundle
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "workflow/bundle.h"

namespace closeloop {

int check_bundle_main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: closeloop-verify BUNDLE.json   check an evidence bundle offline\n"
                 "       closeloop-verify --config FILE   run the verify stage worker\n");
    return argc == 2 ? 0 : 2;
  }
  std::string path = argv[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "closeloop-verify: cannot read %s\n", path.c_str());
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  wire::Json bundle = wire::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded()) {
    std::fprintf(stderr, "closeloop-verify: %s is not JSON\n", path.c_str());
    return 2;
  }
  auto check = check_bundle(bundle);
  if (!check) {
    std::fprintf(stderr, "closeloop-verify: %s: %s\n", path.c_str(), check.error().message.c_str());
    return 2;
  }
  if (!check->bad_item.empty()) {
    std::fprintf(stderr, "bundle %s FAILS: item %s at seq %llu: %s\n", path.c_str(),
                 check->bad_item.c_str(), static_cast<unsigned long long>(check->bad_seq),
                 check->problem.c_str());
    return 5;
  }
  std::printf("bundle %s verifies: %zu items, %zu events\n", path.c_str(), check->items,
              check->events);
  return 0;
}

}  // namespace closeloop
