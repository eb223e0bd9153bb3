#include "workflow/lifecycle.h"

#include <array>

namespace closeloop {

namespace {
constexpr std::array<std::string_view, 6> kStageNames{"submitted", "assigned", "handled",
                                                       "verified",  "closed",   "withdrawn"};
constexpr std::array<std::string_view, 6> kOwners{"dispatch", "handle", "verify",
                                                   "close",    "close",  "close"};
}  // namespace

std::string_view owner_of(Stage stage) { return kOwners[static_cast<size_t>(stage)]; }

std::string_view to_string(Stage stage) { return kStageNames[static_cast<size_t>(stage)]; }

std::optional<Stage> parse_stage(std::string_view name) {
  for (size_t i = 0; i < kStageNames.size(); ++i)
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  return std::nullopt;
}

}  // namespace closeloop
