#include "security/checkpoint.h"

#include <sodium.h>

#include <cctype>
#include <filesystem>
#include <span>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <toml++/toml.h>

#include "base/text.h"
#include "security/keys.h"

namespace closeloop::security {
namespace {

namespace fs = std::filesystem;

constexpr size_t kPublicKeyBytes = crypto_sign_PUBLICKEYBYTES, kSignatureBytes = crypto_sign_BYTES;
static_assert(std::tuple_size_v<decltype(SigningKey::seed)> == crypto_sign_SEEDBYTES);

// libsodium must be initialised once before use (it picks its implementations then).
void init_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("sodium_init failed");
}

std::string to_base64(std::span<const uint8_t> bytes) {
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  text.pop_back();  // the terminating NUL the length counts
  return text;
}

// True if `text` is the canonical base64 of exactly out.size() bytes, written to `out`.
bool from_base64(std::string_view text, std::span<uint8_t> out) {
  size_t length = 0;
  return sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length,
                           nullptr, sodium_base64_VARIANT_ORIGINAL) == 0 &&
         length == out.size();
}

// libsodium's secret key (seed and public key, 64 bytes) and public key, from the seed.
struct Ed25519Pair {
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> secret;
  std::array<uint8_t, kPublicKeyBytes> public_key;
  ~Ed25519Pair() { sodium_memzero(secret.data(), secret.size()); }
};
void derive(const SigningKey& key, Ed25519Pair& pair) {
  init_sodium();
  crypto_sign_seed_keypair(pair.public_key.data(), pair.secret.data(), key.seed.data());
}

Error signing_file_error(const std::string& path, const std::string& why) {
  return Error{errc::kInvalid, path + ": " + why};
}

Result<SigningKey> parse_signing_key(const std::string& path, const std::string& text) {
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error&) {
    return signing_file_error(path, "not a closeloop signing key file");
  }
  SigningKey key{table["public"].value_or(std::string()), {}};
  std::array<uint8_t, kPublicKeyBytes> public_key;
  if (!from_base64(key.public_key, public_key))
    return signing_file_error(path, "not a closeloop signing key file (no valid `public` key)");
  if (!from_base64(table["secret"].value_or(std::string()), key.seed))
    return signing_file_error(path, "the `secret` key is not 32 bytes of base64");
  Ed25519Pair pair;
  derive(key, pair);
  if (pair.public_key != public_key)
    return signing_file_error(path, "the `public` key is not the `secret` key's public half");
  return key;
}

// Seconds past midnight written HH:MM:SS, then an optional fraction and the Z of UTC.
bool valid_utc_time(std::string_view s) {
  auto two_digits = [&](size_t i, int max) {
    return i + 2 <= s.size() && std::isdigit(static_cast<unsigned char>(s[i])) &&
           std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
           (s[i] - '0') * 10 + (s[i + 1] - '0') <= max;
  };
  if (!two_digits(0, 23) || s.size() < 9 || s[2] != ':' || !two_digits(3, 59) || s[5] != ':' ||
      !two_digits(6, 60))  // 60: a leap second
    return false;
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t digits = s.find_first_not_of("0123456789", i + 1);
    if (digits == i + 1 || digits == std::string_view::npos) return false;
    i = digits;
  }
  return s.substr(i) == "Z";
}

// 2026-11-27T03:41:01Z or 2026-11-27T03:41:01.123Z: UTC, as now_iso8601() writes it.
bool valid_iso8601_utc(std::string_view s) {
  return s.size() > 11 && valid_date(s.substr(0, 10)) && s[10] == 'T' &&
         valid_utc_time(s.substr(11));
}

Error json_error(const std::string& why) { return Error{errc::kInvalid, "checkpoint: " + why}; }

Result<std::string> string_field(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_string())
    return json_error(std::string("`") + name + "` is missing or not a string");
  return it->get<std::string>();
}

Result<uint64_t> size_field(const nlohmann::json& json) {
  auto it = json.find("size");
  if (it == json.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<int64_t>() < 0))
    return json_error("`size` is missing or not a non-negative integer");
  return it->get<uint64_t>();
}

// The fields of `json` as they are, before any check of what they mean together.
Result<Checkpoint> checkpoint_fields(const nlohmann::json& json) {
  if (!json.is_object()) return json_error("not a JSON object");
  Result<uint64_t> size = size_field(json);
  if (!size) return size.error();
  Result<std::string> root = string_field(json, "root"), at = string_field(json, "at"),
                      key = string_field(json, "key"),
                      signature = string_field(json, "signature");
  for (const auto* field : {&root, &at, &key, &signature})
    if (!*field) return field->error();
  std::optional<Hash> root_hash = hash_from_hex(*root);
  if (!root_hash) return json_error("`root` is not 64 hex digits");
  return Checkpoint{*size, *root_hash, *at, *key, *signature};
}

}  // namespace

SigningKey generate_signing_key() {
  init_sodium();
  SigningKey key;
  randombytes_buf(key.seed.data(), key.seed.size());
  Ed25519Pair pair;
  derive(key, pair);
  key.public_key = to_base64(pair.public_key);
  return key;
}

Status write_signing_key(const std::string& path, const SigningKey& key) {
  std::string secret = to_base64(key.seed);
  Status written = write_file_atomically(
      path,
      "# closeloop ledger signing key (Ed25519, base64). The secret half is the ledger's "
      "alone: keep this file mode 0600.\n"
      "public = \"" + key.public_key + "\"\n"
      "secret = \"" + secret + "\"\n",
      0600);
  sodium_memzero(secret.data(), secret.size());
  return written;
}

Result<SigningKey> read_signing_key(const std::string& path) {
  Result<std::string> text = read_secret_file(path);
  if (!text) return text.error();
  Result<SigningKey> key = parse_signing_key(path, *text);
  sodium_memzero(text->data(), text->size());
  return key;
}

std::string signing_key_path(const std::string& data_dir) {
  return keys_dir(data_dir) + "/ledger.signing";
}

Result<SigningKey> own_signing_key(const std::string& path) {
  std::string extension = fs::path(path).extension().string();
  if (extension == ".pub" || extension == ".key")
    return signing_file_error(path,
                              "a signing key must not be named *.pub or *.key: the broker reads "
                              "those as workers' CURVE keys");
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (ec) return signing_file_error(path, ec.message());
  if (exists) return read_signing_key(path);
  if (fs::path dir = fs::path(path).parent_path(); !dir.empty()) fs::create_directories(dir, ec);
  if (ec) return signing_file_error(path, ec.message());
  SigningKey key = generate_signing_key();
  if (Status s = write_signing_key(path, key); !s) return s.error();
  spdlog::info("made a new checkpoint signing key {} (public key {})", path, key.public_key);
  return key;
}

std::string signed_text(uint64_t size, const Hash& root, std::string_view at) {
  return "closeloop checkpoint v1\n" + std::to_string(size) + "\n" + to_base64(root) + "\n" +
         std::string(at) + "\n";
}

Checkpoint sign(const SigningKey& key, uint64_t size, const Hash& root, std::string at) {
  Ed25519Pair pair;
  derive(key, pair);
  std::string text = signed_text(size, root, at);
  std::array<uint8_t, kSignatureBytes> signature;
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const uint8_t*>(text.data()),
                       text.size(), pair.secret.data());
  return {size, root, std::move(at), to_base64(pair.public_key), to_base64(signature)};
}

bool verify_signature(const Checkpoint& checkpoint) {
  init_sodium();
  std::array<uint8_t, kPublicKeyBytes> public_key;
  std::array<uint8_t, kSignatureBytes> signature;
  if (!from_base64(checkpoint.key, public_key) || !from_base64(checkpoint.signature, signature))
    return false;
  std::string text = signed_text(checkpoint.size, checkpoint.root, checkpoint.at);
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                                     public_key.data()) == 0;
}

nlohmann::json to_json(const Checkpoint& checkpoint) {
  return {{"size", checkpoint.size},
          {"root", to_hex(checkpoint.root)},
          {"at", checkpoint.at},
          {"key", checkpoint.key},
          {"signature", checkpoint.signature}};
}

Result<Checkpoint> checkpoint_from_json(const nlohmann::json& json, bool check_signature) {
  Result<Checkpoint> checkpoint = checkpoint_fields(json);
  if (!checkpoint) return checkpoint;
  std::array<uint8_t, kPublicKeyBytes> public_key;
  std::array<uint8_t, kSignatureBytes> signature;
  if (!valid_iso8601_utc(checkpoint->at))
    return json_error("`at` is not an ISO 8601 UTC time (2026-11-27T03:41:01.123Z)");
  if (!from_base64(checkpoint->key, public_key))
    return json_error("`key` is not an Ed25519 public key (32 bytes of base64)");
  if (!from_base64(checkpoint->signature, signature))
    return json_error("`signature` is not an Ed25519 signature (64 bytes of base64)");
  if (check_signature && !verify_signature(*checkpoint))
    return json_error("the signature is not the key's over this size, root and time");
  return checkpoint;
}

}  // namespace closeloop::security
