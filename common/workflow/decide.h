// The one function that applies a command to an item: decide() finds the verb's move
// from the item's stage (verbs.h), runs the verb's rule (rules.cc) and chains the
// event that records it. Pure: no I/O, so every rule is unit-tested without processes.
#pragma once

#include <string>

#include "base/result.h"
#include "calendar/calendar.h"
#include "config/config.h"
#include "workflow/command.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop {

// What a rule may consult besides the item and the command.
struct Setting {
  const Config& config;
  const Calendar& calendar;
  std::string now;  // UTC ISO 8601: the event's `at`
  Date today;       // the office-local day the command counts on
  // For history imported with its original dates: the day it happened (then also
  // `today`), recorded in the payload as occurred_on. Empty for a live command.
  std::string occurred_on;
};

// The item after a command and the event that records it.
struct Step {
  Item item;
  Event event;
};

// A new item from a command that creates one (submit); intake allocates the id.
Result<Step> create_item(const Command& command, const std::string& id, const Setting& setting);

// Applies `command` to `item` as its verb allows, or says why not.
Result<Step> decide(const Item& item, const Command& command, const Setting& setting);

}  // namespace closeloop
