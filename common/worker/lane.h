// Private to the worker's own source files (worker.cc, handoff.cc, lifecycle.cc):
// the state of the handoffs to one destination, and the bounds they share.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "worker/worker.h"

namespace closeloop {

inline constexpr size_t kResendWindow = 1024;  // most entries resent to one destination at a time
// Most outbox records mirrored in memory. Beyond it new records stay on disk only (their
// positions from Worker::spill_from_ on) and are paged in, in position order, once acks have
// made a window's room: a receiver down for long costs disk, not memory.
inline constexpr size_t kOutboxMirror = 4 * kResendWindow;
// Most replies waiting for their handoffs' acks; past it a worker answers new requests
// `unavailable` (busy) instead of taking more it cannot answer soon.
inline constexpr size_t kMaxWaiting = 4 * kResendWindow;

// An outbox record as stored: its destinations and its entry (encoded).
struct OutboxRecord {
  std::vector<std::string> to;
  std::string entry;
};
Result<OutboxRecord> read_outbox_record(std::string_view value);

struct Worker::Lane {
  std::map<uint64_t, int64_t> unacked;  // position -> when last sent (0: not yet)
  std::vector<uint64_t> fresh;          // committed this turn, not sent yet
  std::set<uint64_t> held;  // kept by the receiver as incidents: asked about now and then
  size_t on_disk = 0;       // records naming it beyond the mirror (not in `unacked` yet)
  // Set when the receiver answered `unavailable` (down, starting, stopping), cleared by its
  // next answer: meanwhile a resend is one message (the lowest positions). Else a window's
  // later messages could get through while its first is refused, around the moment the
  // receiver registers, and arrive before it. (Entries made meanwhile are sent at once, as
  // ever: new traffic may overtake what waits for a resend.)
  bool probing = false;
  // Below it no position of an outbox record naming this destination survives on disk:
  // sent with every handoff, so the receiver may prune its seen/ markers below it.
  uint64_t watermark = 0;
  int backoff_ms = 0;
  int64_t next_check_ms = 0;
  int64_t next_held_check_ms = 0;
};

}  // namespace closeloop
