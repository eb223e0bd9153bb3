#include "net/socket_watch.h"

#include <cstring>
#include <iterator>
#include <vector>
#include <zmq_addon.hpp>

namespace closeloop {

SocketWatch::SocketWatch(zmq::context_t& context, zmq::socket_t& socket, const std::string& name)
    : monitor_(context, zmq::socket_type::pair) {
  std::string address = "inproc://closeloop-monitor-" + name;
  constexpr int kEvents = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                          ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (zmq_socket_monitor(socket.handle(), address.c_str(), kEvents) != 0) throw zmq::error_t();
  // libzmq's I/O thread sends the events and would block on a full pipe: no limit (they
  // are read about once a second, and each is a few dozen bytes).
  monitor_.set(zmq::sockopt::rcvhwm, 0);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(address);
}

// A monitor event: [event (2 bytes), value (4 bytes)][the socket's endpoint]. A bound
// socket's events name its own endpoint, not the peer's.
void SocketWatch::read(const OnFailure& on_failure) {
  std::vector<zmq::message_t> frames;
  while (zmq::recv_multipart(monitor_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    uint16_t event = 0;
    uint32_t value = 0;
    if (frames[0].size() >= 6) {
      std::memcpy(&event, frames[0].data(), 2);
      std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
    }
    std::string endpoint = frames.size() > 1 ? frames[1].to_string() : "";
    frames.clear();
    if (event == ZMQ_EVENT_ACCEPTED) {
      ++open_;
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
      open_ -= open_ > 0;
    } else if (on_failure) {
      on_failure(event, value, endpoint);
    }
  }
}

}  // namespace closeloop
