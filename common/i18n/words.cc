#include "i18n/words.h"

#include <spdlog/spdlog.h>

#include <atomic>

namespace closeloop::i18n {
namespace embedded {  // po/*.mo, written into the build by po/embed.cmake
extern const std::string_view kZhCN;
extern const std::string_view kEn;
}  // namespace embedded

namespace {

Catalog load(std::string_view mo, const char* name) {
  auto catalog = Catalog::parse(std::string(mo));
  if (catalog) return std::move(*catalog);
  spdlog::error("the {} message catalog is unreadable: {}", name, catalog.error().message);
  return Catalog();  // English, the msgids, for everything
}

std::atomic<Language> process_language{kDefaultLanguage};

}  // namespace

std::optional<Language> parse_language(std::string_view name) {
  std::string_view base = name.substr(0, name.find_first_of("_-.@"));
  if (base == "zh") return Language::kZh;
  if (base == "en") return Language::kEn;
  return std::nullopt;
}

std::string_view language_code(Language language) {
  return language == Language::kZh ? "zh" : "en";
}

const Catalog& catalog(Language language) {
  static const Catalog zh = load(embedded::kZhCN, "zh_CN");
  static const Catalog en = load(embedded::kEn, "en");
  return language == Language::kZh ? zh : en;
}

std::string_view tr(Language language, std::string_view msgid) {
  return catalog(language).find(msgid).value_or(msgid);
}

std::string_view name_of(Language language, std::string_view vocabulary, std::string_view code) {
  return catalog(language).find(vocabulary, code).value_or(code);
}

namespace {

bool is_vocabulary(std::string_view name) {
  for (std::string_view v : kVocabularies)
    if (v == name) return true;
  return false;
}

// An argument as shown: a code by its name in its vocabulary (the argument's name); a
// list of codes ("verbs": "handle, return") each by its name in the singular's.
std::string shown_value(Language language, std::string_view name, const std::string& value) {
  if (auto named = catalog(language).find(name, value)) return std::string(*named);
  std::string_view vocabulary = name.substr(0, name.size() - (name.ends_with('s') ? 1 : 0));
  if (!name.ends_with('s') || !is_vocabulary(vocabulary)) return value;
  std::string_view rest = value;
  std::string out;
  while (!rest.empty()) {
    size_t comma = rest.find(", ");
    std::string_view code = rest.substr(0, comma);
    if (!out.empty()) out += language == Language::kZh ? "、" : ", ";
    out += name_of(language, vocabulary, code);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 2);
  }
  return out;
}

}  // namespace

std::string say(Language language, std::string_view msgid, const MessageArgs& args,
                std::string_view field, const Voice& voice) {
  MessageArgs shown;
  shown.reserve(args.size() + 1);
  for (const auto& [name, value] : args) {
    std::optional<std::string> own = voice.arg ? voice.arg(name, value) : std::nullopt;
    shown.emplace_back(name, own ? *own : shown_value(language, name, value));
  }
  auto field_name = [&](std::string_view f) {
    return voice.field ? voice.field(f) : std::string(name_of(language, "field", f));
  };
  if (!field.empty() && msgid.find("{field}") != std::string_view::npos)
    shown.emplace_back("field", field_name(field));
  for (size_t at = msgid.find("{field:"); at != std::string_view::npos;
       at = msgid.find("{field:", at + 1)) {  // other fields the message names
    size_t close = msgid.find('}', at);
    if (close == std::string_view::npos) break;
    std::string_view name = msgid.substr(at + 1, close - at - 1);
    shown.emplace_back(std::string(name), field_name(name.substr(6)));
  }
  return format_message(tr(language, msgid), shown);
}

std::string say(Language language, const Error& error, const Voice& voice) {
  if (error.msgid.empty()) return error.message;
  return say(language, error.msgid, error.args, error.field, voice);
}

void set_language(Language language) { process_language = language; }
Language language() { return process_language; }

}  // namespace closeloop::i18n
