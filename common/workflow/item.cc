#include "workflow/item.h"

#include <algorithm>

namespace closeloop {

DueBasis read_basis(const wire::Json& json) {
  DueBasis basis;
  if (!json.is_object()) return basis;
  for (const auto& [key, value] : json.items()) {
    std::string* text = key == "rule"       ? &basis.rule
                        : key == "from"     ? &basis.from
                        : key == "calendar" ? &basis.calendar
                        : key == "code"     ? &basis.code
                        : key == "was"      ? &basis.was
                                            : nullptr;
    if (text) {
      if (value.is_string()) *text = value.get<std::string>();
    } else if (key == "provisional") {
      basis.provisional = value.is_boolean() && value.get<bool>();
    } else if (key == "working_days" || key == "months") {
      (key == "months" ? basis.months : basis.working_days) =
          value.is_number_unsigned() ? value.get<uint64_t>() : 0;
    } else if (!value.is_null()) {
      basis.extras.fields[key] = value;
    }
  }
  return basis;
}

wire::Json basis_json(const DueBasis& basis) {
  wire::Json json = wire::record_json(basis);
  for (const char* added : {"code", "was"})
    if (json[added] == "") json.erase(added);
  return json;
}

const Extension* Item::pending_extension() const {
  for (const Extension& e : extensions)
    if (e.state == "pending") return &e;
  return nullptr;
}

bool Item::is_co(std::string_view code) const {
  return std::find(co_departments.begin(), co_departments.end(), code) != co_departments.end();
}

const Opinion* Item::opinion_of(std::string_view code) const {
  for (const Opinion& o : opinions)
    if (o.department == code) return &o;
  return nullptr;
}

bool Item::open_milestones() const {
  return std::any_of(milestones.begin(), milestones.end(),
                     [](const Milestone& m) { return m.reached_at.empty(); });
}

bool Item::ever_replied() const {
  return !replied_at.empty() || rework_count > 0 || reopen_count > 0;
}

void Item::start_round() {
  signed_at.clear();
  co_signed_at.clear();
  replied_at.clear();
  opinions.clear();
  extensions.clear();
  outcome.clear();
  evaluation = {};
}

security::ItemFacts rights_facts(const Item& item) {
  return {item.department, item.co_departments, item.deputy, item.source, item.kind,
          item.ever_replied()};
}

std::string encode(const Item& item) { return wire::encode_record(item); }

Status check_item(uint64_t v, const std::string& id) {
  if (v == 0 || v > kItemVersion)
    return Error{errc::kBadRequest, "item version " + std::to_string(v) + " is unknown here"};
  if (id.empty()) return Error{errc::kBadRequest, "item lacks id"};
  return ok_status();
}

wire::Json item_json(const msgpack::object& o) {
  auto item = decode_item(o);
  return item ? wire::record_json(*item) : wire::to_json(o);
}

Result<Item> decode_item(const msgpack::object& o) {
  Item item;
  item.v = 1;  // a record without `v` is version 1
  wire::ReadContext cx("item");
  if (!wire::read_value(o, item, cx)) return Error{errc::kBadRequest, cx.error()};
  if (Status ok = check_item(item.v, item.id); !ok) return ok.error();
  item.v = kItemVersion;  // written back in this version's form; unknown fields stay in extras
  return item;
}

Result<ItemHead> read_item_head(const msgpack::object& o) {
  ItemHead head;
  wire::ReadContext cx("item", /*keep_extras=*/false);
  if (!wire::read_value(o, head, cx)) return Error{errc::kBadRequest, cx.error()};
  if (Status ok = check_item(head.v, head.id); !ok) return ok.error();
  return head;
}

Result<Item> decode_item(std::string_view bytes) {
  auto h = wire::decode(bytes.data(), bytes.size());
  if (!h) return h.error();
  return decode_item(h->get());
}

}  // namespace closeloop
