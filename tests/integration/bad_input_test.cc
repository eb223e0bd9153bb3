// Bad input gets a clear error and changes nothing; no input crashes, wedges or
// restarts a worker. Each test starts the real processes, sends raw frames of every
// kind of wrongness (a DEALER socket of its own, plain TCP, another language), checks
// the error reply, and then that the service is unharmed: it still answers, a whole
// lifecycle still runs through every worker, nothing was created, and every process is
// the one that started (same pid, nothing lost or critical in the logs).
#include <catch2/catch.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

// ---- processes and logs ----

// The live (not zombie) processes started with this cluster's config, by name.
std::map<std::string, int> live_pids(const Cluster& cluster) {
  std::map<std::string, int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (!std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::string cmdline = read_file("/proc/" + pid + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(cluster.config_path()) == std::string::npos) continue;
    std::string stat = read_file("/proc/" + pid + "/stat");
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z') continue;
    for (const auto& name : kProcesses)
      if (cmdline.find("/closeloop-" + name + " ") != std::string::npos) out[name] = std::stoi(pid);
  }
  return out;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// ---- a cluster per test ----

// A running cluster that remembers its processes, to prove later that none restarted.
struct Watched : test::Running {
  std::map<std::string, int> pids;
  explicit Watched(const std::string& extra_toml = "") : test::Running(extra_toml) {
    pids = live_pids(cluster);
    REQUIRE(pids.size() == kProcesses.size());
  }
};

// ---- raw frames ----

// A DEALER socket of our own: sends exactly the bytes given, frame by frame.
class Raw {
 public:
  // As the office (its key), unless the cluster runs without keys.
  explicit Raw(const Cluster& cluster) : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (auto keys = cluster.keys()) {
      socket_.set(zmq::sockopt::curve_serverkey, keys->server_key);
      socket_.set(zmq::sockopt::curve_publickey, keys->own.public_key);
      socket_.set(zmq::sockopt::curve_secretkey, keys->own.secret_key);
    }
    socket_.connect(cluster.endpoint());
  }

  void send(std::string_view bytes) { send_frames({std::string(bytes)}); }

  void send_frames(const std::vector<std::string>& frames) {
    std::vector<zmq::const_buffer> parts;
    for (const auto& f : frames) parts.push_back(zmq::buffer(f.data(), f.size()));
    REQUIRE(zmq::send_multipart(socket_, parts).has_value());
  }

  // The frames of the next message, or nothing within the timeout.
  std::optional<std::vector<std::string>> receive(int timeout_ms) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return std::nullopt;
    std::vector<zmq::message_t> messages;
    (void)zmq::recv_multipart(socket_, std::back_inserter(messages));
    std::vector<std::string> out;
    for (const auto& m : messages) out.emplace_back(static_cast<const char*>(m.data()), m.size());
    return out;
  }

  // Sends one frame and decodes the one-frame reply.
  Result<wire::Reply> call(std::string_view bytes, int timeout_ms = 5000) {
    send(bytes);
    return reply(timeout_ms);
  }

  Result<wire::Reply> reply(int timeout_ms = 5000) {
    auto frames = receive(timeout_ms);
    if (!frames) return Error{errc::kTimeout, "no reply within " + std::to_string(timeout_ms) + " ms"};
    if (frames->size() != 1)
      return Error{"frames", "a reply of " + std::to_string(frames->size()) + " frames"};
    return wire::decode_reply(frames->front().data(), frames->front().size());
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// Checks an error reply: decodable, not ok, the expected code, a message that says
// what was wrong, and the request's id (0 when the request itself was unreadable).
void check_error(const Result<wire::Reply>& r, const std::string& code, const std::string& says,
                 uint64_t id = 0) {
  INFO("expected " << code << " saying '" << says << "'");
  if (!r) FAIL_CHECK("no decodable reply: " << r.error().code << ": " << r.error().message);
  if (!r) return;
  INFO("got ok=" << r->ok << " " << r->error.code << ": " << r->error.message);
  CHECK_FALSE(r->ok);
  CHECK(r->error.code == code);
  CHECK_FALSE(r->error.message.empty());
  CHECK_THAT(r->error.message, Catch::Contains(says, Catch::CaseSensitive::No));
  CHECK(r->id == id);
}

void require_reply_ok(const Result<wire::Reply>& r) {
  if (!r) FAIL(r.error().code << ": " << r.error().message);
  INFO(r->error.code << ": " << r->error.message);
  REQUIRE(r->ok);
}

// ---- building wrong messages ----

template <typename T>
std::string packed(const T& value) {
  wire::Buffer buf;
  wire::Packer(buf).pack(value);
  return std::string(wire::view(buf));
}

std::string bin(std::string_view bytes) {
  wire::Buffer buf;
  wire::Packer pk(buf);
  pk.pack_bin(static_cast<uint32_t>(bytes.size()));
  pk.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  return std::string(wire::view(buf));
}

// A str header and body with bytes that need not be UTF-8.
std::string raw_str(std::string_view bytes) {
  wire::Buffer buf;
  wire::Packer pk(buf);
  pk.pack_str(static_cast<uint32_t>(bytes.size()));
  pk.pack_str_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  return std::string(wire::view(buf));
}

const std::string kActor = "office";  // the account whose key Raw holds

std::string request(std::string_view type, uint64_t id, std::string_view body,
                    std::string_view actor = kActor) {
  return wire::encode_request(type, id, actor, body);
}

std::string submit_body(const std::string& title, const std::string& body = "正文") {
  return wire::MapBuilder().add("title", title).add("body", body).finish();
}

// ---- after the bad input: is the service unharmed? ----

// A new item goes through every worker (intake, dispatch, handle, verify, close, and
// the ledger for list and trail); the list then holds exactly `earlier` and the new
// item; and every process is the one that started, with nothing alarming in its log.
void check_unharmed(Watched& s, std::vector<std::string> earlier = {}) {
  auto client = s.cluster.client();
  auto ping = client->call("ping", "", wire::empty_map());
  require_reply_ok(ping);
  wire::Fields f(ping->body, "ping");
  auto services = f.opt_str_list("services", 16, 32);
  REQUIRE(services);
  CHECK(services->size() == kProcesses.size() - 1);

  Desk desk(s.cluster, *client);
  auto submitted = desk.submit("检查服务仍然正常", "坏输入之后的正常事项");
  require_reply_ok(submitted);
  std::string id = field(*submitted, "item", "id");
  require_reply_ok(desk.assign(id, "zjj"));
  require_reply_ok(desk.handle(id, "zjj", "已处理"));
  require_reply_ok(desk.verify(id, "satisfied"));
  auto closed = desk.close(id);
  require_reply_ok(closed);
  CHECK(field(*closed, "item", "stage") == "closed");
  auto trail = desk.trail(id);
  require_reply_ok(trail);
  CHECK(events_of(*trail).size() == 5);

  earlier.push_back(id);
  auto all = desk.list();
  require_reply_ok(all);
  auto ids = ids_of(*all);
  std::sort(ids.begin(), ids.end());
  std::sort(earlier.begin(), earlier.end());
  CHECK(ids == earlier);  // the bad inputs created nothing

  CHECK(live_pids(s.cluster) == s.pids);  // nothing crashed or restarted
  std::string broker_log = read_file(s.cluster.dir() + "/broker.log");
  CHECK(count(broker_log, "lost the") == 0);
  for (const auto& name : kProcesses) {
    INFO(name << ".log");
    std::string log = read_file(s.cluster.dir() + "/" + name + ".log");
    CHECK(count(log, "critical") == 0);
    CHECK(count(log, "broker silent") == 0);  // a worker that had to reconnect
    if (name != "broker") CHECK(count(broker_log, "broker: " + name + " worker ready") == 1);
  }
}

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

int tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void tcp_write(int fd, std::string_view bytes) {
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);  // the peer may hang up first
}

}  // namespace

TEST_CASE("malformed MessagePack is refused as bad_request", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  check_error(raw.call("\xc1"), errc::kBadRequest, "malformed");  // 0xc1: never used
  check_error(raw.call(std::string("\xc1\x80\x00\x01", 4)), errc::kBadRequest, "malformed");
  // 'h' is a fixint, then junk; 64 negative fixints
  check_error(raw.call("hello, broker"), errc::kBadRequest, "trailing bytes");
  check_error(raw.call(std::string(64, '\xff')), errc::kBadRequest, "trailing bytes");
  // An ext type (the decoder allows none).
  check_error(raw.call(std::string("\xd4\x01\x00", 3)), errc::kBadRequest, "limits");
  // Well-formed MessagePack, but not an envelope.
  check_error(raw.call(packed(42)), errc::kBadRequest, "must be a map");
  check_error(raw.call(packed(std::vector<std::string>{"submit", "x"})), errc::kBadRequest,
              "must be a map");
  check_error(raw.call(wire::MapBuilder().add("v", 1).finish()), errc::kBadRequest, "lacks type");
  check_unharmed(s);
}

TEST_CASE("a truncated message is refused as bad_request", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  std::string whole = request("submit", 11, submit_body("半截消息"));
  for (size_t keep : {size_t{1}, size_t{5}, whole.size() / 2, whole.size() - 1})
    check_error(raw.call(whole.substr(0, keep)), errc::kBadRequest, "truncated");
  check_error(raw.call(""), errc::kBadRequest, "truncated");  // an empty frame
  check_unharmed(s);
}

TEST_CASE("trailing bytes after a valid request are refused, the request is not run",
          "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  std::string whole = request("submit", 12, submit_body("多余的字节"));
  check_error(raw.call(whole + "x"), errc::kBadRequest, "trailing bytes");
  check_error(raw.call(whole + whole), errc::kBadRequest, "trailing bytes");  // two requests
  check_error(raw.call(whole + std::string(1, '\0')), errc::kBadRequest, "trailing bytes");
  check_unharmed(s);  // neither submit created an item
}

TEST_CASE("an unknown message type is refused as bad_request, naming it", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  check_error(raw.call(request("frobnicate", 21, wire::empty_map())), errc::kBadRequest,
              "unknown message type 'frobnicate'", 21);
  check_error(raw.call(request("PING", 22, wire::empty_map())), errc::kBadRequest,
              "unknown message type", 22);
  check_error(raw.call(request("", 23, wire::empty_map())), errc::kBadRequest,
              "unknown message type", 23);
  check_error(raw.call(request("reply", 24, wire::empty_map())), errc::kBadRequest,
              "unknown message type", 24);
  // Internal messages are not for clients: a forged handoff must not reach a worker.
  std::string item = wire::MapBuilder().add("id", "2026-000001").add("stage", "verified").finish();
  std::string entry = wire::MapBuilder()
                          .add("hid", 1)
                          .add_raw("entry", wire::MapBuilder().add_raw("item", item).finish())
                          .finish();
  std::string entries;
  {
    wire::Buffer buf;
    wire::Packer(buf).pack_array(1);
    wire::pack_raw(buf, entry);
    entries = std::string(wire::view(buf));
  }
  std::string handoff = wire::MapBuilder().add("from", "dispatch").add_raw("entries", entries).finish();
  check_error(raw.call(request("handoff", 25, handoff, "dispatch")), errc::kBadRequest,
              "unknown message type 'handoff'", 25);
  check_unharmed(s);
}

TEST_CASE("wrong field types in the envelope or the body are refused as bad_request",
          "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  Desk desk(s.cluster, *s.client);
  auto made = desk.submit("字段类型", "用于错误类型的测试");
  require_reply_ok(made);
  std::string id = field(*made, "item", "id");

  SECTION("envelope") {
    // v = 2, and v of the wrong type
    std::string v2 = wire::MapBuilder()
                         .add("v", 2)
                         .add("type", "ping")
                         .add("id", 31)
                         .add_raw("body", wire::empty_map())
                         .finish();
    check_error(raw.call(v2), errc::kBadRequest, "version");  // unreadable: id 0
    std::string vtext = wire::MapBuilder()
                            .add("v", "1")
                            .add("type", "ping")
                            .add("id", 32)
                            .add_raw("body", wire::empty_map())
                            .finish();
    check_error(raw.call(vtext), errc::kBadRequest, "message.v");
    // actor as BIN instead of STR
    std::string bin_actor = wire::MapBuilder()
                                .add("v", 1)
                                .add("type", "submit")
                                .add("id", 33)
                                .add_raw("actor", bin(kActor))
                                .add_raw("body", submit_body("BIN 的 actor"))
                                .finish();
    check_error(raw.call(bin_actor), errc::kBadRequest, "actor must be a string");
    std::string int_actor = wire::MapBuilder()
                                .add("v", 1)
                                .add("type", "submit")
                                .add("id", 34)
                                .add("actor", 7)
                                .add_raw("body", submit_body("整数 actor"))
                                .finish();
    check_error(raw.call(int_actor), errc::kBadRequest, "actor must be a string");
    // id as text, as a negative number; type as an integer; type as BIN
    std::string id_text = wire::MapBuilder()
                              .add("v", 1)
                              .add("type", "ping")
                              .add("id", "35")
                              .add_raw("body", wire::empty_map())
                              .finish();
    check_error(raw.call(id_text), errc::kBadRequest, "id must be a non-negative integer");
    std::string id_negative = wire::MapBuilder()
                                  .add("v", 1)
                                  .add("type", "ping")
                                  .add("id", -35)
                                  .add_raw("body", wire::empty_map())
                                  .finish();
    check_error(raw.call(id_negative), errc::kBadRequest, "id must be a non-negative integer");
    std::string type_int = wire::MapBuilder()
                               .add("v", 1)
                               .add("type", 1)
                               .add("id", 36)
                               .add_raw("body", wire::empty_map())
                               .finish();
    check_error(raw.call(type_int), errc::kBadRequest, "type must be a string");
    std::string type_bin = wire::MapBuilder()
                               .add("v", 1)
                               .add_raw("type", bin("ping"))
                               .add("id", 37)
                               .add_raw("body", wire::empty_map())
                               .finish();
    check_error(raw.call(type_bin), errc::kBadRequest, "type must be a string");
    // body missing, body not a map
    std::string no_body = wire::MapBuilder().add("v", 1).add("type", "submit").add("id", 38).add(
        "actor", kActor).finish();
    check_error(raw.call(no_body), errc::kBadRequest, "lacks body");
    check_error(raw.call(request("submit", 39, packed(std::vector<std::string>{"标题"}))),
                errc::kBadRequest, "body must be a map");
    check_error(raw.call(request("submit", 40, packed("标题"))), errc::kBadRequest,
                "body must be a map");
    // a map key that is not a string does not stand in for a field
    std::string int_key;
    {
      wire::Buffer buf;
      wire::Packer pk(buf);
      pk.pack_map(5);
      pk.pack(1), pk.pack(1);
      pk.pack("v"), pk.pack(1);
      pk.pack("type"), pk.pack("ping");
      pk.pack("id"), pk.pack(41);
      pk.pack("body"), pk.pack_map(0);
      int_key = std::string(wire::view(buf));
    }
    require_reply_ok(raw.call(int_key));  // unknown keys are ignored: this is a ping
  }

  SECTION("submit body") {
    check_error(raw.call(request("submit", 51, wire::MapBuilder().add("title", 42).finish())),
                errc::kBadRequest, "title must be a string", 51);
    check_error(raw.call(request("submit", 52, wire::MapBuilder().add_raw("title", bin("标题")).finish())),
                errc::kBadRequest, "title must be a string", 52);
    check_error(raw.call(request("submit", 53,
                                 wire::MapBuilder().add("title", "标题").add("body", true).finish())),
                errc::kBadRequest, "body.body must be a string", 53);
    check_error(raw.call(request("submit", 54, wire::MapBuilder()
                                                   .add("title", "标题")
                                                   .add("category", std::vector<int>{1})
                                                   .finish())),
                errc::kBadRequest, "category must be a string", 54);
    check_error(raw.call(request("submit", 55, wire::MapBuilder().add("body", "没有标题").finish())),
                errc::kBadRequest, "lacks title", 55);
    check_error(raw.call(request("submit", 56, wire::MapBuilder().add("title", 1.5).finish())),
                errc::kBadRequest, "title must be a string", 56);
  }

  SECTION("item id as an array, and other command fields") {
    std::string as_array = wire::MapBuilder()
                               .add("item", std::vector<std::string>{id})
                               .add("department", "zjj")
                               .finish();
    check_error(raw.call(request("assign", 61, as_array)), errc::kBadRequest,
                "item must be a string", 61);
    std::string as_int = wire::MapBuilder().add("item", 1).add("department", "zjj").finish();
    check_error(raw.call(request("assign", 62, as_int)), errc::kBadRequest,
                "item must be a string", 62);
    std::string as_map = wire::MapBuilder()
                             .add_raw("item", wire::MapBuilder().add("id", id).finish())
                             .add("department", "zjj")
                             .finish();
    check_error(raw.call(request("assign", 63, as_map)), errc::kBadRequest,
                "item must be a string", 63);
    check_error(raw.call(request("show", 64, wire::MapBuilder().add("item", 5).finish())),
                errc::kBadRequest, "item must be a string", 64);
    check_error(raw.call(request("trail", 65, wire::empty_map())), errc::kBadRequest,
                "lacks item", 65);
    check_error(raw.call(request("list", 66, wire::MapBuilder().add("limit", "10").finish())),
                errc::kBadRequest, "limit must be a non-negative integer", 66);
    check_error(raw.call(request("list", 67, wire::MapBuilder().add("limit", -1).finish())),
                errc::kBadRequest, "limit must be a non-negative integer", 67);
    check_error(raw.call(request("list", 68, wire::MapBuilder().add("stage", 3).finish())),
                errc::kBadRequest, "stage must be a string", 68);
  }

  auto shown = desk.show(id);
  require_reply_ok(shown);
  CHECK(field(*shown, "item", "stage") == "submitted");
  CHECK(events_of(*desk.trail(id)).size() == 1);
  check_unharmed(s, {id});
}

TEST_CASE("a 5-byte header claiming a huge array, map, str or bin is refused without allocating",
          "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  check_error(raw.call(std::string("\xdd\xff\xff\xff\xff", 5)), errc::kBadRequest, "limits");
  check_error(raw.call(std::string("\xdf\xff\xff\xff\xff", 5)), errc::kBadRequest, "limits");
  // A str, bin or ext is checked once its bytes are there: these are refused as truncated.
  check_error(raw.call(std::string("\xdb\xff\xff\xff\xff", 5)), errc::kBadRequest, "");
  check_error(raw.call(std::string("\xc6\xff\xff\xff\xff", 5)), errc::kBadRequest, "");
  check_error(raw.call(std::string("\xc9\xff\xff\xff\xff\x01", 6)), errc::kBadRequest, "");
  // The same claims inside an otherwise valid envelope (as the body, as the title).
  std::string head = wire::MapBuilder().add("v", 1).add("type", "submit").add("id", 71).finish();
  head[0] = static_cast<char>(0x85);  // five pairs: the fourth is actor, the fifth the body
  std::string prefix = head + packed("actor") + packed(kActor) + packed("body");
  check_error(raw.call(prefix + std::string("\xdf\xff\xff\xff\xff", 5)), errc::kBadRequest,
              "limits");
  check_error(raw.call(prefix + "\x81" + packed("title") + std::string("\xdd\xff\xff\xff\xff", 5)),
              errc::kBadRequest, "limits");
  check_error(raw.call(prefix + "\x81" + packed("title") + std::string("\xdb\x7f\xff\xff\xff", 5)),
              errc::kBadRequest, "");
  // Just over the array limit, with every element present (4097 nils).
  std::string many = "\xdd" + std::string("\x00\x00\x10\x01", 4) + std::string(4097, '\xc0');
  check_error(raw.call(many), errc::kBadRequest, "limits");
  check_unharmed(s);
}

TEST_CASE("deep nesting is refused as bad_request", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  std::string arrays = std::string(100, '\x91') + "\xc0";  // [[[...[nil]...]]], 100 deep
  check_error(raw.call(arrays), errc::kBadRequest, "nesting");
  std::string maps;  // {"a": {"a": ... nil}}, 100 deep
  for (int i = 0; i < 100; ++i) maps += "\x81\xa1" "a";
  maps += "\xc0";
  check_error(raw.call(maps), errc::kBadRequest, "nesting");
  std::string deep_title = wire::MapBuilder().add_raw("title", std::string(100, '\x91') + "\xc0").finish();
  check_error(raw.call(request("submit", 81, deep_title)), errc::kBadRequest, "nesting");
  std::string a_million = std::string(1'000'000, '\x91') + "\xc0";  // well under 1 MiB frame limit
  check_error(raw.call(a_million), errc::kBadRequest, "nesting");
  check_unharmed(s);
}

TEST_CASE("a title that is not valid UTF-8 is refused as bad_request", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  std::string good = "路灯";
  const std::vector<std::string> invalid{
      "\xff\xfe",                   // never valid
      "\xc0\xaf",                   // overlong '/'
      "\xed\xa0\x80",               // a UTF-16 surrogate
      "\xf4\x90\x80\x80",           // beyond U+10FFFF
      good.substr(0, 4),            // the second character cut short
      "abc\x80",                    // a stray continuation byte
  };
  uint64_t id = 90;
  for (const auto& bytes : invalid) {
    INFO("title bytes of size " << bytes.size());
    std::string body = wire::MapBuilder().add_raw("title", raw_str(bytes)).finish();
    ++id;
    check_error(raw.call(request("submit", id, body)), errc::kBadRequest, "not valid UTF-8", id);
  }
  // And in the envelope: actor, type.
  std::string bad_actor = wire::MapBuilder()
                              .add("v", 1)
                              .add("type", "submit")
                              .add("id", 99)
                              .add_raw("actor", raw_str("\xff"))
                              .add_raw("body", submit_body("标题"))
                              .finish();
  check_error(raw.call(bad_actor), errc::kBadRequest, "not valid UTF-8");
  check_unharmed(s);
}

TEST_CASE("an empty or blank title is refused as invalid, another's actor as forbidden",
          "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  check_error(raw.call(request("submit", 101, submit_body(""))), errc::kInvalid,
              "title must not be empty", 101);
  check_error(raw.call(request("submit", 102, submit_body(" \t\n "))), errc::kInvalid,
              "title must not be empty", 102);
  check_error(raw.call(request("submit", 103, submit_body(std::string(201, 'x')))),
              errc::kInvalid, "longer than 200", 103);
  std::string long_cjk;
  for (int i = 0; i < 201; ++i) long_cjk += "灯";
  check_error(raw.call(request("submit", 104, submit_body(long_cjk))), errc::kInvalid,
              "longer than 200", 104);
  check_error(raw.call(request("submit", 105, submit_body("别人的 actor"), "人大办")),
              errc::kForbidden, "actor must be office", 105);
  check_error(raw.call(request("submit", 106, submit_body("空白 actor"), "  ")), errc::kForbidden,
              "actor must be office", 106);
  check_unharmed(s);
}

TEST_CASE("a request without v is taken as version 1, as docs/protocol.md says",
          "[bad-input][version]") {
  Watched s;
  Raw raw(s.cluster);
  // "v — protocol version; absent means 1; any other value is refused."
  auto ping = raw.call(wire::MapBuilder()
                           .add("type", "ping")
                           .add("id", 151)
                           .add_raw("body", wire::empty_map())
                           .finish());
  REQUIRE(ping.ok());
  INFO(ping->error.code << ": " << ping->error.message);
  CHECK(ping->ok);
  CHECK(ping->id == 151);
  // With v absent, what is wrong is reported, not the version.
  check_error(raw.call(wire::empty_map()), errc::kBadRequest, "lacks type");
  auto submitted = raw.call(wire::MapBuilder()
                                .add("type", "submit")
                                .add("id", 152)
                                .add("actor", kActor)
                                .add_raw("body", submit_body("没有 v 的提交"))
                                .finish());
  REQUIRE(submitted.ok());
  INFO(submitted->error.code << ": " << submitted->error.message);
  CHECK(submitted->ok);
  std::vector<std::string> created;
  if (submitted->ok) created.push_back(field(*submitted, "item", "id"));
  // v = 0 and v = 2 are refused.
  for (int v : {0, 2}) {
    check_error(raw.call(wire::MapBuilder()
                             .add("v", v)
                             .add("type", "ping")
                             .add("id", 153)
                             .add_raw("body", wire::empty_map())
                             .finish()),
                errc::kBadRequest, "version");
  }
  check_unharmed(s, created);
}

TEST_CASE("a type longer than any known type is refused as bad_request, like any unknown type",
          "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  // docs/protocol.md: an unknown type is bad_request ("fix the client"); the length of
  // the unknown name must not turn it into invalid.
  check_error(raw.call(request("type-" + std::string(40, 'x'), 161, wire::empty_map())),
              errc::kBadRequest, "type");
  check_unharmed(s);
}

TEST_CASE("a multi-frame message is refused as bad_request", "[bad-input]") {
  Watched s;
  Raw raw(s.cluster);
  std::string ping = request("ping", 111, wire::empty_map(), "");
  std::string submit = request("submit", 112, submit_body("多帧"));
  raw.send_frames({submit, submit});
  check_error(raw.reply(), errc::kBadRequest, "one frame");
  raw.send_frames({submit, "", submit});
  check_error(raw.reply(), errc::kBadRequest, "one frame");
  raw.send_frames({"", submit, submit});  // a REQ envelope with one frame too many
  check_error(raw.reply(), errc::kBadRequest, "one frame");
  std::vector<std::string> many(50, ping);
  raw.send_frames(many);
  check_error(raw.reply(), errc::kBadRequest, "one frame");
  // The REQ framing itself ([""][payload]) is allowed and answered the same way.
  raw.send_frames({"", ping});
  auto frames = raw.receive(5000);
  REQUIRE(frames);
  REQUIRE(frames->size() == 2);
  CHECK(frames->at(0).empty());
  auto reply = wire::decode_reply(frames->at(1).data(), frames->at(1).size());
  require_reply_ok(reply);
  CHECK(reply->id == 111);
  check_unharmed(s);
}

TEST_CASE("a frame over max_message_bytes drops only that connection, others are still served",
          "[bad-input]") {
  Watched s("max_message_bytes = 65536\n");
  {
    Raw big(s.cluster);
    std::string huge_body = submit_body("超大消息", std::string(100 * 1024, 'x'));
    big.send(request("submit", 121, huge_body));
    CHECK_FALSE(big.receive(1000));  // libzmq drops the connection, nothing is answered
    // The same socket reconnects by itself and is served again.
    check_error(big.call(request("frobnicate", 122, wire::empty_map())), errc::kBadRequest,
                "unknown message type", 122);
  }
  Raw fresh(s.cluster);
  auto ping = fresh.call(request("ping", 123, wire::empty_map(), ""));
  require_reply_ok(ping);
  CHECK(ping->id == 123);
  // Just under the limit is served as usual (here: refused for its too-long title).
  std::string near = submit_body(std::string(60000, 'x'));
  check_error(fresh.call(request("submit", 124, near)), errc::kInvalid, "longer than 200", 124);
  check_unharmed(s);
}

TEST_CASE("a submit that fits max_message_bytes does not break the handoffs it causes",
          "[bad-input][size]") {
  // 20000 characters is the longest body a submit may carry; in 3-byte UTF-8 that is a
  // 60 KB request, under the 64 KiB frame limit. The item and its event each carry the
  // body, so what intake hands on is twice as large as what it accepted.
  Watched s("max_message_bytes = 65536\n");
  Raw raw(s.cluster);
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "灯";
  std::string bytes = request("submit", 131, submit_body("最长正文", body));
  REQUIRE(bytes.size() < 65536);
  auto r = raw.call(bytes, 8000);
  // Either it is accepted, or it is refused up front, clearly: never a timeout.
  INFO("broker.log:\n" << read_file(s.cluster.dir() + "/broker.log"));
  REQUIRE(r.ok());
  std::vector<std::string> created;
  if (r->ok) {
    created.push_back(field(*r, "item", "id"));
  } else {
    CHECK(r->error.code == errc::kInvalid);
  }
  check_unharmed(s, created);
}

TEST_CASE("a trail longer than max_message_bytes is answered, not dropped with the ledger",
          "[bad-input][size]") {
  // Default limits (1 MiB frames). Every command is valid and far under the limit, but
  // each handle reply and verify comment (20000 characters, 4 bytes each in UTF-8) is
  // recorded in the trail, so after 7 rounds of rework the trail passes 1 MiB.
  Watched s;
  Desk desk(s.cluster, *s.client);
  auto made = desk.submit("很长的处理记录", "正文");
  require_reply_ok(made);
  std::string id = field(*made, "item", "id");
  require_reply_ok(desk.assign(id, "zjj"));
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "\xf0\xa0\x80\x80";  // U+20000, 4 bytes
  for (int round = 0; round < 7; ++round) {
    require_reply_ok(desk.handle(id, "zjj", text, "in-progress"));
    wire::MapBuilder body;
    body.add("item", id).add("rating", "unsatisfied").add("comment", text).add("via", "paper");
    require_reply_ok(s.client->call("verify", kActor, body.finish()));
  }
  auto trail = desk.trail(id);
  INFO("broker.log:\n" << read_file(s.cluster.dir() + "/broker.log"));
  // Either the trail (whole, or cut short and saying so) or a clear error: never a timeout.
  REQUIRE(trail.ok());
  if (!trail->ok) CHECK(trail->error.code != errc::kInternal);
  check_unharmed(s, {id});
}

TEST_CASE("raw non-ZeroMQ bytes on the TCP port do not disturb the broker", "[bad-input]") {
  Watched s;
  int port = port_of(s.cluster.endpoint());
  // A connection that says nothing and stays open, and one that stops mid-greeting.
  int silent = tcp_connect(port);
  int half = tcp_connect(port);
  tcp_write(half, std::string("\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f", 10));
  {
    int fd = tcp_connect(port);
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xff));
    tcp_write(fd, garbage);
    close(fd);
  }
  {
    int fd = tcp_connect(port);
    tcp_write(fd, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    char buf[256];
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)recv(fd, buf, sizeof buf, 0);
    close(fd);
  }
  {
    // A ZMTP 3 greeting announcing a mechanism the broker does not speak.
    int fd = tcp_connect(port);
    std::string greeting("\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x00", 12);
    greeting += std::string("CURVE") + std::string(15, '\0') + std::string(1, '\0') +
                std::string(31, '\0');
    tcp_write(fd, greeting);
    close(fd);
  }
  {
    // Many connections opened and dropped at once.
    std::vector<int> fds;
    for (int i = 0; i < 50; ++i) fds.push_back(tcp_connect(port));
    for (int fd : fds) {
      tcp_write(fd, "\x00\x01\x02");
      close(fd);
    }
  }
  Raw raw(s.cluster);
  auto ping = raw.call(request("ping", 141, wire::empty_map(), ""));
  require_reply_ok(ping);  // served while the silent and half-open connections still hang
  check_unharmed(s);
  close(silent);
  close(half);
}

TEST_CASE("an independent Python client speaks the wire format and gets clear errors",
          "[bad-input][python]") {
  Watched s;
  const char* script = R"PY(
import sys, tomllib, zmq, msgpack
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, 5000)
with open(sys.argv[2], "rb") as f:
    me = tomllib.load(f)
with open(sys.argv[3], "rb") as f:
    server = tomllib.load(f)
s.curve_publickey = me["public"].encode()
s.curve_secretkey = me["secret"].encode()
s.curve_serverkey = server["public"].encode()
s.connect(sys.argv[1])
def call(payload):
    s.send(payload)
    return msgpack.unpackb(s.recv(), raw=False)
r = call(msgpack.packb({"v": 1, "type": "submit", "id": 4001,
                        "body": {"title": "路灯不亮", "body": "from python", "source": "py"}}))
item = r["body"]["item"]
print("submit", r["id"], r["ok"], item["id"], item["stage"], item["title"])
r = call(msgpack.packb({"v": 1, "type": "submit", "id": 4002,
                        "body": {"title": 7}}))
print("malformed", r["id"], r["ok"], r["error"]["code"], r["error"]["message"])
r = call(b"\x93\x01")
print("truncated", r["id"], r["ok"], r["error"]["code"], r["error"]["message"])
r = call(msgpack.packb({"v": 1, "type": "show", "id": 4003,
                        "body": {"item": item["id"]}}))
print("show", r["id"], r["ok"], r["body"]["item"]["title"])
)PY";
  std::string command = "PYTHONIOENCODING=utf-8 /usr/bin/python3 - " +
                        shell_quote(s.cluster.endpoint()) + " " +
                        shell_quote(s.cluster.key_file("office")) + " " +
                        shell_quote(s.cluster.keys_dir() + "/broker.pub") + " <<'CLOSELOOP_PY'\n" +
                        script + "CLOSELOOP_PY\n";
  std::string out;
  int rc = shell(command, &out);
  INFO(out);
  REQUIRE(rc == 0);
  std::istringstream lines(out);
  std::string submit, malformed, truncated, show;
  std::getline(lines, submit);
  std::getline(lines, malformed);
  std::getline(lines, truncated);
  std::getline(lines, show);
  CHECK_THAT(submit, Catch::StartsWith("submit 4001 True "));
  CHECK_THAT(submit, Catch::EndsWith(" submitted 路灯不亮"));
  CHECK_THAT(malformed,
             Catch::StartsWith("malformed 4002 False bad_request body.title must be a string"));
  CHECK_THAT(truncated, Catch::StartsWith("truncated 0 False bad_request truncated MessagePack"));
  CHECK(show == "show 4003 True 路灯不亮");
  std::string id = submit.substr(std::string("submit 4001 True ").size(), 11);
  check_unharmed(s, {id});
}

TEST_CASE("bad command bodies that reach the stage workers get the right code, change nothing",
          "[bad-input][stage]") {
  Watched s;
  Raw raw(s.cluster);
  Desk desk(s.cluster, *s.client);
  auto made = desk.submit("阶段工作者的坏输入", "正文");
  require_reply_ok(made);
  std::string id = field(*made, "item", "id");
  uint64_t n = 200;
  // Sends `type` with body {item: id, <fields>} and checks the error; the fields are
  // key/value pairs already encoded.
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  auto expect = [&](const std::string& type, const Pairs& fields, const char* code,
                    const std::string& says, const std::string& actor = kActor) {
    wire::MapBuilder m;
    m.add("item", id);
    for (const auto& [key, value] : fields) m.add_raw(key, value);
    uint64_t rid = ++n;
    INFO(type << " #" << rid);
    check_error(raw.call(request(type, rid, m.finish(), actor)), code, says, rid);
  };
  auto str = [](const std::string& text) { return packed(text); };

  // dispatch holds the submitted item
  expect("assign", {{"department", packed(7)}}, errc::kBadRequest, "department must be a string");
  expect("assign", {}, errc::kBadRequest, "lacks department");
  expect("assign", {{"department", str("zjj")}, {"co", str("jtj")}}, errc::kBadRequest,
         "co must be an array");
  expect("assign", {{"department", str("zjj")}, {"co", packed(std::vector<int>{1, 2})}},
         errc::kBadRequest, "co must be a string");
  expect("assign", {{"department", str("zjj")}, {"due", str("tomorrow")}}, errc::kInvalid,
         "due must be a date");
  expect("assign", {{"department", str("nosuch")}}, errc::kInvalid, "unknown department");
  expect("assign", {{"department", str("zjj")}}, errc::kForbidden, "actor must be office",
         "人大办");
  CHECK(field(*desk.show(id), "item", "stage") == "submitted");

  require_reply_ok(desk.assign(id, "zjj"));  // now the handle worker holds it
  expect("handle", {{"department", str("zjj")}, {"reply", str("已处理")}, {"outcome", str("done")}},
         errc::kInvalid, "outcome must be one of");
  expect("handle", {{"department", str("zjj")}, {"outcome", str("solved")}}, errc::kBadRequest,
         "lacks reply");
  expect("handle", {{"department", str("zjj")}, {"reply", str(" ")}, {"outcome", str("solved")}},
         errc::kInvalid, "reply must not be empty");
  expect("handle", {{"department", str("zjj")}, {"reply", str("已处理")}, {"outcome", packed(1)}},
         errc::kBadRequest, "outcome must be a string");
  expect("return", {{"department", str("zjj")}, {"reason", str("")}}, errc::kInvalid,
         "reason must not be empty");
  expect("return", {{"department", str("zjj")}}, errc::kBadRequest, "lacks reason");
  CHECK(field(*desk.show(id), "item", "stage") == "assigned");

  require_reply_ok(desk.handle(id, "zjj", "已处理"));       // now the verify worker holds it
  expect("verify", {}, errc::kInvalid, "either rating R");  // issue 3: or --attitude and --result
  expect("verify", {{"rating", str("great")}}, errc::kInvalid, "rating must be one of");
  expect("verify", {{"rating", packed(true)}}, errc::kBadRequest, "rating must be a string");
  expect("verify", {{"rating", str("satisfied")}, {"comment", packed(3)}}, errc::kBadRequest,
         "comment must be a string");
  CHECK(field(*desk.show(id), "item", "stage") == "handled");

  require_reply_ok(desk.verify(id, "satisfied"));  // now the close worker holds it
  expect("close", {{"note", packed(5)}}, errc::kBadRequest, "note must be a string");
  uint64_t rid = ++n;
  check_error(raw.call(request("close", rid, wire::empty_map())), errc::kBadRequest, "lacks item",
              rid);

  // The ledger's own requests
  rid = ++n;
  check_error(raw.call(request("list", rid, wire::MapBuilder().add("stage", "nosuch").finish())),
              errc::kInvalid, "stage must be one of", rid);
  rid = ++n;
  check_error(raw.call(request("show", rid, wire::MapBuilder().add("item", "2026-999999").finish())),
              errc::kNotFound, "unknown item", rid);

  auto trail = desk.trail(id);
  require_reply_ok(trail);
  std::vector<std::string> actions;
  for (const auto& e : events_of(*trail)) actions.push_back(e.action);
  CHECK(actions == std::vector<std::string>{"submit", "assign", "handle", "verify"});
  CHECK(field(*desk.show(id), "item", "stage") == "verified");
  check_unharmed(s, {id});
}
