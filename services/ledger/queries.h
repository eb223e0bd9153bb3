// The ledger's reads that may be heavy: each runs on the worker's reader thread against
// a snapshot (Context::read_later), so the loop that the commands' replies wait on goes
// on meanwhile. Each takes the request's decoded fields and returns the reply body. The
// caller has checked that the actor may ask (security::may); each list holds only the
// items the actor reaches with the verb (a clerk's department's, a deputy's own…).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "calendar/calendar.h"
#include "calendar/clock.h"
#include "config/config.h"
#include "security/rights.h"
#include "store/store.h"
#include "wire/json.h"

namespace closeloop::ledger {

// What every query may consult besides the snapshot.
struct QueryEnv {
  const Config& config;
  const Clock& clock;
  std::shared_ptr<const Calendar> calendar;
  size_t reply_bytes;     // a reply's budget (it always holds at least one entry)
  security::Actor actor;  // who asks: lists hold only the items their rights reach
  std::string verb;
};

// show: {item, view} — the record as stored (`item_bytes`, read when the request was taken)
// and what its trail adds up to that record's seq (workflow/view.h).
Result<std::string> show(const Reader& db, const std::string& item_bytes);
Result<std::string> list(const Reader& db, const QueryEnv& env, const wire::Json& filters);
Result<std::string> inbox(const Reader& db, const QueryEnv& env, const wire::Json& fields);
Result<std::string> overdue(const Reader& db, const QueryEnv& env, const wire::Json& fields);
Result<std::string> attention(const Reader& db, const QueryEnv& env, const wire::Json& fields);
Result<std::string> scoreboard(const Reader& db, const QueryEnv& env, const wire::Json& fields);
// The read audit ({reads: [{seq, at, actor, verb, item | query, via?}], more}), oldest first.
Result<std::string> reads(const Reader& db, const QueryEnv& env, const wire::Json& fields);
// For the timer: the marks due today ({actions: [{item, stage, action, due}]}), and the
// items whose due date is provisional ({items: [{item, stage}]}).
Result<std::string> due_scan(const Reader& db, const QueryEnv& env, const wire::Json& fields);
Result<std::string> provisional(const Reader& db, const QueryEnv& env, const wire::Json& fields);
// For intake's import: of the pairs {pairs: [{department, title}]} (department "" for none),
// the items not closed with that lead department and that title ({items: [{department,
// title, id}]}, a few per pair): the rows that may repeat them.
Result<std::string> import_open(const Reader& db, const QueryEnv& env, const wire::Json& fields);

// Whether the departments `codes` may leave the config (a reload): refused, naming a few,
// while any item not ended (closed or withdrawn) has one of them as its lead or co-department.
Status may_drop(const Reader& db, const std::vector<std::string>& codes);

}  // namespace closeloop::ledger
