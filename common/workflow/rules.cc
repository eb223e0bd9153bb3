#include "workflow/rules.h"

#include <set>

#include "workflow/deadline.h"

namespace closeloop::rules {

namespace {

Error refused(std::string message) { return Error{errc::kRefused, std::move(message)}; }
Error invalid(std::string message) { return Error{errc::kInvalid, std::move(message)}; }


Status known_department(const Setting& s, const std::string& code) {
  if (!s.config.find_department(code)) return invalid("unknown department '" + code + "'");
  return ok_status();
}

Status lead_only(const Item& item, const std::string& code, const Setting& s) {
  if (Status k = known_department(s, code); !k) return k;
  if (code != item.department)
    return Error{errc::kForbidden, "department " + code + " is not the lead department of item " +
                                       item.id + " (" + item.department + " is)"};
  return ok_status();
}

Status co_only(const Item& item, const std::string& code, const Setting& s) {
  if (Status k = known_department(s, code); !k) return k;
  if (!item.is_co(code))
    return Error{errc::kForbidden,
                 "department " + code + " is not a co-department of item " + item.id};
  return ok_status();
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
  payload["due_basis"] = wire::record_json(due.basis);
}

// `months` after today, e.g. "rework: 1 month after the unsatisfied evaluation".
Due months_after(const Setting& s, int months, const std::string& what, const std::string& after) {
  Period p{0, static_cast<uint64_t>(months)};
  return due_after(s.calendar, s.today, p, what + ": " + describe(p) + " after " + after);
}

// The due date the office gave (`due`), not before today: `when` names the step.
Result<Due> given_due(const Command& c, const Setting& s, const std::string& when,
                      const std::string& basis) {
  if (c.text("due") < s.today.str())
    return invalid("due date " + c.text("due") + " is before the " + when + " (" +
                   s.today.str() + ")");
  return due_on(c.text("due"), basis, s.today);
}

// The reply due of an assignment: --due overrides; else the kind's rule.
Result<Due> assignment_due(const Item& item, const Command& c, const Setting& s) {
  if (c.has("due")) return given_due(c, s, "assignment", "set at assignment (--due)");
  if (auto due = statutory_due(s.config.rules, s.calendar, item.kind, item.complex, s.today))
    return *due;
  if (item.kind == "project") {
    if (item.milestones.empty())
      return invalid("a project is due at its last milestone: give --milestone DATE=TEXT (or --due)");
    return due_on(item.milestones.back().date, "project: the last milestone", s.today);
  }
  return invalid("a" + std::string(item.kind == "audit" ? "n audit finding's" : " legislative item's") +
                 " due date is set at assignment: give --due YYYY-MM-DD");
}

Result<std::vector<Milestone>> milestones_of(const Item& item, const Command& c, const Setting& s) {
  std::vector<Milestone> out;
  if (!c.has("milestone")) return out;
  if (item.kind != "project")
    return invalid("milestones are for projects (民生实事); item " + item.id + " is " + item.kind);
  std::string previous = s.today.str();
  for (const auto& m : c.fields["milestone"]) {
    Milestone ms{m["date"].get<std::string>(), m["text"].get<std::string>()};
    if (ms.date < previous)
      return invalid("milestone " + ms.date + " is out of order: milestones must be in date order, "
                     "from the assignment (" + s.today.str() + ") on");
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
    return invalid("unknown category '" + category + "'");
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
    if (Status k = known_department(s, co); !k) return k.error();
    if (!named.insert(co).second) return invalid("department '" + co + "' is named twice");
  }
  int limit = s.config.rules.max_returns;
  if (item.returns >= static_cast<uint64_t>(limit) && !c.has("ruling"))
    return refused("item " + item.id + " has been returned " + std::to_string(item.returns) +
                   " times: assigning it again needs a supervisor's --ruling");
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
    if (Status k = known_department(s, code); !k) return k.error();
    if (!named.insert(code).second) return invalid("department '" + code + "' is named twice");
    co.push_back(code);
  }
  return co;
}

// The due date of a reassignment: the one given; else the kind's period counted again from
// today; else a project's last milestone. An audit finding's or a legislative item's date
// was set by hand: the office gives a new one or keeps it.
Result<Due> reassignment_due(const Item& item, const Command& c, const Setting& s) {
  if (c.has("due")) return given_due(c, s, "reassignment", "set at reassignment");
  if (auto due = statutory_due(s.config.rules, s.calendar, item.kind, item.complex, s.today,
                               "reassignment"))
    return *due;
  if (item.kind == "project" && !item.milestones.empty())
    return due_on(item.milestones.back().date, "project: the last milestone", s.today);
  std::string what = item.kind == "audit" ? "an audit finding" : "a " + item.kind + " item";
  return invalid("item " + item.id + " is " + what +
                 ", whose due date is set by hand: give a new due date, or keep the present one "
                 "(keep-due)");
}

// A request for more time still waiting when the item moves on is moot.
void lapse_pending(std::vector<Extension>& extensions) {
  for (Extension& e : extensions)
    if (e.state == "pending") e.state = "lapsed";
}

}  // namespace

Status check_reassign(const Command& c) {
  if (c.has("due") && c.flag("keep-due"))
    return invalid("a reassignment either gives a new due date or keeps the present one (keep-due), "
                   "not both");
  return ok_status();
}

// A new round with another lead: its sign-for, reply and evaluation are the new lead's to
// give; the co-departments' opinions on the matter stand (as on reopening), a pending
// extension lapses, and the due date counts again from today unless kept.
Result<Item> reassign(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string lead = c.text("department");
  if (Status k = known_department(s, lead); !k) return k.error();
  if (lead == item.department)
    return invalid("department " + lead + " is already the lead department of item " + item.id);
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
    return refused("item " + item.id + " is an audit finding, which is never withdrawn: its "
                   "rectification is followed to the end");
  if (c.text("duplicate-of") == item.id)
    return invalid("item " + item.id + " cannot be a duplicate of itself");
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
    return refused("item " + item.id + " was assigned on " + item.assigned_on +
                   ", more than " + std::to_string(limit) +
                   " working days ago: returning it now needs a supervisor's --ruling");
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
    return invalid("a reply that is " + outcome + " needs --promise YYYY-MM-DD: the date by "
                   "which the department promises it done");
  if (!open && c.has("promise"))
    return invalid("--promise goes with an in-progress or planned reply, not a " + outcome + " one");
  return ok_status();
}

Result<Item> handle(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  for (const auto& co : item.co_departments) {
    if (!item.opinion_of(co))
      return refused("item " + item.id + " waits for the opinion of co-department " + co +
                     " (or the office's waiver) before the lead department replies");
  }
  if (c.has("promise") && c.text("promise") < s.today.str())
    return invalid("the promised date " + c.text("promise") + " is in the past");
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
    return invalid("give either --rating R, or both --attitude R and --result R");
  std::string attitude = rating ? c.text("rating") : c.text("attitude");
  std::string result = rating ? c.text("rating") : c.text("result");
  if ((attitude == "unsatisfied" || result == "unsatisfied") && !c.has("comment"))
    return invalid("an unsatisfied evaluation needs a --comment saying why");
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
  set_due(next, months_after(s, s.config.rules.rework_months, "rework", "the unsatisfied evaluation"), payload, true);
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
      return refused("item " + item.id + " was signed for by " + code + " at " + item.signed_at);
    next.signed_at = s.now;
    payload["role"] = "lead";
    return next;
  }
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (item.co_signed_at.count(code))
    return refused("item " + item.id + " was signed for by " + code + " at " +
                   item.co_signed_at.at(code));
  next.co_signed_at[code] = s.now;
  payload["role"] = "co";
  return next;
}

Status within_extension_limit(const Item& item, const std::string& until, const Setting& s);

Result<Item> extend(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  if (item.pending_extension())
    return refused("item " + item.id + " already has an extension request waiting for a decision");
  if (item.due.empty()) return refused("item " + item.id + " has no due date to extend");
  if (s.today.str() > item.due)
    return refused("an extension must be asked before the due date (" + item.due + ")");
  std::string until = c.text("until");
  if (until <= item.due)
    return invalid("the new date " + until + " must be after the due date " + item.due);
  if (Status within = within_extension_limit(item, until, s); !within) return within.error();
  Item next = item;
  next.extensions.push_back({until, c.text("reason"), s.now});
  return next;
}

Status check_decide_extension(const Command& c) {
  if (c.flag("approve") == c.flag("refuse")) return invalid("give either --approve or --refuse");
  return ok_status();
}

// A suggestion's extensions may reach, in total, the rule's months past the due date
// its round started with; other kinds have no limit.
Status within_extension_limit(const Item& item, const std::string& until, const Setting& s) {
  if (item.kind != "suggestion" || item.round_due.empty()) return ok_status();
  int months = s.config.rules.extension_max_months;
  DueDate limit = s.calendar.add_months(date_of(item.round_due), months);
  if (until > limit.date.str())
    return invalid("a suggestion's extensions may add at most " + std::to_string(months) +
                   " months in total: from " + item.round_due + " to " + limit.date.str() +
                   " at the latest, not " + until);
  return ok_status();
}

Result<Item> decide_extension(const Item& item, const Command& c, const Setting& s,
                              wire::Json& payload) {
  const Extension* pending = item.pending_extension();
  if (!pending) return refused("item " + item.id + " has no extension request waiting");
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
  set_due(next, due_on(e.until, "extension approved (was " + item.due + ")", s.today), payload,
          false);
  return next;
}

Result<Item> opinion(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string code = c.text("department");
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (const Opinion* o = item.opinion_of(code))
    return refused(o->waived ? "the office waived " + code + "'s opinion on item " + item.id
                             : code + " gave its opinion on item " + item.id + " at " + o->at);
  Item next = item;
  next.opinions.push_back({code, c.text("text"), s.now});
  return next;
}

Result<Item> waive(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  std::string code = c.text("department");
  if (Status co = co_only(item, code, s); !co) return co.error();
  if (const Opinion* o = item.opinion_of(code))
    return refused(o->waived ? code + "'s opinion on item " + item.id + " is already waived"
                             : code + " gave its opinion on item " + item.id + " at " + o->at);
  Item next = item;
  next.opinions.push_back({code, "", s.now, true, c.text("reason")});
  return next;
}

Result<Item> urge(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (item.stage == Stage::kClosed && !item.promise.open())
    return refused("item " + item.id + " is closed with nothing left open: nothing to urge");
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
  set_due(next, months_after(s, s.config.rules.reopen_months, "reopened", "reopening"), payload, true);
  return next;
}

Result<Item> promise_kept(const Item& item, const Command& c, const Setting& s,
                          wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  if (!item.promise.open()) return refused("item " + item.id + " has no open promise");
  Item next = item;
  next.promise.kept_at = s.now;
  next.promise.note = c.text("note");
  return next;
}

Result<Item> milestone(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status l = lead_only(item, c.text("department"), s); !l) return l.error();
  uint64_t index = c.number("index");
  if (index == 0 || index > item.milestones.size())
    return invalid("item " + item.id + " has " + std::to_string(item.milestones.size()) +
                   " milestones; --index counts from 1");
  if (!item.milestones[index - 1].reached_at.empty())
    return refused("milestone " + std::to_string(index) + " of item " + item.id +
                   " was reached at " + item.milestones[index - 1].reached_at);
  Item next = item;
  next.milestones[index - 1].reached_at = s.now;
  next.milestones[index - 1].note = c.text("note");
  return next;
}

namespace {

// The timer's marks: each names the due date it is for, and applies only while the
// item is still due then and not yet marked for that date.
Status for_current_due(const Item& item, const Command& c, const std::string& marked,
                       const char* what) {
  std::string due = c.text("due");
  if (due != item.due)
    return refused("item " + item.id + " is now due " + (item.due.empty() ? "never" : item.due) +
                   ", not " + due);
  if (marked == due) return refused("item " + item.id + " was already " + what + " for " + due);
  return ok_status();
}

}  // namespace

Result<Item> remind(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.reminded_for, "reminded"); !ok) return ok.error();
  Date due = date_of(item.due);
  if (s.today > due ||
      s.calendar.working_days_between(s.today, due) > s.config.rules.remind_working_days)
    return refused("item " + item.id + " is not within the reminder window of " + item.due);
  Item next = item;
  next.reminded_for = item.due;
  return next;
}

Result<Item> overdue(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.overdue_for, "marked overdue"); !ok)
    return ok.error();
  if (s.today <= date_of(item.due))
    return refused("item " + item.id + " is due " + item.due + ": not overdue on " + s.today.str());
  Item next = item;
  next.overdue = true;
  next.overdue_for = item.due;
  return next;
}

Result<Item> escalate(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  if (Status ok = for_current_due(item, c, item.escalated_for, "escalated"); !ok) return ok.error();
  int days = s.config.rules.escalate_working_days;
  if (item.overdue_for != item.due ||
      s.calendar.working_days_between(date_of(item.due), s.today) < days)
    return refused("item " + item.id + " has not been overdue for " + std::to_string(days) +
                   " working days");
  Item next = item;
  next.escalated = true;
  next.escalated_for = item.due;
  return next;
}

Result<Item> redue(const Item& item, const Command& c, const Setting& s, wire::Json& payload) {
  auto due = recount(s.calendar, item.due_basis);
  if (!due || (due->date == item.due && due->basis == item.due_basis))
    return refused("item " + item.id + "'s due date " + item.due + " stands on this calendar");
  Item next = item;
  payload["was"] = item.due;
  set_due(next, *due, payload, next.round_due == item.due);
  next.overdue = item.overdue && next.due == item.due;
  next.escalated = item.escalated && next.due == item.due;
  return next;
}

}  // namespace closeloop::rules
