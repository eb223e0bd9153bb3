#include "keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <sstream>
#include <toml++/toml.h>

namespace closeloop::security {
namespace {

namespace fs = std::filesystem;

Error file_error(const std::string& path, const std::string& why) {
  return Error{errc::kInvalid, path + ": " + why};
}

// The `public` and `secret` strings of a key file's text (secret empty in a .pub).
Result<KeyPair> parse_key_text(const std::string& path, const std::string& text) {
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error&) {
    return file_error(path, "not a closeloop key file");
  }
  KeyPair pair{table["public"].value_or(std::string()), table["secret"].value_or(std::string())};
  if (!valid_z85_key(pair.public_key))
    return file_error(path, "not a closeloop key file (no valid `public` key)");
  if (!pair.secret_key.empty() && !valid_z85_key(pair.secret_key))
    return file_error(path, "the `secret` key is not 40 characters of Z85");
  return pair;
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return file_error(path, errno == ENOENT ? "no such file" : std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return file_error(path, "cannot be read");
  return s.str();
}

}  // namespace

KeyPair generate_key_pair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw std::runtime_error(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  return {public_key, secret_key};
}

bool valid_z85_key(std::string_view key) {
  if (key.size() != 40) return false;
  uint8_t decoded[32];
  std::string text(key);
  return zmq_z85_decode(decoded, text.c_str()) != nullptr;
}

Status write_file_atomically(const std::string& path, const std::string& text, mode_t mode) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return file_error(temp, std::strerror(errno));
  bool written = ::fchmod(fd, mode) == 0 &&
                 ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (written) saved = errno;
    ::unlink(temp.c_str());
    return file_error(path, std::strerror(saved));
  }
  return ok_status();
}

Result<std::string> read_secret_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return file_error(path, errno == ENOENT ? "no such file" : std::strerror(errno));
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return file_error(path, "a secret key readable by others is refused: chmod 600 it");
  return read_text(path);
}

Status write_key_file(const std::string& path, const KeyPair& pair) {
  return write_file_atomically(path,
                               "# closeloop CURVE key pair (Z85). The secret half is yours alone: "
                               "keep this file mode 0600.\n"
                               "public = \"" + pair.public_key + "\"\n"
                               "secret = \"" + pair.secret_key + "\"\n",
                               0600);
}

Status write_public_file(const std::string& path, const std::string& public_key) {
  return write_file_atomically(
      path, "# closeloop CURVE public key (Z85).\npublic = \"" + public_key + "\"\n", 0644);
}

Result<KeyPair> read_key_file(const std::string& path) {
  auto text = read_secret_file(path);
  if (!text) return text.error();
  auto pair = parse_key_text(path, *text);
  if (pair && pair->secret_key.empty()) return file_error(path, "holds no `secret` key");
  return pair;
}

Result<std::string> read_public_key(const std::string& path) {
  auto text = read_text(path);
  if (!text) return text.error();
  auto pair = parse_key_text(path, *text);
  if (!pair) return pair.error();
  return pair->public_key;
}

std::string keys_dir(const std::string& data_dir) { return data_dir + "/keys"; }

Result<KeyPair> own_key_pair(const std::string& dir, const std::string& name) {
  std::string key = dir + "/" + name + ".key", pub = dir + "/" + name + ".pub";
  std::error_code ec;
  if (fs::exists(key, ec)) {
    auto pair = read_key_file(key);
    if (pair && !fs::exists(pub, ec)) {
      if (Status s = write_public_file(pub, pair->public_key); !s) return s.error();
    }
    return pair;
  }
  fs::create_directories(dir, ec);
  if (ec) return file_error(dir, ec.message());
  KeyPair pair = generate_key_pair();
  if (Status s = write_key_file(key, pair); !s) return s.error();
  if (Status s = write_public_file(pub, pair.public_key); !s) return s.error();
  spdlog::info("{}: made a new key pair {} (public key {})", name, key, pair.public_key);
  return pair;
}

Result<std::string> own_account_key(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name + ".key";
  if (::access(path.c_str(), F_OK) == 0) {
    auto pair = read_key_file(path);
    if (!pair) return pair.error();
    return pair->public_key;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return file_error(dir, ec.message());
  KeyPair pair = generate_key_pair();
  if (Status s = write_key_file(path, pair); !s) return s.error();
  return pair.public_key;
}

// A worker's .pub as the broker trusts it: a regular file of the service's user that only
// it may write, opened without following a link (so what is checked is what is read).
Result<std::string> read_worker_key(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return file_error(path, errno == ELOOP ? "a symbolic link, not a key file" : std::strerror(errno));
  struct stat st {};
  std::string text(512, '\0');
  ssize_t n = -1;
  Status checked = ok_status();
  if (::fstat(fd, &st) != 0) {
    checked = file_error(path, std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    checked = file_error(path, "not a regular file");
  } else if (st.st_uid != ::geteuid()) {
    checked = file_error(path, "owned by uid " + std::to_string(st.st_uid) +
                                   ", not by the service's user (" + std::to_string(::geteuid()) + ")");
  } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    checked = file_error(path, "writable by group or others (chmod go-w)");
  } else if ((n = ::read(fd, text.data(), text.size())) < 0) {
    checked = file_error(path, std::strerror(errno));
  }
  ::close(fd);
  if (!checked) return checked.error();
  text.resize(static_cast<size_t>(n));
  auto pair = parse_key_text(path, text);
  if (!pair) return pair.error();
  return pair->public_key;
}

std::optional<std::map<std::string, std::string>> trusted_keys(
    const std::string& dir, std::map<std::string, std::string>* refused) {
  std::map<std::string, std::string> trusted;
  std::error_code ec;
  fs::directory_iterator entries(dir, ec);
  if (ec) return std::nullopt;
  for (const auto& entry : entries) {
    if (entry.path().extension() != ".pub") continue;
    auto key = read_worker_key(entry.path().string());
    if (key) {
      trusted[*key] = entry.path().stem().string();
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
      return std::nullopt;  // out of descriptors: says nothing about the key
    } else if (refused) {
      (*refused)[entry.path().filename().string()] = key.error().message;
    }
  }
  return trusted;
}

}  // namespace closeloop::security
