#include "metrics_http.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "config/config.h"

namespace closeloop {

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> finished = false;  // the server's thread has returned
  std::mutex mutex;
  std::string text;  // guarded by mutex
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen) {
  std::string host;
  int port = 0;
  if (!split_host_port(listen, &host, &port))
    return Error{errc::kInvalid, "metrics_listen: expected host:port, got '" + listen + "'"};
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  // One thread for the few scrapes a minute; SO_REUSEADDR only (httplib's default,
  // SO_REUSEPORT, would let a second broker share the port silently).
  s.server.new_task_queue = [] { return new httplib::ThreadPool(1); };
  s.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.server.set_read_timeout(std::chrono::seconds(5));
  s.server.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    std::string text;
    {
      std::lock_guard lock(s.mutex);
      text = s.text;
    }
    res.set_content(std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!s.server.bind_to_port(host, port))
    return Error{errc::kUnavailable, "metrics_listen: cannot listen on " + listen +
                                         " (taken, or not an address of this host)"};
  s.thread = std::thread([&s] {
    s.server.listen_after_bind();
    s.finished = true;
  });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  // stop() ends only a server already listening: wait until it is (or has returned).
  while (!impl_->finished && !impl_->server.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
  impl_->thread.join();
}

void MetricsServer::publish(std::string text) {
  std::lock_guard lock(impl_->mutex);
  impl_->text = std::move(text);
}

}  // namespace closeloop
