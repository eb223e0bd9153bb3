#include <signal.h>
#include <spdlog/spdlog.h>
#include <sysexits.h>

#include <zmq_addon.hpp>

#include "daemon/signals.h"
#include "net/backend.h"
#include "security/keys.h"
#include "worker/worker.h"

namespace closeloop {

// ---- Worker: when the disk fails (the rule in worker.h; docs/operations.md) ----

namespace {
// How often a worker waiting for its disk tries to open its store again.
constexpr int64_t kStorageRetryMs = 2000;
// How long the process may take, on its way out, to hand the batch's answers to ZeroMQ.
constexpr int kLastWordsMs = 1000;
constexpr int kWaitPollMs = 100;
}  // namespace

// What a client is told when its command's batch could not be written: `unavailable`
// (which clients retry: it means nothing happened) only when the disk refused the write
// itself; after an I/O error or a failed fsync the record may yet be found on disk, so the
// answer is `internal`, which nobody retries blindly.
void Worker::refuse_batch(const Error& why) {
  MessageArgs args{{"worker", name_}, {"reason", why.message}};
  Error refusal = Error::of(
      errc::kUnavailable, N_("{worker}: {reason}; nothing was written: retry once the disk has room"),
      args);
  if (!nothing_written(why))
    refusal = Error::of(errc::kInternal,
                        N_("{worker}: {reason}; the command may or may not have been saved: look "
                           "before retrying (a submit retried with the same key finds what an "
                           "earlier try made)"),
                        args);
  for (const ReplyTarget& target : batch_commands_) {
    count_reply(target, refusal.code);
    send({backend::kReply, target.route, wire::encode_error(target.id, refusal)});
  }
  batch_commands_.clear();
  ready_.clear();  // nothing of this batch leaves but the refusals
  if (broker_) broker_->set(zmq::sockopt::linger, kLastWordsMs);
}

// The store cannot be opened or written for the disk's sake: stay up, say so, answer
// every request `unavailable` with the cause, and open the store as soon as the disk takes
// writes again. nullopt once it is open (the caller serves); else the exit code.
std::optional<int> Worker::wait_for_storage(const Error& first) {
  std::string why = first.message;
  auto unavailable = [&] {
    return Error::of(errc::kUnavailable,
                     N_("{worker}: {reason}; waiting for the disk to take writes again, nothing "
                        "is saved"),
                     {{"worker", name_}, {"reason", why}});
  };
  spdlog::critical(
      "{}: cannot open its store: {}; staying up, answering every request "
      "`unavailable`, trying again every {} s",
      name_, why, kStorageRetryMs / 1000);
  figures_.storage_error = why;
  if (config_.curve()) {
    auto pair = security::own_key_pair(security::keys_dir(config_.data_dir), name_);
    if (pair)
      key_pair_ = std::move(*pair);
    else
      spdlog::warn("{}: {}", name_, pair.error().message);
  }
  if (!config_.curve() || key_pair_) connect();
  bool told_supervisor = false;
  int64_t next_try_ms = monotonic_ms() + kStorageRetryMs;
  for (;;) {
    if (!connected_ && key_pair_) connect();
    zmq::pollitem_t items[] = {{broker_ ? static_cast<void*>(*broker_) : nullptr, 0, ZMQ_POLLIN, 0},
                               {nullptr, signal_fd_, ZMQ_POLLIN, 0}};
    zmq::poll(broker_ ? items : items + 1, broker_ ? 2 : 1, std::chrono::milliseconds(kWaitPollMs));
    if (items[1].revents & ZMQ_POLLIN) {
      int sig = signals_ ? signals_->take() : SIGTERM;
      if (sig == SIGHUP) {
        spdlog::warn("{}: SIGHUP while waiting for the disk: not reloading", name_);
      } else if (sig != 0) {
        spdlog::info("{}: {} while waiting for the disk: stopped (nothing owed)", name_,
                     strsignal(sig));
        return 0;
      }
    }
    for (std::vector<zmq::message_t> frames;
         broker_ &&
         zmq::recv_multipart(*broker_, std::back_inserter(frames), zmq::recv_flags::dontwait);
         frames.clear()) {
      last_heard_ms_ = monotonic_ms();
      std::string_view kind = backend::text(frames[0]);
      if (!told_supervisor) {  // up, though not serving: no start timeout, no restart loop
        notify::ready("cannot write its store: " + why + "; waiting");
        told_supervisor = true;
      }
      if (kind == backend::kRequest && frames.size() == 4) {
        auto request = wire::decode_request(frames[3].data(), frames[3].size());
        uint64_t id = request ? request->id : 0;
        ReplyTarget target{std::string(backend::text(frames[1])), id};
        if (request && request->type != "handoff") target.verb = verb_name(request->type);
        count_reply(target, errc::kUnavailable);
        send({backend::kReply, target.route,
              wire::encode_error(id, unavailable())});
      } else if (kind == backend::kReregister) {
        register_with_broker();
      }
    }
    keep_alive();  // heartbeats carry figures_.storage_error to `closeloop status`
    watchdog_.ping_if_due();
    if (monotonic_ms() < next_try_ms) continue;
    Status opened = open();
    if (opened) break;
    if (opened.error().code != errc::kUnavailable || store_) {
      spdlog::critical("{}: {}", name_, opened.error().message);
      return store_ ? EX_TEMPFAIL : 1;
    }
    if (opened.error().message != why) {
      why = opened.error().message;
      spdlog::critical("{}: cannot open its store: {}", name_, why);
      figures_.storage_error = why;
    }
    next_try_ms = monotonic_ms() + kStorageRetryMs;
  }
  spdlog::warn("{}: its store is open again: serving", name_);
  figures_.storage_error.clear();
  notify::status("serving");
  if (!connected_)
    connect();
  else
    register_with_broker();  // now with the service's announcement
  return std::nullopt;
}

}  // namespace closeloop
