#include "workflow/decide.h"

namespace closeloop {

namespace {

// Records the step: the event carries the command's fields and what the rule added.
// `department` is the lead department the event concerns (the one returning an item
// too, though the item no longer has one after it).
Step chain(Item item, const Command& c, wire::Json payload, const Setting& s,
           const std::string& department) {
  Event e;
  e.item = item.id;
  e.seq = item.seq + 1;
  e.stage = item.stage;
  e.action = std::string(c.spec().trail_action());
  e.actor = c.actor;
  e.via = c.via;
  e.department = department;
  e.at = s.now;
  for (const auto& [name, value] : c.fields.items()) payload.emplace(name, value);
  if (!s.occurred_on.empty()) payload["occurred_on"] = s.occurred_on;
  e.payload = std::move(payload);
  e.prev_hash = item.seq == 0 ? kGenesisHash : item.head;
  e.hash = event_hash(e);
  item.seq = e.seq;
  item.head = e.hash;
  item.last_action = e.action;
  item.updated_at = s.now;
  return {std::move(item), std::move(e)};
}

}  // namespace

Result<Step> create_item(const Command& c, const std::string& id, const Setting& s) {
  if (c.spec().check)  // decode_command ran it too; commands built in code must pass it as well
    if (Status ok = c.spec().check(c); !ok) return ok.error();
  Item blank;
  blank.id = id;
  wire::Json payload = wire::Json::object();
  auto item = c.spec().apply(blank, c, s, payload);
  if (!item) return item.error();
  item->stage = Stage::kSubmitted;
  return chain(std::move(*item), c, std::move(payload), s, "");
}

Result<Step> decide(const Item& item, const Command& c, const Setting& s) {
  const Verb& verb = c.spec();
  if (verb.check)  // decode_command ran it too; commands built in code must pass it as well
    if (Status ok = verb.check(c); !ok) return ok.error();
  if (!verb.move(item.stage)) return refusal(item.id, item.stage, c.verb);
  wire::Json payload = wire::Json::object();
  auto next = verb.apply(item, c, s, payload);
  if (!next) return next.error();
  if (!verb.move(item.stage, next->stage))  // a rule's move must be declared
    return Error{errc::kInternal, c.verb + " made an undeclared move from " +
                                      std::string(to_string(item.stage)) + " to " +
                                      std::string(to_string(next->stage))};
  std::string department = next->department.empty() ? item.department : next->department;
  return chain(std::move(*next), c, std::move(payload), s, department);
}

}  // namespace closeloop
