// Every cell of the rights table (docs/security.md, common/security/rights.cc), with the
// real processes: for each verb and each role, an account of that role whose rights reach
// the item ("own") and, where the role's reach depends on the item, one whose rights do
// not ("other"). Allowed: the command is done (or the read answered); refused: forbidden
// with a reason, and the item's trail is unchanged. Lists are not refused to a role that
// reaches some items: they are cut (the item is listed to the own account, not the other).
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fake_worker.h"
#include "harness.h"
#include "security/keys.h"
#include "security/rights.h"

using namespace closeloop;
using namespace closeloop::test;
using security::Reach;
using security::Role;
using Json = wire::Json;

namespace {

// The item every fixture makes: lead zjj, co jtj, deputy 代表甲, from station st1.
const Json kItemFields = {{"title", "权限矩阵"},
                          {"body", "正文"},
                          {"kind", "suggestion"},
                          {"deputy", "代表甲"},
                          {"source", "st1"}};

struct People : Running {
  std::map<std::string, std::unique_ptr<Client>> clients;

  People() : Running(kFastTiming) {
    for (auto [name, role, department, station] :
         std::vector<std::array<std::string, 4>>{{"clerk-zjj", "department", "zjj", ""},
                                                 {"clerk-jtj", "department", "jtj", ""},
                                                 {"clerk-jyj", "department", "jyj", ""},
                                                 {"代表甲", "deputy", "", ""},
                                                 {"代表乙", "deputy", "", ""},
                                                 {"站甲", "station", "", "st1"},
                                                 {"站乙", "station", "", "st2"},
                                                 {"审计", "auditor", "", ""},
                                                 {"运维", "ops", "", ""}}) {
      cluster.add_account(name, {role}, department, station);
      clients[name] = cluster.client(5000, name);
    }
    clients["office"] = cluster.client(5000, "office");
    clients["admin"] = cluster.client(5000, "admin");
  }

  Result<wire::Reply> as(const std::string& who, const std::string& verb, const Json& body) {
    return clients.at(who)->call(verb, "", wire::encode_json(body));
  }

  void ok(const std::string& who, const std::string& verb, Json body) {
    auto r = as(who, verb, body);
    REQUIRE(r.ok());
    INFO(who << " " << verb << ": " << r->error.code << ": " << r->error.message);
    REQUIRE(r->ok);
  }

  size_t trail_length(const std::string& id) {
    auto r = clients.at("office")->call_pages("trail", "", wire::encode_json({{"item", id}}),
                                              "events", "seq");
    REQUIRE(r.ok());
    return wire::to_json(r->body)["events"].size();
  }

  // A fresh item in the state where `verb` applies (for `who`: the office withdraws a
  // station item, a deputy their suggestion).
  std::string item_for(const std::string& verb, const std::string& who = "") {
    Json fields = kItemFields;
    if (verb == "milestone") fields["kind"] = "project";
    if (verb == "withdraw" && who == "office") fields["kind"] = "station";
    auto made = as("office", "submit", fields);
    REQUIRE(made.ok());
    REQUIRE(made->ok);
    std::string id = wire::to_json(made->body)["item"]["id"];
    if (verb == "assign") return id;
    Json assign = {{"item", id}, {"department", "zjj"}, {"co", {"jtj"}}, {"due", "2099-06-30"}};
    if (verb == "milestone")
      assign["milestone"] = Json::array({{{"date", "2099-03-01"}, {"text", "开工"}}});
    ok("office", "assign", assign);
    if (verb == "decide-extension")
      ok("clerk-zjj", "extend", {{"item", id}, {"until", "2099-07-31"}, {"reason", "需协调"}});
    bool replied =
        verb == "verify" || verb == "close" || verb == "reopen" || verb == "promise-kept";
    if (verb == "handle" || replied)
      ok("office", "waive", {{"item", id}, {"department", "jtj"}, {"reason", "无关"}});
    if (replied) {
      Json handle = {{"item", id}, {"reply", "已办理"}, {"outcome", "solved"}};
      if (verb == "promise-kept") handle["outcome"] = "planned", handle["promise"] = "2099-12-31";
      ok("clerk-zjj", "handle", handle);
    }
    if (verb == "close" || verb == "reopen")
      ok("office", "verify", {{"item", id}, {"rating", "satisfied"}, {"via", "paper"}});
    if (verb == "reopen") ok("office", "close", {{"item", id}});
    return id;
  }
};

// The verb's body for `who` on item `id`: a clerk's department comes from the account,
// anyone else names the department as its clerk would act.
Json command_body(const std::string& verb, const std::string& who, const std::string& id) {
  Json b = {{"item", id}};
  if (security::acts_for_department(verb) && !who.starts_with("clerk-"))
    b["department"] = verb == "opinion" ? "jtj" : "zjj";
  if (verb == "assign") b["department"] = "zjj";
  if (verb == "reassign") b["department"] = "jyj", b["reason"] = "改派";
  if (verb == "withdraw") b["reason"] = "撤销";
  if (verb == "return") b["reason"] = "不属本单位";
  if (verb == "opinion") b["text"] = "同意";
  if (verb == "waive") b["department"] = "jtj", b["reason"] = "无关";
  if (verb == "extend") b["until"] = "2099-07-31", b["reason"] = "需协调";
  if (verb == "decide-extension") b["approve"] = true;
  if (verb == "handle") b["reply"] = "已办理", b["outcome"] = "solved";
  if (verb == "verify") b["rating"] = "satisfied";
  if (verb == "verify" && who == "office") b["via"] = "paper";
  if (verb == "reopen") b["reason"] = "仍未解决";
  if (verb == "urge") b["note"] = "请抓紧";
  if (verb == "milestone") b["index"] = 1;
  return b;
}

// The accounts of a role: the one its rights reach the fixture with, and one they do not
// (empty when the role's reach does not depend on the item).
std::pair<std::string, std::string> accounts_of(Role role, Reach reach) {
  switch (role) {
    case Role::kOffice:
      return {"office", ""};
    case Role::kDepartment:
      return {reach == Reach::kCo ? "clerk-jtj" : "clerk-zjj", "clerk-jyj"};
    case Role::kDeputy:
      return {"代表甲", "代表乙"};
    case Role::kStation:
      return {"站甲", "站乙"};
    case Role::kAuditor:
      return {"审计", ""};
    case Role::kOps:
      return {"运维", ""};
    case Role::kAdmin:
      return {"admin", ""};
  }
  return {};
}

bool item_bound(Reach reach) {
  return reach == Reach::kLead || reach == Reach::kCo || reach == Reach::kLeadOrCo ||
         reach == Reach::kOwn;
}

void check_refused(const Result<wire::Reply>& r) {
  REQUIRE(r.ok());
  INFO(r->error.code << ": " << r->error.message);
  CHECK_FALSE(r->ok);
  CHECK(r->error.code == errc::kForbidden);
  CHECK_FALSE(r->error.message.empty());
}

// Reads of many items: a role reaching some is not refused, its list is cut.
bool is_list(const std::string& verb) {
  return verb == "list" || verb == "inbox" || verb == "overdue" || verb == "attention";
}

bool is_command(const std::string& verb) {
  const Verb* v = find_verb(verb);
  return v && v->kind == VerbKind::kCommand && verb != "submit";
}

}  // namespace

TEST_CASE("every cell of the rights table holds with the real processes",
          "[security][rights][matrix]") {
  People s;
  std::string shared = s.item_for("sign");  // an assigned item, for reads
  int made = 0;                             // accounts made for the user.* cells
  // incidents.ack needs an incident held: a sender of a newer version makes one per cell.
  FakeWorker newer(backend_of(s.cluster.endpoint()), "newer", s.cluster.keys_dir());
  auto held_incident = [&](int n) {
    auto step = assigned_step("2026-9" + std::to_string(10000 + n), "zjj");
    REQUIRE(step.ok());
    newer.rejoin();
    newer.request("handle", handoff_request(n, "newer", {{uint64_t(n), newer_entry_of(*step)}}));
    REQUIRE(newer.held_in_durable_ack(n) == std::vector<uint64_t>{uint64_t(n)});
    return "handle/newer/" + std::to_string(n);
  };
  for (std::string_view verb_view : security::verbs_with_rights()) {
    std::string verb(verb_view);
    std::string refusals;  // one item for every refusal of this verb: they change nothing
    for (Role role : security::kRoles) {
      Reach reach = security::reach(verb, role);
      auto [own, other] = accounts_of(role, reach);
      std::vector<std::pair<std::string, bool>> cells{{own, reach != Reach::kNone}};
      if (item_bound(reach)) cells.push_back({other, is_list(verb)});
      if (reach == Reach::kLeadOrCo) cells.push_back({"clerk-jtj", true});
      for (const auto& [who, allowed] : cells) {
        INFO(verb << " as " << who << " (" << security::role_name(role)
                  << "): " << (allowed ? "allowed" : "refused"));
        if (is_command(verb)) {
          if (!allowed && refusals.empty()) refusals = s.item_for(verb);
          std::string id = allowed ? s.item_for(verb, who) : refusals;
          size_t before = s.trail_length(id);
          auto r = s.as(who, verb, command_body(verb, who, id));
          if (allowed) {
            REQUIRE(r.ok());
            INFO(r->error.code << ": " << r->error.message);
            CHECK(r->ok);
            CHECK(s.trail_length(id) == before + 1);
          } else {
            check_refused(r);
            CHECK(s.trail_length(id) == before);
          }
        } else if (verb == "submit") {
          Json body = {{"title", "新事项"}, {"body", "正文"}};
          if (who == "代表乙") body["deputy"] = "代表甲";  // not as themselves
          if (who == "站乙") body["source"] = "st1";       // not from their station
          auto r = s.as(who, verb, body);
          if (allowed) {
            REQUIRE(r.ok());
            INFO(r->error.code << ": " << r->error.message);
            REQUIRE(r->ok);
            // What the account binds, and its role's default kind.
            Json item = wire::to_json(r->body)["item"];
            if (who == "代表甲")
              CHECK((item["kind"] == "suggestion" && item["deputy"] == "代表甲"));
            if (who == "站甲") CHECK((item["kind"] == "station" && item["source"] == "st1"));
          } else {
            check_refused(r);
          }
        } else {
          Json body = {{"item", shared}};
          std::string asked = verb;
          if (verb == "export" || verb == "bundle") body["via"] = verb, asked = "trail";
          if (verb == "backup" || verb == "rebuild") body = {{"part", "intake"}}, asked = "backup";
          if (verb == "inbox" && role != Role::kDepartment) body["department"] = "zjj";
          if (verb == "scoreboard") body = {{"from", "2026-01-01"}, {"to", "2099-12-31"}};
          if (verb == "import") body = {{"rows", Json::array()}};
          if (verb == "proofs") {  // against the tree as it is now
            auto latest = s.as("office", "checkpoint", {{"fresh", true}});
            REQUIRE(latest.ok());
            REQUIRE(latest->ok);
            body["size"] = wire::to_json(latest->body)["checkpoint"]["size"];
          }
          if (verb == "incidents.ack") body = {{"id", held_incident(++made)}};
          if (verb == "user.add" || verb == "user.disable" || verb == "user.rotate") {
            std::string name = "临时" + std::to_string(++made);
            if (verb != "user.add") s.cluster.add_account(name, {"auditor"});
            body = {{"name", name},
                    {"key", security::generate_key_pair().public_key},
                    {"role", {"auditor"}}};
          }
          auto r = s.as(who, asked, body);
          if (!allowed) {
            check_refused(r);
            continue;
          }
          REQUIRE(r.ok());
          INFO(r->error.code << ": " << r->error.message);
          CHECK(r->ok);
          if (verb == "list" && r->ok) {  // cut: the own account sees the item, the other not
            Json items = wire::to_json(r->body)["items"];
            bool listed = false;
            for (const auto& i : items) listed = listed || i["id"] == shared;
            CHECK(listed == (who != other));
          }
        }
      }
    }
  }
}

TEST_CASE("a clerk naming another department is refused, and changes nothing", "[security][rights]") {
  People s;
  std::string id = s.item_for("handle");  // zjj leads, jtj's opinion waived
  size_t before = s.trail_length(id);
  Json body = {{"item", id}, {"department", "zjj"}, {"reply", "冒名答复"}, {"outcome", "solved"}};
  auto claimed = s.as("clerk-jyj", "handle", body);  // jyj's clerk, claiming zjj
  check_refused(claimed);
  CHECK(claimed->error.message.find("jyj only") != std::string::npos);
  CHECK(s.trail_length(id) == before);
  s.ok("clerk-zjj", "handle", body);  // the same, by zjj's own clerk
  CHECK(s.trail_length(id) == before + 1);
}
