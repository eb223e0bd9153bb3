// People's accounts (docs/security.md, "Accounts"): a name, roles, what binds them (a
// clerk's department, a station's code) and the CURVE public key that proves them.
//
// The ledger keeps them (account/<name>, every change an audited record with its actor)
// and hands the whole table to the broker with its registration; the broker admits a
// client's key only if an enabled account holds it, checks that again on every message
// (a disabled or rotated key is refused at its next request), and tells the worker who
// acts in the request's sender frame: the Actor encoded here.
//
// A gateway account (the coming web front end) authenticates people itself: it names
// the person in the request's `actor`, and acts with that person's account, recorded
// with both names — only for an enabled person's account whose every role is in the
// gateway's scope (`acts_for`), never one holding admin or ops (may_act_for()).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "security/rights.h"
#include "wire/codec.h"

namespace closeloop::security {

struct Account {
  std::string name;
  std::vector<Role> roles;
  std::string department;  // a department clerk's
  std::string station;     // a liaison station's staff's
  std::string key;         // CURVE public key, Z85
  bool gateway = false;    // may act for other accounts (authenticated by it)
  std::vector<Role> acts_for;  // a gateway's scope: the roles of the people it may act for
  bool disabled = false;
  std::string created_at, changed_at;

  Actor actor() const { return Actor{name, roles, department, station}; }
};

// Names: 1..64 characters of UTF-8, no spaces, no control characters, no '/'.
Status check_account_name(std::string_view name);
// Role names as the CLI and records write them, each once; an unknown one is `invalid`.
Result<std::vector<Role>> parse_roles(const std::vector<std::string>& names);
// Roles present and known; a clerk bound to a department, station staff to a station.
Status check_roles(const Account& account);

// Whether `gateway` may act for `person`: an enabled person's account (not a gateway),
// none of whose roles is admin, ops or outside the gateway's scope (refused whole, not
// cut down). The error says why.
Status may_act_for(const Account& gateway, const Account* person, std::string_view name);

std::string encode_account(const Account& account);
Result<Account> decode_account(const msgpack::object& map);
wire::Json account_json(const Account& account);  // for lists (the key included)

// The sender frame of a request the broker carries (net/backend.h): who sent it, as the
// broker proved it — a worker, a person, or a person's request a worker passed on. Only
// the broker makes this frame, so its `worker` and `forwarded_by` are believed; nothing
// a message says about its sender ever is. `unchecked` is never in it: that is the
// receiver's own config (security.mode = "off").
std::string encode_actor(const Actor& actor);
Result<Actor> decode_actor(std::string_view frame);

// The broker's view of the accounts: by key, for the handshake and every message.
class AccountTable {
 public:
  // The table the ledger sends: an array of accounts.
  Status load(std::string_view encoded);
  bool loaded() const { return loaded_; }
  // The enabled account holding `key`, if any.
  const Account* by_key(const std::string& key) const;
  const Account* by_name(const std::string& name) const;
  // The sender frame of a request `account` makes itself (encode_actor), made at load:
  // the broker adds it to every request it carries.
  const std::string& sender(const Account& account) const;

 private:
  bool loaded_ = false;
  std::map<std::string, Account> by_name_;
  std::map<std::string, std::string> sender_by_name_;
  std::map<std::string, std::string> name_by_key_;  // enabled accounts only
};

}  // namespace closeloop::security
