// Records: structs stored and handed between workers as MessagePack maps, each field
// declared once. A record struct lists its fields in one static function,
//
//   template <class Self, class Visit> static void fields(Self& self, Visit&& visit) {
//     visit("id", self.id);
//     visit("stage", self.stage);
//   }
//
// and holds `wire::Extras extras`: fields of a newer writer that this reader does not
// know, kept and written back unchanged, so a record passing through an older worker
// loses nothing.
//
// Stored and sent, a record is compact: pack_value() writes the declared fields that do
// not hold their type's default (an empty string or list, false, 0, an all-default
// record), then the extras; read_value() takes each declared field that is present and
// leaves absent ones at their defaults (older records lack newer fields too), and fails
// on a field of the wrong type. So a record costs what it says, not what it could say,
// and the same record always packs to the same bytes. Shown to people and clients, it is
// whole: record_json() gives every declared field, defaults included.
//
// Field types: std::string (UTF-8), bool, uint64_t, Json, std::vector<T>,
// std::map<std::string, std::string>, nested records, and any type with ADL overloads
// of pack_value / read_value beside it (Stage does this).
#pragma once

#include <concepts>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "wire/codec.h"
#include "wire/json.h"

namespace closeloop::wire {

struct Extras {
  Json fields = Json::object();  // key -> value, in the JSON data model
  bool operator==(const Extras&) const = default;
};

template <typename T>
concept Record = requires(T& t) { t.extras; };

// Where reading stands: the first problem wins, named by the field's path.
class ReadContext {
 public:
  explicit ReadContext(std::string what, bool keep_extras = true)
      : path_(std::move(what)), keep_extras_(keep_extras) {}
  // Whether fields the record does not declare are kept (a full record) or skipped (a
  // view of a few fields, read for an index).
  bool keep_extras() const { return keep_extras_; }
  bool fail(std::string_view problem);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The path of the field being read, for messages ("item.due_basis.rule").
  const std::string& path() const { return path_; }
  void enter(std::string_view key);
  void leave(size_t length) { path_.resize(length); }

 private:
  std::string path_, error_;
  bool keep_extras_ = true;
};

// ---- declarations first, so that each overload sees the others ----
inline void pack_value(Packer& pk, const std::string& v) { pk.pack(v); }
inline void pack_value(Packer& pk, bool v) { pk.pack(v); }
inline void pack_value(Packer& pk, uint64_t v) { pk.pack(v); }
// Exactly Json: nlohmann converts enums and more to Json implicitly, which would hide a
// missing overload (a Stage must pack as its name, not its number).
template <typename T>
  requires std::same_as<T, Json>
void pack_value(Packer& pk, const T& v) {
  pack_json_compact(pk, v);
}
void pack_value(Packer& pk, const std::map<std::string, std::string>& v);
template <typename T>
void pack_value(Packer& pk, const std::vector<T>& v);
template <Record T>
void pack_value(Packer& pk, const T& record);

// Whether a field holds its type's default, and is left out of the packed record. A type
// without an overload (Stage) is always written.
inline bool is_default(const std::string& v) { return v.empty(); }
inline bool is_default(bool v) { return !v; }
inline bool is_default(uint64_t v) { return v == 0; }
template <typename T>
  requires std::same_as<T, Json>
bool is_default(const T& v) {
  return json_is_default(v);
}
inline bool is_default(const std::map<std::string, std::string>& v) { return v.empty(); }
template <typename T>
bool is_default(const std::vector<T>& v) {
  return v.empty();
}
template <Record T>
bool is_default(const T& record);
template <typename T>
bool is_default(const T&) {
  return false;
}

// Every declared field as JSON, defaults included, then the extras.
inline Json to_json_value(const std::string& v) { return v; }
inline Json to_json_value(bool v) { return v; }
inline Json to_json_value(uint64_t v) { return v; }
template <typename T>
  requires std::same_as<T, Json>
Json to_json_value(const T& v) {
  return v;
}
inline Json to_json_value(const std::map<std::string, std::string>& v) { return Json(v); }
template <typename T>
Json to_json_value(const std::vector<T>& v);
template <Record T>
Json to_json_value(const T& record);

bool read_value(const msgpack::object& o, std::string& v, ReadContext& cx);
bool read_value(const msgpack::object& o, bool& v, ReadContext& cx);
bool read_value(const msgpack::object& o, uint64_t& v, ReadContext& cx);
bool read_value(const msgpack::object& o, Json& v, ReadContext& cx);
bool read_value(const msgpack::object& o, std::map<std::string, std::string>& v,
                ReadContext& cx);
template <typename T>
bool read_value(const msgpack::object& o, std::vector<T>& v, ReadContext& cx);
template <Record T>
bool read_value(const msgpack::object& o, T& record, ReadContext& cx);

// ---- definitions ----
template <typename T>
void pack_value(Packer& pk, const std::vector<T>& v) {
  pk.pack_array(static_cast<uint32_t>(v.size()));
  for (const T& e : v) pack_value(pk, e);
}

template <Record T>
bool is_default(const T& record) {
  bool all = record.extras.fields.empty();
  T::fields(record, [&](std::string_view, const auto& value) { all = all && is_default(value); });
  return all;
}

template <Record T>
void pack_value(Packer& pk, const T& record) {
  uint32_t n = 0;
  T::fields(record, [&](std::string_view, const auto& value) { n += !is_default(value); });
  pk.pack_map(n + static_cast<uint32_t>(record.extras.fields.size()));
  T::fields(record, [&](std::string_view key, const auto& value) {
    if (is_default(value)) return;
    pk.pack(key);
    pack_value(pk, value);
  });
  for (const auto& [key, value] : record.extras.fields.items()) {
    pk.pack(key);
    pack_json_compact(pk, value);
  }
}

template <typename T>
Json to_json_value(const std::vector<T>& v) {
  Json out = Json::array();
  for (const T& e : v) out.push_back(to_json_value(e));
  return out;
}

template <Record T>
Json to_json_value(const T& record) {
  Json out = record.extras.fields;
  T::fields(record, [&](std::string_view key, const auto& value) {
    out[std::string(key)] = to_json_value(value);
  });
  return out;
}

template <typename T>
bool read_value(const msgpack::object& o, std::vector<T>& v, ReadContext& cx) {
  if (o.type != msgpack::type::ARRAY) return cx.fail("must be an array");
  v.clear();
  v.resize(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size; ++i)
    if (!read_value(o.via.array.ptr[i], v[i], cx)) return false;
  return true;
}

// The declared fields of a record type by name, numbered in declaration order; built
// once per type.
template <Record T>
const std::unordered_map<std::string_view, size_t>& field_numbers() {
  static const auto numbers = [] {
    std::unordered_map<std::string_view, size_t> out;
    T probe;
    T::fields(probe, [&](std::string_view key, auto&) { out.emplace(key, out.size()); });
    return out;
  }();
  return numbers;
}

// One pass over the map puts each entry in its declared field's slot (or among the
// extras), then one pass over the declared fields reads those present: O(fields +
// entries), whatever order a writer chose.
template <Record T>
bool read_value(const msgpack::object& o, T& record, ReadContext& cx) {
  if (o.type != msgpack::type::MAP) return cx.fail("must be a map");
  const auto& numbers = field_numbers<T>();
  std::vector<const msgpack::object*> slots(numbers.size(), nullptr);
  record.extras.fields = Json::object();
  const msgpack::object_map& m = o.via.map;
  for (uint32_t i = 0; i < m.size; ++i) {
    const msgpack::object& name = m.ptr[i].key;
    if (name.type != msgpack::type::STR) return cx.fail("has a key that is not a string");
    std::string_view key(name.via.str.ptr, name.via.str.size);
    if (auto it = numbers.find(key); it != numbers.end()) {
      slots[it->second] = &m.ptr[i].val;
      continue;
    }
    if (!cx.keep_extras()) continue;
    auto value = from_msgpack(m.ptr[i].val);
    if (!value) return cx.fail(value.error().message);
    record.extras.fields[std::string(key)] = std::move(*value);
  }
  size_t n = 0;
  T::fields(record, [&](std::string_view key, auto& value) {
    const msgpack::object* slot = slots[n++];
    if (!cx.ok() || !slot || slot->type == msgpack::type::NIL) return;  // nil reads as absent
    size_t length = cx.path().size();
    cx.enter(key);
    read_value(*slot, value, cx);
    cx.leave(length);
  });
  return cx.ok();
}

// A whole record (or, with keep_extras false, a view of the fields T declares) from bytes
// or from a decoded object; `what` names it in errors.
template <Record T>
Result<T> read_record(const msgpack::object& o, std::string what, bool keep_extras = true) {
  T record;
  ReadContext cx(std::move(what), keep_extras);
  if (!read_value(o, record, cx)) return Error{errc::kBadRequest, cx.error()};
  return record;
}

template <Record T>
Result<T> read_record(std::string_view bytes, std::string what, bool keep_extras = true) {
  auto decoded = decode(bytes.data(), bytes.size());
  if (!decoded) return decoded.error();
  return read_record<T>(decoded->get(), std::move(what), keep_extras);
}

template <Record T>
std::string encode_record(const T& record) {
  Buffer buf;
  Packer pk(buf);
  pack_value(pk, record);
  return std::string(view(buf));
}

// A record as JSON: every declared field, defaults included (the form clients see).
template <Record T>
Json record_json(const T& record) {
  return to_json_value(record);
}

}  // namespace closeloop::wire
