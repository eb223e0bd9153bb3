#include "zap.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <zmq_addon.hpp>

namespace closeloop::security {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// A (domain, reason) writes at most one line per this.
constexpr int64_t kLogEveryMs = 1000;

std::string text(const zmq::message_t& m) { return std::string(m.to_string_view()); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL's code means for the operator.
std::string protocol_error_text(uint32_t code) {
  if (code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
    return "the peer speaks another security mechanism than CURVE";
  if (code == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
    return "the peer's CURVE handshake does not decrypt (it holds another server key?)";
  char hex[16];
  std::snprintf(hex, sizeof hex, "%#x", code);
  return std::string("the peer broke the ZeroMQ handshake (protocol error ") + hex + ")";
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, Admit admit)
    : context_(context), socket_(context, zmq::socket_type::rep), admit_(std::move(admit)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);  // throws if another handler is bound: never run without ours
}

void ZapHandler::serve() {
  for (;;) {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait))
      break;
    answer(request);
  }
}

void ZapHandler::log_held_back() { log_held(now_ms()); }

// Request: version, request id, domain, address, routing id, mechanism, credentials...
// Reply: version, request id, status code, status text, user id, metadata.
void ZapHandler::answer(std::vector<zmq::message_t>& request) {
  std::string version = request.size() > 0 ? text(request[0]) : "";
  std::string request_id = request.size() > 1 ? text(request[1]) : "";
  ZapVerdict verdict = ZapVerdict::refuse("malformed ZAP request", kMalformed);
  ZapRequest r;
  if (request.size() > 2) r.domain = text(request[2]);
  if (version == "1.0" && request.size() >= 6) {
    r = {text(request[2]), text(request[3]), text(request[5]), ""};
    if (r.mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
      verdict = ZapVerdict::refuse("only CURVE is accepted", kMechanism);
    } else {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      r.public_key = z85;
      verdict = admit_(r);
    }
  }
  if (verdict.status != 200) {
    failed(r.domain, verdict.label, "refused", verdict.reason, r.address,
           "refused a " + (r.mechanism.empty() ? std::string("ZAP") : r.mechanism) + " key " +
               r.public_key + " from " + r.address + " on " + r.domain + ": " + verdict.reason);
  }
  std::string status = std::to_string(verdict.status);
  std::array<zmq::const_buffer, 6> reply{
      zmq::str_buffer("1.0"),      zmq::buffer(request_id),      zmq::buffer(status),
      zmq::buffer(verdict.reason), zmq::buffer(verdict.user_id), zmq::const_buffer(nullptr, 0)};
  zmq::send_multipart(socket_, reply);
}

void ZapHandler::handshake_failed(const std::string& domain, uint16_t event, uint32_t value,
                                  const std::string& endpoint) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
    std::string why =
        "the connection closed before its handshake ended (silent past the handshake timeout, "
        "or the peer left)";
    failed(domain, kNoHandshake, "dropped", why, "",
           "dropped a connection to " + endpoint + " on " + domain + ": " + why);
  } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    std::string why = protocol_error_text(value);
    failed(domain, kProtocol, "dropped", why, "",
           "dropped a connection to " + endpoint + " on " + domain + ": " + why);
  }
}

void ZapHandler::failed(const std::string& domain, const std::string& label,
                        const std::string& verb, const std::string& text, const std::string& from,
                        const std::string& line) {
  if (on_failure_) on_failure_(domain, label);
  Held& h = held_[{domain, label}];
  int64_t now = now_ms();
  if (h.count == 0 && (!h.ever || now - h.logged_ms >= kLogEveryMs)) {
    spdlog::warn("{}", line);
    h.ever = true;
    h.logged_ms = now;
    return;
  }
  ++h.count;
  h.verb = verb;
  h.text = text;
  if (!from.empty()) h.last_from = from;
}

void ZapHandler::log_held(int64_t now) {
  for (auto& [key, h] : held_) {
    if (h.count == 0 || now - h.logged_ms < kLogEveryMs) continue;
    spdlog::warn("{} {} more handshake{} on {}: {}{}", h.verb, h.count, h.count == 1 ? "" : "s",
                 key.first, h.text, h.last_from.empty() ? "" : " (last from " + h.last_from + ")");
    h.logged_ms = now;
    h.count = 0;
    h.last_from.clear();
  }
}

}  // namespace closeloop::security
