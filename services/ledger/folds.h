// The ledger checks every item handed to it against its trail (workflow/fold.h): the
// item must be what the item it holds becomes by the event that comes with it — or, for
// a first event, what a blank item becomes. A handoff whose item says otherwise is an
// Error, so the worker keeps the entry as an incident (worker/incidents.h) and writes
// nothing of it: neither the event nor the item.
//
// Events of one item come from several senders (intake, dispatch, handle…), each in
// order, but not in order with each other. So:
//   - the item held is at seq−1 (or there is none and this is seq 1): apply() the
//     event to it and compare — the command path, a few microseconds;
//   - the item held is already at seq or later (this event comes late): fold the stored
//     trail (this event in its place) once it is whole up to the item held, and compare
//     both this entry's item and the item held — O(trail), only when events cross;
//   - an event is missing below this one: nothing to compare with yet; the item is kept
//     as it came, and checked by the late path when the missing event arrives.
// Reads only; the caller writes once this passes. Loop thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "indexes.h"
#include "store/store.h"
#include "workflow/fold.h"

namespace closeloop::ledger {

class FoldCheck {
 public:
  // Whether the entry's item (`item_map`, `item_bytes` as the sender packed it) is what
  // its trail makes of it, `event_map` being its event (not yet stored) and `stored`
  // the item record the ledger holds, if any. Error (invalid) naming the item, the seq
  // and the first field that differs.
  Status check(const Txn& txn, const FoldContext& context, const msgpack::object& item_map,
               std::string_view item_bytes, const msgpack::object& event_map,
               const std::optional<std::string>& stored);
  // The index view of the item record `stored` (of item `id`): from the item checked last
  // when it is that record (the command path decodes nothing), else read from the bytes.
  std::optional<Indexed> view_of(const std::string& id, const std::string& stored) const;

 private:
  // The items checked last, decoded, each with the bytes the ledger then wrote: the
  // next event of an item (the command path) needs no decode of its record (a third of
  // the check's cost). A record that is not those bytes (another item in the slot, a
  // restart, a record written unchecked) is decoded as usual. Direct-mapped by id,
  // buffers reused: no allocation once warm; about 1 KiB a slot.
  struct Slot {
    std::string bytes;
    Item item;  // id empty: nothing here
  };
  static constexpr size_t kSlots = 1024;
  std::vector<Slot> slots_ = std::vector<Slot>(kSlots);
  wire::Buffer scratch_;  // the folded item packed, to compare with the bytes that came

  Result<Item> held(const std::string& id, const std::optional<std::string>& stored);
  void remember(std::string_view bytes, Item item);
};

}  // namespace closeloop::ledger
