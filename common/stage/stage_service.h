// What a stage worker (intake, dispatch, handle, verify, close) does with what
// arrives. A command for an item this stage holds is checked by decide() (the verb's
// rule) and, if allowed, committed as one step: the event, the new item record (kept
// here if this stage owns the item's next stage, else handed to its owner) and a copy
// for the ledger, all in the current group commit.
//
// A command naming another item (withdraw's duplicate-of) waits for the ledger to say
// that item exists.
//
// A command for an item this stage does not hold is answered from the ledger's view:
// `not_found` for an unknown id, `in_transit` if the item is on its way here (the
// client retries); if the verb applies where the item is (urge, extend, reopen... may
// arrive at any stage), the command is forwarded once to the worker holding it;
// otherwise a refusal names the item's stage and what it allows.
#pragma once

#include <optional>
#include <string>

#include "calendar/calendar.h"
#include "worker/worker.h"
#include "workflow/decide.h"

namespace closeloop {

class StageService : public Service {
 public:
  explicit StageService(std::string name) : name_(std::move(name)) {}

  Status on_start(Store& store, const Config& config) override;
  void on_request(Context& ctx, const wire::Request& request) override;
  Status on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) override;
  // The calendar is looked for again, in the dir the new config names.
  Status on_reload(const Config& next) override;

 protected:
  // Intake creates items; other stages refuse (the broker never sends them such verbs).
  virtual void on_create(Context& ctx, const Command& command);
  // Runs when an item arrives from another stage (dispatch routes here); an error keeps
  // the entry as an incident.
  virtual Status on_arrival(Context& ctx, const msgpack::object& item) { return ok_status(); }
  // Commits `step` and hands the item on; see the header comment. Returns the outbox
  // position of the handoff and the item as encoded (for the reply).
  struct Committed {
    uint64_t pos;
    std::string item;
  };
  Committed commit_step(Context& ctx, const Step& step);
  // Whether the account acting may run `command` on `item` (security/rights.h).
  static Status may_act(const Context& ctx, const Command& command, const Item& item);
  // What a rule may consult now: the config, the calendar (reloaded when its files
  // changed), the time.
  Setting setting(Context& ctx);

  const std::string name_;

 private:
  std::optional<CalendarWatch> calendar_;  // made at the first setting(): needs the config


  // Applies `command` (its request's `body`) to the item if it is here, else locates it.
  void act(Context& ctx, const Command& command, const msgpack::object& body);
  void check_original(Context& ctx, Command command, std::string body);
  void locate(Context& ctx, std::string body, const Command& command);
};

// The encoded reply body {item: ...}.
std::string item_reply(const Item& item);
std::string item_reply(std::string_view encoded_item);

}  // namespace closeloop
