// Due dates, and why they are what they are. Periods follow the Civil Code (民法典 Art.
// 201–203) on the office's working-day calendar (calendar/calendar.h): the starting day
// is not counted, a period in months ends on the corresponding day (or the month's last
// day), and a last day that is a day off moves to the next working day. Every due date
// carries its DueBasis: the rule in words, the day it counts from, the calendar files
// consulted, and whether a year without calendar data made it provisional. The rule is
// recorded twice: in English words (`rule`, as ever) and by its code (`code`, below),
// which with the basis's numbers a client says in its reader's language (say_basis).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calendar/calendar.h"
#include "config/config.h"
#include "i18n/words.h"  // the Language of say_basis() (basis_words.cc)
#include "workflow/item.h"

namespace closeloop {

// The codes of DueBasis::code: which rule set the date.
namespace due_rule {
// The kind's statutory period, counted from the assignment or from a reassignment.
inline constexpr const char* kSuggestion = "suggestion";
inline constexpr const char* kSuggestionComplex = "suggestion_complex";
inline constexpr const char* kStation = "station";
inline constexpr const char* kSuggestionReassigned = "suggestion_reassigned";
inline constexpr const char* kSuggestionComplexReassigned = "suggestion_complex_reassigned";
inline constexpr const char* kStationReassigned = "station_reassigned";
inline constexpr const char* kGiven = "given";                     // by the office, at assignment
inline constexpr const char* kGivenReassigned = "given_reassigned";  // at reassignment
inline constexpr const char* kLastMilestone = "last_milestone";    // a project's
inline constexpr const char* kRework = "rework";    // months after an unsatisfied evaluation
inline constexpr const char* kReopen = "reopen";    // months after reopening
inline constexpr const char* kExtension = "extension";  // approved; `was` the date before
inline constexpr const char* kPeriod = "period";    // the `due` verb's: a period after `from`
}  // namespace due_rule

struct Period {
  uint64_t working_days = 0, months = 0;  // exactly one is non-zero
};

struct Due {
  std::string date;  // YYYY-MM-DD
  DueBasis basis;
};

// `period` after `from`, explained by `code` (due_rule) and `rule`, its English words.
Due due_after(const Calendar& calendar, Date from, Period period, std::string code,
              std::string rule);
// A date set by hand (--due, the last milestone, an approved extension): no period.
Due due_on(std::string date, std::string code, std::string rule, Date from);

// The reply period of a kind with a statutory one (suggestion, station), counted from
// the assignment (`after` names it in the rule: "assignment", "reassignment"); nullopt
// for the kinds whose due date is set at assignment (audit and legislative with --due,
// project at its last milestone).
std::optional<Due> statutory_due(const Rules& rules, const Calendar& calendar,
                                 std::string_view kind, bool complex, Date assigned_on,
                                 std::string_view after = "assignment");

// The same basis counted again on `calendar` (a calendar file was added or changed), its
// code as it was (none for an older record's); nullopt for a date set by hand.
std::optional<Due> recount(const Calendar& calendar, const DueBasis& basis);

// A message for people: a catalog msgid and its arguments, said by each client.
struct Sentence {
  std::string msgid;
  MessageArgs args;
};
// The basis's rule as a message: by its code and numbers; an older record's (no code) by
// the code its English words show; words of no known rule as they are.
Sentence basis_message(const DueBasis& basis);
// The whole basis for people in `language`: the rule, the day it counts from, the
// calendar files when `with_calendar`, and whether it is provisional.
std::string say_basis(i18n::Language language, const DueBasis& basis, bool with_calendar = false);

// "15 working days", "3 months", "1 month".
std::string describe(Period period);

}  // namespace closeloop
