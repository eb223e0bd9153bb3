// The broker: routes each client command to the worker its verb names
// (service_for(), from workflow/verbs.h), carries handoffs and queries between workers, and keeps worker
// liveness by heartbeats. It holds no durable state: a restarted broker learns the
// workers again as they re-register, and whatever was in flight through it is
// resent by the outboxes or retried by clients. It never queues for a missing
// worker: it answers `unavailable` at once, so nothing piles up in memory.
//
// Frontend (clients, at `endpoint`): ROUTER; DEALER clients send [payload], REQ
// clients [""][payload]. Backend (workers, at `backend`): ROUTER, see net/backend.h.
// A route is one tag byte and a peer identity: 'F' (DEALER client), 'Q' (REQ client)
// or 'B' (a worker).
#include <zmq_addon.hpp>

#include <csignal>
#include <map>
#include <spdlog/spdlog.h>

#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "net/backend.h"
#include "wire/message.h"
#include "worker/worker.h"
#include "workflow/verbs.h"

namespace closeloop {
namespace {

class Broker {
 public:
  explicit Broker(const Config& config)
      : config_(config),
        zmq_(1),
        frontend_(zmq_, zmq::socket_type::router),
        backend_(zmq_, zmq::socket_type::router) {
    backend::harden(frontend_, config.max_message_bytes);
    backend::harden(backend_, config.internal_message_bytes());
    backend_.set(zmq::sockopt::router_mandatory, 1);  // a send to a dead worker fails loudly
    frontend_.bind(config.endpoint);
    backend_.bind(config.backend);
    spdlog::info("broker: clients at {}, workers at {}", config.endpoint, config.backend);
  }

  int run(int signal_fd) {
    zmq::pollitem_t items[] = {{static_cast<void*>(frontend_), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(backend_), 0, ZMQ_POLLIN, 0},
                               {nullptr, signal_fd, ZMQ_POLLIN, 0}};
    for (;;) {
      zmq::poll(items, 3, std::chrono::milliseconds(config_.timing.heartbeat_ms / 2));
      if (items[2].revents & ZMQ_POLLIN) break;
      for (int n = 0; n < 1000 && drain(frontend_, &Broker::from_client); ++n) {
      }
      for (int n = 0; n < 1000 && drain(backend_, &Broker::from_worker); ++n) {
      }
      heartbeat();
    }
    spdlog::info("broker: stopping on signal");
    return 0;
  }

 private:
  struct Peer {
    std::string service;
    int64_t last_heard_ms = 0;
  };

  using Handler = void (Broker::*)(std::vector<zmq::message_t>&);

  bool drain(zmq::socket_t& socket, Handler handler) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait))
      return false;
    (this->*handler)(frames);
    return true;
  }

  void from_client(std::vector<zmq::message_t>& frames) {
    std::string identity(backend::text(frames[0]));
    bool req_socket = frames.size() == 3 && frames[1].size() == 0;
    std::string route = (req_socket ? "Q" : "F") + identity;
    if (frames.size() != (req_socket ? 3u : 2u)) {
      return to_route(route, wire::encode_error(0, {errc::kBadRequest,
                                                    "a request is one frame of MessagePack"}));
    }
    const zmq::message_t& payload = frames.back();
    auto request = wire::decode_request(payload.data(), payload.size());
    if (!request) return to_route(route, wire::encode_error(0, request.error()));
    std::string_view service = service_for(request->type);
    if (service.empty()) {
      return to_route(route, wire::encode_error(request->id, {errc::kBadRequest,
                                                              "unknown message type '" +
                                                                  request->type + "'"}));
    }
    if (service == "broker") return to_route(route, wire::encode_reply(request->id, ping()));
    forward(std::string(service), route, payload);
  }

  void from_worker(std::vector<zmq::message_t>& frames) {
    if (frames.size() < 2) return;
    std::string identity(backend::text(frames[0]));
    std::string_view kind = backend::text(frames[1]);
    if (kind == backend::kReady && frames.size() == 3) return enlist(identity, frames[2]);
    auto peer = peers_.find(identity);
    if (peer == peers_.end()) {
      send_backend(identity, {backend::kReregister});
      return;
    }
    peer->second.last_heard_ms = monotonic_ms();
    if (kind == backend::kRequest && frames.size() == 4) {
      forward(std::string(backend::text(frames[2])), "B" + identity, frames[3]);
    } else if (kind == backend::kReply && frames.size() == 4) {
      to_route(std::string(backend::text(frames[2])), backend::text(frames[3]));
    }
  }

  void enlist(const std::string& identity, const zmq::message_t& service_frame) {
    std::string service(backend::text(service_frame));
    if (auto old = by_service_.find(service); old != by_service_.end() && old->second != identity)
      peers_.erase(old->second);  // a restarted worker replaces its dead predecessor
    by_service_[service] = identity;
    peers_[identity] = {service, monotonic_ms()};
    spdlog::info("broker: {} worker ready", service);
  }

  // Sends a request to the worker serving `service`, or answers unavailable (decoding
  // the request only then, for its id: carried messages are never decoded).
  void forward(const std::string& service, const std::string& route,
               const zmq::message_t& payload) {
    auto worker = by_service_.find(service);
    if (worker != by_service_.end() &&
        send_backend(worker->second, {backend::kRequest, route, backend::text(payload)}))
      return;
    auto request = wire::decode_request(payload.data(), payload.size());
    to_route(route, wire::encode_error(request ? request->id : 0,
                                       {errc::kUnavailable, "no " + service + " worker is running"}));
  }

  void to_route(const std::string& route, std::string_view payload) {
    if (route.empty()) return;
    std::string identity = route.substr(1);
    try {
      if (route[0] == 'B') {
        send_backend(identity, {backend::kReply, payload});
      } else {
        std::vector<zmq::const_buffer> parts{zmq::buffer(identity)};
        if (route[0] == 'Q') parts.push_back(zmq::const_buffer(nullptr, 0));
        parts.push_back(zmq::buffer(payload.data(), payload.size()));
        zmq::send_multipart(frontend_, parts, zmq::send_flags::dontwait);
      }
    } catch (const zmq::error_t& e) {
      spdlog::debug("broker: reply dropped: {}", e.what());
    }
  }

  bool send_backend(const std::string& identity, std::initializer_list<std::string_view> frames) {
    std::vector<zmq::const_buffer> parts{zmq::buffer(identity)};
    for (auto f : frames) parts.push_back(zmq::buffer(f.data(), f.size()));
    try {
      return zmq::send_multipart(backend_, parts, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t& e) {  // EHOSTUNREACH: the worker is gone
      forget(identity);
      return false;
    }
  }

  void forget(const std::string& identity) {
    auto peer = peers_.find(identity);
    if (peer == peers_.end()) return;
    spdlog::warn("broker: lost the {} worker", peer->second.service);
    if (by_service_[peer->second.service] == identity) by_service_.erase(peer->second.service);
    peers_.erase(peer);
  }

  void heartbeat() {
    int64_t now = monotonic_ms();
    if (now - last_beat_ms_ < config_.timing.heartbeat_ms) return;
    last_beat_ms_ = now;
    std::vector<std::string> dead;
    for (const auto& [identity, peer] : peers_) {
      if (now - peer.last_heard_ms > int64_t{config_.timing.heartbeat_ms} * config_.timing.liveness)
        dead.push_back(identity);
    }
    for (const auto& identity : dead) forget(identity);
    for (const auto& [identity, peer] : std::map(peers_)) send_backend(identity, {backend::kHeartbeat});
  }

  std::string ping() const {
    std::vector<std::string> services;
    for (const auto& [service, identity] : by_service_) services.push_back(service);
    return wire::MapBuilder().add("services", services).finish();
  }

  const Config& config_;
  zmq::context_t zmq_;
  zmq::socket_t frontend_, backend_;
  std::map<std::string, Peer> peers_;               // by identity
  std::map<std::string, std::string> by_service_;   // service -> identity
  int64_t last_beat_ms_ = 0;
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::SignalFd signals({SIGINT, SIGTERM});  // before any thread starts
  closeloop::Config config = closeloop::daemon_start(argc, argv, "broker");
  try {
    closeloop::Broker broker(config);
    return broker.run(signals.fd());
  } catch (const zmq::error_t& e) {
    spdlog::critical("broker: {}", e.what());
    return 1;
  }
}
