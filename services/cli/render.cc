#include "render.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "base/text.h"

namespace closeloop::cli {

using nlohmann::json;

json to_json(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return nullptr;
    case msgpack::type::BOOLEAN:
      return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER:
      return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return o.via.f64;
    case msgpack::type::STR:
      return std::string(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN:
      return to_hex({o.via.bin.ptr, o.via.bin.size});
    case msgpack::type::EXT:
      return to_hex({o.via.ext.ptr, o.via.ext.size});
    case msgpack::type::ARRAY: {
      json out = json::array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) out.push_back(to_json(o.via.array.ptr[i]));
      return out;
    }
    case msgpack::type::MAP: {
      json out = json::object();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        std::string key = kv.key.type == msgpack::type::STR
                              ? std::string(kv.key.via.str.ptr, kv.key.via.str.size)
                              : dump(to_json(kv.key));
        out[key] = to_json(kv.val);
      }
      return out;
    }
  }
  return nullptr;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

namespace {

// A field as text: strings as they are, other values as JSON, absent or null as "".
std::string text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : dump(*it);
}

// Terminal columns taken by UTF-8 text: 2 for East Asian wide characters, else 1.
size_t display_width(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

// Prints rows as columns two spaces apart; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
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
    std::printf("%s\n", line.c_str());
  }
}

std::string or_dash(std::string s) { return s.empty() ? "-" : s; }

}  // namespace

void print_item(const json& item) {
  std::string department = or_dash(text(item, "department"));
  if (auto co = item.find("co_departments"); co != item.end() && co->is_array() && !co->empty()) {
    std::string list;
    for (const auto& c : *co)
      list += (list.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : dump(c));
    department += " (+ " + list + ")";
  }
  print_table({{"id", text(item, "id")},
               {"stage", text(item, "stage")},
               {"title", text(item, "title")},
               {"department", department},
               {"due", or_dash(text(item, "due"))},
               {"rework_count", text(item, "rework_count")},
               {"updated_at", text(item, "updated_at")}});
  if (std::string body = text(item, "body"); !body.empty()) std::printf("\n%s\n", body.c_str());
}

void print_trail(const json& events) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events)
    rows.push_back({text(e, "seq"), text(e, "at"), text(e, "stage"), text(e, "action"),
                    text(e, "actor"), or_dash(text(e, "department"))});
  print_table(rows);
}

void print_list(const json& items) {
  if (items.empty()) std::printf("(no items)\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items)
    rows.push_back(
        {text(i, "id"), text(i, "stage"), or_dash(text(i, "department")), text(i, "title")});
  print_table(rows);
}

void print_ping(const json& body) {
  auto services = body.find("services");
  if (services == body.end() || !services->is_array() || services->empty()) {
    std::printf("no live workers\n");
    return;
  }
  for (const auto& s : *services)
    std::printf("%s\n", s.is_string() ? s.get<std::string>().c_str() : dump(s).c_str());
}

}  // namespace closeloop::cli
