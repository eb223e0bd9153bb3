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
// loses nothing. pack_value() writes every declared field, then the extras;
// read_value() takes each declared field that is present, leaves absent ones at their
// defaults (older records lack newer fields) and fails on a field of the wrong type.
//
// Field types: std::string (UTF-8), bool, uint64_t, Json, std::vector<T>,
// std::map<std::string, std::string>, nested records, and any type with ADL overloads
// of pack_value / read_value beside it (Stage does this).
#pragma once

#include <concepts>
#include <map>
#include <string>
#include <string_view>
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
  explicit ReadContext(std::string what) : path_(std::move(what)) {}
  bool fail(std::string_view problem);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The path of the field being read, for messages ("item.due_basis.rule").
  const std::string& path() const { return path_; }
  void enter(std::string_view key);
  void leave(size_t length) { path_.resize(length); }

 private:
  std::string path_, error_;
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
  pack_json(pk, v);
}
void pack_value(Packer& pk, const std::map<std::string, std::string>& v);
template <typename T>
void pack_value(Packer& pk, const std::vector<T>& v);
template <Record T>
void pack_value(Packer& pk, const T& record);

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
void pack_value(Packer& pk, const T& record) {
  uint32_t n = 0;
  T::fields(record, [&](std::string_view, const auto&) { ++n; });
  pk.pack_map(n + static_cast<uint32_t>(record.extras.fields.size()));
  T::fields(record, [&](std::string_view key, const auto& value) {
    pk.pack(key);
    pack_value(pk, value);
  });
  for (const auto& [key, value] : record.extras.fields.items()) {
    pk.pack(key);
    pack_json(pk, value);
  }
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

// Finds each declared key, starting where the previous one was found: records written
// by this version list their fields in declaration order, so each lookup is one step.
template <Record T>
bool read_value(const msgpack::object& o, T& record, ReadContext& cx) {
  if (o.type != msgpack::type::MAP) return cx.fail("must be a map");
  const msgpack::object_map& m = o.via.map;
  std::vector<bool> used(m.size, false);
  uint32_t hint = 0;
  T::fields(record, [&](std::string_view key, auto& value) {
    if (!cx.ok()) return;
    for (uint32_t k = 0; k < m.size; ++k) {
      uint32_t i = (hint + k) % m.size;
      const msgpack::object& name = m.ptr[i].key;
      if (name.type != msgpack::type::STR || std::string_view(name.via.str.ptr, name.via.str.size) != key)
        continue;
      used[i] = true;
      hint = i + 1;
      if (m.ptr[i].val.type == msgpack::type::NIL) return;  // nil reads as absent
      size_t length = cx.path().size();
      cx.enter(key);
      read_value(m.ptr[i].val, value, cx);
      cx.leave(length);
      return;
    }
  });
  if (!cx.ok()) return false;
  record.extras.fields = Json::object();
  for (uint32_t i = 0; i < m.size; ++i) {
    if (used[i]) continue;
    const msgpack::object& name = m.ptr[i].key;
    if (name.type != msgpack::type::STR) return cx.fail("has a key that is not a string");
    auto value = from_msgpack(m.ptr[i].val);
    if (!value) return cx.fail(value.error().message);
    record.extras.fields[std::string(name.via.str.ptr, name.via.str.size)] = std::move(*value);
  }
  return true;
}

// A whole record from bytes or from a decoded object; `what` names it in errors.
template <Record T>
Result<T> read_record(const msgpack::object& o, std::string what) {
  T record;
  ReadContext cx(std::move(what));
  if (!read_value(o, record, cx)) return Error{errc::kBadRequest, cx.error()};
  return record;
}

template <Record T>
Result<T> read_record(std::string_view bytes, std::string what) {
  auto decoded = decode(bytes.data(), bytes.size());
  if (!decoded) return decoded.error();
  return read_record<T>(decoded->get(), std::move(what));
}

template <Record T>
std::string encode_record(const T& record) {
  Buffer buf;
  Packer pk(buf);
  pack_value(pk, record);
  return std::string(view(buf));
}

// A record as JSON (its MessagePack form converted).
template <Record T>
Json record_json(const T& record) {
  std::string bytes = encode_record(record);
  return to_json(decode(bytes.data(), bytes.size())->get());
}

}  // namespace closeloop::wire
