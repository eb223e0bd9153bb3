// One bound socket watched through libzmq's socket monitor (zmq_socket_monitor): how many
// connections it holds now, and the handshakes that failed on it before ZAP was asked
// (security/zap.h counts and logs those). libzmq allows one monitor per socket, so the
// broker keeps one of these per socket and hands each failure on.
//
// Connections: every one accepted and not closed yet (ZMQ_EVENT_ACCEPTED, then
// ZMQ_EVENT_DISCONNECTED when it closes for any reason: the peer left, a failed
// handshake, handshake_timeout_ms), authenticated or not.
//
// Not thread-safe: the thread that polls the socket owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <zmq.hpp>

namespace closeloop {

class SocketWatch {
 public:
  // A failed handshake's monitor event (ZMQ_EVENT_HANDSHAKE_FAILED_*), its value and the
  // socket's own endpoint.
  using OnFailure =
      std::function<void(uint16_t event, uint32_t value, const std::string& endpoint)>;

  // `name` makes the monitor's inproc address unique within the context.
  SocketWatch(zmq::context_t& context, zmq::socket_t& socket, const std::string& name);

  // Reads every event since the last call; failed handshakes go to `on_failure` (if any).
  void read(const OnFailure& on_failure);
  uint64_t connections() const { return open_; }

 private:
  zmq::socket_t monitor_;
  uint64_t open_ = 0;
};

}  // namespace closeloop
