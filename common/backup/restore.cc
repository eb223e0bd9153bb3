#include "backup/restore.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "backup/dump.h"
#include "store/keys.h"
#include "wire/codec.h"
#include "wire/json.h"
#include "workflow/item.h"
#include "workflow/lifecycle.h"

namespace closeloop::backup {

namespace fs = std::filesystem;

namespace {

// `msgid` is "cannot <do> {path}: {reason}".
Error cannot(std::string_view msgid, const std::string& path, const std::error_code& ec) {
  return Error::of(errc::kInternal, msgid, {{"path", path}, {"reason", ec.message()}});
}

Error unreadable_record(std::string_view key, const Error& why) {
  return Error::of(errc::kInvalid, N_("{path}: {reason}"),
                   {{"path", std::string(key)}, {"reason", why.message}});
}

constexpr uint64_t kBatchRecords = 1000;

std::string epoch_value() {
  using namespace std::chrono;
  std::string value;
  keys::append_be64(
      value, static_cast<uint64_t>(
                 duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()));
  return value;
}

// What belonged to the store's earlier life: its outbox, its markers of what others sent
// it and its epoch. Gone from every restored store (backup/restore.h).
bool earlier_life(std::string_view key) {
  return key.starts_with(keys::kOutboxPrefix) || key.starts_with("seen/") ||
         key.starts_with("meta/seen_floor/") || key.starts_with("meta/epoch_of/") ||
         key == keys::meta("epoch");
}

// A store written record by record, in batches, synced at the end.
class StoreWriter {
 public:
  static Result<StoreWriter> open(const std::string& path) {
    auto store = Store::open(path);
    if (!store) return store.error();
    return StoreWriter(std::move(*store));
  }
  Status put(std::string_view key, std::string_view value) {
    batch_.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
    ++records_;
    return ++pending_ < kBatchRecords ? ok_status() : flush(false);
  }
  Result<uint64_t> finish() {
    batch_.Put(keys::meta("epoch"), epoch_value());
    if (Status s = flush(true); !s) return s.error();
    return records_;
  }

 private:
  explicit StoreWriter(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  Status flush(bool sync) {
    Status s = store_->write(&batch_, sync);
    batch_.Clear();
    pending_ = 0;
    return s;
  }
  std::unique_ptr<Store> store_;
  leveldb::WriteBatch batch_;
  uint64_t records_ = 0, pending_ = 0;
};

Result<wire::Json> read_manifest(const std::string& dir) {
  std::ifstream in(manifest_path(dir));
  if (!in)
    return Error::of(errc::kInvalid,
                     N_("{path} is missing: not a backup folder, or an unfinished backup"),
                     {{"path", manifest_path(dir)}});
  std::stringstream text;
  text << in.rdbuf();
  wire::Json manifest = wire::Json::parse(text.str(), nullptr, false);
  if (!manifest.is_object() || manifest.value("format", 0) != kFormat)
    return Error::of(errc::kInvalid, N_("{path} is not a backup manifest of format {format}"),
                     {{"path", manifest_path(dir)}, {"format", std::to_string(kFormat)}});
  return manifest;
}

Result<DumpFacts> facts_of(const wire::Json& manifest, const std::string& part) {
  const wire::Json& p = manifest["parts"][part];
  if (!p.is_object())
    return Error::of(errc::kInvalid, N_("the manifest lists no part {part}"), {{"part", part}});
  return DumpFacts{p.value("records", uint64_t{0}), p.value("bytes", uint64_t{0}),
                   p.value("sha256", std::string())};
}

// The item an intake idempotency record names: a submit's reply holds it; an import row's
// record is the id itself.
std::string item_of_idem(std::string_view key, std::string_view value) {
  if (key.starts_with("idem/import:")) return std::string(value);
  auto decoded = wire::decode(value.data(), value.size());
  if (!decoded) return "";
  wire::Fields record(decoded->get(), "idempotency record");
  if (auto id = record.opt_str("id", 64)) return *id;  // kept when its reply expires
  const msgpack::object* reply = record.opt_map("reply");
  wire::Fields r(reply ? *reply : decoded->get(), "reply");
  const msgpack::object* item = r.opt_map("item");
  if (!item) return "";
  wire::Fields i(*item, "item");
  return i.opt_str("id", 64).value_or("");
}

Status copy_keys(const std::string& from, const std::string& to, Restored& out) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return cannot(N_("cannot create {path}: {reason}"), to, ec);
  fs::permissions(to, fs::perms::owner_all, ec);
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    if (!entry.is_regular_file()) continue;
    fs::path target = fs::path(to) / entry.path().filename();
    fs::copy_file(entry.path(), target, ec);
    if (!ec) fs::permissions(target, entry.status().permissions(), ec);
    if (ec)
      return cannot(N_("cannot copy {path}: {reason}"), entry.path().string(), ec);
    ++out.key_files;
  }
  if (ec) return cannot(N_("cannot read {path}: {reason}"), from, ec);
  return ok_status();
}

}  // namespace

bool absent_or_empty(const std::string& path) {
  std::error_code ec;
  return !fs::exists(path, ec) || (fs::is_directory(path, ec) && fs::is_empty(path, ec));
}

Result<std::string> stage_worker(std::string_view name) {
  std::string worker(name);
  if (auto stage = parse_stage(name)) worker = std::string(owner_of(*stage));
  if (std::find(kStageWorkers.begin(), kStageWorkers.end(), worker) != kStageWorkers.end())
    return worker;
  return Error::of(errc::kBadRequest,
                   N_("'{value}' is not a stage worker: rebuild takes dispatch, handle, verify or "
                      "close (or the stage one owns); the ledger and intake come back from a "
                      "backup, and the timer keeps nothing it cannot recount"),
                   {{"value", std::string(name)}}, "stage");
}

Result<std::unique_ptr<StageRebuild>> StageRebuild::begin(const std::string& data_dir,
                                                          const std::string& worker) {
  std::string path = data_dir + "/" + worker;
  if (!absent_or_empty(path))
    return Error::of(errc::kInvalid,
                     N_("{path} exists and is not empty: rebuild makes a lost store anew (stop "
                        "closeloop-{worker} and move the folder aside first)"),
                     {{"path", path}, {"worker", worker}});
  std::error_code ec;
  fs::remove_all(path + ".rebuilding", ec);  // an earlier attempt's, never finished
  auto store = Store::open(path + ".rebuilding");
  if (!store) return store.error();
  return std::unique_ptr<StageRebuild>(new StageRebuild(worker, path, std::move(*store)));
}

StageRebuild::~StageRebuild() {
  store_.reset();
  std::error_code ec;
  if (!finished_) fs::remove_all(building(), ec);
}

Status StageRebuild::add(std::string_view key, std::string_view record) {
  auto decoded = wire::decode(record.data(), record.size());
  if (!decoded) return unreadable_record(key, decoded.error());
  auto head = read_item_head(decoded->get());
  if (!head) return unreadable_record(key, head.error());
  if (owner_of(head->stage) != worker_) return ok_status();
  batch_.Put(keys::item(head->id), leveldb::Slice(record.data(), record.size()));
  ++items_;
  return ++pending_ < kBatchRecords ? ok_status() : write_batch();
}

Status StageRebuild::write_batch() {
  Status s = store_->write(&batch_, false);
  batch_.Clear();
  pending_ = 0;
  return s;
}

Result<uint64_t> StageRebuild::finish() {
  batch_.Put(keys::meta("epoch"), epoch_value());
  Status s = store_->write(&batch_, true);
  batch_.Clear();
  if (!s) return s.error();
  store_.reset();  // closed before it moves
  std::error_code ec;
  fs::remove(path_, ec);  // an empty folder where the lost store was
  fs::rename(building(), path_, ec);
  if (ec)
    return Error::of(errc::kInternal, N_("cannot move {path} to {to}: {reason}"),
                     {{"path", building()}, {"to", path_}, {"reason", ec.message()}});
  finished_ = true;
  return items_;
}

Result<Restored> restore(const std::string& dir, const std::string& data_dir) {
  auto manifest = read_manifest(dir);
  if (!manifest) return manifest.error();
  if (!absent_or_empty(data_dir))
    return Error::of(errc::kInvalid,
                     N_("{path} exists and is not empty: restore builds a new data dir (give a "
                        "new path)"),
                     {{"path", data_dir}});
  auto ledger_facts = facts_of(*manifest, "ledger");
  auto intake_facts = facts_of(*manifest, "intake");
  if (!ledger_facts) return ledger_facts.error();
  if (!intake_facts) return intake_facts.error();
  for (const auto& [part, facts] : {std::pair{"ledger", *ledger_facts}, {"intake", *intake_facts}})
    if (Status whole = check_dump(dump_path(dir, part), facts); !whole) return whole.error();
  Restored out;
  out.taken_at = manifest->value("taken_at", "");
  out.in_backup = {{"ledger", ledger_facts->records}, {"intake", intake_facts->records}};
  auto leave_out = [&out](const char* part, const char* why) {
    ++out.left_out_records[part][why];
    return ok_status();
  };
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return cannot(N_("cannot create {path}: {reason}"), data_dir, ec);

  // The ledger, and from its items every stage's store; the ids it holds, for intake's keys.
  auto ledger = StoreWriter::open(data_dir + "/ledger");
  if (!ledger) return ledger.error();
  std::vector<std::unique_ptr<StageRebuild>> stages;
  for (const auto& worker : kStageWorkers) {
    auto stage = StageRebuild::begin(data_dir, worker);
    if (!stage) return stage.error();
    stages.push_back(std::move(*stage));
  }
  std::set<std::string, std::less<>> items;
  Status read = read_dump(dump_path(dir, "ledger"), *ledger_facts,
                          [&](std::string_view key, std::string_view value) -> Status {
                            if (earlier_life(key)) return leave_out("ledger", kEarlierLife);
                            if (key.starts_with("item/")) {
                              items.emplace(key.substr(5));
                              for (auto& stage : stages)
                                if (Status s = stage->add(key, value); !s) return s;
                            }
                            return ledger->put(key, value);
                          });
  if (!read) return read.error();
  auto ledger_records = ledger->finish();
  if (!ledger_records) return ledger_records.error();
  out.records["ledger"] = *ledger_records;
  for (size_t i = 0; i < stages.size(); ++i) {
    auto held = stages[i]->finish();
    if (!held) return held.error();
    out.records[kStageWorkers[i]] = *held;
  }

  // Intake: its keys and serial; a key whose submit the ledger had not recorded yet names
  // an item that does not exist here (its submit was never acknowledged), so it goes.
  auto intake = StoreWriter::open(data_dir + "/intake");
  if (!intake) return intake.error();
  std::set<std::string, std::less<>> left_out;  // idem/ sorts before idem_expiry/
  read = read_dump(
      dump_path(dir, "intake"), *intake_facts,
      [&](std::string_view key, std::string_view value) -> Status {
        if (earlier_life(key)) return leave_out("intake", kEarlierLife);
        if (key.starts_with("idem/") && !items.contains(item_of_idem(key, value))) {
          left_out.emplace(key);
          return leave_out("intake", kInTransit);
        }
        if (key.starts_with(keys::kIdemExpiryPrefix) &&
            left_out.contains(keys::idem_expiry_key(key)))
          return leave_out("intake", kInTransit);
        if (key.starts_with(keys::kEventPrefix) && !items.contains(keys::event_of(key).first))
          return leave_out("intake", kInTransit);
        return intake->put(key, value);
      });
  if (!read) return read.error();
  out.left_out = left_out.size();
  auto intake_records = intake->finish();
  if (!intake_records) return intake_records.error();
  out.records["intake"] = *intake_records;
  if (Status keys = copy_keys(keys_path(dir), data_dir + "/keys", out); !keys) return keys.error();
  return out;
}

}  // namespace closeloop::backup
