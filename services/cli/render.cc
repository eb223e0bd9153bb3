#include "render.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "base/text.h"
#include "calendar/clock.h"
#include "i18n/words.h"
#include "terminal.h"
#include "workflow/view.h"
#include "workflow/deadline.h"

namespace closeloop::cli {

using wire::Json;

namespace {

// A word in the reader's language (xgettext knows `_` as a keyword).
std::string _(std::string_view msgid) { return std::string(i18n::_(msgid)); }

// The config's departments, code -> name (set_department_names(), once per run).
std::map<std::string, std::string, std::less<>>& department_names() {
  static std::map<std::string, std::string, std::less<>> names;
  return names;
}

// A code in its vocabulary, by its name in the CLI's language.
std::string named(std::string_view vocabulary, std::string_view code) {
  return std::string(i18n::name_of(i18n::language(), vocabulary, code));
}

// A table's header row: each column by its name (msgctxt "column") in the CLI's language.
std::vector<std::string> header(std::initializer_list<const char*> columns) {
  std::vector<std::string> row;
  for (const char* column : columns) row.push_back(column_header(column));
  return row;
}

std::string say(std::string_view msgid, const MessageArgs& args) {
  return i18n::say(i18n::language(), msgid, args);
}

// A field as text: strings as they are, other values as JSON, absent or null as "".
std::string text(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : wire::dump(*it);
}

// Terminal columns taken by UTF-8 text: 2 for East Asian wide characters, else 1.
size_t display_width(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    CodePoint decoded = utf8_decode_at(s, i);
    uint32_t cp = decoded.value;
    size_t len = decoded.length == 0 ? 1 : decoded.length;  // a stray byte: one column
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

// Prints rows as columns two spaces apart; the last column is not padded. A cell is one
// line: its newlines are shown escaped, like every control character.
void print_table(std::vector<std::vector<std::string>> rows) {
  for (auto& row : rows)
    for (auto& cell : row) cell = for_terminal(cell, /*keep_newlines=*/false);
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]) + 2, ' ');
    }
    std::fputs((line + "\n").c_str(), stdout);  // cells already escaped
  }
}

std::string or_dash(std::string s) { return s.empty() ? "-" : s; }

// A stored time (UTC) as the wall clock of the office showed it: "2026-12-07 11:25 +08:00".
std::string when(const Json& object, const char* key) {
  std::string at = text(object, key);
  return at.empty() ? at : local_time_text(at);
}

std::string joined(const Json& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : wire::dump(v));
  return out;
}

}  // namespace

namespace {

// Codes shown by name whose vocabularies the declarations do not hold (for xgettext).
[[maybe_unused]] constexpr const char* kNamedCodes[] = {
    NC_("extension", "pending"), NC_("extension", "approved"), NC_("extension", "refused"),
    NC_("extension", "lapsed"),
    // the timer's events, whose actions are not the verbs a person gives
    NC_("action", "remind"), NC_("action", "overdue"), NC_("action", "escalate"),
    NC_("action", "redue")};

// "2026-12-20 (promised)" or with its keeping; "" without a promise.
std::string promise_text(const Json& promise) {
  if (text(promise, "date").empty()) return "";
  return text(promise, "date") + " " +
         (text(promise, "kept_at").empty()
              ? _("(open)")
              : i18n::say(i18n::language(), N_("(kept {at})"), {{"at", when(promise, "kept_at")}}));
}

void add_reply(const Json& item, std::vector<std::vector<std::string>>& rows) {
  const Json& reply = item.value("reply", Json::object());
  if (text(reply, "text").empty()) return;
  std::string by = text(reply, "by") + ", " + when(reply, "at");
  if (!text(reply, "occurred_on").empty()) by += " (" + text(reply, "occurred_on") + ")";
  rows.push_back({_("reply"), named("outcome", text(reply, "outcome")) + "  " + by});
  rows.push_back({"", text(reply, "text")});
}

void add_evaluation(const Json& item, std::vector<std::vector<std::string>>& rows) {
  const Json& e = item.value("evaluation", Json::object());
  if (text(e, "result").empty()) return;
  rows.push_back({_("evaluation"),
                  i18n::say(i18n::language(), N_("attitude {attitude}, result {result}, {at}"),
                            {{"attitude", named("attitude", text(e, "attitude"))},
                             {"result", named("result", text(e, "result"))},
                             {"at", when(e, "at")}})});
  if (!text(e, "comment").empty()) rows.push_back({"", text(e, "comment")});
}

void add_original_dates(const Json& item, std::vector<std::vector<std::string>>& rows) {
  std::vector<std::pair<std::string, std::string>> days;  // (day, action), in the order they came
  const Json dates = item.value("original_dates", Json::object());  // named: items() needs it alive
  for (const auto& [action, day] : dates.items())
    days.emplace_back(day.is_string() ? day.get<std::string>() : wire::dump(day), action);
  std::sort(days.begin(), days.end());
  std::string line;
  for (const auto& [day, action] : days)
    line += (line.empty() ? "" : ", ") + named("verb", action) + " " + day;
  if (!line.empty()) rows.push_back({_("original dates"), line});
}

}  // namespace

void set_department_names(std::map<std::string, std::string, std::less<>> names) {
  department_names() = std::move(names);
}

std::string department_shown(std::string_view code) {
  if (code.empty()) return "-";
  auto it = department_names().find(code);
  return it == department_names().end() ? std::string(code) : it->second + " " + std::string(code);
}

std::string column_header(std::string_view key) { return named("column", key); }

void print_item(const Json& item) {
  std::string department = department_shown(text(item, "department"));
  if (auto co = item.find("co_departments"); co != item.end() && co->is_array() && !co->empty()) {
    std::string names;
    for (const Json& code : *co)
      names += (names.empty() ? "" : ", ") + department_shown(code.is_string() ? code.get<std::string>() : "");
    department += " (+ " + names + ")";
  }
  std::string due = or_dash(text(item, "due"));
  if (auto basis = item.find("due_basis"); basis != item.end() && !text(*basis, "rule").empty())
    due += "  " + say_basis(i18n::language(), read_basis(*basis));  // workflow/deadline.h
  std::vector<std::vector<std::string>> rows{{_("id"), text(item, "id")},
                                             {_("stage"), named("stage", text(item, "stage"))},
                                             {_("kind"), or_dash(named("kind", text(item, "kind")))},
                                             {_("title"), text(item, "title")},
                                             {_("department"), department},
                                             {_("due"), due}};
  if (item.value("overdue", false))
    rows.push_back({_("overdue"), item.value("escalated", false) ? _("yes, escalated") : _("yes")});
  if (!text(item, "todo").empty())
    rows.push_back({_("todo"), named("todo", text(item, "todo")) + " " + text(item, "todo_due")});
  if (!text(item, "ref").empty()) rows.push_back({_("ref"), text(item, "ref")});
  if (!text(item, "signed_at").empty()) rows.push_back({_("signed"), when(item, "signed_at")});
  if (!text(item, "replied_at").empty()) rows.push_back({_("replied"), when(item, "replied_at")});
  add_reply(item, rows);
  if (!text(item, "outcome").empty() && !item.contains("reply"))
    rows.push_back({_("outcome"), named("outcome", text(item, "outcome"))});
  if (std::string promise = promise_text(item.value("promise", Json::object())); !promise.empty())
    rows.push_back({_("promise"), promise});
  for (const auto& o : item.value("opinions", Json::array())) {
    std::string said = o.value("waived", false)
                           ? i18n::say(i18n::language(), N_("waived: {reason}"),
                                       {{"reason", text(o, "reason")}})
                           : text(o, "text");
    rows.push_back({_("opinion"), department_shown(text(o, "department")) + ", " + when(o, "at") + ": " + said});
  }
  for (const auto& e : item.value("extensions", Json::array()))
    rows.push_back({_("extension"),
                    i18n::say(i18n::language(), N_("until {until}, {state}: {reason}"),
                              {{"until", text(e, "until")},
                               {"state", named("extension", text(e, "state"))},
                               {"reason", text(e, "reason")}}) +
                        (text(e, "comment").empty() ? "" : " (" + text(e, "comment") + ")")});
  add_evaluation(item, rows);
  int n = 0;
  for (const auto& m : item.value("milestones", Json::array()))
    rows.push_back({_("milestone") + " " + std::to_string(++n),
                    text(m, "date") + " " + text(m, "text") +
                        (text(m, "reached_at").empty()
                             ? ""
                             : " " + i18n::say(i18n::language(), N_("(reached {at})"),
                                               {{"at", when(m, "reached_at")}}))});
  if (auto w = item.find("withdrawal"); w != item.end() && !text(*w, "at").empty()) {
    std::string duplicate = text(*w, "duplicate_of");
    rows.push_back(
        {_("withdrawn"),
         when(*w, "at") + ": " + text(*w, "reason") +
             (duplicate.empty() ? ""
                                : " " + i18n::say(i18n::language(), N_("(a duplicate of {item})"),
                                                  {{"item", duplicate}}))});
  }
  add_original_dates(item, rows);
  rows.push_back({_("returns/rework/reopen"), text(item, "returns") + "/" +
                                                  text(item, "rework_count") + "/" +
                                                  text(item, "reopen_count")});
  rows.push_back({_("updated"), when(item, "updated_at")});
  print_table(rows);
  if (std::string body = text(item, "body"); !body.empty()) print_line("\n" + body);
}

namespace {

// An event's substance in one line: what was said, or what was decided.
std::string substance(const Json& e) {
  const Json& p = e.value("payload", Json::object());
  std::string action = text(e, "action"), said = first_words(said_in(p), 40);
  std::string decided;
  if (action == "handle") decided = named("outcome", text(p, "outcome"));
  if (action == "verify")
    decided = named("attitude", text(p, "attitude")) + "/" + named("result", text(p, "result"));
  if (!text(p, "due").empty() && action != "handle") decided = _("due") + " " + text(p, "due");
  if (decided.empty() || said.empty()) return decided + said;
  return say(N_("{decided}: {said}"), {{"decided", decided}, {"said", said}});
}

// An event's action by its name: the timer's by their own ("overdue": marked overdue, not
// the overdue list), the others as the verbs they are.
std::string action_name(const std::string& action) {
  for (const char* timer : {"remind", "overdue", "escalate", "redue"})
    if (action == timer) return named("action", action);
  return named("verb", action);
}

// The recording time, and the original date where imported history gives another.
std::string event_time(const Json& e) {
  std::string at = when(e, "at");
  std::string original = text(e.value("payload", Json::object()), "occurred_on");
  if (original.empty() || at.starts_with(original)) return at;
  return original + " (" + _("recorded") + " " + at + ")";
}

}  // namespace

void print_trail(const Json& events) {
  std::vector<std::vector<std::string>> rows{
      {_("seq"), _("time"), _("stage"), _("action"), _("by"), _("department"), _("what")}};
  for (const auto& e : events)
    rows.push_back({text(e, "seq"), event_time(e), named("stage", text(e, "stage")),
                    action_name(text(e, "action")), text(e, "actor"),
                    or_dash(text(e, "department")), substance(e)});
  print_table(rows);
}

namespace {

// An inbox entry's working days left, or "-N (late)" once its day has passed.
std::string days_left(const Json& item) {
  if (!item.contains("todo_days_left")) return "-";
  std::string days = text(item, "todo_days_left");
  return item.value("todo_late", false) ? say(N_("{days} (late)"), {{"days", days}}) : days;
}

// Why an item is on the attention list, in words: "escalated on 2026-03-10; urged 2 times…".
std::string reasons_text(const Json& reasons) {
  std::string out;
  for (const Json& r : reasons) {
    std::string code = text(r, "code"), said;
    if (code == "escalated")
      said = say(N_("escalated on {date}"), {{"date", or_dash(text(r, "on"))}});
    else if (code == "urged")
      said = say(N_("urged {count} times, last on {date}"),
                 {{"count", text(r, "count")}, {"date", text(r, "last_on")}});
    else if (code == "late")
      said = say(N_("{days} working days late"), {{"days", text(r, "working_days")}});
    else
      said = code;
    out += (out.empty() ? "" : std::string(_("; "))) + said;
  }
  return or_dash(out);
}

// A list of codes by their names in `vocabulary`, comma-separated.
std::string named_list(const Json& codes, std::string_view vocabulary) {
  std::string out;
  for (const auto& c : codes)
    out += (out.empty() ? "" : ",") + named(vocabulary, c.is_string() ? c.get<std::string>() : "");
  return out;
}

}  // namespace

void ListPrinter::add(const Json& item) {
  if (json_) {
    print(count_ == 0 ? "[" : ",");
    std::fputs(json_for_terminal(item).c_str(), stdout);
  } else if (type_ == "inbox") {  // what to do next, by when, and how many working days remain
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "to do"), NC_("column", "by"),
                              NC_("column", "working days left"), NC_("column", "id"),
                              NC_("column", "stage"), NC_("column", "title")}));
    rows_.push_back({named("todo", text(item, "todo")), text(item, "todo_due"), days_left(item),
                     text(item, "id"), named("stage", text(item, "stage")), text(item, "title")});
  } else if (type_ == "reads") {  // the read audit: what was read, and for which command
    if (count_ == 0) {  // "result" of a read (its own context: an export's is an evaluation's)
      rows_.push_back(header({NC_("column", "seq"), NC_("column", "at"), NC_("column", "actor"),
                              NC_("column", "verb")}));
      rows_.back().push_back(named("read", NC_("read", "result")));
      rows_.back().push_back(column_header(NC_("column", "read")));
    }
    std::string result = item.value("result", std::string("ok"));
    std::string what = item.contains("item") ? text(item, "item") : text(item, "query");
    if (item.contains("after")) what += "  after " + text(item, "after");
    if (!text(item, "via").empty()) what += "  (" + text(item, "via") + ")";
    std::string actor = text(item, "actor");
    if (!text(item, "gateway").empty()) actor += " via " + text(item, "gateway");
    rows_.push_back({text(item, "seq"), when(item, "at"), actor, text(item, "verb"),
                     result == "ok" ? std::string(_("ok")) : say(N_("REFUSED: {result}"), {{"result", result}}),
                     what});
  } else if (type_ == "accounts") {
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "name"), NC_("column", "roles"),
                              NC_("column", "department or station"), NC_("column", "state"),
                              NC_("column", "key")}));
    std::string bound = !text(item, "department").empty() ? department_shown(text(item, "department"))
                                                          : text(item, "station");
    if (item.value("gateway", false)) {  // a gateway's scope: whom it may act for
      std::string scope = named_list(item.value("acts_for", Json::array()), "role");
      bound = scope.empty() ? std::string(_("a gateway for nobody"))
                            : say(N_("a gateway for {roles}"), {{"roles", scope}});
    }
    rows_.push_back({text(item, "name"), named_list(item.value("roles", Json::array()), "role"),
                     or_dash(bound),
                     std::string(item.value("disabled", false) ? _("disabled") : _("enabled")),
                     text(item, "key")});
  } else if (type_ == "account changes") {
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "seq"), NC_("column", "at"), NC_("column", "actor"),
                              NC_("column", "verb"), NC_("column", "account"),
                              NC_("column", "key")}));
    const Json& account = item.value("account", Json::object());
    rows_.push_back({text(item, "seq"), when(item, "at"), text(item, "actor"),
                     named("verb", text(item, "verb")), text(account, "name"),
                     account.value("disabled", false) ? std::string(_("disabled")) : text(account, "key")});
  } else if (type_ == "incidents") {
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "id"), NC_("column", "state"), NC_("column", "at"),
                              NC_("column", "item"), NC_("column", "reason")}));
    rows_.push_back({text(item, "id"), text(item, "state"), when(item, "at"),
                     or_dash(text(item, "item")), text(item, "reason")});
  } else if (type_ == "overdue") {  // late replies by due date; the office's late assignments
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "id"), NC_("column", "stage"),
                              NC_("column", "department"), NC_("column", "due"),
                              NC_("column", "working days late"), NC_("column", "days late"),
                              NC_("column", "late since"), NC_("column", "title")}));
    bool assignment = text(item, "late") == "assignment";
    rows_.push_back({text(item, "id"),
                     assignment ? std::string(_("to assign")) : named("stage", text(item, "stage")),
                     department_shown(text(item, "department")),
                     assignment ? text(item, "assign_by") : text(item, "due"),
                     or_dash(text(item, "late_working_days")), or_dash(text(item, "late_days")),
                     or_dash(text(item, "late_since")), text(item, "title")});
  } else if (type_ == "attention") {  // escalated items, and why each is there
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "id"), NC_("column", "stage"),
                              NC_("column", "department"), NC_("column", "due"),
                              NC_("column", "why"), NC_("column", "title")}));
    rows_.push_back({text(item, "id"), named("stage", text(item, "stage")),
                     department_shown(text(item, "department")), or_dash(text(item, "due")),
                     reasons_text(item.value("reasons", Json::array())), text(item, "title")});
  } else {
    if (count_ == 0)
      rows_.push_back(header({NC_("column", "id"), NC_("column", "stage"),
                              NC_("column", "department"), NC_("column", "due"),
                              NC_("column", "title")}));
    rows_.push_back({text(item, "id"), named("stage", text(item, "stage")),
                     department_shown(text(item, "department")), or_dash(text(item, "due")),
                     text(item, "title")});
  }
  ++count_;
}

void ListPrinter::flush() {
  if (!json_) print_table(rows_);
  rows_.clear();
  std::fflush(stdout);
}

void ListPrinter::finish() {
  flush();
  if (json_) print_line(count_ == 0 ? "[]" : "]");
  else if (count_ == 0)
    print_line(std::string(type_ == "reads"                                       ? _("(no reads)")
                           : type_.starts_with("account") || type_ == "incidents" ? _("(none)")
                                                                                  : _("(no items)")));
}

namespace {

// The scoreboard's columns: its JSON key and the table's header, which says what it counts.
struct ScoreColumn {
  const char* key;
  const char* header;
};
constexpr ScoreColumn kScoreTable[] = {
    {"received", NC_("column", "received")},
    {"signed_on_time", NC_("column", "signed on time")},
    {"replied", NC_("column", "replied")},
    {"replied_on_time", NC_("column", "replied on time")},
    {"returned", NC_("column", "returned")},
    {"reworked", NC_("column", "reworked")},
    {"evaluated", NC_("column", "evaluated")},
    {"satisfied", NC_("column", "satisfied")},
    {"basically_satisfied", NC_("column", "basically satisfied")},
    {"unsatisfied", NC_("column", "unsatisfied")},
    {"satisfaction_rate", NC_("column", "satisfaction rate")},
    {"open_promises", NC_("column", "open promises")},
    {"overdue_now", NC_("column", "overdue now")},
    {"reassigned", NC_("column", "reassigned")},
    {"withdrawn", NC_("column", "withdrawn")},
};

std::string board_department(const Json& d) {
  std::string name = text(d, "name"), code = text(d, "department");
  return name.empty() ? department_shown(code) : name + " " + code;
}

// With --items: under the table, each department's ids behind each count.
void print_score_items(const Json& departments) {
  for (const auto& d : departments) {
    const Json& items = d.value("items", Json::object());
    std::vector<std::vector<std::string>> rows;
    for (const ScoreColumn& c : kScoreTable) {
      const Json& ids = items.value(c.key, Json::array());
      if (!ids.empty()) rows.push_back({"  " + column_header(c.header), joined(ids)});
    }
    if (rows.empty()) continue;
    print_line("\n" + board_department(d));
    print_table(rows);
  }
}

}  // namespace

void print_scoreboard(const Json& board) {
  print_line(say(N_("assignments {from} .. {to}, as of {as_of}"),
                 {{"from", text(board, "from")}, {"to", text(board, "to")},
                  {"as_of", text(board, "as_of")}}));
  std::vector<std::vector<std::string>> rows{{column_header(NC_("column", "department"))}};
  for (const ScoreColumn& c : kScoreTable) rows[0].push_back(column_header(c.header));
  const Json& departments = board.value("departments", Json::array());
  for (const auto& d : departments) {
    if (d.value("received", 0) == 0 && d.value("withdrawn", 0) == 0) continue;
    std::vector<std::string> row{board_department(d)};
    for (const ScoreColumn& c : kScoreTable) row.push_back(or_dash(text(d, c.key)));
    rows.push_back(std::move(row));
  }
  print_table(rows);
  print_score_items(departments);
}

void print_ping(const Json& body) {
  auto services = body.find("services");
  if (services == body.end() || !services->is_array() || services->empty()) {
    print_line("no live workers");
    return;
  }
  for (const auto& s : *services)
    print_line(s.is_string() ? s.get<std::string>() : wire::dump(s));
}

namespace {

std::string bytes_text(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(units); ++u) v /= 1024;
  char out[32];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return out;
}

// "ledger 0, handle 3 (oldest 1.2 s)": each destination's entries, and the oldest's age.
std::string outbox_text(const Json& outbox) {
  std::string out;
  for (const auto& o : outbox) {
    out += (out.empty() ? "" : ", ") + text(o, "to") + " " + text(o, "entries");
    if (o.value("entries", 0) > 0) {
      char age[32];
      std::snprintf(age, sizeof age, " (oldest %.1f s)", o.value("oldest_age_ms", 0) / 1000.0);
      out += age;
    }
  }
  return or_dash(out);
}

}  // namespace

void print_status(const Json& body) {
  std::vector<std::vector<std::string>> rows{
      header({NC_("column", "worker"), NC_("column", "up"), NC_("column", "pid"),
              NC_("column", "up since"), NC_("column", "restarts"), NC_("column", "msgs in"),
              NC_("column", "msgs out"), NC_("column", "outbox"), NC_("column", "last commit"),
              NC_("column", "disk")})};
  const std::string up(_("up")), down(_("DOWN"));
  const Json& broker = body.value("broker", Json::object());
  if (!broker.empty())  // its own row: the figures of a worker's store are not its
    rows.push_back({"broker", up, text(broker, "pid"), or_dash(when(broker, "up_since")),
                    or_dash(text(broker, "restarts")), "-", "-", "-", "-", "-"});
  for (const auto& w : body.value("workers", Json::array())) {
    const Json& commit = w.value("last_commit", Json::object());
    std::string last = "-";  // nothing committed yet
    if (commit.value("size", 0) > 0 || commit.value("fsync_ms", 0.0) > 0) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.2f", commit.value("fsync_ms", 0.0));
      last = say(N_("{records} records, fsync {ms} ms"), {{"records", text(commit, "size")}, {"ms", ms}});
    }
    rows.push_back({text(w, "name"), w.value("up", false) ? up : down, text(w, "pid"),
                    or_dash(when(w, "up_since")), text(w, "restarts"), text(w, "messages_in"),
                    text(w, "messages_out"), outbox_text(w.value("outbox", Json::array())), last,
                    bytes_text(w.value("disk_bytes", uint64_t{0}))});
  }
  if (rows.size() == 1) {
    print_line(std::string(_("no worker has reported yet")));
    return;
  }
  print_table(rows);
  if (body.value("workers", Json::array()).empty())
    print_line(std::string(_("no worker has reported yet")));
  auto refused = [](const std::string& name, const std::string& why) {
    print_line(say(N_("{process}: RELOAD REFUSED, the running config stays: {why}"),
                   {{"process", name}, {"why", why}}));
  };
  if (!text(broker, "reload_refused").empty()) refused("broker", text(broker, "reload_refused"));
  for (const auto& w : body.value("workers", Json::array())) {  // what an operator must act on
    if (!text(w, "reload_refused").empty()) refused(text(w, "name"), text(w, "reload_refused"));
    if (!text(w, "storage_error").empty())
      print_line(say(N_("{process}: CANNOT WRITE ITS STORE: {why}"),
                     {{"process", text(w, "name")}, {"why", text(w, "storage_error")}}));
    if (!text(w, "warning").empty())
      print_line(say(N_("{process}: WARNING: {warning}"),
                     {{"process", text(w, "name")}, {"warning", text(w, "warning")}}));
  }
  std::string failures;  // "clients unknown_key 200, clients no_handshake 3"
  for (const auto& f : body.value("handshake_failures", Json::array()))
    failures += (failures.empty() ? "" : ", ") + text(f, "domain") + " " + text(f, "reason") + " " +
                text(f, "count");
  if (!failures.empty())
    print_line(say(N_("failed handshakes since the broker started: {failures}"),
                   {{"failures", failures}}));
  std::string keys;
  for (const auto& k : body.value("worker_keys", Json::array()))
    keys += (keys.empty() ? "" : ", ") + text(k, "name") + " " + text(k, "key").substr(0, 8) + "…";
  if (!broker.empty()) {
    const Json& open = broker.value("connections", Json::object());
    print_line(say(N_("broker connections: clients {clients}, workers {workers}"),
                   {{"clients", text(open, "clients")}, {"workers", text(open, "workers")}}));
  }
  if (!keys.empty())
    print_line(say(N_("worker keys admitted ({count}): {keys}"),
                   {{"count", text(broker, "worker_keys")}, {"keys", keys}}));
  const std::pair<const char*, const char*> counts[] = {
      {"dropped_replies", N_("replies dropped (no request was waiting for them): {count}")},
      {"refused_forwards", N_("requests refused that a worker passed on without serving them: {count}")},
      {"unadmitted_messages", N_("messages under a worker key no longer admitted: {count}")}};
  for (const auto& [count, words] : counts)
    if (body.value(count, uint64_t{0}) > 0) print_line(say(words, {{"count", text(body, count)}}));
}

void print_whoami(const Json& account) {
  std::string roles = named_list(account.value("roles", Json::array()), "role");
  std::vector<std::vector<std::string>> rows{{_("account"), text(account, "name")}};
  if (account.value("unchecked", false))
    rows.push_back({_("roles"), _("unchecked: security.mode is off")});
  else
    rows.push_back({_("roles"), or_dash(roles)});
  if (!text(account, "department").empty())
    rows.push_back({_("department"), department_shown(text(account, "department"))});
  if (!text(account, "station").empty()) rows.push_back({_("station"), text(account, "station")});
  if (!text(account, "gateway").empty())
    rows.push_back({_("through the gateway"), text(account, "gateway")});
  if (account.contains("acts_for"))
    rows.push_back({_("a gateway, acting for"), named_list(account["acts_for"], "role")});
  print_table(rows);
}

void print_due(const Json& due) {
  print_line(text(due, "due") + "  " + say_basis(i18n::language(), read_basis(due), true));
}

void print_checkpoint(const Json& checkpoint) {
  print_table({{_("size"), say(N_("{size} leaves (events and account changes)"),
                               {{"size", text(checkpoint, "size")}})},
               {_("root"), text(checkpoint, "root")},
               {_("signed at"), when(checkpoint, "at")},
               {_("signing key"), text(checkpoint, "key")}});
}

}  // namespace closeloop::cli
