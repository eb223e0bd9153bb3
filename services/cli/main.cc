// closeloop: the command-line client. Its verbs, their options and help come from the
// verb declarations (workflow/verbs.h); this file turns a command line into requests and
// replies into output.
//
// Contract:
//   closeloop [--endpoint URL] [--config FILE] [--timeout MS] [--actor NAME] [--json]
//             [--lang zh|en] VERB ...
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
// - Every word it prints is in its language (cli.h, choose_language()): help and usage,
//   the service's refusals (translated here from their msgids), tables and headers.
// - Only usage is checked here; field values (outcome, rating, dates, lengths) are the
//   service's to check, so its refusal is what the user sees.
// - Output: with --json one JSON document on stdout: the item (commands, show), the
//   events array (trail), the items array (list, inbox, overdue, attention; printed page
//   by page as they arrive, so memory stays flat), the scoreboard, the import's
//   {imported, duplicates, refused, items, ignored_columns, possible_duplicates, dry_run}
//   (import --template prints CSV), due's {due, rule, from, calendar, provisional}, the
//   checkpoint {size, root, at, key, signature} (the file an auditor keeps; with
//   --consistency {consistent, old, checkpoint, proof}), status's {broker, workers: [...]}.
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
#include <regex>
#include <string>

#include "base/result.h"
#include "cli.h"
#include "daemon/daemon.h"
#include "render.h"
#include "security/rights.h"
#include "workflow/verbs.h"

namespace closeloop::cli {
namespace {

using i18n::_;

// CLI11's own words in its help, in the CLI's language.
void speak(CLI::App& app) {
  auto formatter = app.get_formatter();
  // Not the value types (TEXT, INT): CLI11 aligns columns by bytes, not by width.
  for (const char* label :
       {N_("Usage"), N_("OPTIONS"), N_("SUBCOMMAND"), N_("SUBCOMMANDS"), N_("Positionals"),
        N_("REQUIRED"), N_("Needs"), N_("Excludes"), N_("Env")})
    formatter->label(label, std::string(_(label)));
  app.option_defaults()->group(std::string(_("Options")));
  app.set_help_flag("-h,--help", std::string(_("Print this help message and exit")));
}

// A usage error as CLI11 found it, in the CLI's language (the names in it are flags).
std::string usage_error(const CLI::ParseError& e) {
  std::string what = e.what();
  std::smatch m;
  if (static const std::regex required("^(\\S+) is required$"); std::regex_match(what, m, required))
    return i18n::say(i18n::language(), N_("{option} is required"), {{"option", m[1]}});
  if (static const std::regex extra("^The following arguments? (?:was|were) not expected: (.*)$");
      std::regex_match(what, m, extra))
    return i18n::say(i18n::language(), N_("not expected: {arguments}"), {{"arguments", m[1]}});
  return i18n::say(i18n::language(), N_("usage error: {detail}"), {{"detail", what}});
}

void define_globals(CLI::App& app, Invocation& in) {
  app.fallthrough();  // so global options may follow the verb
  app.add_option("--endpoint", in.endpoint,
                 std::string(_("broker endpoint (default: $CLOSELOOP_ENDPOINT, config)")));
  app.add_option("--config", in.config,
                 std::string(_("config file (default: $CLOSELOOP_CONFIG, config/closeloop.toml, "
                               "/etc/closeloop/closeloop.toml)")));
  app.add_option("--timeout", in.timeout_ms,
                 std::string(_("milliseconds to wait for an answer (default 5000)")))
      ->check(CLI::Range(1, 3600000));
  app.add_option("--actor", in.actor,
                 std::string(_("who acts: your account's name (the default), or for a gateway "
                               "the person's")));
  app.add_option("--key", in.key,
                 std::string(_("your key file (default: $CLOSELOOP_KEY, config key, "
                               "<data_dir>/keys/office.key)")));
  app.add_option("--server-key", in.server_key,
                 std::string(_("the service's public key (default: $CLOSELOOP_SERVER_KEY, "
                               "config server_key, <data_dir>/keys/broker.pub)")));
  app.add_flag("--json", in.json, std::string(_("print the reply as JSON")));
  app.add_option("--lang", in.lang,
                 std::string(_("the language to speak: zh or en (default: $CLOSELOOP_LANG, "
                               "config language, zh)")))
      ->check(CLI::IsMember({"zh", "en"}));
}

// One option per declared field; values land in in.values["<verb>/<field>"].
void define_field(CLI::App* sub, const Verb& verb, const Field& field, Invocation& in) {
  Value& v = in.values[std::string(verb.name) + "/" + std::string(field.name)];
  std::string flag = "--" + std::string(field.name);
  std::string help(_(field.help));
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

// A subcommand's help in the CLI's language, listed among the subcommands.
CLI::App* spoken(CLI::App* sub) {
  sub->fallthrough()->group(std::string(_("Subcommands")));
  if (CLI::Option* help = sub->get_help_ptr()) help->group(std::string(_("Options")));
  return sub;
}

// The verb's subcommand; a dotted name ("user.add") is a subcommand of a subcommand.
CLI::App* subcommand(CLI::App& app, std::string_view name, const std::string& help) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return spoken(app.add_subcommand(std::string(name), help));
  std::string group(name.substr(0, dot));
  CLI::App* parent = nullptr;
  try {
    parent = app.get_subcommand(group);
  } catch (const CLI::OptionNotFound&) {
    parent =
        spoken(app.add_subcommand(group, i18n::say(i18n::language(),
                                                   N_("manage {group}s: {group} SUBCOMMAND --help"),
                                                   {{"group", group}})))
            ->require_subcommand(1);
  }
  return spoken(parent->add_subcommand(std::string(name.substr(dot + 1)), help));
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
    std::string help(_(verb.help));
    if (!verb.usage.empty())
      help += "   " + std::string(_("usage:")) + " " + std::string(verb.name) + " " +
              std::string(verb.usage);
    CLI::App* sub = subcommand(app, verb.name, help);
    if (verb.takes_id)
      sub->add_option("ID", in.id, std::string(_("item id, e.g. 2026-000042")))->required();
    if (verb.name == "bundle")
      sub->add_option("ID", in.ids, std::string(_("item ids")))->required();
    if (verb.name == "import")
      sub->add_option("FILE", in.file, std::string(_("the CSV file (not with --template)")));
    for (const Field& field : verb.fields)
      if (!field.wire_only) define_field(sub, verb, field, in);
  }
  CLI::App* table = spoken(
      app.add_subcommand("verbs", std::string(_("print the verb table of docs/protocol.md"))));
  table->add_flag("--markdown", in.markdown, std::string(_("as Markdown (the default)")));
  table->add_flag("--pot", in.pot,
                  std::string(_("the words of the declarations as a gettext template (po/)")));
  CLI::App* rights = spoken(
      app.add_subcommand("rights", std::string(_("print who may do what (docs/security.md)"))));
  rights->add_flag("--markdown", in.markdown, std::string(_("as Markdown (the only form)")));
}

}  // namespace
}  // namespace closeloop::cli

int main(int argc, char** argv) {
  using namespace closeloop::cli;
  using closeloop::i18n::_;
  closeloop::private_umask();
  closeloop::i18n::set_language(choose_language(argc, argv));
  CLI::App app{
      std::string(_("closeloop: file, assign, handle, verify and close items; "
                    "supervise deadlines; show and prove their trails"))};
  speak(app);
  Invocation in;
  define_globals(app, in);
  define_verbs(app, in);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitUsage;  // --help
    fail(kExitUsage, usage_error(e));
    std::fprintf(stderr, "%s\n", std::string(_("Run with --help for more information.")).c_str());
    return kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitUsage;
  }
  in.verb = verb_of(app);
  try {
    return run(in);
  } catch (const std::exception& e) {
    return fail(kExitInternal,
                closeloop::i18n::say(closeloop::i18n::language(), N_("internal error: {detail}"),
                                     {{"detail", e.what()}}));
  }
}
