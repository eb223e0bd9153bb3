// An audit event, and the hash chain that makes an item's trail tamper-evident.
//
// hash = SHA-256(prev_hash bytes ‖ canonical MessagePack of the event), hex; the first
// event's prev_hash is 64 zeros. The chain head (seq, hash) travels in the item, so
// one chain runs across every stage. The canonical form is versioned by the event's
// `v` field (docs/protocol.md gives both precisely enough to verify with any
// MessagePack library):
//   v absent (1, issue 2): the map {item, seq, stage, action, actor, department, at,
//     payload} in exactly that order, payload keys sorted, every payload value a string;
//   v = 2: every field of the event except prev_hash and hash, any it does not know
//     included, leaving out at every depth the map entries that hold a default (nil, "",
//     false, 0, [], or a map of only such entries), keys sorted bytewise at every depth,
//     integers and string headers in their smallest form. So a verifier need not know a
//     field to check it, and an event hashes the same whether a writer spelled out its
//     defaults (as the JSON forms do) or left them out (as stored records do).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/json.h"
#include "wire/record.h"
#include "workflow/lifecycle.h"

namespace closeloop {

inline constexpr uint64_t kEventVersion = 2;

struct Event {
  uint64_t v = kEventVersion;
  std::string item;
  uint64_t seq = 0;
  Stage stage = Stage::kSubmitted;  // the item's stage after this event
  std::string action, actor, department, at;
  wire::Json payload = wire::Json::object();  // the command's fields and what it decided
  std::string prev_hash, hash;                // hex
  std::string via;  // the gateway account the actor acted through, if any (left out if none)
  wire::Extras extras;

  // Declared in key order, so that the stored form is sorted like the canonical one.
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("action", s.action), v("actor", s.actor), v("at", s.at), v("department", s.department);
    v("hash", s.hash), v("item", s.item), v("payload", s.payload), v("prev_hash", s.prev_hash);
    v("seq", s.seq), v("stage", s.stage), v("v", s.v), v("via", s.via);
  }
};

inline const std::string kGenesisHash(64, '0');

// What a receiver that stores an event as it came (the ledger) needs of it, read as a
// view: the other fields are neither copied nor converted.
struct EventHead {
  struct Dates {  // of the payload
    std::string occurred_on;
    wire::Extras extras;
    template <class Self, class Visit>
    static void fields(Self& s, Visit&& v) {
      v("occurred_on", s.occurred_on);
    }
  };
  uint64_t v = 1;
  std::string item;
  uint64_t seq = 0;
  Stage stage = Stage::kSubmitted;
  std::string action, at;
  Dates payload;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("v", s.v), v("item", s.item), v("seq", s.seq), v("stage", s.stage), v("action", s.action);
    v("at", s.at), v("payload", s.payload);
  }
};
// Fails like decode_event() for an unknown version or stage, or a missing item or seq.
Result<EventHead> read_event_head(const msgpack::object& o);

std::string encode(const Event& event);
// Fails for anything but a readable event of a known version and stage.
Result<Event> decode_event(const msgpack::object& o);
Result<Event> decode_event(std::string_view bytes);

// SHA-256 over prev_hash and the canonical form of `event`; hex.
std::string event_hash(const Event& event);

// The same from an event as it was received (MessagePack, or JSON converted to it):
// what a verifier uses. Error for an unknown version or a malformed event.
Result<std::string> event_hash(const msgpack::object& event);
// The bytes that hash covers: prev_hash's 32 bytes, then the canonical form. They are
// also the event's leaf in the ledger's Merkle tree (docs/protocol.md), so a verifier
// recomputes the leaf from the event alone. Error like event_hash().
Result<std::string> event_hashed_bytes(const msgpack::object& event);

// Checks a whole trail in seq order starting at 1. Returns 0 if it verifies, else the
// first seq whose hash, link or numbering is wrong.
uint64_t first_bad_seq(const std::vector<Event>& trail);
uint64_t first_bad_seq(const std::vector<const msgpack::object*>& trail);

// The event as clients see it: every field, defaults included (the stored record leaves
// them out); the raw map if it is not a readable event.
wire::Json event_json(const msgpack::object& o);

// The office-local date an event counts on: its payload's occurred_on (history imported
// with its original dates), else `local_date` of its time.
std::string effective_date(const Event& event, const std::string& local_date_of_at);

}  // namespace closeloop
