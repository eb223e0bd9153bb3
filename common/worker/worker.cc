#include "worker/worker.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
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

namespace closeloop {

namespace {
constexpr size_t kMaxEntriesPerMessage = 256;
constexpr size_t kMaxBytesPerMessage = 256 * 1024;
constexpr size_t kResendWindow = 1024;  // most entries resent to one destination at a time
// A receiver prunes a sender's seen/ markers once its watermark has moved this far: one
// short scan per so many entries, not one per handoff.
constexpr uint64_t kPruneEvery = 256;
// How far into the outbox a destination's watermark is looked for (else it is set
// conservatively low, at the first record not looked at).
constexpr size_t kWatermarkScan = 4096;
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

// `held`: the entries kept as incidents, not applied (left out when none, as before).
std::string ack_body(uint64_t count, bool durable, const std::vector<uint64_t>& held) {
  wire::MapBuilder ack;
  ack.add("count", count).add("durable", durable);
  if (!held.empty()) ack.add("held", held);
  return ack.finish();
}

std::vector<uint64_t> held_of(const wire::Reply& ack) {
  wire::Fields f(ack.body, "handoff ack");
  const msgpack::object* held = f.opt_array("held", kResendWindow * 4);
  std::vector<uint64_t> hids;
  for (uint32_t i = 0; held && i < held->via.array.size; ++i)
    if (held->via.array.ptr[i].type == msgpack::type::POSITIVE_INTEGER)
      hids.push_back(held->via.array.ptr[i].via.u64);
  return hids;
}

uint64_t nanos_since(std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
}

// Removes `name` from `names`; false if it was not there.
bool remove_name(std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return false;
  names.erase(it);
  return true;
}
}  // namespace

int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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
              wire::encode_error(job.target.id, {errc::kInternal, "the read failed; logged"}),
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

struct Worker::Lane {
  std::map<uint64_t, int64_t> unacked;  // position -> when last sent (0: not yet)
  std::vector<uint64_t> fresh;  // committed this turn, not sent yet
  std::set<uint64_t> held;      // kept by the receiver as incidents: asked about now and then
  // Below it no position of an outbox record naming this destination survives on disk:
  // sent with every handoff, so the receiver may prune its seen/ markers below it.
  uint64_t watermark = 0;
  int backoff_ms = 0;
  int64_t next_check_ms = 0;
  int64_t next_held_check_ms = 0;
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
  for (const auto& destination : to) {
    worker_.lane(destination).fresh.push_back(pos);
    ++worker_.figures_.handoffs_sent[destination];
  }
  worker_.add_to_outbox(pos, std::move(to), std::move(entry));
  handed_off_.push_back(pos);
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
  std::string payload = wire::encode_request(type, id, actor, body, /*forwarded=*/true,
                                             security::encode_actor(actor_));
  AskFn relay = [](Context& ctx, Result<wire::Reply>& reply) {
    if (!reply) return ctx.fail(reply.error());
    if (!reply->ok) return ctx.fail(reply->error);
    wire::Buffer answer;
    msgpack::pack(answer, reply->body);
    ctx.reply(std::string(wire::view(answer)));
  };
  worker_.queue_ask(id, service, std::move(payload), {std::move(relay), target_, actor_});
}

void Context::await_handoff(uint64_t pos) { handed_off_.push_back(pos); }

void Context::read_later(ReadFn read) { worker_.reads_.emplace_back(target_, std::move(read)); }

void Context::announce() { worker_.announce_ = true; }

// An ask waits for its answer until the request timeout; its request leaves after the commit.
void Worker::queue_ask(uint64_t id, std::string_view service, std::string payload, Ask ask) {
  ask.deadline_ms = monotonic_ms() + config_.timing.request_timeout_ms;
  asks_[id] = std::move(ask);
  outgoing_asks_.emplace_back(std::string(service), std::move(payload));
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
  // Start-up is recovery: every unacknowledged handoff is sent again.
  store_->scan(keys::kOutboxPrefix, [&](std::string_view key, std::string_view value) {
    uint64_t pos = keys::outbox_pos(key);
    next_pos_ = std::max(next_pos_, pos + 1);
    auto decoded = wire::decode(value.data(), value.size());
    if (!decoded) {
      keep_unreadable_outbox_record(pos, value, decoded.error().message);
      return true;
    }
    wire::Fields f(decoded->get(), "outbox entry");
    std::vector<std::string> to = f.opt_str_list("to", 8, 32).value_or(std::vector<std::string>{});
    wire::Buffer entry;
    msgpack::pack(entry, f.map("entry"));
    if (!f.ok() || to.empty()) {
      keep_unreadable_outbox_record(pos, value,
                                    f.ok() ? "it names no destination" : f.error().message);
      return true;
    }
    // Every destination again, acknowledged or not: which acks came was not
    // recorded, and a receiver that has the entry acknowledges it again. A window's
    // worth at once; the rest as acks make room, like resends.
    for (const auto& destination : to)
      if (Lane& l = lane(destination); l.fresh.size() < kResendWindow) l.fresh.push_back(pos);
    add_to_outbox(pos, std::move(to), std::string(wire::view(entry)));
    return true;
  });
  if (Status started = service_.on_start(*store_, config_); !started) return started;
  if (Status kept = txn_->commit(); !kept) return kept;  // unreadable outbox records' incidents
  spdlog::info("{}: opened {} ({} handoffs waiting)", name_, path.string(), outbox_.size());
  if (config_.curve()) {
    auto pair = security::own_key_pair(security::keys_dir(config_.data_dir), name_);
    if (!pair) return pair.error();
    key_pair_ = std::move(*pair);
  }
  return ok_status();
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
    spdlog::critical("{}: {}", name_, s.error().message);
    return 1;
  }
  connect();
  while (turn()) {
  }
  return txn_ ? 0 : 1;
}

// ---- Worker: readiness, SIGTERM and SIGHUP ----

// The broker answered the registration: the worker serves.
void Worker::notice_ready() {
  serving_ = true;
  spdlog::info("{}: ready ({} handoffs waiting)", name_, outbox_.size());
  notify::ready("serving");
}

void Worker::take_signals() {
  if (!signals_) return begin_drain(SIGTERM);  // a plain descriptor: readable means stop
  for (int sig; (sig = signals_->take()) != 0;) {
    if (sig != SIGHUP) {
      begin_drain(sig);
    } else if (drain_until_ms_) {
      spdlog::warn("{}: SIGHUP while stopping: not reloading", name_);
    } else {
      begin_reload();
    }
  }
}

// Finishes this turn (commit, then send what is ready), then takes no new request while
// it waits, up to shutdown_grace_ms, for what it owes. A second signal ends the wait.
void Worker::begin_drain(int signal) {
  if (drain_until_ms_) {
    stop_now_ = true;
    return;
  }
  drain_until_ms_ = monotonic_ms() + config_.shutdown_grace_ms;
  spdlog::info("{}: {}: draining: no new requests; up to {} ms for {} replies and {} handoffs owed",
               name_, strsignal(signal), config_.shutdown_grace_ms, waiting_.size(),
               outbox_.size());
  notify::stopping("draining");
}

bool Worker::owes_nothing() const {
  return waiting_.empty() && asks_.empty() && reads_.empty() && reads_in_flight_ == 0 &&
         outbox_.empty() && unsynced_receipts_.empty() && receipts_.empty();
}

// Whatever is still owed is on disk: the outbox is resent at the next start, and a client
// without its reply asks again.
bool Worker::finish_drain() {
  if (!owes_nothing())
    spdlog::warn(
        "{}: stopping while it still owes {} replies, {} questions, {} reads and {} "
        "handoffs still owed (the handoffs stay in the outbox, sent again at the next "
        "start)",
        name_, waiting_.size(), asks_.size(), reads_in_flight_ + reads_.size(), outbox_.size());
  if (txn_ && commit() && (!txn_->has_unsynced() || storage_ok(txn_->sync())))
    acknowledge_receipts();  // the receipts acknowledged as applied, now as durable
  spdlog::info("{}: stopped", name_);
  return false;
}

// Loads and checks the --config file again; refused at once, or staged once everything
// it depends on is known (the ledger's word on dropped departments).
void Worker::begin_reload() {
  if (reloading_) {
    reload_again_ = true;
    return;
  }
  reloading_ = true;
  spdlog::info("{}: SIGHUP: reloading {}", name_, config_.file);
  notify::reloading("reloading " + config_.file);
  auto next = config_.file.empty() ? Result<Config>(Error{errc::kInvalid, "no config file to read"})
                                   : load_config(config_.file);
  if (!next) return end_reload(false, next.error().message, {});
  auto change = reload_change(config_, *next);
  if (!change) return end_reload(false, change.error().message, {});
  auto reload = std::make_shared<Reload>(Reload{std::move(*next), std::move(*change)});
  const auto& dropped = reload->change.dropped_departments;
  if (dropped.empty()) return stage_reload(std::move(*reload));
  if (auto local = service_.may_drop(dropped)) {
    if (!*local) return end_reload(false, local->error().message, {});
    return stage_reload(std::move(*reload));
  }
  ask_ledger_to_drop(std::move(reload));
}

void Worker::ask_ledger_to_drop(std::shared_ptr<Reload> reload) {
  std::string body =
      wire::MapBuilder().add("departments", reload->change.dropped_departments).finish();
  Context own(*this, ReplyTarget{});
  own.ask("ledger", "reload.open", std::move(body),
          [this, reload](Context&, Result<wire::Reply>& answer) {
            if (!answer)
              return end_reload(false,
                                "cannot tell whether the departments dropped have open items: "
                                "the ledger did not answer",
                                {});
            if (!answer->ok) return end_reload(false, answer->error.message, {});
            stage_reload(std::move(*reload));
          });
}

void Worker::stage_reload(Reload reload) {
  if (reload.change.empty()) return end_reload(true, "nothing changed", {});
  staged_ = std::move(reload);
}

// Between two turns, with no read running (a read holds a reference to the config).
void Worker::apply_reload() {
  Reload reload = std::move(*staged_);
  staged_.reset();
  if (Status s = service_.on_reload(reload.next); !s)
    return end_reload(false, s.error().message, {});
  if (reload.next.log_level != config_.log_level)
    spdlog::default_logger()->set_level(spdlog::level::from_str(reload.next.log_level));
  config_ = std::move(reload.next);
  end_reload(true, "", reload.change.changed);
}

// Logged, recorded under reload/<seq> (committed with the next turn), and told to the
// supervisor; then a SIGHUP that came meanwhile is served.
void Worker::end_reload(bool ok, const std::string& reason,
                        const std::vector<std::string>& changed) {
  std::string list;
  for (const auto& key : changed) list += (list.empty() ? "" : ", ") + key;
  if (ok) {
    spdlog::info("{}: reloaded {}: {}", name_, config_.file,
                 list.empty() ? reason : "changed " + list);
  } else {
    spdlog::error("{}: reload of {} refused, the running config stays: {}", name_, config_.file,
                  reason);
  }
  wire::MapBuilder record;
  record.add("at", clock_.now_iso()).add("file", config_.file).add("ok", ok);
  record.add("reason", reason).add("changed", changed);
  txn_->put(keys::reload(next_reload_), record.finish());
  std::string next;
  keys::append_be64(next, ++next_reload_);
  txn_->put(keys::meta("next_reload"), next);
  std::string verdict = ok ? "config reloaded at " + clock_.now_iso()
                           : "reload refused at " + clock_.now_iso() + ": " + reason;
  if (serving_) {
    notify::ready("serving; " + verdict);  // ends the RELOADING=1
  } else {
    notify::status(verdict);  // not READY before the broker has answered
  }
  reloading_ = false;
  if (std::exchange(reload_again_, false)) begin_reload();
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
  for (auto& [target, read] : reads_) reader_->submit({target, snapshot, std::move(read)});
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
  if (syncs) figures_.fsynced(nanos_since(start));
  uint64_t folded = std::exchange(batch_messages_, 0);  // messages that wrote nothing: no batch
  if (writes && folded > 0) figures_.committed(folded);
  return true;
}

// LevelDB refuses every write after a failed one: crash-only, the supervisor restarts us.
bool Worker::storage_ok(const Status& s) {
  if (s) return true;
  spdlog::critical("{}: {}; exiting", name_, s.error().message);
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

// `sender`: who sent it, as the broker knows them (a worker's name, a client's account).
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
        wire::encode_error(request->id, {errc::kUnavailable, name_ + " is stopping"}));
    return;
  }
  if (request->type == "handoff") return accept_handoff(std::move(target), sender, *request);
  target.verb = verb_name(request->type);
  auto actor = actor_of(route, sender, *request);
  if (!actor) {
    count_reply(target, actor.error().code);
    ready_.emplace_back(std::move(target), wire::encode_error(request->id, actor.error()));
    return;
  }
  must_sync_ = true;  // a client's command: its reply promises durability
  ++batch_messages_;
  Context ctx(*this, std::move(target));
  ctx.actor_ = std::move(*actor);
  // Every worker keeps its own incidents; the ledger gathers them for people.
  if (ctx.actor_.worker && request->type.starts_with("incidents")) {
    serve_incidents(ctx, *request);
  } else {
    service_.on_request(ctx, *request);
  }
  settle(ctx);
}

// Who acts: a worker (route 'B') by the name the broker proved, or the person it forwards
// for; a client by the account the broker put in the sender frame. The request's actor
// becomes that account's name, so that nothing downstream can act under another.
// With security.mode = "off" there are no accounts: the request's actor is taken as said.
Result<security::Actor> Worker::actor_of(const std::string& route, const std::string& sender,
                                         wire::Request& request) const {
  if (route.starts_with('B')) {
    if (!request.forwarded || request.account.empty()) {
      security::Actor worker{sender};
      worker.worker = true;
      return worker;
    }
    return security::decode_actor(request.account);
  }
  if (sender.empty()) {
    if (config_.curve()) return Error{errc::kUnauthenticated, "the request names no account"};
    security::Actor anyone{request.actor};
    anyone.unchecked = true;
    return anyone;
  }
  auto actor = security::decode_actor(sender);
  if (!actor) return actor;
  actor->worker = actor->unchecked = false;  // a client is a person, proven by the broker
  request.actor = actor->name;
  return actor;
}

// `from` is the sender the broker names (backend.h), never a field of the message.
void Worker::accept_handoff(ReplyTarget target, const std::string& from,
                            const wire::Request& request) {
  Context ctx(*this, std::move(target));
  wire::Fields f(request.body, "handoff");
  const msgpack::object& entries = f.array("entries");
  if (f.ok() && (from.empty() || from.find('/') != std::string::npos))
    f.fail(errc::kBadRequest, "handoffs come from workers only");
  if (!f.ok()) {
    ctx.fail(f.error());
    return settle(ctx);
  }
  uint64_t watermark = f.opt_uint("watermark").value_or(0);
  uint32_t count = entries.via.array.size;
  batch_messages_ += count;
  for (uint32_t i = 0; i < count; ++i) apply_entry(ctx, from, entries.via.array.ptr[i]);
  if (f.ok() && watermark > 0) prune_seen(from, watermark);
  if (ctx.handed_off_.empty()) {
    receipts_.push_back({ctx.target_, count, 0, std::move(ctx.held_)});  // acked in flush()
    return;
  }
  // The entries caused handoffs: the ack waits until those are applied, and says
  // durable, so this turn's batch is synced (hand_off() asks for that, but a duplicate
  // entry's earlier handoffs do not, while a new entry beside it may be unsynced).
  must_sync_ = true;
  ctx.reply(ack_body(count, true, ctx.held_));
  settle(ctx);
}

// Applies one handoff entry at most once. Its seen/ marker remembers the handoffs the
// entry caused, so that a duplicate is acknowledged only when those are done too.
// An entry it cannot apply is kept as an incident and acknowledged as held: no seen/
// marker, so that the sender's next ask about it finds it held again until an operator
// closes the incident.
void Worker::apply_entry(Context& ctx, const std::string& from, const msgpack::object& entry) {
  wire::Fields f(entry, "handoff entry");
  uint64_t hid = f.uint("hid");
  if (!f.ok()) {  // never from a sender of ours, of any version: it could not be acked
    spdlog::error("{}: dropping a handoff entry from {} without a position: {}", name_, from,
                  f.error().message);
    return;
  }
  if (hid < seen_floor(from)) return;  // done long ago: its marker is pruned
  std::string seen_key = keys::seen(from, hid);
  if (auto seen = txn_->get(seen_key)) {
    for (size_t i = 0; i + 8 <= seen->size(); i += 8)
      ctx.handed_off_.push_back(keys::read_be64(std::string_view(*seen).substr(i, 8)));
    return;
  }
  if (incidents::is_held(*txn_, from, hid)) return ctx.held_.push_back(hid);
  const msgpack::object& data = f.map("entry");
  if (!f.ok()) return keep_incident(ctx, from, hid, f.error().message, entry);
  size_t before = ctx.handed_off_.size();
  if (Status applied = service_.on_handoff(ctx, from, data); !applied)
    return keep_incident(ctx, from, hid, applied.error().message, data);
  ++figures_.handoffs_applied[from];
  std::string caused;
  for (size_t i = before; i < ctx.handed_off_.size(); ++i)
    keys::append_be64(caused, ctx.handed_off_[i]);
  txn_->put(seen_key, caused);
}

// Never dropped silently: kept for ops with who sent it and why it was not applied,
// and acknowledged as held, so the lane behind it keeps moving.
void Worker::keep_incident(Context& ctx, const std::string& from, uint64_t hid,
                           const std::string& reason, const msgpack::object& entry) {
  spdlog::error("{}: holding handoff {} from {} as an incident: {} (closeloop incidents)", name_,
                hid, from, reason);
  wire::Buffer raw;
  msgpack::pack(raw, entry);
  txn_->put(keys::incident(from, hid),
            incidents::record(from, hid, reason, clock_.now_iso(), wire::view(raw)));
  ctx.held_.push_back(hid);
}

// An outbox record of its own that this version cannot read is not sent, and not
// skipped silently either: it stays where it is and ops see it as an incident.
void Worker::keep_unreadable_outbox_record(uint64_t pos, std::string_view value,
                                           const std::string& why) {
  spdlog::error("{}: outbox record {} is unreadable ({}); kept as incident {}", name_, pos, why,
                incidents::format_id({name_, name_, pos}));
  if (txn_->get(keys::incident(name_, pos))) return;
  wire::Buffer raw;
  wire::Packer(raw).pack_bin(static_cast<uint32_t>(value.size()));
  wire::Packer(raw).pack_bin_body(value.data(), static_cast<uint32_t>(value.size()));
  txn_->put(keys::incident(name_, pos),
            incidents::record(name_, pos, "outbox record unreadable: " + why, clock_.now_iso(),
                              wire::view(raw)));
}

// The incidents kept here, for the ledger acting for a person whose rights it checked:
// `incidents` {all} lists them, `incidents.ack` {id, by} closes one, `incidents.replay`
// {by} applies the held ones this version can read now.
void Worker::serve_incidents(Context& ctx, const wire::Request& request) {
  if (Status allowed = security::may(ctx.actor(), request.type, {}, nullptr); !allowed)
    return ctx.fail(allowed.error());
  wire::Fields f(request.body, request.type);
  if (request.type == "incidents") {
    bool all = f.opt_bool("all").value_or(false);
    wire::Json list = incidents::list(*store_, name_, all);
    return ctx.reply(wire::encode_json({{"incidents", std::move(list)}}));
  }
  std::string by = f.str("by", 256);
  if (request.type == "incidents.replay")
    return f.ok() ? replay_incidents(ctx, by) : ctx.fail(f.error());
  auto id = incidents::parse_id(f.str("id", 512));
  if (!f.ok()) return ctx.fail(f.error());
  if (!id) return ctx.fail(id.error());
  if (Status closed = incidents::close(*txn_, id->from, id->hid, incidents::kAcknowledged, by,
                                       clock_.now_iso());
      !closed)
    return ctx.fail(closed.error());
  // The sender's next ask about it is answered as applied, and it forgets it; an
  // unreadable record of this worker's own outbox goes now.
  id->from == name_ ? txn_->del(keys::outbox(id->hid))
                    : txn_->put(keys::seen(id->from, id->hid), "");
  spdlog::info("{}: incident {} acknowledged by {}", name_, incidents::format_id(*id), by);
  ctx.reply(
      wire::encode_json({{"id", incidents::format_id(*id)}, {"state", incidents::kAcknowledged}}));
}

// Applies each held entry as if it had just arrived; one this version still cannot read
// stays held with the reason it gives now.
void Worker::replay_incidents(Context& ctx, const std::string& by) {
  uint64_t replayed = 0, still = 0;
  for (const wire::Json& incident : incidents::list(*store_, name_, false)) {
    std::string from = incident.value("from", "");
    uint64_t hid = incident.value("hid", uint64_t{0});
    if (from == name_) {  // an unreadable outbox record of its own stays
      ++still;
      continue;
    }
    auto entry = incidents::held_entry(*txn_, from, hid);
    size_t before = ctx.handed_off_.size();
    Status applied = entry ? service_.on_handoff(ctx, from, entry->get()) : Status(entry.error());
    if (!applied) {
      (void)incidents::still_held(*txn_, from, hid, applied.error().message);
      ++still;
      continue;
    }
    std::string caused;
    for (size_t i = before; i < ctx.handed_off_.size(); ++i)
      keys::append_be64(caused, ctx.handed_off_[i]);
    txn_->put(keys::seen(from, hid), caused);
    (void)incidents::close(*txn_, from, hid, incidents::kReplayed, by, clock_.now_iso());
    spdlog::info("{}: incident {} replayed by {}", name_, incidents::format_id({name_, from, hid}),
                 by);
    ++replayed;
  }
  must_sync_ = true;
  ctx.reply(wire::encode_json({{"worker", name_}, {"replayed", replayed}, {"held", still}}));
}

void Worker::take_reply(const zmq::message_t& payload) {
  auto reply = wire::decode_reply(payload.data(), payload.size());
  if (!reply) return spdlog::warn("{}: undecodable reply: {}", name_, reply.error().message);
  if (auto it = in_flight_.find(reply->id); it != in_flight_.end()) {
    if (reply->ok) {
      bool durable = ack_is_durable(*reply);
      std::vector<uint64_t> kept = held_of(*reply);
      for (uint64_t pos : it->second.positions) {
        if (std::find(kept.begin(), kept.end(), pos) != kept.end()) {
          held(pos, it->second.to);
        } else {
          durable ? acknowledged(pos, it->second.to) : applied(pos, it->second.to);
        }
      }
      if (!durable) return;  // the durable ack follows on the same request id
    } else if (reply->error.code != errc::kUnavailable) {
      spdlog::warn("{}: handoff refused: {}", name_, reply->error.message);
    }
    in_flight_.erase(it);
  } else if (auto ask = asks_.find(reply->id); ask != asks_.end()) {
    Ask a = std::move(ask->second);
    asks_.erase(ask);
    Context ctx(*this, a.target);
    ctx.actor_ = a.actor;
    Result<wire::Reply> result(std::move(*reply));
    a.fn(ctx, result);
    settle(ctx);
  }
}

bool Worker::ack_is_durable(const wire::Reply& reply) {
  wire::Fields f(reply.body, "handoff ack");
  return f.opt_bool("durable").value_or(true);
}

// `by` holds the entry (not necessarily durably yet): replies waiting for it may go.
void Worker::applied(uint64_t pos, const std::string& by) {
  auto it = outbox_.find(pos);
  if (it == outbox_.end()) return;
  if (!remove_name(it->second.unapplied, by)) return;
  Lane& l = lane(by);
  if (auto u = l.unacked.find(pos); u != l.unacked.end()) u->second = monotonic_ms();
  l.backoff_ms = config_.timing.resend_min_ms;
  if (it->second.unapplied.empty()) release_waiters(pos);
}

// `by` holds the entry durably. It leaves the outbox when every destination does.
void Worker::acknowledged(uint64_t pos, const std::string& by) {
  applied(pos, by);
  auto it = outbox_.find(pos);
  if (it == outbox_.end()) return;
  if (!remove_name(it->second.to, by)) return;
  lane(by).unacked.erase(pos);
  lane(by).held.erase(pos);
  if (!it->second.to.empty()) return;
  outbox_.erase(it);
  txn_->del_lazily(keys::outbox(pos));
}

// `by` keeps the entry as an incident: the record stays, its reply waits, and `by` is
// asked about it again every resend_max_ms (ask_about_held) until an operator closes it.
void Worker::held(uint64_t pos, const std::string& by) {
  Lane& l = lane(by);
  if (!outbox_.contains(pos)) return;
  l.unacked.erase(pos);  // not resent with backoff: asked about every resend_max_ms instead
  if (!l.held.insert(pos).second) return;  // held still: said once already
  if (l.next_held_check_ms == 0)
    l.next_held_check_ms = monotonic_ms() + config_.timing.resend_max_ms;
  spdlog::warn("{}: {} holds handoff {} as an incident; its reply waits (closeloop incidents)",
               name_, by, pos);
}

// Sends the held entries again (a window's worth): the receiver answers held again, or,
// once an operator closed the incident, as done, and the entry leaves `held` (acknowledged()).
void Worker::ask_about_held(const std::string& to, Lane& l) {
  size_t asked = 0;
  for (auto it = l.held.begin(); it != l.held.end() && asked < kResendWindow; ++it, ++asked)
    l.fresh.push_back(*it);
  send_lane(to, l, false);
  l.next_held_check_ms = monotonic_ms() + config_.timing.resend_max_ms;
}

// A reply that has waited ten request timeouts for its handoffs is dropped: its client
// gave up long ago (and may ask again), and a sender waiting for a handoff ack resends.
// So a receiver that is down, or an entry held as an incident, cannot fill memory.
void Worker::expire_waiting() {
  int64_t now = monotonic_ms();
  if (now < next_waiting_check_ms_) return;
  next_waiting_check_ms_ = now + 1000;
  int64_t oldest = now - int64_t{config_.timing.request_timeout_ms} * 10;
  std::erase_if(waiting_, [&](const auto& kv) { return kv.second.since_ms < oldest; });
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    std::erase_if(it->second, [&](uint64_t id) { return !waiting_.contains(id); });
    it = it->second.empty() ? waiters_.erase(it) : std::next(it);
  }
}

// Called when every committed write is on disk: no outbox record below a lane's
// watermark can come back after a crash, so its receiver will never see those again.
void Worker::advance_watermarks() {
  for (auto& [to, l] : lanes_) l->watermark = watermark(to);
}

uint64_t Worker::watermark(const std::string& to) const {
  size_t looked = 0;
  for (const auto& [pos, record] : outbox_) {
    if (++looked > kWatermarkScan) return pos;
    if (std::find(record.sent_to.begin(), record.sent_to.end(), to) != record.sent_to.end())
      return pos;
  }
  return next_pos_;
}

uint64_t Worker::seen_floor(const std::string& from) {
  SeenFloor& f = seen_floors_[from];
  if (!f.loaded) {
    if (auto stored = store_->get(keys::seen_floor(from))) f.pruned = keys::read_be64(*stored);
    f.watermark = std::max(f.watermark, f.pruned);
    f.loaded = true;
  }
  return f.watermark;
}

// Below `watermark` the sender will never send again (its records there are gone from
// disk), so the markers there only take space: deleted lazily (a lost delete only
// leaves a marker), a few hundred at a time.
void Worker::prune_seen(const std::string& from, uint64_t watermark) {
  if (watermark <= seen_floor(from)) return;
  SeenFloor& f = seen_floors_[from];
  f.watermark = watermark;
  if (watermark - f.pruned < kPruneEvery) return;
  std::string end = keys::seen(from, watermark);
  store_->scan(
      keys::seen_prefix(from),
      [&](std::string_view key, std::string_view) {
        if (key >= end) return false;
        txn_->del_lazily(std::string(key));
        return true;
      },
      keys::seen(from, f.pruned));
  std::string floor;
  keys::append_be64(floor, watermark);
  txn_->put(keys::seen_floor(from), floor);
  f.pruned = watermark;
}

void Worker::release_waiters(uint64_t pos) {
  auto w = waiters_.find(pos);
  if (w == waiters_.end()) return;
  for (uint64_t id : w->second) {
    auto waiting = waiting_.find(id);
    if (waiting != waiting_.end() && --waiting->second.pending == 0) {
      ready_.emplace_back(waiting->second.target, std::move(waiting->second.payload));
      waiting_.erase(waiting);
    }
  }
  waiters_.erase(w);
}

// Turns a context's reply into one sent after commit, once its handoffs are acknowledged.
void Worker::settle(Context& ctx) {
  if (!ctx.reply_) return;
  count_reply(ctx.target_, ctx.result_);
  std::vector<uint64_t> pending;
  for (uint64_t pos : ctx.handed_off_)
    if (auto it = outbox_.find(pos); it != outbox_.end() && !it->second.unapplied.empty())
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
  for (const auto& [service, payload] : outgoing_asks_) send({backend::kRequest, service, payload});
  outgoing_asks_.clear();
  acknowledge_receipts();
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

// Sends this turn's new entries (resend=false) or the oldest entries that have waited
// longer than the lane's backoff for an ack (resend=true), in messages of bounded size.
void Worker::send_lane(const std::string& to, Lane& l, bool resend) {
  int64_t now = monotonic_ms();
  std::vector<uint64_t> chosen;
  if (resend) {
    for (auto [pos, sent_ms] : l.unacked) {
      if (chosen.size() >= kResendWindow) break;
      if (now - sent_ms >= l.backoff_ms) chosen.push_back(pos);
    }
    if (chosen.empty()) return;
    spdlog::debug("{}: resending {} handoffs to {}", name_, chosen.size(), to);
    l.backoff_ms = std::min(l.backoff_ms * 2, config_.timing.resend_max_ms);
  } else {
    chosen.swap(l.fresh);
  }
  for (size_t i = 0; i < chosen.size();) {
    std::vector<uint64_t> batch;
    size_t bytes = 0;
    for (; i < chosen.size() && batch.size() < kMaxEntriesPerMessage && bytes < kMaxBytesPerMessage;
         ++i) {
      l.unacked[chosen[i]] = now;
      bytes += outbox_[chosen[i]].entry.size();
      batch.push_back(chosen[i]);
    }
    // Written in place, once: the entries are most of the message.
    uint64_t id = next_request_id();
    wire::Buffer message(bytes + 64 * batch.size() + 256);
    wire::write_request(message, "handoff", id, name_, [&](wire::Packer& pk) {
      pk.pack_map(2);  // who sends it is the broker's to say (accept_handoff)
      pk.pack("watermark"), pk.pack(l.watermark);
      pk.pack("entries"), pk.pack_array(static_cast<uint32_t>(batch.size()));
      for (uint64_t pos : batch) {
        pk.pack_map(2);
        pk.pack("hid"), pk.pack(pos);
        pk.pack("entry"), wire::pack_raw(message, outbox_[pos].entry);
      }
    });
    in_flight_[id] = {to, std::move(batch), now + config_.timing.resend_max_ms};
    send({backend::kRequest, to, wire::view(message)});
  }
}

// Acks this turn's receipts, durable or not yet; and, once synced, the earlier ones again.
void Worker::acknowledge_receipts() {
  bool durable = !txn_->has_unsynced();
  int64_t now = monotonic_ms();
  auto ack = [&](const Receipt& r) {
    send({backend::kReply, r.target.route,
          wire::encode_reply(r.target.id, ack_body(r.count, durable, r.held))});
  };
  for (Receipt& r : receipts_) {
    ack(r);
    if (!durable) unsynced_receipts_.push_back({r.target, r.count, now, std::move(r.held)});
  }
  receipts_.clear();
  if (!durable) return;
  for (const Receipt& r : unsynced_receipts_) ack(r);
  unsynced_receipts_.clear();
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
    Result<wire::Reply> timeout(Error{errc::kUnavailable, "no answer in time"});
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
    o.entries = l->unacked.size();
    for (uint64_t pos : l->held) o.entries += !l->unacked.contains(pos);  // held, not being asked
    if (auto oldest = l->unacked.empty() ? outbox_.end() : outbox_.find(l->unacked.begin()->first);
        oldest != outbox_.end())
      o.oldest_age_ms = static_cast<uint64_t>(std::max<int64_t>(0, now - oldest->second.since_ms));
  }
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
