// The ledger's secondary indexes, all built here (keys through store/keys.h):
//
//   index/stage/<stage>/<id>          every item, by stage
//   index/department/<code>/<id>      by lead department
//   index/co/<code>/<id>              by co-department (their inboxes)
//   index/kind/<kind>/<id>            by kind
//   index/due/<date>/<id>             items waiting for a reply (assigned), by due date
//   index/provisional/due/<id>        those whose due date is provisional (calendar data missing)
//   index/attention/escalated/<id>    escalated and not closed
//   index/submitted/<day>/<id>        by the day it was submitted (history)
//   index/assigned/<day>/<id>         every day it was assigned or reopened (history, never moved)
//
// The first seven follow the item's current record; the last two follow its events.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop::ledger {

// The keys the item's current record puts it under.
std::vector<std::string> index_keys(const Item& item);

// Moves the item's index entries from `before` (null: a new item) to `after`, touching
// only those that change.
void reindex(Txn& txn, const Item* before, const Item& after);

// The history index entry an event adds, if any (`day`: the day it counts on).
void index_event(Txn& txn, const Event& event, const std::string& day);

}  // namespace closeloop::ledger
