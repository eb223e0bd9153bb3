// How the CLI shows replies to people (with --json it prints the JSON instead).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wire/json.h"

namespace closeloop::cli {

// The departments' names (code -> name) from the config, set once by the CLI: tables show
// a department as "县交通运输局 jtj".
void set_department_names(std::map<std::string, std::string, std::less<>> names);
// "name code" for a known department, the code for another, "-" for none.
std::string department_shown(std::string_view code);
// A column's header (a table's or an export's), by its name in the vocabulary "column" in
// the CLI's language: "signed_on_time" is 签收及时 in Chinese, itself in English.
std::string column_header(std::string_view key);

void print_item(const wire::Json& item);
void print_trail(const wire::Json& events);  // one line per event
void print_scoreboard(const wire::Json& board);
void print_ping(const wire::Json& body);     // one line per live service
void print_status(const wire::Json& body);   // one line per worker (`status`)
void print_whoami(const wire::Json& account);  // name, roles, department or station
void print_due(const wire::Json& due);
void print_checkpoint(const wire::Json& checkpoint);  // size, root, at, key

// A list of items printed as it arrives, page by page: a JSON array written element by
// element, or a table (columns sized per page). `type` picks the columns (an inbox
// shows what to do and by when; "reads" lists read audit records, not items).
class ListPrinter {
 public:
  ListPrinter(bool json, std::string type) : json_(json), type_(std::move(type)) {}
  void add(const wire::Json& item);
  void flush();   // prints what add() gathered
  void finish();  // after the last page

 private:
  bool json_;
  std::string type_;
  size_t count_ = 0;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace closeloop::cli
