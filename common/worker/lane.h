// Private to the worker's own source files (worker.cc, handoff.cc, lifecycle.cc):
// the state of the handoffs to one destination, and the bounds they share.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "worker/worker.h"

namespace closeloop {

inline constexpr size_t kResendWindow = 1024;  // most entries resent to one destination at a time

struct Worker::Lane {
  std::map<uint64_t, int64_t> unacked;  // position -> when last sent (0: not yet)
  std::vector<uint64_t> fresh;          // committed this turn, not sent yet
  std::set<uint64_t> held;  // kept by the receiver as incidents: asked about now and then
  // Below it no position of an outbox record naming this destination survives on disk:
  // sent with every handoff, so the receiver may prune its seen/ markers below it.
  uint64_t watermark = 0;
  int backoff_ms = 0;
  int64_t next_check_ms = 0;
  int64_t next_held_check_ms = 0;
};

}  // namespace closeloop
