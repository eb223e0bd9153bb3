// Frames between the broker's backend ROUTER and a worker's DEALER (docs/protocol.md).
// The first frame names the kind; the broker never decodes a payload it only carries,
// except to answer an error when it cannot deliver it.
//
//   worker → broker                              broker → worker
//   [ready][service][announcement?]              [req][token][sender][payload]  serve this
//   [hb][figures?]                               [rep][payload]   the reply to your own req
//   [req][service][payload]         ask          [hb]
//   [req][service][payload][token]  pass on      [reregister]     "I don't know you"
//   [rep][token][payload]           answer
//   [interim][token][payload]       answer, more to come (a handoff's applied ack)
//
// `token` is the broker's: random, one per request it delivers, naming that request
// while it waits for its answer. A worker's answer is delivered only for a token the
// broker gave that very worker, still waiting; anything else is dropped and counted
// (a worker cannot answer for another). A request a worker passes on names the token of
// the person's request it is serving: the broker then carries it with that person's
// account, as it authenticated them, marked as passed on by the worker — so a worker
// can act for a person only while serving that person's request, and never make one up.
//
// `sender` is who sent the request, as the broker knows them: an encoded Actor
// (security/accounts.h): a worker (`worker`: the name of the key it proved), a person
// (the account acting, `gateway` when through one), or a person's request passed on
// (`forwarded_by`); empty for a client with security.mode = "off".
//
// A worker's heartbeat carries its figures (worker/metrics.h, encode_figures()) once per
// heartbeat interval; a heartbeat without them ([hb] alone, as older workers send it) is
// as valid, and a broker that does not read them ignores the frame.
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
inline constexpr std::string_view kInterim = "interim";
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
