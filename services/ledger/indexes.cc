#include "indexes.h"

#include <algorithm>

#include "store/keys.h"

namespace closeloop::ledger {

std::vector<std::string> index_keys(const Item& item) {
  const std::string& id = item.id;
  std::vector<std::string> keys{keys::index("stage", to_string(item.stage), id)};
  if (!item.department.empty()) keys.push_back(keys::index("department", item.department, id));
  for (const auto& co : item.co_departments) keys.push_back(keys::index("co", co, id));
  if (!item.kind.empty()) keys.push_back(keys::index("kind", item.kind, id));
  if (item.stage == Stage::kAssigned && !item.due.empty()) {
    keys.push_back(keys::index("due", item.due, id));
    if (item.due_basis.provisional) keys.push_back(keys::index("provisional", "due", id));
  }
  if (item.escalated && item.stage != Stage::kClosed)
    keys.push_back(keys::index("attention", "escalated", id));
  if (!item.submitted_on.empty()) keys.push_back(keys::index("submitted", item.submitted_on, id));
  return keys;
}

void reindex(Txn& txn, const Item* before, const Item& after) {
  std::vector<std::string> now = index_keys(after);
  std::vector<std::string> was = before ? index_keys(*before) : std::vector<std::string>{};
  for (const auto& key : was)
    if (std::find(now.begin(), now.end(), key) == now.end()) txn.del(key);
  for (const auto& key : now)
    if (std::find(was.begin(), was.end(), key) == was.end()) txn.put(key, "");
}

void index_event(Txn& txn, const Event& event, const std::string& day) {
  if (event.action == "assign" || event.action == "reopen")
    txn.put(keys::index("assigned", day, event.item), "");
}

}  // namespace closeloop::ledger
