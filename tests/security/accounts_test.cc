#include "security/accounts.h"

#include <catch2/catch.hpp>

#include "security/keys.h"
#include "wire/message.h"

namespace closeloop::security {
namespace {

Account person(const std::string& name, std::vector<Role> roles) {
  Account a{name, std::move(roles)};
  a.key = generate_key_pair().public_key;
  return a;
}

Account decoded(const std::string& encoded) {
  auto object = wire::decode(encoded.data(), encoded.size());
  REQUIRE(object.ok());
  auto account = decode_account(object->get());
  REQUIRE(account.ok());
  return *account;
}

}  // namespace

TEST_CASE("a gateway's scope is kept with its account, and one made before scopes gets the default",
          "[security][gateway]") {
  Account web = person("web", {Role::kAuditor});
  web.gateway = true;
  web.acts_for = {Role::kDepartment};
  CHECK(decoded(encode_account(web)).acts_for == std::vector<Role>{Role::kDepartment});
  // A record written before --acts-for: gateway, no scope.
  std::string old = wire::MapBuilder()
                        .add("name", "web")
                        .add("roles", std::vector<std::string>{"auditor"})
                        .add("key", web.key)
                        .add("gateway", true)
                        .finish();
  CHECK(decoded(old).acts_for == std::vector<Role>(std::begin(kDefaultGatewayScope),
                                                    std::end(kDefaultGatewayScope)));
  CHECK(decoded(encode_account(person("王芳", {Role::kOffice}))).acts_for.empty());
}

TEST_CASE("a gateway acts only for an enabled person whose every role is in its scope",
          "[security][gateway]") {
  Account web = person("web", {Role::kAuditor});
  web.gateway = true;
  web.acts_for = {Role::kOffice, Role::kDepartment};
  Account clerk = person("clerk", {Role::kDepartment});
  CHECK(may_act_for(web, &clerk, "clerk").ok());
  Account office_ops = person("主任", {Role::kOffice, Role::kOps});
  CHECK(may_act_for(web, &office_ops, "主任").error().code == errc::kForbidden);  // whole, not cut
  Account deputy = person("代表", {Role::kDeputy});
  CHECK_FALSE(may_act_for(web, &deputy, "代表").ok());  // outside its scope
  web.acts_for.push_back(Role::kAdmin);  // even a scope that names it (never stored so)
  Account admin = person("admin", {Role::kAdmin});
  CHECK_FALSE(may_act_for(web, &admin, "admin").ok());
  clerk.disabled = true;
  CHECK_FALSE(may_act_for(web, &clerk, "clerk").ok());
  CHECK_FALSE(may_act_for(web, nullptr, "nobody").ok());
  Account other = person("other-gateway", {Role::kOffice});
  other.gateway = true;
  CHECK_FALSE(may_act_for(web, &other, "other-gateway").ok());
}

TEST_CASE("a gateway may never be given admin or ops, and --acts-for is a gateway's only",
          "[security][gateway]") {
  Account web = person("web", {Role::kAuditor});
  web.gateway = true;
  web.acts_for = {Role::kOffice, Role::kOps};
  CHECK(check_roles(web).error().code == errc::kInvalid);
  Account plain = person("王芳", {Role::kOffice});
  plain.acts_for = {Role::kOffice};
  CHECK_FALSE(check_roles(plain).ok());
}

TEST_CASE("the sender frame carries the broker's word only: forwarded_by and worker, never unchecked",
          "[security][actor]") {
  Actor actor{"王芳", {Role::kOffice}};
  actor.gateway = "web";
  actor.forwarded_by = "dispatch";
  actor.unchecked = true;
  auto back = decode_actor(encode_actor(actor));
  REQUIRE(back.ok());
  CHECK(back->gateway == "web");
  CHECK(back->forwarded_by == "dispatch");
  CHECK_FALSE(back->unchecked);
  CHECK_FALSE(back->worker);
}

}  // namespace closeloop::security

namespace closeloop::security {

TEST_CASE("keys and accounts are never done through a gateway, whoever the person is",
          "[security][gateway]") {
  Actor admin{"admin", {Role::kAdmin}};
  CHECK(may(admin, "user.add", wire::Json::object(), nullptr).ok());
  admin.gateway = "web";
  for (const char* verb : {"backup", "rebuild", "user.add", "user.list", "user.disable", "user.rotate"})
    CHECK(may(admin, verb, wire::Json::object(), nullptr).error().code == errc::kForbidden);
  CHECK(may(admin, "scoreboard", wire::Json::object(), nullptr).ok());
}

}  // namespace closeloop::security
