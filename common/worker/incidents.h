// Incidents: handoff entries a worker kept instead of applying (docs/operations.md).
//
// A receiver meeting an action, stage or record version it does not know keeps the
// entry under incident/<from>/<hid> as {from, hid, reason, at, entry, state} and acks
// it as *held*: the sender keeps its outbox record, releases no reply for it, and asks
// again now and then, while the lane moves on for other entries. An operator closes an
// incident in one of two ways, each recorded in it with who and when:
//   acknowledged  (incidents ack ID) it will not be applied; the sender may forget it;
//   replayed      (incidents replay) applied after all, once the upgrade is done.
// Either way the worker then writes the entry's seen/ marker, so the sender's next ask
// is answered with an ordinary ack and its outbox record goes.
//
// An incident's id names where it is kept: <worker>/<from>/<hid> ("handle/dispatch/42").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/store.h"
#include "wire/json.h"

namespace closeloop::incidents {

inline constexpr std::string_view kHeld = "held";
inline constexpr std::string_view kAcknowledged = "acknowledged";
inline constexpr std::string_view kReplayed = "replayed";

struct Id {
  std::string worker, from;
  uint64_t hid = 0;
};
std::string format_id(const Id& id);
Result<Id> parse_id(std::string_view text);

// The record of a held entry; `entry` is its MessagePack.
std::string record(std::string_view from, uint64_t hid, std::string_view reason,
                   std::string_view at, std::string_view entry);

// Whether the entry (from, hid) is kept here as an incident still held.
bool is_held(const Txn& txn, std::string_view from, uint64_t hid);

// The incidents kept here (only those held unless `all`), each as its record plus its
// `id` and the `item` its entry names, oldest first.
wire::Json list(const Reader& store, std::string_view worker, bool all);

// The ids of the incidents still held here, oldest first (read without converting entries).
std::vector<Id> held_ids(const Reader& store, std::string_view worker);

// The held entry (from, hid) as its sender wrote it, decoded (for a replay).
Result<msgpack::object_handle> held_entry(const Txn& txn, std::string_view from, uint64_t hid);

// Records that an operator closed the held incident: its new state, by whom and when.
Status close(Txn& txn, std::string_view from, uint64_t hid, std::string_view state,
             std::string_view by, std::string_view at);
// Records why a replay could not apply it either (it stays held).
Status still_held(Txn& txn, std::string_view from, uint64_t hid, std::string_view reason);

}  // namespace closeloop::incidents
