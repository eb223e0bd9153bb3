// decode_command(): a verb's declared fields, read and checked without any state.
#include <catch2/catch.hpp>

#include "i18n/words.h"
#include "workflow/command.h"

using namespace closeloop;

namespace {

Command make(std::string verb, std::string actor = "王芳") {
  return Command{.verb = std::move(verb), .item_id = "2026-000001", .actor = std::move(actor)};
}

Result<Command> round_trip(const Command& c) {
  std::string bytes = wire::encode_request(c.verb, 1, c.actor, encode_command_body(c));
  auto request = wire::decode_request(bytes.data(), bytes.size());
  REQUIRE(request.ok());
  return decode_command(*request);
}

std::string error_of(const Command& c) {
  auto r = round_trip(c);
  REQUIRE_FALSE(r.ok());
  return r.error().code + ": " + r.error().message;
}

// The error as the CLI says it in English: its fields as flags.
std::string said_by_cli(const Command& c) {
  auto r = round_trip(c);
  REQUIRE_FALSE(r.ok());
  i18n::Voice voice;
  voice.field = [](std::string_view field) { return "--" + std::string(field); };
  return r.error().code + ": " + i18n::say(i18n::Language::kEn, r.error(), voice);
}

}  // namespace

TEST_CASE("a command survives encode and decode with its typed fields", "[workflow][command]") {
  Command c = make("assign");
  c.set("department", "zjj").set("co", {"jtj"}).set("due", "2099-12-31");
  c.set("milestone", {{{"date", "2026-12-01"}, {"text", "开工"}}});
  auto back = round_trip(c);
  REQUIRE(back.ok());
  CHECK(back->text("department") == "zjj");
  CHECK(back->codes("co") == std::vector<std::string>{"jtj"});
  CHECK(back->text("due") == "2099-12-31");
  CHECK(back->fields["milestone"][0]["text"] == "开工");
  Command flags = make("decide-extension");
  flags.set("approve", true);
  CHECK(round_trip(flags)->flag("approve"));
}

TEST_CASE("decode_command checks types, limits, choices and dates from the declaration",
          "[workflow][command]") {
  Command empty_title = make("submit");
  empty_title.set("title", "   ").set("body", "正文");
  CHECK(error_of(empty_title) == "invalid: title must not be empty");
  Command long_title = make("submit");
  std::string title;
  for (int i = 0; i < 201; ++i) title += "字";
  long_title.set("title", title).set("body", "正文");
  CHECK(error_of(long_title).starts_with("invalid: title is longer than 200"));
  title.resize(200 * 3);
  long_title.set("title", title);
  CHECK(round_trip(long_title).ok());
  Command outcome = make("handle");
  outcome.set("department", "zjj").set("reply", "r").set("outcome", "done");
  CHECK(error_of(outcome).starts_with("invalid: outcome must be one of solved | in-progress"));
  Command kind = make("submit");
  kind.set("title", "t").set("body", "b").set("kind", "petition");
  CHECK(error_of(kind).starts_with("invalid: kind must be one of suggestion"));
  Command no_actor = make("close", "");
  CHECK(error_of(no_actor).starts_with("invalid: actor"));
  Command bad_due = make("assign");
  bad_due.set("department", "zjj").set("due", "2026-02-30");
  CHECK(error_of(bad_due) == "invalid: due must be a date YYYY-MM-DD, not '2026-02-30'");
  Command bad_milestone = make("assign");
  bad_milestone.set("department", "zjj").set("milestone", {{{"date", "12/01"}, {"text", "x"}}});
  CHECK(error_of(bad_milestone).find("milestone's date") != std::string::npos);
  Command missing = make("return");
  missing.set("department", "zjj");
  CHECK(error_of(missing) == "bad_request: body lacks reason");
  Command wrong_type = make("milestone");
  wrong_type.set("department", "zjj").set("index", "one");
  CHECK(error_of(wrong_type).starts_with("bad_request:"));
}

TEST_CASE("a verb's own check runs before any item is read", "[workflow][command]") {
  Command planned = make("handle");
  planned.set("department", "zjj").set("reply", "明年实施").set("outcome", "planned");
  CHECK(said_by_cli(planned).find("needs --promise") != std::string::npos);
  planned.set("promise", "2027-06-30");
  CHECK(round_trip(planned).ok());
  Command both = make("verify");
  both.set("rating", "satisfied").set("result", "satisfied");
  CHECK(said_by_cli(both).find("either --rating") != std::string::npos);
  Command unsatisfied = make("verify");
  unsatisfied.set("rating", "unsatisfied");
  CHECK(said_by_cli(unsatisfied).find("needs a --comment") != std::string::npos);
  Command neither = make("decide-extension");
  CHECK(said_by_cli(neither) == "invalid: give either --approve or --refuse");
}

TEST_CASE("fields a verb does not declare are ignored, and queries are not commands",
          "[workflow][command]") {
  std::string body = wire::MapBuilder().add("item", "2026-000001").add("note", "n").add("x", 1).finish();
  std::string bytes = wire::encode_request("close", 1, "王芳", body);
  auto request = wire::decode_request(bytes.data(), bytes.size());
  auto c = decode_command(*request);
  REQUIRE(c.ok());
  CHECK(c->fields == wire::Json{{"note", "n"}});
  std::string show = wire::encode_request("show", 2, "王芳", body);
  CHECK(decode_command(*wire::decode_request(show.data(), show.size())).error().code ==
        errc::kBadRequest);
}
