// What an item's trail says about any past day, and the scoreboard built on it.
//
// Answers "as of" a day count only the events on or before it (by the day an event
// counts on: its occurred_on for imported history, else the office-local day of its
// time), so a later event never changes them. Everything here reads trails alone: the
// ledger serves it, and anyone holding the trails (an auditor, a test) can recompute it.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/calendar.h"
#include "config/config.h"
#include "wire/json.h"
#include "workflow/event.h"

namespace closeloop {

// The day an event counts on.
using DayOf = std::function<Date(const Event&)>;

// An item at the end of a day.
struct Standing {
  bool exists = false;  // submitted by then
  Stage stage = Stage::kSubmitted;
  std::string department;  // lead
  std::string due;         // the reply's due date in force
  std::string waiting_since;  // submitted: the day it was submitted or last returned
  bool overdue() const { return exists && stage == Stage::kAssigned && !due.empty(); }
};
Standing standing_as_of(const std::vector<Event>& trail, Date as_of, const DayOf& day_of);
// Whether the reply was late on `as_of`: assigned, and its due date before that day.
bool overdue_on(const Standing& s, Date as_of);

// The scoreboard's columns, in order (docs/supervision.md defines each).
// `withdrawn` items count in no other column: they leave the denominators from the day
// they were withdrawn.
inline constexpr std::array<std::string_view, 14> kScoreColumns{
    "received", "signed_on_time", "replied", "replied_on_time", "returned", "reassigned",
    "reworked", "evaluated", "satisfied", "basically_satisfied", "unsatisfied", "open_promises",
    "overdue_now", "withdrawn"};

// One department's numbers: the ids behind each column.
struct Score {
  std::map<std::string, std::vector<std::string>, std::less<>> ids;
  size_t count(std::string_view column) const;
};

struct ScorePeriod {
  Date from, to, as_of;  // assignments in [from, to], events up to as_of
};

// Adds what one item's trail contributes to each department's score.
void score_trail(const std::vector<Event>& trail, const ScorePeriod& period,
                 const Calendar& calendar, const Rules& rules, const DayOf& day_of,
                 std::map<std::string, Score>& scores);

// {from, to, as_of, departments: [{department, name, <column>: n..., satisfaction_rate,
// items?: {<column>: [ids]}}]}, every configured department (or just `only`) in config order.
wire::Json scoreboard_json(const std::map<std::string, Score>& scores, const ScorePeriod& period,
                           const Config& config, const std::string& only, bool with_items);

}  // namespace closeloop
