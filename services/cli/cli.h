// The CLI's parts (main.cc parses, cli.cc runs a verb, files.cc reads and writes files:
// import, export, bundle, due; checkpoint.cc gets and checks the ledger's checkpoints).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "i18n/words.h"
#include "net/client.h"
#include "security/checkpoint.h"
#include "wire/json.h"
#include "workflow/verbs.h"

namespace closeloop::cli {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;
constexpr int kExitNoAnswer = 4;
constexpr int kExitBadTrail = 5;  // a trail, bundle or checkpoint that does not verify

// One option's value as CLI11 fills it.
struct Value {
  std::string text;
  std::vector<std::string> list;
  bool flag = false;
  uint64_t number = 0;
  CLI::Option* option = nullptr;
  bool given() const { return option && option->count() > 0; }
};

// Everything the command line says.
struct Invocation {
  std::string endpoint, config, actor, key, server_key, lang;
  int timeout_ms = 0;  // 0: not given
  bool json = false, markdown = false, pot = false;
  std::string verb, id, file;
  std::vector<std::string> ids;           // bundle
  std::map<std::string, Value> values;    // "<verb>/<field>" -> value
  const Value* value(std::string_view field) const;
};

// `msgid` in the CLI's language, its arguments put in.
inline std::string say(std::string_view msgid, const MessageArgs& args = {}) {
  return i18n::say(i18n::language(), msgid, args);
}

// An error's message in the CLI's language (its field named as the CLI's flag).
std::string said(const Error& error);
// "unreadable reply: <what>", for a reply the CLI cannot read.
std::string unreadable_reply(const Error& error);

// Writes `closeloop: <message>` to stderr and returns `code`.
int fail(int code, const std::string& message);
// Writes `closeloop: <code>: <message>`, the message in the CLI's language.
int fail(int code, const Error& error);

// The language the CLI speaks: --lang, else $CLOSELOOP_LANG, else the config's
// `language`, else Chinese. Read before the command line is parsed: its help is in it.
i18n::Language choose_language(int argc, char** argv);

int run(Invocation& in);

// The words of the verb declarations as a gettext template (vocabulary.cc).
std::string catalog_template();
// Every column an export writes, by its key (files.cc): the template names each.
std::vector<std::string> export_columns();

// The verb's fields as given on the command line, typed as declared (client-only
// fields included); a malformed --milestone is a usage error.
Result<wire::Json> fields_of(const Verb& verb, const Invocation& in);

// Where to connect, and the config file if one was found.
struct Target {
  std::string endpoint;
  int timeout_ms = 0;
  int64_t max_message_bytes = 1 << 20;
  Config config;  // defaults if no file
};
Result<Target> resolve_target(const Invocation& in);

// One answer from the service, or the exit code of why not (its message written).
struct Answer {
  std::optional<wire::Reply> reply;
  int exit_code = kExitOk;
};
Answer answer_of(Result<wire::Reply>& reply, const Target& target);

// The client-side verbs (files.cc).
int run_import(Client& client, const Target& target, const Invocation& in,
               const wire::Json& fields);
int run_import_template(const Target& target);
int run_export(Client& client, const Target& target, const Invocation& in, const wire::Json& fields);
int run_bundle(Client& client, const Target& target, const Invocation& in, const wire::Json& fields);
int run_due(const Target& target, const Invocation& in, const wire::Json& fields);
int run_keygen(const Invocation& in, const wire::Json& fields);
// backup.cc: a backup of the running service, a data dir from one, a stage from the ledger.
int run_backup(Client& client, const Target& target, const Invocation& in,
               const wire::Json& fields);
int run_restore(const Invocation& in, const wire::Json& fields);
int run_rebuild(Client& client, const Target& target, const Invocation& in,
                const wire::Json& fields);

// Checkpoints (checkpoint.cc). A checkpoint file as `checkpoint --json` writes it, its
// signature not checked (the caller does, to tell a forged one from a file that is not one).
Result<security::Checkpoint> read_checkpoint_file(const std::string& path);
// The ledger's checkpoint, its signature checked, and the consistency proof from `old`.
struct Tree {
  security::Checkpoint checkpoint;
  std::vector<security::Hash> proof;  // from old's size (empty without one)
};
// Asks for it (`fresh`: signed now if the latest does not cover every event); the exit
// code and its message if it cannot be had (5: a tree smaller than old's, a bad signature).
int fetch_tree(Client& client, const Target& target, const Invocation& in, bool fresh,
               const security::Checkpoint* old, Tree& out);
// Why `tree` does not extend `old` (another key, a proof that fails), or "".
std::string inconsistency(const security::Checkpoint& old, const Tree& tree);
int run_checkpoint(Client& client, const Target& target, const Invocation& in,
                   const wire::Json& fields);

}  // namespace closeloop::cli
