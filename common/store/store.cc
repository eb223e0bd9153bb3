#include "store/store.h"

#include <leveldb/filter_policy.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace closeloop {

namespace {

constexpr const char* kDiskFull = "the disk is full";
constexpr const char* kQuotaFull = "the disk quota is used up";
constexpr const char* kReadOnly = "the disk is read-only";

// What went wrong, in an operator's words, when it is the disk's doing: LevelDB's
// PosixEnv reports errno as strerror() text in its IOError.
std::optional<std::string> disk_trouble(std::string_view message) {
  struct Cause {
    int error;
    const char* words;
  };
  static const Cause kCauses[] = {{ENOSPC, kDiskFull},
                                  {EDQUOT, kQuotaFull},
                                  {EIO, "the disk failed to write"},
                                  {EROFS, kReadOnly}};
  for (const Cause& c : kCauses) {
    std::string text = std::strerror(c.error);
    if (message.find(text) != std::string_view::npos)
      return std::string(c.words) + " (" + text + ")";
  }
  return std::nullopt;
}

Error storage_error(const std::string& what, const std::string& detail) {
  if (auto trouble = disk_trouble(detail)) return Error{errc::kUnavailable, *trouble};
  return Error{errc::kInternal, what + ": " + detail};
}

}  // namespace

bool nothing_written(const Error& error) {
  for (const char* cause : {kDiskFull, kQuotaFull, kReadOnly})
    if (error.message.starts_with(cause)) return true;
  return false;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return storage_error("cannot create " + path, ec.message());
  auto filter = std::unique_ptr<const leveldb::FilterPolicy>(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 32 << 20;
  options.compression = leveldb::kNoCompression;
  options.filter_policy = filter.get();
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  if (!s.ok()) return storage_error("cannot open " + path, s.ToString());
  std::unique_ptr<Store> store(new Store(std::unique_ptr<leveldb::DB>(raw), std::move(filter)));
  leveldb::WriteBatch empty;  // a log record of a few bytes, fsynced
  if (Status probe = store->write(&empty, true); !probe) return probe.error();
  return store;
}

namespace {

std::optional<std::string> get_at(leveldb::DB* db, const leveldb::ReadOptions& options,
                                  const std::string& key) {
  std::string value;
  if (db->Get(options, key, &value).ok()) return value;
  return std::nullopt;
}

void scan_at(leveldb::DB* db, const leveldb::ReadOptions& options, std::string_view prefix,
             const Reader::ScanFn& fn, std::string_view from) {
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
  std::string_view start = from > prefix ? from : prefix;
  for (it->Seek(leveldb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
}

leveldb::ReadOptions at_snapshot(const leveldb::Snapshot* snapshot) {
  leveldb::ReadOptions options;
  options.snapshot = snapshot;
  options.fill_cache = false;  // a long scan should not evict what the commands use
  return options;
}

}  // namespace

std::optional<std::string> Store::get(const std::string& key) const {
  return get_at(db_.get(), leveldb::ReadOptions(), key);
}

void Store::scan(std::string_view prefix, const ScanFn& fn, std::string_view from) const {
  scan_at(db_.get(), leveldb::ReadOptions(), prefix, fn, from);
}

std::unique_ptr<Snapshot> Store::snapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(db_.get()));
}

Snapshot::~Snapshot() { db_->ReleaseSnapshot(snapshot_); }

std::optional<std::string> Snapshot::get(const std::string& key) const {
  return get_at(db_, at_snapshot(snapshot_), key);
}

void Snapshot::scan(std::string_view prefix, const ScanFn& fn, std::string_view from) const {
  scan_at(db_, at_snapshot(snapshot_), prefix, fn, from);
}

Status Store::write(leveldb::WriteBatch* batch, bool sync) {
  leveldb::WriteOptions options;
  options.sync = sync;
  leveldb::Status s = db_->Write(options, batch);
  if (!s.ok()) return storage_error("LevelDB write failed", s.ToString());
  return ok_status();
}

std::optional<std::string> Txn::get(const std::string& key) const {
  if (auto it = pending_.find(key); it != pending_.end()) return it->second;
  return store_.get(key);
}

void Txn::put(const std::string& key, std::string_view value) {
  batch_.Put(key, leveldb::Slice(value.data(), value.size()));
  pending_[key] = std::string(value);
  durable_ = true;
}

void Txn::del(const std::string& key) {
  del_lazily(key);
  durable_ = true;
}

void Txn::del_lazily(const std::string& key) {
  batch_.Delete(key);
  pending_[key] = std::nullopt;
}

Status Txn::commit(bool defer_sync) {
  if (pending_.empty()) return ok_status();
  bool sync = sync_ && durable_ && !defer_sync;
  Status s = store_.write(&batch_, sync);
  if (sync) unsynced_ = written_unsynced_ = false;
  if (sync_ && durable_ && defer_sync) unsynced_ = true;
  if (sync_ && !sync) written_unsynced_ = true;
  batch_.Clear();
  pending_.clear();
  durable_ = false;
  return s;
}

Status Txn::sync() {
  if (!unsynced_) return ok_status();
  leveldb::WriteBatch empty;  // LevelDB syncs its log, and so every earlier write
  Status s = store_.write(&empty, true);
  if (s) unsynced_ = written_unsynced_ = false;
  return s;
}

}  // namespace closeloop
