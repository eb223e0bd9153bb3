#include "workflow/command.h"

#include <algorithm>
#include <set>

#include "base/text.h"

namespace closeloop {

namespace {

const std::set<std::string, std::less<>> kOutcomes{"solved", "in-progress", "planned",
                                                   "not-feasible"};
const std::set<std::string, std::less<>> kRatings{"satisfied", "basically-satisfied",
                                                  "unsatisfied"};

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

void require_text(wire::Fields& f, const std::string& value, const char* name) {
  if (f.ok() && blank(value)) f.fail(errc::kInvalid, std::string(name) + " must not be empty");
}

void require_one_of(wire::Fields& f, const std::string& value, const char* name,
                    const std::set<std::string, std::less<>>& allowed) {
  if (!f.ok() || allowed.count(value)) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
  f.fail(errc::kInvalid, std::string(name) + " must be one of " + list + ", not '" + value + "'");
}

void read_verb_fields(wire::Fields& f, Command& c) {
  if (c.verb == "submit") {
    c.title = f.str("title", kMaxTitleChars);
    c.body = f.opt_str("body", kMaxTextChars).value_or("");
    c.category = f.opt_str("category", 64).value_or("");
    c.source = f.opt_str("source", 64).value_or("");
    c.submitter = f.opt_str("submitter", 64).value_or("");
    c.key = f.opt_str("key", 128).value_or("");
    require_text(f, c.title, "title");
    return;
  }
  c.item_id = f.str("item", 64);
  if (c.verb == "assign") {
    c.department = f.str("department", 32);
    c.co_departments = f.opt_str_list("co", 32, 32).value_or(std::vector<std::string>{});
    c.due = f.opt_str("due", 10).value_or("");
    c.note = f.opt_str("note", kMaxTextChars).value_or("");
    if (f.ok() && !c.due.empty() && !valid_date(c.due))
      f.fail(errc::kInvalid, "due must be a date YYYY-MM-DD, not '" + c.due + "'");
  } else if (c.verb == "return") {
    c.department = f.str("department", 32);
    c.reason = f.str("reason", kMaxTextChars);
    require_text(f, c.reason, "reason");
  } else if (c.verb == "handle") {
    c.department = f.str("department", 32);
    c.reply = f.str("reply", kMaxTextChars);
    c.outcome = f.str("outcome", 16);
    require_text(f, c.reply, "reply");
    require_one_of(f, c.outcome, "outcome", kOutcomes);
  } else if (c.verb == "verify") {
    c.rating = f.str("rating", 32);
    c.comment = f.opt_str("comment", kMaxTextChars).value_or("");
    require_one_of(f, c.rating, "rating", kRatings);
  } else if (c.verb == "close") {
    c.note = f.opt_str("note", kMaxTextChars).value_or("");
  }
}

}  // namespace

Result<Command> decode_command(const wire::Request& request) {
  static const std::set<std::string, std::less<>> kVerbs{"submit", "assign", "return",
                                                         "handle", "verify", "close"};
  if (!kVerbs.count(request.type))
    return Error{errc::kBadRequest, "not a command: " + request.type};
  Command c;
  c.verb = request.type;
  c.actor = request.actor;
  if (blank(c.actor)) return Error{errc::kInvalid, "actor must not be empty: say who acts"};
  wire::Fields f(request.body, "body");
  read_verb_fields(f, c);
  if (!f.ok()) return f.error();
  return c;
}

std::string encode_command_body(const Command& c) {
  wire::MapBuilder m;
  if (c.verb == "submit") {
    m.add("title", c.title).add("body", c.body);
    m.add_nonempty("category", c.category).add_nonempty("source", c.source);
    m.add_nonempty("submitter", c.submitter).add_nonempty("key", c.key);
    return m.finish();
  }
  m.add("item", c.item_id);
  m.add_nonempty("department", c.department);
  if (!c.co_departments.empty()) m.add("co", c.co_departments);
  m.add_nonempty("due", c.due).add_nonempty("note", c.note).add_nonempty("reason", c.reason);
  m.add_nonempty("reply", c.reply).add_nonempty("outcome", c.outcome);
  m.add_nonempty("rating", c.rating).add_nonempty("comment", c.comment);
  return m.finish();
}

namespace {

// The payload recorded in the event: the command's own fields, empty ones left out.
std::map<std::string, std::string> payload_of(const Command& c) {
  std::map<std::string, std::string> p{
      {"title", c.title},   {"body", c.body},         {"category", c.category},
      {"source", c.source}, {"submitter", c.submitter}, {"department", c.department},
      {"co", join(c.co_departments)}, {"due", c.due},  {"note", c.note},
      {"reason", c.reason}, {"reply", c.reply},         {"outcome", c.outcome},
      {"rating", c.rating}, {"comment", c.comment}};
  std::erase_if(p, [](const auto& kv) { return kv.second.empty(); });
  return p;
}

Step chain(Item item, const Command& c, Stage to, const std::string& department,
           const std::string& now) {
  Event e;
  e.item = item.id;
  e.seq = item.seq + 1;
  e.stage = to;
  e.action = c.verb;
  e.actor = c.actor;
  e.department = department;
  e.at = now;
  e.payload = payload_of(c);
  e.prev_hash = item.seq == 0 ? kGenesisHash : item.head;
  e.hash = event_hash(e);
  item.stage = to;
  item.seq = e.seq;
  item.head = e.hash;
  item.last_action = c.verb;
  item.updated_at = now;
  return {std::move(item), std::move(e)};
}

Status check_departments(const Command& c, const Config& config) {
  if (!config.find_department(c.department))
    return Error{errc::kInvalid, "unknown department '" + c.department + "'"};
  std::set<std::string> seen{c.department};
  for (const auto& co : c.co_departments) {
    if (!config.find_department(co)) return Error{errc::kInvalid, "unknown department '" + co + "'"};
    if (!seen.insert(co).second)
      return Error{errc::kInvalid, "department '" + co + "' is named twice"};
  }
  return ok_status();
}

Status check_lead(const Item& item, const Command& c, const Config& config) {
  if (!config.find_department(c.department))
    return Error{errc::kInvalid, "unknown department '" + c.department + "'"};
  if (c.department != item.department)
    return Error{errc::kForbidden, "department " + c.department + " is not the lead department of item " +
                                       item.id + " (" + item.department + " is)"};
  return ok_status();
}

}  // namespace

Step create_item(const Command& submit, const std::string& id, const std::string& now) {
  Item item;
  item.id = id;
  item.title = submit.title;
  item.body = submit.body;
  item.category = submit.category;
  item.source = submit.source;
  item.submitter = submit.submitter;
  item.created_at = now;
  return chain(std::move(item), submit, Stage::kSubmitted, "", now);
}

Result<Step> decide(const Item& item, const Command& c, const Config& config,
                    const std::string& now) {
  bool rework = c.verb == "verify" && c.rating == "unsatisfied";
  auto t = find_transition(item.stage, c.verb, rework);
  if (!t) return Error{errc::kRefused, refusal(item.id, item.stage, c.verb)};
  Item next = item;
  std::string department = item.department;
  if (c.verb == "assign") {
    if (Status s = check_departments(c, config); !s) return s.error();
    next.department = department = c.department;
    next.co_departments = c.co_departments;
    next.due = c.due;
  } else if (c.verb == "return" || c.verb == "handle") {
    if (Status s = check_lead(item, c, config); !s) return s.error();
    if (c.verb == "return") {
      next.department.clear();
      next.co_departments.clear();
      next.due.clear();
    }
  } else if (rework) {
    next.rework_count++;
  }
  return chain(std::move(next), c, t->to, department, now);
}

}  // namespace closeloop
