// The paths a config names (data_dir, [calendar] dir, key, [testing] clock_file), checked:
// at every start, against the way earlier versions resolved them; by `closeloopd
// --check-config`, for being there and readable (docs/operations.md, "Paths").
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace closeloop {

// Refuses (errc::kInvalid) a config with a relative path that versions before issue 17,
// which took it from the working directory, resolved to another place than the one it
// names now (from the config file's folder), where there is what it names: a data dir
// (a store or keys in it), a calendar (a cn-YYYY.csv), a clock file. Starting on it would
// open another data dir (an empty one) or calendar without a word. Every process calls it
// at start and exits 78 on it.
Status check_moved_paths(const Config& config);

// A line for people: `text` in English, and its msgid and arguments for i18n::say.
struct PathLine {
  std::string text, msgid;
  MessageArgs args;
};

// One line per path the config names, saying what is there ("calendar.dir /etc/closeloop/
// calendar: cn-2026 3f2a9c1b04d7, …"), or the first that is missing or cannot be read.
// The calendar is read and checked as the processes read it (Calendar::load). A data_dir
// not made yet is fine (the first start makes it), as is a clock_file not written yet.
Result<std::vector<PathLine>> check_paths(const Config& config);

}  // namespace closeloop
