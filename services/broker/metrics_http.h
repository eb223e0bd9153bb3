// The broker's Prometheus endpoint: GET /metrics over HTTP at config `metrics_listen`
// (docs/operations.md, "Seeing it run").
//
// The server (cpp-httplib) runs on its own thread and never touches the broker's state:
// the broker's loop publishes the whole text (worker/status.h, prometheus_text()) when
// the figures changed, and each request gets a copy of the latest, under a mutex.
// There is no authentication: bind it to loopback or to a network only Prometheus reaches.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace closeloop {

class MetricsServer {
 public:
  // Listens on `listen` ("host:port", validated by the config); an error if it cannot
  // bind (the address is taken, or not this host's).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen);
  ~MetricsServer();  // stops the server and joins its thread

  // The text GET /metrics answers from now on.
  void publish(std::string text);

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace closeloop
