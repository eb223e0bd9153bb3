#include "accounts.h"

#include "base/text.h"
#include "security/keys.h"
#include "wire/json.h"
#include "wire/message.h"

namespace closeloop::security {
namespace {

constexpr size_t kMaxAccountNameChars = 64;
constexpr size_t kMaxRoles = std::size(kRoles);

Error invalid(std::string message) { return Error{errc::kInvalid, std::move(message)}; }

std::vector<std::string> role_names(const std::vector<Role>& roles) {
  std::vector<std::string> names;
  for (Role r : roles) names.emplace_back(role_name(r));
  return names;
}

std::string join_roles(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) out += (out.empty() ? "" : ", ") + std::string(role_name(r));
  return out;
}

std::string role_list() { return join_roles({std::begin(kRoles), std::end(kRoles)}); }

}  // namespace

Result<std::vector<Role>> parse_roles(const std::vector<std::string>& names) {
  std::vector<Role> roles;
  for (const std::string& n : names) {
    auto role = parse_role(n);
    if (!role) return invalid("unknown role '" + n + "' (roles: " + role_list() + ")");
    if (std::find(roles.begin(), roles.end(), *role) == roles.end()) roles.push_back(*role);
  }
  return roles;
}

Status check_account_name(std::string_view name) {
  if (name.empty() || !valid_utf8(name) || utf8_length(name) > kMaxAccountNameChars)
    return invalid("an account name is 1 to 64 characters of UTF-8");
  for (unsigned char c : name)
    if (c <= ' ' || c == 0x7F || c == '/')
      return invalid("an account name has no spaces, control characters or '/': '" +
                     std::string(name) + "'");
  return ok_status();
}

Status check_roles(const Account& a) {
  if (a.roles.empty()) return invalid("an account needs a role (--role)");
  bool clerk = std::find(a.roles.begin(), a.roles.end(), Role::kDepartment) != a.roles.end();
  bool staff = std::find(a.roles.begin(), a.roles.end(), Role::kStation) != a.roles.end();
  if (clerk != !a.department.empty())
    return invalid(clerk ? "a department clerk needs --department"
                         : "--department binds the department role only");
  if (staff != !a.station.empty())
    return invalid(staff ? "a liaison station's account needs --station"
                         : "--station binds the station role only");
  if (!valid_z85_key(a.key)) return invalid("--key must be a public key: 40 characters of Z85");
  if (!a.gateway && !a.acts_for.empty()) return invalid("--acts-for is a gateway's (--gateway)");
  for (Role r : a.acts_for)
    if (r == Role::kAdmin || r == Role::kOps)
      return invalid("a gateway never acts for " + std::string(role_name(r)) + " (--acts-for)");
  return ok_status();
}

Status may_act_for(const Account& gateway, const Account* person, std::string_view name) {
  auto refuse = [&](const std::string& why) {
    return Error{errc::kForbidden,
                 "the gateway " + gateway.name + " cannot act for '" + std::string(name) + "': " + why};
  };
  if (!person || person->disabled || person->gateway) return refuse("no enabled person's account");
  for (Role role : person->roles) {
    bool scoped = std::find(gateway.acts_for.begin(), gateway.acts_for.end(), role) !=
                  gateway.acts_for.end();
    if (role == Role::kAdmin || role == Role::kOps || !scoped)
      return refuse("the account holds the role " + std::string(role_name(role)) +
                    ", outside what the gateway acts for (" +
                    (gateway.acts_for.empty() ? "nothing" : join_roles(gateway.acts_for)) + ")");
  }
  return ok_status();
}

std::string encode_account(const Account& a) {
  wire::MapBuilder m;
  m.add("name", a.name).add("roles", role_names(a.roles)).add_nonempty("department", a.department);
  m.add_nonempty("station", a.station).add("key", a.key);
  if (a.gateway) m.add("gateway", true).add("acts_for", role_names(a.acts_for));
  if (a.disabled) m.add("disabled", true);
  m.add_nonempty("created_at", a.created_at).add_nonempty("changed_at", a.changed_at);
  return m.finish();
}

Result<Account> decode_account(const msgpack::object& map) {
  wire::Fields f(map, "account");
  Account a;
  a.name = f.str("name", 256);
  auto roles = f.opt_str_list("roles", kMaxRoles * 2, 32).value_or(std::vector<std::string>{});
  a.department = f.opt_str("department", 64).value_or("");
  a.station = f.opt_str("station", 64).value_or("");
  a.key = f.str("key", 64);
  a.gateway = f.opt_bool("gateway").value_or(false);
  auto scope = f.opt_str_list("acts_for", kMaxRoles * 2, 32);
  a.disabled = f.opt_bool("disabled").value_or(false);
  a.created_at = f.opt_str("created_at", 64).value_or("");
  a.changed_at = f.opt_str("changed_at", 64).value_or("");
  if (!f.ok()) return f.error();
  auto parsed = parse_roles(roles);
  if (!parsed) return parsed.error();
  a.roles = std::move(*parsed);
  if (!a.gateway) return a;
  if (!scope) {  // a gateway made before scopes
    a.acts_for.assign(std::begin(kDefaultGatewayScope), std::end(kDefaultGatewayScope));
    return a;
  }
  auto acts_for = parse_roles(*scope);
  if (!acts_for) return acts_for.error();
  a.acts_for = std::move(*acts_for);
  return a;
}

wire::Json account_json(const Account& a) {
  wire::Json j = {{"name", a.name}, {"roles", role_names(a.roles)}, {"key", a.key}};
  if (!a.department.empty()) j["department"] = a.department;
  if (!a.station.empty()) j["station"] = a.station;
  if (a.gateway) j["gateway"] = true, j["acts_for"] = role_names(a.acts_for);
  j["disabled"] = a.disabled;
  if (!a.created_at.empty()) j["created_at"] = a.created_at;
  if (!a.changed_at.empty()) j["changed_at"] = a.changed_at;
  return j;
}

std::string encode_actor(const Actor& actor) {
  wire::MapBuilder m;
  m.add("name", actor.name).add("roles", role_names(actor.roles));
  m.add_nonempty("department", actor.department).add_nonempty("station", actor.station);
  m.add_nonempty("gateway", actor.gateway).add_nonempty("forwarded_by", actor.forwarded_by);
  if (actor.worker) m.add("worker", true);
  return m.finish();
}

Result<Actor> decode_actor(std::string_view frame) {
  auto decoded = wire::decode(frame.data(), frame.size());
  if (!decoded) return decoded.error();
  wire::Fields f(decoded->get(), "sender");
  Actor actor;
  actor.name = f.str("name", 256);
  auto roles = f.opt_str_list("roles", kMaxRoles * 2, 32).value_or(std::vector<std::string>{});
  actor.department = f.opt_str("department", 64).value_or("");
  actor.station = f.opt_str("station", 64).value_or("");
  actor.gateway = f.opt_str("gateway", 256).value_or("");
  actor.forwarded_by = f.opt_str("forwarded_by", 256).value_or("");
  actor.worker = f.opt_bool("worker").value_or(false);
  if (!f.ok()) return f.error();
  auto parsed = parse_roles(roles);
  if (!parsed) return parsed.error();
  actor.roles = std::move(*parsed);
  return actor;
}

Status AccountTable::load(std::string_view encoded) {
  auto decoded = wire::decode(encoded.data(), encoded.size());
  if (!decoded) return decoded.error();
  const msgpack::object& array = decoded->get();
  if (array.type != msgpack::type::ARRAY)
    return Error{errc::kBadRequest, "the account table is an array"};
  std::map<std::string, Account> by_name;
  std::map<std::string, std::string> name_by_key, sender_by_name;
  for (uint32_t i = 0; i < array.via.array.size; ++i) {
    auto account = decode_account(array.via.array.ptr[i]);
    if (!account) return account.error();
    if (!account->disabled) name_by_key[account->key] = account->name;
    sender_by_name[account->name] = encode_actor(account->actor());
    by_name[account->name] = std::move(*account);
  }
  by_name_ = std::move(by_name);
  name_by_key_ = std::move(name_by_key);
  sender_by_name_ = std::move(sender_by_name);
  loaded_ = true;
  return ok_status();
}

const Account* AccountTable::by_key(const std::string& key) const {
  auto name = name_by_key_.find(key);
  return name == name_by_key_.end() ? nullptr : by_name(name->second);
}

const std::string& AccountTable::sender(const Account& account) const {
  return sender_by_name_.at(account.name);
}

const Account* AccountTable::by_name(const std::string& name) const {
  auto found = by_name_.find(name);
  return found == by_name_.end() ? nullptr : &found->second;
}

}  // namespace closeloop::security
