#include "wire/json.h"

#include <algorithm>
#include <vector>

#include "base/text.h"

namespace closeloop::wire {

namespace {
std::string_view key_of(const msgpack::object_kv& kv) {
  return {kv.key.via.str.ptr, kv.key.via.str.size};
}
}  // namespace

Json to_json(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return nullptr;
    case msgpack::type::BOOLEAN:
      return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER:
      return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return o.via.f64;
    case msgpack::type::STR:
      return std::string(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN:
      return to_hex({o.via.bin.ptr, o.via.bin.size});
    case msgpack::type::EXT:
      return to_hex({o.via.ext.ptr, o.via.ext.size});
    case msgpack::type::ARRAY: {
      Json out = Json::array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) out.push_back(to_json(o.via.array.ptr[i]));
      return out;
    }
    case msgpack::type::MAP: {
      Json out = Json::object();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        std::string key = kv.key.type == msgpack::type::STR ? std::string(key_of(kv))
                                                            : dump(to_json(kv.key));
        out[key] = to_json(kv.val);
      }
      return out;
    }
  }
  return nullptr;
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

void pack_json(Packer& pk, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      pk.pack_nil();
      return;
    case Json::value_t::boolean:
      pk.pack(v.get<bool>());
      return;
    case Json::value_t::number_unsigned:
      pk.pack(v.get<uint64_t>());
      return;
    case Json::value_t::number_integer:
      pk.pack(v.get<int64_t>());  // msgpack-cxx packs a non-negative int64 as unsigned
      return;
    case Json::value_t::number_float:
      pk.pack(v.get<double>());
      return;
    case Json::value_t::string:
      pk.pack(v.get_ref<const std::string&>());
      return;
    case Json::value_t::binary:
      pk.pack(to_hex(std::string_view(reinterpret_cast<const char*>(v.get_binary().data()),
                                      v.get_binary().size())));
      return;
    case Json::value_t::array:
      pk.pack_array(static_cast<uint32_t>(v.size()));
      for (const Json& e : v) pack_json(pk, e);
      return;
    case Json::value_t::object:
      pk.pack_map(static_cast<uint32_t>(v.size()));
      for (const auto& [key, value] : v.items()) {
        pk.pack(key);
        pack_json(pk, value);
      }
      return;
  }
}

bool json_is_default(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return true;
    case Json::value_t::boolean:
      return !v.get<bool>();
    case Json::value_t::number_unsigned:
    case Json::value_t::number_integer:
      return v.get<int64_t>() == 0;
    case Json::value_t::string:
      return v.get_ref<const std::string&>().empty();
    case Json::value_t::array:
      return v.empty();
    case Json::value_t::object:
      return std::all_of(v.begin(), v.end(), [](const Json& e) { return json_is_default(e); });
    default:
      return false;
  }
}

void pack_json_compact(Packer& pk, const Json& v) {
  if (v.type() == Json::value_t::array) {
    pk.pack_array(static_cast<uint32_t>(v.size()));
    for (const Json& e : v) pack_json_compact(pk, e);
    return;
  }
  if (v.type() != Json::value_t::object) return pack_json(pk, v);
  uint32_t n = 0;
  for (const auto& [key, value] : v.items()) n += !json_is_default(value);
  pk.pack_map(n);
  for (const auto& [key, value] : v.items()) {
    if (json_is_default(value)) continue;
    pk.pack(key);
    pack_json_compact(pk, value);
  }
}

std::string encode_json(const Json& value) {
  Buffer buf;
  Packer pk(buf);
  pack_json(pk, value);
  return std::string(view(buf));
}

namespace {
bool object_is_default(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return true;
    case msgpack::type::BOOLEAN:
      return !o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return o.via.u64 == 0;
    case msgpack::type::STR:
      return o.via.str.size == 0;
    case msgpack::type::ARRAY:
      return o.via.array.size == 0;
    case msgpack::type::MAP:
      for (uint32_t i = 0; i < o.via.map.size; ++i)
        if (!object_is_default(o.via.map.ptr[i].val)) return false;
      return true;
    default:
      return false;
  }
}
}  // namespace

bool canonical_pack(Packer& pk, const msgpack::object& o, bool drop_defaults) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
    case msgpack::type::BIN:
    case msgpack::type::EXT:
      return false;
    case msgpack::type::ARRAY:
      pk.pack_array(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i)
        if (!canonical_pack(pk, o.via.array.ptr[i], drop_defaults)) return false;
      return true;
    case msgpack::type::MAP: {
      std::vector<const msgpack::object_kv*> entries;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        if (o.via.map.ptr[i].key.type != msgpack::type::STR) return false;
        if (drop_defaults && object_is_default(o.via.map.ptr[i].val)) continue;
        entries.push_back(&o.via.map.ptr[i]);
      }
      std::sort(entries.begin(), entries.end(),
                [](auto* a, auto* b) { return key_of(*a) < key_of(*b); });
      pk.pack_map(static_cast<uint32_t>(entries.size()));
      for (const msgpack::object_kv* kv : entries) {
        pk.pack(key_of(*kv));
        if (!canonical_pack(pk, kv->val, drop_defaults)) return false;
      }
      return true;
    }
    default:
      pk.pack(o);  // scalars: msgpack-cxx writes the smallest form
      return true;
  }
}

Result<Json> from_msgpack(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
    case msgpack::type::BIN:
    case msgpack::type::EXT:
      return Error{errc::kBadRequest, "a record holds a value outside the JSON data model"};
    case msgpack::type::ARRAY: {
      Json out = Json::array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        auto e = from_msgpack(o.via.array.ptr[i]);
        if (!e) return e;
        out.push_back(std::move(*e));
      }
      return out;
    }
    case msgpack::type::MAP: {
      Json out = Json::object();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          return Error{errc::kBadRequest, "a record's map key is not a string"};
        auto v = from_msgpack(kv.val);
        if (!v) return v;
        out[std::string(key_of(kv))] = std::move(*v);
      }
      return out;
    }
    case msgpack::type::STR: {
      std::string s(o.via.str.ptr, o.via.str.size);
      if (!valid_utf8(s)) return Error{errc::kBadRequest, "a record's string is not valid UTF-8"};
      return Json(std::move(s));
    }
    default:
      return to_json(o);
  }
}

}  // namespace closeloop::wire
