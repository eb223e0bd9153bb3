#include "indexes.h"

#include <leveldb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/text.h"
#include "store/keys.h"

namespace closeloop::ledger {

Result<Indexed> indexed(const msgpack::object& item) {
  auto view = wire::read_record<Indexed>(item, "item", /*keep_extras=*/false);
  if (!view) return view.error();
  if (Status ok = check_item(view->v, view->id); !ok) return ok.error();
  return view;
}

Indexed indexed(const Item& item) {
  Indexed view;
  view.v = item.v, view.seq = item.seq, view.id = item.id, view.stage = item.stage;
  view.kind = item.kind, view.department = item.department, view.due = item.due;
  view.submitted_on = item.submitted_on, view.co_departments = item.co_departments;
  view.due_basis = item.due_basis, view.escalated = item.escalated, view.title = item.title;
  return view;
}

std::optional<Indexed> indexed(std::string_view stored) {
  auto decoded = wire::decode(stored.data(), stored.size());
  if (!decoded) return std::nullopt;
  auto view = indexed(decoded->get());
  if (!view) return std::nullopt;
  return std::move(*view);
}

std::vector<std::string> index_keys(const Indexed& item) {
  const std::string& id = item.id;
  std::vector<std::string> keys{keys::index("stage", to_string(item.stage), id)};
  if (!item.department.empty()) keys.push_back(keys::index("department", item.department, id));
  for (const auto& co : item.co_departments) keys.push_back(keys::index("co", co, id));
  if (!item.kind.empty()) keys.push_back(keys::index("kind", item.kind, id));
  if (item.stage == Stage::kAssigned && !item.due.empty()) {
    keys.push_back(keys::index("due", item.due, id));
    if (item.due_basis.provisional) keys.push_back(keys::index("provisional", "due", id));
  }
  if (item.escalated && !ended(item.stage))
    keys.push_back(keys::index("attention", "escalated", id));
  if (!item.submitted_on.empty()) keys.push_back(keys::index("submitted", item.submitted_on, id));
  if (!item.title.empty())
    keys.push_back(keys::index("title", title_digest(item.department, item.title), id));
  return keys;
}

void reindex(Txn& txn, const Indexed* before, const Indexed& after) {
  std::vector<std::string> now = index_keys(after);
  std::vector<std::string> was = before ? index_keys(*before) : std::vector<std::string>{};
  for (const auto& key : was)
    if (std::find(now.begin(), now.end(), key) == now.end()) txn.del(key);
  for (const auto& key : now)
    if (std::find(was.begin(), was.end(), key) == was.end()) txn.put(key, "");
}

std::string title_digest(std::string_view department, std::string_view title) {
  std::string both(department);
  both.append("\n").append(title);
  return sha256_hex(both).substr(0, 32);
}

Status add_title_index(Store& store) {
  const std::string done = keys::meta("index_title");
  if (store.get(done)) return ok_status();
  constexpr size_t kPerBatch = 10000;
  leveldb::WriteBatch batch;
  size_t added = 0, pending = 0;
  Status written = ok_status();
  store.scan(keys::item(""), [&](std::string_view, std::string_view value) {
    std::optional<Indexed> item = indexed(value);
    if (!item || item->title.empty()) return true;
    batch.Put(keys::index("title", title_digest(item->department, item->title), item->id), "");
    ++added;
    if (++pending < kPerBatch) return true;
    written = store.write(&batch, false);
    batch.Clear();
    pending = 0;
    return written.ok();
  });
  if (!written) return written;
  batch.Put(done, "");
  if (Status s = store.write(&batch, true); !s) return s;
  if (added > 0) spdlog::info("ledger: indexed the titles of {} items", added);
  return ok_status();
}

bool dated(std::string_view action) {
  return action == "assign" || action == "reassign" || action == "reopen";
}

void index_event(Txn& txn, const std::string& item, const std::string& day) {
  txn.put(keys::index("assigned", day, item), "");
}

}  // namespace closeloop::ledger
