// Strict MessagePack decoding and a typed reader for maps.
//
// Every frame that enters a process goes through decode(): bounded sizes and
// nesting (so a 5-byte header claiming 4 billion elements is refused, not
// allocated), no trailing bytes, every library exception turned into an Error.
// Fields then reads a map field by field, checking each type (a string must be
// STR, not BIN, and valid UTF-8) and remembering the first problem, so decoders
// read straight through and check ok() once at the end. Unknown keys are ignored,
// so newer peers may add fields.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace closeloop::wire {

// Bounds for one decoded frame. The frame size itself is bounded by ZMQ_MAXMSGSIZE.
struct Limits {
  size_t max_array = 4096;
  size_t max_map = 64;
  size_t max_str = 1 << 20;
  size_t max_bin = 1 << 20;
  size_t max_depth = 8;
  // Strings and binaries point into the input instead of being copied: only for input
  // that outlives every use of the decoded object (a worker's request while it is served).
  bool reference = false;
};

// Decodes exactly one MessagePack object spanning all of [data, data + size).
Result<msgpack::object_handle> decode(const void* data, size_t size, const Limits& limits = {});

// Reads typed fields from a MessagePack map. `what` names the map in errors.
class Fields {
 public:
  Fields(const msgpack::object& map, std::string_view what);

  // Required fields (absent or mistyped records an error and returns a default).
  std::string str(std::string_view key, size_t max_chars = 1 << 16);
  uint64_t uint(std::string_view key);
  const msgpack::object& map(std::string_view key);
  const msgpack::object& array(std::string_view key);

  // Optional fields: absent (or nil) gives nullopt/nullptr; a wrong type is an error.
  std::optional<std::string> opt_str(std::string_view key, size_t max_chars = 1 << 16);
  std::optional<uint64_t> opt_uint(std::string_view key);
  std::optional<bool> opt_bool(std::string_view key);
  std::optional<std::vector<std::string>> opt_str_list(std::string_view key, size_t max_items,
                                                       size_t max_chars);
  const msgpack::object* opt_map(std::string_view key);
  const msgpack::object* opt_array(std::string_view key, size_t max_items);

  bool ok() const { return !error_; }
  const Error& error() const { return *error_; }
  // Records an error found by the caller (the first one wins).
  void fail(const std::string& code, const std::string& message);
  void fail(Error error);  // the first failure is the one kept

 private:
  const msgpack::object* find(std::string_view key) const;
  std::optional<std::string> as_str(const msgpack::object& o, std::string_view key,
                                    size_t max_chars);

  const msgpack::object* map_ = nullptr;
  std::string what_;
  std::optional<Error> error_;
  void fail_field(const char* code, std::string_view msgid, std::string_view key,
                  MessageArgs more = {});
};

// The encoded value of `key` in a map, or empty if absent (or `map` is not a map).
std::string encoded_field(const msgpack::object& map, std::string_view key);

// Writing side: a packer into a growable buffer, plus a helper for key/value pairs.
using Buffer = msgpack::sbuffer;
using Packer = msgpack::packer<msgpack::sbuffer>;

inline std::string_view view(const Buffer& b) { return {b.data(), b.size()}; }

// Appends already-encoded MessagePack bytes as the next value.
inline void pack_raw(Buffer& out, std::string_view encoded) {
  out.write(encoded.data(), encoded.size());
}

}  // namespace closeloop::wire
