#include "backup/dump.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <msgpack.hpp>

#include "base/text.h"

namespace closeloop::backup {

namespace {

constexpr size_t kReadBlock = 1 << 16;

// `msgid` is "cannot <do> {path}: {reason}"; the reason is errno's.
Error io_error(std::string_view msgid, const std::string& path) {
  return Error::of(errc::kInternal, msgid, {{"path", path}, {"reason", std::strerror(errno)}});
}

std::string hex_digest(crypto_hash_sha256_state& state) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return to_hex(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

// The file's size and SHA-256, read once before any record is trusted.
Result<DumpFacts> measure(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(N_("cannot read {path}: {reason}"), path);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  DumpFacts facts;
  std::string block(kReadBlock, '\0');
  while (in) {
    in.read(block.data(), block.size());
    auto got = static_cast<size_t>(in.gcount());
    crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char*>(block.data()), got);
    facts.bytes += got;
  }
  facts.sha256 = hex_digest(state);
  return facts;
}

std::string_view bin_of(const msgpack::object& o) {
  return o.type == msgpack::type::BIN ? std::string_view(o.via.bin.ptr, o.via.bin.size)
                                      : std::string_view();
}

// One [key, value] record, or why it is not one.
Status take_record(const msgpack::object& o, uint64_t number, const RecordFn& fn) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 2 ||
      o.via.array.ptr[0].type != msgpack::type::BIN ||
      o.via.array.ptr[1].type != msgpack::type::BIN)
    return Error::of(errc::kInvalid, N_("record {number} is not a [key, value] pair"),
                     {{"number", std::to_string(number)}});
  return fn(bin_of(o.via.array.ptr[0]), bin_of(o.via.array.ptr[1]));
}

}  // namespace

std::string dump_path(const std::string& dir, std::string_view part) {
  return dir + "/" + std::string(part) + ".dump";
}
std::string manifest_path(const std::string& dir) { return dir + "/manifest.json"; }
std::string keys_path(const std::string& dir) { return dir + "/keys"; }

void append_record(std::string& out, std::string_view key, std::string_view value) {
  msgpack::sbuffer buffer(key.size() + value.size() + 16);
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_array(2);
  pk.pack_bin(static_cast<uint32_t>(key.size())), pk.pack_bin_body(key.data(), key.size());
  pk.pack_bin(static_cast<uint32_t>(value.size())), pk.pack_bin_body(value.data(), value.size());
  out.append(buffer.data(), buffer.size());
}

DumpWriter::~DumpWriter() {
  if (file_) std::fclose(file_);
}

Status DumpWriter::open(const std::string& path) {
  path_ = path;
  // Never over a file that is there; readable by its owner only (it is the whole ledger).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || !(file_ = ::fdopen(fd, "wb"))) {
    if (fd >= 0) ::close(fd);
    return io_error(N_("cannot create {path}: {reason}"), path);
  }
  crypto_hash_sha256_init(&hash_);
  return ok_status();
}

Status DumpWriter::write(std::string_view chunk, uint64_t records) {
  if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size())
    return io_error(N_("cannot write {path}: {reason}"), path_);
  crypto_hash_sha256_update(&hash_, reinterpret_cast<const unsigned char*>(chunk.data()),
                            chunk.size());
  facts_.bytes += chunk.size();
  facts_.records += records;
  return ok_status();
}

Result<DumpFacts> DumpWriter::finish() {
  bool flushed = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  int closed = std::fclose(std::exchange(file_, nullptr));
  if (!flushed || closed != 0) return io_error(N_("cannot write {path}: {reason}"), path_);
  facts_.sha256 = hex_digest(hash_);
  return facts_;
}

Status read_records(std::string_view records, const RecordFn& fn) {
  size_t offset = 0;
  for (uint64_t number = 1; offset < records.size(); ++number) {
    msgpack::object_handle record;
    try {
      record = msgpack::unpack(records.data(), records.size(), offset);
    } catch (const std::exception& e) {
      return Error::of(errc::kInvalid, N_("record {number}: {reason}"),
                       {{"number", std::to_string(number)}, {"reason", e.what()}});
    }
    if (Status s = take_record(record.get(), number, fn); !s) return s;
  }
  return ok_status();
}

Status check_dump(const std::string& path, const DumpFacts& expected) {
  auto facts = measure(path);
  if (!facts) return facts.error();
  if (facts->bytes != expected.bytes || facts->sha256 != expected.sha256)
    return Error::of(errc::kInvalid,
                     N_("{path} is not the file the manifest describes ({bytes} bytes, SHA-256 "
                        "{sha256}): the backup is damaged"),
                     {{"path", path}, {"bytes", std::to_string(facts->bytes)}, {"sha256", facts->sha256}});
  return ok_status();
}

Status read_dump(const std::string& path, const DumpFacts& expected, const RecordFn& fn) {
  std::ifstream in(path, std::ios::binary);
  msgpack::unpacker unpacker;
  uint64_t records = 0;
  while (in) {
    unpacker.reserve_buffer(kReadBlock);
    in.read(unpacker.buffer(), kReadBlock);
    unpacker.buffer_consumed(static_cast<size_t>(in.gcount()));
    msgpack::object_handle record;
    while (unpacker.next(record)) {
      if (Status s = take_record(record.get(), ++records, fn); !s)
        return Error::of(errc::kInvalid, N_("{path}: {reason}"),
                         {{"path", path}, {"reason", s.error().message}});
    }
  }
  if (unpacker.nonparsed_size() != 0)
    return Error::of(errc::kInvalid, N_("{path} ends inside a record"), {{"path", path}});
  if (records != expected.records)
    return Error::of(errc::kInvalid, N_("{path} holds {records} records; the manifest says {expected}"),
                     {{"path", path},
                      {"records", std::to_string(records)},
                      {"expected", std::to_string(expected.records)}});
  return ok_status();
}

}  // namespace closeloop::backup
