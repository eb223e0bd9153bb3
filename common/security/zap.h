// The ZAP handler (ZeroMQ Authentication Protocol, RFC 27) of a process that binds
// CURVE sockets: libzmq asks it about every CURVE handshake and admits whoever it
// answers 200 for, naming them by the user id it returns (a received message's
// "User-Id" property).
//
// libzmq admits EVERY CURVE client when no handler is bound in the context, so the
// handler must exist before any CURVE socket: construct it first (its constructor
// throws if the address is taken) and poll socket() with the process's other sockets.
// Anything it cannot decide is refused: it fails closed.
#pragma once

#include <zmq.hpp>

#include <functional>
#include <optional>
#include <string>

namespace closeloop::security {

struct ZapRequest {
  std::string domain;      // the socket's ZMQ_ZAP_DOMAIN
  std::string address;     // the peer's IP address
  std::string mechanism;   // "CURVE" (others are refused)
  std::string public_key;  // Z85
};

// Who the key belongs to (the user id to give its messages), or nullopt to refuse.
// `reason` explains a refusal, for the log.
using Admit = std::function<std::optional<std::string>(const ZapRequest&, std::string* reason)>;

class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, Admit admit);

  zmq::socket_t& socket() { return socket_; }
  // Answers every request waiting on the socket.
  void serve();

 private:
  void answer(std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;
  Admit admit_;
};

}  // namespace closeloop::security
