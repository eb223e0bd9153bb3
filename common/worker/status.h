// What the broker knows of the workers, for the `status` verb and the Prometheus text
// of /metrics (docs/operations.md, "Seeing it run").
//
// The broker feeds it the workers' registrations and losses and the figures each sends
// with its heartbeats (worker/metrics.h). It keeps the latest figures per worker name and
// nothing older: a restarted broker starts empty and learns the workers again within a
// heartbeat. `restarts` counts the figures of a worker name that came from a new process
// (another pid) since the broker started.
//
// Not thread-safe: the broker's loop owns it; /metrics serves a copy of prometheus_text().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "worker/metrics.h"

namespace closeloop {

struct WorkerStatus {
  std::string name;
  bool up = false;        // registered with the broker now
  uint64_t restarts = 0;  // new processes under this name since the broker started
  Figures figures;        // the latest reported (pid 0: none yet)
};

// What the broker counts of its own since it started (docs/security.md).
struct BrokerCounts {
  uint64_t dropped_replies = 0;      // answers to a request the worker was not given, or no longer waiting
  uint64_t refused_forwards = 0;     // a worker passing on a request it was not serving
  uint64_t unadmitted_messages = 0;  // messages under a worker key no longer admitted
};

class StatusBoard {
 public:
  void registered(const std::string& name);
  void lost(const std::string& name);
  void reported(const std::string& name, Figures figures);
  // The worker keys the broker admits now: public key -> name.
  void admitted_keys(const std::map<std::string, std::string>& keys);
  void count_dropped_reply() { ++counts_.dropped_replies, ++version_; }
  void count_refused_forward() { ++counts_.refused_forwards, ++version_; }
  void count_unadmitted_message() { ++counts_.unadmitted_messages, ++version_; }
  const BrokerCounts& counts() const { return counts_; }

  const std::map<std::string, WorkerStatus>& workers() const { return workers_; }
  // Grows with every change: the broker rebuilds its /metrics text when it moved.
  uint64_t version() const { return version_; }

  // The `status` reply body: {workers: [{name, pid, up_since, restarts, messages_in,
  // messages_out, outbox: [{to, entries, oldest_age_ms, on_disk?}], last_commit: {size,
  // fsync_ms}, disk_bytes, storage_error ("" when it can write its store), up}]}, by name;
  // worker_keys: [{name, key}] (admitted now), and the BrokerCounts by their names.
  std::string status_body() const;
  // Prometheus text exposition format 0.0.4.
  std::string prometheus_text() const;

 private:
  WorkerStatus& of(const std::string& name);
  std::map<std::string, WorkerStatus> workers_;
  std::map<std::string, std::string> keys_;  // admitted worker keys: name -> public key
  BrokerCounts counts_;
  uint64_t version_ = 0;
};

// The metric families prometheus_text() writes (without _bucket, _sum, _count).
std::vector<std::string> metric_families();

}  // namespace closeloop
