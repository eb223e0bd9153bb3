// The rule of each command (verbs.h declares which rule a verb uses): what the item
// becomes, or why not. Each is an Apply: (item, command, setting, payload) → next item.
// A rule checks what needs the item and the config (departments, the lead, co-
// departments' opinions, deadlines); decode_command() has checked the fields already.
#pragma once

#include "workflow/decide.h"

namespace closeloop::rules {

Result<Item> submit(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> assign(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> reassign(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> withdraw(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> give_back(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> handle(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> verify(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> close(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> sign(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> extend(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> decide_extension(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> opinion(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> waive(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> urge(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> reopen(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> promise_kept(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> milestone(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> remind(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> overdue(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> escalate(const Item&, const Command&, const Setting&, wire::Json& payload);
Result<Item> redue(const Item&, const Command&, const Setting&, wire::Json& payload);

// Checks among fields, before any item is read.
Status check_handle(const Command& c);
Status check_verify(const Command& c);
Status check_decide_extension(const Command& c);
Status check_reassign(const Command& c);

}  // namespace closeloop::rules
