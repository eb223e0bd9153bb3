#include "net/client.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <zmq_addon.hpp>

#include "net/backend.h"
#include "base/clock.h"

namespace closeloop {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// A timeout after refusals that said "retry" (unavailable, in transit): the English message
// says so, and the refusal's msgid and arguments stay, for a client to say why in its
// reader's language.
Error gave_up(const Error& refusal) {
  Error error = refusal;
  error.code = errc::kTimeout;
  error.message = "gave up within the timeout: " + refusal.message;
  return error;
}

}  // namespace

Result<std::optional<ClientKeys>> find_keys(const Config& config, std::string file,
                                            std::string server) {
  if (file.empty()) file = env("CLOSELOOP_KEY");
  if (file.empty()) file = config.key;
  if (file.empty() && !config.curve()) return std::optional<ClientKeys>();
  std::string keys = security::keys_dir(config.data_dir);
  if (file.empty()) file = keys + "/office.key";
  auto own = security::read_key_file(file);
  if (!own)
    return Error::of(errc::kInvalid,
                     N_("no usable key: {reason} (give {field}, $CLOSELOOP_KEY or the config's "
                        "key)"),
                     {{"reason", own.error().message}}, "key");
  if (server.empty()) server = env("CLOSELOOP_SERVER_KEY");
  if (server.empty()) server = config.server_key;
  if (server.empty()) {
    auto pub = security::read_public_key(keys + "/broker.pub");
    if (!pub)
      return Error::of(errc::kInvalid,
                       N_("no server key: {reason} (give {field}, $CLOSELOOP_SERVER_KEY or the "
                          "config's server_key)"),
                       {{"reason", pub.error().message}}, "server-key");
    server = *pub;
  }
  if (!security::valid_z85_key(server))
    return Error::of(errc::kInvalid,
                     N_("the server key is not a public key (40 characters of Z85)"), {},
                     "server-key");
  return std::optional<ClientKeys>(ClientKeys{*own, server});
}

Client::Client(const std::string& endpoint, int timeout_ms, int64_t max_message_bytes,
               std::optional<ClientKeys> keys)
    : context_(1),
      endpoint_(endpoint),
      max_message_bytes_(max_message_bytes),
      keys_(std::move(keys)),
      timeout_ms_(timeout_ms) {
  open();
  // Random start so that replies meant for an earlier process's ids are not mistaken.
  next_id_ = std::random_device{}() * 4096ull;
}

// A fresh socket (libzmq does not reconnect after a refused handshake) and its monitor.
void Client::open() {
  monitor_ = zmq::socket_t();
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::maxmsgsize, max_message_bytes_);
  socket_.set(zmq::sockopt::linger, 0);
  if (keys_) {
    socket_.set(zmq::sockopt::curve_serverkey, keys_->server_key);
    socket_.set(zmq::sockopt::curve_publickey, keys_->own.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys_->own.secret_key);
  }
  // Watched with or without keys: a client without one meets a CURVE service as a failed
  // handshake too.
  std::string address = "inproc://client-monitor-" + std::to_string(++monitors_);
  constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                          ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (zmq_socket_monitor(socket_.handle(), address.c_str(), kEvents) != 0) throw zmq::error_t();
  monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
  monitor_.connect(address);
  failed_handshakes_ = 0;
  connected_ = false;
  socket_.connect(endpoint_);
}

// What the monitor has seen that makes waiting pointless: the service refused the key
// (unauthenticated), or cannot decide yet (unavailable), or closed two connections in
// their handshake (a wrong server key looks like that). Reopens the socket if so.
std::optional<Error> Client::handshake_problem() {
  std::optional<Error> problem;
  std::vector<zmq::message_t> frames;
  while (!problem &&
         zmq::recv_multipart(monitor_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    uint16_t event = 0;
    uint32_t value = 0;
    if (frames[0].size() >= 6) {
      std::memcpy(&event, frames[0].data(), 2);
      std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
    }
    frames.clear();
    if (event == ZMQ_EVENT_CONNECTED) connected_ = true;
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) connected_ = false, failed_handshakes_ = 0;
    if (event == ZMQ_EVENT_DISCONNECTED && std::exchange(connected_, false) &&
        ++failed_handshakes_ >= 2)
      problem = Error::of(errc::kUnauthenticated,
                          N_("the service closes the connection during the handshake: is the "
                             "server key ({field}) this service's public key?"),
                          {}, "server-key");
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
      problem = Error::of(errc::kUnauthenticated,
                          keys_ ? N_("the handshake with the service failed (it may not take "
                                     "CURVE keys, or the server key is not its own)")
                                : N_("the handshake with the service failed: it may want a key "
                                     "(CURVE)"));
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)  // 400; 300 and 500 mean "not now"
      problem = value != 400
                    ? Error::of(errc::kUnavailable,
                                N_("the service cannot check keys now (ZAP {status})"),
                                {{"status", std::to_string(value)}})
                    : Error::of(errc::kUnauthenticated,
                                N_("the service does not accept this key: no enabled account "
                                   "holds it"));
  }
  if (problem) open();
  return problem;
}

uint64_t Client::send(std::string_view type, std::string_view actor, std::string_view body) {
  uint64_t id = ++next_id_;
  std::string payload = wire::encode_request(type, id, actor, body);
  socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait);
  return id;
}

Result<wire::Reply> Client::receive(int timeout_ms) {
  const int64_t deadline = monotonic_ms() + std::max(timeout_ms, 0);
  for (;;) {
    zmq::pollitem_t items[] = {{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(monitor_), 0, ZMQ_POLLIN, 0}};
    int64_t left = std::max<int64_t>(deadline - monotonic_ms(), 0);
    zmq::poll(items, 2, std::chrono::milliseconds(left));
    if (items[0].revents & ZMQ_POLLIN) break;
    if (items[1].revents & ZMQ_POLLIN) {
      if (auto problem = handshake_problem()) return *problem;
      continue;
    }
    if (monotonic_ms() >= deadline)
      return Error::of(errc::kTimeout, N_("no answer from the service within the timeout"));
  }
  zmq::message_t message;
  (void)socket_.recv(message, zmq::recv_flags::none);
  wire::Limits limits;
  limits.max_array = 1 << 20;  // a list reply; its size is bounded by ZMQ_MAXMSGSIZE
  return wire::decode_reply(message.data(), message.size(), limits);
}

Result<wire::Reply> Client::call(std::string_view type, std::string_view actor,
                                 std::string_view body) {
  const int64_t deadline = monotonic_ms() + timeout_ms_;
  int backoff_ms = 5;
  for (;;) {
    uint64_t id = send(type, actor, body);
    Result<wire::Reply> reply = Error{errc::kTimeout, ""};
    do {  // skip late replies to earlier attempts; id 0: the request itself was unreadable
      reply = receive(static_cast<int>(deadline - monotonic_ms()));
    } while (reply && reply->id != id && reply->id != 0);
    if (!reply && reply.error().code != errc::kUnavailable) return reply;
    const Error& error = reply ? reply->error : reply.error();
    bool retry = !reply || (!reply->ok &&
                            (error.code == errc::kUnavailable || error.code == errc::kInTransit));
    if (!retry) return reply;
    if (monotonic_ms() + backoff_ms >= deadline) {
      return gave_up(error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 200);
  }
}

namespace {

// An encoded map with `key` set to an encoded value.
std::string with_field(std::string_view map, std::string_view key, std::string_view value) {
  auto decoded = wire::decode(map.data(), map.size());
  wire::MapBuilder out;
  const msgpack::object& m = decoded->get();
  for (uint32_t i = 0; i < m.via.map.size; ++i) {
    const msgpack::object& k = m.via.map.ptr[i].key;
    std::string name(k.via.str.ptr, k.via.str.size);
    if (name != key) out.add_raw(name, wire::encoded_field(m, name));
  }
  return out.add_raw(key, value).finish();
}

}  // namespace

Result<wire::Reply> Client::for_each_page(std::string_view type, std::string_view actor,
                                          std::string_view body, const std::string& key,
                                          const std::string& cursor, const PageFn& fn) {
  std::string after;  // the cursor of the last entry, encoded
  for (;;) {
    auto page = call(type, actor, after.empty() ? std::string(body) : with_field(body, "after", after));
    if (!page || !page->ok) return page;
    wire::Fields f(page->body, "reply");
    const msgpack::object& array = f.array(key);
    if (!f.ok()) return f.error();
    bool more = f.opt_bool("more").value_or(false) && array.via.array.size > 0;
    if (!fn(array) || !more) return page;
    after = wire::encoded_field(array.via.array.ptr[array.via.array.size - 1], cursor);
  }
}

Result<wire::Reply> Client::call_pages(std::string_view type, std::string_view actor,
                                       std::string_view body, const std::string& key,
                                       const std::string& cursor, uint64_t limit) {
  wire::Buffer entries;
  uint32_t count = 0;
  auto gather = [&](const msgpack::object& array) {
    for (uint32_t i = 0; i < array.via.array.size && count < limit; ++i, ++count)
      msgpack::pack(entries, array.via.array.ptr[i]);
    return count < limit;
  };
  auto last = for_each_page(type, actor, body, key, cursor, gather);
  if (!last || !last->ok) return last;
  wire::Buffer joined;
  wire::Packer(joined).pack_array(count);
  wire::pack_raw(joined, wire::view(entries));
  std::string whole =
      wire::encode_reply(0, wire::MapBuilder().add_raw(key, wire::view(joined)).finish());
  wire::Limits limits;
  limits.max_array = 1 << 24;
  limits.max_str = 1 << 26;
  return wire::decode_reply(whole.data(), whole.size(), limits);
}

}  // namespace closeloop
