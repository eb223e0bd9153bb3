#include "workflow/import.h"


#include <algorithm>
#include <map>

#include "base/text.h"
#include "workflow/deadline.h"
#include "workflow/kinds.h"

namespace closeloop {

const std::vector<ImportColumn>& import_columns() {
  static const std::vector<ImportColumn> kColumns = {
      {"kind", {"类型", "事项类型", "种类", "事项种类", "办件类型"}, true},
      {"title",
       {"标题", "事项", "名称", "事项名称", "题目", "主题", "案由", "建议题目", "诉求标题",
        "问题名称", "整改事项"},
       true},
      {"body",
       {"内容", "正文", "具体内容", "主要内容", "详细内容", "建议内容", "诉求内容", "反映内容",
        "问题内容", "问题描述", "情况说明"},
       true},
      {"department",
       {"承办单位", "主办单位", "牵头单位", "责任单位", "承办部门", "主办部门", "牵头部门",
        "责任部门"},
       true},
      {"category", {"类别", "分类", "所属类别", "问题类别", "领域"}},
      {"source", {"来源", "联络站", "来源渠道", "代表联络站", "所属联络站"}},
      {"submitter",
       {"提出人", "反映人", "代表", "提交人", "领衔代表", "代表姓名", "诉求人", "反映人姓名"}},
      {"co_departments", {"会办单位", "协办单位", "会办部门", "协办部门", "配合单位"}},
      {"due",
       {"办理期限", "截止日期", "期限", "办理时限", "答复期限", "办结期限", "完成时限", "整改期限",
        "整改时限", "截止时间"},
       false,
       true},
      {"submitted_on",
       {"提交日期", "提出日期", "受理日期", "提交时间", "提出时间", "受理时间", "登记日期",
        "反映日期", "反映时间"},
       false,
       true},
      {"assigned_on", {"交办日期", "交办时间"}, false, true},
      {"ref", {"编号", "建议号", "文号", "建议编号", "诉求编号", "问题编号", "案号"}},
      {"key", {"唯一键"}},
  };
  return kColumns;
}

namespace {

const ImportColumn* column_of(std::string_view name) {
  for (const ImportColumn& c : import_columns())
    if (c.name == name) return &c;
  return nullptr;
}

std::string trimmed(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c); };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

// A header cell as it is compared: without the marks an office's own template adds
// (a required column's *, a note in brackets: 办理期限（工作日）, full-width spaces),
// English names in lower case with '_' for '-' and ' '.
std::string header_key(std::string name) {
  for (std::string_view mark : {"*", "＊", "\u3000"}) {
    for (size_t at; (at = name.find(mark)) != std::string::npos;) name.erase(at, mark.size());
  }
  for (auto [open, close] : {std::pair{"(", ")"}, std::pair{"（", "）"}}) {
    size_t at = name.find(open);
    if (at != std::string::npos && at > 0 && name.ends_with(close)) name.erase(at);
  }
  name = trimmed(name);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-' || c == ' ') c = '_';
  }
  return name;
}

const ImportColumn* column_named(const std::string& header) {
  std::string name = header_key(header);
  for (const ImportColumn& c : import_columns()) {
    if (c.name == name) return &c;
    if (std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end()) return &c;
  }
  return nullptr;
}

// A row's identity without a key column: its cells by column, so the same row in a
// re-saved file (other column order, other line) is the same row.
std::string digest_of(const wire::Json& row) {
  std::string text;
  for (const auto& [name, value] : row.items())
    if (name != "line") text += name + "=" + value.get<std::string>() + "\n";
  return "sha256:" + sha256_hex(text);
}

struct Ymd {
  int y = 0, m = 0, d = 0;
};

// Reads 1 to `most` ASCII digits at s[*i].
bool number_at(std::string_view s, size_t* i, size_t least, size_t most, int* out) {
  size_t start = *i;
  *out = 0;
  while (*i < s.size() && *i - start < most && s[*i] >= '0' && s[*i] <= '9')
    *out = *out * 10 + (s[(*i)++] - '0');
  return *i - start >= least;
}

bool word_at(std::string_view s, size_t* i, std::string_view word) {
  if (s.substr(*i).substr(0, word.size()) != word) return false;
  *i += word.size();
  return true;
}

// H:MM or H:MM:SS, as Excel writes a date cell that holds a time too.
bool time_of_day(std::string_view s) {
  size_t i = 0;
  int h = 0, m = 0, sec = 0;
  if (!number_at(s, &i, 1, 2, &h) || !word_at(s, &i, ":") || !number_at(s, &i, 2, 2, &m))
    return false;
  if (word_at(s, &i, ":") && !number_at(s, &i, 2, 2, &sec)) return false;
  return i == s.size() && h < 24 && m < 60 && sec < 60;
}

// The year, month and day of a date in one of the forms, real day or not.
std::optional<Ymd> date_form(std::string_view text) {
  size_t space = text.find(' ');
  if (space != std::string_view::npos) {
    std::string rest = trimmed(std::string(text.substr(space + 1)));
    if (!time_of_day(rest)) return std::nullopt;
    text = text.substr(0, space);
  }
  Ymd out;
  size_t i = 0;
  if (!number_at(text, &i, 4, 4, &out.y)) return std::nullopt;
  if (word_at(text, &i, "年")) {
    if (!number_at(text, &i, 1, 2, &out.m) || !word_at(text, &i, "月") ||
        !number_at(text, &i, 1, 2, &out.d) || !word_at(text, &i, "日") || i != text.size())
      return std::nullopt;
    return out;
  }
  if (i == text.size()) return std::nullopt;
  char sep = text[i++];
  if (sep != '-' && sep != '/' && sep != '.') return std::nullopt;
  if (!number_at(text, &i, 1, 2, &out.m) || i == text.size() || text[i++] != sep ||
      !number_at(text, &i, 1, 2, &out.d) || i != text.size())
    return std::nullopt;
  return out;
}

std::string iso(const Ymd& d) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", d.y, d.m, d.d);
  return text;
}

}  // namespace

std::string column_label(std::string_view name) {
  const ImportColumn* c = column_of(column_of_field(name));
  if (!c) return std::string(name);
  return "the column \"" + std::string(c->aliases.front()) + "\" (" + std::string(c->name) + ")";
}

std::string_view column_of_field(std::string_view field) {
  return field == "co" ? "co_departments" : field;
}

Error row_error(Error e) {
  e.field = std::string(column_of_field(e.field));
  return e;
}

std::string reason_text(const Error& reason) {
  i18n::Voice voice;
  voice.field = [](std::string_view field) { return column_label(field); };
  return i18n::say(i18n::Language::kEn, reason, voice);
}

i18n::Voice import_voice(i18n::Language language,
                         const std::map<std::string, std::string>& headers) {
  i18n::Voice voice;
  voice.field = [language, headers](std::string_view field) {
    std::string_view name = column_of_field(field);
    const ImportColumn* c = column_of(name);
    if (!c) return std::string(i18n::name_of(language, "field", field));
    auto header = headers.find(std::string(name));
    std::string shown = header != headers.end() ? header->second : std::string(c->aliases.front());
    return i18n::say(language, N_("the column \"{column}\""), {{"column", shown}});
  };
  return voice;
}

wire::Json reason_json(const Error& reason) {
  wire::Json args = wire::Json::object();
  for (const auto& [name, value] : reason.args) args[name] = value;
  wire::Json out = {{"code", reason.code}, {"message", reason_text(reason)}};
  if (!reason.msgid.empty()) out["msgid"] = reason.msgid, out["args"] = std::move(args);
  if (!reason.field.empty()) out["field"] = reason.field;
  return out;
}

Error reason_of_json(const wire::Json& json) {
  auto text = [&](const char* key) {
    auto it = json.find(key);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Error e{text("code"), text("message"), text("msgid"), {}, text("field")};
  if (auto args = json.find("args"); args != json.end() && args->is_object())
    for (const auto& [name, value] : args->items())
      if (value.is_string()) e.args.emplace_back(name, value.get<std::string>());
  return e;
}

std::optional<std::string> import_date(std::string_view text) {
  auto form = date_form(text);
  if (!form) return std::nullopt;
  std::string day = iso(*form);
  if (!valid_date(day)) return std::nullopt;
  return day;
}

Result<ImportFile> read_import(const csv::Table& table) {
  ImportFile file;
  std::vector<const ImportColumn*> columns;
  for (const std::string& name : table.header) {
    const ImportColumn* c = column_named(name);
    if (c) {
      auto first = std::find(columns.begin(), columns.end(), c);
      if (first != columns.end())
        return Error::of(errc::kInvalid, N_("the header names {field} twice: '{first}' and '{second}'"),
                         {{"first", table.header[first - columns.begin()]}, {"second", name}},
                         std::string(c->name));
      file.headers.emplace(std::string(c->name), trimmed(name));
    } else if (!name.empty()) {
      file.ignored_columns.push_back(name);  // a column of the office's own
    }
    columns.push_back(c);
  }
  std::string missing;
  for (const ImportColumn& c : import_columns()) {
    if (c.required && std::find(columns.begin(), columns.end(), &c) == columns.end())
      missing += (missing.empty() ? "" : ", ") + std::string(c.aliases.front()) + " (" +
                 std::string(c.name) + ")";
  }
  if (!missing.empty())
    return Error::of(errc::kInvalid,
                     N_("not an import list: the header lacks the columns {columns}"),
                     {{"columns", missing}});
  for (const csv::Row& row : table.rows) {
    if (row.cells.size() > table.header.size()) {
      file.refused.push_back(
          {row.line,
           {Error::of(errc::kInvalid, N_("the row has {cells} cells but the header {header}"),
                      {{"cells", std::to_string(row.cells.size())},
                       {"header", std::to_string(table.header.size())}})}});
      continue;
    }
    wire::Json out = wire::Json::object();
    for (size_t i = 0; i < row.cells.size(); ++i) {
      std::string cell = trimmed(row.cells[i]);
      if (!columns[i] || cell.empty()) continue;
      if (columns[i]->date)
        if (auto day = import_date(cell)) cell = *day;
      out[std::string(columns[i]->name)] = cell;
    }
    if (!out.contains("key")) out["key"] = digest_of(out);
    out["line"] = row.line;
    file.rows.push_back(std::move(out));
  }
  return file;
}

std::vector<std::vector<std::string>> import_template(const Config& config, const Date& today) {
  std::string day = today.str();
  std::map<std::string_view, std::string> example = {
      {"kind", "群众诉求"},
      {"title", "幸福里小区路灯不亮（示例）"},
      {"body", "幸福里小区12盏路灯不亮，夜间出行不便。"},
      {"department", config.departments.empty() ? "" : config.departments.front().name},
      {"category", config.categories.empty() ? "" : config.categories.front().name},
      {"submitter", "居民张某"},
      {"submitted_on", day},
      {"assigned_on", day},
      {"ref", "示例-001"},
  };
  std::vector<std::string> header, row;
  for (const ImportColumn& c : import_columns()) {
    if (c.name == "key") continue;  // the office's own unique key: rarely needed
    header.emplace_back(c.aliases.front());
    row.push_back(example.count(c.name) ? example[c.name] : "");
  }
  return {header, row};
}

namespace {

Error reason(std::string_view msgid, MessageArgs args, std::string column) {
  return Error::of(errc::kInvalid, msgid, std::move(args), std::move(column));
}

// Department codes from codes or names, separated by commas or 、 or ;. Each unknown
// one is a reason naming the column it is in.
std::vector<std::string> departments_of(const std::string& text, const char* column,
                                        const Config& config, Reasons& reasons) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    std::string name = trimmed(current);
    current.clear();
    if (name.empty()) return;
    for (const Department& d : config.departments) {
      if (d.code == name || d.name == name) return out.push_back(d.code);
    }
    reasons.push_back(
        reason(N_("unknown department '{department}' in {field}"), {{"department", name}}, column));
  };
  for (size_t i = 0; i < text.size();) {
    std::string_view rest(text.data() + i, text.size() - i);
    size_t sep = rest.starts_with(",") || rest.starts_with(";") ? 1
                 : rest.starts_with("，") || rest.starts_with("、") || rest.starts_with("；") ? 3
                                                                                           : 0;
    if (sep) {
      flush();
      i += sep;
    } else {
      current += text[i++];
    }
  }
  flush();
  return out;
}

// A command's fields checked by its verb's declaration, as if a client had sent them.
Result<wire::Json> checked(std::string_view verb, const wire::Json& fields) {
  std::string bytes = wire::encode_json(fields);
  auto decoded = wire::decode(bytes.data(), bytes.size());
  return decode_fields(*find_verb(verb), decoded->get());
}

// One field of a verb checked alone by its declaration (its limit), so that each
// field's problem is a reason of its own.
Status check_field(std::string_view verb, std::string_view name, const std::string& value) {
  Verb one = *find_verb(verb);
  const Field* field = one.field(name);
  if (!field) return ok_status();
  one.fields = std::span<const Field>(field, 1);
  wire::Json fields = {{std::string(name), value}};
  std::string bytes = wire::encode_json(fields);
  auto decoded = wire::decode(bytes.data(), bytes.size());
  auto read = decode_fields(one, decoded->get());
  if (!read) return read.error();
  return ok_status();
}

std::string kind_names() {
  std::string names;
  for (const Kind& k : kKinds) names += (names.empty() ? "" : ", ") + std::string(k.name_zh);
  return names;
}

// A category by its code or its name (when the config lists categories).
std::string category_code(const std::string& text, const Config& config, Reasons& reasons) {
  if (text.empty() || config.categories.empty()) return text;
  for (const Category& c : config.categories)
    if (c.code == text || c.name == text) return c.code;
  reasons.push_back(reason(N_("unknown category '{value}' in {field}: write a category's code or "
                             "its name as the config lists them"),
                          {{"value", text}}, "category"));
  return "";
}

// The day a date column says, as YYYY-MM-DD; "" when empty or refused (with its reason).
std::string day_in(const wire::Json& row, const char* column, const Setting& now, bool past,
                   Reasons& reasons) {
  std::string text = row.value(column, std::string());
  if (text.empty()) return "";
  auto day = import_date(text);
  if (!day && date_form(text)) {
    reasons.push_back(
        reason(N_("'{value}' in {field} is not a day of the calendar"), {{"value", text}}, column));
    return "";
  }
  if (!day) {
    reasons.push_back(reason(N_("{field} must be a date such as 2026-11-25, 2026/11/25, 2026.11.25 "
                                "or 2026年11月25日, not '{value}'"),
                             {{"value", text}}, column));
    return "";
  }
  if (past && *day > now.today.str()) {
    reasons.push_back(
        reason(N_("{field} says {value}, a day in the future"), {{"value", *day}}, column));
    return "";
  }
  return *day;
}

// The submit of a row: its kind, texts and category, each field's problem a reason.
void plan_submit(ImportPlan& p, const wire::Json& row, const Setting& now, Reasons& reasons) {
  auto text = [&](const char* name) { return row.value(name, std::string()); };
  const Kind* kind = find_kind(text("kind"));
  if (!kind && text("kind").empty())
    reasons.push_back(reason(N_("{field} is empty: write a kind's code or its Chinese name ({kinds})"),
                             {{"kinds", kind_names()}}, "kind"));
  else if (!kind)
    reasons.push_back(reason(N_("unknown kind '{value}' in {field}: write a kind's code or its "
                                "Chinese name ({kinds})"),
                             {{"value", text("kind")}, {"kinds", kind_names()}}, "kind"));
  if (text("title").empty()) reasons.push_back(reason(N_("fill in {field}"), {}, "title"));
  std::string category = category_code(text("category"), now.config, reasons);
  wire::Json submit = kind ? wire::Json{{"kind", std::string(kind->code)}} : wire::Json::object();
  for (const char* name : {"title", "body", "category", "source", "submitter", "ref"}) {
    std::string value = name == std::string_view("category") ? category : text(name);
    if (value.empty()) continue;
    if (Status s = check_field("submit", name, value); !s)
      reasons.push_back(row_error(s.error()));
    submit[name] = value;
  }
  p.title = text("title");
  if (!reasons.empty()) return;
  auto fields = checked("submit", submit);
  if (!fields) return reasons.push_back(row_error(fields.error()));
  p.submit.fields = std::move(*fields);
}

// The assign of a row that names its department: lead, co-departments, due date.
void plan_assign(ImportPlan& p, const wire::Json& row, const Setting& now, const std::string& due,
                 Reasons& reasons) {
  auto text = [&](const char* name) { return row.value(name, std::string()); };
  auto lead = departments_of(text("department"), "department", now.config, reasons);
  auto co = departments_of(text("co_departments"), "co_departments", now.config, reasons);
  if (lead.size() > 1)
    reasons.push_back(reason(N_("{field} names {count} departments: a row has one lead department, "
                                "the others go in {field:co_departments}"),
                             {{"count", std::to_string(lead.size())}}, "department"));
  std::vector<std::string> named = lead;
  for (const std::string& code : co) {
    if (std::find(named.begin(), named.end(), code) != named.end())
      reasons.push_back(reason(N_("department '{department}' is named more than once as the lead "
                                  "or a co-department"),
                               {{"department", code}}, "co_departments"));
    named.push_back(code);
  }
  if (!due.empty() && !p.assigned_on.empty() && due < p.assigned_on)
    reasons.push_back(reason(N_("{field} says {value}, before the assignment ({assigned_on})"),
                             {{"value", due}, {"assigned_on", p.assigned_on}}, "due"));
  const Kind* kind = find_kind(text("kind"));
  Date assigned = p.assigned_on.empty() ? now.today : *Date::parse(p.assigned_on);
  if (kind && due.empty() && text("due").empty() &&
      !statutory_due(now.config.rules, now.calendar, kind->code, false, assigned))
    reasons.push_back(reason(N_("an item of kind {kind} has no statutory due date: fill in {field}"),
                             {{"kind", std::string(kind->code)}}, "due"));
  if (!reasons.empty() || lead.empty()) return;
  p.department = lead.front();
  wire::Json assign = {{"department", lead.front()}};
  if (!co.empty()) assign["co"] = co;
  if (!due.empty()) assign["due"] = due;
  auto fields = checked("assign", assign);
  if (!fields) return reasons.push_back(row_error(fields.error()));
  p.assign = Command{.verb = "assign", .actor = p.submit.actor, .fields = std::move(*fields)};
}

void plan(ImportPlan& p, const wire::Json& row, const std::string& actor, const Setting& now) {
  Reasons& reasons = p.reasons;
  p.submit = Command{.verb = "submit", .actor = actor};
  plan_submit(p, row, now, reasons);
  p.submitted_on = day_in(row, "submitted_on", now, true, reasons);
  std::string assigned_on = day_in(row, "assigned_on", now, true, reasons);
  p.assigned_on = row.value("assigned_on", std::string()).empty() ? p.submitted_on : assigned_on;
  if (!p.submitted_on.empty() && !p.assigned_on.empty() && p.assigned_on < p.submitted_on)
    reasons.push_back(reason(N_("{field}, {value}, is before {field:submitted_on}, {submitted_on}"),
                             {{"value", p.assigned_on}, {"submitted_on", p.submitted_on}},
                             "assigned_on"));
  std::string due = day_in(row, "due", now, false, reasons);
  if (!row.value("department", std::string()).empty()) plan_assign(p, row, now, due, reasons);
}

}  // namespace

ImportPlan plan_import(const msgpack::object& row, const std::string& actor, const Setting& now) {
  ImportPlan p;
  auto json = wire::from_msgpack(row);
  if (!json || !json->is_object()) {
    p.reasons.push_back(reason(N_("a row must be a map"), {}, ""));
    return p;
  }
  p.line = json->value("line", uint64_t{0});
  p.key = json->value("key", std::string());
  for (const auto& [name, value] : json->items()) {
    if (name != "line" && !value.is_string()) {
      p.reasons.push_back(reason(N_("{field} must be text"), {}, name));
      return p;
    }
  }
  if (p.key.empty() || p.key.size() > 128) {
    p.reasons.push_back(reason(N_("a row's key must be 1 to 128 characters"), {}, "key"));
    return p;
  }
  plan(p, *json, actor, now);
  return p;
}

}  // namespace closeloop
