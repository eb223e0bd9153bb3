// The files of a backup folder (`closeloop backup --out DIR`, docs/operations.md):
//
//   DIR/manifest.json   what the folder holds: {format, taken_at, parts: {NAME: {records,
//                       bytes, sha256}}, keys: [file names]}; written last, so a folder
//                       without it is an unfinished backup
//   DIR/ledger.dump     the ledger's records as they were at one moment: MessagePack arrays
//                       [key (bin), value (bin)], one after the other, in key order
//   DIR/intake.dump     intake's, taken just after the ledger's (its keys and counter)
//   DIR/keys/           every key file of the service, secret ones at 0600
//
// Why only these two stores: the ledger holds every event, the latest record of every item,
// the accounts and the checkpoint tree; the stages hold nothing the ledger does not (their
// items are rebuilt from it, backup/rebuild.h), and intake's idempotency keys and serial are
// the only state of its own. Snapshots of every worker taken at different moments would lose
// items in transit between them.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace closeloop::backup {

inline constexpr int kFormat = 1;
// The stores a backup carries, in the order they are read (the ledger's moment first: every
// item it holds then has its idempotency key in intake's later snapshot).
inline const std::vector<std::string> kParts{"ledger", "intake"};
inline constexpr std::string_view kKeysPart = "keys";

std::string dump_path(const std::string& dir, std::string_view part);
std::string manifest_path(const std::string& dir);
std::string keys_path(const std::string& dir);

// Encodes one record as a dump holds it (the worker sends chunks of these).
void append_record(std::string& out, std::string_view key, std::string_view value);

// What a dump holds, as the manifest says.
struct DumpFacts {
  uint64_t records = 0, bytes = 0;
  std::string sha256;  // hex
};

// Writes a dump file chunk by chunk, counting and hashing what it writes.
class DumpWriter {
 public:
  DumpWriter() = default;
  DumpWriter(const DumpWriter&) = delete;
  ~DumpWriter();
  Status open(const std::string& path);
  Status write(std::string_view chunk, uint64_t records);
  Result<DumpFacts> finish();

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  crypto_hash_sha256_state hash_;
  DumpFacts facts_;
};

// Whether the dump at `path` is the one the manifest describes (size and SHA-256): checked
// before any record of it is used (a restore checks every dump before it writes anything).
Status check_dump(const std::string& path, const DumpFacts& expected);

using RecordFn = std::function<Status(std::string_view key, std::string_view value)>;
// Calls fn(key, value) for every record of a dump check_dump() accepted, checking each
// record's form and, at the end, their count against `expected` (the file is read once).
Status read_dump(const std::string& path, const DumpFacts& expected, const RecordFn& fn);
// The same for records in memory (a chunk as the worker sent it).
Status read_records(std::string_view records, const RecordFn& fn);

}  // namespace closeloop::backup
