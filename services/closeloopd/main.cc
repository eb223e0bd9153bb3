// closeloopd: starts the closeloop processes and keeps them running.
//
// Contract:
//   closeloopd --config FILE [--bin-dir DIR]
//   closeloopd --check-config FILE
// - --check-config validates FILE as every process does at start and starts nothing:
//   prints "ok: …" (a short summary) and a line per path the file names (data_dir, the
//   calendar dir with each file's digest, key, clock_file: config/paths.h) and exits 0, or
//   the key and line, or the path missing or unreadable, on stderr and 78.
//   closeloopd --init --config FILE: makes data_dir and the keys, starts nothing (init.h)
// - Usage errors and a --bin-dir without the executables exit 2, an invalid config 78
//   (EX_CONFIG), with the reason on stderr; so does a relative path that earlier versions
//   took from the working directory to something that exists and differs from what it
//   names now, from the config file's folder (config/paths.h); failing to create data_dir
//   exits 1.
// - umask 027 (daemon/daemon.h: data_dir and the stores 0750, their files 0640), the soft
//   descriptor limit raised to the hard one; both inherited by the children, which set
//   them again themselves.
// - Creates data_dir, then starts closeloop-broker, closeloop-ledger, -intake,
//   -dispatch, -handle, -verify and -close from DIR (default: the directory holding
//   closeloopd itself) as `<exe> --config <absolute FILE>`, with CLOSELOOPD_RESTARTS in
//   their environment: how often closeloopd has started that child again (the broker
//   shows its own in `status`). Children stay in
//   closeloopd's process group (Ctrl-C in a terminal reaches all of them) and write
//   to its stdout/stderr. Logs "closeloopd: all workers started" once all run.
// - A child that exits, for any reason, is logged (name, pid, exit status or signal)
//   and restarted after a backoff: 100 ms, doubling up to 5 s, back to 100 ms once
//   the child had stayed up for 10 s, so a crash loop does not spin. A child that
//   exited 78 (EX_CONFIG: it refused the config) is not restarted, as systemd's
//   RestartPreventExitStatus=78 does: starting it again would refuse again.
// - Readiness (docs/operations.md): each child gets closeloopd's own notify socket as
//   NOTIFY_SOCKET (an abstract unix datagram socket, "@closeloopd-<pid>-notify", whose
//   messages are taken only from the children's pids), never systemd's. closeloopd sends
//   READY=1 to its own supervisor once every child has said READY=1, with a STATUS line.
//   With a watchdog of its own (WATCHDOG_USEC), it pings from its loop and gives the same
//   interval to the children: a ready child silent for that long is killed (SIGABRT) and
//   restarted, as systemd would.
// - SIGHUP: validates the file and compares it with the running one as every child will
//   (config/reload.h: a refusal is logged), then forwards SIGHUP to every child, which
//   reloads (worker/worker.h); RELOADING=1 until each has answered READY=1 again.
// - SIGINT/SIGTERM: SIGTERM to the children one at a time in the flow's order (timer,
//   intake, dispatch … close, ledger, broker), so that each drains into running
//   receivers; each gets shutdown_grace_ms + 2 s before SIGKILL; exit 0.
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
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "calendar/clock.h"
#include "config/config.h"
#include "config/paths.h"
#include "config/reload.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/signals.h"
#include "i18n/words.h"
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

// Stop order: the timer (it starts commands), the stages in flow order, so that each
// drains into a receiver still running, then the ledger, then the broker last.
constexpr std::array<const char*, 8> kStopOrder = {
    "closeloop-timer",  "closeloop-intake", "closeloop-dispatch", "closeloop-handle",
    "closeloop-verify", "closeloop-close",  "closeloop-ledger",   "closeloop-broker"};

constexpr milliseconds kBackoffMin{100};
constexpr milliseconds kBackoffMax{5000};
constexpr auto kStableAfter = std::chrono::seconds(10);
constexpr milliseconds kStopMargin{2000};   // beyond a child's own grace, before SIGKILL
constexpr milliseconds kReloadWait{10000};  // children answering a reload, at most
constexpr int kUsageExit = 2;

struct Options {
  std::string config;
  std::string check_config;
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
  uint64_t restarts = 0;               // starts after the first
  milliseconds backoff = kBackoffMin;  // delay before the next restart
  bool ready = false;                  // said READY=1 since it started
  bool reloading = false;              // sent SIGHUP, has not said READY=1 since
  Clock::time_point last_ping;         // its last WATCHDOG=1 (or when it became ready)
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

// What a child is told about its supervisor, closeloopd: its notify socket, never
// systemd's, and the watchdog interval closeloopd enforces (none: no watchdog).
struct ChildNotify {
  std::string socket;
  std::string watchdog_usec;
};

// In the forked child: undo what closeloopd set up, then become the worker.
[[noreturn]] void exec_child(const Child& c, const std::string& config, pid_t parent,
                             const ChildNotify& notify) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);  // closeloopd died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // blocked masks survive exec
  setenv("NOTIFY_SOCKET", notify.socket.c_str(), 1);
  unsetenv("WATCHDOG_PID");  // systemd's names closeloopd
  setenv("CLOSELOOPD_RESTARTS", std::to_string(c.restarts).c_str(), 1);
  if (notify.watchdog_usec.empty()) {
    unsetenv("WATCHDOG_USEC");
  } else {
    setenv("WATCHDOG_USEC", notify.watchdog_usec.c_str(), 1);
  }
  execl(c.exe.c_str(), c.exe.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
  dprintf(STDERR_FILENO, "closeloopd: exec %s: %s\n", c.exe.c_str(), strerror(errno));
  _exit(127);
}

class Supervisor {
 public:
  Supervisor(std::vector<Child> children, std::string config, Config running, SignalFd& signals)
      : children_(std::move(children)),
        config_(std::move(config)),
        running_(std::move(running)),
        grace_(running_.shutdown_grace_ms),
        signals_(signals),
        notify_socket_("@closeloopd-" + std::to_string(getpid()) + "-notify") {
    child_notify_.socket = notify_socket_.address();
    // The children's watchdog is closeloopd's (as strict as systemd's on closeloopd).
    if (watchdog_.enabled())
      child_notify_.watchdog_usec = std::to_string(watchdog_.interval_ms() * 2000);
  }

  // Runs until SIGINT/SIGTERM; returns the exit code.
  int run() {
    for (;;) {
      start_due();
      wait(next_timeout_ms());
      take_notifications();
      for (int sig; (sig = signals_.take()) != 0;) {
        if (sig == SIGHUP) {
          reload();
        } else if (sig != SIGCHLD) {
          return stop_all(sig);
        } else {
          reap();
        }
      }
      check_watchdogs();
      end_reload_when_answered();
      watchdog_.ping_if_due();  // from this loop only: a stuck closeloopd stops pinging
    }
  }

 private:
  void start(Child& c) {
    if (c.started != Clock::time_point{}) ++c.restarts;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) exec_child(c, config_, parent, child_notify_);
    if (pid < 0) {
      spdlog::error("closeloopd: fork for {}: {}", c.name, strerror(errno));
      schedule_restart(c);
      return;
    }
    c.pid = pid;
    c.started = Clock::now();
    c.ready = c.reloading = false;
    spdlog::info("closeloopd: started {} (pid {})", c.name, pid);
  }

  // What the children said on the notify socket (only theirs is believed).
  void take_notifications() {
    for (const auto& m : notify_socket_.take()) {
      Child* c = child_of(m.pid);
      if (!c) continue;
      if (has_line(m.text, "WATCHDOG=1")) c->last_ping = Clock::now();
      if (has_line(m.text, "READY=1")) became_ready(*c);
    }
  }

  void became_ready(Child& c) {
    if (!c.ready) spdlog::info("closeloopd: {} (pid {}) is ready", c.name, c.pid);
    c.ready = true;
    c.reloading = false;
    c.last_ping = Clock::now();
    size_t ready = ready_count();
    if (!announced_ready_ && ready == children_.size()) {
      spdlog::info("closeloopd: all workers ready");
      notify::ready("all " + std::to_string(ready) + " workers ready");
      announced_ready_ = true;
    } else if (announced_ready_ && !reloading_) {
      notify::status(std::to_string(ready) + " of " + std::to_string(children_.size()) +
                     " workers ready");
    }
  }

  // A ready child silent for the whole watchdog interval is stuck: SIGABRT (a core to
  // look at), and the usual restart.
  void check_watchdogs() {
    if (!watchdog_.enabled()) return;
    auto limit = milliseconds(watchdog_.interval_ms() * 2);
    for (Child& c : children_) {
      if (c.pid == 0 || !c.ready || Clock::now() - c.last_ping < limit) continue;
      spdlog::error("closeloopd: {} (pid {}) sent no watchdog ping for {} ms; aborting it", c.name,
                    c.pid, limit.count());
      kill(c.pid, SIGABRT);
      c.ready = false;  // not again before it is restarted
    }
  }

  // Validated and compared here for the log; each child decides and records it itself.
  void reload() {
    Result<Config> next = load_config(config_);
    auto change = next ? reload_change(running_, *next) : Result<ConfigChange>(next.error());
    if (change) {
      spdlog::info("closeloopd: SIGHUP: {} is valid; forwarding SIGHUP to the workers", config_);
      running_ = std::move(*next);
    } else {
      spdlog::error(
          "closeloopd: SIGHUP: {}; forwarding anyway: each worker refuses it and keeps "
          "its running config",
          change.error().message);
    }
    notify::reloading("reloading " + config_);
    reloading_ = true;
    reload_until_ = Clock::now() + kReloadWait;
    for (Child& c : children_) {
      if (c.pid == 0) continue;
      c.reloading = c.ready;  // one still starting reads the file anyway
      kill(c.pid, SIGHUP);
    }
  }

  void end_reload_when_answered() {
    if (!reloading_) return;
    bool late = Clock::now() >= reload_until_;
    std::string waiting;
    for (const Child& c : children_)
      if (c.pid != 0 && c.reloading) waiting += (waiting.empty() ? "" : ", ") + c.name;
    if (!waiting.empty() && !late) return;
    reloading_ = false;
    if (!waiting.empty()) spdlog::warn("closeloopd: no answer to the reload from {}", waiting);
    notify::ready(waiting.empty() ? "reloaded; see each worker's log for its verdict"
                                  : "reload unanswered by " + waiting);
  }

  Child* child_of(pid_t pid) {
    if (pid <= 0) return nullptr;
    auto it = std::find_if(children_.begin(), children_.end(),
                           [pid](const Child& c) { return c.pid == pid; });
    return it == children_.end() ? nullptr : &*it;
  }

  size_t ready_count() const {
    return std::count_if(children_.begin(), children_.end(),
                         [](const Child& c) { return c.pid != 0 && c.ready; });
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
    c.ready = c.reloading = false;
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

  // Milliseconds until the earliest timer (a restart, a ping, a reload's end), or -1.
  int next_timeout_ms() const {
    int timeout = -1;
    auto earliest = [&](int ms) { timeout = timeout < 0 ? ms : std::min(timeout, ms); };
    for (const Child& c : children_) {
      if (c.pid != 0 || c.refused_config) continue;
      earliest(ms_until(c.restart_at));
    }
    if (watchdog_.enabled()) earliest(static_cast<int>(watchdog_.due_in_ms()));
    if (reloading_) earliest(ms_until(reload_until_));
    return timeout;
  }

  void wait(int timeout_ms) {
    pollfd p[] = {{signals_.fd(), POLLIN, 0}, {notify_socket_.fd(), POLLIN, 0}};
    if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
      spdlog::error("closeloopd: poll: {}", strerror(errno));
  }

  size_t running() const {
    return std::count_if(children_.begin(), children_.end(),
                         [](const Child& c) { return c.pid != 0; });
  }

  int stop_all(int sig) {
    stopping_ = true;
    spdlog::info("closeloopd: {}: stopping {} workers", strsignal(sig), running());
    notify::stopping("stopping the workers");
    for (const char* name : kStopOrder) {
      auto it = std::find_if(children_.begin(), children_.end(),
                             [name](const Child& c) { return c.name == name; });
      if (it != children_.end() && it->pid != 0) stop(*it);
    }
    spdlog::info("closeloopd: stopped");
    return 0;
  }

  // SIGTERM, its drain (up to its grace), then SIGKILL.
  void stop(Child& c) {
    kill(c.pid, SIGTERM);
    auto deadline = Clock::now() + grace_ + kStopMargin;
    while (c.pid != 0 && Clock::now() < deadline) {
      wait(ms_until(deadline));
      (void)notify_socket_.take();
      while (signals_.take() != 0) {
      }
      reap();
      watchdog_.ping_if_due();
    }
    if (c.pid == 0) return;
    spdlog::warn("closeloopd: {} (pid {}) still running {} ms after SIGTERM; sending SIGKILL",
                 c.name, c.pid, (grace_ + kStopMargin).count());
    kill(c.pid, SIGKILL);
    int status = 0;
    waitpid(c.pid, &status, 0);
    on_exit(c, status);
  }

  std::vector<Child> children_;
  std::string config_;
  Config running_;  // as the children run it: what a reload is compared with
  milliseconds grace_;
  SignalFd& signals_;
  NotifySocket notify_socket_;  // the children's NOTIFY_SOCKET
  ChildNotify child_notify_;
  Watchdog watchdog_;  // closeloopd's own, from its supervisor
  bool stopping_ = false;
  bool announced_ = false;
  bool announced_ready_ = false;
  bool reloading_ = false;
  Clock::time_point reload_until_;
};

// Returns -1 to go on, or the exit code (help: 0, usage error: 2).
int parse_args(int argc, char** argv, Options* o) {
  CLI::App app{"closeloopd: starts the closeloop broker and workers and restarts them"};
  auto* config = app.add_option("--config", o->config, "configuration file (TOML)");
  auto* check = app.add_option("--check-config", o->check_config,
                               "validate FILE as at start, start nothing: exit 0 (ok) or 78");
  config->excludes(check);
  check->excludes(config);
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
  if (o->config.empty() && o->check_config.empty()) {
    std::cerr << "closeloopd: --config FILE or --check-config FILE is required\n";
    return kUsageExit;
  }
  return -1;
}

// The language --check-config speaks: $CLOSELOOP_LANG, else the config's `language` (when
// it reads), else Chinese, as the CLI (docs/architecture.md, "Words for people").
i18n::Language check_language(const Result<Config>& config) {
  const char* env = std::getenv(i18n::kLanguageEnv);
  if (auto named = i18n::parse_language(env ? env : "")) return *named;
  if (config)
    if (auto configured = i18n::parse_language(config->language)) return *configured;
  return i18n::kDefaultLanguage;
}

// The same validation as every process's start; nothing is started or created.
// Every path it names is looked at too (config/paths.h).
int check_config(const std::string& file) {
  Result<Config> config = load_config(file);
  i18n::Language lang = check_language(config);
  Status moved = config ? check_moved_paths(*config) : Status(config.error());
  auto paths = moved ? check_paths(*config) : Result<std::vector<PathLine>>(moved.error());
  if (!paths) {
    std::cerr << "closeloopd: " << i18n::say(lang, paths.error()) << "\n";
    return EX_CONFIG;
  }
  std::cout << i18n::say(lang,
                         N_("ok: {file}: {departments} departments, {categories} categories, "
                            "{routes} routes; endpoint {endpoint}, data_dir {data_dir}"),
                         {{"file", file},
                          {"departments", std::to_string(config->departments.size())},
                          {"categories", std::to_string(config->categories.size())},
                          {"routes", std::to_string(config->routes.size())},
                          {"endpoint", config->endpoint},
                          {"data_dir", config->data_dir}})
            << "\n";
  for (const PathLine& line : *paths) std::cout << i18n::say(lang, line.msgid, line.args) << "\n";
  return 0;
}

void setup_supervisor_logging() {
  auto logger = spdlog::stderr_color_mt("closeloopd");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %z %^%l%$ %v");
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
  Status paths = config ? check_moved_paths(*config) : Status(config.error());
  if (!paths) {
    spdlog::error("closeloopd: {}", paths.error().message);
    return EX_CONFIG;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  use_timezone(config->timezone);  // its log lines in the office's time, as the workers'
  if (auto limit = raise_descriptor_limit(); !limit)  // the children inherit it
    spdlog::warn("closeloopd: {}", limit.error().message);
  if (o.init) {
    if (std::string warning = data_dir_warning(config->data_dir); !warning.empty())
      spdlog::warn("closeloopd: {}", warning);  // each child says it again at its start
    return init_data_dir(*config, {kChildren.begin(), kChildren.end()});
  }
  std::vector<Child> children = make_children(o.bin_dir.empty() ? default_bin_dir() : o.bin_dir);
  if (children.empty()) return kUsageExit;
  std::error_code ec;
  fs::create_directories(config->data_dir, ec);
  if (ec) {
    spdlog::error("closeloopd: cannot create data_dir {}: {}", config->data_dir, ec.message());
    return 1;
  }
  Supervisor supervisor(std::move(children), fs::absolute(o.config).string(), std::move(*config),
                        signals);
  return supervisor.run();
}

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::private_umask();  // before it makes data_dir (and the children inherit it)
  // First, before anything could start a thread: block the signals into a descriptor.
  closeloop::SignalFd signals({SIGINT, SIGTERM, SIGCHLD, SIGHUP});
  closeloop::Options options;
  if (int rc = closeloop::parse_args(argc, argv, &options); rc >= 0) return rc;
  if (!options.check_config.empty()) return closeloop::check_config(options.check_config);
  closeloop::setup_supervisor_logging();
  return closeloop::run(options, signals);
}
