#include "workflow/fold.h"

#include <set>

#include "wire/record.h"

namespace closeloop {

namespace {

using wire::Json;

// ---- what an event recorded ----
// Read leniently: a value of the wrong type reads as absent, and so shows up as a
// difference from the stored item rather than as a refusal to fold.

std::string payload_text(const Json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : "";
}

bool payload_flag(const Json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_boolean() && it->get<bool>();
}

uint64_t payload_number(const Json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return 0;
  return it->get<uint64_t>();
}

std::vector<std::string> payload_codes(const Json& payload, const char* key) {
  std::vector<std::string> out;
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_array()) return out;
  for (const Json& code : *it)
    if (code.is_string()) out.push_back(code.get<std::string>());
  return out;
}

// The due date's basis as the rule wrote it (basis_json), read as the item reads its
// own: fields this version does not know kept, so that the two compare alike. Straight
// from the JSON: the ledger folds an assignment on the command path. An older writer's
// basis has no code, and its item none either: the fold takes what the event recorded.
DueBasis payload_basis(const Json& payload) {
  auto it = payload.find("due_basis");
  return it == payload.end() ? DueBasis{} : read_basis(*it);
}

Error cannot_fold(const Event& e, const std::string& why) {
  return Error{errc::kInvalid,
               "event " + std::to_string(e.seq) + " (" + e.action + ") cannot fold: " + why};
}

// ---- the days an event counted on ----

// submitted_on since issue 16; before, imported history's occurred_on or the local day.
Result<std::string> submitted_day(const Event& e, const FoldContext& cx) {
  if (std::string day = payload_text(e.payload, "submitted_on"); !day.empty()) return day;
  if (std::string day = payload_text(e.payload, "occurred_on"); !day.empty()) return day;
  if (!cx.local_date) return cannot_fold(e, "the office's time zone is needed for its day");
  return cx.local_date(e.at);
}

// assigned_on since issue 16; before, the day its due date counts from (the rule
// counted it from the assignment's day).
std::string assigned_day(const Event& e, const DueBasis& basis) {
  std::string day = payload_text(e.payload, "assigned_on");
  return day.empty() ? basis.from : day;
}

// ---- what each rule set, as rules.cc sets it ----

// The rule's due date and its basis; the timer's marks of the old date no longer apply.
void take_due(Item& item, const Event& e, bool new_round) {
  item.due = payload_text(e.payload, "due");
  item.due_basis = payload_basis(e.payload);
  if (new_round) item.round_due = item.due;
  item.overdue = item.escalated = false;
}

using Effect = Status (*)(Item& item, const Event& e, const FoldContext& cx);

Status submitted(Item& item, const Event& e, const FoldContext& cx) {
  const Json& p = e.payload;
  item.kind = payload_text(p, "kind");
  item.complex = payload_flag(p, "complex");
  item.ref = payload_text(p, "ref");
  item.title = payload_text(p, "title");
  item.body = payload_text(p, "body");
  item.category = payload_text(p, "category");
  item.source = payload_text(p, "source");
  item.submitter = payload_text(p, "submitter");
  item.deputy = payload_text(p, "deputy");
  auto day = submitted_day(e, cx);
  if (!day) return day.error();
  item.submitted_on = *day;
  item.created_at = e.at;
  return ok_status();
}

Status assigned(Item& item, const Event& e, const FoldContext&) {
  std::vector<Milestone> milestones;
  if (auto it = e.payload.find("milestone"); it != e.payload.end() && it->is_array())
    for (const Json& m : *it) milestones.push_back({payload_text(m, "date"), payload_text(m, "text")});
  if (!milestones.empty()) item.milestones = std::move(milestones);  // else the earlier stand
  item.start_round();
  item.department = payload_text(e.payload, "department");
  item.co_departments = payload_codes(e.payload, "co");
  take_due(item, e, /*new_round=*/true);
  item.assigned_on = assigned_day(e, item.due_basis);
  item.assigned_at = e.at;
  return ok_status();
}

Status returned(Item& item, const Event&, const FoldContext&) {
  item.returns++;
  item.department.clear();
  item.co_departments.clear();
  item.due.clear();
  item.due_basis = {};
  item.overdue = item.escalated = false;
  item.start_round();
  return ok_status();
}

Status handled(Item& item, const Event& e, const FoldContext&) {
  if (payload_flag(e.payload, "implicit_sign")) item.signed_at = e.at;
  item.replied_at = e.at;
  for (Extension& x : item.extensions)  // the reply is in: a request for more time is moot
    if (x.state == "pending") x.state = "lapsed";
  item.outcome = payload_text(e.payload, "outcome");
  std::string promised = payload_text(e.payload, "promise");
  item.promise = promised.empty() ? Promise{} : Promise{promised};
  item.overdue = false;
  return ok_status();
}

Status verified(Item& item, const Event& e, const FoldContext&) {
  const Json& p = e.payload;
  item.evaluation = {payload_text(p, "attitude"), payload_text(p, "result"),
                     payload_text(p, "comment"), e.at};
  if (item.evaluation.result != "unsatisfied") return ok_status();
  item.rework_count++;
  take_due(item, e, /*new_round=*/true);
  return ok_status();
}

Status closed(Item& item, const Event&, const FoldContext&) {
  item.overdue = item.escalated = false;
  return ok_status();
}

Status signed_for(Item& item, const Event& e, const FoldContext&) {
  std::string role = payload_text(e.payload, "role");
  if (role == "lead") {
    item.signed_at = e.at;
  } else if (role == "co") {
    item.co_signed_at[payload_text(e.payload, "department")] = e.at;
  } else {
    return cannot_fold(e, "a sign-for records its role, lead or co");
  }
  return ok_status();
}

Status extended(Item& item, const Event& e, const FoldContext&) {
  item.extensions.push_back(
      {payload_text(e.payload, "until"), payload_text(e.payload, "reason"), e.at});
  return ok_status();
}

Status extension_decided(Item& item, const Event& e, const FoldContext&) {
  Extension* pending = nullptr;
  for (Extension& x : item.extensions)
    if (x.state == "pending") pending = &x;
  if (!pending) return cannot_fold(e, "the item has no extension request waiting");
  pending->decided_at = e.at;
  pending->comment = payload_text(e.payload, "comment");
  if (payload_flag(e.payload, "refuse")) {
    pending->state = "refused";
    return ok_status();
  }
  pending->state = "approved";
  take_due(item, e, /*new_round=*/false);
  return ok_status();
}

Status gave_opinion(Item& item, const Event& e, const FoldContext&) {
  item.opinions.push_back(
      {payload_text(e.payload, "department"), payload_text(e.payload, "text"), e.at});
  return ok_status();
}

Status waived(Item& item, const Event& e, const FoldContext&) {
  item.opinions.push_back(
      {payload_text(e.payload, "department"), "", e.at, true, payload_text(e.payload, "reason")});
  return ok_status();
}

Status urged(Item& item, const Event&, const FoldContext&) {
  item.urges++;
  return ok_status();
}

Status reopened(Item& item, const Event& e, const FoldContext&) {
  item.reopen_count++;
  std::vector<Opinion> opinions = std::move(item.opinions);  // they still stand
  item.start_round();
  item.opinions = std::move(opinions);
  take_due(item, e, /*new_round=*/true);
  item.assigned_on = assigned_day(e, item.due_basis);
  item.assigned_at = e.at;
  return ok_status();
}

void lapse_pending(std::vector<Extension>& extensions) {
  for (Extension& x : extensions)
    if (x.state == "pending") x.state = "lapsed";
}

// Another lead's round: the opinions stand and a pending extension lapses; the due date
// counts again unless kept (keep-due); `co` is the rule's list, given or kept.
Status reassigned(Item& item, const Event& e, const FoldContext&) {
  std::vector<Opinion> opinions = std::move(item.opinions);
  std::vector<Extension> extensions = std::move(item.extensions);
  item.start_round();
  item.opinions = std::move(opinions);
  item.extensions = std::move(extensions);
  lapse_pending(item.extensions);
  item.department = payload_text(e.payload, "department");
  item.co_departments = payload_codes(e.payload, "co");
  if (!payload_flag(e.payload, "keep-due")) take_due(item, e, /*new_round=*/true);
  item.assigned_on = payload_text(e.payload, "assigned_on");
  item.assigned_at = e.at;
  return ok_status();
}

Status withdrawn(Item& item, const Event& e, const FoldContext&) {
  item.overdue = item.escalated = false;
  lapse_pending(item.extensions);
  item.withdrawal = {payload_text(e.payload, "reason"), payload_text(e.payload, "duplicate-of"),
                     e.at};
  return ok_status();
}

Status promise_kept(Item& item, const Event& e, const FoldContext&) {
  if (!item.promise.open()) return cannot_fold(e, "the item has no open promise");
  item.promise.kept_at = e.at;
  item.promise.note = payload_text(e.payload, "note");
  return ok_status();
}

Status milestone_reached(Item& item, const Event& e, const FoldContext&) {
  uint64_t index = payload_number(e.payload, "index");
  if (index == 0 || index > item.milestones.size())
    return cannot_fold(e, "the item has no milestone " + std::to_string(index));
  item.milestones[index - 1].reached_at = e.at;
  item.milestones[index - 1].note = payload_text(e.payload, "note");
  return ok_status();
}

Status reminded(Item& item, const Event& e, const FoldContext&) {
  item.reminded_for = payload_text(e.payload, "due");
  return ok_status();
}

Status marked_overdue(Item& item, const Event& e, const FoldContext&) {
  item.overdue = true;
  item.overdue_for = payload_text(e.payload, "due");
  return ok_status();
}

Status escalated(Item& item, const Event& e, const FoldContext&) {
  item.escalated = true;
  item.escalated_for = payload_text(e.payload, "due");
  return ok_status();
}

// A recount keeps the round's date if it was the one recounted, and the timer's marks
// if the date did not move (only its basis).
Status redued(Item& item, const Event& e, const FoldContext&) {
  std::string was = payload_text(e.payload, "was");
  bool overdue = item.overdue, high = item.escalated;
  take_due(item, e, /*new_round=*/item.round_due == was);
  item.overdue = overdue && item.due == was;
  item.escalated = high && item.due == was;
  return ok_status();
}

// ---- version 1 (issue 2): payload values are strings ----

std::vector<std::string> v1_codes(const std::string& joined) {
  std::vector<std::string> out;
  for (size_t start = 0; start < joined.size();) {
    size_t comma = std::min(joined.find(',', start), joined.size());
    out.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Status v1_submitted(Item& item, const Event& e, const FoldContext&) {
  item.title = payload_text(e.payload, "title");
  item.body = payload_text(e.payload, "body");
  item.category = payload_text(e.payload, "category");
  item.source = payload_text(e.payload, "source");
  item.submitter = payload_text(e.payload, "submitter");
  item.created_at = e.at;
  return ok_status();
}

Status v1_assigned(Item& item, const Event& e, const FoldContext&) {
  item.department = payload_text(e.payload, "department");
  item.co_departments = v1_codes(payload_text(e.payload, "co"));
  item.due = payload_text(e.payload, "due");
  return ok_status();
}

Status v1_returned(Item& item, const Event&, const FoldContext&) {
  item.department.clear();
  item.co_departments.clear();
  item.due.clear();
  return ok_status();
}

Status v1_verified(Item& item, const Event& e, const FoldContext&) {
  if (payload_text(e.payload, "rating") == "unsatisfied") item.rework_count++;
  return ok_status();
}

Status v1_unchanged(Item&, const Event&, const FoldContext&) { return ok_status(); }

struct Action {
  std::string_view name;
  Effect effect;
};

constexpr Action kEffects[] = {
    {"submit", submitted},         {"assign", assigned},
    {"return", returned},          {"handle", handled},
    {"verify", verified},          {"close", closed},
    {"sign", signed_for},          {"extend", extended},
    {"decide-extension", extension_decided},
    {"opinion", gave_opinion},     {"waive", waived},
    {"urge", urged},               {"reopen", reopened},
    {"reassign", reassigned},      {"withdraw", withdrawn},
    {"promise-kept", promise_kept}, {"milestone", milestone_reached},
    {"remind", reminded},          {"overdue", marked_overdue},
    {"escalate", escalated},       {"redue", redued},
};

constexpr Action kV1Effects[] = {
    {"submit", v1_submitted}, {"assign", v1_assigned}, {"return", v1_returned},
    {"handle", v1_unchanged}, {"verify", v1_verified}, {"close", v1_unchanged},
};

Effect effect_of(const Event& e) {
  auto find = [&](const auto& table) -> Effect {
    for (const Action& a : table)
      if (a.name == e.action) return a.effect;
    return nullptr;
  };
  return e.v == 1 ? find(kV1Effects) : find(kEffects);
}

// Whether `e` can follow `before`: the same item, the next seq, a submit first and only.
Status follows(const Item& before, const Event& e) {
  if (before.seq != 0 && e.item != before.id)
    return cannot_fold(e, "it is item " + e.item + "'s, not " + before.id + "'s");
  if (e.seq != before.seq + 1)
    return cannot_fold(e, "the item is at seq " + std::to_string(before.seq));
  if ((e.action == "submit") != (e.seq == 1))
    return cannot_fold(e, "a trail begins with its submit, and has only one");
  return ok_status();
}

// ---- comparing ----

std::string joined(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// The first path below `path` where the two values differ, with both values.
std::optional<Difference> differ(const Json& folded, const Json& stored, const std::string& path) {
  if (folded == stored) return std::nullopt;
  if (folded.is_object() && stored.is_object()) {
    std::set<std::string> keys;
    for (const auto& [key, value] : folded.items()) keys.insert(key);
    for (const auto& [key, value] : stored.items()) keys.insert(key);
    static const Json kAbsent;
    for (const std::string& key : keys) {
      const Json& f = folded.contains(key) ? folded[key] : kAbsent;
      const Json& s = stored.contains(key) ? stored[key] : kAbsent;
      if (auto d = differ(f, s, joined(path, key))) return d;
    }
  }
  if (folded.is_array() && stored.is_array() && folded.size() == stored.size()) {
    for (size_t i = 0; i < folded.size(); ++i)
      if (auto d = differ(folded[i], stored[i], path + "[" + std::to_string(i) + "]")) return d;
  }
  return Difference{path, wire::dump(folded), wire::dump(stored)};
}

std::vector<std::pair<std::string_view, Json>> declared_fields(const Item& item) {
  std::vector<std::pair<std::string_view, Json>> out;
  Item::fields(item, [&](std::string_view key, const auto& value) {
    using wire::to_json_value;
    out.emplace_back(key, to_json_value(value));
  });
  return out;
}

// At most `bytes` bytes of UTF-8 text, cut between characters.
std::string shortened(const std::string& text, size_t bytes = 120) {
  if (text.size() <= bytes) return text;
  size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

}  // namespace

Result<Item> apply(Item item, const Event& e, const FoldContext& context) {
  if (Status ok = follows(item, e); !ok) return ok.error();
  Effect effect = effect_of(e);
  if (!effect) return cannot_fold(e, "no such action in a version " + std::to_string(e.v) + " event");
  item.v = kItemVersion;
  item.id = e.item;
  if (Status done = effect(item, e, context); !done) return done.error();
  item.stage = e.stage;
  item.seq = e.seq;
  item.head = e.hash;
  item.last_action = e.action;
  item.updated_at = e.at;
  return item;
}

Result<Item> fold(const std::vector<Event>& trail, const FoldContext& context) {
  Item item;
  for (const Event& e : trail) {
    auto next = apply(std::move(item), e, context);
    if (!next) return next.error();
    item = std::move(*next);
  }
  return item;
}

std::optional<Difference> first_difference(const Item& folded, const Item& stored) {
  if (encode(folded) == encode(stored)) return std::nullopt;
  auto mine = declared_fields(folded), theirs = declared_fields(stored);
  for (size_t i = 0; i < mine.size(); ++i)
    if (auto d = differ(mine[i].second, theirs[i].second, std::string(mine[i].first))) return d;
  return differ(folded.extras.fields, stored.extras.fields, "");
}

std::string describe(const Difference& d) {
  return d.field + ": the item says " + shortened(d.stored) + ", its trail makes it " +
         shortened(d.folded);
}

}  // namespace closeloop
