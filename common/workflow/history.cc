#include "workflow/history.h"

#include <cmath>
#include <optional>

namespace closeloop {

namespace {

std::string text_of(const wire::Json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : "";
}

// The evaluation's result: v2 events carry `result`; issue 2's carried only `rating`.
std::string result_of(const Event& e) {
  std::string result = text_of(e.payload, "result");
  return result.empty() ? text_of(e.payload, "rating") : result;
}

}  // namespace

Standing standing_as_of(const std::vector<Event>& trail, Date as_of, const DayOf& day_of) {
  Standing s;
  for (const Event& e : trail) {
    if (day_of(e) > as_of) continue;  // events may be imported with earlier days
    s.exists = true;
    s.stage = e.stage;
    s.department = e.stage == Stage::kSubmitted ? "" : e.department;
    if (e.action == "return") s.due.clear();
    if (e.action == "submit" || e.action == "return") s.waiting_since = day_of(e).str();
    if (e.payload.contains("due") && e.action != "handle") s.due = text_of(e.payload, "due");
  }
  return s;
}

bool overdue_on(const Standing& s, Date as_of) {
  return s.overdue() && s.due < as_of.str();
}

size_t Score::count(std::string_view column) const {
  auto it = ids.find(column);
  return it == ids.end() ? 0 : it->second.size();
}

namespace {

// One department's round with the item: from its assignment in the period on.
struct Round {
  std::string department;
  Date assigned;
  bool signed_on_time = false, replied = false, replied_on_time = false, returned = false,
       reassigned = false, reworked = false, promised = false, promise_kept = false;
  std::string result;  // of the latest evaluation
};

void add(std::map<std::string, Score>& scores, const Round& r, std::string_view column,
         const std::string& id) {
  scores[r.department].ids[std::string(column)].push_back(id);
}

}  // namespace

void score_trail(const std::vector<Event>& trail, const ScorePeriod& period,
                 const Calendar& calendar, const Rules& rules, const DayOf& day_of,
                 std::map<std::string, Score>& scores) {
  // Each department's first assignment (or reassignment to it) in the period starts its
  // round; every later event counts for the department it names (the lead at the time).
  // A reassignment ends the previous lead's round as reassigned, not returned.
  std::map<std::string, Round> rounds;
  bool withdrawn = false;
  for (const Event& e : trail) {
    Date day = day_of(e);
    if (day > period.as_of) continue;
    withdrawn |= e.action == "withdraw";
    if (e.action == "reassign")
      if (auto it = rounds.find(text_of(e.payload, "previous_department")); it != rounds.end())
        it->second.reassigned = true;
    if (e.action == "assign" || e.action == "reassign") {
      if (day >= period.from && day <= period.to && !rounds.count(e.department))
        rounds[e.department] = Round{e.department, day};
      continue;
    }
    auto it = rounds.find(e.department);
    if (it == rounds.end()) continue;
    Round& round = it->second;
    bool in_time_to_sign =
        calendar.working_days_between(round.assigned, day) <= rules.sign_working_days;
    if (e.action == "sign" && text_of(e.payload, "role") != "co") {
      round.signed_on_time = round.signed_on_time || in_time_to_sign;
    } else if (e.action == "handle") {
      if (e.payload.value("implicit_sign", false)) round.signed_on_time |= in_time_to_sign;
      if (!round.replied) {
        std::string measured = text_of(e.payload, "due");
        round.replied_on_time = measured.empty() || day.str() <= measured;
      }
      round.replied = true;
      round.promised = e.payload.contains("promise");
      round.promise_kept = false;
    } else if (e.action == "return") {
      round.returned = true;
    } else if (e.action == "verify") {
      round.result = result_of(e);
      round.reworked |= round.result == "unsatisfied";
    } else if (e.action == "promise-kept") {
      round.promise_kept = true;
    }
  }
  if (rounds.empty()) return;
  const std::string& id = trail.front().item;
  Standing now = standing_as_of(trail, period.as_of, day_of);
  for (const auto& [department, round] : rounds) {
    if (withdrawn) {  // out of every denominator, and so of every count
      add(scores, round, "withdrawn", id);
      continue;
    }
    add(scores, round, "received", id);
    if (round.signed_on_time) add(scores, round, "signed_on_time", id);
    if (round.replied) add(scores, round, "replied", id);
    if (round.replied && round.replied_on_time) add(scores, round, "replied_on_time", id);
    if (round.returned) add(scores, round, "returned", id);
    if (round.reassigned) add(scores, round, "reassigned", id);
    if (round.reworked) add(scores, round, "reworked", id);
    if (!round.result.empty()) add(scores, round, "evaluated", id);
    if (round.result == "satisfied") add(scores, round, "satisfied", id);
    if (round.result == "basically-satisfied") add(scores, round, "basically_satisfied", id);
    if (round.result == "unsatisfied") add(scores, round, "unsatisfied", id);
    if (round.promised && !round.promise_kept) add(scores, round, "open_promises", id);
    if (overdue_on(now, period.as_of) && now.department == department)
      add(scores, round, "overdue_now", id);
  }
}

wire::Json scoreboard_json(const std::map<std::string, Score>& scores, const ScorePeriod& period,
                           const Config& config, const std::string& only, bool with_items) {
  wire::Json departments = wire::Json::array();
  static const Score kNone;
  for (const Department& d : config.departments) {
    if (!only.empty() && d.code != only) continue;
    auto it = scores.find(d.code);
    const Score& score = it == scores.end() ? kNone : it->second;
    wire::Json row = {{"department", d.code}, {"name", d.name}};
    for (std::string_view column : kScoreColumns) row[std::string(column)] = score.count(column);
    size_t evaluated = score.count("evaluated");
    size_t content = score.count("satisfied") + score.count("basically_satisfied");
    row["satisfaction_rate"] =
        evaluated ? wire::Json(std::round(10000.0 * content / evaluated) / 10000.0) : wire::Json();
    if (with_items) {
      wire::Json items = wire::Json::object();
      for (std::string_view column : kScoreColumns) {
        auto ids = score.ids.find(column);
        items[std::string(column)] = ids == score.ids.end() ? wire::Json::array() : wire::Json(ids->second);
      }
      row["items"] = std::move(items);
    }
    departments.push_back(std::move(row));
  }
  return {{"from", period.from.str()},
          {"to", period.to.str()},
          {"as_of", period.as_of.str()},
          {"departments", std::move(departments)}};
}

}  // namespace closeloop
