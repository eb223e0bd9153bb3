// Who may do what (docs/security.md, "Rights"): for every verb, what each role reaches.
// This is the one place rights are decided; the workers that hold items call it (where
// the item is known), so the CLI, a gateway and the timer meet the same check.
//
// A role reaches all items (any), none, or its own: for a department clerk the items
// where their department leads, is a co-department, or either; for a deputy the items
// submitted by or for them; for a liaison station's staff the items from their station.
// Reads that list many items are not refused for a narrower reach: the list is cut to
// what the role reaches.
//
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wire/json.h"

namespace closeloop::security {

enum class Role { kOffice, kDepartment, kDeputy, kStation, kAuditor, kOps, kAdmin };
inline constexpr Role kRoles[] = {Role::kOffice,  Role::kDepartment, Role::kDeputy, Role::kStation,
                                  Role::kAuditor, Role::kOps,        Role::kAdmin};
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

enum class Reach { kNone, kAny, kLead, kCo, kLeadOrCo, kOwn };

// Who acts: an account's roles and what binds them.
struct Actor {
  std::string name;
  std::vector<Role> roles;
  std::string department;  // a department clerk's
  std::string station;     // a liaison station's staff's
  std::string gateway;     // the gateway account it acted through, if any
  // The worker that passed the person's request on to this one (the broker vouches for
  // both: the worker had been given that person's request); empty if none.
  std::string forwarded_by;
  bool worker = false;     // a worker of the service (its key's name), not a person
  bool unchecked = false;  // security.mode = "off": no accounts, the name as the request says
  bool has(Role role) const;
};

// What of an item decides ownership.
struct ItemFacts {
  std::string department;               // lead
  std::vector<std::string> co_departments;
  std::string deputy;                   // the deputy it was submitted by or for (an account)
  std::string source;                   // the liaison station's code, for station items
  std::string kind;
  bool replied = false;                 // a department has replied to it (now or before)
};

// What `role` reaches with `verb` (kNone for a verb without a rights row).
Reach reach(std::string_view verb, Role role);

// Whether a clerk runs `verb` as their department (its commands and its inbox): then the
// verb's `department` names who acts, taken from the account when left out.
bool acts_for_department(std::string_view verb);

// Whether a gateway may ever carry `verb` for a person: never the keys and accounts
// (backup, rebuild, user …), whoever the person is.
bool through_gateway(std::string_view verb);

// The roles a gateway acts for when its account names none (accounts made before scopes).
inline constexpr Role kDefaultGatewayScope[] = {Role::kOffice, Role::kDepartment, Role::kDeputy,
                                                Role::kStation, Role::kAuditor};

// Whether the actor may run `verb` on `item` (nullptr: a verb without an item, such as
// submit or list) with the command's `fields`; a refusal is `forbidden` and says why.
// A worker may do exactly its own work (the timer its marks and scans; every stage a
// `show` to locate an item); a clerk acts for their own department only.
Status may(const Actor& actor, std::string_view verb, const wire::Json& fields,
           const ItemFacts* item);

// The fields a request leaves out that the account supplies: a clerk's department (for
// the department's verbs), a deputy's name and a station's code on what they submit,
// and the kind their role submits (a deputy's is a suggestion, a station's a station item).
wire::Json bound_fields(const Actor& actor, std::string_view verb);

// Whether the actor reaches `item` with `verb` by any of their roles (for cutting lists).
bool reaches(const Actor& actor, std::string_view verb, const ItemFacts& item);

// The verbs with a rights row, in the order of the table.
std::vector<std::string_view> verbs_with_rights();

// The verb × role table of docs/security.md.
std::string rights_markdown();

}  // namespace closeloop::security
