// A command (a verb that changes one item) as it arrives: the verb, the item, who acts,
// and the verb's fields, read and checked against the verb's declaration (verbs.h).
// decode_command() checks everything that needs no state (types, required fields,
// choices, dates, lengths, the verb's own cross-field check); decide() (decide.h) checks
// the rest against the item.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wire/json.h"
#include "wire/message.h"
#include "workflow/verbs.h"

namespace closeloop {

struct Command {
  std::string verb;
  std::string item_id;  // empty for submit
  std::string actor;
  std::string via;  // the gateway account the actor acts through, if any
  wire::Json fields = wire::Json::object();  // by field name, typed as declared; absent if not given

  const Verb& spec() const;  // REQUIRES a verb of kVerbs
  bool has(std::string_view name) const;
  std::string text(std::string_view name) const;  // "" when absent
  bool flag(std::string_view name) const;
  uint64_t number(std::string_view name) const;
  std::vector<std::string> codes(std::string_view name) const;
  // Sets a field (tests, workers building commands); a value of the declared type.
  Command& set(std::string_view name, wire::Json value);
};

// Reads a verb's declared fields from a request body: each checked for its type, limit
// and choices; required ones present and not blank. Keys the verb does not declare are
// ignored (newer clients may send more). A field the body leaves out is taken from
// `given` when it is there (what the account supplies: security::bound_fields()).
Result<wire::Json> decode_fields(const Verb& verb, const msgpack::object& body,
                                 const wire::Json& given = wire::Json::object());

Result<Command> decode_command(const wire::Request& request,
                               const wire::Json& given = wire::Json::object());

// The request body of a command (the inverse of decode_command): `item`, then its fields.
std::string encode_command_body(const Command& command);

}  // namespace closeloop
