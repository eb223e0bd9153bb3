// The CLI end to end: the real `closeloop` binary, one process per command, against the
// real broker and workers on loopback. Checks its exit codes, its --json output and that
// each command's effect is visible to the next process.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "security/keys.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;
using nlohmann::json;

namespace {

using Run = CliRun;

// Starts a cluster and waits for it; the CLI talks to it with --endpoint.
struct WithCli : test::Running {
  WithCli() : test::Running(kTransportRoute) {}

  // closeloop --endpoint <cluster> <args...>, as the office (its key found through the
  // cluster's config), or with the key file of `account`.
  Run cli(std::vector<std::string> args, const std::string& account = "") {
    std::vector<std::string> all{"--endpoint", cluster.endpoint()};
    if (!account.empty()) all.insert(all.end(), {"--key", cluster.key_file(account)});
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(cluster.dir(), all);
  }

  // A command that must succeed with --json; returns its output.
  json ok(std::vector<std::string> args, const std::string& account = "") {
    args.push_back("--json");
    Run r = cli(args, account);
    INFO("closeloop " << args.front() << " → exit " << r.code << "\nstdout: " << r.out
                      << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.parsed();
  }

  json show(const std::string& id) { return ok({"show", id}); }

  // The account of a clerk of `department`, made on first use.
  std::string clerk(const std::string& department) {
    std::string name = "clerk-" + department;
    if (!std::filesystem::exists(cluster.key_file(name)))
      cluster.add_account(name, {"department"}, department);
    return name;
  }

  std::string submit(const std::string& title = "村道路灯损坏",
                     const std::string& body = "青山村主干道12盏路灯不亮，夜间出行不便。") {
    json item = ok({"submit", "--title", title, "--body", body});
    REQUIRE(item.contains("id"));
    return item["id"].get<std::string>();
  }
};

// Issue 2's fields, then issue 3's.
const std::vector<std::string> kItemFields{
    "id",           "stage",        "title",       "body",         "category",   "source",
    "submitter",    "department",   "co_departments", "due",       "rework_count", "created_at",
    "updated_at",   "kind",         "complex",     "ref",          "due_basis",  "assigned_at",
    "signed_at",    "replied_at",   "overdue",     "escalated",    "returns",    "reopen_count",
    "opinions",     "extensions",   "evaluation",  "promise",      "milestones"};

void check_item_shape(const json& item) {
  REQUIRE(item.is_object());
  for (const auto& key : kItemFields) {
    INFO("field " << key << " in " << item.dump());
    CHECK(item.contains(key));
  }
  CHECK(item["co_departments"].is_array());
  CHECK(item["rework_count"].is_number_unsigned());
  for (const char* key : {"rule", "from", "calendar", "provisional"}) CHECK(item["due_basis"].contains(key));
  for (const char* key : {"attitude", "result", "comment"}) CHECK(item["evaluation"].contains(key));
  for (const char* key : {"date", "kept_at"}) CHECK(item["promise"].contains(key));
}

std::vector<std::string> ids(const json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.at("id").get<std::string>());
  return out;
}

std::vector<std::string> actions(const json& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.at("action").get<std::string>());
  return out;
}

// Rewrites the ledger's store while the ledger is stopped, then restarts it.
template <typename Edit>
void with_ledger_stopped(WithCli& s, Edit edit) {
  s.cluster.stop("ledger");
  {
    auto store = Store::open(s.cluster.dir() + "/data/ledger");
    REQUIRE(store.ok());
    leveldb::WriteBatch batch;
    edit(**store, batch);
    REQUIRE((*store)->write(&batch, true).ok());
  }
  s.cluster.start("ledger");
  REQUIRE(s.cluster.wait_ready());
}

}  // namespace

TEST_CASE("the CLI takes an item through its whole lifecycle, each process seeing the last",
          "[cli]") {
  WithCli s;
  // The office submits, assigns, waives and closes; each department's clerk acts for
  // their own department (no --department needed); the liaison station evaluates.
  s.cluster.add_account("交通局", {"department"}, "jtj");
  s.cluster.add_account("住建局", {"department"}, "zjj");
  s.cluster.add_account("联络站", {"station"}, "", "center");
  const std::string title = "村道路灯损坏";
  const std::string body = "青山村主干道12盏路灯不亮，夜间出行不便。";
  json item = s.ok({"submit", "--title", title, "--body", body, "--source", "center", "--submitter",
                    "张三", "--category", "lighting"});
  check_item_shape(item);
  const std::string id = item["id"];
  CHECK(item["stage"] == "submitted");
  CHECK(item["title"] == title);
  CHECK(item["body"] == body);
  CHECK(item["submitter"] == "张三");
  CHECK(item["source"] == "center");
  CHECK(item["category"] == "lighting");
  CHECK(item["rework_count"] == 0);
  json shown = s.show(id);
  check_item_shape(shown);
  CHECK(shown["stage"] == "submitted");
  CHECK(shown["title"] == title);
  CHECK(shown["body"] == body);

  item = s.ok({"assign", id, "--department", "zjj", "--co", "jtj,jyj", "--due", "2099-12-31",
               "--note", "请尽快处理"});
  check_item_shape(item);
  CHECK(item["stage"] == "assigned");
  CHECK(item["department"] == "zjj");
  CHECK(item["co_departments"] == json::array({"jtj", "jyj"}));
  CHECK(item["due"] == "2099-12-31");
  shown = s.show(id);
  CHECK(shown["stage"] == "assigned");
  CHECK(shown["department"] == "zjj");
  CHECK(shown["co_departments"] == json::array({"jtj", "jyj"}));
  CHECK(shown["due"] == "2099-12-31");

  // issue 3: the lead replies once every co-department has given its opinion (or the
  // office has waived it)
  s.ok({"opinion", id, "--text", "配合"}, "交通局");
  s.ok({"waive", id, "--department", "jyj", "--reason", "与教育局无关"});
  item = s.ok({"handle", id, "--reply", "已更换全部路灯", "--outcome", "solved"}, "住建局");
  CHECK(item["opinions"].size() == 2);
  check_item_shape(item);
  CHECK(item["stage"] == "handled");
  CHECK(s.show(id)["stage"] == "handled");

  item = s.ok({"verify", id, "--rating", "satisfied", "--comment", "很满意"}, "联络站");
  check_item_shape(item);
  CHECK(item["stage"] == "verified");
  CHECK(s.show(id)["stage"] == "verified");

  item = s.ok({"close", id, "--note", "办结"});
  check_item_shape(item);
  CHECK(item["stage"] == "closed");
  shown = s.show(id);
  check_item_shape(shown);
  CHECK(shown["stage"] == "closed");
  CHECK(shown["id"] == id);
  CHECK(shown["title"] == title);
  CHECK(shown["body"] == body);
  CHECK(shown["department"] == "zjj");
  CHECK(shown["rework_count"] == 0);

  json trail = s.ok({"trail", id});
  REQUIRE(trail.is_array());
  CHECK(actions(trail) == std::vector<std::string>{"submit", "assign", "opinion", "waive", "handle",
                                                   "verify", "close"});
  const std::vector<std::string> stages{"submitted", "assigned", "assigned", "assigned",
                                        "handled",   "verified", "closed"};
  const std::vector<std::string> actors{"office", "office", "交通局", "office",
                                        "住建局", "联络站", "office"};
  REQUIRE(trail.size() == stages.size());
  std::string prev(64, '0');
  for (size_t i = 0; i < trail.size(); ++i) {
    const json& e = trail[i];
    INFO("event " << e.dump());
    for (const char* key :
         {"seq", "stage", "action", "actor", "department", "at", "prev_hash", "hash"})
      CHECK(e.contains(key));
    CHECK(e["seq"] == i + 1);
    CHECK(e["stage"] == stages[i]);
    CHECK(e["actor"] == actors[i]);
    CHECK(e["prev_hash"] == prev);
    CHECK(e["hash"].get<std::string>().size() == 64);
    prev = e["hash"].get<std::string>();
  }

  // The human-readable forms exit 0 too and show the Chinese text as it is.
  Run plain = s.cli({"show", id});
  CHECK(plain.code == 0);
  CHECK(plain.out.find(title) != std::string::npos);
  CHECK(plain.out.find(body) != std::string::npos);
  plain = s.cli({"trail", id});
  CHECK(plain.code == 0);
  CHECK(plain.out.find("close") != std::string::npos);
}

TEST_CASE("the CLI lists items as an array, filtered by stage and by department", "[cli][list]") {
  WithCli s;
  std::string a = s.submit(), b = s.submit(), c = s.submit();
  s.ok({"assign", b, "--department", "zjj"});
  s.ok({"assign", c, "--department", "jyj"});

  json all = s.ok({"list"});
  REQUIRE(all.is_array());
  CHECK(ids(all) == std::vector<std::string>{a, b, c});
  for (const auto& item : all) check_item_shape(item);
  CHECK(ids(s.ok({"list", "--stage", "submitted"})) == std::vector<std::string>{a});
  CHECK(ids(s.ok({"list", "--stage", "assigned"})) == std::vector<std::string>{b, c});
  CHECK(ids(s.ok({"list", "--department", "jyj"})) == std::vector<std::string>{c});
  CHECK(ids(s.ok({"list", "--stage", "assigned", "--department", "zjj"})) ==
        std::vector<std::string>{b});
  CHECK(s.ok({"list", "--stage", "closed"}) == json::array());
  CHECK(s.ok({"list", "--limit", "2"}).size() == 2);

  Run bad = s.cli({"list", "--stage", "nosuch"});
  CHECK(bad.code == 3);
  CHECK(bad.err.find("nosuch") != std::string::npos);
}

TEST_CASE("the CLI exits 2 for usage errors, without reaching the service", "[cli][usage]") {
  // A closed port: usage is checked before any request, so no cluster is needed.
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::vector<std::string> base{"--endpoint", "tcp://127.0.0.1:1", "--timeout", "300"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(dir, all);
  };
  Run r = with({"frobnicate"});
  CHECK(r.code == 2);
  CHECK(!r.err.empty());
  r = with({"submit", "--body", "只有正文"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--title") != std::string::npos);
  r = with({"assign", "2026-000001"});  // no --department
  CHECK(r.code == 2);
  r = with({"show"});  // no ID
  CHECK(r.code == 2);
  r = with({});  // no verb
  CHECK(r.code == 2);
  r = with({"--timeout", "0", "ping"});
  CHECK(r.code == 2);
  r = with({"--help"});
  CHECK(r.code == 0);
}

TEST_CASE("the CLI exits 3 with the service's reason for refusals", "[cli][refusal]") {
  WithCli s;
  std::string id = s.submit();

  Run early = s.cli({"close", id});
  CHECK(early.code == 3);
  CHECK(early.out.empty());
  CHECK(early.err.find("closeloop: refused: ") == 0);
  CHECK(early.err.find("submitted") != std::string::npos);

  s.ok({"assign", id, "--department", "zjj"});
  Run again = s.cli({"assign", id, "--department", "jtj", "--json"});
  CHECK(again.code == 3);
  CHECK(again.out.empty());
  CHECK(again.err.find("refused") != std::string::npos);
  CHECK(again.err.find("assigned") != std::string::npos);

  Run unknown = s.cli({"show", "2026-999999"});
  CHECK(unknown.code == 3);
  CHECK(unknown.err.find("not_found") != std::string::npos);
  CHECK(unknown.err.find("2026-999999") != std::string::npos);
  Run unknown_assign = s.cli({"assign", "2026-999999", "--department", "zjj"});
  CHECK(unknown_assign.code == 3);
  CHECK(unknown_assign.err.find("not_found") != std::string::npos);
  Run unknown_trail = s.cli({"trail", "2026-999999", "--verify"});
  CHECK(unknown_trail.code == 3);
  CHECK(unknown_trail.err.find("not_found") != std::string::npos);

  std::string other = s.submit();
  Run no_department = s.cli({"assign", other, "--department", "nosuch"});
  CHECK(no_department.code == 3);
  CHECK(no_department.err.find("invalid") != std::string::npos);
  CHECK(no_department.err.find("nosuch") != std::string::npos);
  Run bad_outcome =
      s.cli({"handle", id, "--department", "zjj", "--reply", "答复", "--outcome", "done"});
  CHECK(bad_outcome.code == 3);
  CHECK(bad_outcome.err.find("invalid") != std::string::npos);
  Run not_lead =
      s.cli({"handle", id, "--department", "jtj", "--reply", "答复", "--outcome", "solved"});
  CHECK(not_lead.code == 3);
  CHECK(not_lead.err.find("forbidden") != std::string::npos);

  // None of these changed anything.
  CHECK(actions(s.ok({"trail", id})) == std::vector<std::string>{"submit", "assign"});
  CHECK(s.show(other)["stage"] == "submitted");
}

TEST_CASE("the CLI exits 4 when nothing answers within the timeout", "[cli][timeout]") {
  // A free port that nobody listens on (the harness picks free pairs the same way).
  Cluster unused;  // only for a free endpoint and a temp dir; nothing is started
  std::string key = unused.dir() + "/me.key";
  Run made = run_cli(unused.dir(), {"keygen", "--out", key});
  REQUIRE(made.code == 0);
  std::string server = made.out.substr(0, 40);  // any well-formed key: nobody answers
  auto start = std::chrono::steady_clock::now();
  Run r = run_cli(unused.dir(),
                  {"--endpoint", unused.endpoint(), "--timeout", "300", "--json", "--key", key,
                   "--server-key", server, "submit", "--title", "标题", "--body", "正文"});
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.code == 4);
  CHECK(r.out.empty());
  CHECK(r.err.find("no answer") != std::string::npos);
  CHECK(r.err.find(unused.endpoint()) != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
  r = run_cli(unused.dir(), {"--endpoint", unused.endpoint(), "--timeout", "300", "--key", key,
                             "--server-key", server, "ping"});
  CHECK(r.code == 4);
}

TEST_CASE("trail --verify exits 0, and 5 naming the seq once a stored event is altered",
          "[cli][trail]") {
  WithCli s;
  std::string id = s.submit();
  s.ok({"assign", id, "--department", "zjj"});
  s.ok({"handle", id, "--reply", "已修复", "--outcome", "solved"}, s.clerk("zjj"));
  s.ok({"verify", id, "--rating", "satisfied", "--via", "paper"});

  Run good = s.cli({"trail", id, "--verify"});
  CHECK(good.code == 0);
  CHECK(good.out.find("verifies") != std::string::npos);
  Run good_json = s.cli({"trail", id, "--verify", "--json"});
  CHECK(good_json.code == 0);
  CHECK(good_json.parsed().size() == 4);  // stdout stays the events array
  CHECK(good_json.err.find("verifies") != std::string::npos);

  with_ledger_stopped(s, [&](Store& store, leveldb::WriteBatch& batch) {
    auto stored = store.get(keys::event(id, 3));
    REQUIRE(stored);
    auto event = decode_event(*stored);
    REQUIRE(event.ok());
    event->payload["reply"] = "已修复（篡改）";
    batch.Put(keys::event(id, 3), encode(*event));
  });

  Run bad = s.cli({"trail", id, "--verify"});
  CHECK(bad.code == 5);
  CHECK(bad.err.find("seq 3") != std::string::npos);
  Run bad_json = s.cli({"trail", id, "--verify", "--json"});
  CHECK(bad_json.code == 5);
  CHECK(bad_json.parsed().size() == 4);
  CHECK(bad_json.err.find("seq 3") != std::string::npos);
  CHECK(s.cli({"trail", id}).code == 0);  // without --verify the trail is just shown
}

TEST_CASE("trail --verify exits 5 when the trail's last events are missing", "[cli][trail]") {
  WithCli s;
  std::string id = s.submit();
  s.ok({"assign", id, "--department", "zjj"});
  s.ok({"handle", id, "--reply", "已修复", "--outcome", "solved"}, s.clerk("zjj"));
  CHECK(s.cli({"trail", id, "--verify"}).code == 0);

  // Cutting the last event leaves a chain that verifies by itself, one event short of
  // the head the item carries.
  with_ledger_stopped(s, [&](Store& store, leveldb::WriteBatch& batch) {
    REQUIRE(store.get(keys::event(id, 3)));
    batch.Delete(keys::event(id, 3));
  });

  json trail = s.ok({"trail", id});
  REQUIRE(trail.size() == 2);
  CHECK(s.show(id)["stage"] == "handled");
  Run cut = s.cli({"trail", id, "--verify"});
  INFO("stderr: " << cut.err);
  CHECK(cut.code == 5);
  CHECK(cut.err.find("ends at seq 2") != std::string::npos);
  CHECK(cut.err.find("item is at seq 3") != std::string::npos);
  Run cut_json = s.cli({"trail", id, "--verify", "--json"});
  CHECK(cut_json.code == 5);
  CHECK(cut_json.parsed().size() == 2);
}

TEST_CASE("CLOSELOOP_ENDPOINT is used when --endpoint is absent", "[cli][env]") {
  WithCli s;
  const std::string env = "CLOSELOOP_ENDPOINT=" + shell_quote(s.cluster.endpoint()) + " ";
  Run r =
      run_cli(s.cluster.dir(),
              {"--json", "submit", "--title", "学校门口交通拥堵", "--body", "上下学高峰拥堵"}, env);
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  std::string id = r.parsed()["id"];
  r = run_cli(s.cluster.dir(), {"show", id, "--json"}, env);
  REQUIRE(r.code == 0);
  CHECK(r.parsed()["title"] == "学校门口交通拥堵");
  // --endpoint wins over the environment.
  Run unused = run_cli(s.cluster.dir(),
                       {"--endpoint", "tcp://127.0.0.1:1", "--timeout", "300", "show", id}, env);
  CHECK(unused.code == 4);
}

TEST_CASE("the key's account acts: events name it, --actor may only repeat it", "[cli][actor]") {
  WithCli s;
  s.cluster.add_account("王芳", {"office"});
  s.cluster.add_account("赵科长", {"department"}, "zjj");
  std::string id = s.ok({"submit", "--title", "路灯", "--body", "不亮"}, "王芳")["id"];
  s.ok({"assign", id, "--department", "zjj"}, "王芳");
  // Its own name is accepted as --actor, after the verb too, like every global option.
  Run r = s.cli({"handle", id, "--department", "zjj", "--reply", "已修复", "--outcome", "solved",
                 "--actor", "赵科长"},
                "赵科长");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  json trail = s.ok({"trail", id});
  REQUIRE(trail.size() == 3);
  CHECK(trail[0]["actor"] == "王芳");
  CHECK(trail[1]["actor"] == "王芳");
  CHECK(trail[2]["actor"] == "赵科长");
  CHECK(trail[2]["department"] == "zjj");

  // Another's name is refused (exit 3, forbidden) and changes nothing.
  Run claimed = s.cli({"--actor", "王芳", "verify", id, "--rating", "satisfied"}, "赵科长");
  CHECK(claimed.code == 3);
  CHECK(claimed.err.find("forbidden") != std::string::npos);
  CHECK(s.ok({"trail", id}).size() == 3);

  // $CLOSELOOP_KEY names the key file when --key does not.
  r = run_cli(s.cluster.dir(), {"--endpoint", s.cluster.endpoint(), "--json", "user", "list"},
              "CLOSELOOP_KEY=" + shell_quote(s.cluster.key_file("admin")) + " ");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.parsed().size() == 4);  // admin, office, 王芳, 赵科长
}

TEST_CASE("submit with the same --key twice returns the same id", "[cli][idempotency]") {
  WithCli s;
  const std::vector<std::string> args{
      "submit",         "--title", "学校门口交通拥堵",      "--body",
      "上下学高峰拥堵", "--key",   "station-7-2026-11-20-3"};
  json first = s.ok(args);
  json second = s.ok(args);
  CHECK(first["id"] == second["id"]);
  CHECK(s.ok({"list"}).size() == 1);
  json other = s.ok({"submit", "--title", "学校门口交通拥堵", "--body", "上下学高峰拥堵", "--key",
                     "station-7-2026-11-20-4"});
  CHECK(other["id"] != first["id"]);
  CHECK(s.ok({"list"}).size() == 2);
}

TEST_CASE("arguments with quotes, spaces and newlines reach the service intact", "[cli][quote]") {
  WithCli s;
  const std::string title = "it's \"quoted\" $HOME `x` ; 标题";
  const std::string body = "第一行\n第二行 'single' \\ back";
  std::string id = s.submit(title, body);
  json shown = s.show(id);
  CHECK(shown["title"] == title);
  CHECK(shown["body"] == body);
}

TEST_CASE("text from the service cannot steer the terminal: controls are printed escaped",
          "[cli][terminal]") {
  WithCli s;
  // ESC [2J clears a screen, CR rewrites a line, U+202E reverses what follows, U+009B is
  // the one-byte CSI in UTF-8.
  const std::string title = "路灯\x1b[2J\r假标题\u202e反转\u009b31m";
  const std::string body = "第一行\n第二行\x1b]0;窗口标题\x07";
  std::string id = s.submit(title, body);

  auto no_raw_controls = [](const std::string& out) {
    INFO(out);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find('\x07') == std::string::npos);
    CHECK(out.find("\u202e") == std::string::npos);
    CHECK(out.find("\u009b") == std::string::npos);
  };
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", id}, {"list"}, {"trail", id}, {"show", id, "--json"},
        {"list", "--json"}}) {
    Run r = s.cli(args);
    REQUIRE(r.code == 0);
    no_raw_controls(r.out);
  }
  Run shown = s.cli({"show", id});
  CHECK(shown.out.find("路灯\\x1b[2J\\x0d假标题\\u202e反转\\u009b31m") != std::string::npos);
  CHECK(shown.out.find("第一行\n第二行\\x1b]0;窗口标题\\x07") != std::string::npos);  // newlines kept
  // --json is escaped for the terminal but means the same to a parser.
  json item = s.show(id);
  CHECK(item["title"] == title);
  CHECK(item["body"] == body);

  // A refusal that quotes the request is escaped too (it goes to stderr).
  Run refused = s.cli({"assign", id, "--department", "no\x1b[31mne"});
  CHECK(refused.code != 0);
  no_raw_controls(refused.err);
}

TEST_CASE("keygen writes a key pair readable only by its owner and prints the public key",
          "[cli][keygen][security]") {
  Cluster c;  // for its directory; keygen needs no service
  std::string file = c.dir() + "/wang.key";
  Run made = run_cli(c.dir(), {"keygen", "--out", file});
  INFO(made.err);
  REQUIRE(made.code == 0);
  auto pair = security::read_key_file(file);
  REQUIRE(pair.ok());
  CHECK(made.out == pair->public_key + "\n");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Never overwritten: a second keygen to the same file changes nothing.
  Run again = run_cli(c.dir(), {"keygen", "--out", file});
  CHECK(again.code == 2);
  CHECK(again.err.find("exists") != std::string::npos);
  CHECK(security::read_key_file(file)->secret_key == pair->secret_key);
  // A place that cannot be written: exit 2 with the reason.
  Run nowhere = run_cli(c.dir(), {"keygen", "--out", c.dir() + "/no/such/dir/k.key"});
  CHECK(nowhere.code == 2);
  CHECK(nowhere.err.find("cannot write the key") != std::string::npos);
  Run json = run_cli(c.dir(), {"keygen", "--out", c.dir() + "/li.key", "--json"});
  REQUIRE(json.code == 0);
  CHECK(json.parsed()["public_key"] == security::read_key_file(c.dir() + "/li.key")->public_key);
}
