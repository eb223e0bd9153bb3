#include "queries.h"

#include <algorithm>
#include <set>

#include "base/text.h"
#include "i18n/words.h"
#include "indexes.h"
#include "store/keys.h"
#include "wire/message.h"
#include "workflow/deadline.h"
#include "workflow/history.h"
#include "workflow/item.h"
#include "workflow/view.h"

namespace closeloop::ledger {

namespace {

constexpr uint64_t kDefaultLimit = 1000;
constexpr uint64_t kMaxLimit = 100000;
constexpr size_t kMaxTimerActions = 5000;  // per scan; the next scan takes the rest
constexpr size_t kMaxImportPairs = 200;    // an import request's rows

std::string text(const wire::Json& fields, const char* name) {
  return fields.value(name, std::string());
}

// Whether the one who asks may see `item` in this list.
bool visible(const QueryEnv& env, const Item& item) {
  return security::reaches(env.actor, env.verb, rights_facts(item));
}

// One reply's worth of records: at most `limit`, within `max_bytes` unless a single
// record is larger (a page always holds at least one). `more` says the scan stopped early.
class Page {
 public:
  Page(size_t max_bytes, uint64_t limit) : max_bytes_(max_bytes), limit_(limit) {}

  // Adds an encoded record; false once the page is full (the scan should stop).
  bool add(std::string_view record) {
    if (records_.size() >= limit_ || (!records_.empty() && bytes_ + record.size() > max_bytes_))
      return !(more_ = true);
    bytes_ += record.size();
    records_.emplace_back(record);
    return true;
  }
  bool more() const { return more_; }

  std::string reply(std::string_view key, const std::string& next = "") const {
    wire::Buffer array;
    wire::Packer(array).pack_array(static_cast<uint32_t>(records_.size()));
    for (const auto& r : records_) wire::pack_raw(array, r);
    wire::MapBuilder m;
    m.add_raw(key, wire::view(array));
    if (more_) m.add("more", true);
    if (more_ && !next.empty()) m.add("next", next);
    return m.finish();
  }

 private:
  size_t max_bytes_;
  uint64_t limit_;
  size_t bytes_ = 0;
  bool more_ = false;
  std::vector<std::string> records_;
};

DayOf day_of(const Clock& clock) {
  return [&clock](const Event& e) {
    auto it = e.payload.find("occurred_on");
    if (it != e.payload.end() && it->is_string())
      if (auto d = Date::parse(it->get<std::string>())) return *d;
    return clock.local_date(e.at);
  };
}

std::vector<Event> trail_of(const Reader& db, const std::string& id) {
  std::vector<Event> trail;
  db.scan(keys::event_prefix(id), [&](std::string_view, std::string_view v) {
    if (auto e = decode_event(v)) trail.push_back(std::move(*e));
    return true;
  });
  return trail;
}

// The ids under index/<name>/<value>/, in id order, from after `after`.
void scan_index(const Reader& db, std::string_view name, std::string_view value,
                const std::string& after, const std::function<bool(const std::string&)>& fn) {
  std::string prefix = keys::index_prefix(name, value);
  db.scan(prefix, [&](std::string_view key, std::string_view) {
    return fn(std::string(key.substr(prefix.size())));
  }, after.empty() ? "" : prefix + after + '\0');
}

bool contains_text(const Item& item, const std::string& needle) {
  return item.title.find(needle) != std::string::npos || item.body.find(needle) != std::string::npos;
}

bool passes(const Item& item, const wire::Json& f, const std::string& today) {
  auto is = [&](const char* name, const std::string& value) {
    return !f.contains(name) || text(f, name) == value;
  };
  if (!is("stage", std::string(to_string(item.stage))) || !is("department", item.department) ||
      !is("kind", item.kind) || !is("source", item.source) || !is("submitter", item.submitter) ||
      !is("category", item.category))
    return false;
  if (f.contains("from") && item.submitted_on < text(f, "from")) return false;
  if (f.contains("to") && (item.submitted_on.empty() || item.submitted_on > text(f, "to")))
    return false;
  if (f.contains("overdue") &&
      !(item.stage == Stage::kAssigned && !item.due.empty() && item.due < today))
    return false;
  return !f.contains("text") || contains_text(item, text(f, "text"));
}

}  // namespace

Result<std::string> show(const Reader& db, const std::string& item_bytes) {
  auto unpacked = wire::decode(item_bytes.data(), item_bytes.size());
  if (!unpacked) return unpacked.error();
  auto head = read_item_head(unpacked->get());
  if (!head) return head.error();
  std::vector<Event> trail = trail_of(db, head->id);
  std::erase_if(trail, [&](const Event& e) { return e.seq > head->seq; });  // later than it
  wire::MapBuilder reply;
  reply.add_raw("item", item_bytes);
  reply.add_raw("view", wire::encode_json(record_view(trail)));
  return reply.finish();
}

namespace {

// A listed item with its view (list's `plain`: an export of items).
std::string with_view(const Reader& db, const Item& item, std::string_view record) {
  std::vector<Event> trail = trail_of(db, item.id);
  std::erase_if(trail, [&](const Event& e) { return e.seq > item.seq; });
  wire::Json view = record_view(trail);
  if (view.empty()) return std::string(record);
  wire::Json j = wire::record_json(item);
  for (auto& [k, v] : view.items()) j[k] = std::move(v);
  return wire::encode_json(j);
}

}  // namespace

// Items in id order after `after`, through the narrowest index the filters allow.
Result<std::string> list(const Reader& db, const QueryEnv& env, const wire::Json& f) {
  uint64_t limit = std::min(f.value("limit", kDefaultLimit), kMaxLimit);
  std::string after = text(f, "after");
  std::string today = env.clock.today().str();
  Page page(env.reply_bytes, limit);
  bool plain = f.value("plain", false);
  auto take = [&](std::string_view record) {
    auto item = decode_item(record);
    if (!item || !passes(*item, f, today) || !visible(env, *item)) return true;
    return page.add(plain ? with_view(db, *item, record) : std::string(record));
  };
  auto by_index = [&](std::string_view name, const std::string& value) {
    scan_index(db, name, value, after, [&](const std::string& id) {
      auto stored = db.get(keys::item(id));
      return !stored || take(*stored);
    });
  };
  if (f.contains("department")) {
    by_index("department", text(f, "department"));
  } else if (f.contains("kind")) {
    by_index("kind", text(f, "kind"));
  } else if (f.contains("stage")) {
    by_index("stage", text(f, "stage"));
  } else {
    db.scan("item/", [&](std::string_view, std::string_view v) { return take(v); },
            after.empty() ? "" : keys::item(after + '\0'));
  }
  return page.reply("items");
}

namespace {

// A record with extra fields, e.g. an inbox entry: the item plus todo and todo_due.
std::string item_with(const Item& item, const wire::Json& extra) {
  wire::Json j = wire::record_json(item);
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return wire::encode_json(j);
}

// How far `day` is from `due`: working days left until it (0 on the day itself), or, once
// past it, working days late (the office's count) and calendar days late.
struct Lateness {
  bool late = false;
  int working_days = 0, days = 0;
};

Lateness lateness(const Calendar& calendar, Date due, Date day) {
  if (day <= due) return {false, calendar.working_days_between(day, due), 0};
  return {true, calendar.working_days_between(due, day), day.days_since(due)};
}

// How late an entry of `overdue` is on `as_of`, due on `due`: late_working_days, late_days
// and late_since (the first day it was late, the day after its due date).
wire::Json late_fields(const Calendar& calendar, const std::string& due, Date as_of) {
  auto date = Date::parse(due);
  if (!date) return wire::Json::object();
  Lateness late = lateness(calendar, *date, as_of);
  return {{"late_working_days", late.working_days},
          {"late_days", late.days},
          {"late_since", date->plus_days(1).str()}};
}

struct Todo {
  std::string what, due;
};

// What `code` must do next about `item`, the most urgent first; none if nothing.
std::optional<Todo> todo_of(const Item& item, const std::string& code, const QueryEnv& env) {
  if (item.stage == Stage::kWithdrawn) return std::nullopt;  // its promise and milestones too
  const Calendar& cal = *env.calendar;
  const Rules& rules = env.config.rules;
  Date assigned = Date::parse(item.assigned_on).value_or(Date());
  std::vector<Todo> todos;
  bool lead = item.department == code;
  if (item.stage == Stage::kAssigned && lead) {
    if (item.signed_at.empty())
      todos.push_back({NC_("todo", "sign"), cal.add_working_days(assigned, rules.sign_working_days).date.str()});
    todos.push_back({item.evaluation.result == "unsatisfied" ? NC_("todo", "rework") : NC_("todo", "answer"),
                     item.due});
  }
  if (item.stage == Stage::kAssigned && item.is_co(code) && !item.opinion_of(code))
    todos.push_back({NC_("todo", "opinion"), cal.add_months(assigned, rules.opinion_months).date.str()});
  if (lead && item.stage != Stage::kAssigned && item.promise.open())
    todos.push_back({NC_("todo", "promise"), item.promise.date});
  if (lead && item.stage != Stage::kSubmitted) {
    for (const Milestone& m : item.milestones) {
      if (!m.reached_at.empty()) continue;
      todos.push_back({NC_("todo", "milestone"), m.date});
      break;
    }
  }
  if (todos.empty()) return std::nullopt;
  return *std::min_element(todos.begin(), todos.end(),
                           [](const Todo& a, const Todo& b) { return a.due < b.due; });
}

// Entries sorted by a date, then id, returned whole (lists of one department or of the
// late: hundreds, not millions).
struct Dated {
  std::string date, id, record;
};

std::string dated_reply(std::vector<Dated> entries, size_t reply_bytes) {
  std::sort(entries.begin(), entries.end(), [](const Dated& a, const Dated& b) {
    return std::tie(a.date, a.id) < std::tie(b.date, b.id);
  });
  Page page(reply_bytes, kMaxLimit);
  for (const Dated& e : entries)
    if (!page.add(e.record)) break;
  return page.reply("items");
}

// The ids under a history index (index/<name>/<day>/<id>) dated `from` to `until`
// inclusive, each once.
std::set<std::string> dated_ids(const Reader& db, const char* name, const std::string& until,
                                const std::string& from = "") {
  std::set<std::string> ids;
  std::string prefix = keys::index_all(name);
  db.scan(prefix, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.substr(0, 10) > until) return false;
    ids.emplace(rest.substr(rest.find('/') + 1));
    return true;
  }, prefix + from);
  return ids;
}

Error unknown_department(const std::string& code) {
  return Error::of(errc::kInvalid, N_("unknown department '{department}'"),
                   {{"department", code}}, "department");
}

}  // namespace

Result<std::string> inbox(const Reader& db, const QueryEnv& env, const wire::Json& f) {
  std::string code = text(f, "department");
  if (!env.config.find_department(code)) return unknown_department(code);
  std::set<std::string> ids;
  for (const char* index : {"department", "co"})
    scan_index(db, index, code, "", [&](const std::string& id) { return ids.insert(id), true; });
  Date today = env.clock.today();
  std::vector<Dated> entries;
  for (const std::string& id : ids) {
    auto stored = db.get(keys::item(id));
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (!item || !visible(env, *item)) continue;
    auto todo = todo_of(*item, code, env);
    if (!todo) continue;
    wire::Json extra = {{"todo", todo->what}, {"todo_due", todo->due}};
    if (auto due = Date::parse(todo->due)) {
      Lateness late = lateness(*env.calendar, *due, today);
      extra["todo_days_left"] = late.late ? -late.working_days : late.working_days;
      extra["todo_late"] = late.late;
    }
    entries.push_back({todo->due, id, item_with(*item, extra)});
  }
  return dated_reply(std::move(entries), env.reply_bytes);
}

namespace {

// Items waiting for the office to assign them longer than rules.assign_working_days on
// `as_of` (the office's own lateness): each with late "assignment" and assign_by.
void late_assignments(const Reader& db, const QueryEnv& env, Date as_of, bool today,
                      std::vector<Dated>& entries) {
  std::set<std::string> ids;  // today: those waiting now; a past day: all submitted by then
  if (today)
    scan_index(db, "stage", "submitted", "", [&](const std::string& id) { return ids.insert(id), true; });
  else
    ids = dated_ids(db, "submitted", as_of.str());
  DayOf day = day_of(env.clock);
  for (const std::string& id : ids) {
    Standing s = standing_as_of(trail_of(db, id), as_of, day);
    if (!s.exists || s.stage != Stage::kSubmitted) continue;
    std::string assign_by =
        env.calendar->add_working_days(*Date::parse(s.waiting_since), env.config.rules.assign_working_days)
            .date.str();
    if (assign_by >= as_of.str()) continue;
    auto stored = db.get(keys::item(id));
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (item && visible(env, *item)) {
      wire::Json extra = late_fields(*env.calendar, assign_by, as_of);
      extra.update({{"overdue_on", as_of.str()}, {"late", "assignment"}, {"assign_by", assign_by}});
      entries.push_back({assign_by, id, item_with(*item, extra)});
    }
  }
}

}  // namespace

Result<std::string> overdue(const Reader& db, const QueryEnv& env, const wire::Json& f) {
  Date today = env.clock.today();
  Date as_of = f.contains("as-of") ? *Date::parse(text(f, "as-of")) : today;
  std::string only = text(f, "department");
  std::vector<Dated> entries;
  if (only.empty()) late_assignments(db, env, as_of, as_of >= today, entries);
  if (as_of >= today) {  // today's records answer it
    db.scan(keys::index_all("due"), [&](std::string_view key, std::string_view) {
      std::string rest(key.substr(keys::index_all("due").size()));
      std::string due = rest.substr(0, rest.find('/')), id = rest.substr(rest.find('/') + 1);
      if (due >= as_of.str()) return false;
      auto stored = db.get(keys::item(id));
      auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
      if (item && (only.empty() || item->department == only) && visible(env, *item)) {
        wire::Json extra = late_fields(*env.calendar, due, as_of);
        extra.update({{"overdue_on", as_of.str()}, {"late", "reply"}});
        entries.push_back({due, id, item_with(*item, extra)});
      }
      return true;
    });
    return dated_reply(std::move(entries), env.reply_bytes);
  }
  // A past day: each trail as it stood then (later events do not count).
  std::set<std::string> ids = dated_ids(db, "assigned", as_of.str());
  DayOf day = day_of(env.clock);
  for (const std::string& id : ids) {
    Standing s = standing_as_of(trail_of(db, id), as_of, day);
    if (!overdue_on(s, as_of) || (!only.empty() && s.department != only)) continue;
    auto stored = db.get(keys::item(id));
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (!item || !visible(env, *item)) continue;
    wire::Json extra = late_fields(*env.calendar, s.due, as_of);
    extra.update({{"overdue_on", as_of.str()},
                  {"late", "reply"},
                  {"then", {{"stage", to_string(s.stage)}, {"department", s.department}, {"due", s.due}}}});
    entries.push_back({s.due, id, item_with(*item, extra)});
  }
  return dated_reply(std::move(entries), env.reply_bytes);
}

namespace {

// Why an escalated item is on the supervisors' list, from its trail: escalated (on the
// day of the escalation of its present due date), urged (how often, the last time), and
// late (the reply's working days past due, while it is still awaited).
wire::Json attention_reasons(const Item& item, const std::vector<Event>& trail,
                             const QueryEnv& env) {
  DayOf day = day_of(env.clock);
  std::string escalated_on, urged_on;
  uint64_t urges = 0;
  for (const Event& e : trail) {
    if (e.action == "escalate") escalated_on = day(e).str();
    if (e.action == "urge") ++urges, urged_on = day(e).str();
  }
  wire::Json reasons = wire::Json::array();
  reasons.push_back({{"code", "escalated"}, {"on", escalated_on}, {"due", item.escalated_for}});
  if (urges > 0) reasons.push_back({{"code", "urged"}, {"count", urges}, {"last_on", urged_on}});
  auto due = Date::parse(item.due);
  Date today = env.clock.today();
  if (item.stage == Stage::kAssigned && due && *due < today)
    reasons.push_back({{"code", "late"},
                       {"due", item.due},
                       {"working_days", env.calendar->working_days_between(*due, today)}});
  return reasons;
}

}  // namespace

Result<std::string> attention(const Reader& db, const QueryEnv& env, const wire::Json&) {
  std::vector<Dated> entries;
  scan_index(db, "attention", "escalated", "", [&](const std::string& id) {
    auto stored = db.get(keys::item(id));
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (item && visible(env, *item))
      entries.push_back({item->due, id,
                         item_with(*item, {{"reasons", attention_reasons(*item, trail_of(db, id), env)}})});
    return true;
  });
  return dated_reply(std::move(entries), env.reply_bytes);
}

namespace {

// The counts are everyone's; the items behind them only those the actor may read.
void hide_unreachable(const Reader& db, const QueryEnv& env, std::map<std::string, Score>& scores) {
  std::map<std::string, bool> seen;
  auto reachable = [&](const std::string& id) {
    auto [at, fresh] = seen.try_emplace(id, false);
    if (fresh) {
      auto stored = db.get(keys::item(id));
      auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
      at->second = item && security::reaches(env.actor, "show", rights_facts(*item));
    }
    return at->second;
  };
  for (auto& [department, score] : scores)
    for (auto& [column, ids] : score.ids)
      std::erase_if(ids, [&](const std::string& id) { return !reachable(id); });
}

}  // namespace

Result<std::string> scoreboard(const Reader& db, const QueryEnv& env, const wire::Json& f) {
  ScorePeriod period{*Date::parse(text(f, "from")), *Date::parse(text(f, "to")),
                     f.contains("as-of") ? *Date::parse(text(f, "as-of")) : env.clock.today()};
  if (period.to < period.from)
    return Error::of(errc::kInvalid, N_("{field} is before {field:from}"), {}, "to");
  std::string only = text(f, "department");
  if (!only.empty() && !env.config.find_department(only)) return unknown_department(only);
  std::set<std::string> ids = dated_ids(db, "assigned", period.to.str(), period.from.str());
  std::map<std::string, Score> scores;
  DayOf day = day_of(env.clock);
  for (const std::string& id : ids)
    score_trail(trail_of(db, id), period, *env.calendar, env.config.rules, day, scores);
  if (f.contains("items")) hide_unreachable(db, env, scores);
  return wire::encode_json(scoreboard_json(scores, period, env.config, only, f.contains("items")));
}

Result<std::string> reads(const Reader& db, const QueryEnv& env, const wire::Json& f) {
  uint64_t after = f.value("after", uint64_t{0});
  Page page(env.reply_bytes, std::min(f.value("limit", kDefaultLimit), kMaxLimit));
  std::string from = text(f, "from"), to = text(f, "to"), actor = text(f, "actor"),
              item = text(f, "item");
  db.scan(keys::kReadPrefix, [&](std::string_view, std::string_view value) {
    auto decoded = wire::decode(value.data(), value.size());
    if (!decoded) return true;
    wire::Json read = wire::to_json(decoded->get());
    std::string day = env.clock.local_date(read.value("at", "")).str();
    if ((!from.empty() && day < from) || (!to.empty() && day > to)) return true;
    if (!actor.empty() && read.value("actor", "") != actor) return true;
    if (!item.empty() && read.value("item", "") != item) return true;
    return page.add(value);
  }, keys::read(after + 1));
  return page.reply("reads");
}

Result<std::string> due_scan(const Reader& db, const QueryEnv& env, const wire::Json&) {
  Date today = env.clock.today();
  const Calendar& cal = *env.calendar;
  const Rules& rules = env.config.rules;
  wire::Json actions = wire::Json::array();
  std::string prefix = keys::index_all("due");
  db.scan(prefix, [&](std::string_view key, std::string_view) {
    std::string rest(key.substr(prefix.size()));
    std::string id = rest.substr(rest.find('/') + 1);
    auto stored = db.get(keys::item(id));
    auto item = stored ? decode_item(*stored) : Result<Item>(Error{});
    if (!item) return true;
    Date due = Date::parse(item->due).value_or(today);
    std::string action;
    if (today > due) {
      if (item->overdue_for != item->due) action = "overdue";
      else if (item->escalated_for != item->due &&
               cal.working_days_between(due, today) >= rules.escalate_working_days)
        action = "escalate";
    } else if (cal.working_days_between(today, due) > rules.remind_working_days) {
      return false;  // due dates further on are further from every mark
    } else if (item->reminded_for != item->due) {
      action = "remind";
    }
    if (!action.empty())
      actions.push_back({{"item", id}, {"stage", to_string(item->stage)}, {"action", action},
                         {"due", item->due}});
    return actions.size() < kMaxTimerActions;
  });
  return wire::encode_json({{"actions", std::move(actions)}});
}

Result<std::string> provisional(const Reader& db, const QueryEnv& env, const wire::Json&) {
  wire::Json items = wire::Json::array();
  scan_index(db, "provisional", "due", "", [&](const std::string& id) {
    items.push_back({{"item", id}, {"stage", "assigned"}});
    return items.size() < kMaxTimerActions;
  });
  return wire::encode_json({{"items", std::move(items)}});
}

Result<std::string> import_open(const Reader& db, const QueryEnv& env, const wire::Json& fields) {
  constexpr size_t kPerPair = 3;
  const wire::Json pairs = fields.value("pairs", wire::Json::array());
  if (!pairs.is_array() || pairs.size() > kMaxImportPairs)
    return Error{errc::kBadRequest,
                 "import.open: pairs must be a list of at most " + std::to_string(kMaxImportPairs)};
  wire::Json items = wire::Json::array();
  size_t bytes = 0;
  std::set<std::string> asked;
  for (const wire::Json& pair : pairs) {
    bool texts = pair.is_object() && pair.value("department", wire::Json()).is_string() &&
                 pair.value("title", wire::Json()).is_string();
    if (!texts) return Error{errc::kBadRequest, "import.open: a pair is {department, title}"};
    std::string department = text(pair, "department"), title = text(pair, "title");
    std::string digest = title_digest(department, title);
    if (!asked.insert(digest).second) continue;
    size_t found = 0;
    db.scan(keys::index_prefix("title", digest), [&](std::string_view key, std::string_view) {
      std::string id(key.substr(key.rfind('/') + 1));
      auto stored = db.get(keys::item(id));
      std::optional<Indexed> item = stored ? indexed(*stored) : std::nullopt;
      if (!item || ended(item->stage) || item->title != title ||
          item->department != department)
        return true;
      items.push_back({{"department", department}, {"title", title}, {"id", id}});
      bytes += department.size() + title.size() + id.size() + 32;
      return ++found < kPerPair;
    });
    if (bytes > env.reply_bytes / 2) break;  // enough to warn of: the reply stays small
  }
  return wire::encode_json({{"items", std::move(items)}});
}

namespace {

// The items not ended (closed or withdrawn) that have `code` as lead or co-department: a
// count and a few ids.
void open_items_of(const Reader& db, const std::string& code, size_t* count,
                   std::vector<std::string>* some) {
  std::set<std::string> counted;
  for (const char* index : {"department", "co"}) {
    db.scan(keys::index_prefix(index, code), [&](std::string_view key, std::string_view) {
      std::string id(key.substr(key.rfind('/') + 1));
      auto stored = db.get(keys::item(id));
      std::optional<Indexed> item = stored ? indexed(*stored) : std::nullopt;
      if (!item || ended(item->stage) || !counted.insert(id).second) return true;
      ++*count;
      if (some->size() < 3) some->push_back(id);
      return true;
    });
  }
}

}  // namespace

Status may_drop(const Reader& db, const std::vector<std::string>& codes) {
  for (const std::string& code : codes) {
    size_t count = 0;
    std::vector<std::string> some;
    open_items_of(db, code, &count, &some);
    if (count == 0) continue;
    std::string ids;
    for (const auto& id : some) ids += (ids.empty() ? "" : ", ") + id;
    if (count > some.size()) ids += ", …";
    return Error::of(errc::kRefused,
                     N_("department '{department}' is dropped from the file, but {count} item(s) "
                        "still open there ({items}) have it as lead or co-department: keep it "
                        "until they are closed or withdrawn, or reassign them to another "
                        "department"),
                     {{"department", code}, {"count", std::to_string(count)}, {"items", ids}});
  }
  return ok_status();
}

}  // namespace closeloop::ledger
