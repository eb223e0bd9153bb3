// The lifecycle of an item: one table, in one place.
//
//            submit                assign               handle              verify (satisfied,
//   (new) ─────────▶ submitted ─────────▶ assigned ─────────▶ handled ────── basically-satisfied)
//                        ▲                 │   ▲                │                    │
//                        └──── return ─────┘   └── verify ──────┘                    ▼
//                                                 (unsatisfied: rework)   verified ──close──▶ closed
//
// Each stage is owned by exactly one worker, the one that must act next; a command
// is sent to the owner of the stage it starts from (wire::kRoutes agrees, a unit
// test checks it). Anything not in the table is refused, naming the current stage
// and what it allows. `closed` allows nothing (yet).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace closeloop {

enum class Stage { kSubmitted, kAssigned, kHandled, kVerified, kClosed };

struct Transition {
  Stage from;
  std::string_view verb;
  Stage to;
  std::string_view when;  // the condition, for people; empty if always
};

inline constexpr std::array<Transition, 6> kLifecycle{{
    {Stage::kSubmitted, "assign", Stage::kAssigned, ""},
    {Stage::kAssigned, "return", Stage::kSubmitted, "by the lead department, with a reason"},
    {Stage::kAssigned, "handle", Stage::kHandled, "by the lead department"},
    {Stage::kHandled, "verify", Stage::kVerified, "rating satisfied or basically-satisfied"},
    {Stage::kHandled, "verify", Stage::kAssigned, "rating unsatisfied: rework"},
    {Stage::kVerified, "close", Stage::kClosed, ""},
}};

// The worker that owns each stage, and the one that creates items.
inline constexpr std::string_view kIntake = "intake";
std::string_view owner_of(Stage stage);

std::string_view to_string(Stage stage);
std::optional<Stage> parse_stage(std::string_view name);

// The transition for (stage, verb); for verify, `rework` picks the unsatisfied row.
std::optional<Transition> find_transition(Stage from, std::string_view verb, bool rework = false);

// "assign" or "handle, return" or "nothing": the verbs `stage` allows.
std::string allowed_verbs(Stage stage);

// The refusal message for a verb the stage does not allow.
std::string refusal(std::string_view item_id, Stage stage, std::string_view verb);

}  // namespace closeloop
