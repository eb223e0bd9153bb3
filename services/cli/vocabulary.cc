// `closeloop verbs --pot`: the words the declarations hold, as a gettext template
// (po/update.sh merges it with what xgettext finds in the code). The verbs' and fields'
// help, and the names of codes — verbs, fields, stages, kinds, roles, export columns, and
// each field's choices (in the field's name: "outcome", "attitude"…) — each in its
// vocabulary (msgctxt), as i18n::name_of() looks them up.
#include <set>
#include <string>

#include "cli.h"
#include "security/rights.h"
#include "workflow/kinds.h"
#include "workflow/lifecycle.h"

namespace closeloop::cli {
namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out + "\"";
}

class Template {
 public:
  void add(std::string_view where, std::string_view context, std::string_view msgid) {
    if (msgid.empty() || !seen_.emplace(context, msgid).second) return;
    out_ += "#: " + std::string(where) + "\n";
    if (!context.empty()) out_ += "msgctxt " + quoted(context) + "\n";
    out_ += "msgid " + quoted(msgid) + "\nmsgstr \"\"\n\n";
  }
  const std::string& text() const { return out_; }

 private:
  std::set<std::pair<std::string, std::string>> seen_;
  std::string out_ = "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\n";
};

}  // namespace

std::string catalog_template() {
  Template pot;
  for (const Verb& verb : verbs()) {
    std::string where = "verbs:" + std::string(verb.name);
    pot.add(where, "verb", verb.name);
    pot.add(where, "", verb.help);
    for (const Field& field : verb.fields) {
      pot.add(where, "field", field.name);
      pot.add(where, "", field.help);
      for (std::string_view choice : field.choices) pot.add(where, field.name, choice);
    }
  }
  for (Stage stage : kStages) pot.add("stages", "stage", to_string(stage));
  for (const Kind& kind : kKinds) pot.add("kinds", "kind", kind.code);
  for (security::Role role : security::kRoles) pot.add("roles", "role", security::role_name(role));
  for (const std::string& column : export_columns()) pot.add("export", "column", column);
  return pot.text();
}

}  // namespace closeloop::cli
