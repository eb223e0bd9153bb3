#include "daemon/daemon.h"

#include <sched.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "calendar/clock.h"
#include "config/paths.h"

namespace closeloop {

void private_umask() { ::umask(027); }

Result<uint64_t> raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return Error{errc::kInternal, std::string("getrlimit: ") + std::strerror(errno)};
  rlim_t hard = limit.rlim_max;
  if (hard == RLIM_INFINITY) {  // the kernel's own ceiling, fs.nr_open
    uint64_t nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    hard = nr_open > 0 ? nr_open : limit.rlim_cur;
  }
  if (limit.rlim_cur >= hard) return static_cast<uint64_t>(limit.rlim_cur);
  rlim_t was = limit.rlim_cur;
  limit.rlim_cur = hard;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
    return Error{errc::kInternal, fmt::format("cannot raise RLIMIT_NOFILE from {} to {}: {}", was,
                                              hard, std::strerror(errno))};
  return static_cast<uint64_t>(hard);
}

std::string data_dir_warning(const std::string& data_dir) {
  struct stat st {};
  if (::stat(data_dir.c_str(), &st) != 0) return "";
  bool read = st.st_mode & S_IROTH, write = st.st_mode & S_IWOTH;
  if (!read && !write) return "";
  std::string can = read ? (write ? "read and write" : "read") : "write";
  return fmt::format(
      "data_dir {} is mode {:04o}: other users can {} it (the stores hold every item's "
      "contents); chmod 750 {}",
      data_dir, st.st_mode & 07777, can, data_dir);
}

void setup_logging(const std::string& name, const std::string& level, const std::string& timezone) {
  use_timezone(timezone);  // the lines' times are the office's wall clock, with its offset
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %z %n[%P] %l: %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// SCHED_BATCH: a woken process does not preempt a running one, so each one runs
// longer and takes more messages per wake-up. On two cores that halves the context
// switches per lifecycle (docs/performance.md); it changes only preemption, so a woken
// process still gets an idle core at once. Threads started later inherit it.
void apply_cpu_scheduling(const Config& config) {
  sched_param param{};
  int policy = config.cpu_scheduling == "batch" ? SCHED_BATCH : SCHED_OTHER;
  if (sched_setscheduler(0, policy, &param) != 0)
    spdlog::warn("cpu_scheduling = \"{}\" not applied: {}", config.cpu_scheduling,
                 std::strerror(errno));
}

Config daemon_start(int argc, char** argv, const std::string& name) {
  private_umask();
  CLI::App app("closeloop " + name + " worker");
  std::string config_path, log_level;
  app.add_option("--config", config_path, "configuration file (TOML)")->required();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (default: from config)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    std::exit(rc == 0 ? 0 : 2);
  }
  auto config = load_config(config_path);
  Status paths = config ? check_moved_paths(*config) : Status(config.error());
  if (!paths) {  // EX_CONFIG: a supervisor (closeloopd, systemd) must not restart it
    std::cerr << name << ": " << paths.error().message << "\n";
    std::exit(EX_CONFIG);
  }
  setup_logging(name, log_level.empty() ? config->log_level : log_level, config->timezone);
  // The broker needs a descriptor per connection; below this an idle crowd fills it soon.
  constexpr uint64_t kFewDescriptors = 4096;
  if (auto limit = raise_descriptor_limit(); !limit) {
    spdlog::warn("{}: {}", name, limit.error().message);
  } else if (name == "broker" && *limit < kFewDescriptors) {
    spdlog::warn(
        "{}: only {} descriptors (the hard RLIMIT_NOFILE): one per connection; "
        "raise it (the units set LimitNOFILE=65536)",
        name, *limit);
  } else {
    spdlog::debug("{}: {} descriptors", name, *limit);
  }
  if (std::string warning = data_dir_warning(config->data_dir); !warning.empty())
    spdlog::warn("{}: {}", name, warning);
  if (!config->curve())
    spdlog::warn("{}: security.mode = \"off\": nothing on {} or {} is authenticated or encrypted",
                 name, config->endpoint, config->backend);
  apply_cpu_scheduling(*config);
  return std::move(*config);
}

}  // namespace closeloop
