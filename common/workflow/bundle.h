// An evidence bundle: items and their full trails in one self-contained, uncompressed
// JSON file that an auditor can read with standard tools and check offline
// (closeloop-verify FILE):
//
//   {"format": "closeloop-bundle", "version": 1, "created_at": ISO, "items": [item...],
//    "trails": {"<id>": [event...]}}
//
// Checking recomputes every event's hash from the JSON alone (MessagePack's canonical
// form, event.h) and that each trail reaches the head its item names.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "wire/json.h"

namespace closeloop {

inline constexpr std::string_view kBundleFormat = "closeloop-bundle";
inline constexpr uint64_t kBundleVersion = 1;

struct BundleCheck {
  size_t items = 0, events = 0;
  std::string bad_item;  // empty: every trail verifies
  uint64_t bad_seq = 0;
  std::string problem;
};

// Error (code invalid) for anything that is not a bundle of this version.
Result<BundleCheck> check_bundle(const wire::Json& bundle);

}  // namespace closeloop
