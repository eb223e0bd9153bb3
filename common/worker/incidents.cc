#include "worker/incidents.h"

#include "store/keys.h"
#include "wire/message.h"

namespace closeloop::incidents {

namespace {

// An entry nests as deep as a handoff does (worker.cc), one level below the record.
wire::Limits limits() {
  wire::Limits l;
  l.max_array = 4096 * 4;
  l.max_map = 256;
  l.max_depth = 18;
  return l;
}

struct Record {
  std::string from, reason, at, state, entry, closed_by, closed_at;
  uint64_t hid = 0;
};

Result<Record> read(std::string_view bytes) {
  auto decoded = wire::decode(bytes.data(), bytes.size(), limits());
  if (!decoded) return decoded.error();
  wire::Fields f(decoded->get(), "incident");
  Record r;
  r.from = f.str("from", 64);
  r.hid = f.uint("hid");
  r.reason = f.opt_str("reason").value_or("");
  r.at = f.opt_str("at", 64).value_or("");
  // Kept before incidents had states: the sender was told it was applied, but it was not.
  r.state = f.opt_str("state", 16).value_or(std::string(kHeld));
  r.closed_by = f.opt_str("closed_by", 256).value_or("");
  r.closed_at = f.opt_str("closed_at", 64).value_or("");
  r.entry = wire::encoded_field(decoded->get(), "entry");
  if (!f.ok()) return f.error();
  return r;
}

std::string write(const Record& r) {
  wire::MapBuilder m;
  m.add("from", r.from).add("hid", r.hid).add("reason", r.reason).add("at", r.at);
  m.add_raw("entry", r.entry.empty() ? std::string("\xc0", 1) : r.entry).add("state", r.state);
  return m.add_nonempty("closed_by", r.closed_by).add_nonempty("closed_at", r.closed_at).finish();
}

Result<Record> load(const Txn& txn, std::string_view from, uint64_t hid) {
  auto stored = txn.get(keys::incident(from, hid));
  if (!stored)
    return Error::of(errc::kNotFound, N_("no incident {incident} is kept here"),
                     {{"incident", std::string(from) + "/" + std::to_string(hid)}});
  return read(*stored);
}

// The item an entry names, if it names one ({item: {id, …}, event}).
std::string item_of(const wire::Json& entry) {
  if (!entry.is_object() || !entry.contains("item") || !entry["item"].is_object()) return "";
  return entry["item"].value("id", "");
}

}  // namespace

std::vector<Id> held_ids(const Reader& store, std::string_view worker) {
  std::vector<Id> ids;
  store.scan(keys::kIncidentPrefix, [&](std::string_view, std::string_view value) {
    auto r = read(value);
    if (r && r->state == kHeld) ids.push_back({std::string(worker), r->from, r->hid});
    return true;
  });
  return ids;
}

std::string format_id(const Id& id) {
  return id.worker + "/" + id.from + "/" + std::to_string(id.hid);
}

Result<Id> parse_id(std::string_view text) {
  size_t first = text.find('/'), last = text.rfind('/');
  Error bad = Error::of(errc::kInvalid,
                        N_("an incident id is WORKER/FROM/NUMBER (closeloop incidents lists "
                           "them), not '{value}'"),
                        {{"value", std::string(text)}}, "id");
  if (first == std::string_view::npos || first == last || first == 0 || last == first + 1)
    return bad;
  Id id{std::string(text.substr(0, first)), std::string(text.substr(first + 1, last - first - 1))};
  std::string_view number = text.substr(last + 1);
  if (number.empty() || number.size() > 19 ||
      number.find_first_not_of("0123456789") != std::string_view::npos)
    return bad;
  id.hid = std::stoull(std::string(number));
  return id;
}

std::string record(std::string_view from, uint64_t hid, std::string_view reason,
                   std::string_view at, std::string_view entry) {
  return write({std::string(from), std::string(reason), std::string(at), std::string(kHeld),
                std::string(entry), "", "", hid});
}

bool is_held(const Txn& txn, std::string_view from, uint64_t hid) {
  auto r = load(txn, from, hid);
  return r && r->state == kHeld;
}

wire::Json list(const Reader& store, std::string_view worker, bool all) {
  wire::Json out = wire::Json::array();
  store.scan(keys::kIncidentPrefix, [&](std::string_view key, std::string_view value) {
    auto r = read(value);
    auto [from, hid] = keys::incident_of(key);
    wire::Json j;
    if (!r) {  // listed all the same: ops must see it
      j = {{"from", from},
           {"hid", hid},
           {"state", kHeld},
           {"reason", "the incident record is unreadable: " + r.error().message}};
    } else {
      if (!all && r->state != kHeld) return true;
      auto entry = wire::decode(r->entry.data(), r->entry.size(), limits());
      j = {{"from", r->from},
           {"hid", r->hid},
           {"reason", r->reason},
           {"at", r->at},
           {"state", r->state}};
      if (entry) j["entry"] = wire::to_json(entry->get());
      if (!r->closed_by.empty()) j["closed_by"] = r->closed_by, j["closed_at"] = r->closed_at;
    }
    j["id"] = format_id({std::string(worker), from, hid});
    j["worker"] = worker;
    if (j.contains("entry")) j["item"] = item_of(j["entry"]);
    out.push_back(std::move(j));
    return true;
  });
  return out;
}

Result<msgpack::object_handle> held_entry(const Txn& txn, std::string_view from, uint64_t hid) {
  auto r = load(txn, from, hid);
  if (!r) return r.error();
  auto entry = wire::decode(r->entry.data(), r->entry.size(), limits());
  if (!entry) return entry.error();
  if (entry->get().type != msgpack::type::MAP)
    return Error{errc::kBadRequest, "the entry is not a map"};
  return entry;
}

Status close(Txn& txn, std::string_view from, uint64_t hid, std::string_view state,
             std::string_view by, std::string_view at) {
  auto r = load(txn, from, hid);
  if (!r) return r.error();
  if (r->state != kHeld)
    return Error::of(errc::kInvalid, N_("incident {incident} was {state} already, by {account}"),
                     {{"incident", std::string(from) + "/" + std::to_string(hid)},
                      {"state", r->state},
                      {"account", r->closed_by}});
  r->state = state, r->closed_by = by, r->closed_at = at;
  txn.put(keys::incident(from, hid), write(*r));
  return ok_status();
}

Status still_held(Txn& txn, std::string_view from, uint64_t hid, std::string_view reason) {
  auto r = load(txn, from, hid);
  if (!r) return r.error();
  r->reason = reason;
  txn.put(keys::incident(from, hid), write(*r));
  return ok_status();
}

}  // namespace closeloop::incidents
