// The figures a worker keeps about itself, for `closeloop status` and the broker's
// Prometheus /metrics (docs/operations.md, "Seeing it run").
//
// A worker counts as it goes (plain integers and fixed-bucket histograms, on its loop
// thread: a few additions per message) and sends them to the broker with its heartbeat,
// encoded only then (net/backend.h: [hb][figures]). The broker decodes them with
// decode_figures() and keeps the latest per worker; it holds no history.
//
// Units are integers on the wire: fsync latency in nanoseconds, sizes in messages or
// bytes, ages in milliseconds. Not thread-safe: one worker's loop owns its Figures.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/codec.h"

namespace closeloop {

// Counts of observations per bucket (upper bound `le`, inclusive), the last one +Inf.
struct Histogram {
  std::vector<uint64_t> bounds;  // increasing upper bounds, without +Inf
  std::vector<uint64_t> counts;  // per bucket, not cumulative: bounds.size() + 1 of them
  uint64_t sum = 0;

  Histogram() = default;
  explicit Histogram(std::span<const uint64_t> upper_bounds);
  void observe(uint64_t value);
  uint64_t count() const;
};

// fsync latency buckets, in nanoseconds (0.1 ms … 2.5 s).
inline constexpr uint64_t kFsyncBucketsNs[] = {
    100'000,    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,     10'000'000,
    25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};
// Messages folded into one group commit.
inline constexpr uint64_t kGroupCommitBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

// One destination's share of the outbox: entries not yet held durably there, and how long
// the oldest of them has waited (since it was written, or read at start-up).
struct OutboxFigures {
  uint64_t entries = 0;
  uint64_t oldest_age_ms = 0;
  uint64_t on_disk = 0;  // of `entries`, those beyond the in-memory mirror (worker/lane.h)
};

struct Figures {
  uint64_t pid = 0;
  std::string up_since;                        // ISO 8601 UTC, when the process started
  uint64_t messages_in = 0, messages_out = 0;  // frames to and from the broker, heartbeats aside
  std::map<std::pair<std::string, std::string>, uint64_t> commands;  // (verb, "ok" or error code)
  std::map<std::string, uint64_t> handoffs_sent;     // entries handed off, by destination
  std::map<std::string, uint64_t> handoffs_applied;  // entries applied here, by sender
  std::map<std::string, OutboxFigures> outbox;       // by destination
  uint64_t last_commit_size = 0;                     // messages folded into the last batch written
  uint64_t last_fsync_ns = 0;                        // the last fsync's latency
  Histogram fsync_ns{kFsyncBucketsNs};
  Histogram group_commit_size{kGroupCommitBuckets};
  uint64_t disk_bytes = 0;  // the worker's LevelDB folder, measured every few seconds
  std::string storage_error;  // why the worker cannot write its store now; "" when it can
  std::string warning;  // what an operator should fix in how it runs (a data_dir others can
                        // read: daemon/daemon.h); "" for none
  std::string reload_refused;  // why its last reload (SIGHUP) was refused; "" if it was not

  void command(std::string_view verb, std::string_view result) {
    ++commands[{std::string(verb), std::string(result)}];
  }
  void committed(uint64_t size) {
    last_commit_size = size;
    group_commit_size.observe(size);
  }
  void fsynced(uint64_t nanos) {
    last_fsync_ns = nanos;
    fsync_ns.observe(nanos);
  }
};

// The heartbeat's figures frame: a MessagePack map (docs/protocol.md).
std::string encode_figures(const Figures& figures);
Result<Figures> decode_figures(std::string_view frame);

// The bytes of the files directly in `dir` (a LevelDB folder has no subfolders); 0 if
// it cannot be read.
uint64_t folder_bytes(const std::string& dir);

}  // namespace closeloop
