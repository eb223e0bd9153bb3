// closeloop-verify BUNDLE.json [--checkpoint OLD.json]: checks an evidence bundle offline,
// with no service and no config: every event's hash recomputed from the file, every link,
// every item's head, the checkpoint's signature, every event's inclusion proof in its
// tree and (version 3) every item against the fold of its trail, in the time zone the
// bundle names; with --checkpoint, also that the bundle's checkpoint is signed by the same
// key as OLD (one the auditor kept from before) and that its tree extends OLD's.
//   exit 0  "bundle FILE verifies: N items, M events, …"
//   exit 5  "bundle FILE FAILS: item ID at seq K: <what>" (the first bad one), "bundle FILE
//           FAILS: item ID: <field>: the item says …, its trail makes it …", or
//           "bundle FILE FAILS: the checkpoint: <what>"; OLD whose signature does not verify
//   exit 2  usage, a file that cannot be read, is not a bundle (or OLD not a checkpoint), a
//           bundle made without --checkpoint OLD when checked against OLD
#include "workflow/bundle.h"

#include <cstdio>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>

#include "calendar/clock.h"

namespace closeloop {
namespace {

constexpr int kExitOk = 0, kExitUsage = 2, kExitFails = 5;

int usage(int code) {
  std::fprintf(code == kExitOk ? stdout : stderr,
               "usage: closeloop-verify BUNDLE.json [--checkpoint OLD.json]\n"
               "                                  check an evidence bundle offline (and that it\n"
               "                                  extends a checkpoint kept from before)\n"
               "       closeloop-verify --config FILE   run the verify stage worker\n");
  return code;
}

// The JSON in `path`, or a message on stderr and a discarded value.
wire::Json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "closeloop-verify: cannot read %s\n", path.c_str());
    return wire::Json(wire::Json::value_t::discarded);
  }
  std::ostringstream text;
  text << in.rdbuf();
  wire::Json json = wire::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) std::fprintf(stderr, "closeloop-verify: %s is not JSON\n", path.c_str());
  return json;
}

// OLD, its signature checked; the exit code if it cannot serve.
int read_old(const std::string& path, std::optional<security::Checkpoint>& old) {
  wire::Json json = read_json(path);
  if (json.is_discarded()) return kExitUsage;
  auto checkpoint = security::checkpoint_from_json(json, /*check_signature=*/false);
  if (!checkpoint) {
    std::fprintf(stderr, "closeloop-verify: %s: %s\n", path.c_str(),
                 checkpoint.error().message.c_str());
    return kExitUsage;
  }
  if (!security::verify_signature(*checkpoint)) {
    std::fprintf(stderr, "checkpoint %s FAILS: its signature does not verify\n", path.c_str());
    return kExitFails;
  }
  old = std::move(*checkpoint);
  return kExitOk;
}

std::string verified(const BundleCheck& check, const security::Checkpoint* old) {
  std::string out =
      std::to_string(check.items) + " items, " + std::to_string(check.events) + " events";
  if (!check.checkpoint) return out + " (a version 1 bundle: hash chains only, no checkpoint)";
  const security::Checkpoint& c = *check.checkpoint;
  out += ", each in the ledger's checkpoint of size " + std::to_string(c.size) + " (" + c.at +
         ", key " + c.key + ")";
  if (old)
    out += ", which extends the one kept (size " + std::to_string(old->size) + ", " + old->at + ")";
  return out + (check.folded ? "; each item is what its trail makes of it"
                             : " (a version 2 bundle: items not compared with their trails)");
}

// A version 3 bundle's time zone, made the fold's sense of the office's day; the exit
// code if the bundle names none this system knows.
int fold_context(const wire::Json& bundle, const std::string& path, std::optional<Clock>& clock,
                 std::optional<FoldContext>& context) {
  if (bundle.value("version", wire::Json()) != kBundleVersion) return kExitOk;
  std::string zone = bundle_timezone(bundle);
  if (!known_timezone(zone)) {
    std::fprintf(stderr, "closeloop-verify: %s: timezone '%s' is not one of this system's tz "
                 "database (package tzdata)\n", path.c_str(), zone.c_str());
    return kExitUsage;
  }
  clock.emplace(zone);
  context = FoldContext{[&clock](const std::string& at) { return clock->local_date(at).str(); }};
  return kExitOk;
}

}  // namespace

int check_bundle_main(int argc, char** argv) {
  std::string path, old_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage(kExitOk);
    if (arg == "--checkpoint" && i + 1 < argc) {
      old_path = argv[++i];
    } else if (path.empty() && !arg.starts_with("--")) {
      path = arg;
    } else {
      return usage(kExitUsage);
    }
  }
  if (path.empty()) return usage(kExitUsage);
  std::optional<security::Checkpoint> old;
  if (!old_path.empty())
    if (int code = read_old(old_path, old); code != kExitOk) return code;
  wire::Json bundle = read_json(path);
  if (bundle.is_discarded()) return kExitUsage;
  std::optional<Clock> clock;
  std::optional<FoldContext> context;
  if (int code = fold_context(bundle, path, clock, context); code != kExitOk) return code;
  auto check = check_bundle(bundle, old ? &*old : nullptr, context ? &*context : nullptr);
  if (!check) {
    std::fprintf(stderr, "closeloop-verify: %s: %s\n", path.c_str(), check.error().message.c_str());
    return kExitUsage;
  }
  if (!check->bad_item.empty()) {
    std::string where = check->bad_seq == 0 ? "" : " at seq " + std::to_string(check->bad_seq);
    std::fprintf(stderr, "bundle %s FAILS: item %s%s: %s\n", path.c_str(),
                 check->bad_item.c_str(), where.c_str(), check->problem.c_str());
    return kExitFails;
  }
  if (!check->bad_checkpoint.empty()) {
    std::fprintf(stderr, "bundle %s FAILS: the checkpoint: %s\n", path.c_str(),
                 check->bad_checkpoint.c_str());
    return kExitFails;
  }
  std::printf("bundle %s verifies: %s\n", path.c_str(),
              verified(*check, old ? &*old : nullptr).c_str());
  return kExitOk;
}

}  // namespace closeloop
