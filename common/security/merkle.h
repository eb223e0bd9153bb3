// The Merkle tree of RFC 6962 (Certificate Transparency, §2.1) over the ledger's events in
// the order it recorded them, with its audit paths and consistency proofs; verification
// follows RFC 9162 §2.1.3.2 and §2.1.4.2. SHA-256 throughout:
//
//   leaf hash   SHA-256(0x00 || data)           an event (data: what its chain hash covers)
//   node hash   SHA-256(0x01 || left || right)
//   account     SHA-256(0x02 || record)         an account change, a leaf of its own kind
//   empty tree  SHA-256("")
//
// The tree is never held whole. The caller stores the hashes of its complete, aligned
// subtrees — node (level, index) covers leaves [index·2^level, (index+1)·2^level) — as
// append() hands them out, and reads them back through a NodeReader. Every subtree the
// RFC's recursion meets is either such a node (one read) or the unfinished right edge of
// the tree (recursed into), so a root or a proof costs O(log n) reads, never a read of
// every leaf. Leaf indexes are 0-based (RFC 9162), where the CT reference code counts
// from 1.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace closeloop::security {

using Hash = std::array<uint8_t, 32>;

Hash leaf_hash(std::string_view data);
// The leaf of an account change (its account_log record as stored): a prefix of its own,
// so that no event's leaf can stand for an account change, nor the other way round.
Hash account_leaf_hash(std::string_view record);
Hash node_hash(const Hash& left, const Hash& right);
Hash empty_tree_hash();

// A stored node: the hash of the complete subtree over leaves [index·2^level, (index+1)·2^level).
struct Node {
  int level;
  uint64_t index;
  Hash hash;
};

// Reads a stored node; every complete, aligned subtree of the current tree must be there
// (nullopt makes the operation fail with errc::kInternal, naming the node).
using NodeReader = std::function<std::optional<Hash>(int level, uint64_t index)>;

// The nodes to store when leaf number `size` (0-based) joins a tree of `size` leaves:
// the leaf itself (level 0) and every subtree it completes, lowest first. Reads the left
// siblings it completes, so an error means a node of the old tree is missing.
Result<std::vector<Node>> append(const NodeReader& read, uint64_t size, const Hash& leaf);

// MTH of the first `size` leaves (any size up to the stored tree's).
Result<Hash> root(const NodeReader& read, uint64_t size);

// PATH(index, D[size]): the audit path of leaf `index` in the tree of `size` leaves,
// from the leaf's sibling up. errc::kInvalid when index >= size.
Result<std::vector<Hash>> inclusion_proof(const NodeReader& read, uint64_t index, uint64_t size);

// PROOF(old_size, D[size]): empty when old_size is 0 or equals size. errc::kInvalid when
// old_size > size.
Result<std::vector<Hash>> consistency_proof(const NodeReader& read, uint64_t old_size,
                                            uint64_t size);

// True if `proof` shows that the leaf with hash `leaf` is number `index` of the tree of
// `size` leaves whose root is `root`.
bool verify_inclusion(const Hash& leaf, uint64_t index, uint64_t size, std::span<const Hash> proof,
                      const Hash& root);

// True if `proof` shows that the tree (old_size, old_root) is a prefix of (size, root).
// Every tree extends the empty one, and a tree extends itself, with an empty proof.
bool verify_consistency(uint64_t old_size, const Hash& old_root, uint64_t size, const Hash& root,
                        std::span<const Hash> proof);

// Lower-case hex (64 digits), and back (either case; nullopt unless exactly 64 digits).
std::string to_hex(const Hash& hash);
std::optional<Hash> hash_from_hex(std::string_view hex);

}  // namespace closeloop::security
