// A message catalog in GNU gettext's compiled form (.mo, as msgfmt writes it), read from
// memory. Lookups by msgid, or by context and msgid (msgctxt, as pgettext) — context is
// how codes are named: msgctxt "stage", msgid "assigned" → 已交办.
//
// The catalogs are read directly, not through gettext(3): its state is per process and
// follows the C locale, while a gateway answers two languages at once and Debian
// generates no zh_CN locale.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.h"

namespace closeloop::i18n {

class Catalog {
 public:
  Catalog() = default;
  Catalog(Catalog&&) = default;  // the lookups point into the text, which moves along
  Catalog& operator=(Catalog&&) = default;
  Catalog(const Catalog&) = delete;
  // The catalog in `mo` (kept: the lookups point into it). An error for anything that is
  // not a little- or big-endian .mo file of revision 0 whose tables lie inside it.
  static Result<Catalog> parse(std::string mo);

  // The translation, or nullopt when the catalog has none (or only an empty one).
  std::optional<std::string_view> find(std::string_view msgid) const;
  std::optional<std::string_view> find(std::string_view context, std::string_view msgid) const;
  size_t size() const { return messages_.size(); }

 private:
  std::string mo_;
  std::unordered_map<std::string_view, std::string_view> messages_;  // "ctxt\4id" for context
};

}  // namespace closeloop::i18n
