// closeloop: the command-line client. Its verbs, their options and help come from the
// verb declarations (workflow/verbs.h); this file turns a command line into requests and
// replies into output.
//
// Contract:
//   closeloop [--endpoint URL] [--config FILE] [--timeout MS] [--actor NAME] [--json] VERB ...
//   Global options may also follow the verb. `closeloop --help` lists the verbs,
//   `closeloop VERB --help` their options; `closeloop verbs --markdown` prints the table
//   of docs/protocol.md.
// - The endpoint is --endpoint, else $CLOSELOOP_ENDPOINT, else `endpoint` of the config
//   file; the timeout is --timeout, else the config's timing.request_timeout_ms (5000).
//   The config file is --config, else $CLOSELOOP_CONFIG, else <exe dir>/../../config/
//   closeloop.toml, else ./config/closeloop.toml. `due` reads the calendar and rules
//   from it, with no service at all.
// - The actor is --actor, else $CLOSELOOP_ACTOR, else $USER, else "cli".
// - Only usage is checked here; field values (outcome, rating, dates, lengths) are the
//   service's to check, so its refusal is what the user sees.
// - Output: with --json one JSON document on stdout: the item (commands, show), the
//   events array (trail), the items array (list, inbox, overdue, attention; printed page
//   by page as they arrive, so memory stays flat), the scoreboard, the import's
//   {imported, duplicates, refused}, due's {due, rule, from, calendar, provisional}.
//   Without it, a human-readable form.
// Exit codes:
//   0  done (also --help)
//   1  unexpected: an unreadable reply, an internal error
//   2  usage error; a local failure: a config, calendar, CSV or bundle file that cannot
//      be read or is not what it should be; a bad endpoint
//   3  refused by the service: `closeloop: <code>: <message>` on stderr (import: any
//      row refused; the valid rows stay imported)
//   4  no answer within the timeout: the outcome of a command is unknown
//   5  trail --verify: the hash chain does not verify, or ends before the item's head
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "base/result.h"
#include "cli.h"
#include "render.h"
#include "workflow/verbs.h"

namespace closeloop::cli {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string default_actor() {
  for (const char* name : {"CLOSELOOP_ACTOR", "USER"})
    if (std::string value = env(name); !value.empty()) return value;
  return "cli";
}

void define_globals(CLI::App& app, Invocation& in) {
  app.fallthrough();  // so global options may follow the verb
  app.add_option("--endpoint", in.endpoint,
                 "broker endpoint (default: $CLOSELOOP_ENDPOINT, config)");
  app.add_option("--config", in.config,
                 "config file (default: $CLOSELOOP_CONFIG, config/closeloop.toml)");
  app.add_option("--timeout", in.timeout_ms, "milliseconds to wait for an answer (default 5000)")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--actor", in.actor, "who acts (default: $CLOSELOOP_ACTOR, $USER, cli)");
  app.add_flag("--json", in.json, "print the reply as JSON");
}

// One option per declared field; values land in in.values["<verb>/<field>"].
void define_field(CLI::App* sub, const Verb& verb, const Field& field, Invocation& in) {
  Value& v = in.values[std::string(verb.name) + "/" + std::string(field.name)];
  std::string flag = "--" + std::string(field.name);
  std::string help(field.help);
  switch (field.type) {
    case FieldType::kFlag:
      v.option = sub->add_flag(flag, v.flag, help);
      break;
    case FieldType::kNumber:
      v.option = sub->add_option(flag, v.number, help);
      break;
    case FieldType::kCodes:
      v.option = sub->add_option(flag, v.list, help)->delimiter(',')->allow_extra_args(false);
      break;
    case FieldType::kMilestones:
      v.option = sub->add_option(flag, v.list, help)->allow_extra_args(false)->multi_option_policy(
          CLI::MultiOptionPolicy::TakeAll);
      break;
    default:
      v.option = sub->add_option(flag, v.text, help);
  }
  if (field.required || field.cli_required) v.option->required();
}

void define_verbs(CLI::App& app, Invocation& in) {
  for (const Verb& verb : verbs()) {
    if (verb.internal) continue;
    std::string help(verb.help);
    if (!verb.usage.empty()) help += "   usage: " + std::string(verb.name) + " " + std::string(verb.usage);
    CLI::App* sub = app.add_subcommand(std::string(verb.name), help)->fallthrough();
    if (verb.takes_id) sub->add_option("ID", in.id, "item id, e.g. 2026-000042")->required();
    if (verb.name == "bundle") sub->add_option("ID", in.ids, "item ids")->required();
    if (verb.name == "import") sub->add_option("FILE", in.file, "the CSV file")->required();
    for (const Field& field : verb.fields) define_field(sub, verb, field, in);
  }
  CLI::App* table = app.add_subcommand("verbs", "print the verb table of docs/protocol.md");
  table->add_flag("--markdown", in.markdown, "as Markdown (the only form)");
  CLI::App* rights = app.add_subcommand("rights", "print who may do what (docs/security.md)");
  rights->add_flag("--markdown", in.markdown, "as Markdown (the only form)");
}

}  // namespace
}  // namespace closeloop::cli

int main(int argc, char** argv) {
  using namespace closeloop::cli;
  CLI::App app{"closeloop: file, assign, handle, verify and close items; supervise deadlines; "
               "show and prove their trails"};
  Invocation in;
  in.actor = default_actor();
  define_globals(app, in);
  define_verbs(app, in);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitUsage;
  }
  in.verb = app.get_subcommands().front()->get_name();
  try {
    return run(in);
  } catch (const std::exception& e) {
    return fail(kExitInternal, std::string("internal error: ") + e.what());
  }
}
