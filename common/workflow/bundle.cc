#include "workflow/bundle.h"

#include <vector>

#include "wire/codec.h"
#include "workflow/event.h"

namespace closeloop {

namespace {

Error not_a_bundle(const std::string& why) { return Error{errc::kInvalid, "not a closeloop bundle: " + why}; }

// Checks one item's trail: the hash chain, then that it ends at the item's head.
void check_trail(const wire::Json& item, const wire::Json& events, BundleCheck& check) {
  std::string id = item.value("id", std::string());
  std::vector<msgpack::object_handle> handles;
  handles.reserve(events.size());  // trail points into them: no reallocation
  std::vector<const msgpack::object*> trail;
  for (const wire::Json& e : events) {
    std::vector<uint8_t> bytes = wire::Json::to_msgpack(e);
    auto decoded = wire::decode(bytes.data(), bytes.size());
    if (!decoded) break;  // unreadable: fails at its position
    handles.push_back(std::move(*decoded));
    trail.push_back(&handles.back().get());
  }
  check.events += events.size();
  uint64_t bad = first_bad_seq(trail);
  if (bad == 0 && trail.size() < events.size()) bad = trail.size() + 1;
  if (bad == 0 && trail.empty()) bad = 1;
  uint64_t head_seq = item.value("seq", uint64_t{0});
  if (bad == 0 && (head_seq != trail.size() ||
                   events.back().value("hash", std::string()) != item.value("head", std::string()))) {
    check.problem = "the trail ends at seq " + std::to_string(trail.size()) +
                    " but the item's head is seq " + std::to_string(head_seq);
    bad = std::min<uint64_t>(head_seq, trail.size()) + (head_seq > trail.size() ? 1 : 0);
    if (bad == 0) bad = 1;
  }
  if (bad != 0 && check.bad_item.empty()) {
    check.bad_item = id;
    check.bad_seq = bad;
    if (check.problem.empty()) check.problem = "hash, link or numbering wrong";
  }
}

}  // namespace

Result<BundleCheck> check_bundle(const wire::Json& bundle) {
  if (!bundle.is_object() || bundle.value("format", std::string()) != kBundleFormat)
    return not_a_bundle("no \"format\": \"closeloop-bundle\"");
  if (bundle.value("version", uint64_t{0}) != kBundleVersion)
    return not_a_bundle("version " + wire::dump(bundle.value("version", wire::Json())) +
                        " is not 1");
  const wire::Json* items = bundle.contains("items") ? &bundle["items"] : nullptr;
  const wire::Json* trails = bundle.contains("trails") ? &bundle["trails"] : nullptr;
  if (!items || !items->is_array() || !trails || !trails->is_object())
    return not_a_bundle("it needs an items array and a trails object");
  BundleCheck check;
  for (const wire::Json& item : *items) {
    std::string id = item.is_object() ? item.value("id", std::string()) : "";
    if (id.empty()) return not_a_bundle("an item without an id");
    if (!trails->contains(id) || !(*trails)[id].is_array())
      return not_a_bundle("no trail for item " + id);
    ++check.items;
    check_trail(item, (*trails)[id], check);
  }
  return check;
}

}  // namespace closeloop
