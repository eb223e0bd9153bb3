#include "worker/status.h"

#include <spdlog/fmt/fmt.h>

#include "wire/message.h"

namespace closeloop {

WorkerStatus& StatusBoard::of(const std::string& name) {
  WorkerStatus& w = workers_[name];
  w.name = name;
  ++version_;
  return w;
}

void StatusBoard::registered(const std::string& name) { of(name).up = true; }

void StatusBoard::lost(const std::string& name) { of(name).up = false; }

void StatusBoard::reported(const std::string& name, Figures figures) {
  WorkerStatus& w = of(name);
  if (w.figures.pid != 0 && figures.pid != w.figures.pid) ++w.restarts;
  w.figures = std::move(figures);
}

void StatusBoard::admitted_keys(const std::map<std::string, std::string>& keys) {
  std::map<std::string, std::string> by_name;
  for (const auto& [key, name] : keys) by_name[name] = key;
  if (by_name == keys_) return;
  keys_ = std::move(by_name);
  ++version_;
}

void StatusBoard::broker_self(BrokerSelf self) {
  if (self == self_) return;
  self_ = std::move(self);
  ++version_;
}

void StatusBoard::count_handshake_failure(std::string_view domain, std::string_view reason) {
  ++broker_.handshake_failures[{std::string(domain), std::string(reason)}];
  ++version_;
}

namespace {

// A labelled counter as the status body lists it: [{label…, count}].
std::string counts_body(const std::map<std::pair<std::string, std::string>, uint64_t>& counts,
                        const char* first, const char* second) {
  wire::Buffer list;
  wire::Packer(list).pack_array(static_cast<uint32_t>(counts.size()));
  for (const auto& [labels, n] : counts)
    wire::pack_raw(list, wire::MapBuilder()
                             .add(first, labels.first)
                             .add(second, labels.second)
                             .add("count", n)
                             .finish());
  return std::string(wire::view(list));
}

}  // namespace

std::string StatusBoard::status_body() const {
  wire::Buffer list;
  wire::Packer(list).pack_array(static_cast<uint32_t>(workers_.size()));
  for (const auto& [name, w] : workers_) {
    const Figures& x = w.figures;
    wire::Buffer outbox;
    wire::Packer(outbox).pack_array(static_cast<uint32_t>(x.outbox.size()));
    for (const auto& [to, o] : x.outbox) {
      wire::MapBuilder entry;
      entry.add("to", to).add("entries", o.entries).add("oldest_age_ms", o.oldest_age_ms);
      if (o.on_disk > 0) entry.add("on_disk", o.on_disk);  // beyond the in-memory mirror
      wire::pack_raw(outbox, entry.finish());
    }
    std::string last_commit = wire::MapBuilder()
                                  .add("size", x.last_commit_size)
                                  .add("fsync_ms", static_cast<double>(x.last_fsync_ns) / 1e6)
                                  .finish();
    wire::pack_raw(list, wire::MapBuilder()
                             .add("name", name)
                             .add("pid", x.pid)
                             .add("up_since", x.up_since)
                             .add("restarts", w.restarts)
                             .add("messages_in", x.messages_in)
                             .add("messages_out", x.messages_out)
                             .add_raw("outbox", wire::view(outbox))
                             .add_raw("last_commit", last_commit)
                             .add("disk_bytes", x.disk_bytes)
                             .add("storage_error", x.storage_error)
                             .add("warning", x.warning)
                             .add("reload_refused", x.reload_refused)
                             .add("up", w.up)
                             .finish());
  }
  wire::Buffer keys;
  wire::Packer(keys).pack_array(static_cast<uint32_t>(keys_.size()));
  for (const auto& [name, key] : keys_)
    wire::pack_raw(keys, wire::MapBuilder().add("name", name).add("key", key).finish());
  wire::MapBuilder self;
  self.add("name", std::string("broker"))
      .add("up", true)
      .add("pid", self_.pid)
      .add("up_since", self_.up_since);
  if (self_.restarts) self.add("restarts", *self_.restarts);
  self.add_raw("connections", wire::MapBuilder()
                                  .add("clients", self_.client_connections)
                                  .add("workers", self_.worker_connections)
                                  .finish());
  self.add("worker_keys", static_cast<uint64_t>(keys_.size()));
  self.add("reload_refused", self_.reload_refused);
  return wire::MapBuilder()
      .add_raw("broker", self.finish())
      .add_raw("workers", wire::view(list))
      .add_raw("worker_keys", wire::view(keys))
      .add_raw("handshake_failures", counts_body(broker_.handshake_failures, "domain", "reason"))
      .add("dropped_replies", broker_.dropped_replies)
      .add("refused_forwards", broker_.refused_forwards)
      .add("unadmitted_messages", broker_.unadmitted_messages)
      .finish();
}

// ---- Prometheus text exposition format 0.0.4 ----

namespace {

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

using Labels = std::vector<std::pair<const char*, std::string_view>>;

void sample(std::string& out, std::string_view name, const Labels& labels, std::string_view value) {
  out += name;
  for (size_t i = 0; i < labels.size(); ++i)
    out +=
        fmt::format("{}{}=\"{}\"", i == 0 ? "{" : ",", labels[i].first, escaped(labels[i].second));
  out += labels.empty() ? " " : "} ";
  out += value;
  out += '\n';
}

void sample(std::string& out, std::string_view name, const Labels& labels, uint64_t value) {
  sample(out, name, labels, std::to_string(value));
}

// A histogram's _bucket (cumulative, with +Inf), _sum and _count; values divided by `scale`
// (nanoseconds to seconds: 1e9).
void histogram(std::string& out, std::string_view name, const std::string& worker,
               const Histogram& h, double scale) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    std::string le = i < h.bounds.size() ? fmt::format("{}", h.bounds[i] / scale) : "+Inf";
    sample(out, std::string(name) + "_bucket", {{"worker", worker}, {"le", le}}, cumulative);
  }
  sample(out, std::string(name) + "_sum", {{"worker", worker}}, fmt::format("{}", h.sum / scale));
  sample(out, std::string(name) + "_count", {{"worker", worker}}, cumulative);
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
  bool when_down;  // written for a worker that is down too (else for live ones only)
  void (*write)(std::string& out, const char* name, const WorkerStatus& w);
};

const Family kFamilies[] = {
    {"closeloop_worker_up", "gauge", "1 if the worker is registered with the broker, else 0.", true,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.up ? 1 : 0);
     }},
    {"closeloop_restarts_total", "counter",
     "Times the worker came back as a new process since the broker started.", true,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.restarts);
     }},
    {"closeloop_messages_in_total", "counter", "Messages the worker took from the broker.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.figures.messages_in);
     }},
    {"closeloop_messages_out_total", "counter", "Messages the worker sent to the broker.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.figures.messages_out);
     }},
    {"closeloop_commands_total", "counter",
     "Requests the worker answered, by verb and result (ok or the error code).", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       for (const auto& [key, n] : w.figures.commands)
         sample(out, name, {{"worker", w.name}, {"verb", key.first}, {"result", key.second}}, n);
     }},
    {"closeloop_handoffs_total", "counter",
     "Handoff entries the worker wrote to its outbox, by destination.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       for (const auto& [to, n] : w.figures.handoffs_sent)
         sample(out, name, {{"worker", w.name}, {"to", to}}, n);
     }},
    {"closeloop_handoffs_applied_total", "counter",
     "Handoff entries the worker applied, by sender (duplicates not counted).", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       for (const auto& [from, n] : w.figures.handoffs_applied)
         sample(out, name, {{"worker", w.name}, {"from", from}}, n);
     }},
    {"closeloop_outbox_entries", "gauge",
     "Outbox entries not yet acknowledged as durable by the destination.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       for (const auto& [to, o] : w.figures.outbox)
         sample(out, name, {{"worker", w.name}, {"to", to}}, o.entries);
     }},
    {"closeloop_outbox_oldest_seconds", "gauge",
     "Age of the oldest such entry (0 when there is none).", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       for (const auto& [to, o] : w.figures.outbox)
         sample(out, name, {{"worker", w.name}, {"to", to}},
                fmt::format("{}", o.oldest_age_ms / 1e3));
     }},
    {"closeloop_fsync_seconds", "histogram", "Latency of the worker's fsyncs.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       histogram(out, name, w.name, w.figures.fsync_ns, 1e9);
     }},
    {"closeloop_group_commit_size", "histogram",
     "Commands and handoff entries folded into one batch (group commit).", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       histogram(out, name, w.name, w.figures.group_commit_size, 1);
     }},
    {"closeloop_disk_bytes", "gauge", "Size of the worker's LevelDB folder.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.figures.disk_bytes);
     }},
    {"closeloop_storage_error", "gauge",
     "1 while the worker cannot write its store (disk full, I/O error), else 0.", false,
     [](std::string& out, const char* name, const WorkerStatus& w) {
       sample(out, name, {{"worker", w.name}}, w.figures.storage_error.empty() ? 0 : 1);
     }},
};

// The broker's own counters (BrokerCounters).
struct BrokerFamily {
  const char* name;
  const char* type;
  const char* help;
  void (*write)(std::string& out, const char* name, const BrokerCounters& b);
};

const BrokerFamily kBrokerFamilies[] = {
    {"closeloop_handshake_failures_total", "counter",
     "Handshakes the broker refused or dropped, by the socket's domain (clients, workers) and "
     "reason.",
     [](std::string& out, const char* name, const BrokerCounters& b) {
       for (const auto& [labels, n] : b.handshake_failures)
         sample(out, name, {{"domain", labels.first}, {"reason", labels.second}}, n);
     }},
    {"closeloop_dropped_replies_total", "counter",
     "Answers the broker dropped: for a request the worker was not given, or no longer waiting.",
     [](std::string& out, const char* name, const BrokerCounters& b) {
       sample(out, name, {}, b.dropped_replies);
     }},
    {"closeloop_refused_forwards_total", "counter",
     "Requests a worker tried to pass on for a person without serving that person's request.",
     [](std::string& out, const char* name, const BrokerCounters& b) {
       sample(out, name, {}, b.refused_forwards);
     }},
    {"closeloop_unadmitted_messages_total", "counter",
     "Messages dropped because their worker key is no longer admitted.",
     [](std::string& out, const char* name, const BrokerCounters& b) {
       sample(out, name, {}, b.unadmitted_messages);
     }},
};

}  // namespace

std::string StatusBoard::prometheus_text() const {
  std::string out;
  for (const Family& f : kFamilies) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
    for (const auto& [name, w] : workers_) {
      bool reported = w.figures.pid != 0;
      if (f.when_down || (w.up && reported)) f.write(out, f.name, w);
    }
  }
  for (const BrokerFamily& f : kBrokerFamilies) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
    f.write(out, f.name, broker_);
  }
  return out;
}

std::vector<std::string> metric_families() {
  std::vector<std::string> names;
  for (const Family& f : kFamilies) names.emplace_back(f.name);
  for (const BrokerFamily& f : kBrokerFamilies) names.emplace_back(f.name);
  return names;
}

}  // namespace closeloop
