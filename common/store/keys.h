// The one place that builds LevelDB keys. Every worker has its own database under
// data_dir/<worker>/ with this layout:
//
//   item/<id>                       current record of an item this worker holds
//   event/<id>/<seq: 8 bytes BE>    audit events (the ledger: every event of every item)
//   outbox/<pos: 8 bytes BE>        handoffs not yet acknowledged by their receiver
//   seen/<from>/<hid: 8 bytes BE>   handoffs already applied here (deduplication), pruned
//                                   below the sender's watermark (meta/seen_floor/<from>)
//   idem/<account>/<key>            submit idempotency keys, per account (intake)
//   idem/import:<key>               imported rows' keys (intake)
//   idem_expiry/<at ms: 8 bytes BE>/<idem key>  when a submit's cached reply was made (intake)
//   index/<name>/<value>/<id>       secondary indexes (ledger)
//   incident/<from>/<hid: 8 bytes BE> handoff entries not applied, with sender and reason
//   meta/<name>                     counters and the schema version; meta/epoch: when this
//                                   store began (its handoffs' positions count from there)
//   meta/epoch_of/<from>            the sender's epoch that its seen/ markers here belong to
//   account/<name>                  a person's account (ledger)
//   account_log/<seq: 8 bytes BE>   every change to an account, with its actor (ledger)
//   merkle/<level: 1 byte><index: 8 bytes BE>  a complete subtree of the ledger's Merkle tree
//   leaf/<id>/<seq: 8 bytes BE>     an event's leaf index in that tree (ledger)
//   account_leaf/<seq: 8 bytes BE>  an account change's leaf index in that tree (ledger)
//   checkpoint/<size: 8 bytes BE>   a signed checkpoint of the tree (ledger)
//   reload/<seq: 8 bytes BE>        every reload attempt (SIGHUP): {at, file, ok, reason, changed}
//
// Numbers in keys are fixed-width big-endian so that byte order is numeric order.
// Item ids and index values never contain '/', so prefixes cannot collide.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace closeloop::keys {

inline void append_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

inline uint64_t read_be64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i)
    v = v << 8 | static_cast<unsigned char>(bytes[i]);
  return v;
}

inline std::string join(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a).push_back('/');
  k.append(b);
  return k;
}

inline std::string item(std::string_view id) { return join("item", id); }

inline const std::string kEventPrefix = "event/";
inline std::string event_prefix(std::string_view id) { return join("event", id) + "/"; }
inline std::string event(std::string_view id, uint64_t seq) {
  std::string k = event_prefix(id);
  append_be64(k, seq);
  return k;
}
// The item and seq of an event key.
inline std::pair<std::string, uint64_t> event_of(std::string_view key) {
  std::string_view rest = key.substr(kEventPrefix.size());
  if (rest.size() < 9) return {std::string(rest), 0};
  return {std::string(rest.substr(0, rest.size() - 9)), read_be64(rest.substr(rest.size() - 8))};
}

inline const std::string kOutboxPrefix = "outbox/";
inline std::string outbox(uint64_t pos) {
  std::string k = kOutboxPrefix;
  append_be64(k, pos);
  return k;
}
// The position of an outbox key.
inline uint64_t outbox_pos(std::string_view key) {
  return read_be64(key.substr(kOutboxPrefix.size()));
}

inline std::string seen_prefix(std::string_view from) { return join("seen", from) + "/"; }
inline std::string seen(std::string_view from, uint64_t hid) {
  std::string k = seen_prefix(from);
  append_be64(k, hid);
  return k;
}
// The floor below which a sender's seen/ markers were pruned (its watermark then).
inline std::string seen_floor(std::string_view from) { return join("meta/seen_floor", from); }
// The epoch of a sender's store that its markers here belong to (meta/epoch is one's own).
inline std::string sender_epoch(std::string_view from) { return join("meta/epoch_of", from); }

inline std::string idempotency(std::string_view key) { return join("idem", key); }
// A submit's key is the account's own: idem/<account>/<key> (an import row's is global).
inline std::string submit_key(std::string_view account, std::string_view key) {
  return join("idem", account) + "/" + std::string(key);
}

// When a submit's reply was cached (ms since the epoch, the service's clock): intake
// walks these in time order and drops the replies older than idem_reply_ttl_days.
inline const std::string kIdemExpiryPrefix = "idem_expiry/";
inline std::string idem_expiry(uint64_t at_ms, std::string_view idem_key) {
  std::string k = kIdemExpiryPrefix;
  append_be64(k, at_ms);
  k.push_back('/');
  k.append(idem_key);
  return k;
}
inline uint64_t idem_expiry_at(std::string_view key) {
  return read_be64(key.substr(kIdemExpiryPrefix.size()));
}
// The idem/ key an expiry key names.
inline std::string_view idem_expiry_key(std::string_view key) {
  return key.size() < kIdemExpiryPrefix.size() + 9 ? std::string_view()
                                                   : key.substr(kIdemExpiryPrefix.size() + 9);
}

inline std::string index_prefix(std::string_view name, std::string_view value) {
  return join(join("index", name), value) + "/";
}
// Every entry of one index, whatever the value: index/<name>/
inline std::string index_all(std::string_view name) { return join("index", name) + "/"; }
inline std::string index(std::string_view name, std::string_view value, std::string_view id) {
  return index_prefix(name, value).append(id);
}

inline const std::string kIncidentPrefix = "incident/";
inline std::string incident(std::string_view from, uint64_t hid) {
  std::string k = join("incident", from) + "/";
  append_be64(k, hid);
  return k;
}
// The sender and position an incident key names.
inline std::pair<std::string, uint64_t> incident_of(std::string_view key) {
  std::string_view rest = key.substr(kIncidentPrefix.size());
  if (rest.size() < 9) return {std::string(rest), 0};
  return {std::string(rest.substr(0, rest.size() - 9)), read_be64(rest.substr(rest.size() - 8))};
}

inline std::string meta(std::string_view name) { return join("meta", name); }

// The ledger's read audit: read/<seq>, one record per read request (not in any trail).
inline const std::string kReadPrefix = "read/";
inline std::string read(uint64_t seq) {
  std::string k = kReadPrefix;
  append_be64(k, seq);
  return k;
}

// The ledger's accounts and their log of changes.
inline const std::string kAccountPrefix = "account/";
inline std::string account(std::string_view name) { return kAccountPrefix + std::string(name); }
inline const std::string kAccountLogPrefix = "account_log/";
inline std::string account_log(uint64_t seq) {
  std::string k = kAccountLogPrefix;
  append_be64(k, seq);
  return k;
}

// The ledger's Merkle tree (services/ledger/checkpoints.h): the hash of the complete
// subtree at (level, index), each event's leaf index, and the checkpoints signed.
inline std::string merkle_node(int level, uint64_t index) {
  std::string k = "merkle/";
  k.push_back(static_cast<char>(level));
  append_be64(k, index);
  return k;
}
inline const std::string kLeafPrefix = "leaf/";
inline std::string leaf_prefix(std::string_view id) { return join("leaf", id) + "/"; }
inline std::string leaf(std::string_view id, uint64_t seq) {
  std::string k = leaf_prefix(id);
  append_be64(k, seq);
  return k;
}
inline const std::string kAccountLeafPrefix = "account_leaf/";
inline std::string account_leaf(uint64_t log_seq) {
  std::string k = kAccountLeafPrefix;
  append_be64(k, log_seq);
  return k;
}
inline std::string checkpoint(uint64_t size) {
  std::string k = "checkpoint/";
  append_be64(k, size);
  return k;
}

// Every reload attempt of this worker's config, accepted or refused (worker/worker.h).
inline const std::string kReloadPrefix = "reload/";
inline std::string reload(uint64_t seq) {
  std::string k = kReloadPrefix;
  append_be64(k, seq);
  return k;
}

}  // namespace closeloop::keys
