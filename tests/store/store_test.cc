#include <catch2/catch.hpp>

#include <filesystem>

#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;

TEST_CASE("big-endian keys sort in numeric order", "[store][keys]") {
  CHECK(keys::outbox(255) < keys::outbox(256));
  CHECK(keys::event("2026-000001", 9) < keys::event("2026-000001", 10));
  CHECK(keys::outbox_pos(keys::outbox(123456789)) == 123456789);
  CHECK(keys::read_be64(keys::event("x", 42).substr(keys::event_prefix("x").size())) == 42);
}

TEST_CASE("an item's event prefix does not match a longer id", "[store][keys]") {
  std::string a = keys::event_prefix("2026-100000");
  std::string b = keys::event("2026-1000000", 1);
  CHECK(b.compare(0, a.size(), a) != 0);
}

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/closeloop-store-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};
}  // namespace

TEST_CASE("a Txn sees its own pending writes and commits them in one batch", "[store]") {
  TempDir dir;
  auto store = Store::open(dir.path + "/db");
  REQUIRE(store.ok());
  Txn txn(**store, true);
  txn.put("item/a", "1");
  CHECK(txn.get("item/a") == "1");
  CHECK_FALSE((*store)->get("item/a"));  // not before commit
  txn.del("item/a");
  CHECK_FALSE(txn.get("item/a"));
  txn.put("item/b", "2");
  REQUIRE(txn.commit().ok());
  CHECK(txn.empty());
  CHECK((*store)->get("item/b") == "2");
  CHECK_FALSE((*store)->get("item/a"));
}

TEST_CASE("scan visits one prefix in key order", "[store]") {
  TempDir dir;
  auto store = Store::open(dir.path + "/db");
  REQUIRE(store.ok());
  Txn txn(**store, false);
  for (uint64_t pos : {3, 1, 2}) txn.put(keys::outbox(pos), "x");
  txn.put("seen/a/1", "");
  REQUIRE(txn.commit().ok());
  std::vector<uint64_t> seen;
  (*store)->scan(keys::kOutboxPrefix, [&](std::string_view key, std::string_view) {
    seen.push_back(keys::outbox_pos(key));
    return true;
  });
  CHECK(seen == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("a second process cannot open the same database", "[store]") {
  TempDir dir;
  auto first = Store::open(dir.path + "/db");
  REQUIRE(first.ok());
  auto second = Store::open(dir.path + "/db");
  CHECK_FALSE(second.ok());
}
