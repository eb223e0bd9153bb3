// The engine every worker runs: one thread, one LevelDB, one DEALER to the broker.
//
// Each loop turn: poll; take every message already waiting (up to batch_max) and
// hand it to the Service, which writes into one Txn; commit that Txn in one
// WriteBatch (group commit); only then send replies and handoffs. A batch holding a
// client's command or a new handoff is fsynced before anything leaves, so a reply
// means "on disk" and concurrent commands share one fsync.
//
// Handoffs use a transactional outbox: Context::hand_off() writes outbox/<pos> in the
// same batch as the state change. After the commit the relay sends it to the
// destination services (through the broker) and resends, with backoff, until each
// receiver acknowledges it as durable; then the entry is deleted. A receiver applies
// each entry at most once (seen/<from>/<pos>) and acknowledges duplicates again.
//
// Acks come in two degrees. A batch of receipts only is written without fsync and
// acknowledged at once as *applied*: the receiver holds the entry (it survives a
// kill -9) but not yet a power cut. It is fsynced with the receiver's next command, or
// within kReceiptSyncMs, and acknowledged again as *durable*; only that lets the
// sender forget it. So the ledger, which takes no commands, fsyncs a few dozen times
// a second however busy it is, and a stage's receipts ride on its commands' fsyncs.
//
// A reply waits until every handoff its command produced has been applied, so a
// client that got an ack finds the item at the next stage and in the ledger
// (read-your-writes, docs/architecture.md). The same holds for handoff acks: a
// receiver that hands an item on (dispatch's routing) acks only when that is done.
//
// A handoff entry the service cannot apply (an action, stage or record version this
// version does not know, an item not its own) is kept as an incident and acknowledged as
// *held* (worker/incidents.h): the sender keeps it and releases no reply for it, the lane
// moves on, and an operator acknowledges or replays it. Nothing is dropped silently.
//
// Heavy reads (text search, scoreboards, exports) run on one reader thread against a
// snapshot taken after the commit of the turn they arrived in: they see every
// acknowledged write, and the loop goes on committing commands meanwhile.
//
// Under a supervisor (docs/operations.md): READY=1 once the store is open, the outbox
// recovered and the broker has answered the registration; WATCHDOG=1 at the end of each
// turn when due (a turn that never ends stops the pings). SIGTERM drains: the worker takes
// no new requests (answered `unavailable`) and goes on turning until it owes nothing (no
// reply waiting, no ask, no read, an empty outbox) or shutdown_grace_ms has passed. SIGHUP
// reloads the --config file (config/reload.h): validated whole, refused if a restart-only
// key differs or a dropped department still has open items (the ledger says), swapped in
// between two turns while no read runs, and recorded under reload/<seq>.
//
// When the disk fails (full, or an fsync that fails): nothing is acknowledged that did not
// reach the disk. The commands of the batch whose commit failed are answered
// `unavailable` with the cause in plain words, receipts of that batch are never
// acknowledged, and the worker exits with 75 (EX_TEMPFAIL): LevelDB refuses every write
// after a failed sync (the page cache may have dropped what it held), so the supervisor
// starts it again from what is on disk. A worker whose store cannot be opened or written
// at start for the disk's sake does not exit (a restart loop would hit systemd's start
// limit): it says so (log, STATUS=, `closeloop status`), registers with the broker,
// answers every request `unavailable` with the cause, tries again every few seconds and
// serves once the disk takes writes again (worker/storage.cc, docs/operations.md).
//
// The worker counts what it does (worker/metrics.h: requests answered by verb and result,
// handoffs, each batch's size and fsync latency) and sends those figures to the broker
// with a heartbeat once per heartbeat interval, for `closeloop status` and /metrics.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "base/clock.h"
#include "calendar/clock.h"
#include "config/config.h"
#include "config/reload.h"
#include "daemon/notify.h"
#include "security/keys.h"
#include "security/rights.h"
#include "store/store.h"
#include "wire/message.h"
#include "worker/backup.h"
#include "worker/metrics.h"

namespace closeloop {

class SignalFd;
class Worker;

// Where a reply goes: a broker route and the request's correlation id.
struct ReplyTarget {
  std::string route;
  uint64_t id = 0;
  std::string_view verb;  // the request's verb (static storage), for the figures; "" for none
};

// What one message may do, inside the current group commit. Nothing it queues leaves
// the process before the commit.
class Context {
 public:
  using AskFn = std::function<void(Context&, Result<wire::Reply>&)>;
  // A read on the reader thread: the reply body, or why not.
  using ReadFn = std::function<Result<std::string>(const Reader& snapshot)>;

  Context(Worker& worker, ReplyTarget target) : worker_(worker), target_(std::move(target)) {}

  Txn& txn();
  const Config& config() const;
  const Clock& clock() const;
  const std::string& name() const;  // this worker's service name
  // Who sent the request being served, as the broker proved it (net/backend.h).
  const security::Actor& actor() const { return actor_; }

  // Queues `entry` (an encoded map) for each service in `to`, durably with this
  // commit: one outbox record, however many destinations. Returns its position.
  uint64_t hand_off(std::vector<std::string> to, std::string entry);
  // Answers the request; sent once committed and once every hand_off() is acknowledged.
  void reply(std::string body);
  void fail(Error error);
  // Runs fn after this turn's commit, with a context replying to the same target
  // (for reads that must see everything this turn wrote). fn must not write.
  void after_commit(std::function<void(Context&)> fn);
  // Sends a request to another service after this turn's commit; fn runs with its
  // reply, or an error if none comes within the request timeout.
  void ask(std::string_view service, std::string_view type, std::string body, AskFn fn);
  // Passes the person's request being served (its type, actor and encoded body) on to
  // the worker of `service`, which the broker tells who the person is and that this
  // worker passed it on; answers with whatever that worker answers.
  void forward(std::string_view service, std::string_view type, std::string_view actor,
               std::string_view body);
  // The reply waits, like one to a command, until the handoff at outbox position `pos`
  // (made by an earlier command) has been applied by its receivers.
  void await_handoff(uint64_t pos);
  // Answers with `read`'s result, run on the reader thread after this turn's commit.
  void read_later(ReadFn read);
  // The same against `snapshot` (one taken earlier: a backup's).
  void read_later(std::shared_ptr<const Snapshot> snapshot, ReadFn read);
  // Registers again with the broker after this turn's commit, with the service's
  // announcement() as it is then.
  void announce();

 private:
  friend class Worker;
  Worker& worker_;
  ReplyTarget target_;
  security::Actor actor_;
  std::vector<uint64_t> handed_off_;
  std::vector<uint64_t> held_;  // handoff entries kept as incidents (accept_handoff)
  std::optional<std::string> reply_;
  std::string result_;  // "ok" or the error's code, for the figures
};

// A worker's behaviour. Called on the loop thread.
class Service {
 public:
  virtual ~Service() = default;
  // At start, before the first turn; an error stops the worker (exit 1).
  virtual Status on_start(Store& store, const Config& config) { return ok_status(); }
  virtual void on_request(Context& ctx, const wire::Request& request) = 0;
  // One entry of a handoff from `from`. Each entry reaches this at most once. An error
  // keeps the entry as an incident (with the error's message as its reason) instead.
  virtual Status on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) {
    return Error{errc::kBadRequest, "this worker takes no handoffs"};
  }
  // Once per loop turn (at least every 50 ms), before the commit: for work of its own
  // (the timer's scans).
  virtual void on_turn(Context& ctx) {}
  // What an operator should see in `closeloop status` about this service now (the
  // ledger: accounts it does not admit), beside the worker's own warning; empty for none.
  virtual std::string warning() const { return {}; }
  // What the worker tells the broker with its registration (the ledger: the account
  // table); empty for nothing.
  virtual std::string announcement() const { return {}; }
  // A reload (SIGHUP), between two turns: `next` is validated and differs from the running
  // config only in live keys (config/reload.h); from the next turn ctx.config() is `next`.
  // For what the service made from the config (a calendar watch); an error refuses it.
  virtual Status on_reload(const Config& next) { return ok_status(); }
  // Whether the departments `dropped` may leave the config: an error names items still
  // open there. nullopt: this service cannot tell; the worker asks the ledger.
  virtual std::optional<Status> may_drop(const std::vector<std::string>& dropped) {
    return std::nullopt;
  }
};

class Worker {
 public:
  Worker(const Config& config, std::string name, Service& service);
  ~Worker();
  // Runs until SIGINT/SIGTERM, then drains (0), or until storage fails (75, EX_TEMPFAIL;
  // 1 for a store it cannot open for another reason); SIGHUP reloads the config.
  int run(SignalFd& signals);
  // The same with a plain descriptor, readable meaning SIGTERM (tests).
  int run(int signal_fd);
  // A warning about how it runs, found at start (a data_dir others can read), sent with
  // its figures for `closeloop status` (worker/metrics.h).
  void warn_in_status(std::string warning) { start_warning_ = std::move(warning); }

 private:
  friend class Context;
  struct Lane;  // handoffs to one destination
  struct Waiting {
    ReplyTarget target;
    std::string payload;
    size_t pending = 0;
    int64_t since_ms = 0;
  };
  struct Receipt {  // a handoff request received here, to acknowledge
    ReplyTarget target;
    uint64_t count = 0;
    int64_t since_ms = 0;
    std::vector<uint64_t> held;  // its entries kept as incidents
  };
  struct Ask {
    Context::AskFn fn;
    ReplyTarget target;
    security::Actor actor;  // who the request being served came from
    int64_t deadline_ms = 0;
  };
  class ReaderThread;

  Status open();
  Status load_epoch();
  bool connect();
  bool turn();
  void take_signals();
  void notice_ready();
  // SIGTERM (see the header comment)
  void begin_drain(int signal);
  bool owes_nothing() const;
  bool finish_drain();
  // SIGHUP (see the header comment)
  struct Reload {
    Config next;
    ConfigChange change;
  };
  void begin_reload();
  void ask_ledger_to_drop(std::shared_ptr<Reload> reload);
  void stage_reload(Reload reload);
  void apply_reload();
  void end_reload(bool ok, const std::string& reason, const std::vector<std::string>& changed);
  void receive(std::vector<zmq::message_t>& frames);
  void serve(const std::string& route, const std::string& sender, const zmq::message_t& payload);
  Result<security::Actor> actor_of(const std::string& sender, wire::Request& request);
  Result<const security::Actor*> sender_of(const std::string& frame);
  void register_with_broker();
  void accept_handoff(ReplyTarget target, const std::string& from, const wire::Request& request);
  void apply_entry(Context& ctx, const std::string& from, const msgpack::object& entry);
  void keep_incident(Context& ctx, const std::string& from, uint64_t hid, const std::string& reason,
                     const msgpack::object& entry);
  void serve_incidents(Context& ctx, const wire::Request& request);
  void serve_backup(Context& ctx, const wire::Request& request);
  void read_backup(Context& ctx, uint64_t session, std::string after, std::string prefix);
  void replay_incidents(Context& ctx, const std::string& by);
  void keep_unreadable_outbox_record(uint64_t pos, std::string_view value, const std::string& why);
  void take_reads();
  void start_reads();
  // `on_behalf_of`: the broker's token of the person's request a forward serves.
  void queue_ask(uint64_t id, std::string_view service, std::string payload, Ask ask,
                 std::string on_behalf_of = {});
  void take_reply(const zmq::message_t& payload);
  void settle(Context& ctx);
  void applied(uint64_t pos, const std::string& by);
  void acknowledged(uint64_t pos, const std::string& by);
  void held(uint64_t pos, const std::string& by);
  void ask_about_held(const std::string& to, Lane& lane);
  void release_waiters(uint64_t pos);
  void expire_waiting();
  void advance_watermarks();
  uint64_t watermark(const std::string& to) const;
  uint64_t seen_floor(const std::string& from);
  Status take_epoch(const std::string& from, uint64_t epoch);
  void prune_seen(const std::string& from, uint64_t watermark);
  static bool ack_is_durable(const wire::Reply& reply);
  void acknowledge_receipts();
  bool sync_receipts_when_due();
  int64_t poll_timeout_ms() const;
  bool commit();
  bool storage_ok(const Status& s);
  // The disk failed (worker/storage.cc): the batch's commands are answered with why; at
  // start, the wait for a disk that takes writes again (nullopt: opened; else an exit code).
  void refuse_batch(const Error& why);
  std::optional<int> wait_for_storage(const Error& why);
  void flush();
  void send_lane(const std::string& to, Lane& lane, bool resend);
  void expire_asks();
  void keep_alive();
  bool send(std::initializer_list<std::string_view> frames);
  uint64_t next_request_id() { return ++request_ids_; }
  // The figures (worker/metrics.h): a reply counted by verb and result, the heartbeat's frame.
  void count_reply(const ReplyTarget& target, std::string_view result);
  std::string_view verb_name(std::string_view type);
  std::string figures_frame();

  Config config_;
  Clock clock_;
  std::string name_;
  Service& service_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Txn> txn_;
  zmq::context_t zmq_;
  std::unique_ptr<zmq::socket_t> broker_;
  std::optional<security::KeyPair> key_pair_;  // with security.mode = "curve"
  bool connected_ = false;  // false until the broker's public key is known (curve)
  bool announce_ = false;   // register again after this turn's commit

  uint64_t epoch_ = 0;           // this store's life (meta/epoch), sent with every handoff
  uint64_t next_pos_ = 1;        // next outbox position (persisted in meta/next_pos)
  uint64_t saved_next_pos_ = 1;  // the value meta/next_pos holds
  bool must_sync_ = false;       // this turn's batch must be fsynced (else it may wait)
  // Whether this store has ever kept an incident: without one (the usual case) a handoff
  // entry needs no lookup of incident/ to know it is not held.
  bool kept_incidents_ = false;
  std::vector<Receipt> receipts_;           // this turn's, acknowledged after its commit
  std::vector<Receipt> unsynced_receipts_;  // acknowledged as applied, not yet as durable
  uint64_t request_ids_ = 0;
  struct Unacked {
    std::vector<std::string> sent_to;    // every destination, as the outbox record says
    std::vector<std::string> to;         // destinations that do not hold it durably yet
    std::vector<std::string> unapplied;  // destinations that have not applied it yet
    std::string entry;
    int64_t since_ms = 0;  // when this process wrote it, or read it at start-up
  };
  struct InFlight {
    std::string to;
    std::vector<uint64_t> positions;
    int64_t deadline_ms = 0;
  };
  Lane& lane(const std::string& to);
  void add_to_outbox(uint64_t pos, std::vector<std::string> to, std::string entry);
  // The mirror's bound (worker/lane.h): records beyond it stay on disk, paged in later.
  bool mirror_full() const;
  void leave_on_disk(uint64_t pos, const std::vector<std::string>& to);
  bool only_on_disk(uint64_t pos) const { return spill_from_ && pos >= *spill_from_; }
  void page_in_outbox();

  std::map<uint64_t, Unacked> outbox_;  // by position; at most kOutboxMirror records
  // Set while records exist on disk beyond the mirror: every record from this position on is
  // there only (none of them sent yet).
  std::optional<uint64_t> spill_from_;
  // Per sender: the watermark it last sent (below it, every hid it sent here is done and
  // will never come again) and the floor below which seen/ markers are pruned.
  struct SeenFloor {
    uint64_t watermark = 0, pruned = 0;
    uint64_t epoch = 0;  // the sender's life these belong to (meta/epoch_of/<from>)
    bool loaded = false;
  };
  std::unordered_map<std::string, SeenFloor> seen_floors_;
  int64_t next_waiting_check_ms_ = 0;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::unordered_map<uint64_t, InFlight> in_flight_;  // by request id
  std::unordered_map<uint64_t, Waiting> waiting_;                  // by obligation id
  std::unordered_map<uint64_t, std::vector<uint64_t>> waiters_;    // pos -> obligation ids
  uint64_t obligation_ids_ = 0;
  std::vector<std::pair<ReplyTarget, std::string>> ready_;  // replies to send after commit
  std::vector<std::pair<ReplyTarget, std::function<void(Context&)>>> after_commit_;
  std::unordered_map<uint64_t, Ask> asks_;
  struct OutgoingAsk {
    std::string service, payload, on_behalf_of;
  };
  std::vector<OutgoingAsk> outgoing_asks_;  // sent after the commit
  struct PendingRead {
    ReplyTarget target;
    Context::ReadFn read;
    std::shared_ptr<const Snapshot> snapshot;  // null: one taken after the commit
  };
  std::vector<PendingRead> reads_;        // to start after the commit
  std::unique_ptr<ReaderThread> reader_;  // started by the first read_later(); before store_ dies
  SnapshotSessions backups_;              // backups being read (worker/backup.h); likewise

  int64_t last_heard_ms_ = 0, reconnect_delay_ms_ = 0;

  static constexpr size_t kMaxSenders = 1024;
  std::unordered_map<std::string, security::Actor> senders_;  // decoded sender frames
  Figures figures_;
  std::string start_warning_;  // found at start (warn_in_status)
  std::set<std::string, std::less<>> verb_names_;  // what ReplyTarget::verb points into
  uint64_t batch_messages_ = 0;  // commands and handoff entries since the last commit()
  int64_t last_figures_ms_ = 0, last_disk_ms_ = 0;

  SignalFd* signals_ = nullptr;  // null: signal_fd_ is a plain descriptor (tests)
  int signal_fd_ = -1;
  Watchdog watchdog_;
  bool serving_ = false;                   // READY=1 sent: the broker answered
  std::optional<int64_t> drain_until_ms_;  // set by SIGTERM: the grace's end
  bool stop_now_ = false;                  // a second SIGTERM: no more grace
  bool reloading_ = false, reload_again_ = false;
  std::optional<Reload> staged_;  // validated, swapped in once no read runs
  size_t reads_in_flight_ = 0;
  uint64_t next_reload_ = 1;  // the next reload record's seq (meta/next_reload)
  std::vector<ReplyTarget> batch_commands_;  // commands in the batch not yet committed
};

}  // namespace closeloop
