// Words for people, in the language they read (docs/architecture.md, "Words for people").
//
// Every sentence and word a person reads is a msgid of the catalog po/<language>.po: the
// English text, with {name} placeholders for its arguments. Code marks a literal with
// N_() (or _() where it is said at once) so that xgettext finds it; the catalogs are
// compiled by msgfmt at build and carried in the binary, so no file is looked up and no
// locale is needed.
//
// Workers never translate: an Error carries its msgid, arguments and field (base/result.h)
// and each client — the CLI, the API, the console — says it in its reader's language.
// An argument is shown by its name in the catalog when the catalog names it: the
// argument's name is the msgctxt (its vocabulary), its value the msgid — {stage} with
// "assigned" reads 已交办 in Chinese; a list of codes, named in the plural ({verbs}:
// "handle, return"), is shown code by code. {field} (the error's field) and {field:NAME}
// (another field the message names, e.g. {field:promise}) are the client's to name.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "i18n/catalog.h"

// Marks a code's name for xgettext: NC_("stage", "assigned") is the msgid "assigned" in
// the context "stage" (name_of() looks it up).
#define NC_(vocabulary, code) code

namespace closeloop::i18n {

enum class Language { kZh, kEn };
// The vocabularies of codes the catalogs name (msgctxt): `closeloop verbs --pot` lists them.
inline constexpr std::string_view kVocabularies[] = {"stage", "kind", "role", "verb", "field",
                                                     "todo"};
inline constexpr Language kDefaultLanguage = Language::kZh;
inline constexpr const char* kLanguageEnv = "CLOSELOOP_LANG";

// "zh", "zh_CN", "zh-CN", "zh_CN.UTF-8", "en", "en_US"…; nullopt for anything else.
std::optional<Language> parse_language(std::string_view name);
std::string_view language_code(Language language);  // "zh", "en"

// The catalog of `language`, as built from po/.
const Catalog& catalog(Language language);

// `msgid` in `language`; the msgid itself (English) when the catalog has no translation.
std::string_view tr(Language language, std::string_view msgid);
// The name of a code in its vocabulary ("stage", "kind", "role", "verb", "source"…); the
// code itself when the catalog does not name it.
std::string_view name_of(Language language, std::string_view vocabulary, std::string_view code);

// What a client adds when it says a message: how it names {field} (a flag, a column, a
// form's label), and any argument it shows its own way (a department's name beside its
// code). An empty function leaves the default.
struct Voice {
  std::function<std::string(std::string_view field)> field;
  std::function<std::optional<std::string>(std::string_view name, std::string_view value)> arg;
};

// The message in `language`, its arguments put in.
std::string say(Language language, std::string_view msgid, const MessageArgs& args = {},
                std::string_view field = {}, const Voice& voice = {});
// An error's message in `language` (its English message when it was not made for people).
std::string say(Language language, const Error& error, const Voice& voice = {});

// The language of a process that speaks one (the CLI, closeloopd): set once at start.
void set_language(Language language);
Language language();
// A literal in the process's language, marked for xgettext.
inline std::string_view _(std::string_view msgid) { return tr(language(), msgid); }

}  // namespace closeloop::i18n
