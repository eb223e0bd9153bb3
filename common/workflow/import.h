// Importing a list (清单交办): a CSV file an office keeps in Excel, one item per row.
//
// The CLI reads the file (csv/csv.h), maps its header to the columns below (English
// names, the Chinese ones an office writes, or their common synonyms; docs/supervision.md
// lists them) and sends the rows to intake in batches; intake plans each row
// (plan_import) and creates the item, assigned when the row names its department, each
// step on the day the row says it happened (submitted_on, assigned_on), so deadlines
// count from the original dates. A row is refused with its line and every reason found;
// the others are imported. A row's key is its `key` column, else a digest of its cells,
// so importing the same file twice imports nothing twice. A dry run (the request's
// `dry_run`) plans and checks every row the same way and writes nothing.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "csv/csv.h"
#include "i18n/words.h"
#include "wire/json.h"
#include "workflow/command.h"
#include "workflow/decide.h"

namespace closeloop {

inline constexpr size_t kMaxImportRows = 200;  // rows in one import request

struct ImportColumn {
  std::string_view name;  // also the row's field on the wire
  // The Chinese names accepted; the first is the one the template writes and the
  // refusals name ("办理期限").
  std::vector<std::string_view> aliases;
  bool required = false;
  bool date = false;  // a day: YYYY-MM-DD, YYYY/M/D, YYYY.M.D or YYYY年M月D日
};
const std::vector<ImportColumn>& import_columns();

// How a refusal names a column in English (a row's `reason`): `the column "办理期限" (due)`.
// `name` is a column's, or the field of a verb the column fills (co: co_departments).
std::string column_label(std::string_view name);

// A refused row's reasons are errors for people (base/result.h) whose field is the column
// they concern: a verb's field is the column that fills it ("co": "co_departments").
using Reasons = std::vector<Error>;
std::string_view column_of_field(std::string_view field);
// A rule's or a declaration's error as a row's reason: its field the column's name.
Error row_error(Error e);
// The reason in English, the column named by column_label(): a row's `reason(s)`.
std::string reason_text(const Error& reason);
// The reason as the import's answer carries it (`reasons_detail`): {code, message, msgid?,
// args?, field?}, the form of a reply's error (docs/protocol.md); and back.
wire::Json reason_json(const Error& reason);
Error reason_of_json(const wire::Json& json);
// How a client names a reason's columns in `language`: “办理期限”列, as the file's header
// `headers` (column -> the header's text) names it, else by the column's first name.
i18n::Voice import_voice(i18n::Language language,
                         const std::map<std::string, std::string>& headers = {});

// A day written as Excel writes it — 2026-11-25, 2026/11/25, 2026.11.25, 2026年11月25日,
// with or without leading zeros, optionally followed by a time of day (2026/11/25 0:00) —
// as YYYY-MM-DD; nullopt when the text is none of these forms or not a real day.
std::optional<std::string> import_date(std::string_view text);

struct RefusedRow {
  size_t line = 0;
  Reasons reasons;
};

struct ImportFile {
  std::vector<wire::Json> rows;  // {line, key, <column>: text...}, non-empty cells only
  std::vector<RefusedRow> refused;
  std::vector<std::string> ignored_columns;  // header names that are no column, in order
  std::map<std::string, std::string> headers;  // column -> its header's text in the file
};

// The rows of a parsed file. A header without the required columns (or naming one
// twice) is an Error: the file is not such a list. A row with more cells than the
// header is refused here. Date cells in a form import_date() reads are sent as
// YYYY-MM-DD (so a file re-saved with other date formats has the same rows).
Result<ImportFile> read_import(const csv::Table& table);

// A header row (the Chinese names) and one example row that imports as it is, for an
// office to fill in: its department (and category) the config's first, its dates today.
std::vector<std::vector<std::string>> import_template(const Config& config, const Date& today);

// What intake makes of one row: the submit, and the assign if the row names its
// department; or every reason it is refused.
struct ImportPlan {
  uint64_t line = 0;
  std::string key;
  Reasons reasons;  // non-empty: refused
  Command submit;
  std::optional<Command> assign;
  std::string submitted_on, assigned_on;  // the days they happened; empty: today
  std::string title, department;          // what a possible duplicate is looked up by
  bool ok() const { return reasons.empty(); }
};
ImportPlan plan_import(const msgpack::object& row, const std::string& actor, const Setting& now);

}  // namespace closeloop
