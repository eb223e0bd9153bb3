// The broker: routes each client command to the worker its verb names
// (service_for(), from workflow/verbs.h), carries handoffs and queries between workers, and keeps
// worker liveness by heartbeats. It holds no durable state: a restarted broker learns the workers
// again as they re-register, and whatever was in flight through it is resent by the outboxes or
// retried by clients. It never queues for a missing worker: it answers `unavailable` at once, so
// nothing piles up in memory.
//
// Frontend (clients, at `endpoint`): ROUTER; DEALER clients send [payload], REQ
// clients [""][payload]. Backend (workers, at `backend`): ROUTER, see net/backend.h.
// A route is one tag byte and a peer identity: 'F' (DEALER client), 'Q' (REQ client)
// or 'B' (a worker).
//
// With security.mode = "curve" both sockets are CURVE servers, and the ZAP handler,
// bound before any socket, decides who is admitted (docs/security.md):
// - the backend admits only the worker keys <data_dir>/keys/NAME.pub, and a worker may
//   register only under the NAME of its key;
// - the frontend admits only the keys of enabled accounts, from the table the ledger
//   sends with its registration (no client at all until it has come), and checks the key
//   again on every message, so a disabled or rotated key is refused at its next request.
// Every request the broker carries to a worker names its sender as the broker knows it
// (net/backend.h): a worker, the account acting, or a person's request a worker passed
// on — never as the message says. Each carries a route token of its own (pending.h): a
// worker's answer reaches only the requester of a request that worker was given.
// The worker keys are read again every few seconds: a .pub removed (or made unsafe) is
// no longer admitted, its messages are dropped and its worker deregistered.
//
// Under a supervisor: READY=1 once both sockets are bound, WATCHDOG=1 from its loop,
// STOPPING=1 on SIGTERM (it holds nothing to drain); SIGHUP validates the config file like
// every worker (config/reload.h) and takes its log level.
//
// It answers `ping` and `status` itself: `status` from the figures the workers send with
// their heartbeats (worker/status.h), which it also serves as Prometheus text at
// `metrics_listen` (metrics_http.h) when the config names one, and its own row: its pid,
// since when it runs, its restarts as closeloopd counts them (CLOSELOOPD_RESTARTS), the
// connections open on each socket (net/socket_watch.h) and its last reload's refusal.
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <zmq_addon.hpp>

#include "calendar/clock.h"
#include "config/reload.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/signals.h"
#include "metrics_http.h"
#include "pending.h"
#include "net/backend.h"
#include "net/socket_watch.h"
#include "security/accounts.h"
#include "security/keys.h"
#include "security/rights.h"
#include "security/zap.h"
#include "wire/message.h"
#include "worker/status.h"
#include "worker/worker.h"
#include "workflow/verbs.h"

namespace closeloop {
namespace {

class Broker {
 public:
  explicit Broker(const Config& config)
      : config_(config),
        zmq_(1),
        zap_(config.curve() ? std::make_unique<security::ZapHandler>(
                                  zmq_, [this](const auto& r) { return admit(r); })
                            : nullptr),
        frontend_(zmq_, zmq::socket_type::router),
        backend_(zmq_, zmq::socket_type::router),
        pending_(answer_lifetime_ms(config)) {
    backend::harden(frontend_, config.max_message_bytes);
    backend::harden(backend_, config.internal_message_bytes());
    backend_.set(zmq::sockopt::router_mandatory, 1);  // a send to a dead worker fails loudly
    for (zmq::socket_t* s : {&frontend_, &backend_})  // idle connections free their descriptors
      s->set(zmq::sockopt::handshake_ivl, config.timing.handshake_timeout_ms);
    // Before the sockets bind: every connection is seen from the first.
    client_watch_.emplace(zmq_, frontend_, "clients");
    worker_watch_.emplace(zmq_, backend_, "workers");
    self_.pid = static_cast<uint64_t>(::getpid());
    self_.up_since = format_iso(std::chrono::system_clock::now());
    self_.restarts = restarts_from_supervisor();
    if (zap_) {
      zap_->count_failures([this](auto domain, auto why) {
        board_.count_handshake_failure(domain, why);  // status and /metrics
      });
      serve_curve(frontend_, "clients");
      serve_curve(backend_, "workers");
    }
    frontend_.bind(config.endpoint);
    backend_.bind(config.backend);
    spdlog::info("broker: clients at {}, workers at {}", config.endpoint, config.backend);
    notify::ready("routing");
    board_.broker_self(self_);
    if (!config.metrics_listen.empty()) serve_metrics(config.metrics_listen);
  }

  int run(SignalFd& signals) {
    int signal_fd = signals.fd();
    zmq::pollitem_t items[] = {{static_cast<void*>(frontend_), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(backend_), 0, ZMQ_POLLIN, 0},
                               {nullptr, signal_fd, ZMQ_POLLIN, 0},
                               {zap_ ? static_cast<void*>(zap_->socket()) : nullptr, -1,
                                ZMQ_POLLIN, 0}};
    for (;;) {
      zmq::poll(items, zap_ ? 4 : 3, std::chrono::milliseconds(config_.timing.heartbeat_ms / 2));
      if ((items[2].revents & ZMQ_POLLIN) && !take_signals(signals)) break;
      if (items[3].revents & ZMQ_POLLIN) zap_->serve();
      for (int n = 0; n < 1000 && drain(frontend_, &Broker::from_client); ++n) {
      }
      for (int n = 0; n < 1000 && drain(backend_, &Broker::from_worker); ++n) {
      }
      heartbeat();
      watchdog_.ping_if_due();
      publish_metrics();
    }
    return 0;
  }

 private:
  struct Peer {
    std::string service;
    int64_t last_heard_ms = 0;
    std::string key;     // the worker key it proved (curve)
    std::string sender;  // the sender frame of its requests: the worker, by name
  };

  // How long a request's token waits for its answer: the longest legitimate lateness.
  static int64_t answer_lifetime_ms(const Config& config) {
    return int64_t{10} * config.timing.request_timeout_ms;
  }

  // How often the worker keys are read again: a removed .pub is refused within 10 s.
  static constexpr int64_t kKeyScanMs = 5000;

  // How often closeloopd has started the broker again, as it says in the environment;
  // nothing when another supervisor (systemd) or nobody started it.
  static std::optional<uint64_t> restarts_from_supervisor() {
    const char* told = std::getenv("CLOSELOOPD_RESTARTS");
    uint64_t n = 0;
    if (!told || std::from_chars(told, told + std::strlen(told), n).ec != std::errc()) return {};
    return n;
  }

  using Handler = void (Broker::*)(std::vector<zmq::message_t>&);

  // False on SIGINT/SIGTERM: the broker holds nothing, so it stops at once.
  bool take_signals(SignalFd& signals) {
    for (int sig; (sig = signals.take()) != 0;) {
      if (sig == SIGHUP) {
        reload();
        continue;
      }
      spdlog::info("broker: {}: stopping", strsignal(sig));
      notify::stopping("stopping");
      return false;
    }
    return true;
  }

  // Validated like every worker's reload; of what may change live, the broker uses only
  // the log level.
  void reload() {
    notify::reloading("reloading " + config_.file);
    auto next = load_config(config_.file);
    auto change = next ? reload_change(config_, *next) : Result<ConfigChange>(next.error());
    if (!change) {
      spdlog::error("broker: reload of {} refused, the running config stays: {}", config_.file,
                    change.error().message);
      notify::ready("routing; reload refused: " + change.error().message);
      self_.reload_refused = change.error().message;
      board_.broker_self(self_);
      return;
    }
    self_.reload_refused.clear();
    board_.broker_self(self_);
    if (next->log_level != config_.log_level)
      spdlog::default_logger()->set_level(spdlog::level::from_str(next->log_level));
    config_ = std::move(*next);
    pending_.set_lifetime_ms(answer_lifetime_ms(config_));
    spdlog::info("broker: reloaded {}", config_.file);
    notify::ready("routing; config reloaded");
  }

  // Makes `socket` a CURVE server with the broker's own key pair, asking ZAP as `domain`.
  void serve_curve(zmq::socket_t& socket, const std::string& domain) {
    auto pair = security::own_key_pair(security::keys_dir(config_.data_dir), "broker");
    if (!pair) throw std::runtime_error(pair.error().message);
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, pair->secret_key);
    socket.set(zmq::sockopt::zap_domain, domain);
    own_key_ = pair->public_key;  // its broker.pub is no worker's
  }

  // The ZAP decision. Clients: the key of an enabled account, named by its key (checked
  // again per message); any key before the ledger has sent the accounts, whose messages
  // are then answered `unavailable` until it has. Workers: a key with a NAME.pub in the keys
  // folder (security/keys.h: a regular file only the service's user may write), named by
  // its key too (checked again per message, so a removed .pub stops it). The folder is read
  // again whenever a key is not found: a worker writes its .pub before it first connects,
  // and libzmq does not retry a connection refused at the handshake.
  security::ZapVerdict admit(const security::ZapRequest& r) {
    if (r.domain == "clients") {
      if (accounts_.loaded() && !accounts_.by_key(r.public_key))
        return security::ZapVerdict::refuse("no enabled account holds this key", "unknown_key");
      return security::ZapVerdict::admit(r.public_key);
    }
    if (!workers_.count(r.public_key)) scan_worker_keys();
    if (!workers_.count(r.public_key)) {
      return security::ZapVerdict::refuse("not a worker key of this service (no .pub for it in " +
                                              security::keys_dir(config_.data_dir) + ")",
                                          "unknown_key");
    }
    return security::ZapVerdict::admit(r.public_key);
  }

  // Reads the worker keys again; a worker whose key is no longer there is deregistered.
  // A folder that cannot be read now (out of descriptors) changes nothing.
  void scan_worker_keys() {
    next_key_scan_ms_ = monotonic_ms() + kKeyScanMs;
    std::map<std::string, std::string> refused;
    auto read = security::trusted_keys(security::keys_dir(config_.data_dir), &refused);
    if (!read) {
      spdlog::debug("broker: cannot read the worker keys now: {}", std::strerror(errno));
      return;
    }
    read->erase(own_key_);
    workers_ = {read->begin(), read->end()};
    for (const auto& [file, why] : refused)
      if (refused_keys_[file] != why) spdlog::warn("broker: not a worker key: {}", why);
    refused_keys_ = std::move(refused);
    std::vector<std::string> gone;
    for (const auto& [identity, peer] : peers_)
      if (!peer.key.empty() && !workers_.count(peer.key)) gone.push_back(identity);
    for (const auto& identity : gone) {
      spdlog::warn("broker: the {} worker's key is no longer admitted: deregistered",
                   peers_[identity].service);
      forget(identity);
    }
    board_.admitted_keys(*read);
  }

  // The worker a backend message comes from, by the key it proved: null when that key is
  // no longer admitted. With security.mode = "off", "" (no keys: the name it registers).
  const std::string* worker_of(zmq::message_t& frame) const {
    static const std::string kAnyone;
    if (!zap_) return &kAnyone;
    auto found = workers_.find(std::string_view(frame.gets("User-Id")));
    return found == workers_.end() ? nullptr : &found->second;
  }

  // Who acts for a client's request: its key's account, or, for a gateway naming a
  // person in `actor`, that person's account (through the gateway) when it is in the
  // gateway's scope. Empty (no accounts) with security.mode = "off".
  Result<std::string> sender_of(zmq::message_t& payload, const wire::Request& request) {
    if (!zap_) return std::string();
    if (!accounts_.loaded())
      return Error::of(errc::kUnavailable,
                       N_("the accounts are not loaded yet (is the ledger up?)"));
    const char* key = payload.gets("User-Id");
    const security::Account* account = key ? accounts_.by_key(key) : nullptr;
    if (!account)
      return Error::of(errc::kUnauthenticated,
                       N_("this key is no longer accepted: its account was disabled or given a "
                          "new key"));
    if (request.actor.empty() || request.actor == account->name) return accounts_.sender(*account);
    if (!account->gateway)
      return Error::of(errc::kForbidden,
                       N_("signed in as {account}: {field} must be {account} or left out"),
                       {{"account", account->name}}, "actor");
    const security::Account* person = accounts_.by_name(request.actor);
    if (Status scoped = security::may_act_for(*account, person, request.actor); !scoped)
      return scoped.error();
    security::Actor actor = person->actor();
    actor.gateway = account->name;
    return security::encode_actor(actor);
  }

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
    zmq::message_t& payload = frames.back();
    auto request = wire::decode_request(payload.data(), payload.size());
    if (!request) return to_route(route, wire::encode_error(0, request.error()));
    std::string_view service = service_for(request->type);
    if (service.empty()) {
      return to_route(route, wire::encode_error(request->id, {errc::kBadRequest,
                                                              "unknown message type '" +
                                                                  request->type + "'"}));
    }
    auto sender = sender_of(payload, *request);
    if (!sender) return to_route(route, wire::encode_error(request->id, sender.error()));
    if (service == "broker") return to_route(route, answer_here(*request, *sender));
    forward(std::string(service), {route, "", *sender, /*from_person=*/true}, payload, *sender);
  }

  void from_worker(std::vector<zmq::message_t>& frames) {
    if (frames.size() < 2) return;
    std::string identity(backend::text(frames[0]));
    const std::string* key_name = worker_of(frames.back());
    if (!key_name) return drop_unkeyed(identity);
    std::string_view kind = backend::text(frames[1]);
    if (kind == backend::kReady && (frames.size() == 3 || frames.size() == 4))
      return enlist(identity, *key_name, frames[2], frames.size() == 4 ? &frames[3] : nullptr);
    auto peer = peers_.find(identity);
    if (peer == peers_.end()) {
      send_backend(identity, {backend::kReregister});
      return;
    }
    peer->second.last_heard_ms = monotonic_ms();
    if (kind == backend::kHeartbeat && frames.size() == 3) {
      take_figures(peer->second.service, backend::text(frames[2]));
    } else if (kind == backend::kRequest && frames.size() == 4) {
      forward(std::string(backend::text(frames[2])), {"B" + identity}, frames[3],
              peer->second.sender);
    } else if (kind == backend::kRequest && frames.size() == 5) {
      pass_on(peer->second, identity, std::string(backend::text(frames[2])), frames[3],
              std::string(backend::text(frames[4])));
    } else if ((kind == backend::kReply || kind == backend::kInterim) && frames.size() == 4) {
      answer(identity, std::string(backend::text(frames[2])), backend::text(frames[3]),
             kind == backend::kReply);
    }
  }

  // A message from a connection whose worker key is no longer admitted.
  void drop_unkeyed(const std::string& identity) {
    board_.count_unadmitted_message();
    if (peers_.count(identity)) {
      spdlog::warn("broker: the {} worker's key is no longer admitted: deregistered",
                   peers_[identity].service);
      forget(identity);
    }
  }

  // A worker's registration, under the name of the key it proved (curve); the ledger's
  // carries the account table.
  void enlist(const std::string& identity, const std::string& key_name,
              zmq::message_t& service_frame, const zmq::message_t* announcement) {
    std::string service(backend::text(service_frame));
    if (zap_ && service != key_name) {
      spdlog::warn("broker: refused a worker with the key of '{}' registering as '{}'", key_name,
                   service);
      return;
    }
    if (auto old = by_service_.find(service); old != by_service_.end() && old->second != identity)
      peers_.erase(old->second);  // a restarted worker replaces its dead predecessor
    bool known = peers_.count(identity) > 0;
    by_service_[service] = identity;
    security::Actor worker{service};
    worker.worker = true;
    peers_[identity] = {service, monotonic_ms(), zap_ ? service_frame.gets("User-Id") : "",
                        security::encode_actor(worker)};
    if (!known) spdlog::info("broker: {} worker ready", service);
    send_backend(identity, {backend::kHeartbeat});  // at once: it tells the worker it is heard
    board_.registered(service);
    if (service == "ledger" && announcement) load_accounts(backend::text(*announcement));
  }

  void load_accounts(std::string_view table) {
    if (Status s = accounts_.load(table); !s)
      spdlog::error("broker: the ledger's account table is unreadable: {}", s.error().message);
  }

  static Error no_worker(const std::string& service) {
    return Error::of(errc::kUnavailable, N_("no {worker} worker is running"),
                     {{"worker", service}});
  }

  // Delivers a request to the worker serving `service` with a token of its own, or
  // answers it `unavailable` (decoding the request only then, for its id: carried
  // messages are never decoded).
  // `sender`: the sender frame it goes with (kept with the token for a person's request).
  void forward(const std::string& service, PendingRequests::Request request,
               const zmq::message_t& payload, const std::string& sender) {
    auto worker = by_service_.find(service);
    if (worker == by_service_.end())
      return refuse(request.route, payload, no_worker(service));
    request.worker = worker->second;
    std::string route = request.route;
    auto token = pending_.open(std::move(request), monotonic_ms());
    if (!token)
      return refuse(route, payload,
                    Error::of(errc::kUnavailable,
                              N_("the broker is busy: {count} requests wait for their answers"),
                              {{"count", std::to_string(pending_.size())}}));
    if (send_backend(worker->second, {backend::kRequest, *token, sender, backend::text(payload)}))
      return;
    pending_.close(*token);
    refuse(route, payload, no_worker(service));
  }

  // A worker passes on the person's request named by `token`: only one it was given,
  // straight from a client, still waiting; carried with that person's account as the
  // broker authenticated it, marked as passed on by this worker.
  void pass_on(const Peer& peer, const std::string& identity, const std::string& service,
               const zmq::message_t& payload, const std::string& token) {
    std::string route = "B" + identity;
    const PendingRequests::Request* original = pending_.find(token, identity);
    if (!original || !original->from_person) {
      board_.count_refused_forward();
      return refuse(route, payload, {errc::kForbidden, "the " + peer.service +
                                                           " worker may pass on only a person's "
                                                           "request it is serving"});
    }
    security::Actor person;
    if (!original->sender.empty()) {
      auto decoded = security::decode_actor(original->sender);
      if (!decoded) return refuse(route, payload, decoded.error());
      person = std::move(*decoded);
    }
    person.forwarded_by = peer.service;
    forward(service, {route}, payload, security::encode_actor(person));
  }

  // A worker's answer to the request `token` names: delivered only if that request was
  // given to this worker and still waits; kept waiting for an interim one (a handoff's
  // applied ack, before its durable one).
  void answer(const std::string& identity, const std::string& token, std::string_view payload,
              bool final) {
    const PendingRequests::Request* request = pending_.find(token, identity);
    if (!request) {
      board_.count_dropped_reply();
      spdlog::debug("broker: dropped an answer for a request the worker was not given");
      return;
    }
    std::string route = request->route;
    if (final) pending_.close(token);
    to_route(route, payload);
  }

  void refuse(const std::string& route, const zmq::message_t& payload, const Error& error) {
    auto request = wire::decode_request(payload.data(), payload.size());
    to_route(route, wire::encode_error(request ? request->id : 0, error));
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
    if (by_service_[peer->second.service] == identity) {
      by_service_.erase(peer->second.service);
      board_.lost(peer->second.service);
    }
    peers_.erase(peer);
  }

  void heartbeat() {
    int64_t now = monotonic_ms();
    if (now - last_beat_ms_ < config_.timing.heartbeat_ms) return;
    last_beat_ms_ = now;
    pending_.expire(now);
    if (zap_ && now >= next_key_scan_ms_) scan_worker_keys();
    read_socket_events();
    std::vector<std::string> dead;
    for (const auto& [identity, peer] : peers_) {
      if (now - peer.last_heard_ms > int64_t{config_.timing.heartbeat_ms} * config_.timing.liveness)
        dead.push_back(identity);
    }
    for (const auto& identity : dead) forget(identity);
    for (const auto& [identity, peer] : std::map(peers_)) send_backend(identity, {backend::kHeartbeat});
  }

  // The sockets' monitors: connections open now, handshakes failed before ZAP was asked.
  void read_socket_events() {
    auto failed = [this](const std::string& domain) {
      return [this, domain](uint16_t event, uint32_t value, const std::string& endpoint) {
        if (zap_) zap_->handshake_failed(domain, event, value, endpoint);
      };
    };
    client_watch_->read(failed("clients"));
    worker_watch_->read(failed("workers"));
    if (zap_) zap_->log_held_back();
    self_.client_connections = client_watch_->connections();
    self_.worker_connections = worker_watch_->connections();
    board_.broker_self(self_);
  }

  std::string ping() const {
    std::vector<std::string> services;
    for (const auto& [service, identity] : by_service_) services.push_back(service);
    return wire::MapBuilder().add("services", services).finish();
  }

  // The verbs the broker serves itself (service "broker" in workflow/verbs.cc).
  std::string answer_here(const wire::Request& request, const std::string& sender) {
    if (request.type == "whoami") return whoami(request, sender);
    if (request.type != "status") return wire::encode_reply(request.id, ping());
    if (Status allowed = may(sender, request.type); !allowed)
      return wire::encode_error(request.id, allowed.error());
    read_socket_events();  // its connections as they are now, the asker's among them
    return wire::encode_reply(request.id, board_.status_body());
  }

  // The account the broker proved for this request, as the rights see it: a person (with
  // the gateway it came through, if any) or a gateway account asking for itself. With
  // security.mode = "off" (no sender frame) the name is the request's own, unchecked.
  std::string whoami(const wire::Request& request, const std::string& sender) const {
    if (sender.empty())
      return wire::encode_reply(
          request.id,
          wire::MapBuilder().add("name", request.actor).add("unchecked", true).finish());
    auto actor = security::decode_actor(sender);
    if (!actor) return wire::encode_error(request.id, actor.error());
    std::vector<std::string> roles;
    for (security::Role role : actor->roles) roles.emplace_back(security::role_name(role));
    wire::MapBuilder answer;
    answer.add("name", actor->name).add("roles", roles);
    answer.add_nonempty("department", actor->department).add_nonempty("station", actor->station);
    answer.add_nonempty("gateway", actor->gateway);  // the gateway it acted through
    if (const security::Account* account = accounts_.by_name(actor->name);
        account && account->gateway) {  // a gateway account itself: its scope
      std::vector<std::string> scope;
      for (security::Role role : account->acts_for) scope.emplace_back(security::role_name(role));
      answer.add("acts_for", scope);
    }
    return wire::encode_reply(request.id, answer.finish());
  }

  // The rights of the account in a client's sender frame (none to check with security.mode =
  // "off", where the frame is empty).
  Status may(const std::string& sender, std::string_view verb) const {
    if (sender.empty()) return ok_status();
    auto actor = security::decode_actor(sender);
    if (!actor) return actor.error();
    actor->worker = actor->unchecked = false;  // a client is a person, proven by the key
    return security::may(*actor, verb, wire::Json::object(), nullptr);
  }

  void take_figures(const std::string& service, std::string_view frame) {
    auto figures = decode_figures(frame);
    if (!figures) {
      spdlog::warn("broker: unreadable figures from the {} worker: {}", service,
                   figures.error().message);
      return;
    }
    board_.reported(service, std::move(*figures));
  }

  // An unusable metrics_listen stops the broker like an unusable endpoint (exit 1).
  void serve_metrics(const std::string& listen) {
    auto server = MetricsServer::start(listen);
    if (!server) throw std::runtime_error(server.error().message);
    metrics_ = std::move(*server);
    metrics_->publish(board_.prometheus_text());
    spdlog::info("broker: Prometheus metrics at http://{}/metrics", listen);
  }

  // The text /metrics serves, rebuilt when figures or liveness changed, at most once a
  // heartbeat interval (the workers' reports of one interval make one text, ~0.2 ms).
  void publish_metrics() {
    if (!metrics_ || board_.version() == published_version_) return;
    int64_t now = monotonic_ms();
    if (now - published_ms_ < config_.timing.heartbeat_ms) return;
    published_version_ = board_.version();
    published_ms_ = now;
    metrics_->publish(board_.prometheus_text());
  }

  Config config_;  // only live keys change (reload), never the sockets'
  Watchdog watchdog_;
  zmq::context_t zmq_;
  std::unique_ptr<security::ZapHandler> zap_;  // before the sockets: see security/zap.h
  zmq::socket_t frontend_, backend_;
  std::optional<SocketWatch> client_watch_, worker_watch_;  // their monitors
  BrokerSelf self_;                                         // its own row in status
  std::string own_key_;                         // the broker's public key
  std::map<std::string, std::string, std::less<>> workers_;  // trusted worker keys: key -> name
  std::map<std::string, std::string> refused_keys_;  // .pub files refused: file -> why (logged once)
  int64_t next_key_scan_ms_ = 0;
  security::AccountTable accounts_;             // the ledger's, for the frontend
  std::map<std::string, Peer> peers_;               // by identity
  std::map<std::string, std::string> by_service_;   // service -> identity
  PendingRequests pending_;                         // requests delivered, waiting for answers
  int64_t last_beat_ms_ = 0;
  StatusBoard board_;                       // the workers' figures, for status and /metrics
  std::unique_ptr<MetricsServer> metrics_;  // with metrics_listen
  uint64_t published_version_ = 0;          // the board's version /metrics serves
  int64_t published_ms_ = 0;                // when it was built
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::SignalFd signals({SIGINT, SIGTERM, SIGHUP});  // before any thread starts
  closeloop::Config config = closeloop::daemon_start(argc, argv, "broker");
  try {
    closeloop::Broker broker(config);
    return broker.run(signals);
  } catch (const std::exception& e) {  // a socket or the metrics port it cannot have
    spdlog::critical("broker: {}", e.what());
    return 1;
  }
}
