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

// The answer to one handshake: admitted as `user_id` (a received message's "User-Id"),
// or refused (400: the client reports `unauthenticated`).
struct ZapVerdict {
  int status = 400;
  std::string user_id, reason;

  static ZapVerdict admit(std::string user_id) { return {200, std::move(user_id), "OK"}; }
  static ZapVerdict refuse(std::string reason) { return {400, "", std::move(reason)}; }
};
using Admit = std::function<ZapVerdict(const ZapRequest&)>;

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
