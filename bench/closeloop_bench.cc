// closeloop-bench: drives items through the whole lifecycle (submit → assign → handle →
// verify → close) against a running closeloop and reports throughput and latency.
//
//   closeloop-bench --endpoint E --items N --window W [--warmup K] [--category C]
//                   [--threads T] [--max-seconds S] [--pids P,P,...] [--tag NAME] [--json]
//                   [--config FILE] [--key FILE] [--office NAME --clerk NAME]
//
// Its key is the one a CLI would find (net/client.h, find_keys(): by default the
// config's data_dir holds the office key and the service's public key). A handle is the
// lead department's to record: with a gateway account's key, --office and --clerk name
// the accounts each command acts for (the office's verbs, zjj's clerk's handle), as a
// web front end acts for the people it serves over one connection.
//
// Closed loop: W lifecycles are in flight at all times (while items remain). They are
// spread over T client threads (default min(W, 2)), each with its own Client (one
// DEALER), which keeps its share in flight with start(): the client matches each reply to
// its request and hands it to the thread (through a queue, from its I/O thread). A lifecycle sends one command at a time, the next one when the
// previous one was acknowledged (with sync = true an ack means "on disk"):
//   submit (category C, default "business": a category without a route, so that
//   nobody assigns it but us), assign to department zjj, handle by zjj with outcome
//   solved, verify satisfied, close.
// A reply with error code in_transit or unavailable ("nothing happened, try again") is
// retried after 1 ms; any other error, or no reply within --request-timeout-ms (the
// client's timeout), abandons that lifecycle and is counted as an error (the exit status is then 1).
//
// Measurement, as the peer's driver (shared/bench/bullmq/pipeline.js) does it: the
// first K lifecycles (by submission order) are warm-up; the clock starts when the
// K-th lifecycle closes and stops when the last one closes; lifecycles/s = measured
// lifecycles / that time. Latencies are taken on one monotonic clock: per command
// from its first send to its ok reply (retries included), per lifecycle from the
// submit's send to the close's ack. With --pids, the CPU time (utime + stime, all
// threads) of those processes over the measured interval is reported per lifecycle;
// the bench's own CPU likewise, and each process's share (named by its executable).
//
// --reads-only replaces the five commands by five `show`s of an item that does not exist
// (answered not_found by the ledger after a turn that writes nothing): the same clients,
// broker and hops without the durable work, i.e. the request path's own cost and
// ceiling, to read the full lifecycle's numbers against.
//
// Output: lines `METRIC <tag>.w<W>.<name> <value> <unit>` (the format of
// shared/bench, so summarize.sh aggregates runs), or with --json one JSON object.
// Exit status: 0 all measured lifecycles closed; 1 some failed; 2 usage error.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "net/client.h"
#include "wire/codec.h"
#include "wire/message.h"
#include "workflow/command.h"

namespace closeloop::bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

constexpr std::array<const char*, 5> kVerbs{"submit", "assign", "handle", "verify", "close"};
constexpr int kSteps = static_cast<int>(kVerbs.size());
constexpr const char* kDepartment = "zjj";

struct Options {
  std::string endpoint, config, key;
  std::optional<ClientKeys> keys;
  std::string office, clerk;  // through a gateway: who acts for the office, and for zjj
  // Who acts for `verb`: the key's account (or, through a gateway, the office or the
  // clerk), or with security.mode = "off" (no keys) "bench".
  std::string actor(std::string_view verb) const {
    if (!keys) return "bench";
    return verb == "handle" ? clerk : office;
  }
  uint64_t items = 1000;
  int window = 64;
  int64_t warmup = -1;  // -1: default
  std::string category = "business";
  int threads = 0;  // 0: default
  double max_seconds = 120;
  int request_timeout_ms = 10000;
  std::string pids;
  std::string tag = "closeloop";
  bool json = false;
  bool reads_only = false;
};

constexpr const char* kMissingItem = "0000-000000";  // never issued: ids start at 2026

// ---- CPU time of processes, from /proc ----

// utime + stime of every thread of `pid`, in ticks, or -1 if the process is gone.
int64_t process_ticks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return -1;
  // The command name (field 2) may hold spaces: fields count from the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return utime + stime;
}

// The process's executable name, "closeloop-" dropped (from argv[0]: comm is cut at
// 15 characters).
std::string process_name(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string name;
  std::getline(in, name, '\0');
  name = name.substr(name.rfind('/') + 1);
  if (name.rfind("closeloop-", 0) == 0) name = name.substr(10);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name.empty() ? std::to_string(pid) : name;
}

struct CpuSnapshot {
  std::vector<int64_t> ticks;  // per pid
  double self_s = 0;           // this process
};

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

CpuSnapshot snapshot(const std::vector<int>& pids) {
  CpuSnapshot s;
  for (int pid : pids) s.ticks.push_back(process_ticks(pid));
  s.self_s = self_cpu_seconds();
  return s;
}

// ---- statistics ----

double percentile_us(std::vector<uint64_t>& ns, double p) {
  if (ns.empty()) return 0;
  std::sort(ns.begin(), ns.end());
  size_t i = static_cast<size_t>(p / 100.0 * (ns.size() - 1) + 0.5);
  return ns[std::min(i, ns.size() - 1)] / 1000.0;
}

struct Stats {
  std::array<std::vector<uint64_t>, kSteps> command_ns;
  std::vector<uint64_t> lifecycle_ns;
  std::array<uint64_t, kSteps> retries{};
  std::array<uint64_t, kSteps> errors{};
  std::vector<std::string> error_samples;
  uint64_t measured = 0;    // lifecycles closed that count
  uint64_t closed = 0;      // all lifecycles closed, warm-up included
  uint64_t last_close_ns = 0;

  void merge(Stats& o) {
    for (int v = 0; v < kSteps; ++v) {
      command_ns[v].insert(command_ns[v].end(), o.command_ns[v].begin(), o.command_ns[v].end());
      retries[v] += o.retries[v];
      errors[v] += o.errors[v];
    }
    lifecycle_ns.insert(lifecycle_ns.end(), o.lifecycle_ns.begin(), o.lifecycle_ns.end());
    for (auto& s : o.error_samples)
      if (error_samples.size() < 10) error_samples.push_back(s);
    measured += o.measured;
    closed += o.closed;
    last_close_ns = std::max(last_close_ns, o.last_close_ns);
  }
};

// ---- the run, shared by the client threads ----

class Run {
 public:
  Run(const Options& options, std::vector<int> pids)
      : o_(options), pids_(std::move(pids)), total_(options.items + options.warmup) {}

  // Called by whoever closes a lifecycle; starts the clock at the K-th close.
  void lifecycle_closed() {
    if (closed_.fetch_add(1) + 1 == static_cast<uint64_t>(o_.warmup)) start_clock();
  }

  void start_clock() {
    std::lock_guard lock(mutex_);
    cpu0_ = snapshot(pids_);
    t0_ns_.store(now_ns());
  }

  // The index of the next lifecycle to start, or -1 when none is left.
  int64_t next_index() {
    uint64_t t0 = t0_ns_.load(), now = now_ns(), bound = static_cast<uint64_t>(o_.max_seconds * 1e9);
    // Measured time is bounded by max_seconds, warm-up plus measured time by twice that.
    if ((t0 && now - t0 > bound) || now - started_ns_ > 2 * bound) {
      time_bound_hit_.store(true);
      return -1;
    }
    uint64_t i = next_.fetch_add(1);
    return i < total_ ? static_cast<int64_t>(i) : -1;
  }

  const Options& o_;
  const std::vector<int> pids_;
  const uint64_t total_;
  const uint64_t started_ns_ = now_ns();
  std::atomic<uint64_t> next_{0}, closed_{0}, t0_ns_{0};
  std::atomic<bool> time_bound_hit_{false};
  std::mutex mutex_;
  CpuSnapshot cpu0_;
};

// One client thread: keeps `share` lifecycles in flight on its own Client.
class Driver {
 public:
  Driver(Run& run, int share)
      : run_(run),
        share_(share),
        client_(run.o_.endpoint, run.o_.request_timeout_ms, 1 << 20, run.o_.keys) {
    // ~200 characters of body text: the item record lands at a few hundred bytes,
    // like the ~300-byte record of the shared benchmarks.
    static const char kText[] =
        "路灯不亮 street light out at the corner of Tianma Road and Zigang Road since last "
        "week; residents ask for repair and for a check of the other lights on the same "
        "circuit. ";
    body_text_ = kText;
    show_missing_ = wire::MapBuilder().add("item", kMissingItem).finish();
  }

  void operator()() {
    slots_.resize(share_);
    for (int s = 0; s < share_; ++s) start(s);
    while (active_ > 0) {
      uint64_t now = now_ns();
      while (!retry_.empty() && retry_.front().first <= now) {
        int s = retry_.front().second;
        retry_.pop_front();
        send(s);
      }
      int wait_ms = 100;
      if (!retry_.empty())
        wait_ms = static_cast<int>((retry_.front().first - std::min(retry_.front().first, now) +
                                    999'999) / 1'000'000);
      for (auto& [s, reply] : answers(wait_ms)) {
        if (reply) on_reply(s, *reply);
        else fail(s, reply.error().code + ": " + reply.error().message);
      }
    }
  }

  Stats stats;

 private:
  struct Slot {
    bool busy = false;
    uint64_t index = 0;
    std::string item;
    int step = 0;
    uint64_t t_start = 0;  // submit first sent
    uint64_t t_cmd = 0;    // this command first sent
    uint64_t t_sent = 0;   // this attempt sent
  };

  bool measured(const Slot& s) const { return s.index >= static_cast<uint64_t>(run_.o_.warmup); }

  void start(int s) {
    int64_t index = run_.next_index();
    Slot& slot = slots_[s];
    if (index < 0) {
      slot.busy = false;
      return;
    }
    slot = Slot{.busy = true, .index = static_cast<uint64_t>(index)};
    ++active_;
    slot.t_start = slot.t_cmd = now_ns();
    send(s);
  }

  std::string body(const Slot& slot) const {
    Command c{.verb = kVerbs[slot.step], .item_id = slot.item};
    switch (slot.step) {
      case 0:
        c.set("title", "bench item " + std::to_string(slot.index)).set("body", body_text_);
        c.set("category", run_.o_.category).set("source", "center").set("submitter", "bench");
        break;
      case 1:
        c.set("department", kDepartment);
        break;
      case 2:
        c.set("department", kDepartment).set("reply", "repaired the light and checked the circuit");
        c.set("outcome", "solved");
        break;
      case 3:  // the office records the station's evaluation, received on paper
        c.set("rating", "satisfied").set("via", "paper");
        break;
      default:
        break;
    }
    return encode_command_body(c);
  }

  void send(int s) {
    Slot& slot = slots_[s];
    slot.t_sent = now_ns();
    auto answered = [this, s](Result<wire::Reply> reply) {  // on the client's I/O thread
      std::lock_guard lock(inbox_mutex_);
      inbox_.emplace_back(s, std::move(reply));
      inbox_changed_.notify_one();
    };
    if (run_.o_.reads_only)
      client_.start("show", run_.o_.actor("show"), show_missing_, answered);
    else
      client_.start(kVerbs[slot.step], run_.o_.actor(kVerbs[slot.step]), body(slot), answered);
  }

  // The answers that came within `wait_ms`, by slot.
  std::deque<std::pair<int, Result<wire::Reply>>> answers(int wait_ms) {
    std::unique_lock lock(inbox_mutex_);
    inbox_changed_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return !inbox_.empty(); });
    return std::exchange(inbox_, {});
  }

  void on_reply(int s, wire::Reply& reply) {
    Slot& slot = slots_[s];
    uint64_t now = now_ns();
    if (run_.o_.reads_only && !reply.ok && reply.error.code == errc::kNotFound) {
      reply.ok = true;  // the expected answer
      slot.item = kMissingItem;
    }
    if (!reply.ok) {
      if (reply.error.code == errc::kInTransit || reply.error.code == errc::kUnavailable) {
        ++stats.retries[slot.step];
        retry_.emplace_back(now + 1'000'000, s);
        return;
      }
      return fail(s, reply.error.code + ": " + reply.error.message);
    }
    if (slot.step == 0 && !run_.o_.reads_only) {
      wire::Fields f(reply.body, "reply");
      const msgpack::object* item = f.opt_map("item");
      std::optional<std::string> id;
      if (item) {
        wire::Fields g(*item, "item");
        id = g.opt_str("id", 64);
      }
      if (!id || id->empty()) return fail(s, "submit reply without item id");
      slot.item = *id;
    }
    if (measured(slot)) stats.command_ns[slot.step].push_back(now - slot.t_cmd);
    if (++slot.step < kSteps) {
      slot.t_cmd = now;
      return send(s);
    }
    ++stats.closed;
    if (measured(slot)) {
      ++stats.measured;
      stats.lifecycle_ns.push_back(now - slot.t_start);
      stats.last_close_ns = now;
    }
    run_.lifecycle_closed();
    --active_;
    start(s);
  }

  void fail(int s, const std::string& why) {
    note_error(slots_[s].step, std::string(kVerbs[slots_[s].step]) + " of lifecycle " +
                                   std::to_string(slots_[s].index) + ": " + why);
    run_.lifecycle_closed();  // so that a failed warm-up lifecycle does not stall the clock
    --active_;
    start(s);
  }

  void note_error(int step, const std::string& what) {
    if (step >= 0) ++stats.errors[step];
    if (stats.error_samples.size() < 10) stats.error_samples.push_back(what);
  }

  Run& run_;
  const int share_;
  // Filled by the client's I/O thread; declared before the client, to outlive it.
  std::mutex inbox_mutex_;
  std::condition_variable inbox_changed_;
  std::deque<std::pair<int, Result<wire::Reply>>> inbox_;
  Client client_;
  std::string body_text_;
  std::string show_missing_;  // the body of --reads-only's show
  std::vector<Slot> slots_;
  std::deque<std::pair<uint64_t, int>> retry_;  // (due, slot); due times only grow
  int active_ = 0;
};

std::vector<int> parse_pids(const std::string& text) {
  std::vector<int> pids;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ','))
    if (!part.empty()) pids.push_back(std::stoi(part));
  return pids;
}

int run_bench(Options o) {
  if (o.warmup < 0) o.warmup = std::min<int64_t>(std::max<int64_t>(2 * o.window, 100), 2000);
  if (o.threads <= 0) o.threads = std::min(o.window, 2);
  o.threads = std::min(o.threads, o.window);
  std::vector<int> pids = parse_pids(o.pids);

  Run run(o, pids);
  std::vector<std::unique_ptr<Driver>> drivers;
  for (int t = 0; t < o.threads; ++t)
    drivers.push_back(
        std::make_unique<Driver>(run, o.window / o.threads + (t < o.window % o.threads ? 1 : 0)));
  if (o.warmup == 0) run.start_clock();
  std::vector<std::thread> threads;
  for (auto& d : drivers) threads.emplace_back(std::ref(*d));
  for (auto& t : threads) t.join();

  Stats all;
  for (auto& d : drivers) all.merge(d->stats);
  CpuSnapshot cpu1 = snapshot(pids);
  uint64_t t0 = run.t0_ns_.load();
  double secs = t0 && all.last_close_ns > t0 ? (all.last_close_ns - t0) / 1e9 : 0;
  double rate = secs > 0 ? all.measured / secs : 0;

  // Service CPU over the measured interval (the snapshot at the end is taken after
  // the last close, when the service is idle again).
  double service_cpu_s = -1;
  std::string cpu_note;
  std::vector<std::pair<std::string, double>> cpu_split;  // (process, seconds)
  if (!pids.empty() && t0) {
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    double ticks = 0;
    for (size_t i = 0; i < pids.size(); ++i) {
      if (run.cpu0_.ticks[i] < 0 || cpu1.ticks[i] < 0) {
        cpu_note = "process " + std::to_string(pids[i]) + " went away during the run";
        ticks = -1;
        break;
      }
      ticks += cpu1.ticks[i] - run.cpu0_.ticks[i];
      cpu_split.emplace_back(process_name(pids[i]), (cpu1.ticks[i] - run.cpu0_.ticks[i]) / hz);
    }
    if (ticks >= 0) service_cpu_s = ticks / hz;
    else cpu_split.clear();
  }
  double client_cpu_s = t0 ? cpu1.self_s - run.cpu0_.self_s : 0;
  uint64_t errors = 0, retries = 0, commands = 0;
  for (int v = 0; v < kSteps; ++v) {
    errors += all.errors[v];
    retries += all.retries[v];
    commands += all.command_ns[v].size();
  }

  const std::string prefix = o.tag + ".w" + std::to_string(o.window);
  nlohmann::json j;
  j["tag"] = o.tag;
  j["window"] = o.window;
  j["threads"] = o.threads;
  j["items"] = o.items;
  j["warmup"] = o.warmup;
  j["measured"] = all.measured;
  j["seconds"] = secs;
  j["lifecycles_per_s"] = rate;
  j["commands_per_s"] = secs > 0 ? commands / secs : 0;
  j["lifecycle"] = {{"p50_us", percentile_us(all.lifecycle_ns, 50)},
                    {"p99_us", percentile_us(all.lifecycle_ns, 99)}};
  for (int v = 0; v < kSteps; ++v) {
    j["commands"][kVerbs[v]] = {{"p50_us", percentile_us(all.command_ns[v], 50)},
                                {"p99_us", percentile_us(all.command_ns[v], 99)},
                                {"count", all.command_ns[v].size()},
                                {"retries", all.retries[v]},
                                {"errors", all.errors[v]}};
  }
  if (service_cpu_s >= 0 && all.measured) {
    j["service_cpu_us_per_lifecycle"] = service_cpu_s * 1e6 / all.measured;
    for (const auto& [name, s] : cpu_split)
      j["service_cpu_us_per_lifecycle_by_process"][name] = s * 1e6 / all.measured;
  }
  if (all.measured) j["client_cpu_us_per_lifecycle"] = client_cpu_s * 1e6 / all.measured;
  j["retries"] = retries;
  j["errors"] = errors;
  j["error_samples"] = all.error_samples;
  j["time_bound_hit"] = run.time_bound_hit_.load();

  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    auto metric = [&](const std::string& name, double v, const char* unit) {
      std::printf("METRIC %s.%s %.3f %s\n", prefix.c_str(), name.c_str(), v, unit);
    };
    metric("lifecycles_per_s", rate, "lc/s");
    metric("lat_p50", j["lifecycle"]["p50_us"], "us");
    metric("lat_p99", j["lifecycle"]["p99_us"], "us");
    for (int v = 0; v < kSteps; ++v) {
      metric(std::string(kVerbs[v]) + "_p50", j["commands"][kVerbs[v]]["p50_us"], "us");
      metric(std::string(kVerbs[v]) + "_p99", j["commands"][kVerbs[v]]["p99_us"], "us");
    }
    metric("commands_per_s", j["commands_per_s"], "cmd/s");
    if (j.contains("service_cpu_us_per_lifecycle")) {
      metric("service_cpu_us_per_lifecycle", j["service_cpu_us_per_lifecycle"], "us");
      for (const auto& [name, us] : j["service_cpu_us_per_lifecycle_by_process"].items())
        metric("cpu_us_per_lifecycle." + name, us, "us");
    }
    if (j.contains("client_cpu_us_per_lifecycle"))
      metric("client_cpu_us_per_lifecycle", j["client_cpu_us_per_lifecycle"], "us");
    metric("retries", retries, "count");
    metric("errors", errors, "count");
  }
  std::fflush(stdout);
  std::fprintf(stderr,
               "closeloop-bench: W=%d threads=%d: %llu of %llu lifecycles measured in %.2f s "
               "(warm-up %lld), %llu retries, %llu errors\n",
               o.window, o.threads, static_cast<unsigned long long>(all.measured),
               static_cast<unsigned long long>(o.items), secs, static_cast<long long>(o.warmup),
               static_cast<unsigned long long>(retries), static_cast<unsigned long long>(errors));
  if (!cpu_note.empty()) std::fprintf(stderr, "closeloop-bench: %s\n", cpu_note.c_str());
  if (run.time_bound_hit_) std::fprintf(stderr, "closeloop-bench: time bound hit\n");
  for (const auto& e : all.error_samples) std::fprintf(stderr, "closeloop-bench: error: %s\n", e.c_str());
  return errors ? 1 : 0;
}

}  // namespace
}  // namespace closeloop::bench

int main(int argc, char** argv) {
  closeloop::bench::Options o;
  CLI::App app{"Drives items through submit, assign, handle, verify and close; reports rates"};
  app.add_option("--endpoint", o.endpoint, "the broker's client endpoint")->required();
  app.add_option("--items", o.items, "measured lifecycles")->check(CLI::PositiveNumber);
  app.add_option("--window", o.window, "lifecycles in flight")->check(CLI::Range(1, 65536));
  app.add_option("--warmup", o.warmup, "unmeasured lifecycles first (default 2W, 100..2000)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--category", o.category, "category of the items (one without a route)");
  app.add_option("--threads", o.threads, "client threads, each with one connection (default min(W, 2))")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-seconds", o.max_seconds, "stop starting lifecycles after this long")
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout-ms", o.request_timeout_ms, "abandon a command after this")
      ->check(CLI::PositiveNumber);
  app.add_option("--pids", o.pids, "comma-separated pids whose CPU time to report");
  app.add_option("--tag", o.tag, "metric name prefix");
  app.add_flag("--json", o.json, "one JSON object instead of METRIC lines");
  app.add_option("--config", o.config, "the service's config (for its data_dir's keys)");
  app.add_option("--key", o.key, "the key file (default: as the CLI finds it, the office's)");
  app.add_option("--office", o.office, "with a gateway's key: the account acting for the office");
  app.add_option("--clerk", o.clerk, "with a gateway's key: the account of zjj's clerk (handle)");
  app.add_flag("--reads-only", o.reads_only,
               "five shows of a missing item per lifecycle instead of the five commands");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  closeloop::Config config;
  if (!o.config.empty()) {
    auto loaded = closeloop::load_config(o.config);
    if (!loaded)
      return std::fprintf(stderr, "closeloop-bench: %s\n", loaded.error().message.c_str()), 2;
    config = std::move(*loaded);
  }
  auto keys = closeloop::find_keys(config, o.key, "");
  if (!keys) return std::fprintf(stderr, "closeloop-bench: %s\n", keys.error().message.c_str()), 2;
  o.keys = std::move(*keys);
  try {
    return closeloop::bench::run_bench(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closeloop-bench: %s\n", e.what());
    return 1;
  }
}
