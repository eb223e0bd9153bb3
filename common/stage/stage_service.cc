#include "stage/stage_service.h"

#include <spdlog/spdlog.h>

#include "store/keys.h"

namespace closeloop {

namespace {

std::string handoff_entry(std::string_view item, std::string_view event) {
  return wire::MapBuilder().add_raw("item", item).add_raw("event", event).finish();
}

// The event's record version, read without decoding the whole event.
uint64_t event_version(const msgpack::object& entry) {
  wire::Fields f(entry, "entry");
  const msgpack::object* event = f.opt_map("event");
  if (!event) return 0;
  wire::Fields e(*event, "event");
  return e.opt_uint("v").value_or(1);
}

std::string packed(const msgpack::object& o) {
  wire::Buffer out;
  msgpack::pack(out, o);
  return std::string(wire::view(out));
}

}  // namespace

std::string item_reply(std::string_view encoded_item) {
  return wire::MapBuilder().add_raw("item", encoded_item).finish();
}

std::string item_reply(const Item& item) { return item_reply(encode(item)); }

Status StageService::on_start(Store&, const Config&) { return ok_status(); }

Status StageService::on_reload(const Config&) {
  calendar_.reset();  // made again at the next setting(), from the new config
  return ok_status();
}

Setting StageService::setting(Context& ctx) {
  if (!calendar_) calendar_.emplace(ctx.config().calendar_dir);
  if (Status s = calendar_->check(); !s) spdlog::error("{}: calendar: {}", name_, s.error().message);
  return Setting{ctx.config(), calendar_->calendar(), ctx.clock().now_iso(), ctx.clock().today(),
                 ""};
}

void StageService::on_request(Context& ctx, const wire::Request& request) {
  auto command = decode_command(request, security::bound_fields(ctx.actor(), request.type));
  if (!command) return ctx.fail(command.error());
  command->via = ctx.actor().gateway;  // a gateway's name goes into the event beside the person's
  if (command->spec().creates()) return on_create(ctx, *command);
  if (command->has("duplicate-of"))
    return check_original(ctx, std::move(*command), packed(request.body));
  act(ctx, *command, request.body);
}

void StageService::act(Context& ctx, const Command& command, const msgpack::object& body) {
  auto stored = ctx.txn().get(keys::item(command.item_id));
  if (!stored) return locate(ctx, packed(body), command);
  auto item = decode_item(*stored);
  if (!item)
    return ctx.fail(Error::of(errc::kInternal, N_("stored item unreadable: {reason}"),
                              {{"reason", item.error().message}}));
  if (Status allowed = may_act(ctx, command, *item); !allowed) return ctx.fail(allowed.error());
  Setting now = setting(ctx);
  if (command.verb == "timer.redue") (void)calendar_->reload();  // the timer saw it change
  auto step = decide(*item, command, now);
  if (!step) return ctx.fail(step.error());
  ctx.reply(item_reply(commit_step(ctx, *step).item));
}

Status StageService::may_act(const Context& ctx, const Command& command, const Item& item) {
  security::ItemFacts facts = rights_facts(item);
  return security::may(ctx.actor(), command.verb, command.fields, &facts);
}

void StageService::on_create(Context& ctx, const Command& command) {
  ctx.fail(Error::of(errc::kBadRequest, N_("{worker} does not take {verb}"),
                     {{"worker", name_}, {"verb", command.verb}}));
}

StageService::Committed StageService::commit_step(Context& ctx, const Step& step) {
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
  uint64_t pos = ctx.hand_off(std::move(to), handoff_entry(item, event));
  return {pos, std::move(item)};
}

Status StageService::on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) {
  wire::Fields f(entry, "handoff entry");
  const msgpack::object& item_map = f.map("item");
  if (!f.ok()) return f.error();
  auto item = read_item_head(item_map);
  if (!item) return item.error();
  if (!known_action(item->last_action))
    return Error{errc::kBadRequest, "unknown action '" + item->last_action + "'"};
  if (uint64_t v = event_version(entry); v == 0 || v > kEventVersion)
    return Error{errc::kBadRequest, "event version " + std::to_string(v) + " is unknown here"};
  if (owner_of(item->stage) != name_)
    return Error{errc::kRefused, "item " + item->id + " is " + std::string(to_string(item->stage)) +
                                     ", which " + name_ + " does not own"};
  if (auto held = ctx.txn().get(keys::item(item->id))) {
    auto decoded = wire::decode(held->data(), held->size());
    auto current = decoded ? read_item_head(decoded->get()) : Result<ItemHead>(decoded.error());
    if (current && current->seq >= item->seq) return ok_status();  // an older copy: past it
  }
  wire::Buffer raw;  // kept as the sender wrote it: a command here decodes it whole
  msgpack::pack(raw, item_map);
  ctx.txn().put(keys::item(item->id), wire::view(raw));
  return on_arrival(ctx, item_map);
}

// A command naming another item (withdraw's duplicate-of) is taken once the ledger says
// that item exists and stays (not withdrawn itself); the rule cannot see other items. An
// item is never deleted, so what the ledger says holds when the command is applied.
void StageService::check_original(Context& ctx, Command command, std::string body) {
  std::string original = command.text("duplicate-of");
  auto then = [this, command, body, original](Context& ctx, Result<wire::Reply>& reply) {
    if (!reply)
      return ctx.fail(Error::of(errc::kUnavailable,
                                N_("cannot tell whether item {item} exists: the ledger did not "
                                   "answer in time"),
                                {{"item", original}}));
    if (!reply->ok && reply->error.code == errc::kNotFound)
      return ctx.fail(Error::of(errc::kInvalid, N_("{field} names item {item}, which is unknown"),
                                {{"item", original}}, "duplicate-of"));
    if (!reply->ok) return ctx.fail(reply->error);
    wire::Fields f(reply->body, "show reply");
    auto item = decode_item(f.map("item"));
    if (!item) return ctx.fail(Error::of(errc::kInternal, N_("ledger reply unreadable")));
    if (item->stage == Stage::kWithdrawn)
      return ctx.fail(Error::of(errc::kInvalid,
                                N_("{field} names item {item}, which is withdrawn itself: name "
                                   "the item that stays"),
                                {{"item", original}}, "duplicate-of"));
    auto request_body = wire::decode(body.data(), body.size());  // packed by this worker
    if (!request_body) return ctx.fail(request_body.error());
    act(ctx, command, request_body->get());
  };
  ctx.ask("ledger", "show", wire::MapBuilder().add("item", original).finish(), then);
}

// The item is not here: ask the ledger where it is, then forward, wait or refuse.
void StageService::locate(Context& ctx, std::string body, const Command& command) {
  bool forwarded = !ctx.actor().forwarded_by.empty();  // as the broker says, never the message
  auto again = [command, forwarded, body = std::move(body),
                this](Context& ctx, Result<wire::Reply>& reply) {
    const std::string& id = command.item_id;
    if (!reply)
      return ctx.fail(Error::of(errc::kUnavailable,
                                N_("cannot tell where item {item} is: the ledger did not answer "
                                   "in time"),
                                {{"item", id}}));
    if (!reply->ok) return ctx.fail(reply->error);
    wire::Fields f(reply->body, "show reply");
    auto item = decode_item(f.map("item"));
    if (!item) return ctx.fail(Error::of(errc::kInternal, N_("ledger reply unreadable")));
    if (Status allowed = may_act(ctx, command, *item); !allowed) return ctx.fail(allowed.error());
    std::string_view owner = owner_of(item->stage);
    if (owner == name_)
      return ctx.fail(Error::of(errc::kInTransit,
                                N_("item {item} is on its way to {worker}; retry"),
                                {{"item", id}, {"worker", name_}}));
    if (!command.spec().move(item->stage)) return ctx.fail(refusal(id, item->stage, command.verb));
    // Once only: a forwarded command that misses the item again is in transit.
    if (forwarded)
      return ctx.fail(Error::of(errc::kInTransit, N_("item {item} is moving to {worker}"),
                                {{"item", id}, {"worker", std::string(owner)}}));
    ctx.forward(owner, command.verb, command.actor, body);
  };
  ctx.ask("ledger", "show", wire::MapBuilder().add("item", command.item_id).finish(), again);
}

}  // namespace closeloop
