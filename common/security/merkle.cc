#include "security/merkle.h"

#include <openssl/evp.h>

#include <bit>
#include <memory>
#include <stdexcept>

#include "base/text.h"

namespace closeloop::security {
namespace {

// SHA-256 of the concatenated `parts`, without first copying them into one buffer (an
// event can be large).
Hash sha256(std::initializer_list<std::string_view> parts) {
  // Fetched once: OpenSSL 3 would otherwise look the algorithm up on every call.
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool done = ctx && EVP_DigestInit_ex(ctx.get(), kSha256, nullptr);
  for (std::string_view part : parts)
    done = done && EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  Hash out;
  if (!done || !EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr))
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  return out;
}

// The domain-separation prefixes of RFC 6962: a leaf can never pass for a node.
constexpr char kLeafPrefix = 0x00, kNodePrefix = 0x01, kAccountLeafPrefix = 0x02;

std::string_view bytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// k of RFC 6962 §2.1: the largest power of two smaller than n (n >= 2).
uint64_t split(uint64_t n) { return std::bit_floor(n - 1); }

Result<Hash> stored(const NodeReader& read, int level, uint64_t index) {
  if (std::optional<Hash> hash = read(level, index)) return *hash;
  return Error{errc::kInternal, "the Merkle tree node at level " + std::to_string(level) +
                                    ", index " + std::to_string(index) + " is not stored"};
}

// MTH(D[begin:begin+n]), n >= 1. In RFC 6962's recursion `begin` is a multiple of the
// smallest power of two >= n, so a subtree of 2^l leaves is the stored node (l, begin/2^l).
Result<Hash> subtree_hash(const NodeReader& read, uint64_t begin, uint64_t n) {
  if (std::has_single_bit(n)) return stored(read, std::countr_zero(n), begin / n);
  uint64_t k = split(n);
  Result<Hash> left = stored(read, std::countr_zero(k), begin / k);
  if (!left) return left;
  Result<Hash> right = subtree_hash(read, begin + k, n - k);
  if (!right) return right;
  return node_hash(*left, *right);
}

Status push_subtree_hash(const NodeReader& read, uint64_t begin, uint64_t n,
                         std::vector<Hash>& out) {
  Result<Hash> hash = subtree_hash(read, begin, n);
  if (!hash) return hash.error();
  out.push_back(*hash);
  return ok_status();
}

// PATH(m, D[begin:begin+n]) appended to `out`, the leaf's end first.
Status add_path(const NodeReader& read, uint64_t m, uint64_t begin, uint64_t n,
                std::vector<Hash>& out) {
  if (n == 1) return ok_status();
  uint64_t k = split(n);
  if (m < k) {
    Status below = add_path(read, m, begin, k, out);
    return below ? push_subtree_hash(read, begin + k, n - k, out) : below;
  }
  Status below = add_path(read, m - k, begin + k, n - k, out);
  return below ? push_subtree_hash(read, begin, k, out) : below;
}

// SUBPROOF(m, D[begin:begin+n], b) appended to `out`; `b` (is_old_root) is true while
// D[begin:begin+m] is the whole old tree, whose root the verifier already holds.
Status add_subproof(const NodeReader& read, uint64_t m, uint64_t begin, uint64_t n,
                    bool is_old_root, std::vector<Hash>& out) {
  if (m == n) return is_old_root ? ok_status() : push_subtree_hash(read, begin, n, out);
  uint64_t k = split(n);
  if (m <= k) {
    Status below = add_subproof(read, m, begin, k, is_old_root, out);
    return below ? push_subtree_hash(read, begin + k, n - k, out) : below;
  }
  Status below = add_subproof(read, m - k, begin + k, n - k, false, out);
  return below ? push_subtree_hash(read, begin, k, out) : below;
}

// Shifts fn and sn right together until fn's lowest bit is set or fn is 0 (RFC 9162).
void shift_to_set_bit(uint64_t& fn, uint64_t& sn) {
  while (fn != 0 && !(fn & 1)) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Hash leaf_hash(std::string_view data) { return sha256({{&kLeafPrefix, 1}, data}); }

Hash account_leaf_hash(std::string_view record) {
  return sha256({{&kAccountLeafPrefix, 1}, record});
}

Hash node_hash(const Hash& left, const Hash& right) {
  return sha256({{&kNodePrefix, 1}, bytes(left), bytes(right)});
}

Hash empty_tree_hash() { return sha256({}); }

Result<std::vector<Node>> append(const NodeReader& read, uint64_t size, const Hash& leaf) {
  std::vector<Node> nodes{{0, size, leaf}};
  // A right child (odd index) completes its parent; the parent may be a right child too.
  for (Node node = nodes.back(); node.index & 1; node = nodes.back()) {
    Result<Hash> left = stored(read, node.level, node.index - 1);
    if (!left) return left.error();
    nodes.push_back({node.level + 1, node.index / 2, node_hash(*left, node.hash)});
  }
  return nodes;
}

Result<Hash> root(const NodeReader& read, uint64_t size) {
  return size == 0 ? empty_tree_hash() : subtree_hash(read, 0, size);
}

Result<std::vector<Hash>> inclusion_proof(const NodeReader& read, uint64_t index, uint64_t size) {
  if (index >= size)
    return Error{errc::kInvalid, "leaf " + std::to_string(index) + " is not in a tree of " +
                                     std::to_string(size) + " leaves"};
  std::vector<Hash> proof;
  if (Status s = add_path(read, index, 0, size, proof); !s) return s.error();
  return proof;
}

Result<std::vector<Hash>> consistency_proof(const NodeReader& read, uint64_t old_size,
                                            uint64_t size) {
  if (old_size > size)
    return Error{errc::kInvalid, "a tree of " + std::to_string(old_size) +
                                     " leaves cannot be a prefix of one of " +
                                     std::to_string(size)};
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == size) return proof;
  if (Status s = add_subproof(read, old_size, 0, size, true, proof); !s) return s.error();
  return proof;
}

// RFC 9162 §2.1.3.2.
bool verify_inclusion(const Hash& leaf, uint64_t index, uint64_t size, std::span<const Hash> proof,
                      const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      shift_to_set_bit(fn, sn);
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

// RFC 9162 §2.1.4.2, with the cases it leaves out: an empty old tree and an equal one.
bool verify_consistency(uint64_t old_size, const Hash& old_root, uint64_t size, const Hash& root,
                        std::span<const Hash> proof) {
  if (old_size > size) return false;
  if (old_size == 0) return proof.empty() && old_root == empty_tree_hash();
  if (old_size == size) return proof.empty() && old_root == root;
  if (proof.empty()) return false;
  // A complete old tree is a node of the new one: its root starts the path, not the proof.
  bool old_is_complete = std::has_single_bit(old_size);
  Hash fr = old_is_complete ? old_root : proof[0], sr = fr;
  uint64_t fn = old_size - 1, sn = size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  for (const Hash& c : proof.subspan(old_is_complete ? 0 : 1)) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      shift_to_set_bit(fn, sn);
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == root;
}

std::string to_hex(const Hash& hash) { return closeloop::to_hex(bytes(hash)); }

std::optional<Hash> hash_from_hex(std::string_view hex) {
  std::string raw;
  if (hex.size() != 64 || !from_hex(hex, &raw)) return std::nullopt;
  Hash hash;
  std::copy(raw.begin(), raw.end(), hash.begin());
  return hash;
}

}  // namespace closeloop::security
