#include "net/client.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <system_error>
#include <zmq_addon.hpp>

#include "base/clock.h"

namespace closeloop {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// A timeout after refusals that said "retry" (unavailable, in transit): the English message
// says so, and the refusal's msgid and arguments stay, for a client to say why in its
// reader's language.
Error gave_up(const Error& refusal) {
  Error error = refusal;
  error.code = errc::kTimeout;
  error.message = "gave up within the timeout: " + refusal.message;
  return error;
}

Error closed() { return Error::of(errc::kUnavailable, N_("the client was closed")); }

}  // namespace

Result<std::optional<ClientKeys>> find_keys(const Config& config, std::string file,
                                            std::string server) {
  if (file.empty()) file = env("CLOSELOOP_KEY");
  if (file.empty()) file = config.key;
  if (file.empty() && !config.curve()) return std::optional<ClientKeys>();
  std::string keys = security::keys_dir(config.data_dir);
  if (file.empty()) file = keys + "/office.key";
  auto own = security::read_key_file(file);
  if (!own)
    return Error::of(errc::kInvalid,
                     N_("no usable key: {reason} (give {field}, $CLOSELOOP_KEY or the config's "
                        "key)"),
                     {{"reason", own.error().message}}, "key");
  if (server.empty()) server = env("CLOSELOOP_SERVER_KEY");
  if (server.empty()) server = config.server_key;
  if (server.empty()) {
    auto pub = security::read_public_key(keys + "/broker.pub");
    if (!pub)
      return Error::of(errc::kInvalid,
                       N_("no server key: {reason} (give {field}, $CLOSELOOP_SERVER_KEY or the "
                          "config's server_key)"),
                       {{"reason", pub.error().message}}, "server-key");
    server = *pub;
  }
  if (!security::valid_z85_key(server))
    return Error::of(errc::kInvalid,
                     N_("the server key is not a public key (40 characters of Z85)"), {},
                     "server-key");
  return std::optional<ClientKeys>(ClientKeys{*own, server});
}

// Counts a thread inside the client, for the destructor to wait for.
class Client::Caller {
 public:
  explicit Caller(Client& client) : client_(client) {
    std::lock_guard lock(client_.mutex_);
    ++client_.callers_;
  }
  ~Caller() {
    std::lock_guard lock(client_.mutex_);
    if (--client_.callers_ == 0) client_.changed_.notify_all();
  }

 private:
  Client& client_;
};

Client::Client(const std::string& endpoint, int timeout_ms, int64_t max_message_bytes,
               std::optional<ClientKeys> keys)
    : endpoint_(endpoint),
      max_message_bytes_(max_message_bytes),
      keys_(std::move(keys)),
      timeout_ms_(timeout_ms),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      // Random start so that replies meant for an earlier process's ids are not mistaken.
      next_id_(std::random_device{}() * 4096ull),
      context_(1) {
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  try {
    open();  // here, so that a bad endpoint throws to the constructor's caller
  } catch (...) {
    ::close(wake_fd_);
    throw;
  }
  io_thread_ = std::thread([this] { run(); });
}

Client::~Client() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    changed_.notify_all();  // callers pausing between attempts
  }
  wake();
  io_thread_.join();  // it failed every waiter: the other threads' calls return
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return callers_ == 0; });
  ::close(wake_fd_);
}

// ---- the callers' side ----

Result<wire::Reply> Client::call(std::string_view type, std::string_view actor,
                                 std::string_view body) {
  Caller caller(*this);
  const int64_t deadline = monotonic_ms() + timeout_ms_;
  int backoff_ms = 5;
  for (;;) {
    Result<wire::Reply> reply = attempt(type, actor, body, deadline);
    if (!retryable(reply)) return reply;
    if (monotonic_ms() + backoff_ms >= deadline) return gave_up(reply ? reply->error : reply.error());
    if (!pause(backoff_ms)) return closed();
    backoff_ms = std::min(backoff_ms * 2, 200);
  }
}

void Client::start(std::string_view type, std::string_view actor, std::string_view body,
                   Done done) {
  Caller caller(*this);
  submit(type, actor, body, monotonic_ms() + timeout_ms_, std::move(done));
}

std::future<Result<wire::Reply>> Client::start(std::string_view type, std::string_view actor,
                                               std::string_view body) {
  // Shared: the I/O thread may still be inside set_value() when the future is ready.
  auto promise = std::make_shared<std::promise<Result<wire::Reply>>>();
  auto answer = promise->get_future();
  start(type, actor, body, [promise](Result<wire::Reply> reply) {
    promise->set_value(std::move(reply));
  });
  return answer;
}

Result<wire::Reply> Client::attempt(std::string_view type, std::string_view actor,
                                    std::string_view body, int64_t deadline_ms) {
  auto promise = std::make_shared<std::promise<Result<wire::Reply>>>();
  auto answer = promise->get_future();
  submit(type, actor, body, deadline_ms, [promise](Result<wire::Reply> reply) {
    promise->set_value(std::move(reply));
  });
  return answer.get();
}

// A request the broker could not read is answered here as the broker would answer it (with
// id 0, which cannot be matched to one of many requests in flight).
void Client::submit(std::string_view type, std::string_view actor, std::string_view body,
                    int64_t deadline_ms, Done done) {
  uint64_t id = ++next_id_;
  std::string payload = wire::encode_request(type, id, actor, body);
  if (auto readable = wire::decode_request(payload.data(), payload.size()); !readable) {
    std::string refusal = wire::encode_error(0, readable.error());
    return done(wire::decode_reply(refusal.data(), refusal.size()));
  }
  bool first;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return done(closed());
    first = queue_.empty();  // else the I/O thread has been woken for the queue already
    queue_.push_back({id, std::move(payload), deadline_ms, std::move(done)});
  }
  if (first) wake();
}

// Whether `reply` says "nothing happened, try again" (and the client is not closing).
bool Client::retryable(const Result<wire::Reply>& reply) {
  if (reply)
    return !reply->ok &&
           (reply->error.code == errc::kUnavailable || reply->error.code == errc::kInTransit);
  std::lock_guard lock(mutex_);
  return reply.error().code == errc::kUnavailable && !closing_;
}

// Waits `ms` between attempts; false if the client closes meanwhile.
bool Client::pause(int ms) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return closing_; });
}

void Client::wake() {
  uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

// ---- the I/O thread ----

void Client::run() {
  try {
    while (take_requests()) {
      send_unsent();
      wait_for_events();
      expire_waiters();
    }
  } catch (const std::exception& e) {
    spdlog::error("client: the connection to {} failed: {}", endpoint_, e.what());
  }
  {
    std::lock_guard lock(mutex_);
    closing_ = true;  // before any waiter hears "closed": call() must not retry then
    changed_.notify_all();
  }
  take_requests();
  fail_all(closed());
  close_socket();  // in the thread that used it
}

// Makes the queued requests waiters; false once the client closes.
bool Client::take_requests() {
  std::deque<Request> taken;
  bool open;
  {
    std::lock_guard lock(mutex_);
    taken.swap(queue_);
    open = !closing_;
  }
  for (Request& request : taken) {
    auto deadline = deadlines_.emplace_hint(deadlines_.end(), request.deadline_ms, request.id);
    waiters_.emplace(request.id, Waiter{std::move(request.done), deadline});
    unsent_.emplace_back(request.id, std::move(request.payload));
  }
  return open;
}

// Sends in order while the socket takes them (at its high-water mark, the rest wait for
// POLLOUT); a request given up meanwhile is not sent.
void Client::send_unsent() {
  while (!unsent_.empty()) {
    const auto& [id, payload] = unsent_.front();
    if (waiters_.count(id)) {
      if (!socket_) open();
      if (!socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait)) return;
    }
    unsent_.pop_front();
  }
}

void Client::wait_for_events() {
  std::vector<zmq::pollitem_t> items{{nullptr, wake_fd_, ZMQ_POLLIN, 0}};
  if (socket_) {
    short events = ZMQ_POLLIN | (unsent_.empty() ? 0 : ZMQ_POLLOUT);
    items.push_back({socket_.handle(), 0, events, 0});
    items.push_back({monitor_.handle(), 0, ZMQ_POLLIN, 0});
  }
  int64_t timeout = -1;
  if (!deadlines_.empty()) timeout = std::max<int64_t>(deadlines_.begin()->first - monotonic_ms(), 0);
  zmq::poll(items, std::chrono::milliseconds(timeout));
  if (items[0].revents & ZMQ_POLLIN) {  // read before the queue is taken, not after
    uint64_t count;
    (void)::read(wake_fd_, &count, sizeof count);
  }
  if (items.size() == 1) return;
  if (items[1].revents & ZMQ_POLLIN) receive_replies();
  if (items[2].revents & ZMQ_POLLIN) {
    if (auto problem = handshake_problem()) {
      close_socket();  // libzmq does not reconnect after a refused handshake
      fail_all(*problem);
    }
  }
}

void Client::receive_replies() {
  zmq::message_t message;
  while (socket_.recv(message, zmq::recv_flags::dontwait)) deliver(message);
}

// To the waiter of the reply's id. A reply without one (id 0: the broker could not read the
// request; or a reply we cannot read) can only be matched when one request waits.
void Client::deliver(const zmq::message_t& message) {
  wire::Limits limits;
  limits.max_array = 1 << 20;  // a list reply; its size is bounded by ZMQ_MAXMSGSIZE
  auto reply = wire::decode_reply(message.data(), message.size(), limits);
  uint64_t id = reply ? reply->id : 0;
  if (id == 0 && waiters_.size() == 1) id = waiters_.begin()->first;
  if (!waiters_.count(id)) {  // else a late reply to an attempt given up
    if (id == 0)
      spdlog::warn("client: dropped a reply no request can be matched to: {}",
                   reply ? reply->error.message : reply.error().message);
    return;
  }
  finish(id, std::move(reply));
}

void Client::finish(uint64_t id, Result<wire::Reply> result) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Done done = std::move(it->second.done);
  deadlines_.erase(it->second.deadline);
  waiters_.erase(it);
  done(std::move(result));
}

void Client::expire_waiters() {
  int64_t now = monotonic_ms();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now)
    finish(deadlines_.begin()->second,
           Error::of(errc::kTimeout, N_("no answer from the service within the timeout")));
}

void Client::fail_all(const Error& error) {
  auto failing = std::move(waiters_);
  waiters_.clear();
  deadlines_.clear();
  unsent_.clear();
  for (auto& [id, waiter] : failing) waiter.done(error);
}

// A fresh socket (libzmq does not reconnect after a refused handshake) and its monitor.
void Client::open() {
  close_socket();
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::maxmsgsize, max_message_bytes_);
  socket_.set(zmq::sockopt::linger, 0);
  if (keys_) {
    socket_.set(zmq::sockopt::curve_serverkey, keys_->server_key);
    socket_.set(zmq::sockopt::curve_publickey, keys_->own.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys_->own.secret_key);
  }
  // Watched with or without keys: a client without one meets a CURVE service as a failed
  // handshake too.
  std::string address = "inproc://client-monitor-" + std::to_string(++monitors_);
  constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                          ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (zmq_socket_monitor(socket_.handle(), address.c_str(), kEvents) != 0) throw zmq::error_t();
  monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
  monitor_.connect(address);
  failed_handshakes_ = 0;
  connected_ = false;
  socket_.connect(endpoint_);
}

void Client::close_socket() {
  monitor_ = zmq::socket_t();
  socket_ = zmq::socket_t();
}

// What the monitor has seen that makes waiting pointless: the service refused the key
// (unauthenticated), or cannot decide yet (unavailable), or closed two connections in
// their handshake (a wrong server key looks like that).
std::optional<Error> Client::handshake_problem() {
  std::optional<Error> problem;
  std::vector<zmq::message_t> frames;
  while (!problem &&
         zmq::recv_multipart(monitor_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    uint16_t event = 0;
    uint32_t value = 0;
    if (frames[0].size() >= 6) {
      std::memcpy(&event, frames[0].data(), 2);
      std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
    }
    frames.clear();
    if (event == ZMQ_EVENT_CONNECTED) connected_ = true;
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) connected_ = false, failed_handshakes_ = 0;
    if (event == ZMQ_EVENT_DISCONNECTED && std::exchange(connected_, false) &&
        ++failed_handshakes_ >= 2)
      problem = Error::of(errc::kUnauthenticated,
                          N_("the service closes the connection during the handshake: is the "
                             "server key ({field}) this service's public key?"),
                          {}, "server-key");
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
      problem = Error::of(errc::kUnauthenticated,
                          keys_ ? N_("the handshake with the service failed (it may not take "
                                     "CURVE keys, or the server key is not its own)")
                                : N_("the handshake with the service failed: it may want a key "
                                     "(CURVE)"));
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)  // 400; 300 and 500 mean "not now"
      problem = value != 400
                    ? Error::of(errc::kUnavailable,
                                N_("the service cannot check keys now (ZAP {status})"),
                                {{"status", std::to_string(value)}})
                    : Error::of(errc::kUnauthenticated,
                                N_("the service does not accept this key: no enabled account "
                                   "holds it"));
  }
  return problem;
}

namespace {

// An encoded map with `key` set to an encoded value.
std::string with_field(std::string_view map, std::string_view key, std::string_view value) {
  auto decoded = wire::decode(map.data(), map.size());
  wire::MapBuilder out;
  const msgpack::object& m = decoded->get();
  for (uint32_t i = 0; i < m.via.map.size; ++i) {
    const msgpack::object& k = m.via.map.ptr[i].key;
    std::string name(k.via.str.ptr, k.via.str.size);
    if (name != key) out.add_raw(name, wire::encoded_field(m, name));
  }
  return out.add_raw(key, value).finish();
}

}  // namespace

Result<wire::Reply> Client::for_each_page(std::string_view type, std::string_view actor,
                                          std::string_view body, const std::string& key,
                                          const std::string& cursor, const PageFn& fn) {
  Caller caller(*this);
  std::string after;  // the cursor of the last entry, encoded
  for (;;) {
    auto page = call(type, actor, after.empty() ? std::string(body) : with_field(body, "after", after));
    if (!page || !page->ok) return page;
    wire::Fields f(page->body, "reply");
    const msgpack::object& array = f.array(key);
    if (!f.ok()) return f.error();
    bool more = f.opt_bool("more").value_or(false) && array.via.array.size > 0;
    if (!fn(array) || !more) return page;
    after = wire::encoded_field(array.via.array.ptr[array.via.array.size - 1], cursor);
  }
}

Result<wire::Reply> Client::call_pages(std::string_view type, std::string_view actor,
                                       std::string_view body, const std::string& key,
                                       const std::string& cursor, uint64_t limit) {
  wire::Buffer entries;
  uint32_t count = 0;
  auto gather = [&](const msgpack::object& array) {
    for (uint32_t i = 0; i < array.via.array.size && count < limit; ++i, ++count)
      msgpack::pack(entries, array.via.array.ptr[i]);
    return count < limit;
  };
  auto last = for_each_page(type, actor, body, key, cursor, gather);
  if (!last || !last->ok) return last;
  wire::Buffer joined;
  wire::Packer(joined).pack_array(count);
  wire::pack_raw(joined, wire::view(entries));
  std::string whole =
      wire::encode_reply(0, wire::MapBuilder().add_raw(key, wire::view(joined)).finish());
  wire::Limits limits;
  limits.max_array = 1 << 24;
  limits.max_str = 1 << 26;
  return wire::decode_reply(whole.data(), whole.size(), limits);
}

}  // namespace closeloop
