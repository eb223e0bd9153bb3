// Building data dirs from what is consistent (backup/dump.h): `closeloop restore DIR
// --data-dir NEW` makes a whole one from a backup folder, and `closeloop rebuild STAGE` a
// stage worker's lost store from the running ledger. Both put each item the ledger holds
// with the worker that owns its stage, with the same code (StageRebuild).
//
// What a restored or rebuilt store starts with: no outbox and no dedup markers (nothing of
// its earlier life is in flight any more), and a new epoch (meta/epoch), so that its
// receivers drop the markers of the earlier life instead of taking its new handoffs for
// duplicates (worker/worker.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/store.h"

namespace closeloop::backup {

// The workers whose stores are rebuilt from the ledger's items.
inline const std::vector<std::string> kStageWorkers{"dispatch", "handle", "verify", "close"};

// The stage worker `name` names: a worker ("handle") or a stage it owns ("assigned").
Result<std::string> stage_worker(std::string_view name);

// A new store for one stage worker, filled with the items the ledger says it holds.
class StageRebuild {
 public:
  // Refuses a store that exists and is not empty (it is not lost: move it aside first).
  static Result<std::unique_ptr<StageRebuild>> begin(const std::string& data_dir,
                                                     const std::string& worker);
  // One of the ledger's item/<id> records: kept if this worker owns the item's stage.
  Status add(std::string_view key, std::string_view record);
  // Writes what is left, with the store's new epoch, synced, and puts the store where its
  // worker looks for it; the items it holds. Until then it is built beside, as
  // <worker>.rebuilding, and removed if never finished.
  Result<uint64_t> finish();
  ~StageRebuild();

 private:
  StageRebuild(std::string worker, std::string path, std::unique_ptr<Store> store)
      : worker_(std::move(worker)), path_(std::move(path)), store_(std::move(store)) {}
  Status write_batch();
  std::string building() const { return path_ + ".rebuilding"; }
  std::string worker_, path_;
  bool finished_ = false;
  std::unique_ptr<Store> store_;
  leveldb::WriteBatch batch_;
  uint64_t items_ = 0, pending_ = 0;
};

// Why a record of a backup is not restored (Restored::left_out_records).
inline constexpr const char* kEarlierLife = "earlier_life";  // outbox, dedup markers, epoch
inline constexpr const char* kInTransit = "in_transit";  // intake's, of a submit never acknowledged

// What a restore made. Of each part, in_backup = records + every count in left_out_records.
struct Restored {
  std::string taken_at;
  std::map<std::string, uint64_t> records;  // by store: ledger, intake, each stage worker
  std::map<std::string, uint64_t> in_backup;  // by part (ledger, intake): as the manifest says
  // By part, then by why (kEarlierLife, kInTransit): the records not restored.
  std::map<std::string, std::map<std::string, uint64_t>> left_out_records;
  uint64_t left_out = 0;  // intake's keys of submits the ledger had not recorded (in transit)
  uint64_t key_files = 0;
};

// Builds `data_dir` (new, or an empty folder) from the backup folder `dir`, checking every
// file against the manifest first; nothing is written into a data dir in use.
Result<Restored> restore(const std::string& dir, const std::string& data_dir);

// Whether a folder is absent or empty (a restore or a rebuild writes only there).
bool absent_or_empty(const std::string& path);

}  // namespace closeloop::backup
