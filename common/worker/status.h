// What the broker knows of the workers, for the `status` verb and the Prometheus text
// of /metrics (docs/operations.md, "Seeing it run").
//
// The broker feeds it the workers' registrations and losses and the figures each sends
// with its heartbeats (worker/metrics.h). It keeps the latest figures per worker name and
// nothing older: a restarted broker starts empty and learns the workers again within a
// heartbeat. `restarts` counts the figures of a worker name that came from a new process
// (another pid) since the broker started.
//
// Beside the workers' figures it keeps the broker's own counters (BrokerCounters): what the
// broker sees itself, since it started (a restarted broker counts from zero); and the
// broker's own row (BrokerSelf): its process, its connections, its last reload.
//
// Not thread-safe: the broker's loop owns it; /metrics serves a copy of prometheus_text().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "worker/metrics.h"

namespace closeloop {

struct WorkerStatus {
  std::string name;
  bool up = false;        // registered with the broker now
  uint64_t restarts = 0;  // new processes under this name since the broker started
  Figures figures;        // the latest reported (pid 0: none yet)
};

// The broker's own counters since it started (docs/security.md). A new one is a field
// here, a count_…() below, a family in status.cc's kBrokerFamilies and a field of the
// status body (status_body()).
struct BrokerCounters {
  // Handshakes that failed, by (ZAP domain of the socket: "clients" or "workers", short
  // reason: "unknown_key", "no_handshake"…; security/zap.h names them).
  std::map<std::pair<std::string, std::string>, uint64_t> handshake_failures;
  uint64_t dropped_replies = 0;      // answers to a request the worker was not given, or no longer waiting
  uint64_t refused_forwards = 0;     // a worker passing on a request it was not serving
  uint64_t unadmitted_messages = 0;  // messages under a worker key no longer admitted
};

// The broker itself, as `status` lists it beside the workers.
struct BrokerSelf {
  uint64_t pid = 0;
  std::string up_since;              // ISO 8601 UTC, when the process started
  std::optional<uint64_t> restarts;  // told by its supervisor (closeloopd); unknown otherwise
  uint64_t client_connections = 0;   // open now on the clients' port (accepted, not closed)
  uint64_t worker_connections = 0;   // ... and on the workers' port
  std::string reload_refused;        // why its last reload was refused; "" if it was not
  bool operator==(const BrokerSelf&) const = default;
};

class StatusBoard {
 public:
  void registered(const std::string& name);
  void lost(const std::string& name);
  void reported(const std::string& name, Figures figures);
  // The worker keys the broker admits now: public key -> name.
  void admitted_keys(const std::map<std::string, std::string>& keys);
  // One failed handshake on the socket of `domain`, for `reason`.
  void count_handshake_failure(std::string_view domain, std::string_view reason);
  void count_dropped_reply() { ++broker_.dropped_replies, ++version_; }
  void count_refused_forward() { ++broker_.refused_forwards, ++version_; }
  void count_unadmitted_message() { ++broker_.unadmitted_messages, ++version_; }
  void broker_self(BrokerSelf self);

  const std::map<std::string, WorkerStatus>& workers() const { return workers_; }
  const BrokerCounters& broker() const { return broker_; }
  // Grows with every change: the broker rebuilds its /metrics text when it moved.
  uint64_t version() const { return version_; }

  // The `status` reply body: {broker: {name: "broker", up, pid, up_since, restarts (absent:
  // unknown), connections: {clients, workers}, worker_keys (how many are admitted),
  // reload_refused}; workers: [{name, pid, up_since, restarts, messages_in,
  // messages_out, outbox: [{to, entries, oldest_age_ms, on_disk?}], last_commit: {size,
  // fsync_ms}, disk_bytes, storage_error ("" when it can write its store), warning ("" for
  // none), reload_refused ("" unless its last reload was refused), up}], by name;
  // worker_keys: [{name, key}] (admitted now); handshake_failures: [{domain, reason,
  // count}]; dropped_replies, refused_forwards, unadmitted_messages}.
  std::string status_body() const;
  // Prometheus text exposition format 0.0.4.
  std::string prometheus_text() const;

 private:
  WorkerStatus& of(const std::string& name);
  std::map<std::string, WorkerStatus> workers_;
  std::map<std::string, std::string> keys_;  // admitted worker keys: name -> public key
  BrokerCounters broker_;
  BrokerSelf self_;
  uint64_t version_ = 0;
};

// The metric families prometheus_text() writes (without _bucket, _sum, _count): the
// workers', then the broker's own.
std::vector<std::string> metric_families();

}  // namespace closeloop
