#include "workflow/lifecycle.h"

namespace closeloop {

namespace {
constexpr std::array<std::string_view, 5> kStageNames{"submitted", "assigned", "handled",
                                                       "verified", "closed"};
constexpr std::array<std::string_view, 5> kOwners{"dispatch", "handle", "verify", "close",
                                                   "close"};
}  // namespace

std::string_view owner_of(Stage stage) { return kOwners[static_cast<size_t>(stage)]; }

std::string_view to_string(Stage stage) { return kStageNames[static_cast<size_t>(stage)]; }

std::optional<Stage> parse_stage(std::string_view name) {
  for (size_t i = 0; i < kStageNames.size(); ++i)
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  return std::nullopt;
}

std::optional<Transition> find_transition(Stage from, std::string_view verb, bool rework) {
  for (const Transition& t : kLifecycle) {
    if (t.from != from || t.verb != verb) continue;
    bool is_rework = t.verb == "verify" && t.to == Stage::kAssigned;
    if (t.verb != "verify" || is_rework == rework) return t;
  }
  return std::nullopt;
}

std::string allowed_verbs(Stage stage) {
  std::string out;
  for (const Transition& t : kLifecycle) {
    if (t.from != stage || out.find(t.verb) != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += t.verb;
  }
  return out.empty() ? "nothing" : out;
}

std::string refusal(std::string_view item_id, Stage stage, std::string_view verb) {
  return "cannot " + std::string(verb) + " item " + std::string(item_id) + ": it is " +
         std::string(to_string(stage)) + ", which allows " + allowed_verbs(stage);
}

}  // namespace closeloop
