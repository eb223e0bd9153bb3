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
//   closeloop.toml, else ./config/closeloop.toml, else /etc/closeloop/closeloop.toml
//   (the package's). `due` reads the calendar and rules from it, with no service at all.
// - Who acts is the account whose key the CLI holds (cli.h, client_keys()): --actor may
//   only repeat its name, or, for a gateway's account, name the person it acts for. With
//   security.mode = "off" (no keys) the actor is --actor, else $CLOSELOOP_ACTOR, else
//   $USER, else "cli".
// - Only usage is checked here; field values (outcome, rating, dates, lengths) are the
//   service's to check, so its refusal is what the user sees.
// - Output: with --json one JSON document on stdout: the item (commands, show), the
//   events array (trail), the items array (list, inbox, overdue, attention; printed page
//   by page as they arrive, so memory stays flat), the scoreboard, the import's
//   {imported, duplicates, refused, items, ignored_columns, possible_duplicates, dry_run}
//   (import --template prints CSV), due's {due, rule, from, calendar, provisional}, the
//   checkpoint {size, root, at, key, signature} (the file an auditor keeps; with
//   --consistency {consistent, old, checkpoint, proof}), status's {workers: [...]}.
//   Without it, a human-readable form.
// - umask 027 like every process of ours (daemon/daemon.h): a data dir `restore` makes, a
//   store `rebuild` makes, an export or a bundle it writes are closed to other users.
// Exit codes:
//   0  done (also --help)
//   1  unexpected: an unreadable reply, an internal error
//   2  usage error; a local failure: a config, calendar, CSV or bundle file that cannot
//      be read or is not what it should be; a bad endpoint
//   3  refused by the service: `closeloop: <code>: <message>` on stderr (import: any
//      row refused; the valid rows stay imported; import --dry-run: any row would be)
//   4  no answer within the timeout: the outcome of a command is unknown
//   5  trail --verify: the hash chain does not verify, or ends before the item's head;
//      checkpoint: a checkpoint whose signature does not verify, or (--consistency) a tree
//      that does not extend the earlier one
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "base/result.h"
#include "cli.h"
#include "daemon/daemon.h"
#include "render.h"
#include "security/rights.h"
#include "workflow/verbs.h"

namespace closeloop::cli {
namespace {

void define_globals(CLI::App& app, Invocation& in) {
  app.fallthrough();  // so global options may follow the verb
  app.add_option("--endpoint", in.endpoint,
                 "broker endpoint (default: $CLOSELOOP_ENDPOINT, config)");
  app.add_option("--config", in.config,
                 "config file (default: $CLOSELOOP_CONFIG, config/closeloop.toml, "
                 "/etc/closeloop/closeloop.toml)");
  app.add_option("--timeout", in.timeout_ms, "milliseconds to wait for an answer (default 5000)")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--actor", in.actor,
                 "who acts: your account's name (the default), or for a gateway the person's");
  app.add_option("--key", in.key,
                 "your key file (default: $CLOSELOOP_KEY, config key, <data_dir>/keys/office.key)");
  app.add_option("--server-key", in.server_key,
                 "the service's public key (default: $CLOSELOOP_SERVER_KEY, config server_key, "
                 "<data_dir>/keys/broker.pub)");
  app.add_flag("--json", in.json, "print the reply as JSON");
}

// One option per declared field; values land in in.values["<verb>/<field>"].
void define_field(CLI::App* sub, const Verb& verb, const Field& field, Invocation& in) {
  Value& v = in.values[std::string(verb.name) + "/" + std::string(field.name)];
  std::string flag = "--" + std::string(field.name);
  std::string help(field.help);
  if (field.positional) {
    std::string name(field.name);
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    v.option = sub->add_option(name, v.text, help)->required();
    return;
  }
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
  // A clerk's department comes from their account (the service checks the office's).
  bool from_account = field.name == "department" && security::acts_for_department(verb.name);
  if ((field.required || field.cli_required) && !from_account) v.option->required();
}

// The verb's subcommand; a dotted name ("user.add") is a subcommand of a subcommand.
CLI::App* subcommand(CLI::App& app, std::string_view name, const std::string& help) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos)
    return app.add_subcommand(std::string(name), help)->fallthrough();
  std::string group(name.substr(0, dot));
  CLI::App* parent = nullptr;
  try {
    parent = app.get_subcommand(group);
  } catch (const CLI::OptionNotFound&) {
    parent = app.add_subcommand(group, "manage " + group + "s: " + group + " SUBCOMMAND --help")
                 ->fallthrough()
                 ->require_subcommand(1);
  }
  return parent->add_subcommand(std::string(name.substr(dot + 1)), help)->fallthrough();
}

// The verb the command line names: "list", or "user.add" for `user add`.
std::string verb_of(const CLI::App& app) {
  const CLI::App* sub = app.get_subcommands().front();
  std::string name = sub->get_name();
  if (!sub->get_subcommands().empty()) name += "." + sub->get_subcommands().front()->get_name();
  return name;
}

void define_verbs(CLI::App& app, Invocation& in) {
  for (const Verb& verb : verbs()) {
    if (verb.internal) continue;
    std::string help(verb.help);
    if (!verb.usage.empty()) help += "   usage: " + std::string(verb.name) + " " + std::string(verb.usage);
    CLI::App* sub = subcommand(app, verb.name, help);
    if (verb.takes_id) sub->add_option("ID", in.id, "item id, e.g. 2026-000042")->required();
    if (verb.name == "bundle") sub->add_option("ID", in.ids, "item ids")->required();
    if (verb.name == "import")
      sub->add_option("FILE", in.file, "the CSV file (not with --template)");
    for (const Field& field : verb.fields)
      if (!field.wire_only) define_field(sub, verb, field, in);
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
  closeloop::private_umask();
  CLI::App app{"closeloop: file, assign, handle, verify and close items; supervise deadlines; "
               "show and prove their trails"};
  Invocation in;
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
  in.verb = verb_of(app);
  try {
    return run(in);
  } catch (const std::exception& e) {
    return fail(kExitInternal, std::string("internal error: ") + e.what());
  }
}
