#include "workflow/item.h"

#include <openssl/evp.h>

#include "base/text.h"

namespace closeloop {

void pack(wire::Packer& pk, const Item& item) {
  pk.pack_map(16);
  pk.pack("id"), pk.pack(item.id);
  pk.pack("stage"), pk.pack(to_string(item.stage));
  pk.pack("title"), pk.pack(item.title);
  pk.pack("body"), pk.pack(item.body);
  pk.pack("category"), pk.pack(item.category);
  pk.pack("source"), pk.pack(item.source);
  pk.pack("submitter"), pk.pack(item.submitter);
  pk.pack("department"), pk.pack(item.department);
  pk.pack("co_departments"), pk.pack(item.co_departments);
  pk.pack("due"), pk.pack(item.due);
  pk.pack("rework_count"), pk.pack(item.rework_count);
  pk.pack("created_at"), pk.pack(item.created_at);
  pk.pack("updated_at"), pk.pack(item.updated_at);
  pk.pack("seq"), pk.pack(item.seq);
  pk.pack("head"), pk.pack(item.head);
  pk.pack("last_action"), pk.pack(item.last_action);
}

namespace {

// The event's fields; without the hashes this is the canonical form hashed into the chain.
void pack_event(wire::Packer& pk, const Event& e, bool with_hashes) {
  pk.pack_map(with_hashes ? 10 : 8);
  pk.pack("item"), pk.pack(e.item);
  pk.pack("seq"), pk.pack(e.seq);
  pk.pack("stage"), pk.pack(to_string(e.stage));
  pk.pack("action"), pk.pack(e.action);
  pk.pack("actor"), pk.pack(e.actor);
  pk.pack("department"), pk.pack(e.department);
  pk.pack("at"), pk.pack(e.at);
  pk.pack("payload"), pk.pack(e.payload);  // std::map: sorted keys
  if (!with_hashes) return;
  pk.pack("prev_hash"), pk.pack(e.prev_hash);
  pk.pack("hash"), pk.pack(e.hash);
}

template <typename T>
std::string encode_with_pack(const T& value) {
  wire::Buffer buf;
  wire::Packer pk(buf);
  pack(pk, value);
  return std::string(wire::view(buf));
}

Result<Stage> stage_field(wire::Fields& f) {
  std::string name = f.str("stage", 16);
  auto stage = parse_stage(name);
  if (!stage && f.ok()) f.fail(errc::kBadRequest, "unknown stage " + name);
  return stage.value_or(Stage::kSubmitted);
}

}  // namespace

void pack(wire::Packer& pk, const Event& e) { pack_event(pk, e, true); }

std::string encode(const Item& item) { return encode_with_pack(item); }
std::string encode(const Event& event) { return encode_with_pack(event); }

Result<Item> decode_item(const msgpack::object& o) {
  wire::Fields f(o, "item");
  Item item;
  item.id = f.str("id", 64);
  item.stage = *stage_field(f);
  item.title = f.str("title");
  item.body = f.str("body");
  item.category = f.str("category");
  item.source = f.str("source");
  item.submitter = f.str("submitter");
  item.department = f.str("department");
  item.co_departments = f.opt_str_list("co_departments", 64, 64).value_or(std::vector<std::string>{});
  item.due = f.str("due");
  item.rework_count = f.uint("rework_count");
  item.created_at = f.str("created_at");
  item.updated_at = f.str("updated_at");
  item.seq = f.uint("seq");
  item.head = f.str("head");
  item.last_action = f.str("last_action");
  if (!f.ok()) return f.error();
  return item;
}

Result<Event> decode_event(const msgpack::object& o) {
  wire::Fields f(o, "event");
  Event e;
  e.item = f.str("item", 64);
  e.seq = f.uint("seq");
  e.stage = *stage_field(f);
  e.action = f.str("action", 16);
  e.actor = f.str("actor");
  e.department = f.str("department");
  e.at = f.str("at");
  const msgpack::object& payload = f.map("payload");
  if (f.ok()) {
    wire::Fields pf(payload, "event.payload");
    for (uint32_t i = 0; i < payload.via.map.size; ++i) {
      const msgpack::object& k = payload.via.map.ptr[i].key;
      if (k.type != msgpack::type::STR) return Error{errc::kBadRequest, "payload key not a string"};
      std::string key(k.via.str.ptr, k.via.str.size);
      e.payload[key] = pf.str(key);
    }
    if (!pf.ok()) return pf.error();
  }
  e.prev_hash = f.str("prev_hash", 64);
  e.hash = f.str("hash", 64);
  if (!f.ok()) return f.error();
  return e;
}

Result<Item> decode_item(std::string_view bytes) {
  auto h = wire::decode(bytes.data(), bytes.size());
  if (!h) return h.error();
  return decode_item(h->get());
}

Result<Event> decode_event(std::string_view bytes) {
  auto h = wire::decode(bytes.data(), bytes.size());
  if (!h) return h.error();
  return decode_event(h->get());
}

std::string event_hash(const Event& event) {
  std::string prev;
  if (!from_hex(event.prev_hash, &prev) || prev.size() != 32) prev.assign(32, '\xff');
  wire::Buffer buf;
  wire::Packer pk(buf);
  pack_event(pk, event, false);
  std::string input = prev;
  input.append(buf.data(), buf.size());
  // Fetched once: OpenSSL 3 would otherwise look the algorithm up on every call.
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, sha256, nullptr);
  return to_hex(std::string_view(reinterpret_cast<char*>(digest), len));
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

}  // namespace closeloop
