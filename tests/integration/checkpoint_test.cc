// Signed checkpoints (docs/security.md): the ledger's Merkle tree over every event, its
// checkpoints signed with the ledger's key, the proof that a later tree extends an
// earlier one (across a kill -9), and an insider's rewrite of the ledger's disk — one
// event altered and its item's chain re-hashed to look whole — caught by a bundle's
// inclusion proofs, and, once the insider rebuilt the tree and re-signed it with the key
// on that disk, by a checkpoint kept elsewhere.
#include "security/checkpoint.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"
#include "store/keys.h"
#include "store/store.h"
#include "wire/codec.h"

using namespace closeloop;
using namespace closeloop::test;
using namespace std::chrono_literals;
using wire::Json;

namespace {

// Top-level, so before kFastTiming's [timing] table.
const std::string kQuickCheckpoints = std::string("checkpoint_ms = 100\n") + kFastTiming;

struct Office {
  Cluster cluster{kQuickCheckpoints};
  Office() {
    cluster.start_all();
    REQUIRE(cluster.wait_ready());
    cluster.add_account("交通局", {"department"}, "jtj");  // replies for jtj
  }
  CliRun cli(const std::vector<std::string>& args) { return run_cli(cluster.dir(), args); }
  CliRun verify(const std::vector<std::string>& args) {
    return run_cli(cluster.dir(), args, "", "closeloop-verify");
  }
  Json ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliRun r = cli(args);
    INFO("closeloop " << args.front() << ": exit " << r.code << "\nstdout: " << r.out
                      << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.parsed();
  }
  // An item submitted, assigned and handled: three events.
  std::string handled_item(const std::string& title) {
    std::string id = ok({"submit", "--title", title, "--body", "群众反映"})["id"];
    ok({"assign", id, "--department", "jtj"});
    ok({"--key", cluster.key_file("交通局"), "handle", id, "--reply", "已处理", "--outcome",
        "solved"});
    return id;
  }
  // The account changes in the tree beside the events: the first two accounts, 交通局.
  static constexpr uint64_t kAccountLeaves = 3;
  // The latest checkpoint once it covers `events` events (signed every 100 ms here), and
  // the account changes: its size counts leaves.
  Json checkpoint_of(uint64_t events) {
    Json latest;
    for (int i = 0; i < 50; ++i, std::this_thread::sleep_for(100ms)) {
      latest = ok({"checkpoint"});
      if (latest["size"] == events + kAccountLeaves) return latest;
    }
    FAIL("no checkpoint of " << events << " events and " << kAccountLeaves
                             << " account changes; the latest: " << latest.dump());
    return latest;
  }
  std::string keep(const std::string& name, const Json& json) {
    std::string path = cluster.dir() + "/" + name;
    std::ofstream(path) << json.dump() << "\n";
    return path;
  }
  std::string signing_key_path() const { return cluster.keys_dir() + "/ledger.signing"; }
};

using security::Hash;

std::optional<Hash> node_at(const Store& store, int level, uint64_t index) {
  auto stored = store.get(keys::merkle_node(level, index));
  if (!stored || stored->size() != 32) return std::nullopt;
  Hash hash;
  std::copy(stored->begin(), stored->end(), hash.begin());
  return hash;
}

std::string bytes(const Hash& hash) { return {hash.begin(), hash.end()}; }

// The insider's edit of a stopped ledger: event `seq` of `id` altered, and every later
// event of the item and the item's head re-hashed, so that its chain verifies. With
// `rebuild_tree` the leaves of the re-hashed events and the nodes above them are
// recomputed, and a new checkpoint of the whole tree signed with the key on the disk.
void rewrite_history(Office& o, const std::string& id, uint64_t seq, bool rebuild_tree) {
  auto store = Store::open(o.cluster.dir() + "/data/ledger");
  REQUIRE(store.ok());
  std::vector<Event> trail;
  for (uint64_t s = 1; auto stored = (*store)->get(keys::event(id, s)); ++s) {
    auto event = decode_event(*stored);
    REQUIRE(event.ok());
    trail.push_back(std::move(*event));
  }
  REQUIRE(trail.size() >= seq);
  trail[seq - 1].payload["note"] = "篡改：另行交办";
  leveldb::WriteBatch events;
  for (size_t i = seq - 1; i < trail.size(); ++i) {
    if (i > 0) trail[i].prev_hash = trail[i - 1].hash;
    trail[i].hash = event_hash(trail[i]);
    events.Put(keys::event(id, trail[i].seq), encode(trail[i]));
  }
  REQUIRE(first_bad_seq(trail) == 0);
  auto item = decode_item(*(*store)->get(keys::item(id)));
  REQUIRE(item.ok());
  item->head = trail.back().hash;
  events.Put(keys::item(id), encode(*item));
  REQUIRE((*store)->write(&events, true).ok());
  if (!rebuild_tree) return;

  for (size_t i = seq - 1; i < trail.size(); ++i) {
    uint64_t index = keys::read_be64(*(*store)->get(keys::leaf(id, trail[i].seq)));
    std::string stored = encode(trail[i]);
    auto decoded = wire::decode(stored.data(), stored.size());
    REQUIRE(decoded.ok());
    Hash hash = security::leaf_hash(*event_hashed_bytes(decoded->get()));
    leveldb::WriteBatch nodes;
    nodes.Put(keys::merkle_node(0, index), bytes(hash));
    // Up through every complete subtree above the leaf (its sibling is stored).
    for (int level = 0; auto sibling = node_at(**store, level, index ^ 1); ++level, index /= 2) {
      hash = index & 1 ? security::node_hash(*sibling, hash) : security::node_hash(hash, *sibling);
      nodes.Put(keys::merkle_node(level + 1, index / 2), bytes(hash));
    }
    REQUIRE((*store)->write(&nodes, true).ok());
  }
  uint64_t size = keys::read_be64(*(*store)->get(keys::meta("tree_size")));
  auto root = security::root(
      [&](int level, uint64_t index) { return node_at(**store, level, index); }, size);
  REQUIRE(root.ok());
  auto key = security::read_signing_key(o.signing_key_path());
  REQUIRE(key.ok());
  security::Checkpoint forged = security::sign(*key, size, *root, "2026-12-01T00:00:00.000Z");
  std::string size_be;
  keys::append_be64(size_be, size);
  leveldb::WriteBatch signed_batch;
  signed_batch.Put(keys::checkpoint(size), wire::encode_json(security::to_json(forged)));
  signed_batch.Put(keys::meta("latest_checkpoint"), size_be);
  REQUIRE((*store)->write(&signed_batch, true).ok());
}

void restart(Office& o) {
  o.cluster.start_all();
  REQUIRE(o.cluster.wait_ready());
}

}  // namespace

TEST_CASE(
    "the ledger signs a checkpoint of every event it recorded, and none while nothing changes",
    "[checkpoint]") {
  Office o;
  o.handled_item("路灯不亮");
  o.ok({"submit", "--title", "道路积水", "--body", "雨后积水"});
  Json first = o.checkpoint_of(4);
  auto checkpoint = security::checkpoint_from_json(first);  // the signature verifies
  REQUIRE(checkpoint.ok());
  auto key = security::read_signing_key(o.signing_key_path());
  REQUIRE(key.ok());
  CHECK(checkpoint->key == key->public_key);

  std::this_thread::sleep_for(500ms);  // five checkpoint intervals, nothing new
  CHECK(o.ok({"checkpoint"}) == first);

  o.ok({"submit", "--title", "噪音扰民", "--body", "夜间施工"});
  Json second = o.checkpoint_of(5);
  CHECK(second["at"] != first["at"]);
  CHECK(second["key"] == first["key"]);

  CliRun human = o.cli({"checkpoint"});
  CHECK(human.code == 0);
  CHECK(human.out.find(second["root"].get<std::string>()) != std::string::npos);
  CHECK(human.out.find("size") != std::string::npos);
}

TEST_CASE(
    "checkpoint --consistency proves the tree extends an earlier one, across a kill -9 of the "
    "ledger",
    "[checkpoint]") {
  Office o;
  o.handled_item("路灯不亮");
  std::string a = o.keep("a.json", o.checkpoint_of(3));

  o.handled_item("道路积水");
  o.cluster.kill9("ledger");
  o.cluster.start("ledger");
  REQUIRE(o.cluster.wait_ready());
  o.handled_item("噪音扰民");
  o.checkpoint_of(9);

  CliRun consistent = o.cli({"checkpoint", "--consistency", a});
  INFO(consistent.err);
  CHECK(consistent.code == 0);
  CHECK(consistent.out.find("consistent: size 12 extends size 6") != std::string::npos);
  Json proof = o.ok({"checkpoint", "--consistency", a});
  CHECK(proof["consistent"] == true);
  CHECK(proof["checkpoint"]["size"] == 9 + Office::kAccountLeaves);

  // A checkpoint the ledger did not sign, signed by another key, or of another tree.
  auto old = security::checkpoint_from_json(Json::parse(read_file(a)));
  REQUIRE(old.ok());
  Json forged = security::to_json(*old);
  forged["root"] = std::string(64, 'a');
  CliRun unsigned_old = o.cli({"checkpoint", "--consistency", o.keep("forged.json", forged)});
  CHECK(unsigned_old.code == 5);
  CHECK(unsigned_old.err.find("signature") != std::string::npos);

  security::Checkpoint other_key =
      security::sign(security::generate_signing_key(), old->size, old->root, old->at);
  CliRun other =
      o.cli({"checkpoint", "--consistency", o.keep("other.json", security::to_json(other_key))});
  CHECK(other.code == 5);
  CHECK(other.err.find("another key") != std::string::npos);

  auto key = security::read_signing_key(o.signing_key_path());
  REQUIRE(key.ok());
  security::Hash other_root = old->root;
  other_root[0] ^= 1;
  security::Checkpoint other_tree = security::sign(*key, old->size, other_root, old->at);
  CliRun rewritten =
      o.cli({"checkpoint", "--consistency", o.keep("tree.json", security::to_json(other_tree))});
  CHECK(rewritten.code == 5);
  CHECK(rewritten.err.find("does not extend") != std::string::npos);

  security::Checkpoint larger = security::sign(*key, 1000, old->root, old->at);
  CliRun ahead =
      o.cli({"checkpoint", "--consistency", o.keep("larger.json", security::to_json(larger))});
  CHECK(ahead.code == 5);
  CHECK(ahead.err.find("fewer than 1000") != std::string::npos);
}

TEST_CASE("checkpoint --consistency refuses a file that is not a checkpoint", "[checkpoint]") {
  Office o;
  CHECK(o.cli({"checkpoint", "--consistency", o.cluster.dir() + "/missing.json"}).code == 2);
  std::ofstream(o.cluster.dir() + "/text.json") << "not json";
  CHECK(o.cli({"checkpoint", "--consistency", o.cluster.dir() + "/text.json"}).code == 2);
  Json checkpoint = o.ok({"checkpoint"});
  checkpoint.erase("signature");
  CliRun unsigned_file = o.cli({"checkpoint", "--consistency", o.keep("partial.json", checkpoint)});
  CHECK(unsigned_file.code == 2);
  CHECK(unsigned_file.err.find("signature") != std::string::npos);
  CHECK(o.cli({"checkpoint", "--consistency", o.keep("list.json", Json::array())}).code == 2);
}

TEST_CASE("a bundle proves each event is in a checkpoint, and extends one kept from before",
          "[checkpoint][bundle]") {
  Office o;
  std::string a = o.ok({"submit", "--title", "路灯不亮", "--body", "幸福里小区"})["id"];
  std::string kept = o.keep("kept.json", o.checkpoint_of(1));
  std::string b = o.handled_item("道路积水");
  std::string path = o.cluster.dir() + "/evidence.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", path, "--checkpoint", kept}).code == 0);
  Json bundle = Json::parse(read_file(path));
  CHECK(bundle["version"] == 3);
  CHECK(bundle["checkpoint"]["size"] == 4 + Office::kAccountLeaves);  // signed for the bundle
  CHECK(bundle["proofs"][b].size() == 3);
  CHECK(bundle["consistency"]["size"] == 1 + Office::kAccountLeaves);

  CliRun good = o.verify({path, "--checkpoint", kept});
  INFO(good.err);
  CHECK(good.code == 0);
  CHECK(good.out.find("verifies: 2 items, 4 events") != std::string::npos);
  CHECK(good.out.find("extends") != std::string::npos);

  // Made without --checkpoint, it cannot say whether it extends one.
  REQUIRE(o.cli({"bundle", a, b, "--out", path + ".plain"}).code == 0);
  CHECK(o.verify({path + ".plain"}).code == 0);
  CliRun no_proof = o.verify({path + ".plain", "--checkpoint", kept});
  CHECK(no_proof.code == 2);
  CHECK(no_proof.err.find("--checkpoint") != std::string::npos);

  // A proof that does not lead to the root names the event.
  bundle["proofs"][b][1]["path"][0] = std::string(64, '0');
  CliRun bad = o.verify({o.keep("bad-proof.json", bundle)});
  CHECK(bad.code == 5);
  CHECK(bad.err.find("item " + b + " at seq 2") != std::string::npos);
}

TEST_CASE(
    "an event altered on disk with its chain re-hashed is caught by the bundle's proofs, and "
    "a rebuilt, re-signed tree by the checkpoint kept from before",
    "[checkpoint][bundle][tamper]") {
  Office o;
  std::string a = o.handled_item("路灯不亮");
  std::string b = o.handled_item("道路积水");
  std::string kept = o.keep("kept.json", o.checkpoint_of(6));

  o.cluster.kill_all9();
  rewrite_history(o, b, 2, /*rebuild_tree=*/false);
  restart(o);
  CHECK(o.cli({"trail", b, "--verify"}).code == 0);  // the chain alone looks whole
  std::string altered = o.cluster.dir() + "/altered.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", altered}).code == 0);
  CliRun caught = o.verify({altered});
  CHECK(caught.code == 5);
  CHECK(caught.err.find("item " + b + " at seq 2") != std::string::npos);

  o.cluster.kill_all9();
  rewrite_history(o, b, 2, /*rebuild_tree=*/true);
  restart(o);
  std::string rewritten = o.cluster.dir() + "/rewritten.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", rewritten, "--checkpoint", kept}).code == 0);
  CHECK(o.verify({rewritten}).code == 0);  // consistent in itself: the key was on the disk
  CliRun against_kept = o.verify({rewritten, "--checkpoint", kept});
  CHECK(against_kept.code == 5);
  CHECK(against_kept.err.find("the checkpoint") != std::string::npos);
  CliRun consistency = o.cli({"checkpoint", "--consistency", kept});
  CHECK(consistency.code == 5);
  CHECK(consistency.err.find("NOT consistent") != std::string::npos);
}

TEST_CASE("a ledger whose events have no tree (made before checkpoints) puts them in one at start",
          "[checkpoint]") {
  Office o;
  std::string a = o.handled_item("路灯不亮");
  std::string b = o.handled_item("道路积水");
  o.checkpoint_of(6);
  o.cluster.kill_all9();
  {
    auto store = Store::open(o.cluster.dir() + "/data/ledger");
    REQUIRE(store.ok());
    leveldb::WriteBatch batch;
    for (std::string prefix : {"merkle/", "leaf/", "account_leaf/", "checkpoint/"})
      (*store)->scan(prefix, [&](std::string_view key, std::string_view) {
        batch.Delete(std::string(key));
        return true;
      });
    batch.Delete(keys::meta("tree_size"));
    batch.Delete(keys::meta("latest_checkpoint"));
    REQUIRE((*store)->write(&batch, true).ok());
    REQUIRE_FALSE((*store)->get(keys::leaf(a, 1)));
  }
  restart(o);
  CHECK(o.ok({"checkpoint"})["size"] == 6 + Office::kAccountLeaves);  // signed on demand
  std::string path = o.cluster.dir() + "/evidence.json";
  REQUIRE(o.cli({"bundle", a, b, "--out", path}).code == 0);
  CliRun verified = o.verify({path});
  INFO(verified.err);
  CHECK(verified.code == 0);
}
