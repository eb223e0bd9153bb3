// The client side of the protocol, used by the CLI, the tests and the benchmark.
//
// call() sends one request to the broker and waits for its reply. Answers that mean
// "nothing happened, try again" (`unavailable`: no worker for the verb right now;
// `in_transit`: the item is still moving to the stage that must act) are retried with
// backoff until the timeout; these retries are safe because such a request changed
// nothing. Any other answer is returned as it is. No answer at all within the
// timeout is Error{timeout}: the outcome is unknown (the command may have happened).
// Not thread-safe: one Client per thread.
#pragma once

#include <zmq.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "wire/message.h"

namespace closeloop {

class Client {
 public:
  Client(const std::string& endpoint, int timeout_ms, int64_t max_message_bytes = 1 << 20);

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

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  int timeout_ms_;
  uint64_t next_id_;
};

}  // namespace closeloop
