// The read audit (docs/security.md, "The read audit"): every read a person asks for
// leaves one record, read/<seq>, in the turn's batch that answers it — every page of a
// list or trail, and a refused read as well as a real one:
//
//   {seq, at, actor, gateway?, verb, item | query, after?, via?, result}
//
// `actor` is the account that read, `gateway` the gateway it came through (both as the
// broker authenticated them); `after` marks a later page; `via` the composed command the
// read serves (export or bundle), checked against the actor's rights before it is taken;
// `result` "ok" or the refusal's code. It is in no item's trail, so reading changes no
// chain. A worker's reads (locating an item, the timer's scans) are not a person's and
// are not recorded.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "store/store.h"
#include "wire/json.h"
#include "worker/worker.h"

namespace closeloop::ledger {

// What one read asked for.
struct ReadRequest {
  const char* key = "query";  // "item" for a read of one item, else "query"
  wire::Json what;            // the item's id, or the query's fields
  wire::Json after;           // the page it continues after (null: the first)
  std::string via;            // export or bundle, when the read serves one
};

// The `via` of a read's body: "", "export" or "bundle"; anything else is invalid.
Result<std::string> read_via(const msgpack::object& body);

class ReadAudit {
 public:
  void load(const Reader& store);
  // Records `read` by the request's actor with its outcome, in this turn's batch.
  void record(Context& ctx, const wire::Request& request, const ReadRequest& read,
              const Status& result);

 private:
  uint64_t next_ = 1;  // the next record's seq (meta/next_read)
};

}  // namespace closeloop::ledger
