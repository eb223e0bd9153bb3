// Importing a list (清单交办): a CSV file an office keeps in Excel, one item per row.
//
// The CLI reads the file (csv/csv.h), maps its header to the columns below (English
// names or the Chinese ones an office writes) and sends the rows to intake in batches;
// intake plans each row (plan_import) and creates the item, assigned when the row names
// its department, each step on the day the row says it happened (submitted_on,
// assigned_on), so deadlines count from the original dates. A row is refused with its
// line and reason; the others are imported. A row's key is its `key` column, else a
// digest of its cells, so importing the same file twice imports nothing twice.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "csv/csv.h"
#include "wire/json.h"
#include "workflow/command.h"
#include "workflow/decide.h"

namespace closeloop {

inline constexpr size_t kMaxImportRows = 200;  // rows in one import request

struct ImportColumn {
  std::string_view name;  // also the row's field on the wire
  std::vector<std::string_view> aliases;
  bool required = false;
};
const std::vector<ImportColumn>& import_columns();

struct RefusedRow {
  size_t line = 0;
  std::string reason;
};

struct ImportFile {
  std::vector<wire::Json> rows;  // {line, key, <column>: text...}, non-empty cells only
  std::vector<RefusedRow> refused;
};

// The rows of a parsed file. A header without the required columns (or naming one
// twice) is an Error: the file is not such a list. A row with more cells than the
// header is refused here.
Result<ImportFile> read_import(const csv::Table& table);

// What intake makes of one row: the submit, and the assign if the row names its
// department; or why the row is refused.
struct ImportPlan {
  uint64_t line = 0;
  std::string key;
  std::string reason;  // non-empty: refused
  Command submit;
  std::optional<Command> assign;
  std::string submitted_on, assigned_on;  // the days they happened; empty: today
  bool ok() const { return reason.empty(); }
};
ImportPlan plan_import(const msgpack::object& row, const std::string& actor, const Setting& now);

}  // namespace closeloop
