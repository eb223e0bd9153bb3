#include "wire/message.h"

#include <span>

namespace closeloop::wire {

namespace {

// Reads {v, type, id}; the caller reads the rest.
bool read_header(Fields& f, std::string* type, uint64_t* id) {
  auto v = f.opt_uint("v");
  if (f.ok() && v && *v != kVersion)
    f.fail(errc::kBadRequest, "unsupported protocol version (this service speaks v=1)");
  *type = f.str("type");
  if (f.ok() && type->size() > 32) f.fail(errc::kBadRequest, "unknown message type");
  *id = f.uint("id");
  return f.ok();
}

// An error's msgid, arguments and field (base/result.h), when it was made for people.
void read_message(Fields& ef, Error& error) {
  error.msgid = ef.opt_str("msgid", 4096).value_or("");
  error.field = ef.opt_str("field", 64).value_or("");
  const msgpack::object* args = ef.opt_map("args");
  if (!args || !ef.ok()) return;
  for (const msgpack::object_kv& kv : std::span(args->via.map.ptr, args->via.map.size)) {
    if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::STR) continue;
    error.args.emplace_back(kv.key.as<std::string>(), kv.val.as<std::string>());
  }
}

std::string error_map(const Error& error) {
  MapBuilder m;
  m.add("code", error.code).add("message", error.message);
  if (!error.msgid.empty()) {
    m.add("msgid", error.msgid);
    MapBuilder args;
    for (const auto& [name, value] : error.args) args.add(name, value);
    if (!error.args.empty()) m.add_raw("args", args.finish());
  }
  return m.add_nonempty("field", error.field).finish();
}

}  // namespace

Result<Request> decode_request(const void* data, size_t size, const Limits& limits) {
  auto decoded = decode(data, size, limits);
  if (!decoded) return decoded.error();
  Request req;
  req.handle = std::move(*decoded);
  Fields f(req.handle.get(), "message");
  read_header(f, &req.type, &req.id);
  req.actor = f.opt_str("actor", 64).value_or("");
  req.body = f.map("body");
  if (!f.ok()) return f.error();
  return req;
}

Result<Reply> decode_reply(const void* data, size_t size, const Limits& limits) {
  auto decoded = decode(data, size, limits);
  if (!decoded) return decoded.error();
  Reply rep;
  rep.handle = std::move(*decoded);
  Fields f(rep.handle.get(), "reply");
  std::string type;
  read_header(f, &type, &rep.id);
  rep.ok = f.opt_bool("ok").value_or(false);
  if (rep.ok) {
    rep.body = f.map("body");
  } else if (const msgpack::object* e = f.opt_map("error")) {
    Fields ef(*e, "reply.error");
    rep.error = {ef.str("code", 64), ef.str("message")};
    read_message(ef, rep.error);
    if (!ef.ok()) return ef.error();
  } else {
    f.fail(errc::kBadRequest, "reply has neither ok nor error");
  }
  if (f.ok() && type != "reply") f.fail(errc::kBadRequest, "expected a reply, got " + type);
  if (!f.ok()) return f.error();
  return rep;
}

std::string encode_request(std::string_view type, uint64_t id, std::string_view actor,
                           std::string_view body) {
  MapBuilder m;
  m.add("v", kVersion).add("type", type).add("id", id);
  if (!actor.empty()) m.add("actor", actor);
  return m.add_raw("body", body).finish();
}

void write_request(Buffer& out, std::string_view type, uint64_t id, std::string_view actor,
                   const std::function<void(Packer&)>& body) {
  Packer pk(out);
  pk.pack_map(actor.empty() ? 4 : 5);
  pk.pack("v"), pk.pack(kVersion);
  pk.pack("type"), pk.pack(type);
  pk.pack("id"), pk.pack(id);
  if (!actor.empty()) pk.pack("actor"), pk.pack(actor);
  pk.pack("body");
  body(pk);
}

std::string encode_reply(uint64_t id, std::string_view body) {
  return MapBuilder()
      .add("v", kVersion)
      .add("type", "reply")
      .add("id", id)
      .add("ok", true)
      .add_raw("body", body)
      .finish();
}

std::string encode_error(uint64_t id, const Error& error) {
  std::string err = error_map(error);
  return MapBuilder()
      .add("v", kVersion)
      .add("type", "reply")
      .add("id", id)
      .add("ok", false)
      .add_raw("error", err)
      .finish();
}

MapBuilder& MapBuilder::add_raw(std::string_view key, std::string_view encoded) {
  packer_.pack(key);
  pack_raw(pairs_, encoded);
  ++count_;
  return *this;
}

std::string MapBuilder::finish() const {
  Buffer out;
  Packer(out).pack_map(count_);
  pack_raw(out, view(pairs_));
  return std::string(view(out));
}

std::string empty_map() { return MapBuilder().finish(); }

}  // namespace closeloop::wire
