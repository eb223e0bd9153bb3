#include "base/result.h"

namespace closeloop {

Error Error::of(std::string code, std::string_view msgid, MessageArgs args, std::string field) {
  Error e{std::move(code), format_message(msgid, args, field), std::string(msgid), {}, {}};
  e.args = std::move(args);
  e.field = std::move(field);
  return e;
}

std::string format_message(std::string_view msgid, const MessageArgs& args,
                           std::string_view field) {
  std::string out;
  out.reserve(msgid.size() + 32);
  size_t i = 0;
  while (i < msgid.size()) {
    size_t open = msgid.find('{', i), close = std::string_view::npos;
    if (open != std::string_view::npos) close = msgid.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(msgid, i, open - i);
    std::string_view name = msgid.substr(open + 1, close - open - 1);
    const std::string* value = nullptr;
    for (const auto& [n, v] : args)
      if (n == name) value = &v;
    if (value)
      out += *value;
    else if (name == "field" && !field.empty())
      out += field;
    else if (name.starts_with("field:"))  // another field of the request, by its name
      out += name.substr(6);
    else
      out.append(msgid, open, close - open + 1);
    i = close + 1;
  }
  out.append(msgid, i);
  return out;
}

}  // namespace closeloop
