// The ledger's tamper evidence against whoever controls its disk (docs/security.md,
// "Signed checkpoints"): a Merkle tree (RFC 6962, security/merkle.h) over every event in
// the order the ledger recorded it, and checkpoints of it signed with the ledger's own
// Ed25519 key (security/checkpoint.h).
//
// An event's leaf is the bytes its chain hash covers (event_hashed_bytes(): the previous
// hash, then the canonical form), so a verifier recomputes it from the event alone, as a
// bundle holds it. An account change's leaf is its account_log record (leaf prefix 0x02,
// security/merkle.h), so an account rewritten on disk shows against a checkpoint too. The
// tree's size counts leaves: events and account changes. Stored, in the turn's batch that
// stores the event or the change:
//
//   merkle/<level: 1 byte><index: 8 bytes BE>  the hash of each complete subtree
//   leaf/<item>/<seq: 8 bytes BE>             the event's leaf index
//   account_leaf/<seq: 8 bytes BE>            the account change's leaf index
//   meta/tree_size                            leaves, saved once per turn
//   checkpoint/<size: 8 bytes BE>             every checkpoint signed {size, root, at, key,
//                                             signature}; meta/latest_checkpoint its size
//
// Memory holds the size and the latest checkpoint's size only; a root or a proof costs
// O(log n) reads. A checkpoint is signed at the first turn after `checkpoint_ms` since the
// last one when the tree grew, and on demand (sign_on_demand) for the `checkpoint` query's
// `fresh` and for a ledger that has none yet.
//
// A checkpoint leaves the process only in answer to a request, after an fsync
// (make_durable()): a published checkpoint never covers a leaf that a power cut could
// still take back and a resend put elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "queries.h"
#include "security/checkpoint.h"
#include "store/store.h"
#include "worker/worker.h"

namespace closeloop::ledger {

class Checkpoints {
 public:
  // Reads the tree's state and the signing key (made at the first start), and puts the
  // events of a ledger made before the tree existed into it, in key order; then the
  // account changes not in it yet (a ledger made before they were leaves), in seq order,
  // after every leaf there: checkpoints kept elsewhere still verify.
  Status load(Store& store, const std::string& signing_key_path);

  // Appends the leaf of event (item, seq), `event` as received, in this turn's batch.
  // Error (and nothing written) for an event whose canonical form cannot be made.
  Status append(Txn& txn, std::string_view item, uint64_t seq, const msgpack::object& event);
  // Appends the leaf of account change `log_seq` (its account_log record, as stored), in
  // this turn's batch: account changes are in the tree beside the events.
  Status append_account(Txn& txn, uint64_t log_seq, std::string_view record);

  // Once per turn, after its appends: saves the size, and signs a checkpoint when
  // checkpoint_ms has passed since the last one and the tree grew.
  void on_turn(Context& ctx);

  // Signs a checkpoint of the whole tree now: when the ledger has none yet, or, with
  // `fresh`, when the latest does not cover every event.
  Status sign_on_demand(Txn& txn, const Clock& clock, bool fresh);

  // fsyncs every committed write before an answer publishes a checkpoint over them.
  static Status make_durable(Txn& txn) { return txn.sync(); }

 private:
  Status sign(Txn& txn, const Clock& clock);
  Status migrate(Store& store);
  Status migrate_accounts(Store& store, bool all);
  Status add_leaf(Txn& txn, const security::Hash& leaf, const std::string& index_key);

  security::SigningKey key_;
  uint64_t size_ = 0, saved_size_ = 0;
  std::optional<uint64_t> latest_;  // the latest checkpoint's size
  int64_t last_signed_ms_ = 0;      // monotonic; 0: not since this start
};

// The `checkpoint` query: {checkpoint} (the latest), and with `old_size` {proof: [hex]},
// the consistency proof from the tree of that size — once the stored tree is shown to
// answer for the events stored now: every event's leaf recomputed from its bytes on disk
// (event_hashed_bytes) against the leaf its leaf/ index names, every leaf held by one
// event, every node the hash of the two below it. O(events), on the reader thread; an
// error (invalid) names the first event (item and seq) or node that fails.
Result<std::string> checkpoint(const Reader& db, const QueryEnv& env, const wire::Json& fields);
// The `proofs` query for one item: {proofs: [{seq, index, path: [hex]}], more?}, each event's
// leaf index and inclusion proof in the tree of `size` leaves, in seq order, paged.
Result<std::string> proofs(const Reader& db, const QueryEnv& env, const std::string& item,
                           const wire::Json& fields);

}  // namespace closeloop::ledger
