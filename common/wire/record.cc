#include "wire/record.h"

#include "base/text.h"

namespace closeloop::wire {

bool ReadContext::fail(std::string_view problem) {
  if (error_.empty()) error_ = path_ + " " + std::string(problem);
  return false;
}

void ReadContext::enter(std::string_view key) {
  path_ += '.';
  path_ += key;
}

void pack_value(Packer& pk, const std::map<std::string, std::string>& v) {
  pk.pack_map(static_cast<uint32_t>(v.size()));
  for (const auto& [key, value] : v) {
    pk.pack(key);
    pk.pack(value);
  }
}

bool read_value(const msgpack::object& o, std::string& v, ReadContext& cx) {
  if (o.type != msgpack::type::STR) return cx.fail("must be a string");
  v.assign(o.via.str.ptr, o.via.str.size);
  return valid_utf8(v) || cx.fail("is not valid UTF-8");
}

bool read_value(const msgpack::object& o, bool& v, ReadContext& cx) {
  if (o.type != msgpack::type::BOOLEAN) return cx.fail("must be a boolean");
  v = o.via.boolean;
  return true;
}

bool read_value(const msgpack::object& o, uint64_t& v, ReadContext& cx) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return cx.fail("must be a non-negative integer");
  v = o.via.u64;
  return true;
}

bool read_value(const msgpack::object& o, Json& v, ReadContext& cx) {
  auto value = from_msgpack(o);
  if (!value) return cx.fail(value.error().message);
  v = std::move(*value);
  return true;
}

bool read_value(const msgpack::object& o, std::map<std::string, std::string>& v,
                ReadContext& cx) {
  if (o.type != msgpack::type::MAP) return cx.fail("must be a map");
  v.clear();
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    std::string key, value;
    if (!read_value(o.via.map.ptr[i].key, key, cx) || !read_value(o.via.map.ptr[i].val, value, cx))
      return false;
    v[std::move(key)] = std::move(value);
  }
  return true;
}

}  // namespace closeloop::wire
