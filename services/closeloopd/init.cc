#include "init.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "security/checkpoint.h"
#include "security/keys.h"

namespace closeloop {
namespace {

// Makes `dir` (and its parents) if missing; a directory it makes gets mode 0750.
bool make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0750) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  auto slash = dir.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return false;
  return make_dir(dir.substr(0, slash)) && make_dir(dir);
}

// Makes or keeps the key at `path` with `own` (the call that reads it, or makes it if
// missing), and says which.
template <typename Own>
bool own_key(const std::string& path, Own own) {
  bool existed = ::access(path.c_str(), F_OK) == 0;
  if (auto key = own(); !key) {
    std::fprintf(stderr, "closeloopd: %s\n", key.error().message.c_str());
    return false;
  }
  std::printf("%s %s\n", existed ? "kept" : "made", path.c_str());
  return true;
}

}  // namespace

int init_data_dir(const Config& config, const std::vector<std::string>& executables) {
  spdlog::set_level(spdlog::level::warn);  // the lines below say what was made
  std::string keys = security::keys_dir(config.data_dir);
  if (!make_dir(config.data_dir) || !make_dir(keys)) {
    std::fprintf(stderr, "closeloopd: cannot make %s: %s\n", keys.c_str(), std::strerror(errno));
    return 1;
  }
  bool ok = true;
  if (config.curve()) {
    for (const std::string& executable : executables) {
      std::string name = executable.substr(executable.find('-') + 1);  // closeloop-NAME
      ok &= own_key(keys + "/" + name + ".key", [&] { return security::own_key_pair(keys, name); });
    }
  }
  std::string signing = security::signing_key_path(config.data_dir);
  ok &= own_key(signing, [&] { return security::own_signing_key(signing); });
  for (const char* account : {"admin", "office"})
    ok &= own_key(keys + "/" + account + ".key",
                  [&] { return security::own_account_key(keys, account); });
  if (!ok) return 1;
  std::printf(
      "the admin's key is %s/admin.key: `closeloop --key %s/admin.key user add …` adds the "
      "people's accounts\n",
      keys.c_str(), keys.c_str());
  return 0;
}

}  // namespace closeloop
