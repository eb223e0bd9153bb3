// The envelope of every message (docs/protocol.md is the prose version).
//
//   request: {v: 1, type: "assign", id: <u64 correlation>, actor: "王芳", body: {...}}
//   reply:   {v: 1, type: "reply", id: <same u64>, ok: true,  body: {...}}
//            {v: 1, type: "reply", id: <same u64>, ok: false, error: {code, message}}
//
// `actor` is who acts, kept apart from the body so that it can later come from an
// authenticated key instead. Where each type goes is declared with its verb
// (workflow/verbs.h, service_for()).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "wire/codec.h"

namespace closeloop::wire {

inline constexpr uint64_t kVersion = 1;

struct Request {
  std::string type;
  uint64_t id = 0;
  // Who acts, as the client says: with CURVE only the name of its own account or, from
  // a gateway, of the person it acts for (the broker checks). Who sent a request is
  // never read from the message (net/backend.h: the broker's sender frame).
  std::string actor;
  msgpack::object body;  // a map; points into `handle`
  msgpack::object_handle handle;
};

struct Reply {
  uint64_t id = 0;
  bool ok = false;
  Error error;           // when !ok
  msgpack::object body;  // when ok: a map; points into `handle`
  msgpack::object_handle handle;
};

// Decoding fails with bad_request for anything but a well-formed envelope.
Result<Request> decode_request(const void* data, size_t size, const Limits& limits = {});
Result<Reply> decode_reply(const void* data, size_t size, const Limits& limits = {});

// `body` is an encoded MessagePack map (see MapBuilder).
std::string encode_request(std::string_view type, uint64_t id, std::string_view actor,
                           std::string_view body);
// The same with the body written in place by `body` (which packs one map into `out`):
// for large bodies, so that they are not encoded first and copied after.
void write_request(Buffer& out, std::string_view type, uint64_t id, std::string_view actor,
                   const std::function<void(Packer&)>& body);
std::string encode_reply(uint64_t id, std::string_view body);
std::string encode_error(uint64_t id, const Error& error);

// Builds a MessagePack map whose size is known only at the end (optional fields).
class MapBuilder {
 public:
  template <typename T>
  MapBuilder& add(std::string_view key, const T& value) {
    packer_.pack(key);
    packer_.pack(value);
    ++count_;
    return *this;
  }
  // Adds a field only when it is non-empty.
  MapBuilder& add_nonempty(std::string_view key, const std::string& value) {
    return value.empty() ? *this : add(key, value);
  }
  // Adds a field whose value is already encoded MessagePack.
  MapBuilder& add_raw(std::string_view key, std::string_view encoded);
  std::string finish() const;

 private:
  Buffer pairs_;
  Packer packer_{pairs_};
  uint32_t count_ = 0;
};

// The empty map, encoded.
std::string empty_map();

}  // namespace closeloop::wire
