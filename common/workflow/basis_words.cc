// A due date's basis for people (workflow/deadline.h): said by clients, never by workers.
// Apart from deadline.cc, which workers and the frame fuzzer build without the catalogs.
#include "workflow/deadline.h"

namespace closeloop {

namespace {

// The code of a basis recorded before codes (issue 17), as its English words show it
// (rules.cc and statutory_due() wrote them so); "" for words of no known rule. An
// extension's words name the date it replaced: "extension approved (was 2026-12-01)".
std::string code_of_words(std::string_view rule, std::string* was) {
  using namespace due_rule;
  bool again = rule.ends_with("after reassignment");
  if (rule.starts_with("suggestion (complex):"))
    return again ? kSuggestionComplexReassigned : kSuggestionComplex;
  if (rule.starts_with("suggestion:")) return again ? kSuggestionReassigned : kSuggestion;
  if (rule.starts_with("station:")) return again ? kStationReassigned : kStation;
  if (rule.starts_with("set at assignment")) return kGiven;
  if (rule.starts_with("set at reassignment")) return kGivenReassigned;
  if (rule == "project: the last milestone") return kLastMilestone;
  if (rule.starts_with("rework:")) return kRework;
  if (rule.starts_with("reopened:")) return kReopen;
  constexpr std::string_view kWas = "extension approved (was ";
  if (rule.starts_with(kWas) && rule.ends_with(")")) {
    *was = rule.substr(kWas.size(), rule.size() - kWas.size() - 1);
    return kExtension;
  }
  return "";
}

}  // namespace

Sentence basis_message(const DueBasis& b) {
  using namespace due_rule;
  std::string was = b.was;
  std::string code = b.code.empty() ? code_of_words(b.rule, &was) : b.code;
  bool reassigned = code.ends_with("_reassigned");
  if (reassigned) code.resize(code.size() - std::string_view("_reassigned").size());
  MessageArgs months{{"months", std::to_string(b.months)}};
  MessageArgs days{{"working_days", std::to_string(b.working_days)}};
  bool one = b.months == 1 || b.working_days == 1;
  auto with = [](MessageArgs args, std::string name, std::string value) {
    args.emplace_back(std::move(name), std::move(value));
    return args;
  };
  if (code == kSuggestion)
    return {reassigned ? (one ? N_("{kind}: {months} month after reassignment")
                              : N_("{kind}: {months} months after reassignment"))
                       : (one ? N_("{kind}: {months} month after assignment")
                              : N_("{kind}: {months} months after assignment")),
            with(months, "kind", "suggestion")};
  if (code == kSuggestionComplex)
    return {reassigned ? N_("{kind} (complex): {months} months after reassignment")
                       : N_("{kind} (complex): {months} months after assignment"),
            with(months, "kind", "suggestion")};
  if (code == kStation)
    return {reassigned ? (one ? N_("{kind}: {working_days} working day after reassignment")
                              : N_("{kind}: {working_days} working days after reassignment"))
                       : (one ? N_("{kind}: {working_days} working day after assignment")
                              : N_("{kind}: {working_days} working days after assignment")),
            with(days, "kind", "station")};
  if (code == kGiven) return {reassigned ? N_("set at reassignment") : N_("set at assignment"), {}};
  if (code == kLastMilestone) return {N_("project: the last milestone"), {}};
  if (code == kRework)
    return {one ? N_("rework: {months} month after the unsatisfied evaluation")
                : N_("rework: {months} months after the unsatisfied evaluation"),
            months};
  if (code == kReopen)
    return {one ? N_("reopened: {months} month after reopening")
                : N_("reopened: {months} months after reopening"),
            months};
  if (code == kExtension) return {N_("extension approved (was {was})"), {{"was", was}}};
  if (code == kPeriod && b.working_days)
    return {one ? N_("{working_days} working day after {from}")
                : N_("{working_days} working days after {from}"),
            with(days, "from", b.from)};
  if (code == kPeriod)
    return {one ? N_("{months} month after {from}") : N_("{months} months after {from}"),
            with(months, "from", b.from)};
  return {b.rule, {}};  // a rule this version does not know: its English words
}

std::string say_basis(i18n::Language language, const DueBasis& basis, bool with_calendar) {
  Sentence rule = basis_message(basis);
  MessageArgs args{{"rule", i18n::say(language, rule.msgid, rule.args)},
                   {"from", basis.from},
                   {"calendar", basis.calendar}};
  std::string_view frame =
      with_calendar
          ? (basis.provisional
                 ? N_("({rule}, from {from}; {calendar}; PROVISIONAL: no calendar data for a "
                      "year it spans)")
                 : N_("({rule}, from {from}; {calendar})"))
          : (basis.provisional ? N_("({rule}, from {from}, PROVISIONAL: no calendar data)")
                               : N_("({rule}, from {from})"));
  return i18n::say(language, frame, args);
}

}  // namespace closeloop
