#include "config/paths.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "calendar/calendar.h"

namespace closeloop {
namespace {

namespace fs = std::filesystem;

// `key "written"`, or `key (its default)` for a path the file leaves out.
std::string written_form(const NamedPath& p) {
  return p.key + (p.written.empty() ? " (not in the file: its default)" : " \"" + p.written + "\"");
}

bool same_file_or_dir(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// What the earlier reading of `p` would have found there, as its key uses it ("a data dir":
// one holding a store or keys; "a calendar": a year's file), or "" for nothing of the kind,
// such as the /var that "../var" reads as from /tmp.
std::string what_is_at(const NamedPath& p, const fs::path& at) {
  std::error_code ec;
  if (p.key == "data_dir")
    return fs::exists(at / "keys", ec) || fs::exists(at / "ledger", ec) ? "a data dir" : "";
  if (p.key == "calendar.dir") {
    for (fs::directory_iterator it(at, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with("cn-") && name.ends_with(".csv")) return "a calendar";
    }
    return "";
  }
  return fs::is_regular_file(at, ec) ? "a file" : "";
}

Error path_unreadable(const Config& c, const NamedPath& p, const std::string& why) {
  return Error{errc::kInvalid, c.file + ": " + p.key + ": " + p.resolved + ": " + why};
}

Result<std::string> data_dir_check(const Config& c, const NamedPath& p) {
  std::error_code ec;
  if (!fs::exists(p.resolved, ec))
    return p.key + " " + p.resolved + ": not made yet (the first start makes it)";
  if (!fs::is_directory(p.resolved, ec)) return path_unreadable(c, p, "not a directory");
  if (::access(p.resolved.c_str(), R_OK | X_OK) != 0)
    return path_unreadable(c, p,
                           "cannot be read by this user: " + std::string(std::strerror(errno)));
  return p.key + " " + p.resolved + ": a directory, readable";
}

Result<std::string> calendar_check(const Config& c, const NamedPath& p) {
  auto calendar = Calendar::load(p.resolved);
  if (!calendar)
    return Error{errc::kInvalid, c.file + ": " + p.key + ": " + calendar.error().message};
  std::string files;
  for (const auto& [year, digest] : calendar->digests())
    files +=
        (files.empty() ? "" : ", ") + ("cn-" + std::to_string(year)) + " " + digest.substr(0, 12);
  if (files.empty()) files = "no cn-YYYY.csv file: weekends alone, every due date provisional";
  return p.key + " " + p.resolved + ": " + files;
}

Result<std::string> file_check(const Config& c, const NamedPath& p) {
  std::error_code ec;
  bool clock = p.key == "testing.clock_file";
  if (clock && !fs::exists(p.resolved, ec)) {
    if (!fs::is_directory(fs::path(p.resolved).parent_path(), ec))
      return path_unreadable(c, p, "its folder does not exist");
    return p.key + " " + p.resolved + ": not written yet (the system clock until it is)";
  }
  if (!fs::is_regular_file(p.resolved, ec)) return path_unreadable(c, p, "not a file");
  if (::access(p.resolved.c_str(), R_OK) != 0)
    return path_unreadable(c, p,
                           "cannot be read by this user: " + std::string(std::strerror(errno)));
  return p.key + " " + p.resolved + ": a file, readable";
}

}  // namespace

Status check_moved_paths(const Config& c) {
  for (const NamedPath& p : c.paths) {
    if (p.key == "key" || p.before.empty() || same_file_or_dir(p.before, p.resolved)) continue;
    std::string found = what_is_at(p, p.before);
    if (found.empty()) continue;
    return Error{errc::kInvalid,
                 c.file + ": " + written_form(p) + " now means " + p.resolved +
                     " (a relative path is taken from the config file's folder), but it used to "
                     "mean " +
                     p.before + " (taken from the working directory), where there is " + found +
                     ": write the path you mean as an absolute path"};
  }
  return ok_status();
}

Result<std::vector<std::string>> check_paths(const Config& c) {
  std::vector<std::string> lines;
  for (const NamedPath& p : c.paths) {
    Result<std::string> line = p.key == "data_dir"       ? data_dir_check(c, p)
                               : p.key == "calendar.dir" ? calendar_check(c, p)
                                                         : file_check(c, p);
    if (!line) return line.error();
    lines.push_back(std::move(*line));
  }
  return lines;
}

}  // namespace closeloop
