#include "checkpoints.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "accounts.h"
#include "security/merkle.h"
#include "store/keys.h"
#include "wire/codec.h"
#include "workflow/event.h"

namespace closeloop::ledger {
namespace {

using security::Hash;

// A ledger made before the tree commits its events to it in batches of this many.
constexpr size_t kMigrationBatch = 10000;

std::string_view bytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

std::optional<Hash> as_hash(const std::optional<std::string>& stored) {
  if (!stored || stored->size() != sizeof(Hash)) return std::nullopt;
  Hash hash;
  std::memcpy(hash.data(), stored->data(), hash.size());
  return hash;
}

// The stored nodes as this turn sees them (its own pending writes first).
security::NodeReader nodes_of(const Txn& txn) {
  return [&txn](int level, uint64_t index) {
    return as_hash(txn.get(keys::merkle_node(level, index)));
  };
}
security::NodeReader nodes_of(const Reader& db) {
  return
      [&db](int level, uint64_t index) { return as_hash(db.get(keys::merkle_node(level, index))); };
}

std::vector<std::string> hex_list(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const Hash& h : hashes) out.push_back(security::to_hex(h));
  return out;
}

std::string be64(uint64_t v) {
  std::string out;
  keys::append_be64(out, v);
  return out;
}

uint64_t stored_number(const Reader& db, const std::string& key) {
  auto stored = db.get(key);
  return stored ? keys::read_be64(*stored) : 0;
}

// `why` is a technical finding (a node, a leaf), for whoever looks into the ledger's files.
Error untrue(const std::string& why) {
  return Error::of(errc::kInvalid, N_("the ledger's tree does not answer for its records: {reason}"),
                   {{"reason", why}});
}

// A record on disk, `what` (an event, an account change), against the leaf its index
// (`index_key`) names: `leaf` is recomputed from the record's bytes (nullopt: they cannot
// be made a leaf). Marks the leaf as held.
Status check_leaf(const Reader& db, const std::string& what, const std::string& index_key,
                  const std::optional<Hash>& leaf, std::vector<bool>& held) {
  auto index = db.get(index_key);
  if (!index || index->size() != 8) return untrue(what + " has no leaf in the tree");
  uint64_t i = keys::read_be64(*index);
  auto stored = as_hash(db.get(keys::merkle_node(0, i)));
  if (!leaf || !stored || *leaf != *stored)
    return untrue(what + " no longer hashes to its leaf " + std::to_string(i) +
                  ": the record on disk is not the one recorded");
  if (i < held.size() && held[i])
    return untrue(what + " names leaf " + std::to_string(i) + ", which another record holds");
  if (i < held.size()) held[i] = true;
  return ok_status();
}

// Event (item, seq) as stored, `value`, against its leaf.
Status check_event_leaf(const Reader& db, const std::string& item, uint64_t seq,
                        std::string_view value, std::vector<bool>& held) {
  auto decoded = wire::decode(value.data(), value.size());
  auto data = decoded ? event_hashed_bytes(decoded->get()) : Result<std::string>(decoded.error());
  std::optional<Hash> leaf;
  if (data) leaf = security::leaf_hash(*data);
  return check_leaf(db, "item " + item + " at seq " + std::to_string(seq), keys::leaf(item, seq),
                    leaf, held);
}

// Every node of the tree of `size` leaves above level 0 is the hash of the two below it.
Status check_nodes(const Reader& db, uint64_t size) {
  for (int level = 0; (size >> (level + 1)) > 0; ++level) {
    uint64_t count = size >> level, next = 0;
    std::optional<Hash> left;
    Status status = ok_status();
    std::string prefix = keys::merkle_node(level, 0).substr(0, 8);  // merkle/<level>
    db.scan(prefix, [&](std::string_view key, std::string_view value) {
      uint64_t index = keys::read_be64(key.substr(key.size() - 8));
      if (index >= count) return false;  // beyond the tree of `size` leaves
      auto hash = as_hash(std::string(value));
      if (index != next || !hash) {
        status = untrue("node " + std::to_string(level) + "/" + std::to_string(next) +
                        " is missing or not a hash");
        return false;
      }
      ++next;
      if (index % 2 == 0) {
        left = hash;
        return true;
      }
      auto parent = as_hash(db.get(keys::merkle_node(level + 1, index / 2)));
      if (!parent || *parent != security::node_hash(*left, *hash))
        status = untrue("node " + std::to_string(level + 1) + "/" + std::to_string(index / 2) +
                        " is not the hash of the two below it");
      return status.ok();
    });
    if (!status) return status;
    if (next < count)
      return untrue("node " + std::to_string(level) + "/" + std::to_string(next) + " is missing");
  }
  return ok_status();
}

// Whether the stored tree answers for the records stored now: every event's and account
// change's leaf recomputed from its bytes on disk, every leaf held by one record, every
// node the hash of its two below; and every account what its log says. O(records); the
// reader thread.
Status check_tree(const Reader& db, uint64_t size) {
  std::vector<bool> held(size);
  Status status = ok_status();
  db.scan(keys::kEventPrefix, [&](std::string_view key, std::string_view value) {
    auto [item, seq] = keys::event_of(key);
    status = check_event_leaf(db, item, seq, value, held);
    return status.ok();
  });
  if (!status) return status;
  db.scan(keys::kAccountLogPrefix, [&](std::string_view key, std::string_view value) {
    uint64_t seq = keys::read_be64(key.substr(keys::kAccountLogPrefix.size()));
    status = check_leaf(db, "account change " + std::to_string(seq), keys::account_leaf(seq),
                        security::account_leaf_hash(value), held);
    return status.ok();
  });
  if (!status) return status;
  for (uint64_t i = 0; i < size; ++i)
    if (!held[i]) return untrue("leaf " + std::to_string(i) + " has no event or account change on disk");
  if (auto unlike = accounts_unlike_their_log(db); !unlike.empty())
    return untrue(unlike.begin()->second);
  return check_nodes(db, size);
}

}  // namespace

Status Checkpoints::load(Store& store, const std::string& signing_key_path) {
  auto key = security::own_signing_key(signing_key_path);
  if (!key) return key.error();
  key_ = std::move(*key);
  bool made_now = false;  // a tree (re)built from the events: the account changes follow
  if (auto size = store.get(keys::meta("tree_size"))) {
    size_ = keys::read_be64(*size);
  } else if (Status migrated = migrate(store); !migrated) {
    return migrated;
  } else {
    made_now = true;
  }
  if (Status joined = migrate_accounts(store, made_now); !joined) return joined;
  saved_size_ = size_;
  if (auto latest = store.get(keys::meta("latest_checkpoint"))) latest_ = keys::read_be64(*latest);
  spdlog::info("ledger: the Merkle tree holds {} leaves (events and account changes); "
               "checkpoints signed by {}",
               size_, key_.public_key);
  return ok_status();
}

// Account changes recorded before they were leaves join the tree once, after every leaf
// already there, in seq order; all of them when the tree was made anew from the events.
Status Checkpoints::migrate_accounts(Store& store, bool all) {
  Txn txn(store, /*sync=*/true);
  uint64_t joined = 0;
  Status status = ok_status();
  store.scan(keys::kAccountLogPrefix, [&](std::string_view key, std::string_view value) {
    uint64_t seq = keys::read_be64(key.substr(keys::kAccountLogPrefix.size()));
    if (!all && store.get(keys::account_leaf(seq))) return true;
    status = append_account(txn, seq, value);
    ++joined;
    return status.ok();
  });
  if (!status || joined == 0) return status;
  spdlog::info("ledger: put the {} account changes recorded before they were leaves into the tree",
               joined);
  txn.put(keys::meta("tree_size"), be64(size_));
  return txn.commit();
}

// A ledger made before the tree has events and no tree: they join it in key order (item,
// then seq), as if recorded so. An event that cannot be made a leaf stays out, logged; a
// bundle of its item then says it has no inclusion proof.
Status Checkpoints::migrate(Store& store) {
  Txn txn(store, /*sync=*/true);
  size_t pending = 0;
  Status status = ok_status();
  store.scan(keys::kEventPrefix, [&](std::string_view key, std::string_view value) {
    auto [item, seq] = keys::event_of(key);
    auto decoded = wire::decode(value.data(), value.size());
    Status added = decoded ? append(txn, item, seq, decoded->get()) : Status(decoded.error());
    if (!added)
      spdlog::error("ledger: event {}/{} stays out of the tree: {}", item, seq,
                    added.error().message);
    if (++pending % kMigrationBatch == 0) status = txn.commit();
    return status.ok();
  });
  if (!status) return status;
  if (size_ > 0) spdlog::info("ledger: put the {} events recorded before the tree into it", size_);
  txn.put(keys::meta("tree_size"), be64(size_));
  return txn.commit();
}

Status Checkpoints::append(Txn& txn, std::string_view item, uint64_t seq,
                           const msgpack::object& event) {
  auto data = event_hashed_bytes(event);
  if (!data) return data.error();
  return add_leaf(txn, security::leaf_hash(*data), keys::leaf(item, seq));
}

Status Checkpoints::append_account(Txn& txn, uint64_t log_seq, std::string_view record) {
  return add_leaf(txn, security::account_leaf_hash(record), keys::account_leaf(log_seq));
}

// The leaf joins the tree as leaf number size_; `index_key` remembers where.
Status Checkpoints::add_leaf(Txn& txn, const Hash& leaf, const std::string& index_key) {
  auto nodes = security::append(nodes_of(txn), size_, leaf);
  if (!nodes) return nodes.error();
  for (const security::Node& node : *nodes)
    txn.put(keys::merkle_node(node.level, node.index), bytes(node.hash));
  txn.put(index_key, be64(size_++));
  return ok_status();
}

void Checkpoints::on_turn(Context& ctx) {
  if (size_ != saved_size_) {  // once per turn, however many events it appended
    ctx.txn().put(keys::meta("tree_size"), be64(size_));
    saved_size_ = size_;
  }
  bool grew = size_ > 0 && (!latest_ || size_ > *latest_);
  bool due = last_signed_ms_ == 0 || monotonic_ms() - last_signed_ms_ >= ctx.config().checkpoint_ms;
  if (!grew || !due) return;
  if (Status s = sign(ctx.txn(), ctx.clock()); !s)
    spdlog::error("ledger: cannot sign a checkpoint: {}", s.error().message);
}

Status Checkpoints::sign_on_demand(Txn& txn, const Clock& clock, bool fresh) {
  bool covered = latest_ && (!fresh || *latest_ >= size_);
  return covered ? ok_status() : sign(txn, clock);
}

Status Checkpoints::sign(Txn& txn, const Clock& clock) {
  auto root = security::root(nodes_of(txn), size_);
  if (!root) return root.error();
  security::Checkpoint signed_now = security::sign(key_, size_, *root, clock.now_iso());
  txn.put(keys::checkpoint(size_), wire::encode_json(security::to_json(signed_now)));
  txn.put(keys::meta("latest_checkpoint"), be64(size_));
  latest_ = size_;
  last_signed_ms_ = monotonic_ms();
  return ok_status();
}

Result<std::string> checkpoint(const Reader& db, const QueryEnv&, const wire::Json& fields) {
  auto latest = db.get(keys::meta("latest_checkpoint"));
  auto record = latest ? db.get(keys::checkpoint(keys::read_be64(*latest))) : std::nullopt;
  if (!record) return Error::of(errc::kInternal, N_("the ledger has signed no checkpoint"));
  uint64_t size = keys::read_be64(*latest);
  wire::MapBuilder reply;
  reply.add_raw("checkpoint", *record);
  if (!fields.contains("old_size")) return reply.finish();
  uint64_t old_size = fields["old_size"].get<uint64_t>();
  if (old_size > size)
    return Error::of(errc::kInvalid,
                     N_("the ledger's latest checkpoint covers {size} leaves, fewer than {old_size}: "
                        "its tree cannot extend one of {old_size}"),
                     {{"size", std::to_string(size)}, {"old_size", std::to_string(old_size)}});
  // A proof from stored nodes says nothing of events altered beneath them: recompute.
  if (Status whole = check_tree(db, stored_number(db, keys::meta("tree_size"))); !whole)
    return whole.error();
  auto proof = security::consistency_proof(nodes_of(db), old_size, size);
  if (!proof) return proof.error();
  return reply.add("proof", hex_list(*proof)).finish();
}

Result<std::string> proofs(const Reader& db, const QueryEnv& env, const std::string& item,
                           const wire::Json& fields) {
  uint64_t size = fields.value("size", uint64_t{0}), after = fields.value("after", uint64_t{0});
  uint64_t tree = stored_number(db, keys::meta("tree_size"));
  if (size > tree)
    return Error::of(errc::kInvalid, N_("{field}: the ledger's tree holds {tree} leaves, not {size}"),
                     {{"tree", std::to_string(tree)}, {"size", std::to_string(size)}}, "size");
  std::vector<std::string> entries;
  size_t budget = env.reply_bytes, used = 0;
  bool more = false;
  Status status = ok_status();
  db.scan(
      keys::leaf_prefix(item),
      [&](std::string_view key, std::string_view value) {
        uint64_t seq = keys::read_be64(key.substr(key.size() - 8)), index = keys::read_be64(value);
        if (index >= size) return true;  // recorded after that checkpoint: not in its tree
        auto path = security::inclusion_proof(nodes_of(db), index, size);
        if (!path) return (status = path.error()).ok();
        std::string entry = wire::MapBuilder()
                                .add("seq", seq)
                                .add("index", index)
                                .add("path", hex_list(*path))
                                .finish();
        if (!entries.empty() && used + entry.size() > budget) return !(more = true);
        used += entry.size();
        entries.push_back(std::move(entry));
        return true;
      },
      keys::leaf(item, after + 1));
  if (!status) return status.error();
  if (entries.empty() && after == 0 && !db.get(keys::item(item)))
    return Error::of(errc::kNotFound, N_("unknown item {item}"), {{"item", item}});
  wire::Buffer array;
  wire::Packer(array).pack_array(static_cast<uint32_t>(entries.size()));
  for (const std::string& e : entries) wire::pack_raw(array, e);
  wire::MapBuilder reply;
  reply.add_raw("proofs", wire::view(array));
  if (more) reply.add("more", true);
  return reply.finish();
}

}  // namespace closeloop::ledger
