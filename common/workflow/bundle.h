// An evidence bundle: items, their full trails, and the proof that the ledger recorded
// each event as it is, in one self-contained, uncompressed JSON file that an auditor can
// read with standard tools and check offline (closeloop-verify FILE):
//
//   {"format": "closeloop-bundle", "version": 2, "created_at": ISO, "items": [item...],
//    "trails": {"<id>": [event...]},
//    "checkpoint": {size, root, at, key, signature},   the ledger's signed checkpoint
//    "proofs": {"<id>": [{seq, index, path: [hex]}...]}, each event's leaf index and
//                                                       inclusion proof in its tree
//    "consistency": {size, proof: [hex]}}               with bundle --checkpoint OLD: the
//                                                       proof that it extends OLD's tree
//
// Checking recomputes every event's hash from the JSON alone (MessagePack's canonical
// form, event.h), that each trail reaches the head its item names, the checkpoint's
// signature, and each event's leaf (the bytes its hash covers) up its proof to the
// checkpoint's root. Against a checkpoint the auditor kept (OLD), also that the bundle's is
// signed by the same key and its tree extends OLD's. Version 1 bundles (no checkpoint)
// still check, as chains.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "security/checkpoint.h"
#include "wire/json.h"

namespace closeloop {

inline constexpr std::string_view kBundleFormat = "closeloop-bundle";
inline constexpr uint64_t kBundleVersion = 2;

struct BundleCheck {
  size_t items = 0, events = 0;
  std::optional<security::Checkpoint> checkpoint;  // none in a version 1 bundle
  std::string bad_item;                            // empty: every trail verifies
  uint64_t bad_seq = 0;
  std::string problem;
  std::string bad_checkpoint;  // empty: the checkpoint verifies (and extends OLD's)
  bool failed() const { return !bad_item.empty() || !bad_checkpoint.empty(); }
};

// Error (code invalid) for anything that is not a bundle of version 1 or 2, and, given
// `old`, for a bundle without a checkpoint or a consistency proof from old's size.
Result<BundleCheck> check_bundle(const wire::Json& bundle,
                                 const security::Checkpoint* old = nullptr);

}  // namespace closeloop
