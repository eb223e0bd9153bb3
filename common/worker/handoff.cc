#include <spdlog/spdlog.h>

#include "net/backend.h"
#include "store/keys.h"
#include "worker/incidents.h"
#include "worker/lane.h"
#include "worker/worker.h"

namespace closeloop {

namespace {
constexpr size_t kMaxEntriesPerMessage = 256;
constexpr size_t kMaxBytesPerMessage = 256 * 1024;
// A receiver prunes a sender's seen/ markers once its watermark has moved this far: one
// short scan per so many entries, not one per handoff.
constexpr uint64_t kPruneEvery = 256;
// How far into the outbox a destination's watermark is looked for (else it is set
// conservatively low, at the first record not looked at).
constexpr size_t kWatermarkScan = 4096;

}  // namespace

Result<OutboxRecord> read_outbox_record(std::string_view value) {
  auto decoded = wire::decode(value.data(), value.size());
  if (!decoded) return decoded.error();
  wire::Fields f(decoded->get(), "outbox entry");
  OutboxRecord record;
  record.to = f.opt_str_list("to", 8, 32).value_or(std::vector<std::string>{});
  wire::Buffer entry;
  msgpack::pack(entry, f.map("entry"));
  if (!f.ok()) return f.error();
  if (record.to.empty()) return Error{errc::kInvalid, "it names no destination"};
  record.entry = std::string(wire::view(entry));
  return record;
}

namespace {

// `held`: the entries kept as incidents, not applied (left out when none, as before).
std::string ack_body(uint64_t count, bool durable, const std::vector<uint64_t>& held) {
  wire::MapBuilder ack;
  ack.add("count", count).add("durable", durable);
  if (!held.empty()) ack.add("held", held);
  return ack.finish();
}

std::vector<uint64_t> held_of(const wire::Reply& ack) {
  wire::Fields f(ack.body, "handoff ack");
  const msgpack::object* held = f.opt_array("held", kResendWindow * 4);
  std::vector<uint64_t> hids;
  for (uint32_t i = 0; held && i < held->via.array.size; ++i)
    if (held->via.array.ptr[i].type == msgpack::type::POSITIVE_INTEGER)
      hids.push_back(held->via.array.ptr[i].via.u64);
  return hids;
}

// Removes `name` from `names`; false if it was not there.
bool remove_name(std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return false;
  names.erase(it);
  return true;
}
}  // namespace

// ---- Worker: handoffs, acks, incidents and watermarks ----

// `from` is the sender the broker names (backend.h), never a field of the message.
void Worker::accept_handoff(ReplyTarget target, const std::string& from,
                            const wire::Request& request) {
  Context ctx(*this, std::move(target));
  wire::Fields f(request.body, "handoff");
  const msgpack::object& entries = f.array("entries");
  if (f.ok() && (from.empty() || from.find('/') != std::string::npos))
    f.fail(errc::kBadRequest, "handoffs come from workers only");
  if (!f.ok()) {
    ctx.fail(f.error());
    return settle(ctx);
  }
  uint64_t watermark = f.opt_uint("watermark").value_or(0);
  if (Status life = take_epoch(from, f.opt_uint("epoch").value_or(0)); !life) {
    ctx.fail(life.error());
    return settle(ctx);
  }
  uint32_t count = entries.via.array.size;
  batch_messages_ += count;
  for (uint32_t i = 0; i < count; ++i) apply_entry(ctx, from, entries.via.array.ptr[i]);
  if (f.ok() && watermark > 0) prune_seen(from, watermark);
  if (ctx.handed_off_.empty()) {
    receipts_.push_back({ctx.target_, count, 0, std::move(ctx.held_)});  // acked in flush()
    return;
  }
  // The entries caused handoffs: the ack waits until those are applied, and says
  // durable, so this turn's batch is synced (hand_off() asks for that, but a duplicate
  // entry's earlier handoffs do not, while a new entry beside it may be unsynced).
  must_sync_ = true;
  ctx.reply(ack_body(count, true, ctx.held_));
  settle(ctx);
}

// Applies one handoff entry at most once. Its seen/ marker remembers the handoffs the
// entry caused, so that a duplicate is acknowledged only when those are done too.
// An entry it cannot apply is kept as an incident and acknowledged as held: no seen/
// marker, so that the sender's next ask about it finds it held again until an operator
// closes the incident.
void Worker::apply_entry(Context& ctx, const std::string& from, const msgpack::object& entry) {
  wire::Fields f(entry, "handoff entry");
  uint64_t hid = f.uint("hid");
  if (!f.ok()) {  // never from a sender of ours, of any version: it could not be acked
    spdlog::error("{}: dropping a handoff entry from {} without a position: {}", name_, from,
                  f.error().message);
    return;
  }
  if (hid < seen_floor(from)) return;  // done long ago: its marker is pruned
  std::string seen_key = keys::seen(from, hid);
  if (auto seen = txn_->get(seen_key)) {
    for (size_t i = 0; i + 8 <= seen->size(); i += 8)
      ctx.handed_off_.push_back(keys::read_be64(std::string_view(*seen).substr(i, 8)));
    return;
  }
  if (kept_incidents_ && incidents::is_held(*txn_, from, hid)) return ctx.held_.push_back(hid);
  const msgpack::object& data = f.map("entry");
  if (!f.ok()) return keep_incident(ctx, from, hid, f.error().message, entry);
  size_t before = ctx.handed_off_.size();
  if (Status applied = service_.on_handoff(ctx, from, data); !applied)
    return keep_incident(ctx, from, hid, applied.error().message, data);
  ++figures_.handoffs_applied[from];
  std::string caused;
  for (size_t i = before; i < ctx.handed_off_.size(); ++i)
    keys::append_be64(caused, ctx.handed_off_[i]);
  txn_->put(seen_key, caused);
}

// Never dropped silently: kept for ops with who sent it and why it was not applied,
// and acknowledged as held, so the lane behind it keeps moving.
void Worker::keep_incident(Context& ctx, const std::string& from, uint64_t hid,
                           const std::string& reason, const msgpack::object& entry) {
  spdlog::error("{}: holding handoff {} from {} as an incident: {} (closeloop incidents)", name_,
                hid, from, reason);
  wire::Buffer raw;
  msgpack::pack(raw, entry);
  kept_incidents_ = true;
  txn_->put(keys::incident(from, hid),
            incidents::record(from, hid, reason, clock_.now_iso(), wire::view(raw)));
  ctx.held_.push_back(hid);
}

// An outbox record of its own that this version cannot read is not sent, and not
// skipped silently either: it stays where it is and ops see it as an incident.
void Worker::keep_unreadable_outbox_record(uint64_t pos, std::string_view value,
                                           const std::string& why) {
  spdlog::error("{}: outbox record {} is unreadable ({}); kept as incident {}", name_, pos, why,
                incidents::format_id({name_, name_, pos}));
  kept_incidents_ = true;
  if (txn_->get(keys::incident(name_, pos))) return;
  wire::Buffer raw;
  wire::Packer(raw).pack_bin(static_cast<uint32_t>(value.size()));
  wire::Packer(raw).pack_bin_body(value.data(), static_cast<uint32_t>(value.size()));
  txn_->put(keys::incident(name_, pos),
            incidents::record(name_, pos, "outbox record unreadable: " + why, clock_.now_iso(),
                              wire::view(raw)));
}

// The incidents kept here, for the ledger acting for a person whose rights it checked:
// `incidents` {all} lists them, `incidents.ack` {id, by} closes one, `incidents.replay`
// {by} applies the held ones this version can read now.
void Worker::serve_incidents(Context& ctx, const wire::Request& request) {
  if (Status allowed = security::may(ctx.actor(), request.type, {}, nullptr); !allowed)
    return ctx.fail(allowed.error());
  wire::Fields f(request.body, request.type);
  if (request.type == "incidents") {
    bool all = f.opt_bool("all").value_or(false);
    wire::Json list = incidents::list(*store_, name_, all);
    return ctx.reply(wire::encode_json({{"incidents", std::move(list)}}));
  }
  std::string by = f.str("by", 256);
  if (request.type == "incidents.replay")
    return f.ok() ? replay_incidents(ctx, by) : ctx.fail(f.error());
  auto id = incidents::parse_id(f.str("id", 512));
  if (!f.ok()) return ctx.fail(f.error());
  if (!id) return ctx.fail(id.error());
  if (Status closed = incidents::close(*txn_, id->from, id->hid, incidents::kAcknowledged, by,
                                       clock_.now_iso());
      !closed)
    return ctx.fail(closed.error());
  // The sender's next ask about it is answered as applied, and it forgets it; an
  // unreadable record of this worker's own outbox goes now.
  id->from == name_ ? txn_->del(keys::outbox(id->hid))
                    : txn_->put(keys::seen(id->from, id->hid), "");
  spdlog::info("{}: incident {} acknowledged by {}", name_, incidents::format_id(*id), by);
  ctx.reply(
      wire::encode_json({{"id", incidents::format_id(*id)}, {"state", incidents::kAcknowledged}}));
}

// Applies each held entry as if it had just arrived; one this version still cannot read
// stays held with the reason it gives now.
void Worker::replay_incidents(Context& ctx, const std::string& by) {
  uint64_t replayed = 0, still = 0;
  for (const auto& [worker, from, hid] : incidents::held_ids(*store_, name_)) {
    if (from == name_) {  // an unreadable outbox record of its own stays
      ++still;
      continue;
    }
    auto entry = incidents::held_entry(*txn_, from, hid);
    size_t before = ctx.handed_off_.size();
    Status applied = entry ? service_.on_handoff(ctx, from, entry->get()) : Status(entry.error());
    if (!applied) {
      (void)incidents::still_held(*txn_, from, hid, applied.error().message);
      ++still;
      continue;
    }
    std::string caused;
    for (size_t i = before; i < ctx.handed_off_.size(); ++i)
      keys::append_be64(caused, ctx.handed_off_[i]);
    txn_->put(keys::seen(from, hid), caused);
    (void)incidents::close(*txn_, from, hid, incidents::kReplayed, by, clock_.now_iso());
    spdlog::info("{}: incident {} replayed by {}", name_, incidents::format_id({name_, from, hid}),
                 by);
    ++replayed;
  }
  must_sync_ = true;
  ctx.reply(wire::encode_json({{"worker", name_}, {"replayed", replayed}, {"held", still}}));
}

void Worker::take_reply(const zmq::message_t& payload) {
  auto reply = wire::decode_reply(payload.data(), payload.size());
  if (!reply) return spdlog::warn("{}: undecodable reply: {}", name_, reply.error().message);
  if (auto it = in_flight_.find(reply->id); it != in_flight_.end()) {
    if (reply->ok) {
      lane(it->second.to).probing = false;  // it answers: whole windows again
      bool durable = ack_is_durable(*reply);
      std::vector<uint64_t> kept = held_of(*reply);
      for (uint64_t pos : it->second.positions) {
        if (std::find(kept.begin(), kept.end(), pos) != kept.end()) {
          held(pos, it->second.to);
        } else {
          durable ? acknowledged(pos, it->second.to) : applied(pos, it->second.to);
        }
      }
      if (!durable) return;  // the durable ack follows on the same request id
    } else if (reply->error.code == errc::kUnavailable) {
      lane(it->second.to).probing = true;  // down or stopping: see Lane::probing
    } else {
      spdlog::warn("{}: handoff refused: {}", name_, reply->error.message);
    }
    in_flight_.erase(it);
  } else if (auto ask = asks_.find(reply->id); ask != asks_.end()) {
    Ask a = std::move(ask->second);
    asks_.erase(ask);
    Context ctx(*this, a.target);
    ctx.actor_ = a.actor;
    Result<wire::Reply> result(std::move(*reply));
    a.fn(ctx, result);
    settle(ctx);
  }
}

bool Worker::ack_is_durable(const wire::Reply& reply) {
  wire::Fields f(reply.body, "handoff ack");
  return f.opt_bool("durable").value_or(true);
}

// `by` holds the entry (not necessarily durably yet): replies waiting for it may go.
void Worker::applied(uint64_t pos, const std::string& by) {
  auto it = outbox_.find(pos);
  if (it == outbox_.end()) return;
  if (!remove_name(it->second.unapplied, by)) return;
  Lane& l = lane(by);
  if (auto u = l.unacked.find(pos); u != l.unacked.end()) u->second = monotonic_ms();
  l.backoff_ms = config_.timing.resend_min_ms;
  if (it->second.unapplied.empty()) release_waiters(pos);
}

// `by` holds the entry durably. It leaves the outbox when every destination does.
void Worker::acknowledged(uint64_t pos, const std::string& by) {
  applied(pos, by);
  auto it = outbox_.find(pos);
  if (it == outbox_.end()) return;
  if (!remove_name(it->second.to, by)) return;
  lane(by).unacked.erase(pos);
  lane(by).held.erase(pos);
  if (!it->second.to.empty()) return;
  outbox_.erase(it);
  txn_->del_lazily(keys::outbox(pos));
}

// `by` keeps the entry as an incident: the record stays, its reply waits, and `by` is
// asked about it again every resend_max_ms (ask_about_held) until an operator closes it.
void Worker::held(uint64_t pos, const std::string& by) {
  Lane& l = lane(by);
  if (!outbox_.contains(pos)) return;
  l.unacked.erase(pos);  // not resent with backoff: asked about every resend_max_ms instead
  if (!l.held.insert(pos).second) return;  // held still: said once already
  if (l.next_held_check_ms == 0)
    l.next_held_check_ms = monotonic_ms() + config_.timing.resend_max_ms;
  spdlog::warn("{}: {} holds handoff {} as an incident; its reply waits (closeloop incidents)",
               name_, by, pos);
}

// Sends the held entries again (a window's worth): the receiver answers held again, or,
// once an operator closed the incident, as done, and the entry leaves `held` (acknowledged()).
void Worker::ask_about_held(const std::string& to, Lane& l) {
  size_t asked = 0;
  for (auto it = l.held.begin(); it != l.held.end() && asked < kResendWindow; ++it, ++asked)
    l.fresh.push_back(*it);
  send_lane(to, l, false);
  l.next_held_check_ms = monotonic_ms() + config_.timing.resend_max_ms;
}

// A reply that has waited ten request timeouts for its handoffs is dropped: its client
// gave up long ago (and may ask again), and a sender waiting for a handoff ack resends.
// So a receiver that is down, or an entry held as an incident, cannot fill memory.
void Worker::expire_waiting() {
  int64_t now = monotonic_ms();
  if (now < next_waiting_check_ms_) return;
  next_waiting_check_ms_ = now + 1000;
  int64_t oldest = now - int64_t{config_.timing.request_timeout_ms} * 10;
  std::erase_if(waiting_, [&](const auto& kv) { return kv.second.since_ms < oldest; });
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    std::erase_if(it->second, [&](uint64_t id) { return !waiting_.contains(id); });
    it = it->second.empty() ? waiters_.erase(it) : std::next(it);
  }
}

// Called when every committed write is on disk: no outbox record below a lane's
// watermark can come back after a crash, so its receiver will never see those again.
void Worker::advance_watermarks() {
  for (auto& [to, l] : lanes_) l->watermark = watermark(to);
}

uint64_t Worker::watermark(const std::string& to) const {
  size_t looked = 0;
  for (const auto& [pos, record] : outbox_) {
    if (++looked > kWatermarkScan) return pos;
    if (std::find(record.sent_to.begin(), record.sent_to.end(), to) != record.sent_to.end())
      return pos;
  }
  // None in memory: the first record on disk only, if any of those names it.
  auto l = lanes_.find(to);
  bool on_disk = spill_from_ && l != lanes_.end() && l->second->on_disk > 0;
  return on_disk ? *spill_from_ : next_pos_;
}

bool Worker::mirror_full() const { return spill_from_ || outbox_.size() >= kOutboxMirror; }

// A record beyond the mirror: on disk only, counted per destination (for status and the
// watermark), sent once paged in.
void Worker::leave_on_disk(uint64_t pos, const std::vector<std::string>& to) {
  if (!spill_from_) spill_from_ = pos;
  for (const auto& destination : to) ++lane(destination).on_disk;
}

// Once acks have made a window's room, the records on disk come in, in position order,
// until the mirror is full again, as entries not sent yet: the lanes' resends send them, the
// lowest positions first, a window at a time, paced by their backoff (so a receiver gets them
// in order, after every earlier one). Called after a commit, so the scan sees every record.
void Worker::page_in_outbox() {
  if (!spill_from_ || outbox_.size() + kResendWindow > kOutboxMirror) return;
  std::optional<uint64_t> rest;
  store_->scan(
      keys::kOutboxPrefix,
      [&](std::string_view key, std::string_view value) {
        uint64_t pos = keys::outbox_pos(key);
        if (outbox_.size() >= kOutboxMirror) return (rest = pos), false;
        auto record = read_outbox_record(value);
        if (!record) return true;  // kept as an incident when the worker started
        for (const auto& destination : record->to)
          if (Lane& l = lane(destination); l.on_disk > 0) --l.on_disk;
        add_to_outbox(pos, std::move(record->to), std::move(record->entry));
        return true;
      },
      keys::outbox(*spill_from_));
  spdlog::debug("{}: paged in outbox records from {} ({} in memory{})", name_, *spill_from_,
                outbox_.size(), rest ? ", more on disk" : "");
  spill_from_ = rest;
}

uint64_t Worker::seen_floor(const std::string& from) {
  SeenFloor& f = seen_floors_[from];
  if (!f.loaded) {
    if (auto stored = store_->get(keys::seen_floor(from))) f.pruned = keys::read_be64(*stored);
    if (auto stored = store_->get(keys::sender_epoch(from))) f.epoch = keys::read_be64(*stored);
    f.watermark = std::max(f.watermark, f.pruned);
    f.loaded = true;
  }
  return f.watermark;
}

// A sender whose store began anew (a later epoch) counts its positions from 1 again: the
// markers of its earlier life are dropped, and its entries still held here as incidents
// are closed (that life will never ask about them again). A handoff from an earlier life
// than the one known is refused: that store is gone, and its positions mean nothing now.
Status Worker::take_epoch(const std::string& from, uint64_t epoch) {
  seen_floor(from);
  SeenFloor& f = seen_floors_[from];
  if (epoch == f.epoch) return ok_status();
  if (epoch < f.epoch)
    return Error{errc::kRefused, "handoff from an earlier life of " + from + " (epoch " +
                                     std::to_string(epoch) + ", now " + std::to_string(f.epoch) +
                                     ")"};
  size_t dropped = 0;
  store_->scan(keys::seen_prefix(from), [&](std::string_view key, std::string_view) {
    txn_->del(std::string(key));
    return ++dropped, true;
  });
  spdlog::log(dropped ? spdlog::level::warn : spdlog::level::debug,
              "{}: {} began anew (epoch {}, was {}): {} dedup markers of its earlier life dropped",
              name_, from, epoch, f.epoch, dropped);
  for (const incidents::Id& held : incidents::held_ids(*store_, name_))
    if (held.from == from)
      (void)incidents::close(*txn_, from, held.hid, incidents::kAcknowledged,
                             from + " epoch " + std::to_string(epoch), clock_.now_iso());
  txn_->del(keys::seen_floor(from));
  std::string value;
  keys::append_be64(value, epoch);
  txn_->put(keys::sender_epoch(from), value);
  f = SeenFloor{0, 0, epoch, true};
  return ok_status();
}

// Below `watermark` the sender will never send again (its records there are gone from
// disk), so the markers there only take space: deleted lazily (a lost delete only
// leaves a marker), a few hundred at a time.
void Worker::prune_seen(const std::string& from, uint64_t watermark) {
  if (watermark <= seen_floor(from)) return;
  SeenFloor& f = seen_floors_[from];
  f.watermark = watermark;
  if (watermark - f.pruned < kPruneEvery) return;
  std::string end = keys::seen(from, watermark);
  store_->scan(
      keys::seen_prefix(from),
      [&](std::string_view key, std::string_view) {
        if (key >= end) return false;
        txn_->del_lazily(std::string(key));
        return true;
      },
      keys::seen(from, f.pruned));
  std::string floor;
  keys::append_be64(floor, watermark);
  txn_->put(keys::seen_floor(from), floor);
  f.pruned = watermark;
}

void Worker::release_waiters(uint64_t pos) {
  auto w = waiters_.find(pos);
  if (w == waiters_.end()) return;
  for (uint64_t id : w->second) {
    auto waiting = waiting_.find(id);
    if (waiting != waiting_.end() && --waiting->second.pending == 0) {
      ready_.emplace_back(waiting->second.target, std::move(waiting->second.payload));
      waiting_.erase(waiting);
    }
  }
  waiters_.erase(w);
}

// Sends this turn's new entries (resend=false) or the oldest entries that have waited
// longer than the lane's backoff for an ack (resend=true), in messages of bounded size.
void Worker::send_lane(const std::string& to, Lane& l, bool resend) {
  int64_t now = monotonic_ms();
  std::vector<uint64_t> chosen;
  if (resend) {
    for (auto [pos, sent_ms] : l.unacked) {
      if (chosen.size() >= (l.probing ? kMaxEntriesPerMessage : kResendWindow)) break;
      if (now - sent_ms >= l.backoff_ms) chosen.push_back(pos);
    }
    if (chosen.empty()) return;
    spdlog::debug("{}: resending {} handoffs to {}", name_, chosen.size(), to);
    l.backoff_ms = std::min(l.backoff_ms * 2, config_.timing.resend_max_ms);
  } else {
    chosen.swap(l.fresh);
  }
  bool one_message = resend && l.probing;
  for (size_t i = 0; i < chosen.size() && !(one_message && i > 0);) {
    std::vector<uint64_t> batch;
    size_t bytes = 0;
    for (; i < chosen.size() && batch.size() < kMaxEntriesPerMessage && bytes < kMaxBytesPerMessage;
         ++i) {
      l.unacked[chosen[i]] = now;
      bytes += outbox_[chosen[i]].entry.size();
      batch.push_back(chosen[i]);
    }
    // Written in place, once: the entries are most of the message.
    uint64_t id = next_request_id();
    wire::Buffer message(bytes + 64 * batch.size() + 256);
    wire::write_request(message, "handoff", id, name_, [&](wire::Packer& pk) {
      pk.pack_map(3);  // who sends it is the broker's to say (accept_handoff)
      pk.pack("epoch"), pk.pack(epoch_);
      pk.pack("watermark"), pk.pack(l.watermark);
      pk.pack("entries"), pk.pack_array(static_cast<uint32_t>(batch.size()));
      for (uint64_t pos : batch) {
        pk.pack_map(2);
        pk.pack("hid"), pk.pack(pos);
        pk.pack("entry"), wire::pack_raw(message, outbox_[pos].entry);
      }
    });
    in_flight_[id] = {to, std::move(batch), now + config_.timing.resend_max_ms};
    send({backend::kRequest, to, wire::view(message)});
  }
}

// Acks this turn's receipts, durable or not yet; and, once synced, the earlier ones again.
void Worker::acknowledge_receipts() {
  bool durable = !txn_->has_unsynced();
  int64_t now = monotonic_ms();
  auto ack = [&](const Receipt& r) {  // an applied ack is followed by its durable one
    send({durable ? backend::kReply : backend::kInterim, r.target.route,
          wire::encode_reply(r.target.id, ack_body(r.count, durable, r.held))});
  };
  for (Receipt& r : receipts_) {
    ack(r);
    if (!durable) unsynced_receipts_.push_back({r.target, r.count, now, std::move(r.held)});
  }
  receipts_.clear();
  if (!durable) return;
  for (const Receipt& r : unsynced_receipts_) ack(r);
  unsynced_receipts_.clear();
}

}  // namespace closeloop
