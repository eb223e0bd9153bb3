// A worker's side of `closeloop backup` (docs/operations.md, "Backups"): its records as
// they were at one moment, read by a client in chunks for as long as that takes, while the
// worker goes on taking commands.
//
// `backup` {part, session, after, prefix} goes to the ledger (admin only; security/rights).
// part "ledger" is read there; "intake" is asked of intake by the ledger; "keys" is the
// service's key files, read by the ledger. The first request of a part (session 0) takes a
// snapshot and opens a session on it; each reply carries the session, a chunk of records
// after `after` (backup/dump.h's form), the last key in it and whether it was the end.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "store/store.h"

namespace closeloop {

// Snapshots held for backups being read: at most a few, each dropped when read to its end
// or when left unread for a minute (a snapshot keeps LevelDB from freeing what it covers).
class SnapshotSessions {
 public:
  uint64_t open(std::shared_ptr<const Snapshot> snapshot, int64_t now_ms);
  // The session's snapshot (nullptr: unknown or expired); `now_ms` keeps it alive.
  std::shared_ptr<const Snapshot> find(uint64_t id, int64_t now_ms);
  void close(uint64_t id) { sessions_.erase(id); }
  void expire(int64_t now_ms);
  void clear() { sessions_.clear(); }

 private:
  struct Session {
    std::shared_ptr<const Snapshot> snapshot;
    int64_t last_used_ms = 0;
  };
  std::map<uint64_t, Session> sessions_;
  uint64_t next_id_ = 1;
};

// One reply's worth of records from `db` within `prefix`, after key `after` (all from the
// start when empty), up to about `max_bytes`: the reply body, without the session.
struct BackupChunk {
  std::string records;  // backup/dump.h's form
  uint64_t count = 0;
  std::string last;  // the last key in it
  bool done = false;
};
BackupChunk read_backup_chunk(const Reader& db, std::string_view prefix, std::string_view after,
                              size_t max_bytes);

// The service's key files (data_dir/keys): the reply body of part "keys".
Result<std::string> key_files_body(const std::string& keys_dir);

}  // namespace closeloop
