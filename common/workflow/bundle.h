// An evidence bundle: items, their full trails, and the proof that the ledger recorded
// each event as it is, in one self-contained, uncompressed JSON file that an auditor can
// read with standard tools and check offline (closeloop-verify FILE):
//
//   {"format": "closeloop-bundle", "version": 3, "created_at": ISO, "items": [item...],
//    "trails": {"<id>": [event...]},
//    "timezone": "Asia/Shanghai",                      the office's (config timezone)
//    "checkpoint": {size, root, at, key, signature},   the ledger's signed checkpoint
//    "proofs": {"<id>": [{seq, index, path: [hex]}...]}, each event's leaf index and
//                                                       inclusion proof in its tree
//    "consistency": {size, proof: [hex]}}               with bundle --checkpoint OLD: the
//                                                       proof that it extends OLD's tree
//
// Checking recomputes every event's hash from the JSON alone (MessagePack's canonical
// form, event.h), that each trail reaches the head its item names, the checkpoint's
// signature, each event's leaf (the bytes its hash covers) up its proof to the
// checkpoint's root, and (version 3) that each item is what its trail's events make of
// it (workflow/fold.h: the office's time zone gives the day of an event that does not
// say it). Against a checkpoint the auditor kept (OLD), also that the bundle's is signed
// by the same key and its tree extends OLD's. Older bundles still check as far as they
// can: version 2 without the fold (it carries no time zone), version 1 as chains only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "security/checkpoint.h"
#include "wire/json.h"
#include "workflow/fold.h"

namespace closeloop {

inline constexpr std::string_view kBundleFormat = "closeloop-bundle";
inline constexpr uint64_t kBundleVersion = 3;

struct BundleCheck {
  size_t items = 0, events = 0;
  std::optional<security::Checkpoint> checkpoint;  // none in a version 1 bundle
  bool folded = false;                             // items compared with their trails' fold
  std::string bad_item;                            // empty: every trail verifies
  uint64_t bad_seq = 0;                            // 0: the item itself, not one event
  std::string problem;
  std::string bad_checkpoint;  // empty: the checkpoint verifies (and extends OLD's)
  bool failed() const { return !bad_item.empty() || !bad_checkpoint.empty(); }
};

// The time zone a version 3 bundle names ("" for an older bundle or none): the caller
// makes the FoldContext from it (calendar/clock.h), after checking it is one.
std::string bundle_timezone(const wire::Json& bundle);

// Error (code invalid) for anything that is not a bundle of version 1, 2 or 3, for a
// version 3 bundle checked without a fold context, and, given `old`, for a bundle
// without a checkpoint or a consistency proof from old's size.
Result<BundleCheck> check_bundle(const wire::Json& bundle,
                                 const security::Checkpoint* old = nullptr,
                                 const FoldContext* fold = nullptr);

}  // namespace closeloop
