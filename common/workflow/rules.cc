#include "workflow/rules.h"

#include <set>

#include "workflow/deadline.h"

namespace closeloop::rules {

namespace {

// A rule's refusal for people (base/result.h): `msgid` an N_() sentence, `field` the
// request's field it concerns (each client names it: the CLI's --flag, an import's column).
Error refused(std::string_view msgid, MessageArgs args = {}, std::string field = {}) {
  return Error::of(errc::kRefused, msgid, std::move(args), std::move(field));
}
Error invalid(std::string_view msgid, MessageArgs args = {}, std::string field = {}) {
  return Error::of(errc::kInvalid, msgid, std::move(args), std::move(field));
}

// `field` names the request's field the code came in: department, co.
Status known_department(const Setting& s, const std::string& code,
                        const std::string& field = "department") {
  if (!s.config.find_department(code))
    return invalid(N_("unknown department '{department}'"), {{"department", code}}, field);
  return ok_status();
}

Status lead_only(const Item& item, const std::string& code, const Setting& s) {
  if (Status k = known_department(s, code); !k) return k;
  if (code != item.department)
    return Error::of(errc::kForbidden,
                     N_("department {department} is not the lead department of item {item} "
                        "({lead} is)"),
                     {{"department", code}, {"item", item.id}, {"lead", item.department}},
                     "department");
  return ok_status();
}

Status co_only(const Item& item, const std::string& code, const Setting& s) {
  if (Status k = known_department(s, code); !k) return k;
  if (!item.is_co(code))
    return Error::of(errc::kForbidden,
                     N_("department {department} is not a co-department of item {item}"),
                     {{"department", code}, {"item", item.id}}, "department");
  return ok_status();
}

std::string count(uint64_t n) { return std::to_string(n); }

Error named_twice(const std::string& code) {
  return invalid(N_("department '{department}' is named twice"), {{"department", code}}, "co");
}

Error signed_already(const Item& item, const std::string& code, const std::string& at) {
  return refused(N_("item {item} was signed for by {department} at {at}"),
                 {{"item", item.id}, {"department", code}, {"at", at}}, "department");
}

Error opinion_given(const Item& item, const Opinion& o) {
  return refused(N_("{department} gave its opinion on item {item} at {at}"),
                 {{"department", o.department}, {"item", item.id}, {"at", o.at}}, "department");
}

Date date_of(const std::string& text) { return Date::parse(text).value_or(Date()); }

// Sets the item's due date; the timer's marks of the old date no longer apply. A new
// round (assignment, rework, reopening) also sets the date extensions count from.
void set_due(Item& item, const Due& due, wire::Json& payload, bool new_round) {
  item.due = due.date;
  item.due_basis = due.basis;
  if (new_round) item.round_due = due.date;
  item.overdue = item.escalated = false;
  payload["due"] = due.date;
  payload["due_basis"] = basis_json(due.basis);
}

// `months` after today, e.g. "rework: 1 month after the unsatisfied evaluation".
Due months_after(const Setting& s, int months, const char* code, const std::string& what,
                 const std::string& after) {
  Period p{0, static_cast<uint64_t>(months)};
  return due_after(s.calendar, s.today, p, code, what + ": " + describe(p) + " after " + after);
}

// The due date the office gave (`due`), not before today: at the assignment, or at a
// reassignment (`again`).
Result<Due> given_due(const Command& c, const Setting& s, bool again) {
  MessageArgs args{{"value", c.text("due")}, {"today", s.today.str()}};
  if (c.text("due") < s.today.str())
    return invalid(again ? N_("due date {value} is before the reassignment ({today})")
                         : N_("due date {value} is before the assignment ({today})"),
                   std::move(args), "due");
  if (again) return due_on(c.text("due"), due_rule::kGivenReassigned, "set at reassignment", s.today);
  return due_on(c.text("due"), due_rule::kGiven, "set at assignment (--due)", s.today);
}

Due last_milestone(const Item& item, const Setting& s) {
  return due_on(item.milestones.back().date, due_rule::kLastMilestone,
                "project: the last milestone", s.today);
}

// The reply due of an assignment: --due overrides; else the kind's rule.
Result<Due> assignment_due(const Item& item, const Command& c, const Setting& s) {
  if (c.has("due")) return given_due(c, s, false);
  if (auto due = statutory_due(s.config.rules, s.calendar, item.kind, item.complex, s.today))
    return *due;
  if (item.kind == "project") {
    if (item.milestones.empty())
      return invalid(N_("a project is due at its last milestone: give {field} DATE=TEXT (or "
                        "{field:due})"),
                     {}, "milestone");
    return last_milestone(item, s);
  }
  return invalid(N_("the due date of an item of kind {kind} is set at assignment: give {field} "
                    "YYYY-MM-DD"),
                 {{"kind", item.kind}}, "due");
}

Result<std::vector<Milestone>> milestones_of(const Item& item, const Command& c, const Setting& s) {
  std::vector<Milestone> out;
  if (!c.has("milestone")) return out;
  if (item.kind != "project")
    return invalid(N_("milestones are for projects (民生实事); item {item} is of kind {kind}"),
                   {{"item", item.id}, {"kind", item.kind}}, "milestone");
  std::string previous = s.today.str();
  for (const auto& m : c.fields["milestone"]) {
    Milestone ms{m["date"].get<std::string>(), m["text"].get<std::string>()};
    if (ms.date < previous)
      return invalid(N_("milestone {date} is out of order: milestones must be in date order, "
                        "from the assignment ({today}) on"),
                     {{"date", ms.date}, {"today", s.today.str()}}, "milestone");
    previous = ms.date;
    out.push_back(std::move(ms));
  }
  return out;
}

}  // namespace

Result<Item> submit(const Item& blank, const Command& c, const Setting& s, wire::Json& payload) {
  Item item = blank;
  std::string category = c.text("category");
  if (!category.empty() && !s.config.known_category(category))
    return invalid(N_("unknown category '{category}'"), {{"category", category}}, "category");
  item.kind = c.has("kind") ? c.text("kind") : s.config.default_kind;
  if (!c.has("kind")) payload["kind"] = item.kind;
  item.complex = c.flag("complex");
  item.ref = c.text("ref");
  item.title = c.text("title");
  item.body = c.text("body");
  item.category = category;
  item.source = c.text("source");
  item.submitter = c.text("submitter");
  item.deputy = c.text("deputy");
  item.submitted_on = s.today.str();
  payload["submitted_on"] = item.submitted_on;  // the day, for a fold (workflow/fold.h)
  item.created_at = s.now;
  return item;
}

Result<Item> assign(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string lead = c.text("department");
  if (Status k = known_department(s, lead); !k) return k.error();
  std::set<std::string> named{lead};
  for (const auto& co : c.codes("co")) {
    if (Status k = known_department(s, co, "co"); !k) return k.error();
    if (!named.insert(co).second) return named_twice(co);
  }
  int limit = s.config.rules.max_returns;
  if (item.returns >= static_cast<uint64_t>(limit) && !c.has("ruling"))
    return refused(N_("item {item} has been returned {returns} times: assigning it again needs a "
                      "supervisor's {field}"),
                   {{"item", item.id}, {"returns", count(item.returns)}}, "ruling");
  Item next = item;
  next.stage = Stage::kAssigned;
  auto milestones = milestones_of(item, c, s);
  if (!milestones) return milestones.error();
  if (!milestones->empty()) next.milestones = std::move(*milestones);
  next.start_round();
  next.department = lead;
  next.co_departments = c.codes("co");
  next.assigned_on = s.today.str();
  payload["assigned_on"] = next.assigned_on;  // the day, for a fold (workflow/fold.h)
  next.assigned_at = s.now;
  auto due = assignment_due(next, c, s);
  if (!due) return due.error();
  set_due(next, *due, payload, true);
  return next;
}

namespace {

// The co-departments after a reassignment: as given, else the present ones but the new
// lead (a co-department may become the lead).
Result<std::vector<std::string>> reassigned_co(const Item& item, const Command& c,
                                               const Setting& s, const std::string& lead) {
  std::vector<std::string> co;
  if (!c.has("co")) {
    for (const auto& code : item.co_departments)
      if (code != lead) co.push_back(code);
    return co;
  }
  std::set<std::string> named{lead};
  for (const auto& code : c.codes("co")) {
    if (Status k = known_department(s, code, "co"); !k) return k.error();
    if (!named.insert(code).second) return named_twice(code);
    co.push_back(code);
  }
  return co;
}

// The due date of a reassignment: the one given; else the kind's period counted again from
// today; else a project's last milestone. An audit finding's or a legislative item's date
// was set by hand: the office gives a new one or keeps it.
Result<Due> reassignment_due(const Item& item, const Command& c, const Setting& s) {
  if (c.has("due")) return given_due(c, s, true);
  if (auto due = statutory_due(s.config.rules, s.calendar, item.kind, item.complex, s.today,
                               "reassignment"))
    return *due;
  if (item.kind == "project" && !item.milestones.empty())
    return last_milestone(item, s);
  return invalid(N_("item {item} is of kind {kind}, whose due date is set by hand: give a new "
                    "{field}, or keep the present one ({field:keep-due})"),
                 {{"item", item.id}, {"kind", item.kind}}, "due");
}

// A request for more time still waiting when the item moves on is moot.
void lapse_pending(std::vector<Extension>& extensions) {
  for (Extension& e : extensions)
    if (e.state == "pending") e.state = "lapsed";
}

}  // namespace

Status check_reassign(const Command& c) {
  if (c.has("due") && c.flag("keep-due"))
    return invalid(N_("a reassignment either gives a new due date ({field}) or keeps the present "
                      "one ({field:keep-due}), not both"),
                   {}, "due");
  return ok_status();
}

// A new round with another lead: its sign-for, reply and evaluation are the new lead's to
// give; the co-departments' opinions on the matter stand (as on reopening), a pending
// extension lapses, and the due date counts again from today unless kept.
Result<Item> reassign(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string lead = c.text("department");
  if (Status k = known_department(s, lead); !k) return k.error();
  if (lead == item.department)
    return invalid(N_("department {department} is already the lead department of item {item}"),
                   {{"department", lead}, {"item", item.id}}, "department");
  auto co = reassigned_co(item, c, s, lead);
  if (!co) return co.error();
  Item next = item;
  next.start_round();
  next.opinions = item.opinions;
  next.extensions = item.extensions;
  lapse_pending(next.extensions);
  next.department = lead;
  next.co_departments = std::move(*co);
  next.assigned_on = s.today.str();
  next.assigned_at = s.now;
  payload["previous_department"] = item.department;  // for the scoreboard and a fold
  if (!next.co_departments.empty()) payload["co"] = next.co_departments;  // given or kept
  payload["assigned_on"] = next.assigned_on;
  if (c.flag("keep-due")) return next;
  auto due = reassignment_due(next, c, s);
  if (!due) return due.error();
  set_due(next, *due, payload, true);
  return next;
}

// The end of an item that will not be closed: a duplicate, a request taken back. Its
// trail stays; an audit finding's rectification is followed to its end, never withdrawn.
Result<Item> withdraw(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (item.kind == "audit")
    return refused(N_("item {item} is an audit finding, which is never withdrawn: its "
                      "rectification is followed to the end"),
                   {{"item", item.id}});
  if (c.text("duplicate-of") == item.id)
    return invalid(N_("item {item} cannot be a duplicate of itself"), {{"item", item.id}},
                   "duplicate-of");
  Item next = item;
  next.stage = Stage::kWithdrawn;
  next.overdue = next.escalated = false;
  lapse_pending(next.extensions);
  next.withdrawal = {c.text("reason"), c.text("duplicate-of"), s.now};
  return next;
}

Result<Item> give_back(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  int limit = s.config.rules.return_working_days;
  if (!c.has("ruling") &&
      s.calendar.working_days_between(date_of(item.assigned_on), s.today) > limit)
    return refused(N_("item {item} was assigned on {assigned_on}, more than {limit} working days "
                      "ago: returning it now needs a supervisor's {field}"),
                   {{"item", item.id}, {"assigned_on", item.assigned_on}, {"limit", count(limit)}},
                   "ruling");
  Item next = item;
  next.stage = Stage::kSubmitted;
  next.returns++;
  next.department.clear();
  next.co_departments.clear();
  next.due.clear();
  next.due_basis = {};
  next.overdue = next.escalated = false;
  next.start_round();
  return next;
}

Status check_handle(const Command& c) {
  std::string outcome = c.text("outcome");
  bool open = outcome == "in-progress" || outcome == "planned";
  if (open && !c.has("promise"))
    return invalid(N_("a reply that is {outcome} needs {field} YYYY-MM-DD: the date by which the "
                      "department promises it done"),
                   {{"outcome", outcome}}, "promise");
  if (!open && c.has("promise"))
    return invalid(N_("{field} goes with an in-progress or planned reply, not a {outcome} one"),
                   {{"outcome", outcome}}, "promise");
  return ok_status();
}

Result<Item> handle(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  for (const auto& co : item.co_departments) {
    if (!item.opinion_of(co))
      return refused(N_("item {item} waits for the opinion of co-department {department} (or "
                        "the office's waiver) before the lead department replies"),
                     {{"item", item.id}, {"department", co}});
  }
  if (c.has("promise") && c.text("promise") < s.today.str())
    return invalid(N_("the promised date {value} is in the past"), {{"value", c.text("promise")}},
                   "promise");
  Item next = item;
  next.stage = Stage::kHandled;
  if (next.signed_at.empty()) {  // a reply signs for the item too, recorded as such
    next.signed_at = s.now;
    payload["implicit_sign"] = true;
  }
  next.replied_at = s.now;
  for (Extension& e : next.extensions)  // the reply is in: a request for more time is moot
    if (e.state == "pending") e.state = "lapsed";
  next.outcome = c.text("outcome");
  next.promise = c.has("promise") ? Promise{c.text("promise")} : Promise{};
  next.overdue = false;
  payload["due"] = item.due;  // the date this reply is measured against
  return next;
}

Status check_verify(const Command& c) {
  bool rating = c.has("rating"), parts = c.has("attitude") || c.has("result");
  if (rating == parts || (parts && !(c.has("attitude") && c.has("result"))))
    return invalid(N_("give either {field} R, or both {field:attitude} R and {field:result} R"), {},
                   "rating");
  std::string attitude = rating ? c.text("rating") : c.text("attitude");
  std::string result = rating ? c.text("rating") : c.text("result");
  if ((attitude == "unsatisfied" || result == "unsatisfied") && !c.has("comment"))
    return invalid(N_("an unsatisfied evaluation needs a {field} saying why"), {}, "comment");
  return ok_status();
}

Result<Item> verify(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  Item next = item;
  bool rating = c.has("rating");
  next.evaluation = {rating ? c.text("rating") : c.text("attitude"),
                     rating ? c.text("rating") : c.text("result"), c.text("comment"), s.now};
  payload["attitude"] = next.evaluation.attitude;
  payload["result"] = next.evaluation.result;
  if (next.evaluation.result != "unsatisfied") {
    next.stage = Stage::kVerified;
    return next;
  }
  next.stage = Stage::kAssigned;  // rework
  next.rework_count++;
  set_due(next,
          months_after(s, s.config.rules.rework_months, due_rule::kRework, "rework",
                       "the unsatisfied evaluation"),
          payload, true);
  return next;
}

Result<Item> close(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  Item next = item;
  next.stage = Stage::kClosed;
  next.overdue = next.escalated = false;
  return next;
}

Result<Item> sign(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string code = c.text("department");
  if (Status k = known_department(s, code); !k) return k.error();
  Item next = item;
  if (code == item.department) {
    if (!item.signed_at.empty())
      return signed_already(item, code, item.signed_at);
    next.signed_at = s.now;
    payload["role"] = "lead";
    return next;
  }
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (item.co_signed_at.count(code))
    return signed_already(item, code, item.co_signed_at.at(code));
  next.co_signed_at[code] = s.now;
  payload["role"] = "co";
  return next;
}

Status within_extension_limit(const Item& item, const std::string& until, const Setting& s);

Result<Item> extend(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  if (item.pending_extension())
    return refused(N_("item {item} already has an extension request waiting for a decision"),
                   {{"item", item.id}});
  if (item.due.empty())
    return refused(N_("item {item} has no due date to extend"), {{"item", item.id}});
  if (s.today.str() > item.due)
    return refused(N_("an extension must be asked before the due date ({due})"),
                   {{"due", item.due}});
  std::string until = c.text("until");
  if (until <= item.due)
    return invalid(N_("the new date {value} must be after the due date {due}"),
                   {{"value", until}, {"due", item.due}}, "until");
  if (Status within = within_extension_limit(item, until, s); !within) return within.error();
  Item next = item;
  next.extensions.push_back({until, c.text("reason"), s.now});
  return next;
}

Status check_decide_extension(const Command& c) {
  if (c.flag("approve") == c.flag("refuse"))
    return invalid(N_("give either {field} or {field:refuse}"), {}, "approve");
  return ok_status();
}

// A suggestion's extensions may reach, in total, the rule's months past the due date
// its round started with; other kinds have no limit.
Status within_extension_limit(const Item& item, const std::string& until, const Setting& s) {
  if (item.kind != "suggestion" || item.round_due.empty()) return ok_status();
  int months = s.config.rules.extension_max_months;
  DueDate limit = s.calendar.add_months(date_of(item.round_due), months);
  if (until > limit.date.str())
    return invalid(N_("a suggestion's extensions may add at most {months} months in total: from "
                      "{round_due} to {limit} at the latest, not {value}"),
                   {{"months", count(months)},
                    {"round_due", item.round_due},
                    {"limit", limit.date.str()},
                    {"value", until}},
                   "until");
  return ok_status();
}

Result<Item> decide_extension(const Item& item, const Command& c, const Setting& s,
                              wire::Json& payload) {
  const Extension* pending = item.pending_extension();
  if (!pending)
    return refused(N_("item {item} has no extension request waiting"), {{"item", item.id}});
  Item next = item;
  Extension& e = next.extensions[pending - item.extensions.data()];
  e.decided_at = s.now;
  e.comment = c.text("comment");
  payload["until"] = e.until;
  if (c.flag("refuse")) {
    e.state = "refused";
    return next;
  }
  if (Status within = within_extension_limit(item, e.until, s); !within) return within.error();
  e.state = "approved";
  Due extended = due_on(e.until, due_rule::kExtension, "extension approved (was " + item.due + ")",
                        s.today);
  extended.basis.was = item.due;
  set_due(next, extended, payload, false);
  return next;
}

Result<Item> opinion(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string code = c.text("department");
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (const Opinion* o = item.opinion_of(code))
    return o->waived ? refused(N_("the office waived the opinion of {department} on item {item}"),
                               {{"department", code}, {"item", item.id}})
                     : opinion_given(item, *o);
  Item next = item;
  next.opinions.push_back({code, c.text("text"), s.now});
  return next;
}

Result<Item> waive(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string code = c.text("department");
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (const Opinion* o = item.opinion_of(code))
    return o->waived ? refused(N_("the opinion of {department} on item {item} is already waived"),
                               {{"department", code}, {"item", item.id}})
                     : opinion_given(item, *o);
  Item next = item;
  next.opinions.push_back({code, "", s.now, true, c.text("reason")});
  return next;
}

Result<Item> urge(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (item.stage == Stage::kClosed && !item.promise.open())
    return refused(N_("item {item} is closed with nothing left open: nothing to urge"),
                   {{"item", item.id}});
  Item next = item;
  next.urges++;
  return next;
}

Result<Item> reopen(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  Item next = item;
  next.stage = Stage::kAssigned;
  next.reopen_count++;
  next.start_round();
  next.opinions = item.opinions;  // the co-departments' opinions on the matter still stand
  next.assigned_on = s.today.str();
  payload["assigned_on"] = next.assigned_on;
  next.assigned_at = s.now;
  set_due(next,
          months_after(s, s.config.rules.reopen_months, due_rule::kReopen, "reopened", "reopening"),
          payload, true);
  return next;
}

Result<Item> promise_kept(const Item& item, const Command& c, const Setting& s,
                          wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  if (!item.promise.open())
    return refused(N_("item {item} has no open promise"), {{"item", item.id}});
  Item next = item;
  next.promise.kept_at = s.now;
  next.promise.note = c.text("note");
  return next;
}

Result<Item> milestone(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  uint64_t index = c.number("index");
  if (index == 0 || index > item.milestones.size())
    return invalid(N_("item {item} has {count} milestones; {field} counts from 1"),
                   {{"item", item.id}, {"count", count(item.milestones.size())}}, "index");
  if (!item.milestones[index - 1].reached_at.empty())
    return refused(N_("milestone {index} of item {item} was reached at {at}"),
                   {{"index", count(index)},
                    {"item", item.id},
                    {"at", item.milestones[index - 1].reached_at}});
  Item next = item;
  next.milestones[index - 1].reached_at = s.now;
  next.milestones[index - 1].note = c.text("note");
  return next;
}

namespace {

// The timer's marks: each names the due date it is for, and applies only while the
// item is still due then and not yet marked for that date.
// `already` says the mark was made: "item {item} was already reminded for {due}".
Status for_current_due(const Item& item, const Command& c, const std::string& marked,
                       std::string_view already) {
  std::string due = c.text("due");
  if (due != item.due && item.due.empty())
    return refused(N_("item {item} is now due never, not {value}"),
                   {{"item", item.id}, {"value", due}}, "due");
  if (due != item.due)
    return refused(N_("item {item} is now due {due}, not {value}"),
                   {{"item", item.id}, {"due", item.due}, {"value", due}}, "due");
  if (marked == due) return refused(already, {{"item", item.id}, {"due", due}}, "due");
  return ok_status();
}

}  // namespace

Result<Item> remind(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.reminded_for,
                                  N_("item {item} was already reminded for {due}"));
      !ok)
    return ok.error();
  Date due = date_of(item.due);
  if (s.today > due ||
      s.calendar.working_days_between(s.today, due) > s.config.rules.remind_working_days)
    return refused(N_("item {item} is not within the reminder window of {due}"),
                   {{"item", item.id}, {"due", item.due}});
  Item next = item;
  next.reminded_for = item.due;
  return next;
}

Result<Item> overdue(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.overdue_for,
                                  N_("item {item} was already marked overdue for {due}"));
      !ok)
    return ok.error();
  if (s.today <= date_of(item.due))
    return refused(N_("item {item} is due {due}: not overdue on {today}"),
                   {{"item", item.id}, {"due", item.due}, {"today", s.today.str()}});
  Item next = item;
  next.overdue = true;
  next.overdue_for = item.due;
  return next;
}

Result<Item> escalate(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.escalated_for,
                                  N_("item {item} was already escalated for {due}"));
      !ok)
    return ok.error();
  int days = s.config.rules.escalate_working_days;
  if (item.overdue_for != item.due ||
      s.calendar.working_days_between(date_of(item.due), s.today) < days)
    return refused(N_("item {item} has not been overdue for {days} working days"),
                   {{"item", item.id}, {"days", count(days)}});
  Item next = item;
  next.escalated = true;
  next.escalated_for = item.due;
  return next;
}

Result<Item> redue(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  auto due = recount(s.calendar, item.due_basis);
  if (!due || (due->date == item.due && due->basis == item.due_basis))
    return refused(N_("the due date {due} of item {item} stands on this calendar"),
                   {{"due", item.due}, {"item", item.id}});
  Item next = item;
  payload["was"] = item.due;
  set_due(next, *due, payload, next.round_due == item.due);
  next.overdue = item.overdue && next.due == item.due;
  next.escalated = item.escalated && next.due == item.due;
  return next;
}

}  // namespace closeloop::rules
