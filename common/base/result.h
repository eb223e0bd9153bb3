// Expected failures as values: an Error carries a stable code (part of the wire
// protocol, see docs/protocol.md) and a message for people: a catalog's msgid with its
// arguments, which each client says in its reader's language (i18n/words.h), and the
// same in English. Result<T> is either a T or an Error. Exceptions from libraries are caught at the
// event-loop boundary and turned into an Error; they never cross a worker's loop.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

// Marks a msgid for xgettext (po/README.md); translated where it is said, not here.
#define N_(msgid) msgid

namespace closeloop {

// Stable error codes. Clients branch on these; messages are for people.
namespace errc {
inline constexpr const char* kBadRequest = "bad_request";  // malformed frame or field type
inline constexpr const char* kInvalid = "invalid";          // a field's value is not acceptable
inline constexpr const char* kRefused = "refused";          // not allowed in the item's stage
inline constexpr const char* kNotFound = "not_found";       // unknown item id
inline constexpr const char* kForbidden = "forbidden";      // the account's rights do not allow it
inline constexpr const char* kUnauthenticated =
    "unauthenticated";                                      // no accepted key (or it was disabled)
inline constexpr const char* kUnavailable = "unavailable";  // no live worker for the verb (retryable)
inline constexpr const char* kInTransit = "in_transit";     // item moving between stages (retryable)
inline constexpr const char* kInternal = "internal";
inline constexpr const char* kTimeout = "timeout";  // client side: no answer within the timeout
}  // namespace errc

// A message's arguments: each {name} in its msgid stands for the value of `name`.
using MessageArgs = std::vector<std::pair<std::string, std::string>>;

struct Error {
  std::string code;
  std::string message;  // in English, the arguments put in: for logs and any client
  std::string msgid;    // the catalog's msgid of `message`, if it was made for people
  MessageArgs args;
  std::string field;  // the request's field it concerns, if one: each client names it its
                      // own way (the CLI's --flag, an import's column, a form's label)

  // An error for people: `msgid` is English with {name} placeholders, wrapped in N_().
  static Error of(std::string code, std::string_view msgid, MessageArgs args = {},
                  std::string field = {});
};

// `msgid` with each {name} replaced by its argument ({field} by `field`, {field:NAME}, another
// field the message names, by NAME); a placeholder without an argument stays as it is.
std::string format_message(std::string_view msgid, const MessageArgs& args,
                           std::string_view field = {});

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that return nothing but may fail.
struct Done {};
using Status = Result<Done>;
inline Status ok_status() { return Done{}; }

}  // namespace closeloop
