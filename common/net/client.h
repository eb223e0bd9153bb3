// The client side of the protocol, used by the CLI, the tests and the benchmark.
//
// call() sends one request to the broker and waits for its reply. Answers that mean
// "nothing happened, try again" (`unavailable`: no worker for the verb right now;
// `in_transit`: the item is still moving to the stage that must act) are retried with
// backoff until the timeout; these retries are safe because such a request changed
// nothing. Any other answer is returned as it is. No answer at all within the
// timeout is Error{timeout}: the outcome is unknown (the command may have happened).
//
// With keys the client speaks CURVE. It watches its handshakes through libzmq's socket
// monitor, so that a key the service refuses (or a missing key) is Error{unauthenticated} at once,
// never a timeout (a ZAP handler answering 300 or 500, "not now", is `unavailable`, retried like
// the others).
// Not thread-safe: one Client per thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "base/result.h"
#include "config/config.h"
#include "security/keys.h"
#include "wire/message.h"

namespace closeloop {

// A person's CURVE credentials: their key pair and the service's public key (Z85).
struct ClientKeys {
  security::KeyPair own;
  std::string server_key;
};

// A person's credentials as a client finds them (none with security.mode = "off" and no
// key file named): the key file is `key_file`, else $CLOSELOOP_KEY, else the config's
// `key`, else <data_dir>/keys/office.key; the service's key `server_key`, else
// $CLOSELOOP_SERVER_KEY, else the config's `server_key`, else <data_dir>/keys/broker.pub.
// A key file that is missing, unreadable or readable by others is an error.
Result<std::optional<ClientKeys>> find_keys(const Config& config, std::string key_file,
                                            std::string server_key);

class Client {
 public:
  Client(const std::string& endpoint, int timeout_ms, int64_t max_message_bytes = 1 << 20,
         std::optional<ClientKeys> keys = std::nullopt);

  Result<wire::Reply> call(std::string_view type, std::string_view actor, std::string_view body);

  // For replies that come in pages (trail, list): `more: true` means "ask again with
  // `after` set to the `cursor` field of the last entry". Calls fn with each page's
  // array under `key` while fn returns true and pages say there are more. An error
  // reply or a timeout on any page is returned as it is (earlier pages went to fn).
  using PageFn = std::function<bool(const msgpack::object& entries)>;
  Result<wire::Reply> for_each_page(std::string_view type, std::string_view actor,
                                    std::string_view body, const std::string& key,
                                    const std::string& cursor, const PageFn& fn);
  // The same gathered into one reply {key: [...]} of at most `limit` entries (for
  // callers that want it all in memory: tests, small trails).
  Result<wire::Reply> call_pages(std::string_view type, std::string_view actor,
                                 std::string_view body, const std::string& key,
                                 const std::string& cursor, uint64_t limit = UINT64_MAX);

  // The asynchronous halves, for callers that keep many requests in flight.
  // send() returns the request id; receive() waits up to timeout_ms for any reply.
  uint64_t send(std::string_view type, std::string_view actor, std::string_view body);
  Result<wire::Reply> receive(int timeout_ms);

  int timeout_ms() const { return timeout_ms_; }

 private:
  void open();
  std::optional<Error> handshake_problem();

  zmq::context_t context_;
  std::string endpoint_;
  int64_t max_message_bytes_;
  std::optional<ClientKeys> keys_;
  zmq::socket_t socket_, monitor_;
  int timeout_ms_;
  uint64_t next_id_;
  int monitors_ = 0;           // for a fresh monitor address at each open()
  int failed_handshakes_ = 0;  // connections closed before their handshake completed
  bool connected_ = false;     // a connection is up, its handshake not done yet
};

}  // namespace closeloop
