// Commands that change an item, and the one function that applies the lifecycle to
// them. decode_command() checks what needs no state (types, required fields, enums,
// lengths); decide() checks what needs the item and the config (the lifecycle table,
// departments, who may act) and computes the next item and its chained event.
// Pure functions: no I/O, so the whole lifecycle is unit-tested without processes.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "wire/message.h"
#include "workflow/item.h"

namespace closeloop {

inline constexpr size_t kMaxTitleChars = 200;
inline constexpr size_t kMaxTextChars = 20000;

struct Command {
  std::string verb;  // submit, assign, return, handle, verify, close
  std::string item_id;
  std::string actor;
  // submit
  std::string title, body, category, source, submitter, key;
  // assign (department also for return and handle)
  std::string department;
  std::vector<std::string> co_departments;
  std::string due, note;
  std::string reason;            // return
  std::string reply, outcome;    // handle
  std::string rating, comment;   // verify
};

Result<Command> decode_command(const wire::Request& request);

// The encoded request body of a command (the inverse of decode_command).
std::string encode_command_body(const Command& command);

// The item after a command and the event that records it.
struct Step {
  Item item;
  Event event;
};

// A new item from a submit command (intake allocates the id).
Step create_item(const Command& submit, const std::string& id, const std::string& now);

// Applies `command` to `item` as the lifecycle table allows, or says why not.
Result<Step> decide(const Item& item, const Command& command, const Config& config,
                    const std::string& now);

}  // namespace closeloop
