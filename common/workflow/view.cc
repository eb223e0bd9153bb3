#include "workflow/view.h"

#include "base/text.h"

namespace closeloop {
namespace {

std::string text_of(const wire::Json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : "";
}

wire::Json reply_of(const Event& e) {
  wire::Json reply = {{"text", text_of(e.payload, "reply")},
                      {"outcome", text_of(e.payload, "outcome")},
                      {"at", e.at},
                      {"department", e.department},
                      {"by", e.actor},
                      {"seq", e.seq}};
  for (const char* key : {"promise", "occurred_on"})
    if (std::string value = text_of(e.payload, key); !value.empty()) reply[key] = value;
  if (!e.via.empty()) reply["via"] = e.via;
  return reply;
}

}  // namespace

wire::Json record_view(const std::vector<Event>& trail) {
  wire::Json view = wire::Json::object();
  wire::Json original = wire::Json::object();
  for (const Event& e : trail) {
    if (e.action == "handle") view["reply"] = reply_of(e);
    if (std::string day = text_of(e.payload, "occurred_on"); !day.empty()) original[e.action] = day;
  }
  if (!original.empty()) view["original_dates"] = std::move(original);
  return view;
}

std::string said_in(const wire::Json& payload) {
  for (const char* key : {"reply", "text", "reason", "comment", "note", "ruling"})
    if (std::string said = text_of(payload, key); !said.empty()) return said;
  return "";
}

std::string first_words(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size();) {
    CodePoint c = utf8_decode_at(text, i);
    size_t len = c.length == 0 ? 1 : c.length;
    if (chars++ == max_chars) return out + "…";
    if (text[i] == '\n' || text[i] == '\r' || text[i] == '\t')
      out += ' ';
    else
      out.append(text, i, len);
    i += len;
  }
  return out;
}

}  // namespace closeloop
