#include "worker/backup.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backup/dump.h"
#include "base/text.h"
#include "security/keys.h"
#include "wire/message.h"
#include "worker/worker.h"

namespace closeloop {

namespace {
constexpr size_t kMaxSessions = 4;
constexpr int64_t kSessionIdleMs = 60'000;
constexpr size_t kMaxKeyFiles = 256;
constexpr uintmax_t kMaxKeyFileBytes = 64 * 1024;
constexpr size_t kChunkBytes = 256 * 1024;  // well under a reply's limit

std::string whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}
}  // namespace

uint64_t SnapshotSessions::open(std::shared_ptr<const Snapshot> snapshot, int64_t now_ms) {
  while (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());  // the oldest
  uint64_t id = next_id_++;
  sessions_[id] = {std::move(snapshot), now_ms};
  return id;
}

std::shared_ptr<const Snapshot> SnapshotSessions::find(uint64_t id, int64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second.last_used_ms = now_ms;
  return it->second.snapshot;
}

void SnapshotSessions::expire(int64_t now_ms) {
  std::erase_if(sessions_,
                [&](const auto& s) { return now_ms - s.second.last_used_ms > kSessionIdleMs; });
}

BackupChunk read_backup_chunk(const Reader& db, std::string_view prefix, std::string_view after,
                              size_t max_bytes) {
  BackupChunk chunk;
  chunk.done = true;
  db.scan(
      prefix,
      [&](std::string_view key, std::string_view value) {
        if (!after.empty() && key <= after) return true;  // `after` itself, once
        if (chunk.records.size() >= max_bytes) return chunk.done = false;
        backup::append_record(chunk.records, key, value);
        chunk.last.assign(key);
        ++chunk.count;
        return true;
      },
      after);
  return chunk;
}

Result<std::string> key_files_body(const std::string& keys_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(keys_dir, ec))
    if (entry.is_regular_file()) files.push_back(entry.path());
  if (ec)
    return Error::of(errc::kInternal, N_("cannot list {path}: {reason}"),
                     {{"path", keys_dir}, {"reason", ec.message()}});
  if (files.size() > kMaxKeyFiles)
    return Error::of(errc::kInternal,
                     N_("{path} holds more than {count} files; a key folder holds a few dozen"),
                     {{"path", keys_dir}, {"count", std::to_string(kMaxKeyFiles)}});
  std::sort(files.begin(), files.end());
  wire::Buffer body;
  wire::Packer pk(body);
  pk.pack_map(2);
  pk.pack("done"), pk.pack(true);
  pk.pack("files"), pk.pack_array(static_cast<uint32_t>(files.size()));
  for (const auto& path : files) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size > static_cast<off_t>(kMaxKeyFileBytes))
      return Error::of(errc::kInternal, N_("cannot read key file {path}"),
                       {{"path", path.string()}});
    std::string content = whole_file(path.string());
    pk.pack_map(3);
    pk.pack("name"), pk.pack(path.filename().string());
    pk.pack("mode"), pk.pack(static_cast<uint64_t>(st.st_mode & 07777));
    pk.pack("content"), pk.pack_bin(static_cast<uint32_t>(content.size()));
    pk.pack_bin_body(content.data(), static_cast<uint32_t>(content.size()));
  }
  return std::string(wire::view(body));
}

// Any worker reads its own part; the ledger, which the verb goes to, also reads the key
// files and asks intake for intake's part (a person's request, checked here and there).
void Worker::serve_backup(Context& ctx, const wire::Request& request) {
  if (Status allowed = security::may(ctx.actor(), "backup", {}, nullptr); !allowed)
    return ctx.fail(allowed.error());
  wire::Fields f(request.body, "backup");
  std::string part = f.str("part", 32);
  uint64_t session = f.opt_uint("session").value_or(0);
  std::string after_hex = f.opt_str("after", 2048).value_or("");
  std::string prefix = f.opt_str("prefix", 64).value_or("");
  std::string after;
  if (f.ok() && !from_hex(after_hex, &after)) f.fail(errc::kBadRequest, "after: not hex");
  if (!f.ok()) return ctx.fail(f.error());
  if (part == name_) return read_backup(ctx, session, std::move(after), std::move(prefix));
  bool other_part =
      std::find(backup::kParts.begin(), backup::kParts.end(), part) != backup::kParts.end();
  if (ctx.actor().worker || (part != backup::kKeysPart && !other_part))
    return ctx.fail(Error::of(errc::kBadRequest,
                              N_("no backup part '{part}' here; the parts are ledger, intake and "
                                 "keys"),
                              {{"part", part}}, "part"));
  if (part == backup::kKeysPart) {
    auto body = key_files_body(security::keys_dir(config_.data_dir));
    return body ? ctx.reply(std::move(*body)) : ctx.fail(body.error());
  }
  wire::Buffer body;
  msgpack::pack(body, request.body);
  ctx.ask(part, "backup", std::string(wire::view(body)),
          [part](Context& ctx, Result<wire::Reply>& reply) {
            if (!reply)
              return ctx.fail(Error::of(errc::kUnavailable, N_("{worker} did not answer in time"),
                                        {{"worker", part}}));
            if (!reply->ok) return ctx.fail(reply->error);
            wire::Buffer raw;
            msgpack::pack(raw, reply->body);
            ctx.reply(std::string(wire::view(raw)));
          });
}

// A chunk of this worker's records from the session's snapshot, read on the reader thread.
void Worker::read_backup(Context& ctx, uint64_t session, std::string after, std::string prefix) {
  int64_t now = monotonic_ms();
  backups_.expire(now);
  std::shared_ptr<const Snapshot> snapshot;
  std::string at;
  if (session == 0) {
    snapshot = store_->snapshot();
    session = backups_.open(snapshot, now);
    at = clock_.now_iso();
    spdlog::info("{}: a backup reads a snapshot taken at {} (session {}, for {})", name_, at,
                 session, ctx.actor().name);
  } else if (!(snapshot = backups_.find(session, now))) {
    return ctx.fail(Error::of(errc::kNotFound,
                              N_("backup session {session} of {worker} is unknown or expired; "
                                 "start again"),
                              {{"session", std::to_string(session)}, {"worker", name_}}));
  }
  ctx.read_later(snapshot, [=](const Reader& db) -> Result<std::string> {
    BackupChunk chunk = read_backup_chunk(db, prefix, after, kChunkBytes);
    wire::Buffer body;
    wire::Packer pk(body);
    pk.pack_map(at.empty() ? 5 : 6);
    if (!at.empty()) pk.pack("at"), pk.pack(at);
    pk.pack("session"), pk.pack(session);
    pk.pack("count"), pk.pack(chunk.count);
    pk.pack("done"), pk.pack(chunk.done);
    pk.pack("last"), pk.pack(to_hex(chunk.last));
    pk.pack("records"), pk.pack_bin(static_cast<uint32_t>(chunk.records.size()));
    pk.pack_bin_body(chunk.records.data(), static_cast<uint32_t>(chunk.records.size()));
    return std::string(wire::view(body));
  });
}

}  // namespace closeloop
