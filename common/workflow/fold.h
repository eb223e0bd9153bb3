// An item is what its trail's events make of it. fold() replays the events as they
// recorded themselves — action, stage, department, at, seq, hash and the payload (the
// command's fields and what the rule decided: due and due_basis, implicit_sign,
// attitude and result, role, was, submitted_on, assigned_on, occurred_on, a reassignment's
// co and keep-due) — and never
// runs a rule again: rules consult the config and the calendar, which may have changed
// since. So whoever holds a trail checks the item beside it without the service: the
// CLI's `trail --verify`, closeloop-verify on a bundle, the ledger on every handoff.
//
// The one thing an older event may not say is the office-local day it was submitted on
// (submit's payload has carried submitted_on since issue 16): it is then the imported
// history's occurred_on, else the office-local day of the event's time, which is why a
// fold needs the office's time zone (FoldContext). An older assign or reopen says its
// day through its due_basis.from, which the rule counted from that day.
//
// Version 1 events (issue 2's: no `v`, every payload value a string) fold as issue 2's
// rules made them: title and the like at submit, department, co (comma-separated) and
// due at assign, cleared at return, a rework counted at an unsatisfied rating, nothing
// else. Pure: no I/O, no clock; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop {

struct FoldContext {
  // The office-local day (YYYY-MM-DD) of an event's `at`, in the office's time zone
  // (config `timezone`). Empty: a fold that needs it fails, saying so.
  std::function<std::string(const std::string& at)> local_date;
};

// `before` after `event`: what the event's rule made of it. Error (naming the event's
// seq) for an event that does not follow `before` (another item, not the next seq) or
// could not have been recorded on it (an unknown action, no pending extension to
// decide, no such milestone). `before` by value: a caller done with it moves it in.
Result<Item> apply(Item before, const Event& event, const FoldContext& context);

// The item a whole trail makes, from its first event on.
Result<Item> fold(const std::vector<Event>& trail, const FoldContext& context);

// The first field (in the item's declared order, then the fields this version does
// not know) whose value differs, with both values as JSON text.
struct Difference {
  std::string field;   // a path: "title", "due_basis.rule", "opinions[1].text"
  std::string folded;  // what the trail makes of it
  std::string stored;  // what the item says
};
std::optional<Difference> first_difference(const Item& folded, const Item& stored);

// "title: the item says "…", its trail makes it "…"", values cut short when long.
std::string describe(const Difference& difference);

}  // namespace closeloop
