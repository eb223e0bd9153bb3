#include "workflow/command.h"

#include <algorithm>

#include "base/text.h"

namespace closeloop {

namespace {

constexpr size_t kMaxListEntries = 32;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string choices_of(const Field& field) {
  std::string list;
  for (auto c : field.choices) list += (list.empty() ? "" : " | ") + std::string(c);
  return list;
}

// [{date, text}]: real dates, texts not blank.
wire::Json read_milestones(wire::Fields& f, const Field& field) {
  const msgpack::object* list = f.opt_array(field.name, kMaxListEntries);
  if (!list) return nullptr;
  wire::Json out = wire::Json::array();
  for (uint32_t i = 0; i < list->via.array.size && f.ok(); ++i) {
    wire::Fields m(list->via.array.ptr[i], std::string(field.name) + "[" + std::to_string(i) + "]");
    std::string date = m.str("date", 10), text = m.str("text", kMaxTitleChars);
    if (m.ok() && !valid_date(date))
      m.fail(Error::of(errc::kInvalid, N_("a milestone's date must be YYYY-MM-DD, not '{value}'"),
                       {{"value", date}}, std::string(field.name)));
    if (m.ok() && blank(text))
      m.fail(Error::of(errc::kInvalid, N_("a milestone's text must not be empty"), {},
                       std::string(field.name)));
    if (!m.ok()) f.fail(m.error());
    out.push_back({{"date", date}, {"text", text}});
  }
  return out;
}

wire::Json read_text(wire::Fields& f, const Field& field) {
  auto s = f.opt_str(field.name, field.max_chars);
  if (!s || !f.ok()) return nullptr;
  const std::string name(field.name);
  if (field.type == FieldType::kDate && !valid_date(*s))
    f.fail(Error::of(errc::kInvalid, N_("{field} must be a date YYYY-MM-DD, not '{value}'"),
                     {{"value", *s}}, name));
  if (field.type == FieldType::kChoice &&
      std::find(field.choices.begin(), field.choices.end(), *s) == field.choices.end())
    f.fail(Error::of(errc::kInvalid, N_("{field} must be one of {choices}, not '{value}'"),
                     {{"choices", choices_of(field)}, {"value", *s}}, name));
  return *s;
}

// One field of its declared type, or null when absent; the first problem goes to `f`.
wire::Json read_field(wire::Fields& f, const Field& field) {
  switch (field.type) {
    case FieldType::kText:
    case FieldType::kCode:
    case FieldType::kDate:
    case FieldType::kChoice:
      return read_text(f, field);
    case FieldType::kCodes: {
      auto list = f.opt_str_list(field.name, kMaxListEntries, field.max_chars);
      return list ? wire::Json(*list) : wire::Json(nullptr);
    }
    case FieldType::kFlag: {
      auto b = f.opt_bool(field.name);
      return b && *b ? wire::Json(true) : wire::Json(nullptr);
    }
    case FieldType::kNumber: {
      auto n = f.opt_uint(field.name);
      return n ? wire::Json(*n) : wire::Json(nullptr);
    }
    case FieldType::kMilestones:
      return read_milestones(f, field);
  }
  return nullptr;
}

bool empty_value(const wire::Json& v) {
  return v.is_null() || (v.is_string() && blank(v.get_ref<const std::string&>())) ||
         (v.is_array() && v.empty());
}

}  // namespace

const Verb& Command::spec() const { return *find_verb(verb); }

bool Command::has(std::string_view name) const { return fields.contains(name); }

std::string Command::text(std::string_view name) const {
  auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Command::flag(std::string_view name) const {
  auto it = fields.find(name);
  return it != fields.end() && it->is_boolean() && it->get<bool>();
}

uint64_t Command::number(std::string_view name) const {
  auto it = fields.find(name);
  if (it == fields.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return 0;
  return it->get<uint64_t>();
}

std::vector<std::string> Command::codes(std::string_view name) const {
  auto it = fields.find(name);
  if (it == fields.end() || !it->is_array()) return {};
  std::vector<std::string> out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

Command& Command::set(std::string_view name, wire::Json value) {
  fields[std::string(name)] = std::move(value);
  return *this;
}

Result<wire::Json> decode_fields(const Verb& verb, const msgpack::object& body,
                                 const wire::Json& given) {
  wire::Fields f(body, "body");
  wire::Json out = wire::Json::object();
  for (const Field& field : verb.fields) {
    if (field.client_only) continue;
    wire::Json value = read_field(f, field);
    if (!f.ok()) return f.error();
    if (value.is_null() && given.contains(field.name)) value = given[std::string(field.name)];
    if (empty_value(value)) {
      if (field.required && value.is_null())
        return Error::of(errc::kBadRequest, N_("{what} lacks {field}"), {{"what", "body"}},
                         std::string(field.name));
      if (field.required)
        return Error::of(errc::kInvalid, N_("{field} must not be empty"), {},
                         std::string(field.name));
      continue;
    }
    out[std::string(field.name)] = std::move(value);
  }
  return out;
}

Result<Command> decode_command(const wire::Request& request, const wire::Json& given) {
  const Verb* verb = find_verb(request.type);
  if (!verb || verb->kind != VerbKind::kCommand)
    return Error::of(errc::kBadRequest, N_("not a command: {verb}"), {{"verb", request.type}});
  Command c;
  c.verb = request.type;
  c.actor = request.actor;
  if (blank(c.actor))
    return Error::of(errc::kInvalid, N_("{field} must not be empty: say who acts"), {}, "actor");
  if (verb->takes_id) {
    wire::Fields f(request.body, "body");
    c.item_id = f.str("item", kMaxNameChars);
    if (!f.ok()) return f.error();
  }
  auto fields = decode_fields(*verb, request.body, given);
  if (!fields) return fields.error();
  c.fields = std::move(*fields);
  if (verb->check) {
    if (Status s = verb->check(c); !s) return s.error();
  }
  return c;
}

std::string encode_command_body(const Command& c) {
  wire::MapBuilder m;
  if (!c.item_id.empty()) m.add("item", c.item_id);
  for (const auto& [name, value] : c.fields.items()) m.add_raw(name, wire::encode_json(value));
  return m.finish();
}

}  // namespace closeloop
