// The timer worker: the service's sense of deadlines. Every [timer] scan_ms it asks the
// ledger which items need a mark today (ledger/queries.h due_scan: a reminder before a
// due date, overdue the day after it, an escalation when still overdue some working
// days later) and sends each mark, as actor "timer", to the worker holding the item,
// which records it as an event like any command (so exactly once: the holder refuses a
// mark already made for that due date). When a calendar file is added or changed, it
// sends timer.redue for every item whose due date was provisional.
//
// It keeps no state that matters: after a restart it scans again; the marks it sends
// twice are refused by their holders. Its one record, meta/calendar, is the calendar
// fingerprint of its last complete recount, so that a restart does not recount in vain.
#include <spdlog/spdlog.h>

#include <deque>
#include <optional>

#include "calendar/calendar.h"
#include "store/keys.h"
#include "worker/worker.h"
#include "worker/worker_main.h"
#include "workflow/command.h"

namespace closeloop {
namespace {

constexpr size_t kMaxInFlight = 64;  // marks sent and not yet answered

class Timer : public Service {
 public:
  Status on_start(Store& store, const Config&) override {
    recounted_ = store.get(keys::meta("calendar")).value_or("");
    return ok_status();
  }

  void on_request(Context& ctx, const wire::Request& request) override {
    ctx.fail({errc::kBadRequest, "the timer answers nothing"});
  }

  // The calendar is looked for again (its dir may have changed), and the next scan
  // comes at once, on the new scan_ms from then on.
  Status on_reload(const Config&) override {
    watch_.reset();
    next_scan_ms_ = 0;
    return ok_status();
  }

  void on_turn(Context& ctx) override {
    int64_t now = monotonic_ms();
    if (busy() || now < next_scan_ms_) return;
    next_scan_ms_ = now + ctx.config().timer_scan_ms;
    if (!watch_) watch_.emplace(ctx.config().calendar_dir, 0);
    if (Status s = watch_->check(); !s) spdlog::error("timer: calendar: {}", s.error().message);
    std::string fingerprint = watch_->calendar().fingerprint();
    if (fingerprint != recounted_) return recount(ctx, fingerprint);
    scan(ctx);
  }

 private:
  bool busy() const { return scanning_ || !queue_.empty() || in_flight_ > 0; }

  // The marks due today, from the ledger.
  void scan(Context& ctx) {
    scanning_ = true;
    ctx.ask("ledger", "timer.scan", wire::empty_map(), [this](Context& ctx, Result<wire::Reply>& r) {
      scanning_ = false;
      spdlog::debug("timer: scanned");
      for (const auto& a : actions_of(r, "actions"))
        queue_.push_back(mark(a["item"], "timer." + a["action"].get<std::string>(), a["due"]));
      send_some(ctx);
    });
  }

  // Every provisional due date, counted again on the changed calendar.
  void recount(Context& ctx, std::string fingerprint) {
    scanning_ = true;
    spdlog::info("timer: the calendar changed; recounting provisional due dates");
    ctx.ask("ledger", "timer.provisional", wire::empty_map(),
            [this, fingerprint](Context& ctx, Result<wire::Reply>& r) {
              scanning_ = false;
              if (!r || !r->ok) {  // the next scan tries again
                spdlog::warn("timer: the ledger did not list provisional due dates: {}",
                             r ? r->error.message : r.error().message);
                return;
              }
              for (const auto& a : actions_of(r, "items"))
                queue_.push_back(mark(a["item"], "timer.redue", nullptr));
              pending_fingerprint_ = fingerprint;
              send_some(ctx);
            });
  }

  static std::vector<wire::Json> actions_of(Result<wire::Reply>& r, const char* key) {
    if (!r || !r->ok) {
      spdlog::warn("timer: the ledger did not answer the scan: {}",
                   r ? r->error.message : r.error().message);
      return {};
    }
    wire::Fields f(r->body, "scan");
    const msgpack::object& list = f.array(key);
    std::vector<wire::Json> out;
    for (uint32_t i = 0; f.ok() && i < list.via.array.size; ++i)
      out.push_back(wire::to_json(list.via.array.ptr[i]));
    return out;
  }

  struct Mark {
    std::string item, type, due;
  };

  static Mark mark(const wire::Json& item, std::string type, const wire::Json& due) {
    return {item.get<std::string>(), std::move(type), due.is_string() ? due.get<std::string>() : ""};
  }

  // Sends marks while fewer than kMaxInFlight wait for an answer; each goes to the
  // stage that holds the item (handle: marks apply to assigned items), which forwards
  // it if the item has moved.
  void send_some(Context& ctx) {
    while (in_flight_ < kMaxInFlight && !queue_.empty()) {
      Mark m = std::move(queue_.front());
      queue_.pop_front();
      wire::MapBuilder body;
      body.add("item", m.item);
      if (!m.due.empty()) body.add("due", m.due);
      ++in_flight_;
      ctx.ask("handle", m.type, body.finish(), [this, m](Context& ctx, Result<wire::Reply>& r) {
        --in_flight_;
        if (r && r->ok) {
          spdlog::info("timer: {} {} (due {})", m.type.substr(6), m.item, m.due);
        } else if (!r || r->error.code != errc::kRefused) {
          failed_ = true;  // unavailable or in transit: the next scan sends it again
          spdlog::warn("timer: {} {} not recorded yet: {}", m.type.substr(6), m.item,
                       r ? r->error.message : r.error().message);
        } else {
          spdlog::debug("timer: {} {} refused: {}", m.type.substr(6), m.item, r->error.message);
        }
        send_some(ctx);
        finish_recount(ctx);
      });
    }
    finish_recount(ctx);
  }

  // A recount is complete when every redue was answered; then it is remembered.
  void finish_recount(Context& ctx) {
    if (pending_fingerprint_.empty() || !queue_.empty() || in_flight_ > 0) return;
    if (!failed_) {
      recounted_ = pending_fingerprint_;
      ctx.txn().put(keys::meta("calendar"), recounted_);
    }
    pending_fingerprint_.clear();
    failed_ = false;
  }

  std::optional<CalendarWatch> watch_;
  std::string recounted_, pending_fingerprint_;
  std::deque<Mark> queue_;
  size_t in_flight_ = 0;
  bool scanning_ = false, failed_ = false;
  int64_t next_scan_ms_ = 0;
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Timer service;
  return closeloop::worker_main(argc, argv, "timer", service);
}
