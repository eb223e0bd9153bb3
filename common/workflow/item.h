// An item and its audit events, and their MessagePack form (the same field names
// appear in the CLI's JSON). Records are maps, so fields can be added later.
//
// The audit trail is a hash chain per item: event.hash = SHA-256(prev_hash bytes ‖
// canonical MessagePack of the event without its hash), where the canonical form is
// a map with the keys in the order item, seq, stage, action, actor, department, at,
// payload (payload keys sorted). The first event's prev_hash is 32 zero bytes. The
// chain head (seq, hash) travels with the item, so one chain runs across stages.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/codec.h"
#include "workflow/lifecycle.h"

namespace closeloop {

struct Item {
  std::string id;
  Stage stage = Stage::kSubmitted;
  std::string title, body, category, source, submitter;
  std::string department;  // lead department, once assigned
  std::vector<std::string> co_departments;
  std::string due;  // YYYY-MM-DD or empty
  uint64_t rework_count = 0;
  std::string created_at, updated_at;
  uint64_t seq = 0;           // seq of the last event
  std::string head;           // hash (hex) of the last event
  std::string last_action;    // action of the last event
};

struct Event {
  std::string item;
  uint64_t seq = 0;
  Stage stage = Stage::kSubmitted;  // the item's stage after this event
  std::string action, actor, department, at;
  std::map<std::string, std::string> payload;
  std::string prev_hash, hash;  // hex
};

inline const std::string kGenesisHash(64, '0');

void pack(wire::Packer& pk, const Item& item);
void pack(wire::Packer& pk, const Event& event);
std::string encode(const Item& item);
std::string encode(const Event& event);
Result<Item> decode_item(const msgpack::object& o);
Result<Event> decode_event(const msgpack::object& o);
Result<Item> decode_item(std::string_view bytes);
Result<Event> decode_event(std::string_view bytes);

// SHA-256 over prev_hash and the canonical encoding; hex.
std::string event_hash(const Event& event);

// Checks a whole trail in seq order starting at 1. Returns 0 if it verifies,
// else the first seq whose hash, link or numbering is wrong.
uint64_t first_bad_seq(const std::vector<Event>& trail);

}  // namespace closeloop
