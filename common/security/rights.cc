#include "rights.h"

#include <algorithm>
#include <array>

namespace closeloop::security {
namespace {

using R = Reach;
constexpr R no = R::kNone, any = R::kAny, lead = R::kLead, co = R::kCo, lead_or_co = R::kLeadOrCo,
            own = R::kOwn;

// One verb's row: what each role reaches, in the order of kRoles (the enum's order), and
// the conditions beyond reach (checked in unmet() below), for people.
struct Row {
  std::string_view verb;
  std::array<Reach, std::size(kRoles)> reaches;
  std::string_view conditions = "";
  bool as_department = false;  // a clerk runs it as their department (acts_for_department)

  Reach of(Role role) const { return reaches[static_cast<size_t>(role)]; }
};

constexpr std::string_view kRoleNames[] = {"office",  "department", "deputy", "station",
                                           "auditor", "ops",        "admin"};
static_assert(std::size(kRoleNames) == std::size(kRoles));

// clang-format off
constexpr Row kRows[] = {
  //  verb               office   dept        deputy station auditor ops  admin
  {"submit",             {any,    no,         own,   own,    no,     no,  no},
   "a deputy: suggestions, submitted as theirs; a station: station items from their station"},
  {"assign",             {any,    no,         no,    no,     no,     no,  no}},
  {"reassign",           {any,    no,         no,    no,     no,     no,  no}},
  {"sign",               {no,     lead_or_co, no,    no,     no,     no,  no}, "", true},
  {"return",             {no,     lead,       no,    no,     no,     no,  no}, "", true},
  {"opinion",            {no,     co,         no,    no,     no,     no,  no}, "", true},
  {"waive",              {any,    no,         no,    no,     no,     no,  no}},
  {"extend",             {no,     lead,       no,    no,     no,     no,  no}, "", true},
  {"decide-extension",   {any,    no,         no,    no,     no,     no,  no}},
  {"handle",             {no,     lead,       no,    no,     no,     no,  no}, "", true},
  {"verify",             {any,    no,         own,   own,    no,     no,  no},
   "the office: audit, project and legislative items, or any item with --via paper"},
  {"close",              {any,    no,         no,    no,     no,     no,  no}},
  {"reopen",             {any,    no,         no,    no,     no,     no,  no}},
  {"withdraw",           {any,    no,         own,   no,     no,     no,  no},
   "the office: station, project and legislative items; a deputy: their own suggestion, before "
   "it is replied; an audit finding: nobody"},
  {"urge",               {any,    no,         no,    no,     no,     no,  no}},
  {"promise-kept",       {no,     lead,       no,    no,     no,     no,  no}, "", true},
  {"milestone",          {no,     lead,       no,    no,     no,     no,  no}, "", true},
  {"show",               {any,    lead_or_co, own,   own,    any,    no,  no}},
  {"trail",              {any,    lead_or_co, own,   own,    any,    no,  no}},
  {"list",               {any,    lead_or_co, own,   own,    any,    no,  no},  "cut to what the role reaches"},
  {"inbox",              {any,    lead_or_co, no,    no,     any,    no,  no},  "a clerk: their own department's", true},
  {"overdue",            {any,    lead_or_co, own,   own,    any,    no,  no},  "cut to what the role reaches"},
  {"attention",          {any,    lead_or_co, own,   own,    any,    no,  no},  "cut to what the role reaches"},
  {"scoreboard",         {any,    any,        any,   any,    any,    no,  any}, "--items cut to what the role reaches"},
  {"reads",              {any,    no,         no,    no,     any,    no,  no}},
  {"import",             {any,    no,         no,    no,     no,     no,  no}},
  {"export",             {any,    no,         no,    no,     any,    no,  no}},
  {"bundle",             {any,    no,         no,    no,     any,    no,  no}},
  {"checkpoint",         {any,    no,         no,    no,     any,    no,  any}},
  {"proofs",             {any,    no,         no,    no,     any,    no,  no}},
  {"ping",               {any,    any,        any,   any,    any,    any, any}},
  {"whoami",             {any,    any,        any,   any,    any,    any, any},
   "a gateway account too (it holds no role): each account may ask who it is"},
  {"incidents",          {any,    no,         no,    no,     any,    any, any},
   "an entry's contents only to roles that may show its item"},
  {"incidents.ack",      {no,     no,         no,    no,     no,     any, any}},
  {"incidents.replay",   {no,     no,         no,    no,     no,     any, any}},
  {"backup",             {no,     no,         no,    no,     no,     no,  any}},
  {"rebuild",            {no,     no,         no,    no,     no,     no,  any}},
  {"status",             {any,    no,         no,    no,     any,    any, any}},
  {"user.add",           {no,     no,         no,    no,     no,     no,  any}},
  {"user.list",          {no,     no,         no,    no,     any,    no,  any}},
  {"user.disable",       {no,     no,         no,    no,     no,     no,  any}},
  {"user.rotate",        {no,     no,         no,    no,     no,     no,  any}},
};
// clang-format on

const Row* row_of(std::string_view verb) {
  for (const Row& r : kRows)
    if (r.verb == verb) return &r;
  return nullptr;
}

std::string text_of(const wire::Json& fields, const char* key) {
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : "";
}

bool within(Reach reach, Role role, const Actor& actor, const ItemFacts& item) {
  bool is_lead = !actor.department.empty() && item.department == actor.department;
  bool is_co = !actor.department.empty() &&
               std::find(item.co_departments.begin(), item.co_departments.end(),
                         actor.department) != item.co_departments.end();
  switch (reach) {
    case R::kNone: return false;
    case R::kAny: return true;
    case R::kLead: return is_lead;
    case R::kCo: return is_co;
    case R::kLeadOrCo: return is_lead || is_co;
    case R::kOwn:
      if (role == Role::kDeputy) return !item.deputy.empty() && item.deputy == actor.name;
      if (role == Role::kStation) return !actor.station.empty() && item.source == actor.station;
      return false;
  }
  return false;
}

// What each worker may ask for itself: the timer its marks and scans, every stage where
// an item is (locate), every worker whether a department has open items (its reload),
// the ledger every worker's incidents and intake's backup part (for a person it checked),
// intake the open items an imported row may repeat.
bool worker_may(std::string_view worker, std::string_view verb) {
  if (verb == "show" || verb == "reload.open") return true;
  if (worker == "intake" && verb == "import.open") return true;
  if (worker == "ledger" && (verb.starts_with("incidents") || verb == "backup")) return true;
  return worker == "timer" && verb.starts_with("timer.");
}

Error clerk_only(const Actor& actor) {
  return Error::of(errc::kForbidden, N_("a clerk of {department} acts for {department} only"),
                   {{"department", actor.department}}, "department");
}

Error forbid(std::string_view msgid, MessageArgs args = {}, std::string field = {}) {
  return Error::of(errc::kForbidden, msgid, std::move(args), std::move(field));
}

// Who may withdraw what (撤销, 撤回): nullopt when `role` may withdraw an item of `kind` as
// it is.
std::optional<Error> unmet_withdraw(Role role, const std::string& kind, const ItemFacts* item) {
  if (kind == "audit")
    return forbid(N_("an audit finding is never withdrawn: its rectification is followed to the end"));
  if (role == Role::kOffice && kind == "suggestion")
    return forbid(N_("the office withdraws station, project and legislative items: a suggestion is "
                 "withdrawn by its deputy"));
  if (role == Role::kDeputy && kind != "suggestion")
    return forbid(N_("a deputy withdraws their suggestions"));
  if (role == Role::kDeputy && item && item->replied)
    return forbid(N_("a deputy withdraws a suggestion only before it is replied"));
  return std::nullopt;
}

// The conditions of a row beyond reach; nullopt when they hold.
std::optional<Error> unmet(std::string_view verb, Role role, const Actor& actor,
                           const wire::Json& fields, const ItemFacts* item) {
  std::string kind = item ? item->kind : text_of(fields, "kind");
  if (verb == "submit" && role == Role::kDeputy) {
    if (!kind.empty() && kind != "suggestion") return forbid(N_("a deputy submits suggestions"));
    if (std::string d = text_of(fields, "deputy"); !d.empty() && d != actor.name)
      return forbid(N_("a deputy submits as themselves"), {}, "deputy");
  }
  if (verb == "submit" && role == Role::kStation) {
    if (!kind.empty() && kind != "station")
      return forbid(N_("a liaison station submits station items"));
    if (std::string s = text_of(fields, "source"); !s.empty() && s != actor.station)
      return forbid(N_("a liaison station submits from its own station ({station})"),
                {{"station", actor.station}}, "source");
  }
  if (role == Role::kDepartment && acts_for_department(verb) && fields.contains("department") &&
      text_of(fields, "department") != actor.department)
    return clerk_only(actor);
  if (verb == "verify" && role == Role::kOffice && text_of(fields, "via") != "paper" &&
      kind != "audit" && kind != "project" && kind != "legislative")
    return forbid(N_("the office verifies audit, project and legislative items, or records an "
                 "evaluation received on paper ({field} paper)"),
              {}, "via");
  if (verb == "withdraw") return unmet_withdraw(role, kind, item);
  return std::nullopt;
}

}  // namespace

bool acts_for_department(std::string_view verb) {
  const Row* row = row_of(verb);
  return row && row->as_department;
}

bool through_gateway(std::string_view verb) {
  return verb != "backup" && verb != "rebuild" && !verb.starts_with("user.");
}

std::string_view role_name(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::optional<Role> parse_role(std::string_view name) {
  for (Role r : kRoles)
    if (role_name(r) == name) return r;
  return std::nullopt;
}

bool Actor::has(Role role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

Reach reach(std::string_view verb, Role role) {
  const Row* row = row_of(verb);
  return row ? row->of(role) : no;
}

Status may(const Actor& actor, std::string_view verb, const wire::Json& fields,
           const ItemFacts* item) {
  if (actor.unchecked) return ok_status();  // security.mode = "off"
  if (actor.worker) {
    if (worker_may(actor.name, verb)) return ok_status();
    return Error::of(errc::kForbidden, N_("the {worker} worker may not {verb}"),
                     {{"worker", actor.name}, {"verb", std::string(verb)}});
  }
  if (!actor.gateway.empty() && !through_gateway(verb))
    return Error::of(errc::kForbidden,
                     N_("{verb} is never done through a gateway ({gateway}): use the CLI with "
                        "your own key"),
                     {{"verb", std::string(verb)}, {"gateway", actor.gateway}});
  // A clerk acts as their own department, whatever the request says (the more telling
  // reason, before whether the item is theirs).
  if (actor.has(Role::kDepartment) && acts_for_department(verb) && fields.contains("department") &&
      text_of(fields, "department") != actor.department && !actor.has(Role::kOffice))
    return clerk_only(actor);
  std::optional<Error> why;
  for (Role role : actor.roles) {
    Reach r = reach(verb, role);
    if (r == no) continue;
    bool reached = item ? within(r, role, actor, *item) : true;
    if (!reached) {
      why = Error::of(errc::kForbidden, N_("not an item {actor} may {verb} as {role}"),
                      {{"actor", actor.name},
                       {"verb", std::string(verb)},
                       {"role", std::string(role_name(role))}});
      continue;
    }
    std::optional<Error> condition = unmet(verb, role, actor, fields, item);
    if (!condition) return ok_status();
    why = std::move(condition);
  }
  if (why) return *why;
  std::string roles;
  for (Role role : actor.roles) roles += (roles.empty() ? "" : ", ") + std::string(role_name(role));
  if (roles.empty())
    return Error::of(errc::kForbidden, N_("{actor} (no role) may not {verb}"),
                     {{"actor", actor.name}, {"verb", std::string(verb)}});
  return Error::of(errc::kForbidden, N_("{actor} ({roles}) may not {verb}"),
                   {{"actor", actor.name}, {"roles", roles}, {"verb", std::string(verb)}});
}

wire::Json bound_fields(const Actor& actor, std::string_view verb) {
  wire::Json fields = wire::Json::object();
  if (actor.has(Role::kDepartment) && acts_for_department(verb) && !actor.has(Role::kOffice))
    fields["department"] = actor.department;
  if (verb != "submit" || actor.has(Role::kOffice)) return fields;
  if (actor.has(Role::kDeputy)) fields["kind"] = "suggestion", fields["deputy"] = actor.name;
  if (actor.has(Role::kStation)) fields["kind"] = "station", fields["source"] = actor.station;
  return fields;
}

bool reaches(const Actor& actor, std::string_view verb, const ItemFacts& item) {
  if (actor.unchecked) return true;
  return std::any_of(actor.roles.begin(), actor.roles.end(), [&](Role role) {
    return within(reach(verb, role), role, actor, item);
  });
}

std::vector<std::string_view> verbs_with_rights() {
  std::vector<std::string_view> out;
  for (const Row& r : kRows) out.push_back(r.verb);
  return out;
}

std::string rights_markdown() {
  auto cell = [](Reach r) -> std::string {
    switch (r) {
      case R::kNone: return "—";
      case R::kAny: return "any";
      case R::kLead: return "own: lead";
      case R::kCo: return "own: co";
      case R::kLeadOrCo: return "own: lead or co";
      case R::kOwn: return "own";
    }
    return "";
  };
  std::string out = "| verb |";
  for (Role role : kRoles) out += " " + std::string(role_name(role)) + " |";
  out += " conditions |\n|---|";
  for (size_t i = 0; i < std::size(kRoles); ++i) out += "---|";
  out += "---|\n";
  for (const Row& r : kRows) {
    out += "| `" + std::string(r.verb) + "` |";
    for (Role role : kRoles) out += " " + cell(r.of(role)) + " |";
    out += " " + std::string(r.conditions) + " |\n";
  }
  return out;
}

}  // namespace closeloop::security
