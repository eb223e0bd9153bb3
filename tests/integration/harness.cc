#include "harness.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "calendar/clock.h"
#include "config/config.h"
#include "security/keys.h"
#include "security/rights.h"
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

int free_tcp_port() {
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    int port = 20000 + static_cast<int>(rng() % 40000);
    if (port_free(port)) return port;
  }
}

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
[[department]]
code = "gaj"
name = "县公安局"
[[department]]
code = "zgjd"
name = "紫港街道办事处"
)";
}

Cluster::Cluster(const std::string& extra_toml, bool test_clock) {
  char tmpl[] = "/tmp/closeloop-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(free_port_pair());
  std::filesystem::copy(CLOSELOOP_SOURCE_DIR "/config/calendar", calendar_dir());
  std::ofstream config(config_path());
  config << "endpoint = \"" << endpoint_ << "\"\n"
         << "data_dir = \"" << dir_ << "/data\"\n"
         << "log_level = \"info\"\n"
         << extra_toml << "\n"
         << test_departments_toml() << "\n"
         << "[calendar]\ndir = \"" << calendar_dir() << "\"\n";
  if (test_clock) config << "[testing]\nclock_file = \"" << dir_ << "/clock\"\n";
}

void Cluster::set_clock(const std::string& iso) {
  std::string temp = dir_ + "/clock.new";
  std::ofstream(temp) << iso << "\n";
  std::filesystem::rename(temp, dir_ + "/clock");  // whole, never half-written
}

Running::Running(const std::string& extra_toml, bool test_clock) : cluster(extra_toml, test_clock) {
  cluster.start_all();
  REQUIRE(cluster.wait_ready());
  client = cluster.client();
}

Cluster::~Cluster() {
  kill_all9();
  if (!getenv("CLOSELOOP_KEEP_TEST_DIR")) std::filesystem::remove_all(dir_);
}

void Cluster::start(const std::string& name) {
  std::string binary = binary_path("closeloop-" + name);
  std::string log = dir_ + "/" + name + ".log";
  std::string config = config_path();
  const auto& env = env_[name];
  std::vector<std::string> command = wrappers_[name];
  for (const std::string& arg : {binary, std::string("--config"), config}) command.push_back(arg);
  std::vector<char*> argv;
  for (std::string& arg : command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "a", stderr);
    (void)f;
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  pids_[name] = pid;
}

void Cluster::set_env(const std::string& name, const std::string& key, const std::string& value) {
  env_[name][key] = value;
}

void Cluster::wrap(const std::string& name, std::vector<std::string> command) {
  wrappers_[name] = std::move(command);
}

void Cluster::start_all() {
  for (const auto& name : kProcesses) start(name);
}

bool Cluster::running(const std::string& name) { return pids_.count(name) > 0; }

void Cluster::kill9(const std::string& name) { end(name, SIGKILL); }

int Cluster::stop(const std::string& name) { return end(name, SIGTERM); }

pid_t Cluster::pid(const std::string& name) const {
  auto it = pids_.find(name);
  return it == pids_.end() ? 0 : it->second;
}

int Cluster::end(const std::string& name, int signal) {
  auto it = pids_.find(name);
  if (it == pids_.end()) return -1;
  kill(it->second, signal);
  int status = 0;
  waitpid(it->second, &status, 0);
  pids_.erase(it);
  return status;
}

void Cluster::kill_all9() {
  for (const auto& [name, pid] : pids_) kill(pid, SIGKILL);
  for (const auto& [name, pid] : pids_) waitpid(pid, nullptr, 0);
  pids_.clear();
}

std::string Cluster::key_file(const std::string& account) const {
  bool first = account == "office" || account == "admin";
  return (first ? keys_dir() : dir_ + "/people") + "/" + account + ".key";
}

// Called by tests' client threads too (the chaos test): Catch's assertion macros are not
// thread-safe, so nothing here touches Catch unless the test is failing anyway.
std::optional<ClientKeys> Cluster::keys(const std::string& account) const {
  auto config = load_config(config_path());
  if (!config) FAIL("the cluster's config: " << config.error().message);
  if (!config->curve()) return std::nullopt;
  // The ledger and the broker write these at their first start.
  std::string key = key_file(account), server = keys_dir() + "/broker.pub";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(std::filesystem::exists(key) && std::filesystem::exists(server)) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto own = security::read_key_file(key);
  auto server_key = security::read_public_key(server);
  if (!own) FAIL(account << "'s key: " << own.error().message);
  if (!server_key) FAIL("the broker's key: " << server_key.error().message);
  return ClientKeys{*own, *server_key};
}

std::unique_ptr<Client> Cluster::client(int timeout_ms, const std::string& account) const {
  return std::make_unique<Client>(endpoint_, timeout_ms, 1 << 20, keys(account));
}

void Cluster::add_account(const std::string& name, const std::vector<std::string>& roles,
                          const std::string& department, const std::string& station) {
  std::filesystem::create_directories(dir_ + "/people");
  security::KeyPair pair = security::generate_key_pair();
  REQUIRE(security::write_key_file(key_file(name), pair).ok());
  wire::MapBuilder body;
  body.add("name", name).add("role", roles).add("key", pair.public_key);
  body.add_nonempty("department", department).add_nonempty("station", station);
  auto reply = client(5000, "admin")->call("user.add", "", body.finish());
  REQUIRE(reply.ok());
  INFO(reply->error.message);
  REQUIRE(reply->ok);
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

wire::Json body_of(const Result<wire::Reply>& reply) {
  REQUIRE(reply.ok());
  INFO(reply->error.code << ": " << reply->error.message);
  REQUIRE(reply->ok);
  return wire::to_json(reply->body);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
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

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

wire::Json CliRun::parsed() const {
  INFO("stdout: " << out << "\nstderr: " << err);
  wire::Json j = wire::Json::parse(out, nullptr, /*allow_exceptions=*/false);
  REQUIRE(!j.is_discarded());
  return j;
}

CliRun run_cli(const std::string& dir, const std::vector<std::string>& args,
               const std::string& prefix, const std::string& binary) {
  static int counter = 0;
  std::string err_path =
      dir + "/cli-stderr-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  // The cluster's config (for its keys), unless the test says otherwise.
  std::string config = dir + "/closeloop.toml";
  std::string command =
      std::filesystem::exists(config) ? "CLOSELOOP_CONFIG=" + shell_quote(config) + " " : "";
  command += "CLOSELOOP_LANG=en ";  // the tests read English; a prefix may say otherwise
  command += prefix + shell_quote(binary_path(binary));
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " 2>" + shell_quote(err_path) + " </dev/null";
  CliRun r;
  r.code = shell(command, &r.out);
  std::ifstream in(err_path);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_path);
  return r;
}

}  // namespace closeloop::test

namespace closeloop::test {

Desk::Desk(Cluster& cluster, Client& office)
    : cluster_(cluster), client_(office), curve_(cluster.keys().has_value()) {}

Client& Desk::client_for(const Command& c) {
  std::string department = c.text("department");
  if (!curve_ || !security::acts_for_department(c.verb) || department.empty()) return client_;
  auto& clerk = clerks_[department];
  if (!clerk) {
    std::string name = "clerk-" + department;
    if (!std::filesystem::exists(cluster_.key_file(name)))
      cluster_.add_account(name, {"department"}, department);
    clerk = cluster_.client(client_.timeout_ms(), name);
  }
  return *clerk;
}

Result<wire::Reply> Desk::command(const Command& c) {
  Command sent = c;
  if (sent.verb == "verify" && !sent.has("via")) sent.set("via", "paper");
  return client_for(sent).call(sent.verb, curve_ ? "" : "office", encode_command_body(sent));
}

Result<wire::Reply> Desk::command(const std::string& verb, const std::string& id,
                                  wire::Json fields) {
  return command(Command{.verb = verb, .item_id = id, .fields = std::move(fields)});
}

Result<wire::Reply> Desk::submit(const std::string& title, const std::string& body,
                                 const std::string& category, const std::string& key) {
  wire::Json f = {{"title", title}, {"body", body}, {"source", "center"}, {"submitter", "张三"}};
  if (!category.empty()) f["category"] = category;
  if (!key.empty()) f["key"] = key;
  return command("submit", "", std::move(f));
}

Result<wire::Reply> Desk::assign(const std::string& id, const std::string& department,
                                 std::vector<std::string> co, const std::string& due) {
  wire::Json f = {{"department", department}};
  if (!co.empty()) f["co"] = co;
  if (!due.empty()) f["due"] = due;
  return command("assign", id, std::move(f));
}

Result<wire::Reply> Desk::give_back(const std::string& id, const std::string& department,
                                    const std::string& reason) {
  return command("return", id, {{"department", department}, {"reason", reason}});
}

Result<wire::Reply> Desk::handle(const std::string& id, const std::string& department,
                                 const std::string& reply, const std::string& outcome) {
  wire::Json f = {{"department", department}, {"reply", reply}, {"outcome", outcome}};
  if (outcome == "in-progress" || outcome == "planned") f["promise"] = "2099-12-31";
  return command("handle", id, std::move(f));
}

Result<wire::Reply> Desk::verify(const std::string& id, const std::string& rating,
                                 const std::string& comment) {
  wire::Json f = {{"rating", rating}};
  if (!comment.empty() || rating == "unsatisfied")
    f["comment"] = comment.empty() ? std::string("未解决") : comment;
  return command("verify", id, std::move(f));
}

Result<wire::Reply> Desk::close(const std::string& id) { return command("close", id, wire::Json::object()); }

Result<wire::Reply> Desk::show(const std::string& id) {
  return client_.call("show", curve_ ? "" : "office", wire::MapBuilder().add("item", id).finish());
}

Result<wire::Reply> Desk::trail(const std::string& id) {
  return client_.call_pages("trail", curve_ ? "" : "office",
                            wire::MapBuilder().add("item", id).finish(), "events", "seq");
}

Result<wire::Reply> Desk::list(const std::string& stage, const std::string& department) {
  wire::MapBuilder m;
  m.add_nonempty("stage", stage).add_nonempty("department", department);
  return client_.call_pages("list", curve_ ? "" : "office", m.finish(), "items", "id");
}

namespace {
const Config& step_config() {
  static const Config config = [] {
    Config c;
    c.departments = {{"zjj", "县住建局"}, {"jtj", "县交通运输局"}};
    return c;
  }();
  return config;
}
}  // namespace

Result<Step> submitted_step(const std::string& id, const std::string& category) {
  static const Calendar weekends;
  Clock clock(step_config().timezone);
  Setting now{step_config(), weekends, clock.now_iso(), clock.today(), ""};
  Command submit{.verb = "submit", .actor = "人大办"};
  submit.set("title", "重复投递测试").set("body", "正文");
  if (!category.empty()) submit.set("category", category);
  return create_item(submit, id, now);
}

Result<Step> assigned_step(const std::string& id, const std::string& department) {
  auto created = submitted_step(id);
  if (!created) return created.error();
  static const Calendar weekends;
  Clock clock(step_config().timezone);
  Setting now{step_config(), weekends, clock.now_iso(), clock.today(), ""};
  Command assign{.verb = "assign", .item_id = id, .actor = "人大办"};
  assign.set("department", department);
  return decide(created->item, assign, now);
}

std::string entry_of(const Step& step) {
  return wire::MapBuilder().add_raw("item", encode(step.item)).add_raw("event", encode(step.event)).finish();
}

std::string newer_entry_of(const Step& step) {
  std::string item = encode(step.item);
  wire::Json j = wire::to_json(wire::decode(item.data(), item.size())->get());
  j["v"] = 3;
  return wire::MapBuilder()
      .add_raw("item", wire::encode_json(j))
      .add_raw("event", encode(step.event))
      .finish();
}

std::string handoff_request(uint64_t id, const std::string& from,
                            const std::vector<std::pair<uint64_t, std::string>>& entries) {
  wire::Buffer array;
  wire::Packer(array).pack_array(static_cast<uint32_t>(entries.size()));
  for (const auto& [hid, entry] : entries)
    wire::pack_raw(array, wire::MapBuilder().add("hid", hid).add_raw("entry", entry).finish());
  // Who sends it is the broker's to say: `from` is only the envelope's actor, as workers write it.
  std::string body = wire::MapBuilder().add_raw("entries", wire::view(array)).finish();
  return wire::encode_request("handoff", id, from, body);
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

pid_t spawn_closeloopd(const Cluster& cluster, const std::map<std::string, std::string>& env,
                       const std::string& cwd) {
  std::string binary = binary_path("closeloopd");
  std::string log = cluster.dir() + "/closeloopd.log";
  std::string config = cluster.config_path();
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(log.c_str(), "a", stderr)) _exit(126);
    setenv("CLOSELOOP_LANG", "en", 1);  // as the CLI's (run_cli); `env` may say otherwise
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(125);
    execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

int stop_closeloopd(pid_t daemon) {
  kill(daemon, SIGTERM);
  int status = 0;
  return waitpid(daemon, &status, 0) == daemon ? status : -1;
}

}  // namespace closeloop::test
