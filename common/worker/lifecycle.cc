#include <signal.h>
#include <spdlog/spdlog.h>

#include "daemon/signals.h"
#include "net/backend.h"
#include "store/keys.h"
#include "worker/lane.h"
#include "worker/worker.h"

namespace closeloop {

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
         outbox_.empty() && !spill_from_ && unsynced_receipts_.empty() && receipts_.empty();
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
  figures_.reload_refused = ok ? "" : reason;  // status shows it until a reload is taken
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

}  // namespace closeloop
