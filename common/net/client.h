// The client side of the protocol, used by the CLI, the tests, the benchmark and the HTTP
// gateway.
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
// the others). Such a problem fails every request waiting at that moment.
//
// Thread-safe: many threads share one Client, and so one connection, with many requests in
// flight. Its I/O thread owns the DEALER socket and its monitor (libzmq sockets are not
// thread-safe); callers hand it their requests through a queue, and it hands each reply to
// the request of the reply's id (a late reply to an attempt given up is dropped). Destroying
// the Client fails every request still waiting with `unavailable`, "the client was closed", at
// once; it waits for the calls of other threads to return.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
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
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

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

  // One attempt, for callers that keep many requests in flight themselves: sends the request
  // and calls `done` once with its reply, or with an error: timeout (no reply within
  // timeout_ms), a handshake problem, or the client closing. Nothing is retried: an
  // `unavailable` or `in_transit` answer is the caller's to retry. `done` runs on the I/O
  // thread, so it must be quick and must not wait for this client (it may start() more).
  using Done = std::function<void(Result<wire::Reply>)>;
  void start(std::string_view type, std::string_view actor, std::string_view body, Done done);
  // The same attempt as a future.
  std::future<Result<wire::Reply>> start(std::string_view type, std::string_view actor,
                                         std::string_view body);

  int timeout_ms() const { return timeout_ms_; }

 private:
  struct Request {  // handed from a caller to the I/O thread
    uint64_t id;
    std::string payload;
    int64_t deadline_ms;
    Done done;
  };
  using Deadlines = std::multimap<int64_t, uint64_t>;  // deadline → request id
  struct Waiter {
    Done done;
    Deadlines::iterator deadline;
  };
  class Caller;

  // The callers' side.
  Result<wire::Reply> attempt(std::string_view type, std::string_view actor,
                              std::string_view body, int64_t deadline_ms);
  void submit(std::string_view type, std::string_view actor, std::string_view body,
              int64_t deadline_ms, Done done);
  bool retryable(const Result<wire::Reply>& reply);
  bool pause(int ms);
  void wake();

  // The I/O thread's.
  void run();
  bool take_requests();
  void send_unsent();
  void wait_for_events();
  void receive_replies();
  void deliver(const zmq::message_t& message);
  void finish(uint64_t id, Result<wire::Reply> result);
  void expire_waiters();
  void fail_all(const Error& error);
  void open();
  void close_socket();
  std::optional<Error> handshake_problem();

  const std::string endpoint_;
  const int64_t max_message_bytes_;
  const std::optional<ClientKeys> keys_;
  const int timeout_ms_;
  const int wake_fd_;  // an eventfd: written when a request is queued or the client closes
  std::atomic<uint64_t> next_id_;

  // Shared with the callers, under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;  // closing_ set, or callers_ down to 0
  std::deque<Request> queue_;        // not yet taken by the I/O thread
  bool closing_ = false;
  int callers_ = 0;  // threads inside call(), for_each_page() or start()

  // The I/O thread's own.
  zmq::context_t context_;
  zmq::socket_t socket_, monitor_;  // closed after a handshake problem, opened by the next send
  int monitors_ = 0;                // for a fresh monitor address at each open()
  int failed_handshakes_ = 0;       // connections closed before their handshake completed
  bool connected_ = false;          // a connection is up, its handshake not done yet
  std::unordered_map<uint64_t, Waiter> waiters_;          // by request id
  Deadlines deadlines_;                                   // of the waiters
  std::deque<std::pair<uint64_t, std::string>> unsent_;  // (id, payload) the socket did not take yet
  std::thread io_thread_;  // last: started once the rest is ready
};

}  // namespace closeloop
