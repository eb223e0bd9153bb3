#include "stage/stage_service.h"

#include <spdlog/spdlog.h>

#include "base/text.h"
#include "store/keys.h"

namespace closeloop {

namespace {

std::string handoff_entry(std::string_view item, std::string_view event) {
  return wire::MapBuilder().add_raw("item", item).add_raw("event", event).finish();
}

}  // namespace

std::string item_reply(const Item& item) {
  return wire::MapBuilder().add_raw("item", encode(item)).finish();
}

void StageService::on_request(Context& ctx, const wire::Request& request) {
  auto command = decode_command(request);
  if (!command) return ctx.fail(command.error());
  if (command->verb == "submit") return on_submit(ctx, *command);
  auto stored = ctx.txn().get(keys::item(command->item_id));
  if (!stored) return answer_from_ledger(ctx, *command);
  auto item = decode_item(*stored);
  if (!item) return ctx.fail({errc::kInternal, "stored item unreadable: " + item.error().message});
  auto step = decide(*item, *command, ctx.config(), now_iso8601());
  if (!step) return ctx.fail(step.error());
  commit_step(ctx, *step);
  ctx.reply(item_reply(step->item));
}

void StageService::on_submit(Context& ctx, const Command& command) {
  ctx.fail({errc::kBadRequest, name_ + " does not take submit"});
}

void StageService::commit_step(Context& ctx, const Step& step) {
  std::string item = encode(step.item), event = encode(step.event);
  ctx.txn().put(keys::event(step.item.id, step.event.seq), event);
  std::vector<std::string> to{"ledger"};
  std::string_view owner = owner_of(step.item.stage);
  if (owner == name_) {
    ctx.txn().put(keys::item(step.item.id), item);
  } else {
    ctx.txn().del(keys::item(step.item.id));
    to.emplace_back(owner);
  }
  ctx.hand_off(std::move(to), handoff_entry(item, event));
}

void StageService::on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) {
  wire::Fields f(entry, "handoff entry");
  auto item = decode_item(f.map("item"));
  if (!f.ok() || !item) {
    spdlog::error("{}: unreadable handoff from {}", name_, from);
    return;
  }
  if (owner_of(item->stage) != name_) {
    // Never dropped silently: kept for ops, and the sender still gets its ack.
    spdlog::error("{}: refused item {} from {}: it is {}, which {} does not own", name_, item->id,
                  from, to_string(item->stage), name_);
    ctx.txn().put(keys::incident(item->id, item->seq), encode(*item));
    return;
  }
  if (auto held = ctx.txn().get(keys::item(item->id))) {
    auto current = decode_item(*held);
    if (current && current->seq >= item->seq) return;  // an older copy: already past it
  }
  ctx.txn().put(keys::item(item->id), encode(*item));
  on_arrival(ctx, *item);
}

void StageService::answer_from_ledger(Context& ctx, const Command& command) {
  std::string body = wire::MapBuilder().add("item", command.item_id).finish();
  ctx.ask("ledger", "show", body, [this, command](Context& ctx, Result<wire::Reply>& reply) {
    const std::string& id = command.item_id;
    if (!reply) {
      return ctx.fail({errc::kUnavailable, "cannot tell where item " + id +
                                               " is: the ledger did not answer in time"});
    }
    if (!reply->ok) return ctx.fail(reply->error);
    wire::Fields f(reply->body, "show reply");
    auto item = decode_item(f.map("item"));
    if (!item) return ctx.fail({errc::kInternal, "ledger reply unreadable"});
    if (owner_of(item->stage) == name_) {
      return ctx.fail({errc::kInTransit, "item " + id + " is on its way to " + name_ + "; retry"});
    }
    ctx.fail({errc::kRefused, refusal(id, item->stage, command.verb)});
  });
}

}  // namespace closeloop
