#include "workflow/event.h"

#include "base/text.h"

namespace closeloop {

namespace {

// What an event's hash covers: the previous hash's 32 bytes (all 0xff if it is not a
// hash) and the canonical form.
std::string hashed_input(std::string_view prev_hash_hex, std::string_view canonical) {
  std::string input;
  if (!from_hex(prev_hash_hex, &input) || input.size() != 32) input.assign(32, '\xff');
  input.append(canonical);
  return input;
}

std::string chained_hash(std::string_view prev_hash_hex, std::string_view canonical) {
  return sha256_hex(hashed_input(prev_hash_hex, canonical));
}

// Version 1: the eight fields in their fixed order, payload values as strings (and, as
// stored, the two hashes after them).
void pack_v1(wire::Packer& pk, const Event& e, bool with_hashes) {
  pk.pack_map(with_hashes ? 10 : 8);
  pk.pack("item"), pk.pack(e.item);
  pk.pack("seq"), pk.pack(e.seq);
  pk.pack("stage"), pk.pack(to_string(e.stage));
  pk.pack("action"), pk.pack(e.action);
  pk.pack("actor"), pk.pack(e.actor);
  pk.pack("department"), pk.pack(e.department);
  pk.pack("at"), pk.pack(e.at);
  pk.pack("payload"), wire::pack_json(pk, e.payload);
  if (!with_hashes) return;
  pk.pack("prev_hash"), pk.pack(e.prev_hash);
  pk.pack("hash"), pk.pack(e.hash);
}

// What every reader of an event checks, whole record or view.
template <typename E>
Status check_event(const E& e) {
  if (e.v == 0 || e.v > kEventVersion)
    return Error{errc::kBadRequest, "event version " + std::to_string(e.v) + " is unknown here"};
  if (e.item.empty() || e.seq == 0) return Error{errc::kBadRequest, "event lacks item or seq"};
  return ok_status();
}

// Version 2: every field but the hashes and those holding a default, sorted.
// Event::fields() lists them in key order and packs them compactly (record.h), which is
// exactly that; fields this version does not know take the generic path.
Result<std::string> canonical(const msgpack::object& event);

std::string canonical(const Event& e) {
  wire::Buffer buf;
  wire::Packer pk(buf);
  if (e.v == 1) {
    pack_v1(pk, e, /*with_hashes=*/false);
    return std::string(wire::view(buf));
  }
  if (!e.extras.fields.empty()) {
    std::string stored = encode(e);
    return *canonical(wire::decode(stored.data(), stored.size())->get());
  }
  auto hashed = [](std::string_view key, const auto& value) {
    using wire::is_default;
    return key != "hash" && key != "prev_hash" && !is_default(value);
  };
  uint32_t n = 0;
  Event::fields(e, [&](std::string_view key, const auto& value) { n += hashed(key, value); });
  pk.pack_map(n);
  Event::fields(e, [&](std::string_view key, const auto& value) {
    if (!hashed(key, value)) return;
    pk.pack(key);
    using wire::pack_value;
    pack_value(pk, value);  // unqualified: Stage's overload is found by ADL
  });
  return std::string(wire::view(buf));
}

const msgpack::object* find(const msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& k = map.via.map.ptr[i].key;
    if (k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key)
      return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

std::string str_of(const msgpack::object* o) {
  return o && o->type == msgpack::type::STR ? std::string(o->via.str.ptr, o->via.str.size) : "";
}

// The canonical bytes of an event as received; empty for a malformed one.
Result<std::string> canonical(const msgpack::object& event) {
  if (event.type != msgpack::type::MAP) return Error{errc::kBadRequest, "an event must be a map"};
  const msgpack::object* v = find(event, "v");
  wire::Buffer buf;
  wire::Packer pk(buf);
  if (!v) {
    static constexpr std::string_view kV1Keys[] = {"item",  "seq",        "stage", "action",
                                                   "actor", "department", "at",    "payload"};
    pk.pack_map(8);
    for (std::string_view key : kV1Keys) {
      const msgpack::object* value = find(event, key);
      if (!value) return Error{errc::kBadRequest, "event lacks " + std::string(key)};
      pk.pack(key);
      if (!wire::canonical_pack(pk, *value))
        return Error{errc::kBadRequest, "event." + std::string(key) + " is outside the data model"};
    }
    return std::string(wire::view(buf));
  }
  if (v->type != msgpack::type::POSITIVE_INTEGER || v->via.u64 != kEventVersion)
    return Error{errc::kBadRequest, "unknown event version"};
  std::vector<msgpack::object_kv> kept;
  for (uint32_t i = 0; i < event.via.map.size; ++i) {
    std::string key = str_of(&event.via.map.ptr[i].key);
    if (key != "hash" && key != "prev_hash") kept.push_back(event.via.map.ptr[i]);
  }
  msgpack::object without_hashes;
  without_hashes.type = msgpack::type::MAP;
  without_hashes.via.map.size = static_cast<uint32_t>(kept.size());
  without_hashes.via.map.ptr = kept.data();
  if (!wire::canonical_pack(pk, without_hashes, /*drop_defaults=*/true))
    return Error{errc::kBadRequest, "event holds a value outside the data model"};
  return std::string(wire::view(buf));
}

}  // namespace

void pack_value(wire::Packer& pk, Stage stage) { pk.pack(to_string(stage)); }

wire::Json to_json_value(Stage stage) { return std::string(to_string(stage)); }

bool read_value(const msgpack::object& o, Stage& stage, wire::ReadContext& cx) {
  std::string name;
  if (!wire::read_value(o, name, cx)) return false;
  auto parsed = parse_stage(name);
  if (!parsed) return cx.fail("is an unknown stage '" + name + "'");
  stage = *parsed;
  return true;
}

std::string encode(const Event& event) {
  if (event.v != 1) return wire::encode_record(event);
  // Version 1 events are stored as they were written: without `v`.
  wire::Buffer buf;
  wire::Packer pk(buf);
  pack_v1(pk, event, /*with_hashes=*/true);
  return std::string(wire::view(buf));
}

Result<Event> decode_event(const msgpack::object& o) {
  Event e;
  e.v = 1;  // a record without `v` is version 1
  wire::ReadContext cx("event");
  if (!wire::read_value(o, e, cx)) return Error{errc::kBadRequest, cx.error()};
  if (Status ok = check_event(e); !ok) return ok.error();
  if (!e.payload.is_object()) return Error{errc::kBadRequest, "event.payload must be a map"};
  return e;
}

Result<EventHead> read_event_head(const msgpack::object& o) {
  EventHead e;
  wire::ReadContext cx("event", /*keep_extras=*/false);
  if (!wire::read_value(o, e, cx)) return Error{errc::kBadRequest, cx.error()};
  if (Status ok = check_event(e); !ok) return ok.error();
  return e;
}

Result<Event> decode_event(std::string_view bytes) {
  auto h = wire::decode(bytes.data(), bytes.size());
  if (!h) return h.error();
  return decode_event(h->get());
}

std::string event_hash(const Event& event) { return chained_hash(event.prev_hash, canonical(event)); }

Result<std::string> event_hashed_bytes(const msgpack::object& event) {
  auto bytes = canonical(event);
  if (!bytes) return bytes.error();
  return hashed_input(str_of(find(event, "prev_hash")), *bytes);
}

Result<std::string> event_hash(const msgpack::object& event) {
  auto bytes = event_hashed_bytes(event);
  if (!bytes) return bytes.error();
  return sha256_hex(*bytes);
}

uint64_t first_bad_seq(const std::vector<Event>& trail) {
  std::string prev = kGenesisHash;
  for (size_t i = 0; i < trail.size(); ++i) {
    const Event& e = trail[i];
    if (e.seq != i + 1 || e.prev_hash != prev || event_hash(e) != e.hash) return i + 1;
    prev = e.hash;
  }
  return 0;
}

uint64_t first_bad_seq(const std::vector<const msgpack::object*>& trail) {
  std::string prev = kGenesisHash;
  for (size_t i = 0; i < trail.size(); ++i) {
    const msgpack::object& e = *trail[i];
    if (e.type != msgpack::type::MAP) return i + 1;
    const msgpack::object* seq = find(e, "seq");
    auto hash = event_hash(e);
    std::string stated = str_of(find(e, "hash"));
    if (!seq || seq->type != msgpack::type::POSITIVE_INTEGER || seq->via.u64 != i + 1 ||
        str_of(find(e, "prev_hash")) != prev || !hash || *hash != stated)
      return i + 1;
    prev = stated;
  }
  return 0;
}

wire::Json event_json(const msgpack::object& o) {
  auto e = decode_event(o);
  return e ? wire::record_json(*e) : wire::to_json(o);
}

std::string effective_date(const Event& event, const std::string& local_date_of_at) {
  auto it = event.payload.find("occurred_on");
  if (it != event.payload.end() && it->is_string()) return it->get<std::string>();
  return local_date_of_at;
}

}  // namespace closeloop
