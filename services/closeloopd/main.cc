// closeloopd: starts the closeloop processes and keeps them running.
//
// Contract:
//   closeloopd --config FILE [--bin-dir DIR]
//   closeloopd --init --config FILE: makes data_dir and the keys, starts nothing (init.h)
// - Usage errors and a --bin-dir without the executables exit 2, an invalid config 78
//   (EX_CONFIG), with the reason on stderr; failing to create data_dir exits 1.
// - Creates data_dir, then starts closeloop-broker, closeloop-ledger, -intake,
//   -dispatch, -handle, -verify and -close from DIR (default: the directory holding
//   closeloopd itself) as `<exe> --config <absolute FILE>`. Children stay in
//   closeloopd's process group (Ctrl-C in a terminal reaches all of them) and write
//   to its stdout/stderr. Logs "closeloopd: all workers started" once all run.
// - A child that exits, for any reason, is logged (name, pid, exit status or signal)
//   and restarted after a backoff: 100 ms, doubling up to 5 s, back to 100 ms once
//   the child had stayed up for 10 s, so a crash loop does not spin. A child that
//   exited 78 (EX_CONFIG: it refused the config) is not restarted, as systemd's
//   RestartPreventExitStatus=78 does: starting it again would refuse again.
// - SIGINT/SIGTERM: SIGTERM to every child, up to 10 s for them to exit, SIGKILL to
//   the rest, exit 0.
// - Children get PR_SET_PDEATHSIG(SIGTERM): they die with closeloopd even if it is
//   SIGKILLed.
// Single-threaded: signals arrive through a SignalFd, timers are poll() timeouts.
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/signals.h"
#include "init.h"

namespace closeloop {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Start order: the broker first, then the ledger, then the stages in flow order.
constexpr std::array<const char*, 8> kChildren = {
    "closeloop-broker", "closeloop-ledger", "closeloop-intake", "closeloop-dispatch",
    "closeloop-handle", "closeloop-verify", "closeloop-close", "closeloop-timer"};

constexpr milliseconds kBackoffMin{100};
constexpr milliseconds kBackoffMax{5000};
constexpr auto kStableAfter = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr int kUsageExit = 2;

struct Options {
  std::string config;
  std::string bin_dir;
  bool init = false;
};

struct Child {
  std::string name;
  std::string exe;
  pid_t pid = 0;                       // 0 while not running
  Clock::time_point started;           // while running: since when
  Clock::time_point restart_at;        // while not running: when to start it again
  bool refused_config = false;         // it exited 78: not started again
  milliseconds backoff = kBackoffMin;  // delay before the next restart
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (!WIFSIGNALED(status)) return "changed state " + std::to_string(status);
  int sig = WTERMSIG(status);
  return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")" +
         (WCOREDUMP(status) ? ", core dumped" : "");
}

int ms_until(Clock::time_point t) {
  auto left = std::chrono::ceil<milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(left, 0));
}

// In the forked child: undo what closeloopd set up, then become the worker.
[[noreturn]] void exec_child(const Child& c, const std::string& config, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);  // closeloopd died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // blocked masks survive exec
  execl(c.exe.c_str(), c.exe.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
  dprintf(STDERR_FILENO, "closeloopd: exec %s: %s\n", c.exe.c_str(), strerror(errno));
  _exit(127);
}

class Supervisor {
 public:
  Supervisor(std::vector<Child> children, std::string config, SignalFd& signals)
      : children_(std::move(children)), config_(std::move(config)), signals_(signals) {}

  // Runs until SIGINT/SIGTERM; returns the exit code.
  int run() {
    for (;;) {
      start_due();
      wait(next_timeout_ms());
      for (int sig; (sig = signals_.take()) != 0;) {
        if (sig != SIGCHLD) return stop_all(sig);
        reap();
      }
    }
  }

 private:
  void start(Child& c) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) exec_child(c, config_, parent);
    if (pid < 0) {
      spdlog::error("closeloopd: fork for {}: {}", c.name, strerror(errno));
      schedule_restart(c);
      return;
    }
    c.pid = pid;
    c.started = Clock::now();
    spdlog::info("closeloopd: started {} (pid {})", c.name, pid);
  }

  void start_due() {
    auto now = Clock::now();
    for (Child& c : children_) {
      if (c.pid == 0 && !c.refused_config && c.restart_at <= now) start(c);
    }
    if (!announced_ && running() == children_.size()) {
      spdlog::info("closeloopd: all workers started");
      announced_ = true;
    }
  }

  void schedule_restart(Child& c) {
    c.restart_at = Clock::now() + c.backoff;
    c.backoff = std::min(c.backoff * 2, kBackoffMax);
  }

  void on_exit(Child& c, int status) {
    pid_t pid = c.pid;
    c.pid = 0;
    if (stopping_) {
      spdlog::info("closeloopd: {} (pid {}) {}", c.name, pid, describe_status(status));
      return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == EX_CONFIG) {
      spdlog::error(
          "closeloopd: {} (pid {}) refused the config (exit 78); not restarting it: "
          "fix the config and restart closeloopd",
          c.name, pid);
      c.refused_config = true;
      return;
    }
    if (Clock::now() - c.started >= kStableAfter) c.backoff = kBackoffMin;
    spdlog::warn("closeloopd: {} (pid {}) {}; restarting in {} ms", c.name, pid,
                 describe_status(status), c.backoff.count());
    schedule_restart(c);
  }

  void reap() {
    int status = 0;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
      auto it = std::find_if(children_.begin(), children_.end(),
                             [pid](const Child& c) { return c.pid == pid; });
      if (it != children_.end()) on_exit(*it, status);
    }
  }

  // Milliseconds until the earliest pending restart, or -1 (no timer).
  int next_timeout_ms() const {
    int timeout = -1;
    for (const Child& c : children_) {
      if (c.pid != 0 || c.refused_config) continue;
      int ms = ms_until(c.restart_at);
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    return timeout;
  }

  void wait(int timeout_ms) {
    pollfd p{signals_.fd(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
      spdlog::error("closeloopd: poll: {}", strerror(errno));
  }

  size_t running() const {
    return std::count_if(children_.begin(), children_.end(),
                         [](const Child& c) { return c.pid != 0; });
  }

  int stop_all(int sig) {
    stopping_ = true;
    spdlog::info("closeloopd: {}: stopping {} workers", strsignal(sig), running());
    for (const Child& c : children_) {
      if (c.pid != 0) kill(c.pid, SIGTERM);
    }
    auto deadline = Clock::now() + kStopGrace;
    while (running() > 0 && Clock::now() < deadline) {
      wait(ms_until(deadline));
      while (signals_.take() != 0) {
      }
      reap();
    }
    kill_remaining();
    spdlog::info("closeloopd: stopped");
    return 0;
  }

  void kill_remaining() {
    for (Child& c : children_) {
      if (c.pid == 0) continue;
      spdlog::warn("closeloopd: {} (pid {}) ignored SIGTERM for {} s; sending SIGKILL", c.name,
                   c.pid, kStopGrace.count());
      kill(c.pid, SIGKILL);
      int status = 0;
      waitpid(c.pid, &status, 0);
      on_exit(c, status);
    }
  }

  std::vector<Child> children_;
  std::string config_;
  SignalFd& signals_;
  bool stopping_ = false;
  bool announced_ = false;
};

// Returns -1 to go on, or the exit code (help: 0, usage error: 2).
int parse_args(int argc, char** argv, Options* o) {
  CLI::App app{"closeloopd: starts the closeloop broker and workers and restarts them"};
  app.add_option("--config", o->config, "configuration file (TOML)")->required();
  app.add_option("--bin-dir", o->bin_dir,
                 "directory of the closeloop-* executables (default: closeloopd's own)");
  app.add_flag("--init", o->init,
               "make data_dir and every key a first start makes (existing ones are kept), "
               "print where the admin's key is, and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageExit;
  }
  return -1;
}

void setup_logging() {
  auto logger = spdlog::stderr_color_mt("closeloopd");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
}

std::string default_bin_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "." : self.parent_path().string();
}

// The children in start order, or an empty list if an executable is missing.
std::vector<Child> make_children(const std::string& bin_dir) {
  std::vector<Child> children;
  for (const char* name : kChildren) {
    std::string exe = (fs::path(bin_dir) / name).string();
    if (access(exe.c_str(), X_OK) != 0) {
      spdlog::error("closeloopd: cannot execute {}: {}", exe, strerror(errno));
      return {};
    }
    Child child;
    child.name = name;
    child.exe = exe;
    child.restart_at = Clock::now();
    children.push_back(std::move(child));
  }
  return children;
}

int run(const Options& o, SignalFd& signals) {
  Result<Config> config = load_config(o.config);
  if (!config) {
    spdlog::error("closeloopd: {}", config.error().message);
    return EX_CONFIG;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  if (o.init) return init_data_dir(*config, {kChildren.begin(), kChildren.end()});
  std::vector<Child> children = make_children(o.bin_dir.empty() ? default_bin_dir() : o.bin_dir);
  if (children.empty()) return kUsageExit;
  std::error_code ec;
  fs::create_directories(config->data_dir, ec);
  if (ec) {
    spdlog::error("closeloopd: cannot create data_dir {}: {}", config->data_dir, ec.message());
    return 1;
  }
  Supervisor supervisor(std::move(children), fs::absolute(o.config).string(), signals);
  return supervisor.run();
}

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  // First, before anything could start a thread: block the signals into a descriptor.
  closeloop::SignalFd signals({SIGINT, SIGTERM, SIGCHLD});
  closeloop::Options options;
  if (int rc = closeloop::parse_args(argc, argv, &options); rc >= 0) return rc;
  closeloop::setup_logging();
  return closeloop::run(options, signals);
}
