#include "accounts.h"

#include <spdlog/spdlog.h>

#include "security/keys.h"
#include "store/keys.h"
#include "workflow/command.h"
#include "workflow/verbs.h"

namespace closeloop::ledger {
namespace {

using security::Account;
using security::Role;

// The first accounts: the operator's and the office's.
constexpr std::pair<const char*, Role> kFirstAccounts[] = {{"admin", Role::kAdmin},
                                                           {"office", Role::kOffice}};

// A text field of decoded fields (decode_fields typed it), or "" when absent.
std::string text(const wire::Json& fields, const char* key) {
  return fields.value(key, std::string());
}

Error key_taken(const std::string& holder) {
  return Error::of(errc::kInvalid, N_("that key is {account}'s already"), {{"account", holder}},
                   "key");
}

}  // namespace

std::map<std::string, std::string> logged_accounts(const Reader& store) {
  std::map<std::string, std::string> logged;
  store.scan(keys::kAccountLogPrefix, [&](std::string_view, std::string_view value) {
    auto decoded = wire::decode(value.data(), value.size());
    if (!decoded) return true;
    wire::Fields f(decoded->get(), "account change");
    const msgpack::object& account = f.map("account");
    if (!f.ok()) return true;
    wire::Fields a(account, "account");
    std::string name = a.str("name", 256);
    if (!a.ok()) return true;
    wire::Buffer raw;
    msgpack::pack(raw, account);
    logged[name] = std::string(wire::view(raw));
    return true;
  });
  return logged;
}

std::map<std::string, std::string> accounts_unlike_their_log(const Reader& store) {
  std::map<std::string, std::string> logged = logged_accounts(store), unlike;
  store.scan(keys::kAccountPrefix, [&](std::string_view key, std::string_view value) {
    std::string name(key.substr(keys::kAccountPrefix.size()));
    auto found = logged.find(name);
    if (found == logged.end()) {
      unlike[name] = "the account " + name + " has a record but no change in its log";
    } else if (found->second != value) {
      unlike[name] = "the account " + name + "'s record differs from its last logged change";
    }
    if (found != logged.end()) logged.erase(found);
    return true;
  });
  for (const auto& [name, record] : logged)
    unlike[name] = "the account " + name + " is in its log but has no record";
  return unlike;
}

// Accounts as their logs make them; those whose stored record disagrees are not admitted.
void Accounts::load(const Reader& store) {
  refused_ = accounts_unlike_their_log(store);
  for (const auto& [name, why] : refused_)
    spdlog::error("ledger: {}: not admitted (was it altered on disk? restore it from a backup, or "
                  "have the admin change it again)",
                  why);
  for (const auto& [name, record] : logged_accounts(store)) {
    auto decoded = wire::decode(record.data(), record.size());
    auto account =
        decoded ? security::decode_account(decoded->get()) : Result<Account>(decoded.error());
    if (!account) {
      spdlog::error("ledger: an unreadable account change for {}: {}", name,
                    account.error().message);
      continue;
    }
    accounts_[name] = std::move(*account);
  }
  if (auto next = store.get(keys::meta("next_account_log"))) next_log_ = keys::read_be64(*next);
}

void Accounts::bootstrap(Context& ctx) {
  if (!accounts_.empty()) return;
  std::string dir = security::keys_dir(ctx.config().data_dir);
  for (const auto& [name, role] : kFirstAccounts) {
    auto key = security::own_account_key(dir, name);
    if (!key) {
      spdlog::critical("ledger: cannot make the {} account's key: {}", name, key.error().message);
      continue;
    }
    Account account{name, {role}};
    account.key = *key;
    account.created_at = ctx.clock().now_iso();
    write(ctx, "user.add", std::move(account), ctx.name());
    spdlog::info("ledger: made the {} account; its key is {}/{}.key", name, dir, name);
  }
}

void Accounts::serve(Context& ctx, const wire::Request& request, ReadAudit& audit) {
  const Verb& verb = *find_verb(request.type);
  auto fields = decode_fields(verb, request.body);
  Status allowed =
      fields ? security::may(ctx.actor(), verb.name, *fields, nullptr) : Status(fields.error());
  if (request.type == "user.list")
    audit.record(ctx, request, {"query", fields ? *fields : wire::Json::object()}, allowed);
  if (!allowed) return ctx.fail(allowed.error());
  if (request.type == "user.list") return list(ctx, fields->contains("history"));
  if (request.type == "user.add") {
    auto account = added(ctx, *fields);
    if (!account) return ctx.fail(account.error());
    return write(ctx, verb.name, std::move(*account), request.actor);
  }
  std::string name = text(*fields, "name");
  auto found = accounts_.find(name);
  if (found == accounts_.end())
    return ctx.fail(Error::of(errc::kNotFound, N_("no account named {account}"),
                              {{"account", name}}, "name"));
  Account account = found->second;
  if (request.type == "user.disable") {
    if (account.disabled)
      return ctx.fail(Error::of(errc::kRefused, N_("{account} is disabled already"),
                                {{"account", name}}));
    account.disabled = true;
  } else {  // user.rotate
    std::string key = text(*fields, "key");
    if (!security::valid_z85_key(key))
      return ctx.fail(Error::of(errc::kInvalid,
                                N_("{field} must be a public key: 40 characters of Z85"), {},
                                "key"));
    if (std::string holder = holder_of(key); !holder.empty()) return ctx.fail(key_taken(holder));
    account.key = key;
  }
  account.changed_at = ctx.clock().now_iso();
  write(ctx, verb.name, std::move(account), request.actor);
}

// A new account from user.add's fields, checked.
Result<Account> Accounts::added(Context& ctx, const wire::Json& fields) const {
  Account a;
  a.name = text(fields, "name");
  if (Status s = security::check_account_name(a.name); !s) return s.error();
  if (accounts_.count(a.name))
    return Error::of(errc::kRefused, N_("an account named {account} exists"),
                     {{"account", a.name}}, "name");
  auto roles = security::parse_roles(fields.value("role", std::vector<std::string>{}));
  if (!roles) return roles.error();
  a.roles = std::move(*roles);
  a.department = text(fields, "department");
  a.station = text(fields, "station");
  a.key = text(fields, "key");
  a.gateway = fields.contains("gateway");
  if (fields.contains("acts-for")) {  // check_roles() refuses it but for a gateway
    auto scope = security::parse_roles(fields["acts-for"].get<std::vector<std::string>>());
    if (!scope) return scope.error();
    a.acts_for = std::move(*scope);
  } else if (a.gateway) {
    a.acts_for.assign(std::begin(security::kDefaultGatewayScope),
                      std::end(security::kDefaultGatewayScope));
  }
  if (Status s = security::check_roles(a); !s) return s.error();
  if (!a.department.empty() && !ctx.config().find_department(a.department))
    return Error::of(errc::kInvalid, N_("unknown department '{department}'"),
                     {{"department", a.department}}, "department");
  if (std::string holder = holder_of(a.key); !holder.empty()) return key_taken(holder);
  a.created_at = ctx.clock().now_iso();
  return a;
}

// Stores the account and its log record in this turn's batch, answers with it, and
// sends the broker the new table after the commit.
void Accounts::write(Context& ctx, std::string_view verb, Account account,
                     const std::string& actor) {
  uint64_t seq = next_log_;
  std::string record = security::encode_account(account);
  wire::MapBuilder log;
  log.add("seq", seq).add("at", ctx.clock().now_iso()).add("actor", actor).add("verb", verb);
  std::string change = log.add_raw("account", record).finish();
  if (Status leaf = tree_.append_account(ctx.txn(), seq, change); !leaf)
    return ctx.fail(Error::of(errc::kInternal,
                              N_("the account change cannot join the tree: {reason}"),
                              {{"reason", leaf.error().message}}));
  std::string next;
  keys::append_be64(next, ++next_log_);
  ctx.txn().put(keys::meta("next_account_log"), next);
  ctx.txn().put(keys::account_log(seq), change);
  ctx.txn().put(keys::account(account.name), record);
  refused_.erase(account.name);  // recorded anew, record and log agree
  accounts_[account.name] = std::move(account);
  ctx.reply(wire::MapBuilder().add_raw("account", record).finish());
  ctx.announce();
}

void Accounts::list(Context& ctx, bool history) {
  wire::Buffer array;
  wire::Packer pk(array);
  if (history) {
    std::vector<std::string> records;
    ctx.txn().store().scan(keys::kAccountLogPrefix, [&](std::string_view, std::string_view v) {
      records.emplace_back(v);
      return true;
    });
    pk.pack_array(static_cast<uint32_t>(records.size()));
    for (const auto& r : records) wire::pack_raw(array, r);
    return ctx.reply(wire::MapBuilder().add_raw("history", wire::view(array)).finish());
  }
  ctx.reply(wire::MapBuilder().add_raw("accounts", encoded(/*with_refused=*/true)).finish());
}

std::string Accounts::table() const { return encoded(/*with_refused=*/false); }

// Every account (with_refused: also those not admitted, each saying why in `not_admitted`).
std::string Accounts::encoded(bool with_refused) const {
  std::vector<std::string> records;
  for (const auto& [name, account] : accounts_) {
    auto refused = refused_.find(name);
    if (refused == refused_.end()) {
      records.push_back(security::encode_account(account));
    } else if (with_refused) {
      wire::Json listed = security::account_json(account);
      listed["not_admitted"] = refused->second;
      records.push_back(wire::encode_json(listed));
    }
  }
  wire::Buffer array;
  wire::Packer(array).pack_array(static_cast<uint32_t>(records.size()));
  for (const std::string& r : records) wire::pack_raw(array, r);
  return std::string(wire::view(array));
}

std::string Accounts::holder_of(const std::string& key) const {
  for (const auto& [name, account] : accounts_)
    if (account.key == key) return name;
  return "";
}

}  // namespace closeloop::ledger
