// What a stage worker (intake, dispatch, handle, verify, close) does with what
// arrives. A command for an item this stage holds is checked by decide() (the
// lifecycle table) and, if allowed, committed as one step: the event, the new item
// record (kept here if this stage owns the next stage, else handed to its owner) and
// a copy for the ledger, all in the current group commit.
//
// A command for an item this stage does not hold is answered from the ledger's view:
// `not_found` for an unknown id, `in_transit` if the item is on its way here (the
// client retries), otherwise a refusal naming the item's stage and what it allows.
#pragma once

#include <string>

#include "worker/worker.h"
#include "workflow/command.h"

namespace closeloop {

class StageService : public Service {
 public:
  explicit StageService(std::string name) : name_(std::move(name)) {}

  void on_request(Context& ctx, const wire::Request& request) override;
  void on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) override;

 protected:
  // Intake creates items; other stages refuse submit (the broker never sends it to them).
  virtual void on_submit(Context& ctx, const Command& command);
  // Runs when an item arrives from another stage (dispatch routes here).
  virtual void on_arrival(Context& ctx, const Item& item) {}
  // Commits `step` and hands the item on; see the header comment.
  void commit_step(Context& ctx, const Step& step);

  const std::string name_;

 private:
  void answer_from_ledger(Context& ctx, const Command& command);
};

// The encoded reply body {item: ...}.
std::string item_reply(const Item& item);

}  // namespace closeloop
