// libFuzzer target over everything that reads a frame from the network: the strict
// MessagePack decoder, the request/reply envelopes, the command decoder, the item and
// event decoders and the figures a worker's heartbeat carries, each reached the way the
// processes reach them (the broker's and the workers' request limits, the client's reply
// limits, an item inside a reply body, a handoff's entries). Any input must give a value
// or an Error: never a crash, a leak, undefined behaviour or an unbounded allocation.
//
// Besides "no crash", it checks round trips that must hold for anything accepted:
// what decodes, re-encoded by our own encoder, decodes again to the same thing.
//
// Built by tests/fuzz/CMakeLists.txt with clang++ -fsanitize=fuzzer,address,undefined.
// Run: bin/frame_fuzzer -max_len=4096 <corpus dir>   (seeds in tests/fuzz/corpus/)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire/codec.h"
#include "wire/message.h"
#include "worker/metrics.h"
#include "workflow/command.h"
#include "workflow/event.h"
#include "workflow/item.h"

using namespace closeloop;

namespace {

// A failed invariant: print what broke and abort, so libFuzzer saves the input.
#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "frame_fuzzer: check failed at line %d: %s\n", __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

std::string packed(const msgpack::object& o) {
  wire::Buffer buf;
  msgpack::pack(buf, o);
  return std::string(wire::view(buf));
}

// Records are equal when they encode the same (every field, the unknown ones too).
bool same(const Item& a, const Item& b) { return encode(a) == encode(b); }
bool same(const Event& a, const Event& b) { return encode(a) == encode(b); }

// An item that decodes must survive encode -> decode unchanged.
void check_item(const msgpack::object& o) {
  auto item = decode_item(o);
  if (!item) {
    FUZZ_CHECK(!item.error().code.empty());
    return;
  }
  auto again = decode_item(std::string_view(encode(*item)));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(same(*item, *again));
}

// An event that decodes must survive encode -> decode unchanged; its hash and the
// one-event chain check must run on whatever text prev_hash holds.
void check_event(const msgpack::object& o) {
  auto event = decode_event(o);
  if (!event) {
    FUZZ_CHECK(!event.error().code.empty());
    return;
  }
  auto again = decode_event(std::string_view(encode(*event)));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(same(*event, *again));
  std::string hash = event_hash(*event);
  FUZZ_CHECK(hash.size() == 64);
  (void)first_bad_seq({*event});
}

// Every place an item or event can sit in a map the processes read: the map itself,
// body.item / body.event (show replies, handoff entries), body.items[] (list),
// body.events[] (trail), body.entries[].entry.{item,event} (handoffs).
void check_records(const msgpack::object& map) {
  check_item(map);
  check_event(map);
  wire::Fields f(map, "fuzz");
  if (const msgpack::object* item = f.opt_map("item")) check_item(*item);
  wire::Fields g(map, "fuzz");
  if (const msgpack::object* event = g.opt_map("event")) check_event(*event);
  for (const char* key : {"items", "events", "entries"}) {
    wire::Fields h(map, "fuzz");
    const msgpack::object& list = h.array(key);
    if (!h.ok()) continue;
    for (uint32_t i = 0; i < list.via.array.size; ++i) {
      const msgpack::object& element = list.via.array.ptr[i];
      if (key[0] == 'i') check_item(element);
      if (key[0] == 'e' && key[1] == 'v') check_event(element);
      if (key[0] == 'e' && key[1] == 'n') {
        wire::Fields e(element, "entry");
        if (const msgpack::object* inner = e.opt_map("entry")) check_records(*inner);
      }
    }
  }
}

bool same(const Command& a, const Command& b) {
  return a.verb == b.verb && a.item_id == b.item_id && a.actor == b.actor && a.fields == b.fields;
}

void check_request(const wire::Request& req) {
  FUZZ_CHECK(req.body.type == msgpack::type::MAP);
  // The envelope round trip: our encoder's bytes decode to the same header.
  std::string again_bytes = wire::encode_request(req.type, req.id, req.actor, packed(req.body));
  auto again = wire::decode_request(again_bytes.data(), again_bytes.size());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->type == req.type && again->id == req.id && again->actor == req.actor);

  auto command = decode_command(req);
  if (!command) {
    const std::string& code = command.error().code;
    FUZZ_CHECK(code == errc::kBadRequest || code == errc::kInvalid);
    FUZZ_CHECK(!command.error().message.empty());
  } else {
    // What decodes round-trips exactly through the encoder the CLI uses.
    std::string body = encode_command_body(*command);
    std::string bytes = wire::encode_request(command->verb, req.id, command->actor, body);
    auto req2 = wire::decode_request(bytes.data(), bytes.size());
    FUZZ_CHECK(req2.ok());
    auto command2 = decode_command(*req2);
    FUZZ_CHECK(command2.ok());
    FUZZ_CHECK(same(*command, *command2));
  }
  check_records(req.body);
}

void check_reply(const wire::Reply& rep) {
  if (rep.ok) {
    FUZZ_CHECK(rep.body.type == msgpack::type::MAP);
    std::string bytes = wire::encode_reply(rep.id, packed(rep.body));
    auto again = wire::decode_reply(bytes.data(), bytes.size());
    FUZZ_CHECK(again.ok() && again->ok && again->id == rep.id);
    check_records(rep.body);
  } else {
    std::string bytes = wire::encode_error(rep.id, rep.error);
    auto again = wire::decode_reply(bytes.data(), bytes.size());
    FUZZ_CHECK(again.ok() && !again->ok && again->id == rep.id);
    FUZZ_CHECK(again->error.code == rep.error.code && again->error.message == rep.error.message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The broker's frontend and the workers decode requests with the default limits
  // (a worker's max_array, kResendWindow * 4, equals the default).
  auto request = wire::decode_request(data, size);
  if (request) {
    check_request(*request);
  } else {
    // invalid: an envelope string longer than its bound (type, actor).
    const std::string& code = request.error().code;
    FUZZ_CHECK(code == errc::kBadRequest || code == errc::kInvalid);
    FUZZ_CHECK(!request.error().message.empty());
  }

  // The client decodes replies with room for long list replies.
  wire::Limits client_limits;
  client_limits.max_array = 1 << 20;
  auto reply = wire::decode_reply(data, size, client_limits);
  if (reply) {
    check_reply(*reply);
  } else {
    const std::string& code = reply.error().code;
    FUZZ_CHECK(code == errc::kBadRequest || code == errc::kInvalid);
    FUZZ_CHECK(!reply.error().message.empty());
  }

  // The broker reads a worker's figures from its heartbeat: what decodes re-encodes stably.
  auto figures = decode_figures(std::string_view(reinterpret_cast<const char*>(data), size));
  if (figures) {
    std::string encoded = encode_figures(*figures);
    auto again = decode_figures(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(encode_figures(*again) == encoded);
  } else {
    FUZZ_CHECK(!figures.error().message.empty());
  }

  // Stored records are read with the plain decoder (LevelDB values, outbox entries).
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)decode_item(bytes);
  (void)decode_event(bytes);
  return 0;
}
