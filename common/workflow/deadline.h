// Due dates, and why they are what they are. Periods follow the Civil Code (民法典 Art.
// 201–203) on the office's working-day calendar (calendar/calendar.h): the starting day
// is not counted, a period in months ends on the corresponding day (or the month's last
// day), and a last day that is a day off moves to the next working day. Every due date
// carries its DueBasis: the rule in words, the day it counts from, the calendar files
// consulted, and whether a year without calendar data made it provisional.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calendar/calendar.h"
#include "config/config.h"
#include "workflow/item.h"

namespace closeloop {

struct Period {
  uint64_t working_days = 0, months = 0;  // exactly one is non-zero
};

struct Due {
  std::string date;  // YYYY-MM-DD
  DueBasis basis;
};

// `period` after `from`, explained by `rule`.
Due due_after(const Calendar& calendar, Date from, Period period, std::string rule);
// A date set by hand (--due, the last milestone, an approved extension): no period.
Due due_on(std::string date, std::string rule, Date from);

// The reply period of a kind with a statutory one (suggestion, station), counted from
// the assignment (`after` names it in the rule: "assignment", "reassignment"); nullopt
// for the kinds whose due date is set at assignment (audit and legislative with --due,
// project at its last milestone).
std::optional<Due> statutory_due(const Rules& rules, const Calendar& calendar,
                                 std::string_view kind, bool complex, Date assigned_on,
                                 std::string_view after = "assignment");

// The same basis counted again on `calendar` (a calendar file was added or changed);
// nullopt for a date set by hand.
std::optional<Due> recount(const Calendar& calendar, const DueBasis& basis);

// "15 working days", "3 months", "1 month".
std::string describe(Period period);

}  // namespace closeloop
