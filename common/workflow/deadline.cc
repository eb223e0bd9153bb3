#include "workflow/deadline.h"

namespace closeloop {

std::string describe(Period p) {
  if (p.working_days) return std::to_string(p.working_days) + " working day" + (p.working_days == 1 ? "" : "s");
  return std::to_string(p.months) + " month" + (p.months == 1 ? "" : "s");
}

Due due_after(const Calendar& calendar, Date from, Period period, std::string code,
              std::string rule) {
  DueDate d = period.working_days
                  ? calendar.add_working_days(from, static_cast<int>(period.working_days))
                  : calendar.add_months(from, static_cast<int>(period.months));
  Due due;
  due.date = d.date.str();
  due.basis.rule = std::move(rule);
  due.basis.code = std::move(code);
  due.basis.from = from.str();
  due.basis.calendar = d.use.calendar;
  due.basis.provisional = d.use.provisional;
  due.basis.working_days = period.working_days;
  due.basis.months = period.months;
  return due;
}

Due due_on(std::string date, std::string code, std::string rule, Date from) {
  Due due;
  due.date = std::move(date);
  due.basis.rule = std::move(rule);
  due.basis.code = std::move(code);
  due.basis.from = from.str();
  return due;
}

std::optional<Due> statutory_due(const Rules& rules, const Calendar& calendar,
                                 std::string_view kind, bool complex, Date assigned_on,
                                 std::string_view after) {
  bool again = after == "reassignment";
  if (kind == "suggestion") {
    Period p{0, static_cast<uint64_t>(complex ? rules.suggestion_complex_months
                                              : rules.suggestion_months)};
    std::string code = complex ? (again ? due_rule::kSuggestionComplexReassigned
                                        : due_rule::kSuggestionComplex)
                               : (again ? due_rule::kSuggestionReassigned : due_rule::kSuggestion);
    return due_after(calendar, assigned_on, p, code,
                     std::string("suggestion") + (complex ? " (complex)" : "") + ": " +
                         describe(p) + " after " + std::string(after));
  }
  if (kind == "station") {
    Period p{static_cast<uint64_t>(rules.station_working_days), 0};
    return due_after(calendar, assigned_on, p,
                     again ? due_rule::kStationReassigned : due_rule::kStation,
                     "station: " + describe(p) + " after " + std::string(after));
  }
  return std::nullopt;
}

std::optional<Due> recount(const Calendar& calendar, const DueBasis& basis) {
  auto from = Date::parse(basis.from);
  if (!from || (basis.working_days == 0 && basis.months == 0)) return std::nullopt;
  Due due = due_after(calendar, *from, Period{basis.working_days, basis.months}, basis.code,
                      basis.rule);
  due.basis.was = basis.was;
  return due;
}

}  // namespace closeloop
