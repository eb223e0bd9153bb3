// A worker's LevelDB, and the transaction that a group commit assembles.
//
// Store owns the database (one process per database: LevelDB locks it). Txn
// collects the writes of every message handled in one loop turn; reads through the
// Txn see its own pending writes first, so two messages in the same batch see each
// other. commit() writes everything in one WriteBatch, synced when the config says
// so (the default). A failed write is fatal by design: LevelDB refuses all later
// writes, so the worker exits and its supervisor restarts it (crash-only).
// A failure that is the disk's doing (full, failing) is an Error with code `unavailable`
// and the cause in plain words ("the disk is full (No space left on device)"); any other
// is `internal`.
// Not thread-safe; each worker uses its Store from its single loop thread.
#pragma once

#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/result.h"

namespace closeloop {

// Reads: point lookups and ordered prefix scans, of the live database or a snapshot.
class Reader {
 public:
  using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;
  virtual ~Reader() = default;
  virtual std::optional<std::string> get(const std::string& key) const = 0;
  // Calls fn(key, value) for each key starting with prefix, in order, while it returns
  // true; starting at `from` if that is past the prefix.
  virtual void scan(std::string_view prefix, const ScanFn& fn, std::string_view from = {}) const = 0;
};

// The database as it was when snapshot() was called, for reads on another thread while
// the worker goes on writing (LevelDB reads are thread-safe). REQUIRES: destroyed before
// the Store.
class Snapshot : public Reader {
 public:
  ~Snapshot() override;
  std::optional<std::string> get(const std::string& key) const override;
  void scan(std::string_view prefix, const ScanFn& fn, std::string_view from = {}) const override;

 private:
  friend class Store;
  Snapshot(leveldb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
};

class Store : public Reader {
 public:
  // Opens (creating if missing) and proves the disk takes a synced write: LevelDB writes
  // at every open, yet a write may still fit where a new file does not.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  std::optional<std::string> get(const std::string& key) const override;
  void scan(std::string_view prefix, const ScanFn& fn, std::string_view from = {}) const override;
  Status write(leveldb::WriteBatch* batch, bool sync);
  std::unique_ptr<Snapshot> snapshot() const;

 private:
  Store(std::unique_ptr<leveldb::DB> db, std::unique_ptr<const leveldb::FilterPolicy> filter)
      : filter_(std::move(filter)), db_(std::move(db)) {}
  std::unique_ptr<const leveldb::FilterPolicy> filter_;  // outlives db_, which uses it
  std::unique_ptr<leveldb::DB> db_;
};

// Whether a write that failed with `error` left nothing behind: the disk refused the write
// itself (full, quota, read-only), as Linux reports those; a torn log record is dropped when
// LevelDB reads its log. After an I/O error, or a failed fsync, the record may still be found.
bool nothing_written(const Error& error);

class Txn {
 public:
  // sync: whether durable changes are fsynced before commit() returns (config `sync`).
  Txn(Store& store, bool sync) : store_(store), sync_(sync) {}

  std::optional<std::string> get(const std::string& key) const;
  void put(const std::string& key, std::string_view value);
  void del(const std::string& key);
  // A delete whose loss in a power cut is harmless (e.g. an acknowledged outbox
  // entry: losing the delete only causes a duplicate send, which receivers ignore).
  // A batch of only such changes is written without fsync.
  void del_lazily(const std::string& key);
  bool empty() const { return pending_.empty(); }
  // The committed state, for scans (they do not see pending changes).
  const Store& store() const { return store_; }
  // Writes every pending change in one batch; the Txn is empty afterwards. With
  // defer_sync the batch is written (so it survives a kill -9, in the OS's page
  // cache) but not fsynced: it becomes durable with the next synced commit or sync().
  Status commit(bool defer_sync = false);
  // Whether commit(defer_sync) would fsync (for the worker's fsync figures).
  bool syncs_on_commit(bool defer_sync) const { return sync_ && durable_ && !defer_sync; }
  // Whether committed writes are waiting for an fsync (never, when the config says
  // sync = false: then nothing is ever synced, by choice).
  bool has_unsynced() const { return unsynced_; }
  // Whether every committed write, lazy deletes included, is on disk (always, when the
  // config says sync = false).
  bool settled() const { return !written_unsynced_; }
  // Makes every committed write durable.
  Status sync();

 private:
  Store& store_;
  bool sync_;
  bool durable_ = false;   // holds a change that must be synced
  bool unsynced_ = false;  // committed changes wait for an fsync
  bool written_unsynced_ = false;  // so do lazy deletes, at least
  leveldb::WriteBatch batch_;
  std::unordered_map<std::string, std::optional<std::string>> pending_;
};

}  // namespace closeloop
