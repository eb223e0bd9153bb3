// The intake worker: creates items. It owns no stage; each new item is handed to
// dispatch (which owns `submitted`) and to the ledger, or, for a row of an imported
// list that names its department, straight to handle as assigned.
//
// Idempotency: a submit's key maps to the reply it gave, the handoff it made and a
// digest of what was submitted; a retried submit (the same content) gets that reply
// once the handoff has been applied (as the first attempt's reply would have), so a
// `show` right after it finds the item. The same key with other content is refused:
// a key names one submission, and answering with another's item would hide the mistake. An imported
// row's key (its `key` column, else a digest of the row) maps to its item, so importing
// the same list twice imports nothing twice.
//
// Bounded growth: a submit's cached reply is dropped idem_reply_ttl_days after it was
// given (idem_expiry/ orders them by time; a few hundred per turn, on the service's clock).
// The record keeps the item's id, the handoff and the digest, so a later retry makes no
// second item: it is answered with the item as the ledger has it now (as `show` would).
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <set>

#include "base/text.h"
#include "stage/stage_service.h"
#include "store/keys.h"
#include "worker/worker_main.h"
#include "workflow/import.h"

namespace closeloop {
namespace {

constexpr size_t kExpireStep = 256;       // cached replies dropped per turn at most
constexpr int64_t kExpireEveryMs = 1000;  // how often intake looks for expired ones
constexpr int64_t kDayMs = 86'400'000;

int64_t epoch_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

class Intake : public StageService {
 public:
  Intake() : StageService("intake") {}

  Status on_start(Store& store, const Config&) override {
    if (auto next = store.get(keys::meta("next_id"))) next_id_ = keys::read_be64(*next);
    return ok_status();
  }

  void on_request(Context& ctx, const wire::Request& request) override {
    if (request.type == "import") return import_rows(ctx, request);
    StageService::on_request(ctx, request);
  }

 protected:
  void on_create(Context& ctx, const Command& c) override {
    if (Status allowed = security::may(ctx.actor(), c.verb, c.fields, nullptr); !allowed)
      return ctx.fail(allowed.error());
    std::string idem = c.text("key").empty() ? "" : keys::submit_key(c.actor, c.text("key"));
    std::string digest = idem.empty() ? "" : content_digest(c);
    if (!idem.empty()) {
      if (auto earlier = ctx.txn().get(idem)) return replay(ctx, *earlier, c.text("key"), digest);
    }
    Setting now = setting(ctx);
    auto step = create_item(c, allocate_id(ctx, now.now), now);
    if (!step) return ctx.fail(step.error());
    Committed done = commit_step(ctx, *step);
    std::string reply = item_reply(done.item);
    if (!idem.empty()) {
      uint64_t at = static_cast<uint64_t>(std::max<int64_t>(0, epoch_ms(ctx.clock())));
      ctx.txn().put(idem, wire::MapBuilder()
                              .add_raw("reply", reply)
                              .add("pos", done.pos)
                              .add("digest", digest)
                              .add("id", step->item.id)
                              .finish());
      ctx.txn().put(keys::idem_expiry(at, idem), "");
    }
    ctx.reply(std::move(reply));
  }

  void on_turn(Context& ctx) override { expire_replies(ctx); }

 private:
  // What a submit says, whoever retries it: its fields but the key, and who acts.
  static std::string content_digest(const Command& c) {
    wire::Json content = c.fields;
    content.erase("key");
    return sha256_hex(c.actor + "\n" + wire::dump(content));
  }

  // Drops the cached replies older than idem_reply_ttl_days, oldest first, a step at a
  // time: the next step comes at the next turn while there are more, else a second later.
  void expire_replies(Context& ctx) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_expiry_) return;
    int64_t cutoff = epoch_ms(ctx.clock()) - int64_t{ctx.config().idem_reply_ttl_days} * kDayMs;
    size_t dropped = 0;
    bool more = false;
    ctx.txn().store().scan(keys::kIdemExpiryPrefix, [&](std::string_view key, std::string_view) {
      if (static_cast<int64_t>(keys::idem_expiry_at(key)) > cutoff) return false;
      if (dropped == kExpireStep) return !(more = true);
      drop_reply(ctx, std::string(keys::idem_expiry_key(key)));
      ctx.txn().del(std::string(key));
      ++dropped;
      return true;
    });
    if (dropped > 0) spdlog::debug("intake: dropped {} cached submit replies", dropped);
    next_expiry_ = more ? now : now + std::chrono::milliseconds(kExpireEveryMs);
  }

  // The record without its reply: what the key made stays.
  static void drop_reply(Context& ctx, const std::string& idem) {
    auto stored = ctx.txn().get(idem);
    if (!stored) return;
    auto decoded = wire::decode(stored->data(), stored->size());
    if (!decoded) return;
    wire::Fields f(decoded->get(), "idempotency record");
    std::string id = f.opt_str("id", 64).value_or("");
    if (id.empty()) return;  // records from before the expiry keep their reply
    wire::MapBuilder kept;
    kept.add("id", id).add("pos", f.opt_uint("pos").value_or(0));
    if (auto digest = f.opt_str("digest", 64)) kept.add("digest", *digest);
    ctx.txn().put(idem, kept.finish());
  }

  // The first attempt's reply, once its handoff is applied (records of issue 2 hold
  // the reply alone, and records before the digest no digest: those are replayed). Once
  // that reply has expired, the item as the ledger has it now, with the asker's rights.
  static void replay(Context& ctx, const std::string& stored, const std::string& key,
                     const std::string& digest) {
    auto decoded = wire::decode(stored.data(), stored.size());
    if (!decoded)
      return ctx.fail(Error::of(errc::kInternal, N_("stored idempotency record unreadable")));
    wire::Fields f(decoded->get(), "idempotency record");
    std::optional<std::string> first = f.opt_str("digest", 64);
    if (first && *first != digest)
      return ctx.fail(Error::of(errc::kInvalid,
                                N_("{field} '{value}' was used for a different submission: a key "
                                   "names one submission (retry with the same content, or use a "
                                   "new key)"),
                                {{"value", key}}, "key"));
    if (const msgpack::object* reply = f.opt_map("reply")) {
      if (auto pos = f.opt_uint("pos")) ctx.await_handoff(*pos);
      wire::Buffer raw;
      msgpack::pack(raw, *reply);
      return ctx.reply(std::string(wire::view(raw)));
    }
    if (auto id = f.opt_str("id", 64)) {
      return ctx.forward("ledger", "show", ctx.actor().name,
                         wire::MapBuilder().add("item", *id).finish());
    }
    ctx.reply(stored);
  }

  // Ids read <year>-<serial>, e.g. 2026-000042; the serial never repeats.
  std::string allocate_id(Context& ctx, const std::string& now) {
    uint64_t serial = next_id_++;
    std::string next;
    keys::append_be64(next, next_id_);
    ctx.txn().put(keys::meta("next_id"), next);
    char digits[24];
    std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(serial));
    return now.substr(0, 4) + "-" + digits;
  }

  // import: {rows: [{line, key, <column>: text...}], dry_run?} → {results: [{line, result, id?,
  // reason?, reasons?, reasons_detail?}], possible_duplicates: [{line, id}], unchecked?, dry_run}. The rows
  // are planned here; the ledger is asked which open items have the same title and lead
  // department (import.open) before anything is written, so the answer names only items
  // that were there before; then the rows are imported — or, in a dry run, checked the
  // same way and nothing is written. A ledger that does not answer (down, or too old to
  // know the query) costs the warning, not the import: intake creates items without it
  // (they wait in its outbox), and `unchecked` says why none were compared.
  void import_rows(Context& ctx, const wire::Request& request) {
    wire::Fields f(request.body, "import");
    const msgpack::object* rows = f.opt_array("rows", kMaxImportRows);
    bool dry_run = f.opt_bool("dry_run").value_or(false);
    if (!f.ok() || !rows)
      return ctx.fail(f.ok() ? Error::of(errc::kBadRequest, N_("{what} lacks {field}"),
                                         {{"what", "import"}}, "rows")
                             : f.error());
    if (request.actor.empty())
      return ctx.fail(Error::of(errc::kInvalid, N_("{field} must not be empty: say who acts"), {},
                                "actor"));
    if (Status allowed = security::may(ctx.actor(), "import", wire::Json::object(), nullptr);
        !allowed)
      return ctx.fail(allowed.error());
    Setting now = setting(ctx);
    std::vector<ImportPlan> plans;
    wire::Json pairs = wire::Json::array();
    for (uint32_t i = 0; i < rows->via.array.size; ++i) {
      plans.push_back(plan_import(rows->via.array.ptr[i], request.actor, now));
      if (plans.back().ok())
        pairs.push_back({{"department", plans.back().department}, {"title", plans.back().title}});
    }
    if (pairs.empty()) return import_planned(ctx, plans, {}, "", dry_run);
    std::string body = wire::MapBuilder().add_raw("pairs", wire::encode_json(pairs)).finish();
    ctx.ask("ledger", "import.open", std::move(body),
            [this, plans = std::move(plans), dry_run](Context& ctx, Result<wire::Reply>& reply) {
              if (reply && reply->ok)
                return import_planned(ctx, plans, open_items(wire::to_json(reply->body)), "",
                                      dry_run);
              std::string why = reply ? reply->error.message : reply.error().message;
              spdlog::warn("intake: imported rows not compared with open items: {}", why);
              std::string unchecked =
                  "the rows were not compared with the open items: the ledger did not answer (" +
                  why + ")";
              import_planned(ctx, plans, {}, unchecked, dry_run);
            });
  }

  // The ledger's answer: the open items by lead department and title.
  using OpenItems = std::multimap<std::pair<std::string, std::string>, std::string>;
  static OpenItems open_items(const wire::Json& answer) {
    OpenItems out;
    for (const wire::Json& i : answer.value("items", wire::Json::array()))
      out.emplace(std::pair{i.value("department", std::string()), i.value("title", std::string())},
                  i.value("id", std::string()));
    return out;
  }

  void import_planned(Context& ctx, const std::vector<ImportPlan>& plans, const OpenItems& open,
                      const std::string& unchecked, bool dry_run) {
    Setting now = setting(ctx);
    wire::Json results = wire::Json::array(), similar = wire::Json::array();
    std::set<std::string> checked;  // a dry run's keys that would be imported
    for (const ImportPlan& plan : plans) {
      results.push_back(import_row(ctx, plan, now, dry_run, checked));
      if (results.back()["result"] != "imported") continue;
      auto [from, to] = open.equal_range({plan.department, plan.title});
      for (auto it = from; it != to; ++it)
        similar.push_back({{"line", plan.line}, {"id", it->second}});
    }
    wire::MapBuilder reply;
    reply.add_raw("results", wire::encode_json(results))
        .add_raw("possible_duplicates", wire::encode_json(similar))
        .add("dry_run", dry_run);
    if (!unchecked.empty()) reply.add("unchecked", unchecked);
    ctx.reply(reply.finish());
  }

  // A refused row's reasons, in English (reason, reasons) and for people in any language
  // (reasons_detail: msgid, args and the column, workflow/import.h).
  static wire::Json refused(wire::Json result, const Reasons& reasons) {
    wire::Json texts = wire::Json::array(), detail = wire::Json::array();
    for (const Error& reason : reasons) {
      detail.push_back(reason_json(reason));
      texts.push_back(detail.back()["message"]);
    }
    result["result"] = "refused";
    result["reason"] = texts.front();  // the first, as before every reason was sent
    result["reasons"] = std::move(texts);
    result["reasons_detail"] = std::move(detail);
    return result;
  }

  wire::Json import_row(Context& ctx, const ImportPlan& plan, const Setting& now, bool dry_run,
                        std::set<std::string>& checked) {
    wire::Json result = {{"line", plan.line}};
    if (!plan.ok()) return refused(std::move(result), plan.reasons);
    std::string idem = keys::idempotency("import:" + plan.key);
    if (auto earlier = ctx.txn().get(idem)) {
      result["result"] = "duplicate";
      result["id"] = *earlier;
      return result;
    }
    if (checked.count(idem)) {
      result["result"] = "duplicate";
      return result;
    }
    auto steps = make_steps(ctx, plan, now);
    if (!steps) return refused(std::move(result), {row_error(steps.error())});
    result["result"] = "imported";
    if (dry_run) {
      checked.insert(idem);
      return result;
    }
    commit_import(ctx, *steps);
    ctx.txn().put(idem, steps->back().item.id);
    result["id"] = steps->back().item.id;
    return result;
  }

  // The row's submit and, when it names a department, its assignment, each on the day
  // it happened. Nothing is written unless both are allowed.
  Result<std::vector<Step>> make_steps(Context& ctx, const ImportPlan& plan, const Setting& now) {
    Setting submitted = at_day(now, plan.submitted_on);
    auto created = create_item(plan.submit, peek_id(now.now), submitted);
    if (!created) return created.error();
    std::vector<Step> steps{*created};
    if (!plan.assign) return steps;
    Command assign = *plan.assign;
    assign.item_id = created->item.id;
    auto assigned = decide(created->item, assign, at_day(now, plan.assigned_on));
    if (!assigned) return assigned.error();
    steps.push_back(*assigned);
    return steps;
  }

  static Setting at_day(const Setting& now, const std::string& day) {
    Setting s = now;
    if (!day.empty()) {
      s.today = *Date::parse(day);
      s.occurred_on = day;
    }
    return s;
  }

  // The id the next item will get, allocated for real in commit_import().
  std::string peek_id(const std::string& now) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(next_id_));
    return now.substr(0, 4) + "-" + digits;
  }

  void commit_import(Context& ctx, const std::vector<Step>& steps) {
    (void)allocate_id(ctx, steps.front().item.created_at);
    if (steps.size() == 2) {  // the submit event goes to the ledger alone
      const Step& first = steps.front();
      std::string event = encode(first.event);
      ctx.txn().put(keys::event(first.item.id, first.event.seq), event);
      ctx.hand_off({"ledger"}, wire::MapBuilder()
                                   .add_raw("item", encode(first.item))
                                   .add_raw("event", event)
                                   .finish());
    }
    commit_step(ctx, steps.back());
  }

  uint64_t next_id_ = 1;
  std::chrono::steady_clock::time_point next_expiry_{};
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Intake service;
  return closeloop::worker_main(argc, argv, "intake", service);
}
