// The ledger: the supervisors' read model. Every stage hands it a copy of every
// event (with the item as it is after the event) through the same outbox as the
// stage-to-stage handoffs, so it holds each item's whole trail and its latest state,
// indexed by stage and by lead department. It answers show, trail and list, after
// the commit of the turn they arrived in, so that an answer reflects every
// acknowledged command.
#include <spdlog/spdlog.h>

#include "store/keys.h"
#include "worker/worker.h"
#include "worker/worker_main.h"
#include "workflow/item.h"

namespace closeloop {
namespace {

constexpr uint64_t kDefaultListLimit = 1000;
constexpr uint64_t kMaxListLimit = 100000;
// A list or trail reply stops short of the client's message size limit.
constexpr double kReplyBytesShare = 0.9;

// One reply's worth of stored records: at most `limit`, within `max_bytes` unless a
// single record is larger (a page always holds at least one). `more` says the scan
// stopped early; reply() encodes {<key>: [...], more?: true}.
class Page {
 public:
  Page(size_t max_bytes, uint64_t limit) : max_bytes_(max_bytes), limit_(limit) {}

  // Adds a record; false once the page is full (the scan should stop).
  bool add(std::string_view record) {
    if (records_.size() >= limit_ || (!records_.empty() && bytes_ + record.size() > max_bytes_))
      return !(more_ = true);
    bytes_ += record.size();
    records_.emplace_back(record);
    return true;
  }
  bool empty() const { return records_.empty(); }

  std::string reply(std::string_view key) const {
    wire::Buffer array;
    wire::Packer(array).pack_array(records_.size());
    for (const auto& r : records_) wire::pack_raw(array, r);
    wire::MapBuilder m;
    m.add_raw(key, wire::view(array));
    if (more_) m.add("more", true);
    return m.finish();
  }

 private:
  size_t max_bytes_;
  uint64_t limit_;
  size_t bytes_ = 0;
  bool more_ = false;
  std::vector<std::string> records_;
};

class Ledger : public Service {
 public:
  void on_handoff(Context& ctx, std::string_view from, const msgpack::object& entry) override {
    wire::Fields f(entry, "ledger entry");
    auto item = decode_item(f.map("item"));
    auto event = decode_event(f.map("event"));
    if (!f.ok() || !item || !event) {
      spdlog::error("ledger: unreadable entry from {}", from);
      return;
    }
    ctx.txn().put(keys::event(event->item, event->seq), encode(*event));
    auto stored = ctx.txn().get(keys::item(item->id));
    std::optional<Item> current;
    if (stored) {
      if (auto decoded = decode_item(*stored)) current = std::move(*decoded);
    }
    if (current && current->seq >= item->seq) return;  // events may arrive out of order
    reindex(ctx.txn(), current ? &*current : nullptr, *item);
    ctx.txn().put(keys::item(item->id), encode(*item));
  }

  void on_request(Context& ctx, const wire::Request& request) override {
    const std::string& type = request.type;
    wire::Fields f(request.body, "body");
    if (type == "show" || type == "trail") {
      std::string id = f.str("item", 64);
      uint64_t after = f.opt_uint("after").value_or(0);
      if (!f.ok()) return ctx.fail(f.error());
      return ctx.after_commit([id, type, after](Context& ctx) {
        type == "show" ? show(ctx, id) : trail(ctx, id, after);
      });
    }
    if (type == "list") {
      auto stage = f.opt_str("stage", 16);
      auto department = f.opt_str("department", 32);
      std::string after = f.opt_str("after", 64).value_or("");
      uint64_t limit = std::min(f.opt_uint("limit").value_or(kDefaultListLimit), kMaxListLimit);
      if (f.ok() && stage && !parse_stage(*stage))
        f.fail(errc::kInvalid, "unknown stage '" + *stage + "'");
      if (!f.ok()) return ctx.fail(f.error());
      return ctx.after_commit([=](Context& ctx) { list(ctx, stage, department, after, limit); });
    }
    ctx.fail({errc::kBadRequest, "the ledger does not answer " + type});
  }

 private:
  // Moves the item's index entries from what `current` (null: none yet) says to what
  // `item` says, touching only those that change.
  static void reindex(Txn& txn, const Item* current, const Item& item) {
    auto move = [&](std::string_view index, std::string_view was, std::string_view now) {
      if (current && was == now) return;
      if (!was.empty()) txn.del(keys::index(index, was, item.id));
      if (!now.empty()) txn.put(keys::index(index, now, item.id), "");
    };
    move("stage", current ? to_string(current->stage) : "", to_string(item.stage));
    move("department", current ? current->department : "", item.department);
  }

  static void show(Context& ctx, const std::string& id) {
    auto stored = ctx.txn().get(keys::item(id));
    if (!stored) return ctx.fail({errc::kNotFound, "unknown item " + id});
    ctx.reply(wire::MapBuilder().add_raw("item", *stored).finish());
  }

  static size_t reply_bytes(const Context& ctx) {
    return static_cast<size_t>(ctx.config().max_message_bytes * kReplyBytesShare);
  }

  // The events after seq `after`, as many as fit one reply (at least one); `more: true`
  // says the client should ask again after the last one it got.
  static void trail(Context& ctx, const std::string& id, uint64_t after) {
    Page page(reply_bytes(ctx), UINT64_MAX);
    ctx.txn().store().scan(
        keys::event_prefix(id), [&](std::string_view, std::string_view v) { return page.add(v); },
        keys::event(id, after + 1));
    if (page.empty() && after == 0) return ctx.fail({errc::kNotFound, "unknown item " + id});
    ctx.reply(page.reply("events"));
  }

  // Items in id order after `after`, as many as `limit` and one reply allow (at least
  // one); `more: true` says the client should ask again after the last id it got.
  static void list(Context& ctx, const std::optional<std::string>& stage,
                   const std::optional<std::string>& department, const std::string& after,
                   uint64_t limit) {
    const Store& store = ctx.txn().store();
    Page page(reply_bytes(ctx), limit);
    // Adds one item if it passes the filters; false once the page is full.
    auto take = [&](std::string_view value) {
      if (stage && department) {  // both filters: scan the department, check the stage
        auto item = decode_item(value);
        if (!item || to_string(item->stage) != *stage) return true;
      }
      return page.add(value);
    };
    const std::string past = after.empty() ? "" : after + '\0';  // the first key after `after`
    auto by_index = [&](std::string_view name, const std::string& value) {
      std::string prefix = keys::index_prefix(name, value);
      store.scan(prefix, [&](std::string_view key, std::string_view) {
        auto stored = store.get(keys::item(key.substr(prefix.size())));
        return !stored || take(*stored);
      }, past.empty() ? "" : prefix + past);
    };
    if (department) {
      by_index("department", *department);
    } else if (stage) {
      by_index("stage", *stage);
    } else {
      store.scan("item/", [&](std::string_view, std::string_view v) { return take(v); },
                 past.empty() ? "" : keys::item(past));
    }
    ctx.reply(page.reply("items"));
  }
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Ledger service;
  return closeloop::worker_main(argc, argv, "ledger", service);
}
