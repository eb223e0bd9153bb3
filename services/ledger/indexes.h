// The ledger's secondary indexes, all built here (keys through store/keys.h):
//
//   index/stage/<stage>/<id>          every item, by stage
//   index/department/<code>/<id>      by lead department
//   index/co/<code>/<id>              by co-department (their inboxes)
//   index/kind/<kind>/<id>            by kind
//   index/due/<date>/<id>             items waiting for a reply (assigned), by due date
//   index/provisional/due/<id>        those whose due date is provisional (calendar data missing)
//   index/attention/escalated/<id>    escalated and not ended (closed or withdrawn)
//   index/submitted/<day>/<id>        by the day it was submitted (history)
//   index/assigned/<day>/<id>         every day it was assigned, reassigned or reopened (history,
//                                     never moved)
//   index/title/<digest>/<id>         by lead department (none for an unassigned item) and
//                                     title: an import's possible duplicates (title_digest)
//
// submitted and assigned follow its events; the others the item's current record.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop::ledger {

// The fields of an item that its index entries depend on: what the ledger reads of the
// record it holds (not the whole item) to move them.
struct Indexed {
  uint64_t v = 1, seq = 0;  // a record without `v` is version 1
  std::string id;
  Stage stage = Stage::kSubmitted;
  std::string kind, department, due, submitted_on, title;
  std::vector<std::string> co_departments;
  DueBasis due_basis;
  bool escalated = false;
  wire::Extras extras;  // never filled: read as a view
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("v", s.v), v("id", s.id), v("stage", s.stage), v("kind", s.kind);
    v("department", s.department), v("co_departments", s.co_departments), v("due", s.due);
    v("due_basis", s.due_basis), v("submitted_on", s.submitted_on), v("escalated", s.escalated);
    v("seq", s.seq), v("title", s.title);
  }
};
// The view of an item record as it arrives (an unknown version or stage is an error),
// and of a stored one (nullopt if unreadable).
Result<Indexed> indexed(const msgpack::object& item);
std::optional<Indexed> indexed(std::string_view stored);
// The same of an item already decoded.
Indexed indexed(const Item& item);

// The keys the item's current record puts it under.
std::vector<std::string> index_keys(const Indexed& item);

// Moves the item's index entries from `before` (null: a new item) to `after`, touching
// only those that change.
void reindex(Txn& txn, const Indexed* before, const Indexed& after);

// The value under which index/title/ keeps the items with this lead department ("" for
// none) and this title: a digest, since a title may hold any character.
std::string title_digest(std::string_view department, std::string_view title);

// Adds index/title/ to a ledger written before it existed (once: meta/index_title marks
// it done), at start, before the first turn.
Status add_title_index(Store& store);

// Whether an event's action adds a history index entry (an assignment, a reassignment or a
// reopening),
// and the entry it adds (`day`: the day it counts on).
bool dated(std::string_view action);
void index_event(Txn& txn, const std::string& item, const std::string& day);

}  // namespace closeloop::ledger
