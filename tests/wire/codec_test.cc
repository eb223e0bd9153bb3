#include <catch2/catch.hpp>

#include "wire/message.h"

using namespace closeloop;
using namespace closeloop::wire;

namespace {
std::string request(std::string_view type, std::string_view body = empty_map()) {
  return encode_request(type, 7, "tester", body);
}
}  // namespace

TEST_CASE("a request round-trips through encode and decode", "[wire]") {
  std::string body = MapBuilder().add("title", "路灯").finish();
  std::string bytes = request("submit", body);
  auto r = decode_request(bytes.data(), bytes.size());
  REQUIRE(r.ok());
  CHECK(r->type == "submit");
  CHECK(r->id == 7);
  CHECK(r->actor == "tester");
  Fields f(r->body, "body");
  CHECK(f.str("title") == "路灯");
}

TEST_CASE("replies carry ok with a body, or an error", "[wire]") {
  std::string ok = encode_reply(3, MapBuilder().add("n", 1).finish());
  auto r = decode_reply(ok.data(), ok.size());
  REQUIRE(r.ok());
  CHECK(r->ok);
  std::string err = encode_error(4, {errc::kRefused, "no"});
  auto e = decode_reply(err.data(), err.size());
  REQUIRE(e.ok());
  CHECK_FALSE(e->ok);
  CHECK(e->error.code == errc::kRefused);
}

TEST_CASE("decode refuses trailing bytes after a valid object", "[wire][bad-input]") {
  std::string bytes = request("ping") + "\x01";
  auto r = decode_request(bytes.data(), bytes.size());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("trailing") != std::string::npos);
}

TEST_CASE("decode refuses truncated input", "[wire][bad-input]") {
  std::string bytes = request("ping");
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode(bytes.data(), n).ok());
}

TEST_CASE("decode refuses huge claimed sizes without allocating them", "[wire][bad-input]") {
  const char array32[] = "\xdd\xff\xff\xff\xff";  // array of 4 billion elements
  CHECK(decode(array32, 5).error().code == errc::kBadRequest);
  const char str32[] = "\xdb\xff\xff\xff\xff";
  CHECK_FALSE(decode(str32, 5).ok());
  const char map32[] = "\xdf\xff\xff\xff\xff";
  CHECK_FALSE(decode(map32, 5).ok());
}

TEST_CASE("decode refuses deep nesting", "[wire][bad-input]") {
  std::string nested(100, '\x91');  // 100 nested one-element arrays
  nested += '\x01';
  CHECK_FALSE(decode(nested.data(), nested.size()).ok());
}

TEST_CASE("fields are type-checked: BIN is not a string, invalid UTF-8 is refused",
          "[wire][bad-input]") {
  Buffer buf;
  Packer pk(buf);
  pk.pack_map(3);
  pk.pack("bin"), pk.pack_bin(2), pk.pack_bin_body("ab", 2);
  pk.pack("bad"), pk.pack(std::string("\xff\xfe"));
  pk.pack("num"), pk.pack(-5);
  auto h = decode(buf.data(), buf.size());
  REQUIRE(h.ok());
  {
    Fields f(h->get(), "m");
    f.str("bin");
    CHECK(f.error().message == "m.bin must be a string");
  }
  {
    Fields f(h->get(), "m");
    f.str("bad");
    CHECK(f.error().message == "m.bad is not valid UTF-8");
  }
  {
    Fields f(h->get(), "m");
    f.uint("num");
    CHECK_FALSE(f.ok());
  }
  {
    Fields f(h->get(), "m");
    f.str("missing");
    CHECK(f.error().message == "m lacks missing");
  }
}

TEST_CASE("an envelope of another version or without a map body is refused", "[wire][bad-input]") {
  std::string v2 = MapBuilder().add("v", 2).add("type", "ping").add("id", 1).add_raw("body", empty_map()).finish();
  CHECK(decode_request(v2.data(), v2.size()).error().message.find("version") != std::string::npos);
  std::string no_body = MapBuilder().add("v", 1).add("type", "ping").add("id", 1).finish();
  CHECK_FALSE(decode_request(no_body.data(), no_body.size()).ok());
  std::string not_map = "\x93\x01\x02\x03";
  CHECK_FALSE(decode_request(not_map.data(), not_map.size()).ok());
}
