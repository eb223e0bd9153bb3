// Who may connect where (docs/security.md): the broker's backend admits only the
// service's own workers, each under the name of the key it proves (CURVE + ZAP, failing
// closed), and the mode without it is for loopback only.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_worker.h"
#include "harness.h"
#include "security/keys.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;

namespace {

// The services `ping` lists.
std::vector<std::string> live_services(Client& client) {
  auto reply = client.call("ping", "", wire::empty_map());
  REQUIRE(reply.ok());
  return wire::to_json(reply->body)["services"].get<std::vector<std::string>>();
}

bool lists(const std::vector<std::string>& services, const std::string& name) {
  return std::find(services.begin(), services.end(), name) != services.end();
}

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("every process makes its key pair at first start: the secret 0600, the public half beside it",
          "[security][keys]") {
  Running s(kFastTiming);
  std::vector<std::string> names = kProcesses;
  names.push_back("broker");
  for (const std::string& name : names) {
    INFO(name);
    std::string key = s.cluster.keys_dir() + "/" + name + ".key";
    CHECK(mode_of(key) == 0600);
    CHECK(mode_of(s.cluster.keys_dir() + "/" + name + ".pub") == 0644);
    auto pair = security::read_key_file(key);
    REQUIRE(pair.ok());
    CHECK(security::read_public_key(s.cluster.keys_dir() + "/" + name + ".pub").value() ==
          pair->public_key);
  }
  // A restart keeps the pair it made.
  std::string before = read_file(s.cluster.keys_dir() + "/handle.key");
  s.cluster.stop("handle");
  s.cluster.start("handle");
  REQUIRE(s.cluster.wait_ready());
  CHECK(read_file(s.cluster.keys_dir() + "/handle.key") == before);
}

TEST_CASE("a worker with a key the service does not know cannot register on the backend",
          "[security][backend]") {
  Running s(kFastTiming);
  s.cluster.kill9("handle");
  std::string elsewhere = s.cluster.dir() + "/forged-keys";
  FakeWorker forged(backend_of(s.cluster.endpoint()), "handle", elsewhere, s.cluster.keys_dir());
  CHECK_FALSE(forged.hears_broker(1500));  // the handshake itself is refused
  CHECK_FALSE(lists(live_services(*s.client), "handle"));
  // No handle worker (the forged one is not it): unavailable until the client gives up.
  auto quick = s.cluster.client(600);
  auto r = Desk(s.cluster, *quick).handle("2026-000001", "zjj", "伪造的办理");
  CHECK((!r.ok() || r->error.code == errc::kUnavailable));
  CHECK(read_file(s.cluster.dir() + "/broker.log").find("not a worker key of this service") !=
        std::string::npos);
}

TEST_CASE("a worker's key registers only under its own name", "[security][backend]") {
  Running s(kFastTiming);
  s.cluster.kill9("handle");
  // dispatch's real key, claiming to be handle
  FakeWorker impostor(backend_of(s.cluster.endpoint()), "handle", s.cluster.keys_dir(), "",
                      "dispatch");
  std::this_thread::sleep_for(500ms);
  auto services = live_services(*s.client);
  CHECK_FALSE(lists(services, "handle"));
  CHECK(lists(services, "dispatch"));  // the real dispatch is not displaced either
  CHECK(read_file(s.cluster.dir() + "/broker.log")
            .find("refused a worker with the key of 'dispatch' registering as 'handle'") !=
        std::string::npos);
  // The real handle comes back under its own key.
  s.cluster.start("handle");
  REQUIRE(s.cluster.wait_ready());
  CHECK(lists(live_services(*s.client), "handle"));
}

TEST_CASE("a key file that is not private, or not a key file, is refused with the reason",
          "[security][keys]") {
  Cluster c;
  std::string dir = c.dir() + "/keys";
  auto pair = security::own_key_pair(dir, "someone");
  REQUIRE(pair.ok());
  CHECK(security::read_key_file(dir + "/someone.key").ok());
  REQUIRE(::chmod((dir + "/someone.key").c_str(), 0644) == 0);
  auto shared = security::read_key_file(dir + "/someone.key");
  REQUIRE_FALSE(shared.ok());
  CHECK(shared.error().message.find("readable by others") != std::string::npos);
  std::ofstream(dir + "/junk.key") << "hello\n";
  REQUIRE(::chmod((dir + "/junk.key").c_str(), 0600) == 0);
  auto junk = security::read_key_file(dir + "/junk.key");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.error().message.find("not a closeloop key file") != std::string::npos);
  auto missing = security::read_key_file(dir + "/nobody.key");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no such file") != std::string::npos);
}

TEST_CASE("security.mode = \"off\" runs on loopback, and every process warns about it",
          "[security][mode]") {
  Running s("[security]\nmode = \"off\"\n" + std::string(kFastTiming));
  // No accounts to prove who acts: the actor is taken as the request says.
  auto made = s.client->call(
      "submit", "实验员",
      wire::MapBuilder().add("title", "不加密的实验").add("body", "仅限本机").finish());
  REQUIRE(made.ok());
  CHECK(made->ok);
  CHECK(events_of(*Desk(s.cluster, *s.client).trail(field(*made, "item", "id")))[0].actor ==
        "实验员");
  CHECK_FALSE(std::filesystem::exists(s.cluster.keys_dir() + "/handle.key"));
  for (const std::string& name : kProcesses) {
    INFO(name);
    CHECK(read_file(s.cluster.dir() + "/" + name + ".log").find("security.mode = \"off\"") !=
          std::string::npos);
  }
}

TEST_CASE("reads are audited, one record per request and page, with the outcome, outside every trail",
          "[security][reads]") {
  Running s(kFastTiming);
  s.cluster.add_account("李审", {"auditor"});
  s.cluster.add_account("审计员", {"auditor"});
  auto auditor = s.cluster.client(5000, "审计员");
  Desk office(s.cluster, *s.client);
  std::string id = field(*office.submit("路灯不亮", "三处"), "item", "id");
  auto before = events_of(*office.trail(id));
  REQUIRE(office.show(id)->ok);
  REQUIRE(office.list()->ok);
  // The next page of a list is a read of its own, marked with where it continues.
  REQUIRE(run(*s.client, "list", "", wire::MapBuilder().add("after", id).finish())->ok);
  CliRun bundle = run_cli(s.cluster.dir(),
                          {"--endpoint", s.cluster.endpoint(), "--key", s.cluster.key_file("李审"),
                           "bundle", id, "--out", s.cluster.dir() + "/b.json"});
  REQUIRE(bundle.code == 0);

  auto reads = auditor->call_pages("reads", "", wire::empty_map(), "reads", "seq");
  REQUIRE(reads.ok());
  REQUIRE(reads->ok);
  wire::Json records = wire::to_json(reads->body)["reads"];
  std::vector<std::string> seen;
  for (const auto& r : records)
    seen.push_back(r["actor"].get<std::string>() + " " + r["verb"].get<std::string>() +
                   (r.contains("via") ? " via " + r["via"].get<std::string>() : ""));
  // ... the bundle's checkpoint and proofs too, and reading the audit is a read as well.
  CHECK(seen == std::vector<std::string>{"office trail", "office show", "office list",
                                         "office list", "李审 show via bundle",
                                         "李审 trail via bundle", "李审 checkpoint", "李审 proofs",
                                         "审计员 reads"});
  CHECK(records[0]["item"] == id);
  CHECK(records[2]["query"].is_object());
  CHECK_FALSE(records[2].contains("after"));
  CHECK(records[3]["after"] == id);
  CHECK(!records[0]["at"].get<std::string>().empty());
  for (const auto& r : records) CHECK(r["result"] == "ok");
  // Reading changed no trail.
  CHECK(events_of(*office.trail(id)).size() == before.size());

  // Filtered by actor and by item; the CLI prints them.
  auto by_actor = auditor->call("reads", "", wire::MapBuilder().add("actor", "李审").finish());
  CHECK(wire::to_json(by_actor->body)["reads"].size() == 4);
  CliRun listed = run_cli(s.cluster.dir(), {"--endpoint", s.cluster.endpoint(), "reads", "--item", id,
                                         "--json"});
  REQUIRE(listed.code == 0);
  CHECK(listed.parsed().size() == 6);  // two trails and a show by the office, the bundle's three
  CliRun table = run_cli(s.cluster.dir(), {"--endpoint", s.cluster.endpoint(), "reads", "--item", id});
  REQUIRE(table.code == 0);
  CHECK(table.out.find("李审") != std::string::npos);
  CHECK(table.out.find("(bundle)") != std::string::npos);
}

TEST_CASE(
    "accounts: the first two made with 0600 keys, managed by the admin only, every change logged",
    "[security][accounts]") {
  Running s(kFastTiming);
  CHECK(mode_of(s.cluster.keys_dir() + "/admin.key") == 0600);
  CHECK(mode_of(s.cluster.keys_dir() + "/office.key") == 0600);
  CHECK_FALSE(std::filesystem::exists(s.cluster.keys_dir() + "/office.pub"));  // no worker key
  auto admin = s.cluster.client(5000, "admin");
  auto listed = admin->call("user.list", "", wire::empty_map());
  REQUIRE(listed.ok());
  REQUIRE(listed->ok);
  wire::Json accounts = wire::to_json(listed->body)["accounts"];
  REQUIRE(accounts.size() == 2);
  CHECK(accounts[0]["name"] == "admin");
  CHECK(accounts[0]["roles"] == wire::Json{"admin"});
  CHECK(accounts[1]["name"] == "office");
  CHECK(accounts[1]["key"] == s.cluster.keys()->own.public_key);

  // Only the admin changes accounts; a bad one is refused and changes nothing.
  auto key = security::generate_key_pair().public_key;
  auto add = [&](Client& as, const std::string& role, const std::string& public_key) {
    std::vector<std::string> roles{role};
    return as.call(
        "user.add", "",
        wire::MapBuilder().add("name", "王芳").add("role", roles).add("key", public_key).finish());
  };
  auto by_office = add(*s.client, "office", key);
  REQUIRE(by_office.ok());
  CHECK(by_office->error.code == errc::kForbidden);
  auto no_department = add(*admin, "department", key);
  REQUIRE(no_department.ok());
  CHECK(no_department->error.code == errc::kInvalid);
  CHECK(no_department->error.message.find("--department") != std::string::npos);
  auto taken = add(*admin, "office", s.cluster.keys()->own.public_key);
  REQUIRE(taken.ok());
  CHECK(taken->error.message.find("office's already") != std::string::npos);
  auto again = admin->call("user.list", "", wire::empty_map());
  CHECK(wire::to_json(again->body)["accounts"].size() == 2);

  s.cluster.add_account("王芳", {"department"}, "jtj");
  auto history = admin->call("user.list", "", wire::MapBuilder().add("history", true).finish());
  REQUIRE(history.ok());
  wire::Json log = wire::to_json(history->body)["history"];
  REQUIRE(log.size() == 3);
  CHECK(log[0]["actor"] == "ledger");
  CHECK(log[2]["actor"] == "admin");
  CHECK(log[2]["verb"] == "user.add");
  CHECK(log[2]["account"]["department"] == "jtj");
}

TEST_CASE(
    "the client port refuses no key, an unknown key, a worker's key, and a disabled or rotated "
    "account at its next request",
    "[security][accounts]") {
  Running s(kFastTiming);
  s.cluster.add_account("王芳", {"department"}, "jtj");
  auto wang = s.cluster.client(3000, "王芳");
  REQUIRE(live_services(*wang).size() == kProcesses.size() - 1);
  auto server = s.cluster.keys()->server_key;

  // An unknown key: unauthenticated at the handshake, at once, not a timeout.
  auto start = std::chrono::steady_clock::now();
  Client stranger(s.cluster.endpoint(), 3000, 1 << 20,
                  ClientKeys{security::generate_key_pair(), server});
  auto refused = stranger.call("ping", "", wire::empty_map());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::kUnauthenticated);
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  // A worker's own key is no account's.
  auto handle_key = security::read_key_file(s.cluster.keys_dir() + "/handle.key");
  REQUIRE(handle_key.ok());
  Client worker(s.cluster.endpoint(), 3000, 1 << 20, ClientKeys{*handle_key, server});
  auto as_worker = worker.call("ping", "", wire::empty_map());
  REQUIRE_FALSE(as_worker.ok());
  CHECK(as_worker.error().code == errc::kUnauthenticated);
  // No key at all (no CURVE): the handshake fails, and the client says so.
  Client plain(s.cluster.endpoint(), 3000);
  auto unkeyed = plain.call("ping", "", wire::empty_map());
  REQUIRE_FALSE(unkeyed.ok());
  CHECK(unkeyed.error().code == errc::kUnauthenticated);

  // Disabled while connected: refused at its next message, on the same connection.
  auto admin = s.cluster.client(5000, "admin");
  auto disabled = admin->call("user.disable", "", wire::MapBuilder().add("name", "王芳").finish());
  REQUIRE(disabled.ok());
  REQUIRE(disabled->ok);
  auto after = wang->call("ping", "", wire::empty_map());
  REQUIRE(after.ok());
  CHECK(after->error.code == errc::kUnauthenticated);

  // Rotated: the old key is refused at once, the new one works.
  s.cluster.add_account("李明", {"office"});
  auto li = s.cluster.client(3000, "李明");
  REQUIRE(live_services(*li).size() == kProcesses.size() - 1);
  auto fresh = security::generate_key_pair();
  auto rotated =
      admin->call("user.rotate", "",
                  wire::MapBuilder().add("name", "李明").add("key", fresh.public_key).finish());
  REQUIRE(rotated.ok());
  REQUIRE(rotated->ok);
  auto old_key = li->call("ping", "", wire::empty_map());
  REQUIRE(old_key.ok());
  CHECK(old_key->error.code == errc::kUnauthenticated);
  Client renewed(s.cluster.endpoint(), 3000, 1 << 20, ClientKeys{fresh, server});
  CHECK(live_services(renewed).size() == kProcesses.size() - 1);

  // The CLI says so with exit 3.
  CliRun cli = run_cli(s.cluster.dir(), {"--key", s.cluster.key_file("王芳"), "ping"});
  CHECK(cli.code == 3);
  CHECK(cli.err.find("unauthenticated") != std::string::npos);
  CliRun missing = run_cli(s.cluster.dir(), {"--key", s.cluster.dir() + "/nobody.key", "ping"});
  CHECK(missing.code == 2);
}

TEST_CASE("a gateway acts for the people it authenticated, and both names go into the event",
          "[security][accounts][gateway]") {
  Running s(kFastTiming);
  // The web front end: a gateway account with a role of its own (for its own requests).
  auto admin = s.cluster.client(5000, "admin");
  security::KeyPair web = security::generate_key_pair();
  auto added = admin->call("user.add", "",
                           wire::MapBuilder()
                               .add("name", "网关")
                               .add("role", std::vector<std::string>{"auditor"})
                               .add("gateway", true)
                               .add("key", web.public_key)
                               .finish());
  REQUIRE(added.ok());
  REQUIRE(added->ok);
  Client gateway(s.cluster.endpoint(), 5000, 1 << 20, ClientKeys{web, s.cluster.keys()->server_key});
  auto body = wire::MapBuilder().add("title", "经网关提交").add("body", "正文").finish();
  auto made = gateway.call("submit", "office", body);  // for the office, as its user
  REQUIRE(made.ok());
  INFO(made->error.message);
  REQUIRE(made->ok);
  std::string id = field(*made, "item", "id");
  auto events = events_of(*Desk(s.cluster, *s.client).trail(id));
  REQUIRE(events.size() == 1);
  CHECK(events[0].actor == "office");
  CHECK(events[0].via == "网关");
  CHECK(events[0].hash == event_hash(events[0]));  // the name is under the hash
  // Its own name (or none) is its own account, an auditor: it may not submit.
  auto own = gateway.call("submit", "", body);
  REQUIRE(own.ok());
  CHECK(own->error.code == errc::kForbidden);
  // Nobody it does not know, nor another gateway, nor a disabled account.
  for (const char* nobody : {"无此人", "网关"}) {
    auto r = gateway.call("submit", nobody, body);
    REQUIRE(r.ok());
    CHECK(r->error.code == errc::kForbidden);
  }
  // A person's account is no gateway: naming another is forbidden.
  auto claimed = s.client->call("submit", "admin", body);
  REQUIRE(claimed.ok());
  CHECK(claimed->error.code == errc::kForbidden);
}
