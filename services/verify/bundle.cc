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
#include <cstdlib>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>

#include "calendar/clock.h"
#include "i18n/words.h"

namespace closeloop {
namespace {

constexpr int kExitOk = 0, kExitUsage = 2, kExitFails = 5;

// `msgid` in the language of $CLOSELOOP_LANG, else Chinese (the checker reads no config).
std::string say(std::string_view msgid, const MessageArgs& args = {}) {
  return i18n::say(i18n::language(), msgid, args);
}

void choose_language() {
  const char* env = std::getenv(i18n::kLanguageEnv);
  i18n::set_language(i18n::parse_language(env ? env : "").value_or(i18n::kDefaultLanguage));
}

// A line on stderr.
void complain(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

int usage(int code) {
  std::fprintf(code == kExitOk ? stdout : stderr,
               "%s closeloop-verify BUNDLE.json [--checkpoint OLD.json]\n    %s\n"
               "       closeloop-verify --config FILE\n    %s\n",
               say(N_("usage:")).c_str(),
               say(N_("check an evidence bundle offline (and that it extends a checkpoint kept "
                      "from before)"))
                   .c_str(),
               say(N_("run the verify stage worker")).c_str());
  return code;
}

// The JSON in `path`, or a message on stderr and a discarded value.
wire::Json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    complain("closeloop-verify: " + say(N_("cannot read {path}"), {{"path", path}}));
    return wire::Json(wire::Json::value_t::discarded);
  }
  std::ostringstream text;
  text << in.rdbuf();
  wire::Json json = wire::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    complain("closeloop-verify: " + say(N_("{path} is not JSON"), {{"path", path}}));
  return json;
}

// OLD, its signature checked; the exit code if it cannot serve.
int read_old(const std::string& path, std::optional<security::Checkpoint>& old) {
  wire::Json json = read_json(path);
  if (json.is_discarded()) return kExitUsage;
  auto checkpoint = security::checkpoint_from_json(json, /*check_signature=*/false);
  if (!checkpoint) {
    complain("closeloop-verify: " + path + ": " + i18n::say(i18n::language(), checkpoint.error()));
    return kExitUsage;
  }
  if (!security::verify_signature(*checkpoint)) {
    complain(say(N_("checkpoint {path} FAILS: its signature does not verify"), {{"path", path}}));
    return kExitFails;
  }
  old = std::move(*checkpoint);
  return kExitOk;
}

// "bundle FILE verifies: …", as much as the bundle's version lets it say.
std::string verified(const std::string& path, const BundleCheck& check,
                     const security::Checkpoint* old) {
  MessageArgs args{{"path", path},
                   {"items", std::to_string(check.items)},
                   {"events", std::to_string(check.events)}};
  if (!check.checkpoint)
    return say(N_("bundle {path} verifies: {items} items, {events} events (a version 1 bundle: "
                  "hash chains only, no checkpoint)"),
               args);
  const security::Checkpoint& c = *check.checkpoint;
  args.insert(args.end(), {{"size", std::to_string(c.size)}, {"at", c.at}, {"key", c.key}});
  if (old)
    args.insert(args.end(), {{"old_size", std::to_string(old->size)}, {"old_at", old->at}});
  if (!check.folded)
    return say(old ? N_("bundle {path} verifies: {items} items, {events} events, each in the "
                        "ledger's checkpoint of size {size} ({at}, key {key}), which extends the "
                        "one kept (size {old_size}, {old_at}) (a version 2 bundle: items not "
                        "compared with their trails)")
                   : N_("bundle {path} verifies: {items} items, {events} events, each in the "
                        "ledger's checkpoint of size {size} ({at}, key {key}) (a version 2 "
                        "bundle: items not compared with their trails)"),
               args);
  return say(old ? N_("bundle {path} verifies: {items} items, {events} events, each in the "
                      "ledger's checkpoint of size {size} ({at}, key {key}), which extends the one "
                      "kept (size {old_size}, {old_at}); each item is what its trail makes of it")
                 : N_("bundle {path} verifies: {items} items, {events} events, each in the "
                      "ledger's checkpoint of size {size} ({at}, key {key}); each item is what its "
                      "trail makes of it"),
             args);
}

// A version 3 bundle's time zone, made the fold's sense of the office's day; the exit
// code if the bundle names none this system knows.
int fold_context(const wire::Json& bundle, const std::string& path, std::optional<Clock>& clock,
                 std::optional<FoldContext>& context) {
  if (bundle.value("version", wire::Json()) != kBundleVersion) return kExitOk;
  std::string zone = bundle_timezone(bundle);
  if (!known_timezone(zone)) {
    complain("closeloop-verify: " +
             say(N_("{path}: timezone '{zone}' is not one of this system's tz database (package "
                    "tzdata)"),
                 {{"path", path}, {"zone", zone}}));
    return kExitUsage;
  }
  clock.emplace(zone);
  context = FoldContext{[&clock](const std::string& at) { return clock->local_date(at).str(); }};
  return kExitOk;
}

}  // namespace

int check_bundle_main(int argc, char** argv) {
  choose_language();
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
    complain("closeloop-verify: " + path + ": " + i18n::say(i18n::language(), check.error()));
    return kExitUsage;
  }
  if (!check->bad_item.empty()) {
    // The problem itself is workflow/bundle.cc's, in English.
    MessageArgs args{{"path", path},
                     {"item", check->bad_item},
                     {"seq", std::to_string(check->bad_seq)},
                     {"reason", check->problem}};
    complain(say(check->bad_seq == 0 ? N_("bundle {path} FAILS: item {item}: {reason}")
                                     : N_("bundle {path} FAILS: item {item} at seq {seq}: {reason}"),
                 args));
    return kExitFails;
  }
  if (!check->bad_checkpoint.empty()) {
    complain(say(N_("bundle {path} FAILS: the checkpoint: {reason}"),
                 {{"path", path}, {"reason", check->bad_checkpoint}}));
    return kExitFails;
  }
  std::printf("%s\n", verified(path, *check, old ? &*old : nullptr).c_str());
  return kExitOk;
}

}  // namespace closeloop
