// The stages of an item and the worker that owns each.
//
//            submit                assign               handle              verify (result
//   (new) ─────────▶ submitted ─────────▶ assigned ─────────▶ handled ────── satisfied or
//                        ▲                 │ ▲  ▲ ⟲ reassign    │          basically)
//                        └──── return ─────┘ │  └── verify ─────┘                │
//                                            │   (result unsatisfied: rework)    ▼
//                                            └────────── reopen ─── closed ◀─close── verified
//
//   withdraw: submitted, assigned, handled or verified ─────────▶ withdrawn
//
// Each stage is owned by exactly one worker: the one that must act next. Which verb
// moves an item from which stage to which (and the verbs that leave it where it is:
// sign, extend, opinion, urge, the timer's reminders...) is declared with each verb in
// workflow/verbs.h; this header only names the stages.
//
// Two stages end an item: closed (reopen may take it back) and withdrawn (nothing
// does). close keeps both: the terminal stages live in one worker, which nothing after
// them waits on (docs/architecture.md).
#pragma once

#include <optional>
#include <string_view>

#include "wire/record.h"

namespace closeloop {

enum class Stage { kSubmitted, kAssigned, kHandled, kVerified, kClosed, kWithdrawn };
inline constexpr Stage kStages[] = {Stage::kSubmitted, Stage::kAssigned, Stage::kHandled,
                                    Stage::kVerified,  Stage::kClosed,   Stage::kWithdrawn};

// Whether an item at `stage` has ended (closed or withdrawn): no worklist holds it.
inline constexpr bool ended(Stage stage) {
  return stage == Stage::kClosed || stage == Stage::kWithdrawn;
}

// The worker that owns each stage, and the one that creates items.
inline constexpr std::string_view kIntake = "intake";
std::string_view owner_of(Stage stage);

std::string_view to_string(Stage stage);
std::optional<Stage> parse_stage(std::string_view name);

// A stage in records is its name (wire/record.h finds these by ADL).
void pack_value(wire::Packer& pk, Stage stage);
bool read_value(const msgpack::object& o, Stage& stage, wire::ReadContext& cx);
wire::Json to_json_value(Stage stage);

}  // namespace closeloop
