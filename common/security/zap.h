// The ZAP handler (ZeroMQ Authentication Protocol, RFC 27) of a process that binds
// CURVE sockets: libzmq asks it about every CURVE handshake and admits whoever it
// answers 200 for, naming them by the user id it returns (a received message's
// "User-Id" property).
//
// libzmq admits EVERY CURVE client when no handler is bound in the context, so the
// handler must exist before any CURVE socket: construct it first (its constructor
// throws if the address is taken) and poll socket() with the process's other sockets.
// Anything it cannot decide is refused: it fails closed.
//
// Failed handshakes: every refusal, and every handshake that fails before ZAP is asked
// (none finished within the socket's ZMQ_HANDSHAKE_IVL, the peer left, a protocol error),
// as the socket's monitor tells handshake_failed() (net/socket_watch.h), is told to
// count_failures()'s function as (domain, reason)
// and logged at most once a second per (domain, reason): the first in full, the others
// held back and summed up a second later ("refused 57 more handshakes on clients: no
// enabled account holds this key (last from 127.0.0.1)"), so that a crowd of strangers
// cannot fill the log (docs/security.md, "Failed handshakes").
//
// Not thread-safe: the thread that polls socket() owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <zmq.hpp>

namespace closeloop::security {

struct ZapRequest {
  std::string domain;      // the socket's ZMQ_ZAP_DOMAIN
  std::string address;     // the peer's IP address
  std::string mechanism;   // "CURVE" (others are refused)
  std::string public_key;  // Z85
};

// The answer to one handshake: admitted as `user_id` (a received message's "User-Id"),
// or refused (400: the client reports `unauthenticated`) for `reason`, counted under
// `label` (a short word for a metric's label, e.g. "unknown_key").
struct ZapVerdict {
  int status = 400;
  std::string user_id, reason, label;

  static ZapVerdict admit(std::string user_id) { return {200, std::move(user_id), "OK", ""}; }
  static ZapVerdict refuse(std::string reason, std::string label = "refused") {
    return {400, "", std::move(reason), std::move(label)};
  }
};
using Admit = std::function<ZapVerdict(const ZapRequest&)>;
// Told of each failed handshake: the socket's ZAP domain and the short reason.
using OnFailure = std::function<void(std::string_view domain, std::string_view reason)>;

// The short reasons the handler itself gives (the Admit function gives its own labels).
inline constexpr const char* kMalformed = "malformed";       // not a ZAP request we read
inline constexpr const char* kMechanism = "mechanism";       // not CURVE
inline constexpr const char* kNoHandshake = "no_handshake";  // closed before it finished
inline constexpr const char* kProtocol = "protocol";         // broke the ZMTP/CURVE protocol

class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, Admit admit);

  zmq::socket_t& socket() { return socket_; }
  // Every failed handshake from now on is also told to `on_failure`.
  void count_failures(OnFailure on_failure) { on_failure_ = std::move(on_failure); }
  // A handshake that failed before ZAP was asked on the socket of `domain`, as its monitor
  // tells it (SocketWatch: ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: kNoHandshake,
  // ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: kProtocol), `endpoint` the socket's own.
  void handshake_failed(const std::string& domain, uint16_t event, uint32_t value,
                        const std::string& endpoint);
  // Answers every request waiting on the socket (poll socket() and call it when readable).
  void serve();
  // Logs what was held back for a second: call it about once a second.
  void log_held_back();

 private:
  // One (domain, reason)'s log: when it last wrote a line, and what it held back since.
  struct Held {
    int64_t logged_ms = 0;
    bool ever = false;
    uint64_t count = 0;
    std::string verb, text, last_from;  // "refused" / "dropped", the reason, an address
  };
  void answer(std::vector<zmq::message_t>& request);
  // A failed handshake: counted, logged now as `line` or held back.
  void failed(const std::string& domain, const std::string& label, const std::string& verb,
              const std::string& text, const std::string& from, const std::string& line);
  void log_held(int64_t now_ms);

  zmq::context_t& context_;
  zmq::socket_t socket_;
  Admit admit_;
  OnFailure on_failure_;
  std::map<std::pair<std::string, std::string>, Held> held_;  // by (domain, label)
};

}  // namespace closeloop::security
