#include "config/paths.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "calendar/calendar.h"
#include "i18n/words.h"

namespace closeloop {
namespace {

namespace fs = std::filesystem;

PathLine said(std::string_view msgid, MessageArgs args) {
  return {format_message(msgid, args), std::string(msgid), std::move(args)};
}

bool same_file_or_dir(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// What the earlier reading of `p` would have found there, as its key uses it ("a data dir":
// one holding a store or keys; "a calendar": a year's file), or "" for nothing of the kind,
// such as the /var that "../var" reads as from /tmp. Shown as the argument {found}.
std::string what_is_at(const NamedPath& p, const fs::path& at) {
  std::error_code ec;
  if (p.key == "data_dir")
    return fs::exists(at / "keys", ec) || fs::exists(at / "ledger", ec) ? NC_("found", "a data dir")
                                                                        : "";
  if (p.key == "calendar.dir") {
    for (fs::directory_iterator it(at, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with("cn-") && name.ends_with(".csv")) return NC_("found", "a calendar");
    }
    return "";
  }
  return fs::is_regular_file(at, ec) ? NC_("found", "a file") : "";
}

// `msgid` begins "{file}: {key}: {path}: ".
Error path_unreadable(const Config& c, const NamedPath& p, std::string_view msgid,
                      MessageArgs more = {}) {
  MessageArgs args{{"file", c.file}, {"key", p.key}, {"path", p.resolved}};
  args.insert(args.end(), more.begin(), more.end());
  return Error::of(errc::kInvalid, msgid, std::move(args));
}

MessageArgs where(const NamedPath& p) { return {{"key", p.key}, {"path", p.resolved}}; }

Result<PathLine> data_dir_check(const Config& c, const NamedPath& p) {
  std::error_code ec;
  if (!fs::exists(p.resolved, ec))
    return said(N_("{key} {path}: not made yet (the first start makes it)"), where(p));
  if (!fs::is_directory(p.resolved, ec))
    return path_unreadable(c, p, N_("{file}: {key}: {path}: not a directory"));
  if (::access(p.resolved.c_str(), R_OK | X_OK) != 0)
    return path_unreadable(c, p, N_("{file}: {key}: {path}: cannot be read by this user: {reason}"),
                           {{"reason", std::strerror(errno)}});
  return said(N_("{key} {path}: a directory, readable"), where(p));
}

Result<PathLine> calendar_check(const Config& c, const NamedPath& p) {
  auto calendar = Calendar::load(p.resolved);
  if (!calendar)
    return Error::of(errc::kInvalid, N_("{file}: {key}: {reason}"),
                     {{"file", c.file}, {"key", p.key}, {"reason", calendar.error().message}});
  std::string files;
  for (const auto& [year, digest] : calendar->digests())
    files +=
        (files.empty() ? "" : ", ") + ("cn-" + std::to_string(year)) + " " + digest.substr(0, 12);
  if (files.empty())
    return said(N_("{key} {path}: no cn-YYYY.csv file: weekends alone, every due date provisional"),
                where(p));
  MessageArgs args = where(p);
  args.emplace_back("files", files);
  return said(N_("{key} {path}: {files}"), std::move(args));
}

Result<PathLine> file_check(const Config& c, const NamedPath& p) {
  std::error_code ec;
  bool clock = p.key == "testing.clock_file";
  if (clock && !fs::exists(p.resolved, ec)) {
    if (!fs::is_directory(fs::path(p.resolved).parent_path(), ec))
      return path_unreadable(c, p, N_("{file}: {key}: {path}: its folder does not exist"));
    return said(N_("{key} {path}: not written yet (the system clock until it is)"), where(p));
  }
  if (!fs::is_regular_file(p.resolved, ec))
    return path_unreadable(c, p, N_("{file}: {key}: {path}: not a file"));
  if (::access(p.resolved.c_str(), R_OK) != 0)
    return path_unreadable(c, p, N_("{file}: {key}: {path}: cannot be read by this user: {reason}"),
                           {{"reason", std::strerror(errno)}});
  return said(N_("{key} {path}: a file, readable"), where(p));
}

}  // namespace

Status check_moved_paths(const Config& c) {
  for (const NamedPath& p : c.paths) {
    if (p.key == "key" || p.before.empty() || same_file_or_dir(p.before, p.resolved)) continue;
    std::string found = what_is_at(p, p.before);
    if (found.empty()) continue;
    MessageArgs args{{"file", c.file}, {"key", p.key},     {"written", p.written},
                     {"path", p.resolved}, {"before", p.before}, {"found", found}};
    if (p.written.empty())
      return Error::of(errc::kInvalid,
                       N_("{file}: {key} (not in the file: its default) now means {path} (a "
                          "relative path is taken from the config file's folder), but it used to "
                          "mean {before} (taken from the working directory), where there is "
                          "{found}: write the path you mean as an absolute path"),
                       std::move(args));
    return Error::of(errc::kInvalid,
                     N_("{file}: {key} \"{written}\" now means {path} (a relative path is taken "
                        "from the config file's folder), but it used to mean {before} (taken from "
                        "the working directory), where there is {found}: write the path you mean "
                        "as an absolute path"),
                     std::move(args));
  }
  return ok_status();
}

Result<std::vector<PathLine>> check_paths(const Config& c) {
  std::vector<PathLine> lines;
  for (const NamedPath& p : c.paths) {
    Result<PathLine> line = p.key == "data_dir"       ? data_dir_check(c, p)
                            : p.key == "calendar.dir" ? calendar_check(c, p)
                                                      : file_check(c, p);
    if (!line) return line.error();
    lines.push_back(std::move(*line));
  }
  return lines;
}

}  // namespace closeloop
