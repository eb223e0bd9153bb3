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

}  // namespace closeloop
