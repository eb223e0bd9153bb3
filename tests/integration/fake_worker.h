// A stand-in worker on the broker's backend, for tests that play a sender or a receiver
// of handoffs themselves (crash points, duplicates, entries a receiver must not apply).
#pragma once

#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "net/backend.h"
#include "security/accounts.h"
#include "security/keys.h"
#include "wire/message.h"

namespace closeloop::test {

// The broker's backend endpoint: the client endpoint's port + 1.
inline std::string backend_of(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  return endpoint.substr(0, colon + 1) + std::to_string(std::stoi(endpoint.substr(colon + 1)) + 1);
}

// A stand-in worker on the broker's backend that registers as `service` and keeps
// itself alive with heartbeats: it can send handoffs as a crashed sender would, and
// receive them and acknowledge each as the test decides. It proves the key pair
// `key_name` (default: `service`) keeps in `keys_dir` (made there if absent, so the
// broker trusts it when keys_dir is the service's), against the broker's key there.
class FakeWorker {
 public:
  struct Handoff {
    std::string route;
    uint64_t id = 0;
    std::vector<uint64_t> hids;
  };

  FakeWorker(const std::string& backend, std::string service, const std::string& keys_dir,
             const std::string& broker_keys_dir = "", std::string key_name = "")
      : socket_(ctx_, zmq::socket_type::dealer), service_(std::move(service)) {
    auto pair = security::own_key_pair(keys_dir, key_name.empty() ? service_ : key_name);
    REQUIRE(pair.ok());
    auto server = security::read_public_key(
        (broker_keys_dir.empty() ? keys_dir : broker_keys_dir) + "/broker.pub");
    REQUIRE(server.ok());
    socket_.set(zmq::sockopt::curve_serverkey, *server);
    socket_.set(zmq::sockopt::curve_publickey, pair->public_key);
    socket_.set(zmq::sockopt::curve_secretkey, pair->secret_key);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(backend);
    announce();
  }

  // Whether anything (a heartbeat, a request) arrives from the broker within timeout_ms.
  bool hears_broker(int timeout_ms) {
    socket_.set(zmq::sockopt::rcvtimeo, timeout_ms);
    zmq::message_t m;
    socket_.send(zmq::str_buffer("hb"), zmq::send_flags::dontwait);
    return socket_.recv(m).has_value();
  }

  // Heartbeats for `ms`, registering again if the broker forgot us meanwhile (a test
  // that left us silent for longer than the broker's liveness).
  void rejoin(int ms = 500) { (void)next("", 0, ms); }

  // Sends a request to the worker serving `service`.
  void request(const std::string& service, const std::string& payload) {
    std::array<zmq::const_buffer, 3> frames{zmq::str_buffer("req"), zmq::buffer(service),
                                            zmq::buffer(payload)};
    REQUIRE(zmq::send_multipart(socket_, frames));
  }

  // Sends these frames as they are: a test playing a worker that misbehaves.
  void send_raw(const std::vector<std::string>& frames) {
    std::vector<zmq::const_buffer> parts;
    for (const auto& f : frames) parts.push_back(zmq::buffer(f));
    REQUIRE(zmq::send_multipart(socket_, parts));
  }

  // A request the broker delivered to us: its route token, the sender's name, the payload.
  struct Delivered {
    std::string token, sender, payload;
  };
  std::optional<Delivered> next_request(int timeout_ms) {
    auto frames = next(backend::kRequest, 4, timeout_ms);
    if (!frames) return std::nullopt;
    return Delivered{std::string(backend::text((*frames)[1])), sender_name((*frames)[2]),
                     std::string(backend::text((*frames)[3]))};
  }

  // The payload of the next reply to one of our requests within timeout_ms, if any.
  std::optional<std::string> next_reply(int timeout_ms) {
    auto frames = next(backend::kReply, 2, timeout_ms);
    if (!frames) return std::nullopt;
    return std::string(backend::text((*frames)[1]));
  }

  // The next handoff from `from` (the sender the broker names) within timeout_ms, if any.
  std::optional<Handoff> next_handoff(const std::string& from, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (auto frames = next(backend::kRequest, 4, remaining_ms(deadline))) {
      auto request = wire::decode_request((*frames)[3].data(), (*frames)[3].size());
      REQUIRE(request.ok());
      if (request->type != "handoff" || sender_name((*frames)[2]) != from) continue;
      Handoff h{std::string(backend::text((*frames)[1])), request->id, {}};
      wire::Fields f(request->body, "handoff");
      const msgpack::object& entries = f.array("entries");
      REQUIRE(f.ok());
      for (uint32_t i = 0; i < entries.via.array.size; ++i)
        h.hids.push_back(wire::Fields(entries.via.array.ptr[i], "entry").uint("hid"));
      return h;
    }
    return std::nullopt;
  }

  // Reads the replies to our request `id` until the durable one; returns the hids it
  // says are held (kept as incidents, not applied).
  std::vector<uint64_t> held_in_durable_ack(uint64_t id) {
    for (;;) {
      auto reply = next_reply(5000);
      REQUIRE(reply);
      auto decoded = wire::decode_reply(reply->data(), reply->size());
      REQUIRE(decoded.ok());
      INFO(decoded->error.message);
      REQUIRE(decoded->ok);
      REQUIRE(decoded->id == id);
      wire::Fields f(decoded->body, "ack");
      if (!f.opt_bool("durable").value_or(true)) continue;
      std::vector<uint64_t> held;
      if (const msgpack::object* list = f.opt_array("held", 4096))
        for (uint32_t i = 0; i < list->via.array.size; ++i)
          held.push_back(list->via.array.ptr[i].as<uint64_t>());
      return held;
    }
  }

  // Acknowledges the handoff; the entries in `held` as kept for an incident (not applied).
  void ack(const Handoff& h, bool durable, const std::vector<uint64_t>& held = {}) {
    wire::MapBuilder ack;
    ack.add("count", uint64_t{h.hids.size()}).add("durable", durable);
    if (!held.empty()) ack.add("held", held);
    std::string body = ack.finish();
    std::string payload = wire::encode_reply(h.id, body);
    // An applied ack is an interim answer: the durable one follows for the same request.
    std::array<zmq::const_buffer, 3> frames{
        durable ? zmq::str_buffer("rep") : zmq::str_buffer("interim"), zmq::buffer(h.route),
        zmq::buffer(payload)};
    REQUIRE(zmq::send_multipart(socket_, frames));
  }

  // The name in a request's sender frame (the broker's encoded Actor; "" if none).
  static std::string sender_name(const zmq::message_t& frame) {
    if (frame.size() == 0) return "";
    auto actor = security::decode_actor(backend::text(frame));
    return actor ? actor->name : "";
  }

 private:
  static int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 0));
  }

  // The next message of `kind` with `size` frames within timeout_ms, heartbeating
  // meanwhile and registering again when the broker asks.
  std::optional<std::vector<zmq::message_t>> next(std::string_view kind, size_t size,
                                                  int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      socket_.send(zmq::str_buffer("hb"), zmq::send_flags::none);
      std::vector<zmq::message_t> frames;
      socket_.set(zmq::sockopt::rcvtimeo, 50);
      if (!zmq::recv_multipart(socket_, std::back_inserter(frames))) continue;
      std::string_view got = backend::text(frames[0]);
      if (got == backend::kReregister) announce();
      if (got == kind && frames.size() == size) return frames;
    }
    return std::nullopt;
  }

  void announce() {
    std::array<zmq::const_buffer, 2> frames{zmq::str_buffer("ready"), zmq::buffer(service_)};
    REQUIRE(zmq::send_multipart(socket_, frames));
  }

  zmq::context_t ctx_;
  zmq::socket_t socket_;
  std::string service_;
};

}  // namespace closeloop::test
