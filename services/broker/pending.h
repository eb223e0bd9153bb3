// The requests the broker has delivered to workers and not yet seen answered, each named
// by a route token (docs/protocol.md, "Route tokens").
//
// A token is 15 random bytes (120 bits: not to be guessed, and short enough for a string's
// inline buffer), made for one request when the broker delivers it; the
// worker answers with it, and the broker delivers that answer only when the token is
// waiting and was given to that very worker (by its connection's routing id). The token
// is forgotten at the final answer, or when it has waited `lifetime_ms` (the longest
// legitimate lateness: 10 × the request timeout, after which nobody waits for it). At most
// kMaxPending wait at once: past that open() refuses, and the broker answers the request
// `unavailable` (the sender retries) rather than forget one that is still awaited.
//
// Not thread-safe: the broker's loop owns it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace closeloop {

class PendingRequests {
 public:
  static constexpr size_t kMaxPending = 65536;

  struct Request {
    std::string route;        // where the answer goes ('F'/'Q' + a client, 'B' + a worker)
    std::string worker;       // the routing id of the worker it was delivered to
    std::string sender;       // a person's: the sender frame it was delivered with
    bool from_person = false;  // a client's own request: a worker serving it may pass it on
  };

  static constexpr size_t kTokenBytes = 15;

  explicit PendingRequests(int64_t lifetime_ms);

  // A new token for `request`, or nullopt when kMaxPending are waiting.
  std::optional<std::string> open(Request request, int64_t now_ms);
  // The request `token` names, if it waits and was delivered to `worker`.
  const Request* find(const std::string& token, const std::string& worker) const;
  void close(const std::string& token) { waiting_.erase(token); }
  // Forgets the tokens that have waited their lifetime.
  void expire(int64_t now_ms);
  size_t size() const { return waiting_.size(); }
  void set_lifetime_ms(int64_t lifetime_ms) { lifetime_ms_ = lifetime_ms; }

 private:
  struct Entry {
    Request request;
    int64_t expires_ms = 0;
  };
  int64_t lifetime_ms_;
  // Randomness for tokens, drawn from the OS in blocks (one call per token costs a
  // system call or two: a tenth of the broker's time on the command path).
  std::array<char, kTokenBytes * 272> random_;
  size_t random_used_ = random_.size();
  std::unordered_map<std::string, Entry> waiting_;
  std::deque<std::pair<int64_t, std::string>> by_expiry_;  // tokens as opened (maybe closed since)
};

}  // namespace closeloop
