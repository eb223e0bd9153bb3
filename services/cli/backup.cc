// backup, restore and rebuild (backup/dump.h, backup/restore.h; docs/operations.md).
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "backup/dump.h"
#include "backup/restore.h"
#include "base/text.h"
#include "cli.h"
#include "terminal.h"

namespace closeloop::cli {

namespace fs = std::filesystem;

namespace {

std::string text_of(const wire::Json& f, const char* key) {
  auto it = f.find(key);
  return it != f.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string_view bin_field(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return {};
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR && kv.key.as<std::string_view>() == key &&
        kv.val.type == msgpack::type::BIN)
      return {kv.val.via.bin.ptr, kv.val.via.bin.size};
  }
  return {};
}

// Reads one part of the ledger's backup (or intake's, through it) to its end, chunk by
// chunk from one snapshot, handing each chunk to `take`. The snapshot's time in *at.
using ChunkFn = std::function<Status(std::string_view records, uint64_t count)>;
int read_part(Client& client, const Target& target, const Invocation& in, const std::string& part,
              const std::string& prefix, const ChunkFn& take, std::string* at) {
  uint64_t session = 0;
  std::string after;
  for (;;) {
    wire::MapBuilder body;
    body.add("part", part).add("session", session).add("after", after);
    if (!prefix.empty()) body.add("prefix", prefix);
    auto reply = client.call("backup", in.actor, body.finish());
    Answer a = answer_of(reply, target);
    if (!a.reply) return a.exit_code;
    wire::Fields f(a.reply->body, "backup reply");
    session = f.uint("session");
    uint64_t count = f.uint("count");
    bool done = f.opt_bool("done").value_or(false);
    after = f.str("last", 4096);
    if (auto taken = f.opt_str("at", 64); taken && at && at->empty()) *at = *taken;
    if (!f.ok()) return fail(kExitInternal, unreadable_reply(f.error()));
    if (Status s = take(bin_field(a.reply->body, "records"), count); !s)
      return fail(kExitUsage, said(s.error()));
    if (done) return kExitOk;
  }
}

int write_keys(Client& client, const Target& target, const Invocation& in, const std::string& dir,
               wire::Json& names) {
  auto reply = client.call("backup", in.actor, wire::MapBuilder().add("part", "keys").finish());
  Answer a = answer_of(reply, target);
  if (!a.reply) return a.exit_code;
  std::string keys = backup::keys_path(dir);
  if (::mkdir(keys.c_str(), 0700) != 0)
    return fail(kExitUsage, say(N_("cannot create {path}: {reason}"),
                                {{"path", keys}, {"reason", std::strerror(errno)}}));
  wire::Fields f(a.reply->body, "backup reply");
  const msgpack::object& files = f.array("files");
  for (uint32_t i = 0; f.ok() && i < files.via.array.size; ++i) {
    wire::Fields file(files.via.array.ptr[i], "key file");
    std::string name = file.str("name", 255);
    uint64_t mode = file.uint("mode") & 0644;  // never wider than the owner's and read
    if (!file.ok() || name.find('/') != std::string::npos || name.starts_with("."))
      return fail(kExitInternal, say(N_("an unreadable key file in the backup reply")));
    std::string path = keys + "/" + name, content(bin_field(files.via.array.ptr[i], "content"));
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    if (!out || ::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
      return fail(kExitUsage, say(N_("cannot write {path}"), {{"path", path}}));
    names.push_back(name);
  }
  return f.ok() ? kExitOk : fail(kExitInternal, unreadable_reply(f.error()));
}

Status write_manifest(const std::string& dir, const wire::Json& manifest) {
  std::string path = backup::manifest_path(dir), partial = path + ".partial";
  {
    std::ofstream out(partial);
    out << manifest.dump(2) << "\n";
    if (!out) return Error::of(errc::kInternal, N_("cannot write {path}"), {{"path", partial}});
  }
  std::error_code ec;
  fs::rename(partial, path, ec);  // last: a folder with a manifest is a whole backup
  if (ec)
    return Error::of(errc::kInternal, N_("cannot write {path}: {reason}"),
                     {{"path", path}, {"reason", ec.message()}});
  return ok_status();
}

std::string size_text(uint64_t bytes) {
  char text[32];
  if (bytes < 1000 * 1000)
    std::snprintf(text, sizeof text, "%.1f kB", static_cast<double>(bytes) / 1e3);
  else
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

std::string items_text(uint64_t n) {
  return say(n == 1 ? N_("{count} item") : N_("{count} items"), {{"count", std::to_string(n)}});
}

// Everything but the folder itself: the parts, the keys, then the manifest.
int write_backup(Client& client, const Target& target, const Invocation& in,
                 const std::string& dir) {
  wire::Json manifest = {{"format", backup::kFormat}, {"parts", wire::Json::object()}};
  std::string at;
  for (const std::string& part : backup::kParts) {
    backup::DumpWriter writer;
    if (Status opened = writer.open(backup::dump_path(dir, part)); !opened)
      return fail(kExitUsage, said(opened.error()));
    auto take = [&](std::string_view records, uint64_t count) {
      return writer.write(records, count);
    };
    if (int code = read_part(client, target, in, part, "", take, &at); code != kExitOk) return code;
    auto facts = writer.finish();
    if (!facts) return fail(kExitUsage, said(facts.error()));
    manifest["parts"][part] = {
        {"records", facts->records}, {"bytes", facts->bytes}, {"sha256", facts->sha256}};
  }
  manifest["taken_at"] = at;
  manifest["keys"] = wire::Json::array();
  if (int code = write_keys(client, target, in, dir, manifest["keys"]); code != kExitOk)
    return code;
  if (Status written = write_manifest(dir, manifest); !written)
    return fail(kExitUsage, said(written.error()));
  if (in.json) {
    print_json(manifest);
  } else {
    const wire::Json& parts = manifest["parts"];
    print_line(say(N_("backup of {at} written to {path}: ledger {ledger} records ({size}), intake "
                      "{intake} records, {keys} key files"),
                   {{"at", at},
                    {"path", dir},
                    {"ledger", wire::dump(parts["ledger"]["records"])},
                    {"size", size_text(parts["ledger"]["bytes"].get<uint64_t>())},
                    {"intake", wire::dump(parts["intake"]["records"])},
                    {"keys", std::to_string(manifest["keys"].size())}}));
  }
  return kExitOk;
}

}  // namespace

// The ledger's snapshot first, then intake's (backup/dump.h says why), then the keys; the
// manifest last. A backup that fails leaves no folder behind (nor what it had written).
int run_backup(Client& client, const Target& target, const Invocation& in, const wire::Json& f) {
  std::string dir = text_of(f, "out");
  if (!backup::absent_or_empty(dir))
    return fail(kExitUsage, say(N_("{path} exists and is not empty: a backup goes into a new folder"),
                                {{"path", dir}}));
  std::error_code ec;
  bool made = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), 0700) != 0)
    return fail(kExitUsage,
                say(N_("cannot create {path}: {reason}"), {{"path", dir}, {"reason", ec.message()}}));
  int code = write_backup(client, target, in, dir);
  if (code != kExitOk && made) fs::remove_all(dir, ec);
  if (code != kExitOk && !made)
    for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
  return code;
}

// "ledger: 1234 of the backup's 1240 records restored; 6 left out: …" for a part that
// left records out: the count the backup printed, and why the two differ.
std::string left_out_text(const backup::Restored& r, const std::string& part) {
  auto found = r.left_out_records.find(part);
  if (found == r.left_out_records.end()) return "";
  uint64_t total = 0;
  std::string why;
  for (const auto& [reason, n] : found->second) {
    total += n;
    why += (why.empty() ? "" : "; ") +
           say(reason == backup::kEarlierLife
                   ? N_("{count} from the store's earlier life (its outbox, dedup markers and "
                        "epoch), which a restored store starts without")
                   : N_("{count} for submits in transit at that moment (never acknowledged), whose "
                        "retry makes its item once"),
               {{"count", std::to_string(n)}});
  }
  return say(N_("{part}: {restored} of the backup's {in_backup} records restored, {left_out} left "
                "out: {reasons}"),
             {{"part", part},
              {"restored", std::to_string(r.records.at(part))},
              {"in_backup", std::to_string(r.in_backup.at(part))},
              {"left_out", std::to_string(total)},
              {"reasons", why}});
}

int run_restore(const Invocation& in, const wire::Json& f) {
  std::string dir = text_of(f, "dir"), data_dir = text_of(f, "data-dir");
  auto restored = backup::restore(dir, data_dir);
  if (!restored) return fail(kExitUsage, "restore: " + said(restored.error()));
  wire::Json out = {{"taken_at", restored->taken_at},
                    {"data_dir", data_dir},
                    {"records", restored->records},
                    {"in_backup", restored->in_backup},
                    {"left_out_records", restored->left_out_records},
                    {"left_out", restored->left_out},
                    {"key_files", restored->key_files}};
  if (in.json) {
    print_json(out);
    return kExitOk;
  }
  std::string stages;
  for (const auto& worker : backup::kStageWorkers)
    stages += ", " + worker + " " + items_text(restored->records[worker]);
  print_line(say(N_("restored the backup of {at} into {path}: ledger {ledger} records, intake "
                    "{intake} records{stages}, {keys} key files"),
                 {{"at", restored->taken_at},
                  {"path", data_dir},
                  {"ledger", std::to_string(restored->records["ledger"])},
                  {"intake", std::to_string(restored->records["intake"])},
                  {"stages", stages},
                  {"keys", std::to_string(restored->key_files)}}));
  for (const std::string part : {"ledger", "intake"})
    if (std::string why = left_out_text(*restored, part); !why.empty()) print_line(why);
  return kExitOk;
}

// The items of the ledger's snapshot, put with the stage worker that owns each stage.
int run_rebuild(Client& client, const Target& target, const Invocation& in, const wire::Json& f) {
  auto worker = backup::stage_worker(text_of(f, "stage"));
  if (!worker) return fail(kExitUsage, said(worker.error()));
  std::string data_dir = f.contains("data-dir") ? text_of(f, "data-dir") : target.config.data_dir;
  auto rebuild = backup::StageRebuild::begin(data_dir, *worker);
  if (!rebuild) return fail(kExitUsage, "rebuild: " + said(rebuild.error()));
  std::string at;
  auto take = [&](std::string_view records, uint64_t) -> Status {
    return backup::read_records(records, [&](std::string_view key, std::string_view value) {
      return (*rebuild)->add(key, value);
    });
  };
  if (int code = read_part(client, target, in, "ledger", "item/", take, &at); code != kExitOk)
    return code;
  auto items = (*rebuild)->finish();
  if (!items) return fail(kExitUsage, "rebuild: " + said(items.error()));
  if (in.json)
    print_json({{"worker", *worker},
                {"items", *items},
                {"ledger_at", at},
                {"data_dir", data_dir + "/" + *worker}});
  else
    print_line(say(N_("rebuilt {worker} in {path}: {items} from the ledger as of {at}; start "
                      "closeloop-{worker} now"),
                   {{"worker", *worker},
                    {"path", data_dir + "/" + *worker},
                    {"items", items_text(*items)},
                    {"at", at}}));
  return kExitOk;
}

}  // namespace closeloop::cli
