// An item: the current record of one assigned matter, as stored by the worker that
// holds it, handed on with every step, and shown to people (the same field names
// appear in the CLI's JSON). Each struct below declares its fields once (wire/record.h);
// a field a newer writer added is kept in `extras`, so records stay readable both ways.
//
// Record versions: `v` = 2 since supervision (issue 3) added kinds, deadlines and the
// evaluation; a record without `v` is version 1 (issue 2) and reads with the new
// fields at their defaults. A version above kItemVersion is refused by decode_item():
// a receiver keeps such an entry as an incident instead of misreading it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "security/rights.h"
#include "wire/record.h"
#include "workflow/lifecycle.h"

namespace closeloop {

inline constexpr uint64_t kItemVersion = 2;

// Why an item is due when it is: the rule, the day it counts from, the calendar files
// consulted, and whether a year without calendar data was counted on weekends alone.
struct DueBasis {
  std::string rule;      // in English, e.g. "station: 15 working days after assignment"
  std::string from;      // YYYY-MM-DD
  std::string calendar;  // e.g. "cn-2026 3f2a9c1b04d7"
  bool provisional = false;
  // The period counted from `from`, so that the date can be recomputed when the
  // calendar changes; both 0 for a date set by hand (--due, a milestone, an extension).
  uint64_t working_days = 0, months = 0;
  // Since issue 17: the rule by its code (workflow/deadline.h, kDueRules), so that a
  // client says `rule` in its reader's language from the code and the numbers above;
  // `was`, the due date an approved extension replaced. Both empty in an older record.
  std::string code, was;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("rule", s.rule), v("from", s.from), v("calendar", s.calendar);
    v("provisional", s.provisional), v("working_days", s.working_days), v("months", s.months);
    v("code", s.code), v("was", s.was);
  }
  bool operator==(const DueBasis&) const = default;
};
// A basis as JSON shows it (record_json, or an event's payload) read back: fields of the
// wrong type read as absent, fields this version does not know kept in `extras`.
DueBasis read_basis(const wire::Json& json);
// The basis as an event's payload records it: record_json() without `code` and `was`
// when they are empty, so that a basis without them (an older record's, counted again)
// is recorded exactly as an older writer recorded it, and an older ledger's fold agrees.
wire::Json basis_json(const DueBasis& basis);

// A co-department's opinion (会办意见), or the office's waiver of it.
struct Opinion {
  std::string department, text, at;
  bool waived = false;
  std::string reason;  // why it was waived
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("department", s.department), v("text", s.text), v("at", s.at), v("waived", s.waived);
    v("reason", s.reason);
  }
  bool operator==(const Opinion&) const = default;
};

// A request for more time (延期) and the office's decision on it.
struct Extension {
  std::string until, reason, asked_at;
  std::string state = "pending";  // pending | approved | refused | lapsed (replied meanwhile)
  std::string decided_at, comment;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("until", s.until), v("reason", s.reason), v("asked_at", s.asked_at), v("state", s.state);
    v("decided_at", s.decided_at), v("comment", s.comment);
  }
  bool operator==(const Extension&) const = default;
};

// The two-part evaluation of a reply (办理态度, 办理结果).
struct Evaluation {
  std::string attitude, result, comment, at;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("attitude", s.attitude), v("result", s.result), v("comment", s.comment), v("at", s.at);
  }
  bool operator==(const Evaluation&) const = default;
};

// A promised date given with an in-progress or planned reply, tracked until kept.
struct Promise {
  std::string date, kept_at, note;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("date", s.date), v("kept_at", s.kept_at), v("note", s.note);
  }
  bool open() const { return !date.empty() && kept_at.empty(); }
  bool operator==(const Promise&) const = default;
};

// One milestone of a livelihood project (民生实事).
struct Milestone {
  std::string date, text, reached_at, note;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("date", s.date), v("text", s.text), v("reached_at", s.reached_at), v("note", s.note);
  }
  bool operator==(const Milestone&) const = default;
};

// Why an item was withdrawn (撤销/撤回), and of which item it is a duplicate, if one.
struct Withdrawal {
  std::string reason, duplicate_of, at;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("reason", s.reason), v("duplicate_of", s.duplicate_of), v("at", s.at);
  }
  bool operator==(const Withdrawal&) const = default;
};

struct Item {
  uint64_t v = kItemVersion;
  std::string id;
  Stage stage = Stage::kSubmitted;
  std::string kind;  // suggestion | station | audit | project | legislative
  bool complex = false;
  std::string ref;   // the office's own number (建议号, finding number)
  std::string title, body, category, source, submitter;
  std::string deputy;      // the deputy's account it was submitted by or for
  std::string department;  // lead department, once assigned
  std::vector<std::string> co_departments;
  std::string due;  // YYYY-MM-DD: when the reply of the current round is due
  DueBasis due_basis;
  std::string round_due;  // the due date the round started with, before any extension
  std::string submitted_on, assigned_on;  // office-local dates deadlines count from
  std::string created_at, assigned_at, signed_at, replied_at, updated_at;  // UTC
  std::map<std::string, std::string> co_signed_at;  // co-department -> when it signed
  bool overdue = false;    // the reply is late (recorded by the timer) and not in yet
  bool escalated = false;  // escalated and not closed, nor given a new due date since
  std::string reminded_for, overdue_for, escalated_for;  // the due date each was for
  uint64_t returns = 0, rework_count = 0, reopen_count = 0, urges = 0;
  std::vector<Opinion> opinions;
  std::vector<Extension> extensions;
  std::string outcome;  // of the last reply
  Evaluation evaluation;
  Promise promise;
  std::vector<Milestone> milestones;
  Withdrawal withdrawal;    // set when it is withdrawn
  uint64_t seq = 0;         // seq of the last event
  std::string head;         // hash (hex) of the last event
  std::string last_action;  // action of the last event
  wire::Extras extras;

  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("v", s.v), v("id", s.id), v("stage", s.stage), v("kind", s.kind), v("complex", s.complex);
    v("ref", s.ref), v("title", s.title), v("body", s.body), v("category", s.category);
    v("source", s.source), v("submitter", s.submitter), v("deputy", s.deputy);
    v("department", s.department);
    v("co_departments", s.co_departments), v("due", s.due), v("due_basis", s.due_basis);
    v("round_due", s.round_due);
    v("submitted_on", s.submitted_on), v("assigned_on", s.assigned_on);
    v("created_at", s.created_at), v("assigned_at", s.assigned_at), v("signed_at", s.signed_at);
    v("replied_at", s.replied_at), v("updated_at", s.updated_at);
    v("co_signed_at", s.co_signed_at), v("overdue", s.overdue), v("escalated", s.escalated);
    v("reminded_for", s.reminded_for), v("overdue_for", s.overdue_for);
    v("escalated_for", s.escalated_for), v("returns", s.returns);
    v("rework_count", s.rework_count), v("reopen_count", s.reopen_count), v("urges", s.urges);
    v("opinions", s.opinions), v("extensions", s.extensions), v("outcome", s.outcome);
    v("evaluation", s.evaluation), v("promise", s.promise), v("milestones", s.milestones);
    v("withdrawal", s.withdrawal);
    v("seq", s.seq), v("head", s.head), v("last_action", s.last_action);
  }

  const Extension* pending_extension() const;
  bool is_co(std::string_view department) const;
  // A co-department's opinion or waiver, if given.
  const Opinion* opinion_of(std::string_view department) const;
  bool open_milestones() const;
  // Whether a department has ever replied to it (a reply now, or one before a rework or
  // a reopening).
  bool ever_replied() const;
  // A fresh round with a department (assignment, rework, reopening): nothing signed,
  // answered or evaluated yet. The rules make it, and the fold of a trail again.
  void start_round();
};

// What a stage checks of an item handed to it before keeping it as it came: read as a
// view (its other fields are neither copied nor converted).
struct ItemHead {
  uint64_t v = 1;
  std::string id;
  Stage stage = Stage::kSubmitted;
  uint64_t seq = 0;
  std::string last_action;
  wire::Extras extras;
  template <class Self, class Visit>
  static void fields(Self& s, Visit&& v) {
    v("v", s.v), v("id", s.id), v("stage", s.stage), v("seq", s.seq);
    v("last_action", s.last_action);
  }
};
// Fails like decode_item() for an unknown version or stage, or a missing id.
Result<ItemHead> read_item_head(const msgpack::object& o);
// What every reader of an item checks, whole record or view: a known version, an id.
Status check_item(uint64_t v, const std::string& id);

// What of the item decides who may act on it (security/rights.h).
security::ItemFacts rights_facts(const Item& item);

std::string encode(const Item& item);
// The item as clients see it: every field, defaults included (the stored record leaves
// them out), and any field this version does not know; the raw map if it is not a
// readable item.
wire::Json item_json(const msgpack::object& o);
// Fails for anything but a readable item of a known version and stage.
Result<Item> decode_item(const msgpack::object& o);
Result<Item> decode_item(std::string_view bytes);

}  // namespace closeloop
