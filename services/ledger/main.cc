// The ledger: the supervisors' read model. Every stage hands it a copy of every event
// (with the item as it is after the event) through the same outbox as the stage-to-
// stage handoffs, so it holds each item's whole trail and its latest state, indexed
// (ledger/indexes.h). show and trail are answered on the loop after the commit of the
// turn they arrived in; the other reads (list, inbox, overdue, attention, scoreboard,
// the timer's scans) run on the reader thread against a snapshot taken then: both see
// every acknowledged command, and a long read stalls no command's reply.
//
// The read audit (ledger/read_audit.h): every read a person asks for, every page of it,
// refused or not, leaves one record with its outcome, written with the turn's group
// commit before the answer leaves. `reads` lists them.
//
// Tamper evidence (ledger/checkpoints.h): every event recorded joins a Merkle tree in
// the batch that stores it, and checkpoints of the tree are signed with the ledger's
// key; `checkpoint` answers the latest (and the proof that it extends an older one),
// `proofs` each event's inclusion proof, for bundles.
#include <spdlog/spdlog.h>

#include <memory>

#include "accounts.h"
#include "checkpoints.h"
#include "folds.h"
#include "incidents.h"
#include "indexes.h"
#include "queries.h"
#include "read_audit.h"
#include "security/keys.h"
#include "store/keys.h"
#include "worker/worker.h"
#include "worker/worker_main.h"
#include "workflow/command.h"
#include "workflow/item.h"

namespace closeloop {
namespace {

// A list or trail reply stops short of the client's message size limit.
constexpr double kReplyBytesShare = 0.9;

using ledger::read_via;
using ledger::ReadRequest;
using Query = Result<std::string> (*)(const Reader&, const ledger::QueryEnv&, const wire::Json&);

Query query_for(std::string_view type) {
  if (type == "list") return ledger::list;
  if (type == "inbox") return ledger::inbox;
  if (type == "overdue") return ledger::overdue;
  if (type == "attention") return ledger::attention;
  if (type == "scoreboard") return ledger::scoreboard;
  if (type == "reads") return ledger::reads;
  if (type == "timer.scan") return ledger::due_scan;
  if (type == "timer.provisional") return ledger::provisional;
  if (type == "import.open") return ledger::import_open;
  return nullptr;
}

class Ledger : public Service {
 public:
  Status on_start(Store& store, const Config& config) override {
    store_ = &store;
    audit_.load(store);
    accounts_.load(store);
    if (Status indexed = ledger::add_title_index(store); !indexed) return indexed;
    return checkpoints_.load(store, security::signing_key_path(config.data_dir));
  }

  void on_turn(Context& ctx) override {
    if (!bootstrapped_) accounts_.bootstrap(ctx);
    bootstrapped_ = true;
    checkpoints_.on_turn(ctx);
  }

  std::string warning() const override {
    std::string out;
    for (const auto& [name, why] : accounts_.refused())
      out += (out.empty() ? "" : "; ") + why + ": not admitted";
    return out;
  }

  // None before the first accounts exist: the broker admits no client until they do.
  std::string announcement() const override {
    return accounts_.empty() ? std::string() : accounts_.table();
  }

  Status on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) override {
    wire::Fields f(entry, "ledger entry");
    const msgpack::object& item_map = f.map("item");
    const msgpack::object& event_map = f.map("event");
    if (!f.ok()) return f.error();
    auto item = ledger::indexed(item_map);  // a view: what the indexes need, checked
    if (!item) return item.error();
    auto event = read_event_head(event_map);
    if (!event) return event.error();
    if (!known_action(event->action))
      return Error{errc::kBadRequest, "unknown action '" + event->action + "'"};
    std::string event_key = keys::event(event->item, event->seq), event_bytes = packed(event_map);
    auto recorded = ctx.txn().get(event_key);
    if (recorded && *recorded != event_bytes)  // a copy: it is in the tree already
      return Error{errc::kInvalid, "event " + event->item + "/" + std::to_string(event->seq) +
                                       " differs from the one recorded (kept as it was)"};
    auto stored = ctx.txn().get(keys::item(item->id));
    std::optional<ledger::Indexed> current;
    if (stored) current = folds_.view_of(item->id, *stored);
    bool newer = !current || current->seq < item->seq;  // events may arrive out of order
    std::string item_bytes = packed(item_map);
    if (!recorded || newer) {  // before anything is written: a mismatch writes nothing
      FoldContext office{[&ctx](const std::string& at) { return ctx.clock().local_date(at).str(); }};
      if (Status same = folds_.check(ctx.txn(), office, item_map, item_bytes, event_map, stored);
          !same)
        return same;
    }
    if (!recorded) {
      if (Status leaf = checkpoints_.append(ctx.txn(), event->item, event->seq, event_map); !leaf)
        return leaf;
      ctx.txn().put(event_key, event_bytes);
      if (ledger::dated(event->action)) ledger::index_event(ctx.txn(), event->item, day_of(ctx, *event));
    }
    if (!newer) return ok_status();
    ledger::reindex(ctx.txn(), current ? &*current : nullptr, *item);
    ctx.txn().put(keys::item(item->id), item_bytes);  // as the sender wrote it
    return ok_status();
  }

  void on_request(Context& ctx, const wire::Request& request) override {
    const std::string& type = request.type;
    if (type.starts_with("user.")) return accounts_.serve(ctx, request, audit_);
    if (type == "reload.open") return answer_may_drop(ctx, request);
    if (type == "checkpoint" || type == "proofs") return serve_checkpoints(ctx, request);
    if (type.starts_with("incidents")) return ledger::serve_incidents(ctx, request, audit_);
    if (type == "show" || type == "trail") return read_item(ctx, request);
    Query query = query_for(type);
    if (!query)
      return ctx.fail(Error::of(errc::kBadRequest, N_("the ledger does not answer {verb}"),
                                {{"verb", type}}));
    const Verb* verb = find_verb(type);
    auto fields =
        verb ? decode_fields(*verb, request.body, security::bound_fields(ctx.actor(), type))
             : Result<wire::Json>(wire::to_json(request.body));  // a worker's query
    ReadRequest read{"query", fields ? *fields : wire::to_json(request.body)};
    if (fields && fields->contains("after")) read.after = (*fields)["after"];
    Status allowed = fields ? may_ask(ctx.actor(), type, request, *fields, &read.via)
                            : Status(fields.error());
    audit_.record(ctx, request, read, allowed);
    if (!allowed) return ctx.fail(allowed.error());
    ledger::QueryEnv env{ctx.config(),     ctx.clock(), calendar(ctx),
                         reply_bytes(ctx), ctx.actor(), type};
    ctx.read_later([query, env, fields = std::move(*fields)](const Reader& db) {
      return query(db, env, fields);
    });
  }

 private:
  // show and trail: the rights are checked on the item as it stands when the request is
  // taken (after every write of this turn before it), and recorded with the outcome; show
  // answers with that record, trail with the events stored after this turn's commit.
  void read_item(Context& ctx, const wire::Request& request) {
    wire::Fields f(request.body, "body");
    std::string id = f.str("item", 64);
    uint64_t after = f.opt_uint("after").value_or(0);
    ReadRequest read{"item", id, after > 0 ? wire::Json(after) : wire::Json()};
    auto stored = f.ok() ? ctx.txn().get(keys::item(id)) : std::nullopt;
    Status allowed = f.ok() ? may_read(ctx.actor(), request, stored, &read.via) : Status(f.error());
    if (allowed && !stored)
      allowed = Error::of(errc::kNotFound, N_("unknown item {item}"), {{"item", id}});
    audit_.record(ctx, request, read, allowed);
    if (!allowed) return ctx.fail(allowed.error());
    if (request.type == "show")  // the record as it stands now, its trail's words beside it
      return ctx.read_later([item = std::move(*stored)](const Reader& db) {
        return ledger::show(db, item);
      });
    ctx.after_commit([id, after](Context& ctx) { trail(ctx, id, after); });
  }

  // A read of one item: the verb's rights on it, and those of the command it serves
  // (`via`: export, bundle). An item that cannot be read is answered by the read.
  static Status may_read(const security::Actor& actor, const wire::Request& request,
                         const std::optional<std::string>& stored, std::string* via) {
    auto served = read_via(request.body);
    if (!served) return served.error();
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (!item) return ok_status();
    security::ItemFacts facts = rights_facts(*item);
    if (Status s = security::may(actor, request.type, wire::Json::object(), &facts); !s) return s;
    if (!served->empty())
      if (Status s = security::may(actor, *served, wire::Json::object(), &facts); !s) return s;
    *via = std::move(*served);
    return ok_status();
  }

  // A query's rights (its list is cut to what the actor reaches by the query itself),
  // and those of the command it serves (`via`).
  static Status may_ask(const security::Actor& actor, const std::string& type,
                        const wire::Request& request, const wire::Json& fields, std::string* via) {
    if (Status s = security::may(actor, type, fields, nullptr); !s) return s;
    auto served = read_via(request.body);
    if (!served) return served.error();
    if (!served->empty())
      if (Status s = security::may(actor, *served, fields, nullptr); !s) return s;
    if (via) *via = std::move(*served);
    return ok_status();
  }

  static std::string day_of(Context& ctx, const EventHead& e) {
    return e.payload.occurred_on.empty() ? ctx.clock().local_date(e.at).str() : e.payload.occurred_on;
  }

  static std::string packed(const msgpack::object& o) {
    wire::Buffer raw;
    msgpack::pack(raw, o);
    return std::string(wire::view(raw));
  }

  // checkpoint and proofs, on the reader thread. A checkpoint is signed first when the
  // ledger has none, or the request asks for a fresh one; and every write is fsynced
  // before a checkpoint leaves (ledger/checkpoints.h).
  void serve_checkpoints(Context& ctx, const wire::Request& request) {
    auto fields = decode_fields(*find_verb(request.type), request.body);
    std::string item;
    Status allowed = fields ? may_ask(ctx.actor(), request.type, request, *fields, nullptr)
                            : Status(fields.error());
    if (allowed && request.type == "proofs") {
      wire::Fields f(request.body, "body");
      item = f.str("item", kMaxNameChars);
      if (!f.ok()) allowed = f.error();
    }
    ReadRequest read{item.empty() ? "query" : "item",
                     item.empty() ? (fields ? *fields : wire::Json::object()) : wire::Json(item)};
    if (fields && fields->contains("after")) read.after = (*fields)["after"];
    audit_.record(ctx, request, read, allowed);
    if (!allowed) return ctx.fail(allowed.error());
    Status ready = ledger::Checkpoints::make_durable(ctx.txn());
    if (ready && request.type == "checkpoint")
      ready = checkpoints_.sign_on_demand(ctx.txn(), ctx.clock(), fields->contains("fresh"));
    if (!ready) return ctx.fail(ready.error());
    ledger::QueryEnv env{ctx.config(), ctx.clock(), calendar(ctx), reply_bytes(ctx)};
    ctx.read_later([env, item, type = request.type, fields = std::move(*fields)](const Reader& db) {
      return type == "proofs" ? ledger::proofs(db, env, item, fields)
                              : ledger::checkpoint(db, env, fields);
    });
  }

  // The calendar as the reads should see it: shared with the reader thread, replaced
  // (never changed) when its files change.
  std::shared_ptr<const Calendar> calendar(Context& ctx) {
    if (!watch_) watch_.emplace(ctx.config().calendar_dir);
    if (Status s = watch_->check(); !s) spdlog::error("ledger: calendar: {}", s.error().message);
    if (!shared_ || shared_->fingerprint() != watch_->calendar().fingerprint())
      shared_ = std::make_shared<const Calendar>(watch_->calendar());
    return shared_;
  }

  static size_t reply_bytes(const Context& ctx) {
    return static_cast<size_t>(ctx.config().max_message_bytes * kReplyBytesShare);
  }

  // The events after seq `after`, as many as fit one reply (at least one); `more: true`
  // says the client should ask again after the last one it got.
  static void trail(Context& ctx, const std::string& id, uint64_t after) {
    size_t budget = reply_bytes(ctx), bytes = 0;
    std::vector<std::string> events;
    bool more = false;
    ctx.txn().store().scan(
        keys::event_prefix(id),
        [&](std::string_view, std::string_view v) {
          if (!events.empty() && bytes + v.size() > budget) return !(more = true);
          bytes += v.size();
          events.emplace_back(v);
          return true;
        },
        keys::event(id, after + 1));
    if (events.empty() && after == 0)
      return ctx.fail(Error::of(errc::kNotFound, N_("unknown item {item}"), {{"item", id}}));
    wire::Buffer array;
    wire::Packer(array).pack_array(static_cast<uint32_t>(events.size()));
    for (const auto& e : events) wire::pack_raw(array, e);
    wire::MapBuilder m;
    m.add_raw("events", wire::view(array));
    if (more) m.add("more", true);
    ctx.reply(m.finish());
  }

  // Reloads: its own store says whether a department may go (for itself, and for the
  // other workers' reload.open, on the reader thread). The calendar is looked for again.
  std::optional<Status> may_drop(const std::vector<std::string>& dropped) override {
    return ledger::may_drop(*store_, dropped);
  }

  Status on_reload(const Config&) override {
    watch_.reset();
    return ok_status();
  }

  void answer_may_drop(Context& ctx, const wire::Request& request) {
    if (Status allowed = security::may(ctx.actor(), "reload.open", wire::Json::object(), nullptr);
        !allowed)
      return ctx.fail(allowed.error());
    wire::Fields f(request.body, "reload.open");
    auto codes = f.opt_str_list("departments", 1024, 32);
    if (!f.ok() || !codes)
      return ctx.fail({errc::kBadRequest, "reload.open: departments expected"});
    ctx.read_later([codes = *codes](const Reader& db) -> Result<std::string> {
      if (Status s = ledger::may_drop(db, codes); !s) return s.error();
      return wire::empty_map();
    });
  }

  Store* store_ = nullptr;
  ledger::Checkpoints checkpoints_;
  ledger::Accounts accounts_{checkpoints_};  // every account change is a leaf of its tree
  bool bootstrapped_ = false;
  std::optional<CalendarWatch> watch_;
  std::shared_ptr<const Calendar> shared_;
  ledger::ReadAudit audit_;
  ledger::FoldCheck folds_;  // every item handed here against its trail (ledger/folds.h)
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Ledger service;
  return closeloop::worker_main(argc, argv, "ledger", service);
}
