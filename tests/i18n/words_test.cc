// The message catalogs as the binaries carry them, and how a message is said.
#include "i18n/words.h"

#include <catch2/catch.hpp>
#include <cstring>

using namespace closeloop;
using namespace closeloop::i18n;

TEST_CASE("the catalogs compiled from po/ are carried and read", "[i18n]") {
  CHECK(catalog(Language::kZh).size() > 100);
  CHECK(catalog(Language::kEn).size() > 100);
  CHECK(tr(Language::kZh, "file a new item") == "登记新事项");
  CHECK(tr(Language::kEn, "file a new item") == "file a new item");
  CHECK(tr(Language::kZh, "a sentence no catalog has") == "a sentence no catalog has");
  CHECK(name_of(Language::kZh, "stage", "assigned") == "已交办");
  CHECK(name_of(Language::kZh, "kind", "audit") == "审计整改");
  CHECK(name_of(Language::kZh, "stage", "no-such-stage") == "no-such-stage");
}

TEST_CASE("a message's arguments are put in, codes by their names", "[i18n]") {
  CHECK(format_message("{a} and {b}, not {c}", {{"a", "1"}, {"b", "2"}}) == "1 and 2, not {c}");
  CHECK(format_message("give {field}", {}, "due") == "give due");
  CHECK(format_message("an unclosed {brace", {{"brace", "x"}}) == "an unclosed {brace");

  Error e = Error::of(errc::kInvalid, N_("{option} is required"), {{"option", "--due"}});
  CHECK(e.message == "--due is required");
  CHECK(say(Language::kZh, e) == "缺少必填项 --due");
  CHECK(say(Language::kEn, e) == "--due is required");
  Error plain{errc::kInternal, "not made for people"};
  CHECK(say(Language::kZh, plain) == "not made for people");
}

TEST_CASE("a client names the field and may show an argument its own way", "[i18n]") {
  Voice voice;
  voice.field = [](std::string_view field) { return "--" + std::string(field); };
  voice.arg = [](std::string_view name, std::string_view value) -> std::optional<std::string> {
    if (name == "department") return "县交通运输局 " + std::string(value);
    return std::nullopt;
  };
  CHECK(say(Language::kEn, "{department}: {stage}, {field}",
            {{"department", "jtj"}, {"stage", "assigned"}}, "due",
            voice) == "县交通运输局 jtj: assigned, --due");
  CHECK(say(Language::kEn, "{field} goes with {field:outcome} {outcome}", {{"outcome", "done"}},
            "promise", voice) == "--promise goes with --outcome done");
  CHECK(format_message("{field} goes with {field:outcome}", {}, "promise") ==
        "promise goes with outcome");
  CHECK(say(Language::kZh, "{stage}", {{"stage", "assigned"}}) == "已交办");
}

TEST_CASE("a catalog that is not a .mo file is refused, not read", "[i18n]") {
  CHECK_FALSE(Catalog::parse(""));
  CHECK_FALSE(Catalog::parse(std::string(64, 'x')));
  std::string cut(28, '\0');
  uint32_t magic = 0x950412de, count = 5, originals = 28, translations = 68;
  std::memcpy(cut.data(), &magic, 4);
  std::memcpy(cut.data() + 8, &count, 4);
  std::memcpy(cut.data() + 12, &originals, 4);
  std::memcpy(cut.data() + 16, &translations, 4);
  CHECK_FALSE(Catalog::parse(cut));  // its tables lie past its end
  CHECK(parse_language("zh_CN.UTF-8") == Language::kZh);
  CHECK(parse_language("en_US") == Language::kEn);
  CHECK_FALSE(parse_language("C"));
  CHECK_FALSE(parse_language("POSIX"));
}
