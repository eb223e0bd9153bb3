// CURVE key pairs (ZeroMQ's Curve25519, written in Z85: 40 characters) and the files
// that hold them (docs/security.md):
//
//   NAME.key   the pair, mode 0600           public = "…"  secret = "…"
//   NAME.pub   the public half, mode 0644    public = "…"
//
// Each process of the service keeps its pair in <data_dir>/keys/, created at its first
// start; every NAME.pub there is a worker key the broker trusts on its backend, under
// the name NAME. A person's key file (closeloop keygen) has no .pub beside it: their
// public key is in their account.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "base/result.h"

namespace closeloop::security {

struct KeyPair {
  std::string public_key, secret_key;  // Z85
};

KeyPair generate_key_pair();
bool valid_z85_key(std::string_view key);

// Writes the pair to `path` with mode 0600, atomically (a temp file renamed over it).
Status write_key_file(const std::string& path, const KeyPair& pair);
// Writes the public half to `path` with mode 0644, atomically.
Status write_public_file(const std::string& path, const std::string& public_key);

// Reads a key file; an error says why (missing, unreadable, readable by others, not a key
// file). A secret readable by group or others is refused, as ssh does.
Result<KeyPair> read_key_file(const std::string& path);
// The public key of a .pub file, or of a .key file.
Result<std::string> read_public_key(const std::string& path);

// Writes `text` to `path` with `mode` through a temp file (PATH.tmp), synced, then renamed
// over it: a reader sees the old file or the new one, never half of one.
Status write_file_atomically(const std::string& path, const std::string& text, mode_t mode);
// The text of a file holding a secret; refused (as ssh does) when group or others may read it.
Result<std::string> read_secret_file(const std::string& path);

// The directory of the service's keys: <data_dir>/keys.
std::string keys_dir(const std::string& data_dir);

// The pair `name` keeps in `dir` (NAME.key and NAME.pub), made on first use.
Result<KeyPair> own_key_pair(const std::string& dir, const std::string& name);

// The public key of a person's key file, `dir`/NAME.key, made (0600) if missing; no
// NAME.pub beside it, which the broker would take for a worker's key. The first
// accounts' keys (admin, office) are made this way, by the ledger's first start or by
// `closeloopd --init`, whichever comes first.
Result<std::string> own_account_key(const std::string& dir, const std::string& name);

// Every worker key NAME.pub directly in `dir`: public key → NAME. Only a regular file (not
// a symbolic link) owned by this process's user and writable by nobody else counts; the
// others go into `refused` (file name → why), when given. nullopt when the folder cannot be
// read now (no descriptor left, say): that says nothing about the keys.
std::optional<std::map<std::string, std::string>> trusted_keys(
    const std::string& dir, std::map<std::string, std::string>* refused = nullptr);

}  // namespace closeloop::security
