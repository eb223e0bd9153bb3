// The rights table: every verb has a row, every cell means what it says, and
// docs/security.md shows the same table.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "security/rights.h"
#include "workflow/verbs.h"

using namespace closeloop;
using namespace closeloop::security;

namespace {

Actor clerk(const std::string& department) { return {"李明", {Role::kDepartment}, department, ""}; }
Actor deputy(const std::string& name) { return {name, {Role::kDeputy}, "", ""}; }
Actor station(const std::string& code) { return {"联络站-" + code, {Role::kStation}, "", code}; }
Actor with(Role role) { return {"someone", {role}, "", ""}; }

ItemFacts item(const std::string& lead, std::vector<std::string> co = {},
               const std::string& kind = "station") {
  return {lead, std::move(co), "王丽", "zgjd-01", kind};
}

bool allowed(const Actor& a, std::string_view verb, const ItemFacts* i,
             const wire::Json& fields = wire::Json::object()) {
  return may(a, verb, fields, i).ok();
}

}  // namespace

TEST_CASE("every verb a person can send has a row in the rights table, and only those",
          "[security][rights]") {
  std::vector<std::string_view> rows = verbs_with_rights();
  for (const Verb& v : verbs()) {
    bool reaches_service = !v.internal && !v.service.empty();
    // Composed by the CLI of verbs that do reach one (export and bundle read, rebuild backs up).
    bool composed = v.name == "export" || v.name == "bundle" || v.name == "rebuild";
    INFO(v.name);
    CHECK((std::find(rows.begin(), rows.end(), v.name) != rows.end()) ==
          (reaches_service || composed));
  }
  for (std::string_view verb : rows) {
    INFO(verb);
    CHECK(find_verb(verb));
  }
}

TEST_CASE("a department clerk acts on their department's items, each verb as lead or as co",
          "[security][rights]") {
  ItemFacts led = item("zjj", {"gaj"}), co_of = item("gaj", {"zjj"}), other = item("jtj", {"gaj"});
  Actor zjj = clerk("zjj");
  for (std::string_view verb : {"return", "handle", "extend", "promise-kept", "milestone"}) {
    INFO(verb);
    CHECK(allowed(zjj, verb, &led));
    CHECK_FALSE(allowed(zjj, verb, &co_of));
    CHECK_FALSE(allowed(zjj, verb, &other));
  }
  CHECK(allowed(zjj, "sign", &led));  // 签收: the lead and every co-department sign
  CHECK(allowed(zjj, "sign", &co_of));
  CHECK_FALSE(allowed(zjj, "sign", &other));
  CHECK(allowed(zjj, "opinion", &co_of));
  CHECK_FALSE(allowed(zjj, "opinion", &led));
  for (std::string_view verb : {"show", "trail"}) {
    CHECK(allowed(zjj, verb, &led));
    CHECK(allowed(zjj, verb, &co_of));
    CHECK_FALSE(allowed(zjj, verb, &other));
  }
  for (std::string_view verb : {"submit", "assign", "verify", "close", "reopen", "urge", "waive",
                                "decide-extension", "import", "export", "bundle"}) {
    INFO(verb);
    CHECK_FALSE(allowed(zjj, verb, verb == "submit" || verb == "import" ? nullptr : &led));
  }
  CHECK(allowed(zjj, "inbox", nullptr, {{"department", "zjj"}}));
  CHECK_FALSE(allowed(zjj, "inbox", nullptr, {{"department", "gaj"}}));
  auto refused = may(zjj, "sign", wire::Json::object(), &other);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::kForbidden);
  CHECK(refused.error().message.find("李明") != std::string::npos);
  CHECK_FALSE(allowed(Actor{"无部门", {Role::kDepartment}, "", ""}, "sign", &led));
}

TEST_CASE("a deputy submits suggestions as themselves, and verifies and reads their own items",
          "[security][rights]") {
  Actor wang = deputy("王丽");
  CHECK(allowed(wang, "submit", nullptr, {{"kind", "suggestion"}}));
  CHECK(allowed(wang, "submit", nullptr));  // the kind will default to suggestion
  CHECK_FALSE(allowed(wang, "submit", nullptr, {{"kind", "station"}}));
  CHECK_FALSE(allowed(wang, "submit", nullptr, {{"kind", "suggestion"}, {"deputy", "张伟"}}));
  ItemFacts hers = item("zjj"), not_hers = item("zjj");
  not_hers.deputy = "张伟";
  for (std::string_view verb : {"verify", "show", "trail"}) {
    INFO(verb);
    CHECK(allowed(wang, verb, &hers));
    CHECK_FALSE(allowed(wang, verb, &not_hers));
  }
  CHECK_FALSE(allowed(wang, "close", &hers));
  CHECK_FALSE(allowed(wang, "handle", &hers));
}

TEST_CASE("a liaison station submits station items from itself, and verifies and reads them",
          "[security][rights]") {
  Actor zgjd = station("zgjd-01");
  CHECK(allowed(zgjd, "submit", nullptr, {{"kind", "station"}, {"source", "zgjd-01"}}));
  CHECK_FALSE(allowed(zgjd, "submit", nullptr, {{"kind", "station"}, {"source", "hzjd-02"}}));
  CHECK_FALSE(allowed(zgjd, "submit", nullptr, {{"kind", "audit"}}));
  ItemFacts ours = item("zjj"), theirs = item("zjj");
  theirs.source = "hzjd-02";
  CHECK(allowed(zgjd, "verify", &ours));
  CHECK_FALSE(allowed(zgjd, "verify", &theirs));
  CHECK(allowed(zgjd, "show", &ours));
  CHECK_FALSE(allowed(zgjd, "show", &theirs));
  CHECK_FALSE(allowed(Actor{"无站", {Role::kStation}, "", ""}, "show", &ours));
}

TEST_CASE("the office supervises every item, verifying only what it evaluates itself",
          "[security][rights]") {
  Actor office = with(Role::kOffice);
  ItemFacts audit = item("sjj", {}, "audit"), complaint = item("zjj", {}, "station");
  for (std::string_view verb : {"assign", "waive", "decide-extension", "urge", "close", "reopen",
                                "show", "trail", "bundle", "export"}) {
    INFO(verb);
    CHECK(allowed(office, verb, &complaint));
  }
  ItemFacts project = item("fgj", {}, "project"), legislative = item("fgj", {}, "legislative");
  CHECK(allowed(office, "verify", &audit));
  CHECK(allowed(office, "verify", &project));
  CHECK(allowed(office, "verify", &legislative));
  CHECK_FALSE(allowed(office, "verify", &complaint));
  CHECK(allowed(office, "verify", &complaint, {{"via", "paper"}}));
  for (std::string_view verb : {"sign", "handle", "opinion", "extend", "return"}) {
    INFO(verb);
    CHECK_FALSE(allowed(office, verb, &complaint));
  }
}

TEST_CASE(
    "auditors read everything and change nothing, ops only the service's running, admins keep accounts",
    "[security][rights]") {
  ItemFacts any_item = item("zjj", {"gaj"});
  Actor auditor = with(Role::kAuditor), ops = with(Role::kOps), admin = with(Role::kAdmin);
  for (std::string_view verb :
       {"show", "trail", "list", "bundle", "export", "scoreboard", "checkpoint", "proofs"})
    CHECK(allowed(auditor, verb, &any_item));
  for (std::string_view verb : {"submit", "assign", "handle", "verify", "close", "import"})
    CHECK_FALSE(allowed(auditor, verb, &any_item));
  CHECK(allowed(ops, "ping", nullptr));
  for (std::string_view verb : {"show", "list", "scoreboard", "submit"})
    CHECK_FALSE(allowed(ops, verb, &any_item));
  CHECK(allowed(admin, "ping", nullptr));
  CHECK(allowed(admin, "checkpoint", nullptr));  // the tree's checkpoint shows no item
  CHECK_FALSE(allowed(admin, "show", &any_item));
  CHECK_FALSE(allowed(admin, "proofs", &any_item));
  CHECK_FALSE(allowed(ops, "checkpoint", nullptr));
  CHECK_FALSE(allowed(Actor{"nobody", {}, "", ""}, "ping", nullptr));
  // The workers' figures and incidents: for those who run, audit or supervise the service;
  // closing or replaying an incident for those who run it.
  Actor office = with(Role::kOffice);
  for (const Actor& a : {office, ops, auditor, admin}) {
    CHECK(allowed(a, "status", nullptr));
    CHECK(allowed(a, "incidents", nullptr));
  }
  for (Role r : {Role::kDepartment, Role::kDeputy, Role::kStation}) {
    CHECK_FALSE(allowed(with(r), "status", nullptr));
    CHECK_FALSE(allowed(with(r), "incidents", nullptr));
  }
  for (std::string_view verb : {"incidents.ack", "incidents.replay"}) {
    CHECK(allowed(ops, verb, nullptr));
    CHECK(allowed(admin, verb, nullptr));
    CHECK_FALSE(allowed(office, verb, nullptr));
    CHECK_FALSE(allowed(auditor, verb, nullptr));
  }
}

TEST_CASE("reassign is the office's, withdraw the office's for station, project and legislative "
          "items, a deputy's for their own suggestion before its reply, nobody's for an audit finding",
          "[security][rights][withdraw]") {
  Actor office = with(Role::kOffice), wang = deputy("王丽");
  ItemFacts suggestion = item("zjj", {}, "suggestion"), audit = item("zjj", {}, "audit");
  CHECK(allowed(office, "reassign", &suggestion));
  CHECK(allowed(office, "reassign", &audit));
  for (Role r : {Role::kDepartment, Role::kDeputy, Role::kStation, Role::kAuditor, Role::kOps,
                 Role::kAdmin})
    CHECK_FALSE(allowed(with(r), "reassign", &suggestion));
  CHECK_FALSE(allowed(clerk("zjj"), "reassign", &suggestion));  // not even its own lead

  for (std::string kind : {"station", "project", "legislative"}) {
    ItemFacts it = item("zjj", {}, kind);
    INFO(kind);
    CHECK(allowed(office, "withdraw", &it));
    CHECK_FALSE(allowed(wang, "withdraw", &it));
  }
  auto refused = may(office, "withdraw", wire::Json::object(), &suggestion);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::kForbidden);
  CHECK_THAT(refused.error().message, Catch::Contains("by its deputy"));
  CHECK(allowed(wang, "withdraw", &suggestion));  // 撤回, before the reply
  ItemFacts replied = suggestion, not_hers = suggestion;
  replied.replied = true;
  not_hers.deputy = "张伟";
  CHECK_THAT(may(wang, "withdraw", wire::Json::object(), &replied).error().message,
             Catch::Contains("before it is replied"));
  CHECK_FALSE(allowed(wang, "withdraw", &not_hers));
  ItemFacts her_audit = audit;  // even were it submitted for her
  for (const Actor& a : {office, wang, with(Role::kAdmin), clerk("zjj"), station("zgjd-01")}) {
    INFO(a.name);
    CHECK_FALSE(allowed(a, "withdraw", &her_audit));
  }
  CHECK_THAT(may(office, "withdraw", wire::Json::object(), &audit).error().message,
             Catch::Contains("never withdrawn"));
  for (Role r : {Role::kDepartment, Role::kStation, Role::kAuditor, Role::kOps, Role::kAdmin}) {
    ItemFacts station_item = item("zjj", {}, "station");
    CHECK_FALSE(allowed(with(r), "withdraw", &station_item));
  }
}

TEST_CASE("an account with several roles may do what any of them may", "[security][rights]") {
  Actor both{"赵强", {Role::kDepartment, Role::kAuditor}, "zjj", ""};
  ItemFacts other = item("jtj");
  CHECK(allowed(both, "show", &other));     // as auditor
  CHECK_FALSE(allowed(both, "sign", &other));  // as clerk: not zjj's
  ItemFacts own = item("zjj");
  CHECK(allowed(both, "sign", &own));
  CHECK(reaches(both, "list", other));
  CHECK_FALSE(reaches(clerk("zjj"), "list", other));
}

TEST_CASE("docs/security.md holds the rights table generated from the declarations",
          "[security][rights][docs]") {
  std::ifstream in(CLOSELOOP_SOURCE_DIR "/docs/security.md");
  std::stringstream doc;
  doc << in.rdbuf();
  INFO("regenerate it with: build/bin/closeloop rights --markdown");
  CHECK(doc.str().find(rights_markdown()) != std::string::npos);
}
