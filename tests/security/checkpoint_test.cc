// Signed checkpoints: the signed text is the documented one, a signature covers the size,
// root and time, the JSON form round-trips and refuses what is wrong, and the signing key
// file is private.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/text.h"
#include "security/checkpoint.h"
#include "security/keys.h"

using namespace closeloop;
using namespace closeloop::security;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/closeloop-checkpoint-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Hash size_8_root() {  // of the CT reference tree (merkle_test.cc)
  return *hash_from_hex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

// RFC 8032 §7.1, test 1.
constexpr const char* kRfcPublic = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* kRfcSecret = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

void write_text(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

SigningKey rfc_key(const TempDir& dir) {
  std::string path = dir.file("rfc.signing");
  write_text(path, std::string("public = \"") + kRfcPublic + "\"\nsecret = \"" + kRfcSecret + "\"\n",
             0600);
  Result<SigningKey> key = read_signing_key(path);
  REQUIRE(key);
  return *key;
}

mode_t mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

void check_refused(const nlohmann::json& json, const std::string& why) {
  INFO(json.dump());
  Result<Checkpoint> read = checkpoint_from_json(json);
  REQUIRE_FALSE(read);
  CHECK(read.error().code == errc::kInvalid);
  CHECK_THAT(read.error().message, Catch::Contains(why));
}

}  // namespace

TEST_CASE("the signed text is the documented four lines", "[checkpoint]") {
  CHECK(signed_text(8, size_8_root(), "2026-11-27T03:41:01.123Z") ==
        "closeloop checkpoint v1\n"
        "8\n"
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        "2026-11-27T03:41:01.123Z\n");
}

TEST_CASE("a checkpoint signed with a known key is what another Ed25519 implementation signs",
          "[checkpoint]") {
  TempDir dir;
  SigningKey key = rfc_key(dir);
  CHECK(key.public_key == kRfcPublic);
  Checkpoint c = sign(key, 8, size_8_root(), "2026-11-27T03:41:01.123Z");
  CHECK(c.key == kRfcPublic);
  // Ed25519 is deterministic; made with Python's `cryptography` (OpenSSL) over the text above.
  CHECK(c.signature ==
        "fBkKODC0xsx7de/gyj6JS5XRr9a0eawk3VsaBiYhlnIjucjmtmprZq4JCMg5vcuk+hfy/EseGnQecw5YUDE/Cg==");
  CHECK(verify_signature(c));
}

TEST_CASE("a signature covers the size, the root and the time", "[checkpoint]") {
  SigningKey key = generate_signing_key();
  Checkpoint c = sign(key, 70, size_8_root(), now_iso8601());
  CHECK(c.size == 70);
  CHECK(c.root == size_8_root());
  CHECK(c.key == key.public_key);
  CHECK(verify_signature(c));

  Checkpoint altered = c;
  altered.size = 71;
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.root[0] ^= 1;
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.at = "2000-01-01T00:00:00.000Z";
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.key = generate_signing_key().public_key;
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.signature = sign(generate_signing_key(), c.size, c.root, c.at).signature;
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.signature = "not base64";
  CHECK_FALSE(verify_signature(altered));
  altered = c;
  altered.key = "";
  CHECK_FALSE(verify_signature(altered));
}

TEST_CASE("a checkpoint's JSON form round-trips", "[checkpoint]") {
  Checkpoint c = sign(generate_signing_key(), 1234567890123, size_8_root(), now_iso8601());
  nlohmann::json json = to_json(c);
  CHECK(json["size"] == 1234567890123);
  CHECK(json["root"] == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  CHECK(json["at"] == c.at);
  CHECK(json["key"] == c.key);
  CHECK(json["signature"] == c.signature);

  Result<Checkpoint> read = checkpoint_from_json(nlohmann::json::parse(json.dump()));
  REQUIRE(read);
  CHECK(read->size == c.size);
  CHECK(read->root == c.root);
  CHECK(read->at == c.at);
  CHECK(read->key == c.key);
  CHECK(read->signature == c.signature);
}

TEST_CASE("a checkpoint's JSON form is refused when a field is missing, ill-typed or forged",
          "[checkpoint]") {
  nlohmann::json good = to_json(sign(generate_signing_key(), 9, size_8_root(), now_iso8601()));
  REQUIRE(checkpoint_from_json(good));

  check_refused(nlohmann::json::array(), "not a JSON object");
  for (const char* field : {"size", "root", "at", "key", "signature"}) {
    nlohmann::json missing = good;
    missing.erase(field);
    check_refused(missing, std::string("`") + field + "` is missing");
  }
  auto with = [&](const char* field, nlohmann::json value) {
    nlohmann::json changed = good;
    changed[field] = std::move(value);
    return changed;
  };
  check_refused(with("size", "9"), "`size`");
  check_refused(with("size", -9), "`size`");
  check_refused(with("size", 9.5), "`size`");
  check_refused(with("root", 5), "`root`");
  check_refused(with("root", "5dc9"), "`root` is not 64 hex digits");
  check_refused(with("at", "yesterday"), "`at`");
  check_refused(with("at", "2026-02-30T03:41:01.123Z"), "`at`");
  check_refused(with("at", "2026-11-27T03:41:01.123+08:00"), "`at`");
  check_refused(with("key", "AAAA"), "`key`");
  check_refused(with("signature", good["key"]), "`signature`");
  // Well-formed, but not what was signed.
  check_refused(with("size", 10), "signature");
  check_refused(with("root", std::string(64, '0')), "signature");
  check_refused(with("at", "2026-11-27T03:41:01Z"), "signature");
  check_refused(with("key", generate_signing_key().public_key), "signature");
  // Read without the signature check, a forged one is for the caller to refuse.
  Result<Checkpoint> forged = checkpoint_from_json(with("size", 10), /*check_signature=*/false);
  REQUIRE(forged);
  CHECK_FALSE(verify_signature(*forged));
  CHECK_FALSE(checkpoint_from_json(with("root", "5dc9"), /*check_signature=*/false));
}

TEST_CASE("the signing key file is made 0600 on first use and read back after", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.file("keys/ledger.signing");
  Result<SigningKey> made = own_signing_key(path);
  REQUIRE(made);
  CHECK(mode_of(path) == 0600);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(fs::directory_iterator(dir.path / "keys")->path().filename() == "ledger.signing");

  Result<SigningKey> again = own_signing_key(path);
  REQUIRE(again);
  CHECK(again->public_key == made->public_key);
  CHECK(again->seed == made->seed);
  Result<SigningKey> read = read_signing_key(path);
  REQUIRE(read);
  CHECK(read->seed == made->seed);
  Checkpoint c = sign(*read, 3, size_8_root(), now_iso8601());
  CHECK(c.key == made->public_key);
  CHECK(verify_signature(c));

  CHECK(generate_signing_key().seed != made->seed);
}

TEST_CASE("a signing key file readable by others, or not one, is refused", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.file("ledger.signing");
  REQUIRE(own_signing_key(path));

  for (mode_t shared : {0640, 0604, 0660}) {
    ::chmod(path.c_str(), shared);
    Result<SigningKey> read = own_signing_key(path);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == errc::kInvalid);
    CHECK_THAT(read.error().message, Catch::Contains("readable by others"));
  }

  auto refused = [&](const std::string& text, const std::string& why) {
    write_text(path, text, 0600);
    Result<SigningKey> read = read_signing_key(path);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error().message, Catch::Contains(why));
  };
  refused("not = [toml", "not a closeloop signing key file");
  refused(std::string("secret = \"") + kRfcSecret + "\"\n", "no valid `public` key");
  refused(std::string("public = \"") + kRfcPublic + "\"\n", "`secret`");
  // A CURVE key file (Z85) is not a signing key file.
  KeyPair curve = generate_key_pair();
  refused("public = \"" + curve.public_key + "\"\nsecret = \"" + curve.secret_key + "\"\n",
          "no valid `public` key");
  // Halves of two different keys.
  refused("public = \"" + generate_signing_key().public_key + "\"\nsecret = \"" + kRfcSecret +
              "\"\n",
          "not the `secret` key's public half");

  CHECK_FALSE(read_signing_key(dir.file("absent.signing")));
}

TEST_CASE("a signing key is never made as a NAME.pub or NAME.key", "[checkpoint]") {
  TempDir dir;
  for (const char* name : {"ledger.pub", "ledger.key"}) {
    Result<SigningKey> made = own_signing_key(dir.file(name));
    REQUIRE_FALSE(made);
    CHECK(made.error().code == errc::kInvalid);
    CHECK_FALSE(fs::exists(dir.file(name)));
  }
}
