#include "folds.h"

#include "store/keys.h"

namespace closeloop::ledger {
namespace {

Error not_its_trail(const std::string& id, uint64_t seq, const std::string& why) {
  return Error::of(errc::kInvalid,
                   N_("item {item} at seq {seq} is not what its trail makes of it: {reason}"),
                   {{"item", id}, {"seq", std::to_string(seq)}, {"reason", why}});
}

// `folded` against the item as it came: equal bytes are enough (the sender packed the
// same record), else the fields are compared (a sender of another version packs
// differently). `scratch` is a buffer to pack into, reused from one check to the next.
Status compare(const Item& folded, const msgpack::object& item_map, std::string_view item_bytes,
               wire::Buffer& scratch) {
  scratch.clear();
  wire::Packer packer(scratch);
  wire::pack_value(packer, folded);
  if (wire::view(scratch) == item_bytes) return ok_status();
  auto came = decode_item(item_map);
  if (!came) return came.error();
  if (auto difference = first_difference(folded, *came))
    return not_its_trail(folded.id, folded.seq, describe(*difference));
  return ok_status();
}

// The stored trail of `event.item` up to `last`, `event` in its place; nullopt when one
// is missing (it has not arrived yet).
std::optional<std::vector<Event>> trail_with(const Txn& txn, const Event& event, uint64_t last) {
  std::vector<Event> trail;
  for (uint64_t seq = 1; seq <= last; ++seq) {
    if (seq == event.seq) {
      trail.push_back(event);
      continue;
    }
    auto stored = txn.get(keys::event(event.item, seq));
    auto decoded = stored ? decode_event(*stored) : Result<Event>(Error{});
    if (!decoded) return std::nullopt;
    trail.push_back(std::move(*decoded));
  }
  return trail;
}

// A late event: the trail folded through it and on to the item held, both compared.
Status check_late(const Txn& txn, const FoldContext& context, const Event& event,
                  const msgpack::object& item_map, std::string_view item_bytes,
                  const Item& held, wire::Buffer& scratch) {
  auto trail = trail_with(txn, event, held.seq);
  if (!trail) return ok_status();  // another is still on its way: checked when it comes
  Item item;
  for (const Event& e : *trail) {
    auto next = apply(std::move(item), e, context);
    if (!next) return not_its_trail(event.item, e.seq, next.error().message);
    item = std::move(*next);
    if (e.seq != event.seq) continue;
    if (Status same = compare(item, item_map, item_bytes, scratch); !same) return same;
  }
  if (auto difference = first_difference(item, held))
    return not_its_trail(held.id, held.seq, "the item held: " + describe(*difference));
  return ok_status();
}

size_t slot_of(std::string_view id) { return std::hash<std::string_view>{}(id); }

}  // namespace

Result<Item> FoldCheck::held(const std::string& id, const std::optional<std::string>& stored) {
  if (!stored) return Item{};
  Slot& slot = slots_[slot_of(id) % kSlots];
  if (slot.item.id == id && slot.bytes == *stored) {
    Item item = std::move(slot.item);  // taken: remembered again once checked
    slot.item.id.clear();
    return item;
  }
  auto decoded = decode_item(*stored);
  if (!decoded)
    return Error::of(errc::kInternal, N_("stored item unreadable: {reason}"),
                     {{"reason", decoded.error().message}});
  return decoded;
}

std::optional<Indexed> FoldCheck::view_of(const std::string& id, const std::string& stored) const {
  const Slot& slot = slots_[slot_of(id) % kSlots];
  if (slot.item.id == id && slot.bytes == stored) return indexed(slot.item);
  return indexed(std::string_view(stored));
}

void FoldCheck::remember(std::string_view bytes, Item item) {
  Slot& slot = slots_[slot_of(item.id) % kSlots];
  slot.bytes.assign(bytes);
  slot.item = std::move(item);
}

Status FoldCheck::check(const Txn& txn, const FoldContext& context,
                        const msgpack::object& item_map, std::string_view item_bytes,
                        const msgpack::object& event_map, const std::optional<std::string>& stored) {
  auto event = decode_event(event_map);
  if (!event) return event.error();
  auto before = held(event->item, stored);
  if (!before) return before.error();
  if (before->seq + 1 == event->seq) {  // the command path
    auto folded = apply(std::move(*before), *event, context);
    if (!folded) return not_its_trail(event->item, event->seq, folded.error().message);
    if (Status same = compare(*folded, item_map, item_bytes, scratch_); !same) return same;
    remember(item_bytes, std::move(*folded));
    return ok_status();
  }
  if (stored && before->seq >= event->seq)
    return check_late(txn, context, *event, item_map, item_bytes, *before, scratch_);
  return ok_status();  // an earlier event is on its way
}

}  // namespace closeloop::ledger
