// Signed checkpoints of the ledger's Merkle tree (merkle.h): the tree's size and root at a
// time, signed with the ledger's Ed25519 key (libsodium), like a Certificate Transparency
// signed tree head or a transparency-dev checkpoint note. A checkpoint held elsewhere
// (printed, mailed, published) is what shows a later rewrite of the ledger's disk.
//
// The signed text is fixed, four lines each ending in "\n":
//
//   closeloop checkpoint v1
//   <size, in decimal>
//   <root, base64 of its 32 bytes>
//   <at, ISO 8601 UTC: 2026-11-27T03:41:01.123Z>
//
// Keys and signatures are written in standard base64 (RFC 4648 §4, with padding): the
// public key is 32 bytes, the secret the 32-byte seed (RFC 8032's private key), a
// signature 64 bytes.
//
// The signing key file is TOML like the CURVE key files (keys.h), mode 0600:
//
//   public = "…"   secret = "…"
//
// It must not be named NAME.pub or NAME.key in the keys folder, where the broker takes
// every NAME.pub for a worker's CURVE key: the ledger keeps <data_dir>/keys/ledger.signing,
// and no public file beside it (the public key travels inside every checkpoint).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "security/merkle.h"

namespace closeloop::security {

struct SigningKey {
  std::string public_key;        // base64: what checkpoints carry and the CLI prints
  std::array<uint8_t, 32> seed;  // the secret; libsodium derives the key pair from it
};

SigningKey generate_signing_key();

// Writes the key to `path` with mode 0600, atomically.
Status write_signing_key(const std::string& path, const SigningKey& key);
// Reads a signing key file; an error says why (missing, readable by group or others, not
// a signing key file, halves that do not belong together).
Result<SigningKey> read_signing_key(const std::string& path);
// The key kept at `path`, made on first use (and its folder with it). A NAME.pub or
// NAME.key path is refused.
Result<SigningKey> own_signing_key(const std::string& path);
// Where the ledger keeps its signing key: <data_dir>/keys/ledger.signing.
std::string signing_key_path(const std::string& data_dir);

struct Checkpoint {
  uint64_t size = 0;
  Hash root{};
  std::string at;         // ISO 8601 UTC, as now_iso8601() writes it
  std::string key;        // the signer's public key, base64
  std::string signature;  // Ed25519 over signed_text(size, root, at), base64
};

// The bytes a checkpoint's signature covers (the form above).
std::string signed_text(uint64_t size, const Hash& root, std::string_view at);

Checkpoint sign(const SigningKey& key, uint64_t size, const Hash& root, std::string at);
// True if the signature is the key's over the checkpoint's size, root and time. Says
// nothing about whose key it is: the reader compares it with the one they trust.
bool verify_signature(const Checkpoint& checkpoint);

// {size, root (hex), at, key, signature}.
nlohmann::json to_json(const Checkpoint& checkpoint);
// A checkpoint from its JSON form; errc::kInvalid, naming the field, for a missing or
// ill-typed field, a malformed time, key or signature, or (with check_signature) a
// signature that does not verify. Without it the caller checks verify_signature() itself,
// to tell a forged checkpoint from a file that is not one.
Result<Checkpoint> checkpoint_from_json(const nlohmann::json& json, bool check_signature = true);

}  // namespace closeloop::security
