// Frames between the broker's backend ROUTER and a worker's DEALER (docs/protocol.md).
// The first frame names the kind; the broker never decodes a payload it only carries,
// except to answer `unavailable` when no worker serves the destination.
//
//   worker → broker                         broker → worker
//   [ready][service]                        [req][route][sender][payload]  a request to serve
//   [hb][figures?]                          [rep][payload]          reply to the worker's own req
//   [req][service][payload]  ask a service  [hb]
//   [rep][route][payload]    answer a req   [reregister]            "I don't know you": send ready
//
// A worker's heartbeat carries its figures (worker/metrics.h, encode_figures()) once per
// heartbeat interval; a heartbeat without them ([hb] alone, as older workers send it) is
// as valid, and a broker that does not read them ignores the frame.
//
// `sender` is who sent the request as the broker knows them: the name a worker
// registered under (with security.mode = "curve", the name of the key it proved), or
// empty for a client. A handoff's sender is this frame, never a field of the message.
#pragma once

#include <zmq.hpp>

#include <string>
#include <string_view>

#include "config/config.h"

namespace closeloop::backend {

// Every worker process closeloopd starts besides the broker; each keeps its own incidents.
inline constexpr std::string_view kWorkers[] = {"intake", "dispatch", "handle", "verify",
                                                "close",  "ledger",   "timer"};

inline constexpr std::string_view kReady = "ready";
inline constexpr std::string_view kHeartbeat = "hb";
inline constexpr std::string_view kRequest = "req";
inline constexpr std::string_view kReply = "rep";
inline constexpr std::string_view kReregister = "reregister";

inline std::string_view text(const zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

// Applies the options every closeloop socket carries: bounded message size (a larger
// message drops the connection), no linger (crash-only: the outbox, not ZeroMQ's
// queues, holds what must not be lost).
inline void harden(zmq::socket_t& s, int64_t max_message_bytes) {
  s.set(zmq::sockopt::maxmsgsize, max_message_bytes);
  s.set(zmq::sockopt::linger, 0);
}

}  // namespace closeloop::backend
