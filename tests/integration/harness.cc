#include "harness.h"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "wire/codec.h"

namespace closeloop::test {

namespace {

bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

int free_port_pair() {
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    int port = 20000 + static_cast<int>(rng() % 20000) * 2;  // 20000..59998
    if (port_free(port) && port_free(port + 1)) return port;
  }
}

}  // namespace

std::string test_departments_toml() {
  return R"(
[[department]]
code = "jtj"
name = "县交通运输局"
[[department]]
code = "zjj"
name = "县住房和城乡建设局"
[[department]]
code = "jyj"
name = "县教育局"
[[department]]
code = "wjj"
name = "县卫生健康局"
)";
}

Cluster::Cluster(const std::string& extra_toml) {
  char tmpl[] = "/tmp/closeloop-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(free_port_pair());
  std::ofstream(config_path()) << "endpoint = \"" << endpoint_ << "\"\n"
                               << "data_dir = \"" << dir_ << "/data\"\n"
                               << "log_level = \"info\"\n"
                               << extra_toml << "\n"
                               << test_departments_toml();
}

Running::Running(const std::string& extra_toml) : cluster(extra_toml) {
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  client = cluster.client();
}

Cluster::~Cluster() {
  kill_all9();
  if (!getenv("CLOSELOOP_KEEP_TEST_DIR")) std::filesystem::remove_all(dir_);
}

void Cluster::start(const std::string& name) {
  std::string binary = std::string(CLOSELOOP_BIN_DIR) + "/closeloop-" + name;
  std::string log = dir_ + "/" + name + ".log";
  std::string config = config_path();
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "a", stderr);
    (void)f;
    execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), nullptr);
    _exit(127);
  }
  pids_[name] = pid;
}

void Cluster::start_all() {
  for (const auto& name : kProcesses) start(name);
}

bool Cluster::running(const std::string& name) { return pids_.count(name) > 0; }

void Cluster::kill9(const std::string& name) { end(name, SIGKILL); }

void Cluster::stop(const std::string& name) { end(name, SIGTERM); }

void Cluster::end(const std::string& name, int signal) {
  auto it = pids_.find(name);
  if (it == pids_.end()) return;
  kill(it->second, signal);
  waitpid(it->second, nullptr, 0);
  pids_.erase(it);
}

void Cluster::kill_all9() {
  for (const auto& [name, pid] : pids_) kill(pid, SIGKILL);
  for (const auto& [name, pid] : pids_) waitpid(pid, nullptr, 0);
  pids_.clear();
}

std::unique_ptr<Client> Cluster::client(int timeout_ms) const {
  return std::make_unique<Client>(endpoint_, timeout_ms);
}

bool Cluster::wait_ready(int timeout_ms) {
  auto c = client(500);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = c->call("ping", "", wire::empty_map());
    if (reply && reply->ok) {
      wire::Fields f(reply->body, "ping");
      auto services = f.opt_str_list("services", 16, 32);
      if (services && services->size() == kProcesses.size() - 1) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

Result<wire::Reply> run(Client& client, const std::string& verb, const std::string& actor,
                        const std::string& body) {
  return client.call(verb, actor, body);
}

std::string field(const wire::Reply& reply, const std::string& outer, const std::string& key) {
  wire::Fields f(reply.body, "reply");
  const msgpack::object* inner = f.opt_map(outer);
  if (!inner) return "";
  wire::Fields g(*inner, outer);
  return g.opt_str(key).value_or("");
}

int shell(const std::string& command, std::string* out) {
  FILE* p = popen(command.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace closeloop::test

namespace closeloop::test {

Result<wire::Reply> Desk::command(const Command& c) {
  return client_.call(c.verb, actor_, encode_command_body(c));
}

Result<wire::Reply> Desk::submit(const std::string& title, const std::string& body,
                                 const std::string& category, const std::string& key) {
  Command c{.verb = "submit"};
  c.title = title, c.body = body, c.category = category, c.key = key;
  c.source = "center", c.submitter = "张三";
  return command(c);
}

Result<wire::Reply> Desk::assign(const std::string& id, const std::string& department,
                                 std::vector<std::string> co, const std::string& due) {
  Command c{.verb = "assign", .item_id = id};
  c.department = department, c.co_departments = std::move(co), c.due = due;
  return command(c);
}

Result<wire::Reply> Desk::give_back(const std::string& id, const std::string& department,
                                    const std::string& reason) {
  Command c{.verb = "return", .item_id = id};
  c.department = department, c.reason = reason;
  return command(c);
}

Result<wire::Reply> Desk::handle(const std::string& id, const std::string& department,
                                 const std::string& reply, const std::string& outcome) {
  Command c{.verb = "handle", .item_id = id};
  c.department = department, c.reply = reply, c.outcome = outcome;
  return command(c);
}

Result<wire::Reply> Desk::verify(const std::string& id, const std::string& rating) {
  Command c{.verb = "verify", .item_id = id};
  c.rating = rating;
  return command(c);
}

Result<wire::Reply> Desk::close(const std::string& id) {
  return command(Command{.verb = "close", .item_id = id});
}

Result<wire::Reply> Desk::show(const std::string& id) {
  return client_.call("show", actor_, wire::MapBuilder().add("item", id).finish());
}

Result<wire::Reply> Desk::trail(const std::string& id) {
  return client_.call_pages("trail", actor_, wire::MapBuilder().add("item", id).finish(), "events",
                            "seq");
}

Result<wire::Reply> Desk::list(const std::string& stage, const std::string& department) {
  wire::MapBuilder m;
  m.add_nonempty("stage", stage).add_nonempty("department", department);
  return client_.call_pages("list", actor_, m.finish(), "items", "id");
}

std::vector<Event> events_of(const wire::Reply& reply) {
  std::vector<Event> out;
  wire::Fields f(reply.body, "trail");
  const msgpack::object& events = f.array("events");
  if (!f.ok()) return out;
  for (uint32_t i = 0; i < events.via.array.size; ++i)
    if (auto e = decode_event(events.via.array.ptr[i])) out.push_back(*e);
  return out;
}

std::vector<std::string> ids_of(const wire::Reply& reply) {
  std::vector<std::string> out;
  wire::Fields f(reply.body, "list");
  const msgpack::object& items = f.array("items");
  if (!f.ok()) return out;
  for (uint32_t i = 0; i < items.via.array.size; ++i)
    if (auto item = decode_item(items.via.array.ptr[i])) out.push_back(item->id);
  return out;
}

}  // namespace closeloop::test
