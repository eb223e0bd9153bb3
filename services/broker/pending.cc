#include "pending.h"

#include <sodium.h>

#include <stdexcept>

namespace closeloop {

PendingRequests::PendingRequests(int64_t lifetime_ms) : lifetime_ms_(lifetime_ms) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start (no randomness)");
}

std::optional<std::string> PendingRequests::open(Request request, int64_t now_ms) {
  expire(now_ms);
  if (waiting_.size() >= kMaxPending) return std::nullopt;
  if (random_used_ == random_.size()) {
    randombytes_buf(random_.data(), random_.size());
    random_used_ = 0;
  }
  std::string token(random_.data() + random_used_, kTokenBytes);
  random_used_ += kTokenBytes;
  int64_t expires_ms = now_ms + lifetime_ms_;
  waiting_[token] = {std::move(request), expires_ms};
  by_expiry_.emplace_back(expires_ms, token);
  return token;
}

const PendingRequests::Request* PendingRequests::find(const std::string& token,
                                                      const std::string& worker) const {
  auto it = waiting_.find(token);
  if (it == waiting_.end() || it->second.request.worker != worker) return nullptr;
  return &it->second.request;
}

void PendingRequests::expire(int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.front().first <= now_ms) {
    auto it = waiting_.find(by_expiry_.front().second);
    if (it != waiting_.end() && it->second.expires_ms == by_expiry_.front().first) waiting_.erase(it);
    by_expiry_.pop_front();
  }
}

}  // namespace closeloop
