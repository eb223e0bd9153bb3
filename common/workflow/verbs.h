// Every verb, declared once: its fields (types, limits, help), the worker it goes to,
// the stage moves it makes, and the rule that applies it. The decoder (command.h),
// the broker's routing, the stage workers, the CLI (its options and help) and the
// verb table in docs/protocol.md (`closeloop verbs --markdown`) are all driven by
// kVerbs; nothing else lists verbs.
//
// Kinds of verb:
//   command  changes one item: decoded by decode_command(), applied by the worker that
//            holds the item (a worker that does not hold it forwards it there, or says
//            where it is), recorded as an event whose payload is the command's fields
//            plus what the rule decided;
//   query    reads: one request, answered by `service`;
//   client   composed by the CLI itself (bundle, export, import, due);
//   account  changes or lists the people's accounts (user.add …), kept by the ledger;
//   ops      the service's own running (incidents …), for operators.
// A dotted name ("user.add") is a CLI subcommand of a subcommand (closeloop user add).
// An `internal` verb is sent by workers only (the timer's timer.remind, timer.overdue,
// timer.escalate, timer.redue, recorded as the actions remind, overdue, escalate,
// redue): the broker refuses it from clients and the CLI does not offer it.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "wire/json.h"
#include "workflow/lifecycle.h"

namespace closeloop {

struct Command;
struct Item;
struct Setting;
template <typename T>
class Result;
struct Done;
using Status = Result<Done>;
struct Error;

inline constexpr size_t kMaxTitleChars = 200;
inline constexpr size_t kMaxTextChars = 20000;
inline constexpr size_t kMaxCodeChars = 32;
inline constexpr size_t kMaxNameChars = 64;

enum class FieldType {
  kText,        // a UTF-8 string of at most max_chars characters
  kCode,        // a department, category or station code; a kind; an id
  kCodes,       // a list of codes (the CLI takes them comma-separated)
  kDate,        // YYYY-MM-DD, an office-local calendar day
  kChoice,      // one of `choices`
  kFlag,        // true when given (the CLI's --flag)
  kNumber,      // a non-negative integer
  kMilestones,  // a list of {date, text} (the CLI's --milestone DATE=TEXT, repeatable)
};

struct Field {
  std::string_view name;  // on the wire, in the event's payload, and the CLI's --name
  FieldType type;
  std::string_view help;
  bool required = false;
  size_t max_chars = kMaxTextChars;
  std::span<const std::string_view> choices = {};
  bool client_only = false;  // the CLI's own option, never sent (trail --verify, --out)
  bool cli_required = false;  // the CLI insists, the wire does not (submit --body, issue 2)
  bool positional = false;    // the CLI takes it as an argument (user add NAME), not --name
  bool wire_only = false;     // no CLI option: the CLI sends it for another (checkpoint's old_size)
};

enum class VerbKind { kCommand, kQuery, kClient, kAccount, kOps };

// A stage move a command makes; from == to is a self-loop (the item stays).
struct Move {
  Stage from, to;
  std::string_view when;  // the condition, for people; empty if always
};

// The rule of a command: the item after it (stage included), or why not. It may add
// what it decided (a computed due date, an implicit sign-for) to `payload`.
using Apply = Result<Item> (*)(const Item& item, const Command& command, const Setting& setting,
                               wire::Json& payload);
// Checks among a command's fields that need no item (e.g. --rating or both --attitude
// and --result).
using Check = Status (*)(const Command& command);

struct Verb {
  std::string_view name, help;
  VerbKind kind;
  std::string_view service;  // the worker the broker sends it to; empty: none (client)
  bool takes_id = false;     // an item id: the CLI's ID argument, `item` on the wire
  std::span<const Field> fields;
  std::span<const Move> moves;  // commands only; empty for a command that creates items
  Apply apply = nullptr;        // commands only
  Check check = nullptr;
  bool internal = false;
  std::string_view usage;   // extra words for the CLI's help (e.g. "ID...")
  std::string_view action;  // the action recorded in the trail, when not the name

  std::string_view trail_action() const { return action.empty() ? name : action; }

  bool creates() const { return kind == VerbKind::kCommand && moves.empty(); }
  const Field* field(std::string_view name) const;
  // The move from `stage` to `to`, or from `stage` at all when `to` is empty.
  const Move* move(Stage stage, std::optional<Stage> to = std::nullopt) const;
};

std::span<const Verb> verbs();
const Verb* find_verb(std::string_view name);
// Whether a trail action is one this version knows (an entry with another is kept as
// an incident, not applied).
bool known_action(std::string_view action);

// The worker a client's message goes to: a verb's service, or empty for an unknown or
// internal type (the broker refuses those).
std::string_view service_for(std::string_view type);

// "assign" or "handle, return, sign…" (client verbs only) or "nothing".
std::string allowed_verbs(Stage stage);
// The refusal of a verb the stage does not allow.
Error refusal(std::string_view item_id, Stage stage, std::string_view verb);

// The verb table of docs/protocol.md, generated from kVerbs.
std::string verbs_markdown();

}  // namespace closeloop
