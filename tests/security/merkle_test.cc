// The Merkle tree of RFC 6962: the Certificate Transparency reference vectors, then every
// root and proof of trees of 1..70 leaves against a naive recomputation and the RFC 9162
// verifiers, which must also refuse what is wrong.
#include <catch2/catch.hpp>

#include <map>

#include "security/merkle.h"

using namespace closeloop;
using namespace closeloop::security;

namespace {

Hash hex(std::string_view text) {
  std::optional<Hash> hash = hash_from_hex(text);
  REQUIRE(hash);
  return *hash;
}

std::vector<Hash> hexes(std::initializer_list<std::string_view> texts) {
  std::vector<Hash> hashes;
  for (std::string_view text : texts) hashes.push_back(hex(text));
  return hashes;
}

// A tree whose nodes live in a map, as the ledger keeps them in LevelDB; counts reads.
struct MemoryTree {
  std::map<std::pair<int, uint64_t>, Hash> nodes;
  std::vector<Hash> leaves;
  mutable int reads = 0;

  NodeReader reader() const {
    return [this](int level, uint64_t index) -> std::optional<Hash> {
      ++reads;
      auto it = nodes.find({level, index});
      if (it == nodes.end()) return std::nullopt;
      return it->second;
    };
  }
  void add(const Hash& leaf) {
    Result<std::vector<Node>> stored = append(reader(), leaves.size(), leaf);
    REQUIRE(stored);
    for (const Node& node : *stored) nodes[{node.level, node.index}] = node.hash;
    leaves.push_back(leaf);
  }
  Hash root_of(uint64_t size) const {
    Result<Hash> hash = security::root(reader(), size);
    REQUIRE(hash);
    return *hash;
  }
};

// MTH straight from RFC 6962 §2.1, over every leaf: what the stored tree must agree with.
Hash naive_root(std::span<const Hash> leaves) {
  if (leaves.empty()) return empty_tree_hash();
  if (leaves.size() == 1) return leaves[0];
  size_t k = 1;
  while (k * 2 < leaves.size()) k *= 2;
  return node_hash(naive_root(leaves.first(k)), naive_root(leaves.subspan(k)));
}

// The reference tree of the CT test vectors.
const std::vector<std::string> kInputs = {
    "",
    std::string("\x00", 1),
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};

// Roots of its first 1..8 leaves (kSHA256Roots of google/certificate-transparency's
// cpp/merkletree/merkle_tree_test.cc).
const std::vector<std::string_view> kRoots = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

MemoryTree reference_tree() {
  MemoryTree tree;
  for (const std::string& input : kInputs) tree.add(leaf_hash(input));
  return tree;
}

// Leaf data of the property trees: distinct per index and per variant.
Hash test_leaf(uint64_t i, int variant = 0) {
  return leaf_hash("event " + std::to_string(i) + (variant ? " (altered)" : ""));
}

Hash flipped(Hash hash) {
  hash[7] ^= 0x20;
  return hash;
}

}  // namespace

TEST_CASE("leaf, node and empty-tree hashes are RFC 6962's", "[merkle]") {
  CHECK(to_hex(empty_tree_hash()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(leaf_hash("")) == kRoots[0]);
  CHECK(node_hash(leaf_hash(""), leaf_hash(kInputs[1])) == hex(kRoots[1]));
  // The prefixes keep a leaf from passing for a node over the same 64 bytes.
  Hash a = leaf_hash("a"), b = leaf_hash("b");
  std::string both(reinterpret_cast<const char*>(a.data()), 32);
  both.append(reinterpret_cast<const char*>(b.data()), 32);
  CHECK(leaf_hash(both) != node_hash(a, b));
}

TEST_CASE("hex helpers round-trip and refuse what is not 64 hex digits", "[merkle]") {
  Hash h = hex(kRoots[7]);
  CHECK(to_hex(h) == kRoots[7]);
  CHECK(hash_from_hex("5DC9DA79A70659A9AD559CB701DED9A2AB9D823AAD2F4960CFE370EFF4604328") == h);
  CHECK_FALSE(hash_from_hex(kRoots[7].substr(2)));
  CHECK_FALSE(hash_from_hex(std::string(kRoots[7]) + "00"));
  CHECK_FALSE(hash_from_hex(std::string(63, '0') + "g"));
  CHECK_FALSE(hash_from_hex(""));
}

TEST_CASE("the roots of the CT reference tree, leaf by leaf", "[merkle]") {
  MemoryTree tree;
  CHECK(tree.root_of(0) == empty_tree_hash());
  for (size_t i = 0; i < kInputs.size(); ++i) {
    tree.add(leaf_hash(kInputs[i]));
    INFO("size " << i + 1);
    CHECK(to_hex(tree.root_of(i + 1)) == kRoots[i]);
    for (size_t j = 0; j <= i; ++j) CHECK(to_hex(tree.root_of(j + 1)) == kRoots[j]);
  }
}

TEST_CASE("the inclusion proofs of the CT reference tree", "[merkle]") {
  MemoryTree tree = reference_tree();
  struct Vector {
    uint64_t index, size;
    std::vector<Hash> path;
  };
  // kSHA256Paths of the CT test, whose leaf numbers count from 1.
  std::vector<Vector> vectors = {
      {0, 1, {}},
      {0, 8, hexes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8, hexes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, hexes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5, hexes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})}};
  for (const Vector& v : vectors) {
    INFO("leaf " << v.index << " of " << v.size);
    Result<std::vector<Hash>> proof = inclusion_proof(tree.reader(), v.index, v.size);
    REQUIRE(proof);
    CHECK(*proof == v.path);
    Hash leaf = leaf_hash(kInputs[v.index]), root = hex(kRoots[v.size - 1]);
    CHECK(verify_inclusion(leaf, v.index, v.size, v.path, root));
    CHECK_FALSE(verify_inclusion(leaf_hash("WrongLeaf"), v.index, v.size, v.path, root));
    CHECK_FALSE(verify_inclusion(leaf, v.index, v.size, v.path, empty_tree_hash()));
  }
}

TEST_CASE("the consistency proofs of the CT reference tree", "[merkle]") {
  MemoryTree tree = reference_tree();
  struct Vector {
    uint64_t old_size, size;
    std::vector<Hash> proof;
  };
  // kSHA256Proofs of the CT test.
  std::vector<Vector> vectors = {
      {1, 1, {}},
      {1, 8, hexes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8, hexes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5, hexes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})}};
  for (const Vector& v : vectors) {
    INFO(v.old_size << " → " << v.size);
    Result<std::vector<Hash>> proof = consistency_proof(tree.reader(), v.old_size, v.size);
    REQUIRE(proof);
    CHECK(*proof == v.proof);
    Hash old_root = hex(kRoots[v.old_size - 1]), root = hex(kRoots[v.size - 1]);
    CHECK(verify_consistency(v.old_size, old_root, v.size, root, v.proof));
    if (v.old_size == v.size) continue;
    CHECK_FALSE(verify_consistency(v.old_size, root, v.size, old_root, v.proof));  // swapped
    CHECK_FALSE(verify_consistency(v.old_size, old_root, v.size, root, {}));
    CHECK_FALSE(verify_consistency(v.old_size - 1, old_root, v.size, root, v.proof));
    CHECK_FALSE(verify_consistency(v.old_size + 1, old_root, v.size, root, v.proof));
  }
}

TEST_CASE("appending stores the leaf and every subtree it completes", "[merkle]") {
  MemoryTree tree;
  for (uint64_t i = 0; i < 7; ++i) tree.add(test_leaf(i));
  Result<std::vector<Node>> nodes = append(tree.reader(), 7, test_leaf(7));
  REQUIRE(nodes);
  std::vector<std::pair<int, uint64_t>> where;
  for (const Node& node : *nodes) where.push_back({node.level, node.index});
  CHECK(where == std::vector<std::pair<int, uint64_t>>{{0, 7}, {1, 3}, {2, 1}, {3, 0}});
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 8; ++i) leaves.push_back(test_leaf(i));
  CHECK(nodes->back().hash == naive_root(leaves));
  // An even leaf completes nothing.
  Result<std::vector<Node>> alone = append(tree.reader(), 6, test_leaf(6));
  REQUIRE(alone);
  CHECK(alone->size() == 1);
}

TEST_CASE("roots and proofs of trees of 1..70 leaves agree with RFC 6962 and verify",
          "[merkle]") {
  MemoryTree tree;
  for (uint64_t size = 1; size <= 70; ++size) {
    tree.add(test_leaf(size - 1));
    INFO("size " << size);
    Hash root = tree.root_of(size);
    REQUIRE(root == naive_root(tree.leaves));

    for (const auto& [where, hash] : tree.nodes) {
      auto [level, index] = where;
      std::span<const Hash> covered(tree.leaves.data() + (index << level), uint64_t(1) << level);
      CHECK(hash == naive_root(covered));
    }

    for (uint64_t index = 0; index < size; ++index) {
      INFO("leaf " << index);
      Result<std::vector<Hash>> proof = inclusion_proof(tree.reader(), index, size);
      REQUIRE(proof);
      const Hash& leaf = tree.leaves[index];
      CHECK(verify_inclusion(leaf, index, size, *proof, root));
      CHECK_FALSE(verify_inclusion(test_leaf(index, 1), index, size, *proof, root));
      for (uint64_t other : {index - 1, index + 1, index ^ 2})
        if (other < size && other != index)
          CHECK_FALSE(verify_inclusion(leaf, other, size, *proof, root));
      CHECK_FALSE(verify_inclusion(leaf, index, size * 2, *proof, root));
      CHECK_FALSE(verify_inclusion(leaf, index, size / 2, *proof, root));
      for (size_t k = 0; k < proof->size(); ++k) {
        std::vector<Hash> altered = *proof;
        altered[k] = flipped(altered[k]);
        CHECK_FALSE(verify_inclusion(leaf, index, size, altered, root));
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      CHECK_FALSE(verify_inclusion(leaf, index, size, longer, root));
    }

    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      INFO("old size " << old_size);
      Result<std::vector<Hash>> proof = consistency_proof(tree.reader(), old_size, size);
      REQUIRE(proof);
      Hash old_root = tree.root_of(old_size);
      CHECK(verify_consistency(old_size, old_root, size, root, *proof));
      // The old root of another history: one of its leaves changed.
      std::vector<Hash> other(tree.leaves.begin(), tree.leaves.begin() + old_size);
      other[old_size / 2] = test_leaf(old_size / 2, 1);
      CHECK_FALSE(verify_consistency(old_size, naive_root(other), size, root, *proof));
      for (size_t k = 0; k < proof->size(); ++k) {
        std::vector<Hash> altered = *proof;
        altered[k] = flipped(altered[k]);
        CHECK_FALSE(verify_consistency(old_size, old_root, size, root, altered));
      }
      if (old_size < size)
        CHECK_FALSE(verify_consistency(old_size, old_root, size, old_root, *proof));
    }
  }
}

TEST_CASE("a root or a proof reads O(log n) stored nodes, not every leaf", "[merkle]") {
  MemoryTree tree;
  for (uint64_t i = 0; i < 1000; ++i) tree.add(test_leaf(i));
  // 1000 leaves: 10 levels. Generous bounds that still rule out reading the leaves.
  tree.reads = 0;
  CHECK(tree.root_of(1000) == naive_root(tree.leaves));
  CHECK(tree.reads <= 10);
  tree.reads = 0;
  REQUIRE(inclusion_proof(tree.reader(), 0, 1000));
  CHECK(tree.reads <= 20);
  tree.reads = 0;
  REQUIRE(inclusion_proof(tree.reader(), 999, 1000));
  CHECK(tree.reads <= 20);
  tree.reads = 0;
  REQUIRE(consistency_proof(tree.reader(), 333, 1000));
  CHECK(tree.reads <= 40);
  tree.reads = 0;
  REQUIRE(append(tree.reader(), 1000, test_leaf(1000)));
  CHECK(tree.reads <= 10);
}

TEST_CASE("a missing node is an internal error naming it, bad arguments are invalid",
          "[merkle]") {
  MemoryTree tree;
  for (uint64_t i = 0; i < 6; ++i) tree.add(test_leaf(i));
  tree.nodes.erase({1, 2});  // leaves 4 and 5

  Result<Hash> root = security::root(tree.reader(), 6);
  REQUIRE_FALSE(root);
  CHECK(root.error().code == errc::kInternal);
  CHECK(root.error().message.find("level 1, index 2") != std::string::npos);
  Result<std::vector<Hash>> path = inclusion_proof(tree.reader(), 0, 6);
  REQUIRE_FALSE(path);
  CHECK(path.error().code == errc::kInternal);
  Result<std::vector<Hash>> proof = consistency_proof(tree.reader(), 4, 6);
  REQUIRE_FALSE(proof);
  CHECK(proof.error().code == errc::kInternal);
  // An older tree does not need the missing node.
  CHECK(security::root(tree.reader(), 4));

  // Leaf 7 completes (1, 3) with leaf 6, which was never stored.
  Result<std::vector<Node>> after = append(tree.reader(), 7, test_leaf(7));
  REQUIRE_FALSE(after);
  CHECK(after.error().message.find("level 0, index 6") != std::string::npos);

  Result<std::vector<Hash>> past_end = inclusion_proof(tree.reader(), 6, 6);
  REQUIRE_FALSE(past_end);
  CHECK(past_end.error().code == errc::kInvalid);
  Result<std::vector<Hash>> backwards = consistency_proof(tree.reader(), 7, 6);
  REQUIRE_FALSE(backwards);
  CHECK(backwards.error().code == errc::kInvalid);
}

TEST_CASE("verifiers refuse impossible sizes and accept only the trivial proofs", "[merkle]") {
  Hash root = leaf_hash("x");
  CHECK_FALSE(verify_inclusion(root, 0, 0, {}, root));
  CHECK_FALSE(verify_inclusion(root, 1, 1, {}, root));
  CHECK(verify_inclusion(root, 0, 1, {}, root));

  CHECK(verify_consistency(0, empty_tree_hash(), 5, root, {}));
  CHECK_FALSE(verify_consistency(0, root, 5, root, {}));
  CHECK(verify_consistency(3, root, 3, root, {}));
  CHECK_FALSE(verify_consistency(3, root, 3, flipped(root), {}));
  std::vector<Hash> one = {root};
  CHECK_FALSE(verify_consistency(3, root, 3, root, one));
  CHECK_FALSE(verify_consistency(4, root, 3, root, {}));
  CHECK_FALSE(verify_consistency(1, root, 2, root, {}));
}
