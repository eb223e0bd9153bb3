// The intake worker: creates items. It owns no stage; each new item is handed to
// dispatch (which owns `submitted`) and to the ledger. An idempotency key maps to the
// item it created, so a retried submit returns that item instead of a second one.
#include "base/text.h"
#include "stage/stage_service.h"
#include "store/keys.h"
#include "worker/worker_main.h"

namespace closeloop {
namespace {

class Intake : public StageService {
 public:
  Intake() : StageService("intake") {}

  void on_start(Store& store) override {
    if (auto next = store.get(keys::meta("next_id"))) next_id_ = keys::read_be64(*next);
  }

 protected:
  void on_submit(Context& ctx, const Command& c) override {
    std::string idem = c.key.empty() ? "" : keys::idempotency(c.key);
    if (!idem.empty()) {
      if (auto earlier = ctx.txn().get(idem)) return ctx.reply(*earlier);
    }
    if (!c.category.empty() && !ctx.config().known_category(c.category))
      return ctx.fail({errc::kInvalid, "unknown category '" + c.category + "'"});
    std::string now = now_iso8601();
    Step step = create_item(c, allocate_id(ctx, now), now);
    commit_step(ctx, step);
    std::string reply = item_reply(step.item);
    if (!idem.empty()) ctx.txn().put(idem, reply);
    ctx.reply(std::move(reply));
  }

 private:
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

  uint64_t next_id_ = 1;
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Intake service;
  return closeloop::worker_main(argc, argv, "intake", service);
}
