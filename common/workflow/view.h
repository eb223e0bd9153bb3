// The record in plain view: what an item's trail says that its record does not keep, for
// every reader of an item (the CLI's show and export, the API and the console to come).
//
// The record keeps what the rules decide on (the outcome, opinions, the evaluation);
// the words of the reply and the original dates of imported history are in the events
// only, and the record should not carry a reply's pages from stage to stage. So they are
// read from the trail where it is kept (the ledger), and shown beside the record as
// top-level fields of the item (docs/protocol.md, "show").
#pragma once

#include <string>
#include <vector>

#include "wire/json.h"
#include "workflow/event.h"

namespace closeloop {

// {reply: {text, outcome, promise, at, department, by, via, occurred_on, seq}} from the last
// reply of the trail, and {original_dates: {<action>: YYYY-MM-DD}} for events of imported
// history (those with occurred_on: the last of each action); each left out when the trail
// has none.
wire::Json record_view(const std::vector<Event>& trail);

// What a person said in an event, if anything: the reply, an opinion, a reason, a comment,
// a note or a ruling, the first found.
std::string said_in(const wire::Json& payload);

// The first `max_chars` characters of `text` on one line (newlines as spaces), with "…"
// when it is longer.
std::string first_words(std::string_view text, size_t max_chars);

}  // namespace closeloop
