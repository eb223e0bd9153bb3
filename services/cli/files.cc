// The verbs the CLI composes itself: import (a CSV list, sent in batches), export
// (items, trails or the scoreboard as CSV or JSON), bundle (items, trails and their
// proofs in a signed checkpoint, in one evidence file) and due (the calendar's answer, computed here without the service).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include "calendar/calendar.h"
#include "calendar/clock.h"
#include "cli.h"
#include "csv/csv.h"
#include "render.h"
#include "terminal.h"
#include "security/keys.h"
#include "workflow/bundle.h"
#include "workflow/event.h"
#include "workflow/item.h"
#include "workflow/deadline.h"
#include "workflow/history.h"
#include "workflow/import.h"
#include "workflow/kinds.h"

namespace closeloop::cli {

namespace {

constexpr size_t kImportBatchBytes = 256 * 1024;

std::string cannot_write(const std::string& path) {
  return say(N_("cannot write {path}: {reason}"), {{"path", path}, {"reason", std::strerror(errno)}});
}

// An error of the file read, said after its name.
std::string in_file(const std::string& path, const Error& error) {
  return path + ": " + i18n::say(i18n::language(), error);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error::of(errc::kInvalid, N_("cannot read {path}: {reason}"),
                     {{"path", path}, {"reason", std::strerror(errno)}});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error::of(errc::kInvalid, N_("cannot read {path}"), {{"path", path}});
  return text.str();
}

std::string text(const wire::Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : wire::dump(*it);
}

}  // namespace

// ---- import ----

namespace {

// The file's rows in batches of one request each, in the file's order, except that a
// row whose key an earlier row has goes with that row: a dry run (which writes no key)
// then finds it a duplicate as the import does.
std::vector<std::vector<const wire::Json*>> batches_of(const std::vector<wire::Json>& rows) {
  std::vector<std::vector<const wire::Json*>> groups;
  std::map<std::string, size_t> group_of_key;
  for (const wire::Json& row : rows) {
    auto [it, first] = group_of_key.emplace(text(row, "key"), groups.size());
    if (first) groups.emplace_back();
    groups[it->second].push_back(&row);
  }
  std::vector<std::vector<const wire::Json*>> batches(1);
  size_t bytes = 0;
  for (const auto& group : groups) {
    for (const wire::Json* row : group) {
      size_t size = wire::dump(*row).size();
      bool full = batches.back().size() == kMaxImportRows || bytes + size > kImportBatchBytes;
      bool whole = batches.back().size() + group.size() > kMaxImportRows;
      if (!batches.back().empty() && (full || (row == group.front() && whole))) {
        batches.emplace_back();
        bytes = 0;
      }
      batches.back().push_back(row);
      bytes += size;
    }
  }
  if (batches.back().empty()) batches.pop_back();
  return batches;
}

// A refused row as the summary lists it: every reason in English, and for people.
wire::Json refused_row(const wire::Json& line, const wire::Json& reasons,
                       const wire::Json& detail) {
  return {{"line", line}, {"reason", reasons.front()}, {"reasons", reasons},
          {"reasons_detail", detail}};
}

wire::Json refused_row(const RefusedRow& r) {
  wire::Json texts = wire::Json::array(), detail = wire::Json::array();
  for (const Error& reason : r.reasons) {
    detail.push_back(reason_json(reason));
    texts.push_back(detail.back()["message"]);
  }
  return refused_row(r.line, texts, detail);
}

// A row's reason in the reader's language, its columns named as the file names them; an
// older intake's (no reasons_detail) in its English.
std::string said_reason(const wire::Json& detail, const wire::Json& text,
                        const std::map<std::string, std::string>& headers) {
  if (!detail.is_object()) return text.is_string() ? text.get<std::string>() : wire::dump(text);
  return i18n::say(i18n::language(), reason_of_json(detail),
                   import_voice(i18n::language(), headers));
}

void print_import(const wire::Json& summary, const std::map<std::string, std::string>& headers) {
  using i18n::say;
  i18n::Language lang = i18n::language();
  MessageArgs counts{{"imported", text(summary, "imported")},
                     {"duplicates", text(summary, "duplicates")},
                     {"refused", std::to_string(summary["refused"].size())}};
  print_line(say(lang,
                 summary["dry_run"].get<bool>()
                     ? N_("dry run, nothing imported: would have imported {imported}, duplicates "
                          "{duplicates}, refused {refused}")
                     : N_("imported {imported}, duplicates {duplicates}, refused {refused}"),
                 counts));
  for (const wire::Json& r : summary["refused"]) {
    const wire::Json& detail = r["reasons_detail"];
    for (size_t i = 0; i < r["reasons"].size(); ++i)
      print_line("  " + say(lang, N_("line {line}: {reason}"),
                            {{"line", text(r, "line")},
                             {"reason", said_reason(i < detail.size() ? detail[i] : wire::Json(),
                                                    r["reasons"][i], headers)}}));
  }
  if (!summary["ignored_columns"].empty()) {
    std::string names;
    for (const wire::Json& name : summary["ignored_columns"])
      names += (names.empty() ? "" : ", ") + name.get<std::string>();
    print_line(say(lang, N_("columns not imported (no such column): {columns}"),
                   {{"columns", names}}));
  }
  if (summary.contains("unchecked")) print_line(text(summary, "unchecked"));
  if (!summary["possible_duplicates"].empty()) {
    print_line(std::string(i18n::_("possible duplicates (imported all the same: an open item has "
                                   "the same title and lead department):")));
    for (const wire::Json& d : summary["possible_duplicates"])
      print_line("  " + say(lang, N_("line {line}: {reason}"),
                            {{"line", text(d, "line")}, {"reason", text(d, "id")}}));
  }
}

}  // namespace

int run_import_template(const Target& target) {
  Clock clock(target.config.timezone, target.config.clock_file);  // the service's today
  csv::Writer writer(std::cout);
  for (const auto& row : import_template(target.config, clock.today())) writer.row(row);
  std::cout.flush();
  return std::cout ? kExitOk : fail(kExitUsage, say(N_("cannot write the template")));
}

int run_import(Client& client, const Target& target, const Invocation& in, const wire::Json& f) {
  bool dry_run = f.contains("dry-run");
  auto bytes = read_file(in.file);
  if (!bytes) return fail(kExitUsage, i18n::say(i18n::language(), bytes.error()));
  auto table = csv::parse(*bytes);
  if (!table) return fail(kExitUsage, in_file(in.file, table.error()));
  auto file = read_import(*table);
  if (!file)
    return fail(kExitUsage,
                in.file + ": " + i18n::say(i18n::language(), file.error(),
                                           import_voice(i18n::language())));
  wire::Json summary = {{"imported", 0},
                        {"duplicates", 0},
                        {"refused", wire::Json::array()},
                        {"items", wire::Json::array()},
                        {"ignored_columns", file->ignored_columns},
                        {"possible_duplicates", wire::Json::array()},
                        {"dry_run", dry_run}};
  if (!table->converted_from.empty()) summary["converted_from"] = table->converted_from;
  for (const RefusedRow& r : file->refused) summary["refused"].push_back(refused_row(r));
  std::set<std::string> made;  // the ids this import made: no row repeats those
  wire::Json similar = wire::Json::array();
  auto send = [&](const std::vector<const wire::Json*>& batch) -> int {
    wire::Json rows = wire::Json::array();
    for (const wire::Json* row : batch) rows.push_back(*row);
    wire::MapBuilder body;
    body.add_raw("rows", wire::encode_json(rows));
    if (dry_run) body.add("dry_run", true);
    auto reply = client.call("import", in.actor, body.finish());
    Answer a = answer_of(reply, target);
    if (!a.reply) return a.exit_code;
    wire::Json answer = wire::to_json(a.reply->body);
    for (const wire::Json& r : answer.value("results", wire::Json::array())) {
      std::string result = text(r, "result");
      if (result == "refused") {
        summary["refused"].push_back(
            refused_row(r["line"], r.value("reasons", wire::Json::array({r["reason"]})),
                        r.value("reasons_detail", wire::Json::array())));
        continue;
      }
      const char* count = result == "imported" ? "imported" : "duplicates";
      summary[count] = summary[count].get<int>() + 1;
      wire::Json item = {{"line", r["line"]}, {"result", result}};
      if (r.contains("id")) item["id"] = r["id"];
      if (result == "imported" && r.contains("id")) made.insert(text(r, "id"));
      summary["items"].push_back(std::move(item));
    }
    for (const wire::Json& d : answer.value("possible_duplicates", wire::Json::array()))
      similar.push_back(d);
    if (answer.contains("unchecked")) summary["unchecked"] = answer["unchecked"];
    return kExitOk;
  };
  for (const auto& batch : batches_of(file->rows))
    if (int code = send(batch); code != kExitOk) return code;
  for (const wire::Json& d : similar)
    if (!made.count(text(d, "id"))) summary["possible_duplicates"].push_back(d);
  auto by_line = [](const wire::Json& a, const wire::Json& b) { return a["line"] < b["line"]; };
  std::stable_sort(summary["refused"].begin(), summary["refused"].end(), by_line);
  std::stable_sort(summary["items"].begin(), summary["items"].end(), by_line);
  std::stable_sort(summary["possible_duplicates"].begin(), summary["possible_duplicates"].end(),
                   by_line);
  in.json ? print_json(summary) : print_import(summary, file->headers);
  return summary["refused"].empty() ? kExitOk : kExitRefused;
}

// ---- export ----

namespace {

// The items export: codes with the names beside them (for Excel), and the reply and the
// evaluation in words, as show has them (list's `plain`).
const std::vector<std::string> kItemColumns{
    "id", "kind", "stage", "title", "department", "department_name", "co_departments",
    "co_department_names", "category", "source", "submitter", "ref", "submitted_on",
    "assigned_on", "due", "due_basis", "signed_at", "replied_at", "outcome", "reply",
    "attitude", "result", "evaluation_comment", "overdue", "escalated", "returns",
    "rework_count", "reopen_count", "promise", "promise_kept_at", "created_at", "updated_at",
    "body"};

// The due date's basis as show says it, in the reader's language.
std::string due_basis_text(const wire::Json& basis) {
  if (text(basis, "rule").empty()) return "";
  return say_basis(i18n::language(), read_basis(basis));
}

std::vector<std::string> item_row(const wire::Json& item, const Config& config) {
  auto name = [&](const std::string& code) {
    const Department* d = config.find_department(code);
    return d ? d->name : code;
  };
  const wire::Json no_object = wire::Json::object();
  std::vector<std::string> row;
  for (const std::string& c : kItemColumns) {
    if (c == "co_departments" || c == "co_department_names") {
      std::string list;
      for (const auto& code : item.value("co_departments", wire::Json::array()))
        list += (list.empty() ? "" : ",") +
                (c == "co_departments" ? code.get<std::string>() : name(code.get<std::string>()));
      row.push_back(list);
    } else if (c == "department_name") {
      row.push_back(text(item, "department").empty() ? "" : name(text(item, "department")));
    } else if (c == "due_basis") {
      row.push_back(due_basis_text(item.value("due_basis", no_object)));
    } else if (c == "reply") {
      row.push_back(text(item.value("reply", no_object), "text"));
    } else if (c == "attitude" || c == "result" || c == "evaluation_comment") {
      row.push_back(text(item.value("evaluation", no_object),
                         c == "evaluation_comment" ? "comment" : c.c_str()));
    } else if (c == "promise" || c == "promise_kept_at") {
      row.push_back(text(item.value("promise", no_object), c == "promise" ? "date" : "kept_at"));
    } else {
      row.push_back(text(item, c.c_str()));
    }
  }
  return row;
}

const std::vector<std::string> kEventColumns{"item", "seq", "at", "stage", "action", "actor",
                                             "department", "payload", "prev_hash", "hash"};

// The scoreboard's columns: the department's code and name, its counts, the rate.
std::vector<std::string> scoreboard_columns() {
  std::vector<std::string> columns{"department", "name"};
  for (auto c : kScoreColumns) columns.emplace_back(c);
  columns.push_back("satisfaction_rate");
  return columns;
}

// Writes JSON arrays element by element, or CSV rows, to one stream. JSON is always
// written terminal-safe (terminal.h: the same document for a parser); CSV cells only
// when the stream is a terminal (`to_terminal`), since escaping changes a file's data.
class Sink {
 public:
  Sink(std::ostream& out, bool csv, std::vector<std::string> header, bool to_terminal)
      : out_(out), csv_(csv), to_terminal_(to_terminal) {
    if (csv_) {  // every header in the reader's language (column_header)
      writer_.emplace(out_);
      for (std::string& name : header) name = column_header(name);
      writer_->row(header);
    }
  }
  void add(const wire::Json& value, std::vector<std::string> row) {
    if (csv_) {
      if (to_terminal_)
        for (std::string& cell : row) cell = for_terminal(cell);
      return writer_->row(row);
    }
    out_ << (count_++ == 0 ? "[" : ",") << json_for_terminal(value) << "\n";
  }
  void finish() {
    if (!csv_) out_ << (count_ == 0 ? "[]" : "]") << "\n";
    out_.flush();
  }

 private:
  std::ostream& out_;
  bool csv_, to_terminal_;
  std::optional<csv::Writer> writer_;
  size_t count_ = 0;
};

}  // namespace

std::vector<std::string> export_columns() {
  std::vector<std::string> columns = kItemColumns;
  columns.insert(columns.end(), kEventColumns.begin(), kEventColumns.end());
  for (const std::string& c : scoreboard_columns()) columns.push_back(c);
  return columns;
}

int run_export(Client& client, const Target& target, const Invocation& in, const wire::Json& f) {
  std::string what = text(f, "what");
  bool csv = text(f, "format") == "csv";
  std::ofstream file;
  if (f.contains("out")) {
    file.open(text(f, "out"), std::ios::binary | std::ios::trunc);
    if (!file) return fail(kExitUsage, cannot_write(text(f, "out")));
  }
  std::ostream& out = f.contains("out") ? static_cast<std::ostream&>(file) : std::cout;
  bool to_terminal = !f.contains("out") && isatty(STDOUT_FILENO);
  wire::MapBuilder period;  // `via`: the read audit records what these reads serve
  period.add("from", text(f, "from")).add("to", text(f, "to")).add("via", "export");
  if (what == "scoreboard") {
    auto reply = client.call("scoreboard", in.actor, period.finish());
    Answer a = answer_of(reply, target);
    if (!a.reply) return a.exit_code;
    wire::Json board = wire::to_json(a.reply->body);
    if (!csv) {
      out << json_for_terminal(board) << "\n";
      return kExitOk;
    }
    std::vector<std::string> header = scoreboard_columns();
    Sink sink(out, true, header, to_terminal);
    for (const wire::Json& d : board["departments"]) {
      std::vector<std::string> row;
      for (const std::string& c : header) row.push_back(text(d, c.c_str()));
      sink.add(d, row);
    }
    sink.finish();
    return kExitOk;
  }
  Sink sink(out, csv, what == "items" ? kItemColumns : kEventColumns, to_terminal);
  int code = kExitOk;
  auto page = [&](const msgpack::object& items) {
    for (uint32_t i = 0; i < items.via.array.size && code == kExitOk; ++i) {
      wire::Json item = item_json(items.via.array.ptr[i]);
      if (what == "items") {
        if (const Department* d = target.config.find_department(text(item, "department")))
          item["department_name"] = d->name;
        sink.add(item, item_row(item, target.config));
        continue;
      }
      std::string body = wire::MapBuilder().add("item", text(item, "id")).add("via", "export").finish();
      auto trail = client.call_pages("trail", in.actor, body, "events", "seq");
      Answer a = answer_of(trail, target);
      if (!a.reply) {
        code = a.exit_code;
        break;
      }
      wire::Fields f(a.reply->body, "trail");
      const msgpack::object& list = f.array("events");
      for (uint32_t k = 0; f.ok() && k < list.via.array.size; ++k) {
        wire::Json e = event_json(list.via.array.ptr[k]);
        std::vector<std::string> row;
        for (const std::string& c : kEventColumns) row.push_back(text(e, c.c_str()));
        sink.add(e, row);
      }
    }
    return code == kExitOk;
  };
  if (what == "items") period.add("plain", true);  // each with its reply (workflow/view.h)
  auto last = client.for_each_page("list", in.actor, period.finish(), "items", "id", page);
  if (code != kExitOk) return code;
  Answer a = answer_of(last, target);
  if (!a.reply) return a.exit_code;
  sink.finish();
  return kExitOk;
}

// ---- bundle ----

namespace {

// The inclusion proofs of one item's events in the tree of `size` events, as JSON.
int proofs_of(Client& client, const Target& target, const Invocation& in, const std::string& id,
              uint64_t size, wire::Json& out) {
  std::string body = wire::MapBuilder().add("item", id).add("size", size).finish();
  auto reply = client.call_pages("proofs", in.actor, body, "proofs", "seq");
  Answer a = answer_of(reply, target);
  if (!a.reply) return a.exit_code;
  out = wire::to_json(a.reply->body).value("proofs", wire::Json::array());
  return kExitOk;
}

}  // namespace

// Items and trails first, then a checkpoint signed after them (so it covers every event
// they hold), then each event's proof in its tree.
int run_bundle(Client& client, const Target& target, const Invocation& in, const wire::Json& f) {
  std::optional<security::Checkpoint> old;
  if (f.contains("checkpoint")) {
    auto read = read_checkpoint_file(text(f, "checkpoint"));
    if (!read) return fail(kExitUsage, read.error().message);
    if (!security::verify_signature(*read))
      return fail(kExitBadTrail, say(N_("{path}: its signature does not verify"),
                                     {{"path", text(f, "checkpoint")}}));
    old = std::move(*read);
  }
  Clock clock(target.config.timezone);
  wire::Json bundle = {{"format", kBundleFormat}, {"version", kBundleVersion},
                       {"created_at", clock.now_iso()}, {"timezone", target.config.timezone},
                       {"items", wire::Json::array()},
                       {"trails", wire::Json::object()}, {"proofs", wire::Json::object()}};
  for (const std::string& id : in.ids) {
    std::string body = wire::MapBuilder().add("item", id).add("via", "bundle").finish();
    auto shown = client.call("show", in.actor, body);
    Answer item = answer_of(shown, target);
    if (!item.reply) return item.exit_code;
    auto trail = client.call_pages("trail", in.actor, body, "events", "seq");
    Answer events = answer_of(trail, target);
    if (!events.reply) return events.exit_code;
    wire::Fields item_reply(item.reply->body, "show"), trail_reply(events.reply->body, "trail");
    bundle["items"].push_back(item_json(item_reply.map("item")));
    const msgpack::object& list = trail_reply.array("events");
    wire::Json json = wire::Json::array();
    for (uint32_t k = 0; trail_reply.ok() && k < list.via.array.size; ++k)
      json.push_back(event_json(list.via.array.ptr[k]));
    bundle["trails"][id] = std::move(json);
  }
  Tree tree;
  if (int code = fetch_tree(client, target, in, /*fresh=*/true, old ? &*old : nullptr, tree);
      code != kExitOk)
    return code;
  bundle["checkpoint"] = security::to_json(tree.checkpoint);
  if (old) {
    wire::Json proof = wire::Json::array();
    for (const security::Hash& h : tree.proof) proof.push_back(security::to_hex(h));
    bundle["consistency"] = {{"size", old->size}, {"proof", std::move(proof)}};
  }
  for (const std::string& id : in.ids)
    if (int code = proofs_of(client, target, in, id, tree.checkpoint.size, bundle["proofs"][id]);
        code != kExitOk)
      return code;
  std::string out = text(f, "out");
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << bundle.dump(2, ' ', false, wire::Json::error_handler_t::replace) << "\n";
  if (!file) return fail(kExitUsage, cannot_write(out));
  size_t events = 0;
  for (const auto& [id, trail] : bundle["trails"].items()) events += trail.size();
  print_line(say(N_("wrote {path}: {items} items, {events} events, in the checkpoint of size "
                    "{size}"),
                 {{"path", out},
                  {"items", std::to_string(in.ids.size())},
                  {"events", std::to_string(events)},
                  {"size", std::to_string(tree.checkpoint.size)}}),
             in.json ? stderr : stdout);
  return kExitOk;
}

// ---- due ----

int run_due(const Target& target, const Invocation& in, const wire::Json& f) {
  using i18n::say;
  i18n::Language lang = i18n::language();
  int periods = f.contains("kind") + f.contains("working-days") + f.contains("months");
  if (periods != 1) return fail(kExitUsage, std::string(i18n::_("give one of --kind, --working-days, --months")));
  auto from = Date::parse(text(f, "from"));
  if (!from)
    return fail(kExitUsage, say(lang, N_("--from must be a date YYYY-MM-DD, not '{value}'"),
                                {{"value", text(f, "from")}}));
  auto calendar = Calendar::load(target.config.calendar_dir);
  if (!calendar) return fail(kExitUsage, say(lang, calendar.error()));
  std::optional<Due> due;
  if (f.contains("kind")) {
    std::string kind = text(f, "kind");
    if (!find_kind(kind))
      return fail(kExitUsage, say(lang, N_("unknown kind '{value}'"), {{"value", kind}}));
    due = statutory_due(target.config.rules, *calendar, kind, f.contains("complex"), *from);
    if (!due)
      return fail(kExitUsage,
                  say(lang,
                      N_("the due date of an item of kind {kind} is not a period: it is set at "
                         "assignment (a date, or a project's last milestone)"),
                      {{"kind", std::string(find_kind(kind)->code)}}));
  } else {
    Period p{f.value("working-days", uint64_t{0}), f.value("months", uint64_t{0})};
    if (p.working_days + p.months == 0)
      return fail(kExitUsage, std::string(i18n::_("the period must be at least 1")));
    due = due_after(*calendar, *from, p, due_rule::kPeriod, describe(p) + " after " + from->str());
  }
  wire::Json answer = {{"due", due->date},
                       {"rule", due->basis.rule},
                       {"code", due->basis.code},
                       {"from", due->basis.from},
                       {"calendar", due->basis.calendar},
                       {"provisional", due->basis.provisional},
                       {"working_days", due->basis.working_days},
                       {"months", due->basis.months}};
  if (in.json) {
    print_json(answer);
  } else {
    print_due(answer);
  }
  return kExitOk;
}

// ---- keygen ----

int run_keygen(const Invocation& in, const wire::Json& f) {
  std::string out = text(f, "out");
  if (std::filesystem::exists(out))
    return fail(kExitUsage,
                say(N_("{path} exists: keygen never overwrites a key (remove it first)"), {{"path", out}}));
  security::KeyPair pair = security::generate_key_pair();
  if (Status written = security::write_key_file(out, pair); !written)
    return fail(kExitUsage, say(N_("cannot write the key: {reason}"), {{"reason", written.error().message}}));
  if (in.json)
    print_json({{"public_key", pair.public_key}, {"file", out}});
  else
    print_line(pair.public_key);
  return kExitOk;
}

}  // namespace closeloop::cli
