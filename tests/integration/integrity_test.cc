// Records are checked against the trail (issue 16): an item record altered on the
// stopped ledger's disk is named by `trail --verify`, by closeloop-verify on a bundle made
// then (also against a checkpoint kept from before), and by the ledger itself at the next
// handoff of the item; an event altered on disk without its tree fails `checkpoint
// --consistency` though the stored tree is untouched.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "harness.h"
#include "store/keys.h"
#include "store/store.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;
using wire::Json;

namespace {

// A service signing checkpoints every 100 ms, with 交通局's clerk for jtj's replies.
struct Ledgered {
  Cluster cluster{std::string("checkpoint_ms = 100\n") + kFastTiming};
  Ledgered() {
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    cluster.add_account("交通局", {"department"}, "jtj");
  }
  CliRun cli(const std::vector<std::string>& args) { return run_cli(cluster.dir(), args); }
  CliRun verify(const std::vector<std::string>& args) {
    return run_cli(cluster.dir(), args, "", "closeloop-verify");
  }
  Json ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliRun r = cli(args);
    INFO("closeloop " << args.front() << ": exit " << r.code << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.parsed();
  }
  // Submitted, assigned to jtj, handled: three events; the item waits at verify.
  std::string handled(const std::string& title) {
    std::string id = ok({"submit", "--title", title, "--body", "群众反映"})["id"];
    ok({"assign", id, "--department", "jtj"});
    ok({"--key", cluster.key_file("交通局"), "handle", id, "--reply", "已处理", "--outcome",
        "solved"});
    return id;
  }
  // Every process killed, the ledger's record of `id` changed by `edit`, all started again.
  void alter_ledger_item(const std::string& id, const std::function<void(Item&)>& edit) {
    cluster.kill_all9();
    {
      auto store = Store::open(cluster.dir() + "/data/ledger");
      REQUIRE(store.ok());
      auto item = decode_item(*(*store)->get(keys::item(id)));
      REQUIRE(item.ok());
      edit(*item);
      Txn txn(**store, true);
      txn.put(keys::item(id), encode(*item));
      REQUIRE(txn.commit().ok());
    }
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
  }
};

}  // namespace

TEST_CASE(
    "an item's title altered on the ledger's disk fails trail --verify and a bundle made then, "
    "also against a checkpoint kept from before, naming the item and the field",
    "[integrity][trail][bundle]") {
  Ledgered o;
  std::string a = o.handled("路灯不亮"), b = o.handled("道路积水");
  CliRun whole = o.cli({"trail", a, "--verify"});
  CHECK(whole.code == 0);
  CHECK(whole.out.find("the item is what they make of it") != std::string::npos);
  std::string kept = o.cluster.dir() + "/kept.json";
  for (int i = 0; i < 50 && o.ok({"checkpoint"})["size"] != 6; ++i) std::this_thread::sleep_for(100ms);
  std::ofstream(kept) << o.ok({"checkpoint"}).dump();

  o.alter_ledger_item(a, [](Item& item) { item.title = "路灯已修好"; });
  CHECK(o.ok({"show", a})["title"] == "路灯已修好");  // shown as it is stored
  CliRun altered = o.cli({"trail", a, "--verify"});
  INFO(altered.err);
  CHECK(altered.code == 5);
  CHECK(altered.err.find("item " + a) != std::string::npos);
  CHECK(altered.err.find("title: the item says \"路灯已修好\", its trail makes it \"路灯不亮\"") !=
        std::string::npos);
  CHECK(o.cli({"trail", b, "--verify"}).code == 0);  // the other item is untouched

  // The events are as recorded, so every proof holds: only the fold sees it.
  std::string path = o.cluster.dir() + "/evidence.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", path, "--checkpoint", kept}).code == 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{path}, std::vector<std::string>{path, "--checkpoint", kept}}) {
    CliRun bundled = o.verify(args);
    INFO(bundled.err);
    CHECK(bundled.code == 5);
    CHECK(bundled.err.find("item " + a + ": the item is not what its trail makes of it: title") !=
          std::string::npos);
  }
}
