#include "workflow/verbs.h"

#include <algorithm>
#include <array>
#include <string>

#include "base/result.h"
#include "workflow/kinds.h"
#include "workflow/rules.h"

namespace closeloop {

namespace {

using S = Stage;
using T = FieldType;
constexpr S kSub = S::kSubmitted, kAsg = S::kAssigned, kHdl = S::kHandled, kVer = S::kVerified,
            kCls = S::kClosed, kWdn = S::kWithdrawn;

constexpr std::string_view kOutcomes[] = {"solved", "in-progress", "planned", "not-feasible"};
constexpr std::string_view kRatings[] = {"satisfied", "basically-satisfied", "unsatisfied"};
constexpr std::string_view kKindCodes[] = {"suggestion", "station", "audit", "project",
                                           "legislative"};
constexpr std::string_view kStageNames[] = {"submitted", "assigned", "handled", "verified",
                                            "closed",    "withdrawn"};
constexpr std::string_view kExportWhat[] = {"items", "trails", "scoreboard"};
constexpr std::string_view kFormats[] = {"csv", "json"};

// ---- fields of each verb ----
constexpr std::string_view kVia[] = {"paper"};
const Field kSubmit[] = {
    {"title", T::kText, "title (at most 200 characters)", true, kMaxTitleChars},
    {"body", T::kText, "the item's text", false, kMaxTextChars, {}, false, true},
    {"kind", T::kChoice,
     "suggestion | station | audit | project | legislative (default: config default_kind)", false,
     16, kKindCodes},
    {"complex", T::kFlag, "a complex suggestion (6 months to reply instead of 3)"},
    {"ref", T::kText, "the office's own number (建议号, finding number)", false, kMaxNameChars},
    {"category", T::kCode, "category code, e.g. transport", false, kMaxNameChars},
    {"source", T::kCode, "where it came from, e.g. a liaison station code", false, kMaxNameChars},
    {"submitter", T::kText, "who raised it", false, kMaxNameChars},
    {"deputy", T::kText, "the deputy (an account) it is submitted by or for", false, kMaxNameChars},
    {"key", T::kText, "idempotency key: a retried submit returns the same item", false, 128},
};
const Field kAssign[] = {
    {"department", T::kCode, "lead department code", true, kMaxCodeChars},
    {"co", T::kCodes, "co-departments, comma-separated", false, kMaxCodeChars},
    {"due", T::kDate, "due date YYYY-MM-DD (overrides the kind's rule)", false, 10},
    {"milestone", T::kMilestones, "a project's milestone DATE=TEXT (repeatable, in date order)"},
    {"note", T::kText, "a note for the department"},
    {"ruling", T::kText, "a supervisor's ruling (needed after repeated returns)"},
};
const Field kReassign[] = {
    {"department", T::kCode, "the new lead department", true, kMaxCodeChars},
    {"co", T::kCodes, "its co-departments, comma-separated (default: the present ones)", false,
     kMaxCodeChars},
    {"reason", T::kText, "why it moves to another department", true},
    {"due", T::kDate, "a new due date YYYY-MM-DD (instead of the kind's period counted again)",
     false, 10},
    {"keep-due", T::kFlag, "keep the due date (it does not count again from the reassignment)"},
};
const Field kWithdraw[] = {
    {"reason", T::kText, "why: a duplicate, a citizen's 撤单, a deputy's 撤回", true},
    {"duplicate-of", T::kCode, "the item it duplicates (its id)", false, kMaxNameChars},
};
const Field kReturn[] = {
    {"department", T::kCode, "the lead department returning it", true, kMaxCodeChars},
    {"reason", T::kText, "why it is not this department's", true},
    {"ruling", T::kText, "a supervisor's ruling (needed after the return period)"},
};
const Field kHandle[] = {
    {"department", T::kCode, "the lead department", true, kMaxCodeChars},
    {"reply", T::kText, "the reply to the submitter", true},
    {"outcome", T::kChoice, "solved | in-progress | planned | not-feasible", true, 16, kOutcomes},
    {"promise", T::kDate, "promised date YYYY-MM-DD (needed for in-progress and planned)", false, 10},
};
const Field kVerify[] = {
    {"rating", T::kChoice, "shorthand: the same rating for attitude and result", false, 32,
     kRatings},
    {"attitude", T::kChoice, "办理态度: satisfied | basically-satisfied | unsatisfied", false, 32,
     kRatings},
    {"result", T::kChoice, "办理结果: satisfied | basically-satisfied | unsatisfied", false, 32,
     kRatings},
    {"comment", T::kText, "the evaluator's comment (needed when unsatisfied)"},
    {"via", T::kChoice, "paper: the office records an evaluation received on paper", false, 16,
     kVia},
};
const Field kNote[] = {{"note", T::kText, "a note"}};
const Field kDepartment[] = {{"department", T::kCode, "the department signing for it", true, kMaxCodeChars}};
const Field kExtend[] = {
    {"department", T::kCode, "the lead department", true, kMaxCodeChars},
    {"until", T::kDate, "the new due date asked for", true, 10},
    {"reason", T::kText, "why more time is needed", true},
};
const Field kDecideExtension[] = {
    {"approve", T::kFlag, "approve the pending request"},
    {"refuse", T::kFlag, "refuse it"},
    {"comment", T::kText, "the office's comment"},
};
const Field kOpinion[] = {
    {"department", T::kCode, "the co-department", true, kMaxCodeChars},
    {"text", T::kText, "its opinion (会办意见)", true},
};
const Field kWaive[] = {
    {"department", T::kCode, "the co-department whose opinion is waived", true, kMaxCodeChars},
    {"reason", T::kText, "why", true},
};
const Field kReason[] = {{"reason", T::kText, "why", true}};
const Field kLeadNote[] = {
    {"department", T::kCode, "the lead department", true, kMaxCodeChars},
    {"note", T::kText, "a note"},
};
const Field kMilestone[] = {
    {"department", T::kCode, "the lead department", true, kMaxCodeChars},
    {"index", T::kNumber, "which milestone, counting from 1", true},
    {"note", T::kText, "a note"},
};
const Field kTimerMark[] = {{"due", T::kDate, "the due date this is for", true, 10}};
const Field kTrail[] = {
    {"after", T::kNumber, "the seq to continue after (paging)"},
    {"verify", T::kFlag, "check the trail's hash chain (exit 5 if broken)", false, 0, {}, true},
};
const Field kList[] = {
    {"stage", T::kChoice, "submitted | assigned | handled | verified | closed | withdrawn", false,
     16, kStageNames},
    {"department", T::kCode, "lead department code", false, kMaxCodeChars},
    {"kind", T::kChoice, "kind of item", false, 16, kKindCodes},
    {"source", T::kCode, "source, e.g. a liaison station code", false, kMaxNameChars},
    {"submitter", T::kText, "who raised it", false, kMaxNameChars},
    {"category", T::kCode, "category code", false, kMaxNameChars},
    {"text", T::kText, "text in the title or body", false, 200},
    {"from", T::kDate, "submitted on or after DATE", false, 10},
    {"to", T::kDate, "submitted on or before DATE (inclusive)", false, 10},
    {"overdue", T::kFlag, "only items whose reply is overdue today"},
    {"plain", T::kFlag, "each with its reply and imported history's original dates, as show has them"},
    {"limit", T::kNumber, "at most this many items"},
    {"after", T::kCode, "the id to continue after (paging)", false, kMaxNameChars},
};
const Field kReads[] = {
    {"from", T::kDate, "reads on or after DATE", false, 10},
    {"to", T::kDate, "reads on or before DATE (inclusive)", false, 10},
    {"actor", T::kText, "reads by this actor", false, kMaxNameChars},
    {"item", T::kCode, "reads of this item", false, kMaxNameChars},
    {"limit", T::kNumber, "at most this many records"},
    {"after", T::kNumber, "the seq to continue after (paging)"},
};
const Field kInbox[] = {{"department", T::kCode, "the department", true, kMaxCodeChars}};
const Field kOverdue[] = {
    {"as-of", T::kDate, "the day to count on (default: today)", false, 10},
    {"department", T::kCode, "only this lead department", false, kMaxCodeChars},
};
const Field kScoreboard[] = {
    {"from", T::kDate, "period start (assignments on or after)", true, 10},
    {"to", T::kDate, "period end, inclusive", true, 10},
    {"as-of", T::kDate, "count events up to this day only (default: today)", false, 10},
    {"department", T::kCode, "only this department", false, kMaxCodeChars},
    {"items", T::kFlag, "list the item ids behind every count"},
};
const Field kExport[] = {
    {"what", T::kChoice, "items | trails | scoreboard", true, 16, kExportWhat},
    {"from", T::kDate, "period start", true, 10},
    {"to", T::kDate, "period end, inclusive", true, 10},
    {"format", T::kChoice, "csv | json", true, 8, kFormats},
    {"out", T::kText, "write to FILE instead of stdout", false, 4096, {}, true},
};
const Field kBundle[] = {
    {"out", T::kText, "the bundle file to write", true, 4096, {}, true},
    {"checkpoint", T::kText,
     "FILE: a checkpoint kept from before (checkpoint --json): add the proof that the bundle's "
     "checkpoint extends it",
     false, 4096, {}, true},
};
const Field kCheckpoint[] = {
    {"consistency", T::kText,
     "FILE: a checkpoint kept from before (checkpoint --json): prove the ledger's tree extends "
     "it (exit 5 if not)",
     false, 4096, {}, true},
    {"fresh", T::kFlag, "sign one now if the latest does not cover every event recorded"},
    {"old_size", T::kNumber,
     "the size of an earlier checkpoint: the reply adds the consistency proof from it (what "
     "--consistency FILE sends)",
     false, 0, {}, false, false, false, true},
};
const Field kProofs[] = {
    {"size", T::kNumber, "the checkpoint's size: prove against the tree of that many events", true},
    {"after", T::kNumber, "the seq to continue after (paging)"},
};
const Field kKeygen[] = {
    {"out", T::kText, "the key file to write (mode 0600; never overwritten)", true, 4096, {}, true}};
const Field kUserName[] = {
    {"name", T::kText, "the account's name", true, kMaxNameChars, {}, false, false, true}};
const Field kUserAdd[] = {
    {"name", T::kText, "the account's name", true, kMaxNameChars, {}, false, false, true},
    {"role", T::kCodes,
     "office | department | deputy | station | auditor | ops | admin (repeat for more)", true, 16},
    {"department", T::kCode, "the department a clerk acts for (role department)", false,
     kMaxCodeChars},
    {"station", T::kCode, "the liaison station its staff act for (role station)", false,
     kMaxNameChars},
    {"key", T::kText, "the person's public key (closeloop keygen prints it)", true, 40},
    {"gateway", T::kFlag, "a gateway (web front end) acting for the people it authenticates"},
    {"acts-for", T::kCodes,
     "a gateway's scope: the roles of the people it may act for (default office,department,"
     "deputy,station,auditor; never admin or ops)",
     false, 16},
};
const Field kUserRotate[] = {
    {"name", T::kText, "the account's name", true, kMaxNameChars, {}, false, false, true},
    {"key", T::kText, "the new public key (the old one is refused from now on)", true, 40},
};
constexpr std::string_view kBackupParts[] = {"ledger", "intake", "keys"};
const Field kBackup[] = {
    {"out",
     T::kText,
     "the folder to write (new or empty; on the machine the CLI runs on)",
     true,
     4096,
     {},
     true},
    {"part", T::kChoice, "the part read: ledger, intake or keys", false, 16, kBackupParts, false,
     false, false, true},
    {"session",
     T::kNumber,
     "the snapshot being read (0: take one)",
     false,
     20,
     {},
     false,
     false,
     false,
     true},
    {"after", T::kText, "the last key read, hex", false, 2048, {}, false, false, false, true},
    {"prefix", T::kText, "only keys that start so", false, 64, {}, false, false, false, true},
};
const Field kRestore[] = {
    {"dir",
     T::kText,
     "the backup folder (closeloop backup --out)",
     true,
     4096,
     {},
     true,
     false,
     true},
    {"data-dir",
     T::kText,
     "the new data dir to build (must not exist, or be empty)",
     true,
     4096,
     {},
     true},
};
const Field kRebuild[] = {
    {"stage",
     T::kText,
     "the worker to rebuild (dispatch, handle, verify, close or timer) or a stage it owns",
     true,
     16,
     {},
     true,
     false,
     true},
    {"data-dir",
     T::kText,
     "the data dir it lives in (default: the config's data_dir)",
     false,
     4096,
     {},
     true},
};
const Field kImport[] = {
    {"dry-run",
     T::kFlag,
     "check every row as the import would, and report the same, importing nothing",
     false,
     0,
     {},
     true},
    {"template",
     T::kFlag,
     "print a header row with the Chinese column names and one example row (CSV for Excel)",
     false,
     0,
     {},
     true},
    {"dry_run",
     T::kFlag,
     "a dry run: every row checked, nothing written (what --dry-run sends)",
     false,
     0,
     {},
     false,
     false,
     false,
     true},
};
const Field kIncidents[] = {
    {"all", T::kFlag, "the acknowledged and replayed ones too, not only those held"}};
const Field kIncidentId[] = {{"id",
                              T::kText,
                              "the incident's id, WORKER/FROM/NUMBER, as `incidents` lists it",
                              true,
                              512,
                              {},
                              false,
                              false,
                              true}};
const Field kUserList[] = {
    {"history", T::kFlag, "every change to the accounts, with who made it, instead"}};
const Field kDue[] = {
    {"from", T::kDate, "the day the period counts from", true, 10},
    {"kind", T::kChoice, "the kind whose rule applies", false, 16, kKindCodes},
    {"complex", T::kFlag, "a complex suggestion"},
    {"working-days", T::kNumber, "a period of N working days"},
    {"months", T::kNumber, "a period of N months"},
};

// ---- stage moves ----
constexpr Move kAssignMoves[] = {{kSub, kAsg, ""}};
constexpr Move kReassignMoves[] = {{kAsg, kAsg, "to another lead department, before its reply"}};
constexpr Move kWithdrawMoves[] = {
    {kSub, kWdn, ""}, {kAsg, kWdn, ""}, {kHdl, kWdn, ""}, {kVer, kWdn, ""}};
constexpr Move kReturnMoves[] = {{kAsg, kSub, "by the lead department, with a reason"}};
constexpr Move kHandleMoves[] = {{kAsg, kHdl, "by the lead department, once every co-department's opinion is in or waived"}};
constexpr Move kVerifyMoves[] = {{kHdl, kVer, "result satisfied or basically-satisfied"},
                                 {kHdl, kAsg, "result unsatisfied: rework"}};
constexpr Move kCloseMoves[] = {{kVer, kCls, ""}};
constexpr Move kAtAssigned[] = {{kAsg, kAsg, ""}};
constexpr Move kUrgeMoves[] = {{kAsg, kAsg, ""}, {kCls, kCls, "while a promise is open"}};
constexpr Move kReopenMoves[] = {{kCls, kAsg, "back to the lead department"}};
constexpr Move kAfterReply[] = {{kHdl, kHdl, ""}, {kVer, kVer, ""}, {kCls, kCls, ""}};
constexpr Move kFromAssigned[] = {{kAsg, kAsg, ""}, {kHdl, kHdl, ""}, {kVer, kVer, ""},
                                  {kCls, kCls, ""}};

const Verb kVerbs[] = {
    // commands
    {"submit", "file a new item", VerbKind::kCommand, "intake", false, kSubmit, {}, rules::submit},
    {"assign", "assign a submitted item to a lead department", VerbKind::kCommand, "dispatch", true,
     kAssign, kAssignMoves, rules::assign},
    {"reassign", "move an assigned item to another lead department (改派), before its reply",
     VerbKind::kCommand, "handle", true, kReassign, kReassignMoves, rules::reassign,
     rules::check_reassign},
    {"return", "give an assigned item back to the office (not this department's)",
     VerbKind::kCommand, "handle", true, kReturn, kReturnMoves, rules::give_back},
    {"sign", "sign for an assigned item (签收), as its lead or a co-department", VerbKind::kCommand,
     "handle", true, kDepartment, kAtAssigned, rules::sign},
    {"opinion", "give a co-department's opinion (会办意见)", VerbKind::kCommand, "handle", true,
     kOpinion, kAtAssigned, rules::opinion},
    {"waive", "waive a co-department's opinion (the office)", VerbKind::kCommand, "handle", true,
     kWaive, kAtAssigned, rules::waive},
    {"extend", "ask for more time (延期), before the due date", VerbKind::kCommand, "handle", true,
     kExtend, kAtAssigned, rules::extend},
    {"decide-extension", "approve or refuse the pending extension request", VerbKind::kCommand,
     "handle", true, kDecideExtension, kAtAssigned, rules::decide_extension,
     rules::check_decide_extension, false, "--approve|--refuse"},
    {"handle", "record the lead department's reply", VerbKind::kCommand, "handle", true, kHandle,
     kHandleMoves, rules::handle, rules::check_handle},
    {"verify", "record the evaluation of the reply (办理态度, 办理结果)", VerbKind::kCommand,
     "verify", true, kVerify, kVerifyMoves, rules::verify, rules::check_verify, false,
     "(--rating R | --attitude R --result R)"},
    {"close", "close a verified item", VerbKind::kCommand, "close", true, kNote, kCloseMoves,
     rules::close},
    {"urge", "urge the department (催办)", VerbKind::kCommand, "handle", true, kNote, kUrgeMoves,
     rules::urge},
    {"reopen", "reopen a closed item (持续监督): back to its lead department", VerbKind::kCommand,
     "close", true, kReason, kReopenMoves, rules::reopen},
    {"withdraw", "end an item not closed (撤销, a deputy's 撤回): a duplicate, a request taken back",
     VerbKind::kCommand, "handle", true, kWithdraw, kWithdrawMoves, rules::withdraw},
    {"promise-kept", "report a promise kept", VerbKind::kCommand, "close", true, kLeadNote,
     kAfterReply, rules::promise_kept},
    {"milestone", "report a project's milestone reached", VerbKind::kCommand, "handle", true,
     kMilestone, kFromAssigned, rules::milestone},
    {"timer.remind", "the timer: the due date is near", VerbKind::kCommand, "handle", true,
     kTimerMark, kAtAssigned, rules::remind, nullptr, true, "", "remind"},
    {"timer.overdue", "the timer: the due date has passed", VerbKind::kCommand, "handle", true,
     kTimerMark, kAtAssigned, rules::overdue, nullptr, true, "", "overdue"},
    {"timer.escalate", "the timer: still overdue, to the supervisors' attention",
     VerbKind::kCommand, "handle", true, kTimerMark, kAtAssigned, rules::escalate, nullptr, true,
     "", "escalate"},
    {"timer.redue",
     "the timer: the due date recounted on a changed calendar",
     VerbKind::kCommand,
     "handle",
     true,
     {},
     kAtAssigned,
     rules::redue,
     nullptr,
     true,
     "",
     "redue"},
    // queries
    {"show", "show an item", VerbKind::kQuery, "ledger", true},
    {"trail", "show an item's audit trail", VerbKind::kQuery, "ledger", true, kTrail},
    {"list", "list items (filters combine)", VerbKind::kQuery, "ledger", false, kList},
    {"inbox", "what a department must do next, by due date", VerbKind::kQuery, "ledger", false,
     kInbox},
    {"overdue", "items whose reply is overdue (as of a day)", VerbKind::kQuery, "ledger", false,
     kOverdue},
    {"attention", "escalated items not closed or withdrawn (the supervisors' attention list)",
     VerbKind::kQuery,
     "ledger", false},
    {"scoreboard", "each department's numbers for a period", VerbKind::kQuery, "ledger", false,
     kScoreboard},
    {"reads", "the read audit: who read which item, trail or list, and when", VerbKind::kQuery,
     "ledger", false, kReads},
    {"checkpoint",
     "the ledger's latest signed checkpoint of every event and account change (tamper evidence)",
     VerbKind::kQuery, "ledger", false, kCheckpoint},
    {"proofs", "each event's inclusion proof in a checkpoint's tree (for bundles)",
     VerbKind::kQuery, "ledger", true, kProofs},
    {"ping", "list the live services", VerbKind::kQuery, "broker", false},
    {"whoami", "the account that asks: its name, roles and what binds them", VerbKind::kQuery,
     "broker", false},
    {"status",
     "each worker: up, pid, restarts, messages, outbox, last commit, disk (the broker's view)",
     VerbKind::kQuery, "broker", false},
    // accounts
    {"user.add", "add a person's account with roles and a public key", VerbKind::kAccount, "ledger",
     false, kUserAdd},
    {"user.list", "list the accounts (or, with --history, every change to them)",
     VerbKind::kAccount, "ledger", false, kUserList},
    {"user.disable", "disable an account: its key is refused from its next request on",
     VerbKind::kAccount, "ledger", false, kUserName},
    {"user.rotate", "give an account a new public key (the old one is refused from now on)",
     VerbKind::kAccount, "ledger", false, kUserRotate},
    // operations
    {"incidents",
     "handoff entries a worker kept instead of applying (held until acknowledged or replayed)",
     VerbKind::kOps, "ledger", false, kIncidents},
    {"incidents.ack", "close an incident: its entry is not applied, and its sender forgets it",
     VerbKind::kOps, "ledger", false, kIncidentId},
    {"incidents.replay", "apply the held entries this version can read now (after an upgrade)",
     VerbKind::kOps, "ledger", false},
    {"backup",
     "write a backup of the running service to a folder: the ledger, intake's keys and serial, "
     "the key files",
     VerbKind::kOps, "ledger", false, kBackup},
    {"restore", "build a new data dir from a backup folder (the service there stopped)",
     VerbKind::kClient, "", false, kRestore},
    {"rebuild",
     "rebuild a stage worker's lost data dir from the running ledger (that worker stopped)",
     VerbKind::kClient, "", false, kRebuild},
    // composed by the CLI
    {"import",
     "import a list of items from a CSV file (清单交办)",
     VerbKind::kClient,
     "intake",
     false,
     kImport,
     {},
     nullptr,
     nullptr,
     false,
     "FILE.csv | import --template"},
    {"export", "export items, trails or the scoreboard as CSV or JSON", VerbKind::kClient, "",
     false, kExport},
    {"bundle",
     "write items, their full trails and their proofs in a signed checkpoint to one evidence "
     "file",
     VerbKind::kClient,
     "",
     false,
     kBundle,
     {},
     nullptr,
     nullptr,
     false,
     "ID..."},
    {"due",
     "the calendar's answer: a due date from a day and a rule",
     VerbKind::kClient,
     "",
     false,
     kDue,
     {},
     nullptr,
     nullptr,
     false,
     "(--kind K [--complex] | --working-days N | --months N)"},
    {"keygen", "make a key pair for a person's CLI; prints the public key", VerbKind::kClient, "",
     false, kKeygen},
};

}  // namespace

const Field* Verb::field(std::string_view name) const {
  for (const Field& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

const Move* Verb::move(Stage stage, std::optional<Stage> to) const {
  for (const Move& m : moves)
    if (m.from == stage && (!to || m.to == *to)) return &m;
  return nullptr;
}

std::span<const Verb> verbs() { return kVerbs; }

const Verb* find_verb(std::string_view name) {
  for (const Verb& v : kVerbs)
    if (v.name == name) return &v;
  return nullptr;
}

bool known_action(std::string_view action) {
  return std::any_of(std::begin(kVerbs), std::end(kVerbs), [&](const Verb& v) {
    return v.kind == VerbKind::kCommand && v.trail_action() == action;
  });
}

std::string_view service_for(std::string_view type) {
  const Verb* v = find_verb(type);
  return v && !v->internal ? v->service : std::string_view{};
}

std::string allowed_verbs(Stage stage) {
  std::string out;
  for (const Verb& v : kVerbs) {
    if (v.internal || !v.move(stage)) continue;
    out += (out.empty() ? "" : ", ") + std::string(v.name);
  }
  return out.empty() ? "nothing" : out;
}

Error refusal(std::string_view item_id, Stage stage, std::string_view verb) {
  MessageArgs args{{"verb", std::string(verb)},
                   {"item", std::string(item_id)},
                   {"stage", std::string(to_string(stage))}};
  std::string allowed = allowed_verbs(stage);
  if (allowed == "nothing")
    return Error::of(errc::kRefused,
                     N_("cannot {verb} item {item}: it is {stage}, which allows nothing"),
                     std::move(args));
  args.emplace_back("verbs", allowed);
  return Error::of(errc::kRefused,
                   N_("cannot {verb} item {item}: it is {stage}, which allows {verbs}"),
                   std::move(args));
}

}  // namespace closeloop

namespace closeloop {

namespace {

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::kText: return "text";
    case FieldType::kCode: return "code";
    case FieldType::kCodes: return "codes";
    case FieldType::kDate: return "date";
    case FieldType::kChoice: return "choice";
    case FieldType::kFlag: return "flag";
    case FieldType::kNumber: return "number";
    case FieldType::kMilestones: return "milestones";
  }
  return "";
}

std::string_view kind_name(VerbKind k) {
  switch (k) {
    case VerbKind::kCommand:
      return "command";
    case VerbKind::kQuery:
      return "query";
    case VerbKind::kClient:
      return "client";
    case VerbKind::kAccount:
      return "account";
    case VerbKind::kOps:
      return "ops";
  }
  return "";
}

std::string fields_cell(const Verb& v) {
  std::string out = v.takes_id ? "`item`" : "";
  for (const Field& f : v.fields) {
    if (f.client_only) continue;
    out += (out.empty() ? "" : ", ") + std::string("`") + std::string(f.name) + "`" +
           (f.required ? "*" : "") + " " + std::string(type_name(f.type));
  }
  return out.empty() ? "—" : out;
}

std::string moves_cell(const Verb& v) {
  if (v.kind != VerbKind::kCommand) return "—";
  if (v.creates()) return "new → submitted";
  std::string out;
  for (const Move& m : v.moves) {
    out += (out.empty() ? "" : "; ") + std::string(to_string(m.from)) + " → " +
           std::string(m.from == m.to ? "(stays)" : to_string(m.to));
    if (!m.when.empty()) out += " (" + std::string(m.when) + ")";
  }
  return out;
}

}  // namespace

std::string verbs_markdown() {
  std::string out =
      "| type | kind | served by | body (* required) | stage moves | what it does |\n"
      "|---|---|---|---|---|---|\n";
  for (const Verb& v : kVerbs) {
    if (v.kind == VerbKind::kClient && v.service.empty()) continue;
    out += "| `" + std::string(v.name) + "` | " + std::string(kind_name(v.kind)) +
           (v.internal ? " (internal)" : "") + " | " + std::string(v.service) + " | " +
           fields_cell(v) + " | " + moves_cell(v) + " | " + std::string(v.help) + " |\n";
  }
  return out;
}

}  // namespace closeloop
