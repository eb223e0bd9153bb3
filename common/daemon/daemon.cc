#include "daemon/daemon.h"

#include <sched.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace closeloop {

void setup_logging(const std::string& name, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n[%P] %l: %v");
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
  if (!config) {  // EX_CONFIG: a supervisor (closeloopd, systemd) must not restart it
    std::cerr << name << ": " << config.error().message << "\n";
    std::exit(EX_CONFIG);
  }
  setup_logging(name, log_level.empty() ? config->log_level : log_level);
  if (!config->curve())
    spdlog::warn("{}: security.mode = \"off\": nothing on {} or {} is authenticated or encrypted",
                 name, config->endpoint, config->backend);
  apply_cpu_scheduling(*config);
  return std::move(*config);
}

}  // namespace closeloop
