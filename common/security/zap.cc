#include "zap.h"

#include <zmq_addon.hpp>

#include <spdlog/spdlog.h>

namespace closeloop::security {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

std::string text(const zmq::message_t& m) { return std::string(m.to_string_view()); }

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, Admit admit)
    : socket_(context, zmq::socket_type::rep), admit_(std::move(admit)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);  // throws if another handler is bound: never run without ours
}

void ZapHandler::serve() {
  for (;;) {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait))
      return;
    answer(request);
  }
}

// Request: version, request id, domain, address, routing id, mechanism, credentials...
// Reply: version, request id, status code, status text, user id, metadata.
void ZapHandler::answer(std::vector<zmq::message_t>& request) {
  std::string version = request.size() > 0 ? text(request[0]) : "";
  std::string request_id = request.size() > 1 ? text(request[1]) : "";
  ZapVerdict verdict = ZapVerdict::refuse("malformed ZAP request");
  if (version == "1.0" && request.size() >= 6) {
    ZapRequest r{text(request[2]), text(request[3]), text(request[5]), ""};
    if (r.mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
      verdict = ZapVerdict::refuse("only CURVE is accepted");
    } else {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      r.public_key = z85;
      verdict = admit_(r);
      if (verdict.status != 200)
        spdlog::warn("refused a {} key {} from {} on {}: {}", r.mechanism, r.public_key, r.address,
                     r.domain, verdict.reason);
    }
  }
  std::string status = std::to_string(verdict.status);
  std::array<zmq::const_buffer, 6> reply{
      zmq::str_buffer("1.0"),      zmq::buffer(request_id),      zmq::buffer(status),
      zmq::buffer(verdict.reason), zmq::buffer(verdict.user_id), zmq::const_buffer(nullptr, 0)};
  zmq::send_multipart(socket_, reply);
}

}  // namespace closeloop::security
