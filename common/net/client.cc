#include "net/client.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "net/backend.h"
#include "worker/worker.h"

namespace closeloop {

Client::Client(const std::string& endpoint, int timeout_ms, int64_t max_message_bytes)
    : context_(1), socket_(context_, zmq::socket_type::dealer), timeout_ms_(timeout_ms) {
  socket_.set(zmq::sockopt::maxmsgsize, max_message_bytes);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
  // Random start so that replies meant for an earlier process's ids are not mistaken.
  next_id_ = std::random_device{}() * 4096ull;
}

uint64_t Client::send(std::string_view type, std::string_view actor, std::string_view body) {
  uint64_t id = ++next_id_;
  std::string payload = wire::encode_request(type, id, actor, body);
  socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait);
  return id;
}

Result<wire::Reply> Client::receive(int timeout_ms) {
  zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(std::max(timeout_ms, 0))) == 0)
    return Error{errc::kTimeout, "no answer from the service within the timeout"};
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
    if (!reply) return reply;
    bool retry = !reply->ok && (reply->error.code == errc::kUnavailable ||
                                reply->error.code == errc::kInTransit);
    if (!retry) return reply;
    if (monotonic_ms() + backoff_ms >= deadline) {
      return Error{errc::kTimeout, "gave up within the timeout: " + reply->error.message};
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
