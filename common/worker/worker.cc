#include "worker/worker.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <zmq_addon.hpp>

#include "calendar/clock.h"
#include "daemon/signals.h"
#include "net/backend.h"
#include "security/accounts.h"
#include "store/keys.h"
#include "worker/incidents.h"
#include "worker/lane.h"

namespace closeloop {

namespace {
constexpr int kPollMs = 50;
// A handoff nests deeper than a client's request: envelope, body, entries, entry,
// {item, event}, then the records' own lists of maps (an event's payload holding a
// project's milestones is 4 deeper still).
constexpr size_t kMaxHandoffDepth = 16;
// The worker's LevelDB folder is measured for the figures at most this often.
constexpr int64_t kDiskBytesEveryMs = 5000;
// A worker labels its figures with at most this many request types (they come from
// workers and the verb table; the broker refuses unknown types from clients).
constexpr size_t kMaxVerbNames = 128;
// How long a receipt may wait for its fsync. Receipts are applied and acknowledged at
// once (enough for read-your-writes) and made durable within this bound, together
// with whatever else the worker commits meanwhile (one fsync for many), after which
// they are acknowledged again as durable and the sender may forget them.
constexpr int64_t kReceiptSyncMs = 20;

uint64_t nanos_since(std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
}
}  // namespace

// The reader thread: runs reads against snapshots, one at a time, and hands the
// replies back to the loop, which polls wake_fd().
class Worker::ReaderThread {
 public:
  struct Job {
    ReplyTarget target;
    std::shared_ptr<const Snapshot> snapshot;
    Context::ReadFn read;
  };

  ReaderThread() : wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), thread_([this] { run(); }) {}
  ~ReaderThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
    ::close(wake_);
  }

  int wake_fd() const { return wake_; }

  void submit(Job job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

  struct Done {
    ReplyTarget target;
    std::string payload;
    std::string result;  // "ok" or the error's code
  };

  // The replies finished since the last call.
  std::vector<Done> take() {
    uint64_t count;
    (void)!::read(wake_, &count, sizeof count);
    std::lock_guard lock(mutex_);
    return std::exchange(done_, {});
  }

 private:
  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      Done done = answer(job);
      job.snapshot.reset();  // released here, not by the loop
      {
        std::lock_guard lock(mutex_);
        done_.push_back(std::move(done));
      }
      uint64_t one = 1;
      (void)!::write(wake_, &one, sizeof one);
    }
  }

  static Done answer(const Job& job) {
    try {
      auto body = job.read(*job.snapshot);
      if (body) return {job.target, wire::encode_reply(job.target.id, *body), "ok"};
      return {job.target, wire::encode_error(job.target.id, body.error()), body.error().code};
    } catch (const std::exception& e) {  // never across the thread's boundary
      spdlog::error("a read failed: {}", e.what());
      return {job.target,
              wire::encode_error(job.target.id,
                                 Error::of(errc::kInternal, N_("the read failed; logged"))),
              errc::kInternal};
    }
  }

  int wake_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  bool stopping_ = false;
  std::thread thread_;
};
// ---- Context ----

Txn& Context::txn() { return *worker_.txn_; }
const Config& Context::config() const { return worker_.config_; }
const Clock& Context::clock() const { return worker_.clock_; }
const std::string& Context::name() const { return worker_.name_; }

uint64_t Context::hand_off(std::vector<std::string> to, std::string entry) {
  uint64_t pos = worker_.next_pos_++;
  worker_.must_sync_ = true;  // what leaves the process rests on synced state
  txn().put(keys::outbox(pos), wire::MapBuilder().add("to", to).add_raw("entry", entry).finish());
  for (const auto& destination : to) ++worker_.figures_.handoffs_sent[destination];
  handed_off_.push_back(pos);
  if (worker_.mirror_full()) {
    worker_.leave_on_disk(pos, to);
    return pos;
  }
  for (const auto& destination : to) worker_.lane(destination).fresh.push_back(pos);
  worker_.add_to_outbox(pos, std::move(to), std::move(entry));
  return pos;
}

void Context::reply(std::string body) {
  reply_ = wire::encode_reply(target_.id, body);
  result_ = "ok";
}

void Context::fail(Error error) {
  reply_ = wire::encode_error(target_.id, error);
  result_ = error.code;
}

void Context::after_commit(std::function<void(Context&)> fn) {
  worker_.after_commit_.emplace_back(target_, std::move(fn));
}

void Context::ask(std::string_view service, std::string_view type, std::string body, AskFn fn) {
  uint64_t id = worker_.next_request_id();
  worker_.queue_ask(id, service, wire::encode_request(type, id, worker_.name_, body),
                    {std::move(fn), target_, actor_});
}

void Context::forward(std::string_view service, std::string_view type, std::string_view actor,
                      std::string_view body) {
  uint64_t id = worker_.next_request_id();
  AskFn relay = [](Context& ctx, Result<wire::Reply>& reply) {
    if (!reply) return ctx.fail(reply.error());
    if (!reply->ok) return ctx.fail(reply->error);
    wire::Buffer answer;
    msgpack::pack(answer, reply->body);
    ctx.reply(std::string(wire::view(answer)));
  };
  // The broker carries it with the account of the request it names (target_.route).
  worker_.queue_ask(id, service, wire::encode_request(type, id, actor, body),
                    {std::move(relay), target_, actor_}, target_.route);
}

void Context::await_handoff(uint64_t pos) { handed_off_.push_back(pos); }

void Context::read_later(ReadFn read) { worker_.reads_.push_back({target_, std::move(read), {}}); }

void Context::read_later(std::shared_ptr<const Snapshot> snapshot, ReadFn read) {
  worker_.reads_.push_back({target_, std::move(read), std::move(snapshot)});
}

void Context::announce() { worker_.announce_ = true; }

// An ask waits for its answer until the request timeout; its request leaves after the commit.
void Worker::queue_ask(uint64_t id, std::string_view service, std::string payload, Ask ask,
                       std::string on_behalf_of) {
  ask.deadline_ms = monotonic_ms() + config_.timing.request_timeout_ms;
  asks_[id] = std::move(ask);
  outgoing_asks_.push_back({std::string(service), std::move(payload), std::move(on_behalf_of)});
}

// ---- Worker: start-up ----

Worker::Worker(const Config& config, std::string name, Service& service)
    : config_(config),
      clock_(config.timezone, config.clock_file),
      name_(std::move(name)),
      service_(service),
      zmq_(1) {
  figures_.pid = static_cast<uint64_t>(::getpid());
  figures_.up_since = format_iso(std::chrono::system_clock::now());
}

Worker::~Worker() = default;

Worker::Lane& Worker::lane(const std::string& to) {
  auto& l = lanes_[to];
  if (!l) {
    l = std::make_unique<Lane>();
    l->backoff_ms = config_.timing.resend_min_ms;
  }
  return *l;
}

void Worker::add_to_outbox(uint64_t pos, std::vector<std::string> to, std::string entry) {
  for (const auto& destination : to) lane(destination).unacked[pos] = 0;
  std::vector<std::string> unapplied = to;
  outbox_[pos] = {to, to, std::move(unapplied), std::move(entry), monotonic_ms()};
}

Status Worker::open() {
  auto path = std::filesystem::path(config_.data_dir) / name_;
  auto store = Store::open(path.string());
  if (!store) return store.error();
  store_ = std::move(*store);
  txn_ = std::make_unique<Txn>(*store_, config_.sync);
  if (auto next = store_->get(keys::meta("next_pos"))) next_pos_ = keys::read_be64(*next);
  if (auto next = store_->get(keys::meta("next_reload"))) next_reload_ = keys::read_be64(*next);
  saved_next_pos_ = next_pos_;
  store_->scan(keys::kIncidentPrefix, [this](std::string_view, std::string_view) {
    kept_incidents_ = true;
    return false;  // one is enough
  });
  if (Status epoch = load_epoch(); !epoch) return epoch;
  // Start-up is recovery: every unacknowledged handoff is sent again. The first
  // kOutboxMirror records come into memory; the rest are counted and paged in later.
  size_t on_disk = 0;
  store_->scan(keys::kOutboxPrefix, [&](std::string_view key, std::string_view value) {
    uint64_t pos = keys::outbox_pos(key);
    next_pos_ = std::max(next_pos_, pos + 1);
    auto record = read_outbox_record(value);
    if (!record) {
      keep_unreadable_outbox_record(pos, value, record.error().message);
      return true;
    }
    if (mirror_full()) {
      leave_on_disk(pos, record->to);
      ++on_disk;
      return true;
    }
    // Every destination again, acknowledged or not: which acks came was not
    // recorded, and a receiver that has the entry acknowledges it again. A window's
    // worth at once; the rest as acks make room, like resends.
    for (const auto& destination : record->to)
      if (Lane& l = lane(destination); l.fresh.size() < kResendWindow) l.fresh.push_back(pos);
    add_to_outbox(pos, std::move(record->to), std::move(record->entry));
    return true;
  });
  // Its receivers may be starting too: the first message to each goes alone (Lane::probing).
  for (auto& [to, l] : lanes_) l->probing = true;
  if (Status started = service_.on_start(*store_, config_); !started) return started;
  if (Status kept = txn_->commit(); !kept) return kept;  // unreadable outbox records' incidents
  spdlog::info("{}: opened {} ({} handoffs waiting, {} of them on disk only)", name_, path.string(),
               outbox_.size() + on_disk, on_disk);
  if (config_.curve()) {
    auto pair = security::own_key_pair(security::keys_dir(config_.data_dir), name_);
    if (!pair) return pair.error();
    key_pair_ = std::move(*pair);
  }
  return ok_status();
}

// A store's epoch tells its receivers which life of it a handoff comes from: a store made
// anew (a lost data dir, a restore, closeloop rebuild) counts its positions from 1 again,
// and its receivers must not take those for the duplicates of its earlier life's. A store
// that handed off before epochs existed keeps epoch 0, which its receivers assume.
Status Worker::load_epoch() {
  if (auto stored = store_->get(keys::meta("epoch"))) {
    epoch_ = keys::read_be64(*stored);
    return ok_status();
  }
  bool handed_off_before = store_->get(keys::meta("next_pos")).has_value();
  epoch_ = handed_off_before ? 0 : static_cast<uint64_t>(wall_clock_ms());
  std::string value;
  keys::append_be64(value, epoch_);
  txn_->put(keys::meta("epoch"), value);
  return txn_->commit();
}

// With CURVE the worker needs the broker's public key, which the broker makes at its
// first start: until it exists the socket stays unconnected and each turn looks again.
bool Worker::connect() {
  std::string server_key;
  if (key_pair_) {
    auto key = security::read_public_key(security::keys_dir(config_.data_dir) + "/broker.pub");
    if (!key) {
      if (!broker_) {  // polled, unconnected, until the key comes
        spdlog::info("{}: waiting for the broker's key: {}", name_, key.error().message);
        broker_ = std::make_unique<zmq::socket_t>(zmq_, zmq::socket_type::dealer);
      }
      return connected_ = false;
    }
    server_key = *key;
  }
  broker_ = std::make_unique<zmq::socket_t>(zmq_, zmq::socket_type::dealer);
  backend::harden(*broker_, config_.internal_message_bytes());
  // Messages queue until the connection is up (so `ready` goes out at once), within a
  // bound: what is lost beyond it is resent from the outbox or retried by clients.
  broker_->set(zmq::sockopt::sndhwm, 10000);
  broker_->set(zmq::sockopt::rcvhwm, 100000);
  if (key_pair_) {
    broker_->set(zmq::sockopt::curve_serverkey, server_key);
    broker_->set(zmq::sockopt::curve_publickey, key_pair_->public_key);
    broker_->set(zmq::sockopt::curve_secretkey, key_pair_->secret_key);
  }
  broker_->connect(config_.backend);
  last_heard_ms_ = monotonic_ms();
  register_with_broker();
  return connected_ = true;
}

void Worker::register_with_broker() {
  std::string announcement = service_.announcement();
  if (announcement.empty()) {
    send({backend::kReady, name_});
  } else {
    send({backend::kReady, name_, announcement});
  }
}

int Worker::run(SignalFd& signals) {
  signals_ = &signals;
  return run(signals.fd());
}

int Worker::run(int signal_fd) {
  signal_fd_ = signal_fd;
  if (Status s = open(); !s) {
    if (s.error().code != errc::kUnavailable || store_) {  // not the disk's doing, or half open
      spdlog::critical("{}: {}", name_, s.error().message);
      return store_ ? EX_TEMPFAIL : 1;
    }
    if (auto code = wait_for_storage(s.error())) return *code;
  } else {
    connect();
  }
  while (turn()) {
  }
  return txn_ ? 0 : EX_TEMPFAIL;
}

// ---- Worker: one loop turn ----

bool Worker::turn() {
  if (!connected_) connect();
  zmq::pollitem_t items[] = {{static_cast<void*>(*broker_), 0, ZMQ_POLLIN, 0},
                             {nullptr, signal_fd_, ZMQ_POLLIN, 0},
                             {nullptr, reader_ ? reader_->wake_fd() : -1, ZMQ_POLLIN, 0}};
  zmq::poll(items, reader_ ? 3 : 2, std::chrono::milliseconds(poll_timeout_ms()));
  if (items[1].revents & ZMQ_POLLIN) take_signals();
  if (stop_now_) return finish_drain();
  if (reader_ && (items[2].revents & ZMQ_POLLIN)) take_reads();
  std::vector<zmq::message_t> frames;
  for (int n = 0; n < config_.batch_max; ++n) {
    frames.clear();
    if (!zmq::recv_multipart(*broker_, std::back_inserter(frames), zmq::recv_flags::dontwait))
      break;
    last_heard_ms_ = monotonic_ms();
    if (std::exchange(reconnect_delay_ms_, 0) != 0 && serving_) notify::status("serving");
    receive(frames);
  }
  Context own(*this, ReplyTarget{});
  if (!drain_until_ms_) service_.on_turn(own);  // a draining worker starts nothing new
  if (!commit()) return false;
  // Reads that must see this turn's writes, then whatever they wrote (nothing, normally).
  auto deferred = std::move(after_commit_);
  after_commit_.clear();
  for (auto& [target, fn] : deferred) {
    Context ctx(*this, target);
    fn(ctx);
    settle(ctx);
  }
  if (!commit()) return false;
  if (!sync_receipts_when_due()) return false;
  if (txn_->settled()) advance_watermarks();
  if (std::exchange(announce_, false)) register_with_broker();
  start_reads();
  flush();
  watchdog_.ping_if_due();  // only here: a turn that never ends stops the pings
  if (staged_ && reads_in_flight_ == 0) apply_reload();
  if (drain_until_ms_ && (owes_nothing() || monotonic_ms() >= *drain_until_ms_))
    return finish_drain();
  return true;
}

// Reads queued this turn start now, against one snapshot taken after the commit.
void Worker::start_reads() {
  if (reads_.empty() || staged_) return;  // a staged config waits for an idle reader
  if (!reader_) reader_ = std::make_unique<ReaderThread>();
  std::shared_ptr<const Snapshot> snapshot = store_->snapshot();
  for (auto& r : reads_)
    reader_->submit({r.target, r.snapshot ? r.snapshot : snapshot, std::move(r.read)});
  reads_in_flight_ += reads_.size();
  reads_.clear();
}

void Worker::take_reads() {
  for (auto& done : reader_->take()) {
    count_reply(done.target, done.result);
    ready_.emplace_back(std::move(done.target), std::move(done.payload));
    --reads_in_flight_;
  }
}

int64_t Worker::poll_timeout_ms() const {
  if (unsynced_receipts_.empty()) return kPollMs;
  int64_t due = unsynced_receipts_.front().since_ms + kReceiptSyncMs;
  return std::clamp<int64_t>(due - monotonic_ms(), 0, kPollMs);
}

// A turn that only received handoffs is written without fsync (its acks say so); the
// fsync comes with the next command's commit, or here once the oldest such receipt
// has waited kReceiptSyncMs.
bool Worker::sync_receipts_when_due() {
  if (unsynced_receipts_.empty() || !txn_->has_unsynced()) return true;
  if (monotonic_ms() - unsynced_receipts_.front().since_ms < kReceiptSyncMs) return true;
  auto start = std::chrono::steady_clock::now();
  if (!storage_ok(txn_->sync())) return false;
  figures_.fsynced(nanos_since(start));
  return true;
}

bool Worker::commit() {
  if (next_pos_ != saved_next_pos_) {  // once per batch, however many handoffs it holds
    std::string next;
    keys::append_be64(next, next_pos_);
    txn_->put(keys::meta("next_pos"), next);
    saved_next_pos_ = next_pos_;
  }
  bool defer_sync = !must_sync_;
  must_sync_ = false;
  bool writes = !txn_->empty(), syncs = txn_->syncs_on_commit(defer_sync);
  auto start = std::chrono::steady_clock::now();
  if (!storage_ok(txn_->commit(defer_sync))) return false;
  batch_commands_.clear();
  if (syncs) figures_.fsynced(nanos_since(start));
  uint64_t folded = std::exchange(batch_messages_, 0);  // messages that wrote nothing: no batch
  if (writes && folded > 0) figures_.committed(folded);
  return true;
}

// LevelDB refuses every write after a failed one, and a failed fsync may have lost what
// the page cache held: crash-only, the supervisor starts us again from what is on disk.
bool Worker::storage_ok(const Status& s) {
  if (s) return true;
  spdlog::critical(
      "{}: cannot write its store: {}; refusing this batch's {} commands "
      "and exiting (75) to start again from what is on disk",
      name_, s.error().message, batch_commands_.size());
  notify::status("cannot write its store: " + s.error().message + "; restarting");
  refuse_batch(s.error());
  txn_.reset();
  return false;
}

void Worker::receive(std::vector<zmq::message_t>& frames) {
  std::string_view kind = frames.empty() ? "" : backend::text(frames[0]);
  if (!serving_ && !kind.empty() && kind != backend::kReregister) notice_ready();
  if (kind != backend::kHeartbeat) ++figures_.messages_in;
  if (kind == backend::kRequest && frames.size() == 4) {
    serve(std::string(backend::text(frames[1])), std::string(backend::text(frames[2])), frames[3]);
  } else if (kind == backend::kReply && frames.size() == 2) {
    take_reply(frames[1]);
  } else if (kind == backend::kReregister) {
    register_with_broker();
  } else if (kind != backend::kHeartbeat) {
    spdlog::warn("{}: ignoring unexpected frames from the broker", name_);
  }
}

// `route`: the broker's token for the request; `sender`: who sent it, as the broker proved
// it (net/backend.h).
void Worker::serve(const std::string& route, const std::string& sender,
                   const zmq::message_t& payload) {
  wire::Limits limits;
  limits.max_array = kResendWindow * 4;
  limits.max_depth = kMaxHandoffDepth;
  limits.reference = true;  // `payload` outlives the request: it is served right here
  auto request = wire::decode_request(payload.data(), payload.size(), limits);
  if (!request) {
    spdlog::warn("{}: refused an undecodable request: {}", name_, request.error().message);
    ready_.emplace_back(ReplyTarget{route, 0}, wire::encode_error(0, request.error()));
    return;
  }
  ReplyTarget target{route, request->id};
  if (drain_until_ms_) {  // the sender keeps it (a client retries, an outbox resends)
    ready_.emplace_back(
        std::move(target),
        wire::encode_error(request->id, Error::of(errc::kUnavailable, N_("{worker} is stopping"),
                                                  {{"worker", name_}})));
    return;
  }
  auto actor = actor_of(sender, *request);
  if (request->type == "handoff") {  // from a worker, the one the broker names
    std::string from = actor && actor->worker ? actor->name : "";
    return accept_handoff(std::move(target), from, *request);
  }
  if (waiting_.size() >= kMaxWaiting) {  // its receivers are slow or down: no more for now
    ready_.emplace_back(
        std::move(target),
        wire::encode_error(request->id,
                           Error::of(errc::kUnavailable,
                                     N_("{worker} is busy: {count} replies wait for their "
                                        "handoffs"),
                                     {{"worker", name_}, {"count", std::to_string(waiting_.size())}})));
    return;
  }
  target.verb = verb_name(request->type);
  if (!actor) {
    count_reply(target, actor.error().code);
    ready_.emplace_back(std::move(target), wire::encode_error(request->id, actor.error()));
    return;
  }
  must_sync_ = true;  // a client's command: its reply promises durability
  ++batch_messages_;
  batch_commands_.push_back(target);  // answered `unavailable` if the commit fails
  Context ctx(*this, std::move(target));
  ctx.actor_ = std::move(*actor);
  // Every worker keeps its own incidents; the ledger gathers them for people.
  if (ctx.actor_.worker && request->type.starts_with("incidents")) {
    serve_incidents(ctx, *request);
  } else if (request->type == "backup") {
    serve_backup(ctx, *request);
  } else {
    service_.on_request(ctx, *request);
  }
  settle(ctx);
}

// Who acts, from the broker's sender frame alone: a worker as that worker and nothing
// else; a person by the account the broker authenticated, also when a worker passed the
// request on (the broker checked that the worker was serving that person's request). The
// request's actor becomes that account's name, so nothing downstream acts under another.
// With security.mode = "off" there are no accounts: the request's actor is taken as said.
Result<security::Actor> Worker::actor_of(const std::string& sender, wire::Request& request) {
  security::Actor actor;
  if (!sender.empty()) {
    auto decoded = sender_of(sender);
    if (!decoded) return decoded.error();
    actor = **decoded;
  }
  if (actor.worker) return actor;
  if (!config_.curve()) {
    actor.name = request.actor;
    actor.unchecked = true;
    return actor;
  }
  if (actor.name.empty())
    return Error::of(errc::kUnauthenticated, N_("the request names no account"));
  request.actor = actor.name;
  return actor;
}

// The Actor a sender frame encodes, decoded once: the same few frames come again and again
// (each worker's, each account's), so they are remembered, a bounded number of them.
Result<const security::Actor*> Worker::sender_of(const std::string& frame) {
  if (auto known = senders_.find(frame); known != senders_.end()) return &known->second;
  auto decoded = security::decode_actor(frame);
  if (!decoded) return Error{errc::kInternal, "the broker's sender frame: " + decoded.error().message};
  if (senders_.size() >= kMaxSenders) senders_.clear();
  return &senders_.emplace(frame, std::move(*decoded)).first->second;
}

// Turns a context's reply into one sent after commit, once its handoffs are acknowledged.
void Worker::settle(Context& ctx) {
  if (!ctx.reply_) return;
  count_reply(ctx.target_, ctx.result_);
  std::vector<uint64_t> pending;
  for (uint64_t pos : ctx.handed_off_)
    if (auto it = outbox_.find(pos);
        it != outbox_.end() ? !it->second.unapplied.empty() : only_on_disk(pos))
      pending.push_back(pos);
  if (pending.empty()) {
    ready_.emplace_back(ctx.target_, std::move(*ctx.reply_));
    return;
  }
  uint64_t id = ++obligation_ids_;
  waiting_[id] = {ctx.target_, std::move(*ctx.reply_), pending.size(), monotonic_ms()};
  for (uint64_t pos : pending) waiters_[pos].push_back(id);
}

// ---- Worker: after commit ----

void Worker::flush() {
  for (auto& [target, payload] : ready_) send({backend::kReply, target.route, payload});
  ready_.clear();
  for (const auto& ask : outgoing_asks_) {
    if (ask.on_behalf_of.empty()) {
      send({backend::kRequest, ask.service, ask.payload});
    } else {
      send({backend::kRequest, ask.service, ask.payload, ask.on_behalf_of});
    }
  }
  outgoing_asks_.clear();
  acknowledge_receipts();
  page_in_outbox();  // after the commit: the scan sees every record written
  int64_t now = monotonic_ms();
  for (auto& [to, l] : lanes_) {
    if (!l->fresh.empty()) send_lane(to, *l, false);
    if (!l->held.empty() && now >= l->next_held_check_ms) ask_about_held(to, *l);
    if (now >= l->next_check_ms) {
      send_lane(to, *l, true);
      l->next_check_ms = now + l->backoff_ms;
    }
  }
  expire_asks();
  expire_waiting();
  keep_alive();
}

void Worker::expire_asks() {
  int64_t now = monotonic_ms();
  std::erase_if(in_flight_, [&](const auto& kv) { return kv.second.deadline_ms < now; });
  std::vector<uint64_t> expired;
  for (auto& [id, ask] : asks_)
    if (ask.deadline_ms < now) expired.push_back(id);
  for (uint64_t id : expired) {
    Ask a = std::move(asks_[id]);
    asks_.erase(id);
    Context ctx(*this, a.target);
    ctx.actor_ = a.actor;
    Result<wire::Reply> timeout(Error::of(errc::kUnavailable, N_("no answer in time")));
    a.fn(ctx, timeout);
    settle(ctx);  // sent after the next turn's commit, like every reply
  }
}

// Heartbeats the Paranoid Pirate way: any traffic counts; after `liveness` silent
// intervals the broker is presumed dead and the socket is remade, with backoff.
void Worker::keep_alive() {
  if (!connected_) return;
  int64_t now = monotonic_ms();
  const Timing& t = config_.timing;
  if (now - last_heard_ms_ > static_cast<int64_t>(t.heartbeat_ms) * t.liveness) {
    reconnect_delay_ms_ = reconnect_delay_ms_ == 0
                              ? t.reconnect_min_ms
                              : std::min(reconnect_delay_ms_ * 2, int64_t{t.reconnect_max_ms});
    spdlog::warn("{}: broker silent for {} ms, reconnecting (next try in {} ms)", name_,
                 now - last_heard_ms_, reconnect_delay_ms_);
    notify::status("the broker is silent; reconnecting");
    connect();
    last_heard_ms_ = now + reconnect_delay_ms_;
    in_flight_.clear();
  }
  // The figures ride on a heartbeat every interval, busy or not (the broker's only news of them).
  if (now - last_figures_ms_ >= t.heartbeat_ms) {
    last_figures_ms_ = now;
    send({backend::kHeartbeat, figures_frame()});
  }
}

void Worker::count_reply(const ReplyTarget& target, std::string_view result) {
  if (!target.verb.empty()) figures_.command(target.verb, result);
}

// The request's type, kept once so that replies can name it without a copy each.
std::string_view Worker::verb_name(std::string_view type) {
  auto known = verb_names_.find(type);
  if (known != verb_names_.end()) return *known;
  if (verb_names_.size() >= kMaxVerbNames) return "other";
  return *verb_names_.emplace(type).first;
}

// The heartbeat's figures: the counters as they are, the outbox as it is now, the disk
// as last measured (every kDiskBytesEveryMs at most: a directory listing).
std::string Worker::figures_frame() {
  int64_t now = monotonic_ms();
  if (last_disk_ms_ == 0 || now - last_disk_ms_ >= kDiskBytesEveryMs) {
    last_disk_ms_ = now;
    figures_.disk_bytes = folder_bytes((std::filesystem::path(config_.data_dir) / name_).string());
  }
  figures_.outbox.clear();
  for (const auto& [to, l] : lanes_) {
    OutboxFigures& o = figures_.outbox[to];
    o.entries = l->unacked.size() + l->on_disk;
    o.on_disk = l->on_disk;
    for (uint64_t pos : l->held) o.entries += !l->unacked.contains(pos);  // held, not being asked
    if (auto oldest = l->unacked.empty() ? outbox_.end() : outbox_.find(l->unacked.begin()->first);
        oldest != outbox_.end())
      o.oldest_age_ms = static_cast<uint64_t>(std::max<int64_t>(0, now - oldest->second.since_ms));
  }
  std::string service_warning = service_.warning();
  figures_.warning = start_warning_.empty() || service_warning.empty()
                         ? start_warning_ + service_warning
                         : start_warning_ + "; " + service_warning;
  return encode_figures(figures_);
}

bool Worker::send(std::initializer_list<std::string_view> frames) {
  if (frames.size() > 0 && *frames.begin() != backend::kHeartbeat) ++figures_.messages_out;
  std::vector<zmq::const_buffer> parts;
  for (auto f : frames) parts.push_back(zmq::buffer(f.data(), f.size()));
  try {
    return zmq::send_multipart(*broker_, parts, zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t& e) {
    spdlog::warn("{}: send failed: {}", name_, e.what());
    return false;
  }
}

}  // namespace closeloop
