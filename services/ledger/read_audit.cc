#include "read_audit.h"

#include "store/keys.h"

namespace closeloop::ledger {

Result<std::string> read_via(const msgpack::object& body) {
  wire::Fields f(body, "body");
  std::string via = f.opt_str("via", 16).value_or("");
  if (!f.ok()) return f.error();
  if (via.empty() || via == "export" || via == "bundle") return via;
  return Error::of(errc::kInvalid, N_("{field}: a read serves export or bundle, not '{value}'"),
                   {{"value", via}}, "via");
}

void ReadAudit::load(const Reader& store) {
  if (auto next = store.get(keys::meta("next_read"))) next_ = keys::read_be64(*next);
}

void ReadAudit::record(Context& ctx, const wire::Request& request, const ReadRequest& read,
                       const Status& result) {
  const security::Actor& actor = ctx.actor();
  if (actor.worker) return;
  uint64_t seq = next_++;
  std::string next;
  keys::append_be64(next, next_);
  ctx.txn().put(keys::meta("next_read"), next);
  wire::MapBuilder record;
  record.add("seq", seq).add("at", ctx.clock().now_iso()).add("actor", actor.name);
  record.add_nonempty("gateway", actor.gateway).add("verb", request.type);
  record.add_raw(read.key, wire::encode_json(read.what));
  if (!read.after.is_null()) record.add_raw("after", wire::encode_json(read.after));
  record.add_nonempty("via", read.via).add("result", result ? std::string("ok") : result.error().code);
  ctx.txn().put(keys::read(seq), record.finish());
}

}  // namespace closeloop::ledger
