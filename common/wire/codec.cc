#include "wire/codec.h"

#include <new>

#include "base/text.h"

namespace closeloop::wire {

Result<msgpack::object_handle> decode(const void* data, size_t size, const Limits& limits) {
  const char* bytes = static_cast<const char*>(data);
  size_t offset = 0;
  try {
    msgpack::unpack_limit limit(limits.max_array, limits.max_map, limits.max_str, limits.max_bin,
                                0 /* no ext types */, limits.max_depth);
    auto refer = [](msgpack::type::object_type, std::size_t, void*) { return true; };
    msgpack::object_handle handle =
        msgpack::unpack(bytes, size, offset, limits.reference ? +refer : nullptr, nullptr, limit);
    if (offset != size)
      return Error{errc::kBadRequest, "trailing bytes after the message (" +
                                          std::to_string(size - offset) + " bytes)"};
    return handle;
  } catch (const msgpack::insufficient_bytes&) {
    return Error{errc::kBadRequest, "truncated MessagePack"};
  } catch (const msgpack::depth_size_overflow&) {
    return Error{errc::kBadRequest, "MessagePack nesting beyond limits"};
  } catch (const msgpack::size_overflow&) {
    return Error{errc::kBadRequest, "MessagePack sizes beyond limits"};
  } catch (const msgpack::unpack_error& e) {
    return Error{errc::kBadRequest, std::string("malformed MessagePack: ") + e.what()};
  } catch (const std::bad_alloc&) {
    return Error{errc::kBadRequest, "MessagePack claims more memory than allowed"};
  } catch (const std::exception& e) {
    return Error{errc::kBadRequest, std::string("undecodable message: ") + e.what()};
  }
}

Fields::Fields(const msgpack::object& map, std::string_view what) : what_(what) {
  if (map.type == msgpack::type::MAP)
    map_ = &map;
  else
    fail(Error::of(errc::kBadRequest, N_("{what} must be a map"), {{"what", std::string(what)}}));
}

void Fields::fail(const std::string& code, const std::string& message) {
  if (!error_) error_ = Error{code, message};
}

void Fields::fail(Error error) {
  if (!error_) error_ = std::move(error);
}

// A field of the map that is not what it must be: `msgid` says how, of {what} and {field}.
void Fields::fail_field(const char* code, std::string_view msgid, std::string_view key,
                        MessageArgs more) {
  MessageArgs args{{"what", what_}};
  for (auto& arg : more) args.push_back(std::move(arg));
  fail(Error::of(code, msgid, std::move(args), std::string(key)));
}

const msgpack::object* Fields::find(std::string_view key) const {
  if (!map_) return nullptr;
  const auto& m = map_->via.map;
  for (uint32_t i = 0; i < m.size; ++i) {
    const auto& k = m.ptr[i].key;
    if (k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key) {
      const msgpack::object& v = m.ptr[i].val;
      return v.type == msgpack::type::NIL ? nullptr : &v;
    }
  }
  return nullptr;
}

std::optional<std::string> Fields::as_str(const msgpack::object& o, std::string_view key,
                                          size_t max_chars) {
  if (o.type != msgpack::type::STR) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be a string"), key);
    return std::nullopt;
  }
  std::string s(o.via.str.ptr, o.via.str.size);
  if (!valid_utf8(s)) {
    fail_field(errc::kBadRequest, N_("{what}.{field} is not valid UTF-8"), key);
    return std::nullopt;
  }
  if (s.size() > max_chars && utf8_length(s) > max_chars) {  // never more characters than bytes
    fail_field(errc::kInvalid, N_("{field} is longer than {max} characters"), key,
               {{"max", std::to_string(max_chars)}});
    return std::nullopt;
  }
  return s;
}

std::string Fields::str(std::string_view key, size_t max_chars) {
  auto v = opt_str(key, max_chars);
  if (!v && ok()) fail_field(errc::kBadRequest, N_("{what} lacks {field}"), key);
  return v.value_or("");
}

std::optional<std::string> Fields::opt_str(std::string_view key, size_t max_chars) {
  const msgpack::object* o = find(key);
  return o ? as_str(*o, key, max_chars) : std::nullopt;
}

uint64_t Fields::uint(std::string_view key) {
  auto v = opt_uint(key);
  if (!v && ok()) fail_field(errc::kBadRequest, N_("{what} lacks {field}"), key);
  return v.value_or(0);
}

std::optional<uint64_t> Fields::opt_uint(std::string_view key) {
  const msgpack::object* o = find(key);
  if (!o) return std::nullopt;
  if (o->type != msgpack::type::POSITIVE_INTEGER) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be a non-negative integer"), key);
    return std::nullopt;
  }
  return o->via.u64;
}

std::optional<bool> Fields::opt_bool(std::string_view key) {
  const msgpack::object* o = find(key);
  if (!o) return std::nullopt;
  if (o->type != msgpack::type::BOOLEAN) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be a boolean"), key);
    return std::nullopt;
  }
  return o->via.boolean;
}

std::optional<std::vector<std::string>> Fields::opt_str_list(std::string_view key,
                                                             size_t max_items, size_t max_chars) {
  const msgpack::object* o = find(key);
  if (!o) return std::nullopt;
  if (o->type != msgpack::type::ARRAY || o->via.array.size > max_items) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be an array of at most {max} strings"),
               key, {{"max", std::to_string(max_items)}});
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (uint32_t i = 0; i < o->via.array.size; ++i) {
    auto s = as_str(o->via.array.ptr[i], key, max_chars);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
  }
  return out;
}

const msgpack::object* Fields::opt_map(std::string_view key) {
  const msgpack::object* o = find(key);
  if (o && o->type != msgpack::type::MAP) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be a map"), key);
    return nullptr;
  }
  return o;
}

const msgpack::object* Fields::opt_array(std::string_view key, size_t max_items) {
  const msgpack::object* o = find(key);
  if (o && (o->type != msgpack::type::ARRAY || o->via.array.size > max_items)) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be an array of at most {max} entries"),
               key, {{"max", std::to_string(max_items)}});
    return nullptr;
  }
  return o;
}

namespace {
const msgpack::object& empty_object() {
  static const msgpack::object nil;
  return nil;
}
}  // namespace

const msgpack::object& Fields::map(std::string_view key) {
  const msgpack::object* o = opt_map(key);
  if (!o && ok()) fail_field(errc::kBadRequest, N_("{what} lacks {field}"), key);
  return o ? *o : empty_object();
}

const msgpack::object& Fields::array(std::string_view key) {
  const msgpack::object* o = find(key);
  if (!o || o->type != msgpack::type::ARRAY) {
    fail_field(errc::kBadRequest, N_("{what}.{field} must be an array"), key);
    return empty_object();
  }
  return *o;
}

std::string encoded_field(const msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; map.type == msgpack::type::MAP && i < map.via.map.size; ++i) {
    const msgpack::object& k = map.via.map.ptr[i].key;
    if (k.type != msgpack::type::STR || std::string_view(k.via.str.ptr, k.via.str.size) != key)
      continue;
    Buffer value;
    msgpack::pack(value, map.via.map.ptr[i].val);
    return std::string(view(value));
  }
  return "";
}

}  // namespace closeloop::wire
