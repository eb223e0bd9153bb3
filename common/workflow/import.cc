#include "workflow/import.h"


#include <algorithm>
#include <map>

#include "base/text.h"
#include "workflow/kinds.h"

namespace closeloop {

const std::vector<ImportColumn>& import_columns() {
  static const std::vector<ImportColumn> kColumns = {
      {"kind", {"类型", "事项类型", "种类"}, true},
      {"title", {"标题", "事项", "名称", "事项名称"}, true},
      {"body", {"内容", "正文", "具体内容", "主要内容", "详细内容"}, true},
      {"department", {"承办单位", "主办单位", "牵头单位", "责任单位"}, true},
      {"category", {"类别", "分类"}},
      {"source", {"来源", "联络站"}},
      {"submitter", {"提出人", "反映人", "代表", "提交人"}},
      {"co_departments", {"会办单位", "协办单位"}},
      {"due", {"办理期限", "截止日期", "期限"}},
      {"submitted_on", {"提交日期", "提出日期", "受理日期"}},
      {"assigned_on", {"交办日期"}},
      {"ref", {"编号", "建议号", "文号"}},
      {"key", {"唯一键"}},
  };
  return kColumns;
}

namespace {

const ImportColumn* column_named(std::string_view name) {
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

std::string trimmed(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c); };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

}  // namespace

Result<ImportFile> read_import(const csv::Table& table) {
  std::vector<const ImportColumn*> columns;
  for (const std::string& name : table.header) {
    const ImportColumn* c = column_named(name);
    if (c && std::find(columns.begin(), columns.end(), c) != columns.end())
      return Error{errc::kInvalid, "the header names column '" + std::string(c->name) + "' twice"};
    columns.push_back(c);  // nullptr: a column of the office's own, ignored
  }
  std::string missing;
  for (const ImportColumn& c : import_columns()) {
    if (c.required && std::find(columns.begin(), columns.end(), &c) == columns.end())
      missing += (missing.empty() ? "" : ", ") + std::string(c.name);
  }
  if (!missing.empty())
    return Error{errc::kInvalid, "not an import list: the header lacks " + missing +
                                     " (English column names or 类型, 标题, 内容, 承办单位)"};
  ImportFile file;
  for (const csv::Row& row : table.rows) {
    if (row.cells.size() > table.header.size()) {
      file.refused.push_back({row.line, "the row has " + std::to_string(row.cells.size()) +
                                            " cells but the header " +
                                            std::to_string(table.header.size())});
      continue;
    }
    wire::Json out = wire::Json::object();
    for (size_t i = 0; i < row.cells.size(); ++i) {
      std::string cell = trimmed(row.cells[i]);
      if (columns[i] && !cell.empty()) out[std::string(columns[i]->name)] = cell;
    }
    if (!out.contains("key")) out["key"] = digest_of(out);
    out["line"] = row.line;
    file.rows.push_back(std::move(out));
  }
  return file;
}

namespace {

// Department codes from codes or names, separated by commas or 、 or ;.
Result<std::vector<std::string>> departments_of(const std::string& text, const Config& config) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&]() -> Status {
    std::string name = trimmed(current);
    current.clear();
    if (name.empty()) return ok_status();
    for (const Department& d : config.departments) {
      if (d.code == name || d.name == name) {
        out.push_back(d.code);
        return ok_status();
      }
    }
    return Error{errc::kInvalid, "unknown department '" + name + "'"};
  };
  for (size_t i = 0; i < text.size();) {
    std::string_view rest(text.data() + i, text.size() - i);
    size_t sep = rest.starts_with(",") || rest.starts_with(";") ? 1
                 : rest.starts_with("，") || rest.starts_with("、") || rest.starts_with("；") ? 3
                                                                                           : 0;
    if (sep) {
      if (Status s = flush(); !s) return s.error();
      i += sep;
    } else {
      current += text[i++];
    }
  }
  if (Status s = flush(); !s) return s.error();
  return out;
}

// A command's fields checked by its verb's declaration, as if a client had sent them.
Result<wire::Json> checked(std::string_view verb, const wire::Json& fields) {
  std::string bytes = wire::encode_json(fields);
  auto decoded = wire::decode(bytes.data(), bytes.size());
  return decode_fields(*find_verb(verb), decoded->get());
}

Status check_day(const std::string& name, const std::string& day, const Setting& now) {
  if (day.empty()) return ok_status();
  if (!valid_date(day)) return Error{errc::kInvalid, name + " must be a date YYYY-MM-DD, not '" + day + "'"};
  if (day > now.today.str()) return Error{errc::kInvalid, name + " " + day + " is in the future"};
  return ok_status();
}

Status plan(ImportPlan& p, const wire::Json& row, const std::string& actor, const Setting& now) {
  auto text = [&](const char* name) { return row.value(name, std::string()); };
  const Kind* kind = find_kind(text("kind"));
  if (!kind) return Error{errc::kInvalid, "unknown kind '" + text("kind") + "'"};
  p.submitted_on = text("submitted_on");
  p.assigned_on = text("assigned_on").empty() ? p.submitted_on : text("assigned_on");
  if (Status s = check_day("submitted_on", p.submitted_on, now); !s) return s;
  if (Status s = check_day("assigned_on", p.assigned_on, now); !s) return s;
  if (!p.submitted_on.empty() && p.assigned_on < p.submitted_on)
    return Error{errc::kInvalid, "assigned_on " + p.assigned_on + " is before submitted_on " + p.submitted_on};
  wire::Json submit = {{"kind", std::string(kind->code)}};
  for (const char* name : {"title", "body", "category", "source", "submitter", "ref"})
    if (!text(name).empty()) submit[name] = text(name);
  auto fields = checked("submit", submit);
  if (!fields) return fields.error();
  p.submit = Command{.verb = "submit", .actor = actor, .fields = std::move(*fields)};
  if (text("department").empty()) return ok_status();
  auto lead = departments_of(text("department"), now.config);
  if (!lead) return lead.error();
  if (lead->size() != 1) return Error{errc::kInvalid, "department names one lead department"};
  auto co = departments_of(text("co_departments"), now.config);
  if (!co) return co.error();
  wire::Json assign = {{"department", lead->front()}};
  if (!co->empty()) assign["co"] = *co;
  if (!text("due").empty()) assign["due"] = text("due");
  auto assign_fields = checked("assign", assign);
  if (!assign_fields) return assign_fields.error();
  p.assign = Command{.verb = "assign", .actor = actor, .fields = std::move(*assign_fields)};
  return ok_status();
}

}  // namespace

ImportPlan plan_import(const msgpack::object& row, const std::string& actor, const Setting& now) {
  ImportPlan p;
  auto json = wire::from_msgpack(row);
  if (!json || !json->is_object()) {
    p.reason = "a row must be a map";
    return p;
  }
  p.line = json->value("line", uint64_t{0});
  p.key = json->value("key", std::string());
  for (const auto& [name, value] : json->items()) {
    if (name != "line" && !value.is_string()) {
      p.reason = "column " + name + " must be text";
      return p;
    }
  }
  if (p.key.empty() || p.key.size() > 128) {
    p.reason = "a row's key must be 1 to 128 characters";
    return p;
  }
  if (Status s = plan(p, *json, actor, now); !s) p.reason = s.error().message;
  return p;
}

}  // namespace closeloop
